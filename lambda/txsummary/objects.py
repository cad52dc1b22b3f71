"""The one object-version value, and the Outcome values the service returns for it.

An :class:`ObjectRef` is passed whole to every port (the store, the lake, the mail), so that
no function takes ``(bucket, key, version_id, etag)`` apart. The outcomes say what happened to
one version; :mod:`txsummary.report` is the one place that logs and counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

from txsummary import contract
from txsummary.core.errors import InvalidFileError, LineError

if TYPE_CHECKING:
    from txsummary.core.model import Summary

# Why an object was skipped (the record's `reason`).
SKIP_TEST_EVENT: Final = "s3:TestEvent"
SKIP_NOT_AN_OBJECT: Final = "not an S3 object record"
SKIP_SUFFIX: Final = f"key does not end in {' or '.join(contract.UPLOAD_SUFFIXES)}"
SKIP_GONE: Final = "object no longer exists"

# The `email` field of a log record, when e-mail is on.
EMAIL_SENT: Final = "sent"
EMAIL_NO_RECIPIENT: Final = "no recipient"  # no EMAIL_TO and no allowed metadata address
EMAIL_PENDING: Final = "pending"  # owed: a retry or `txsummary resend` sends it
EMAIL_FAILED: Final = "failed"  # SES refused it for good; `txsummary resend` after a fix


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One S3 object version; ``key`` is already ``unquote_plus``-decoded.

    From an event: bucket, key and what the event says of version id, ETag and size. After
    GetObject: what S3 returned, plus the user metadata and the upload time.
    """

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-*, from GetObject
    last_modified: datetime | None = None  # UTC, from GetObject: the lake's upload_date

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def sort_key(self) -> str:
        """What tells this version from the key's others: the version id, else the ETag."""
        sk = self.version_id or self.etag
        if not sk:
            raise ValueError(f"{self.uri}: neither a version id nor an ETag to key it by")
        return sk

    @property
    def is_upload(self) -> bool:
        """The key ends in an upload suffix (case-insensitively): only those are summarized."""
        return self.key.lower().endswith(contract.UPLOAD_SUFFIXES)

    @property
    def identified(self) -> bool:
        """True when the version is known (a record can be looked up before reading it)."""
        return bool(self.version_id or self.etag)

    def fields(self) -> dict[str, Any]:
        """The log-record fields that identify the object."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class Summarized:
    kind: ClassVar[str] = "summarized"
    ref: ObjectRef
    summary: Summary
    duration_ms: float
    email: str | None = None  # EMAIL_*; None: e-mail off
    lake_key: str | None = None  # the lake object, when the lake is on
    email_error: str | None = None  # SES's reason, when EMAIL_FAILED


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: ClassVar[str] = "rejected"
    ref: ObjectRef
    error: InvalidFileError
    duration_ms: float
    email: str | None = None
    email_error: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    kind: ClassVar[str] = "skipped"
    ref: ObjectRef | None
    reason: str
    error_code: str | None = None  # S3's code when the object was gone


@dataclass(frozen=True, slots=True)
class Duplicate:
    kind: ClassVar[str] = "duplicate"
    ref: ObjectRef
    previous: str  # "summarized" or "rejected": what the record says


Outcome = Summarized | Rejected | Skipped | Duplicate


class ObjectTooLarge(InvalidFileError):
    """The object is over MAX_OBJECT_BYTES; it is rejected without being read."""

    def __init__(self, ref: ObjectRef, size: int, limit: int) -> None:
        self.limit = limit
        reason = (
            f"object is {size} bytes, over the limit of {limit} bytes "
            f"({contract.Env.MAX_OBJECT_BYTES}); not read"
        )
        super().__init__(ref.uri, (LineError(0, reason),), 1)
