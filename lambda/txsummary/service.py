"""One S3 object version in, one :data:`Outcome` out; one reporter turns it into a record.

:func:`summarize_object` decides what happened to an object and returns it as a value; it never
logs. :func:`report` is the one place that writes the outcome's log record and counts it in the
metrics, once. Data errors are outcomes (a retry cannot fix them); anything else raises, so that
the handler can log it and let Lambda retry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

from botocore.exceptions import ClientError

from txsummary.aws import contract
from txsummary.aws import s3 as s3io
from txsummary.aws.contract import Metric
from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.core.model import Summary
from txsummary.core.render import render_text
from txsummary.core.summarize import summarize_stream

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from mypy_boto3_s3 import S3Client

    from txsummary.aws.settings import Settings

# Why an object was skipped (the record's `reason`).
SKIP_TEST_EVENT: Final = "s3:TestEvent"
SKIP_NOT_AN_OBJECT: Final = "not an S3 object record"
SKIP_SUFFIX: Final = f"key does not end in {' or '.join(contract.UPLOAD_SUFFIXES)}"
SKIP_GONE: Final = "object no longer exists"
# Skips that may hide a problem are logged at WARNING, the others at INFO.
_WARNING_SKIPS = frozenset({SKIP_NOT_AN_OBJECT, SKIP_GONE})
_GONE_CODES = frozenset({"NoSuchKey", "NoSuchVersion"})


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One S3 object version; ``key`` is already ``unquote_plus``-decoded."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-*, from GetObject

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def fields(self) -> dict[str, Any]:
        """The record fields that identify the object."""
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


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: ClassVar[str] = "rejected"
    ref: ObjectRef
    error: InvalidFileError
    duration_ms: float


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
    previous: str  # "summarized" or "rejected" (issue 9)


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


@dataclass(frozen=True, slots=True)
class Deps:
    """What the service talks to; built once per execution environment, replaceable in tests."""

    settings: Settings
    s3: S3Client
    logger: Logger
    metrics: Metrics


def summarize_object(ref: ObjectRef, deps: Deps) -> Outcome:
    """Read the exact version ``ref`` names and summarize it. The Summarized or Rejected outcome
    carries the version id, ETag and size that GetObject returned. An object gone before it was
    read is Skipped; S3, network and other failures raise."""
    if not ref.key.lower().endswith(contract.UPLOAD_SUFFIXES):
        return Skipped(ref, SKIP_SUFFIX)
    limit = deps.settings.max_object_bytes
    if ref.size is not None and ref.size > limit:
        return Rejected(ref, ObjectTooLarge(ref, ref.size, limit), 0.0)

    started = time.perf_counter()
    try:
        obj = s3io.open_object(deps.s3, ref.bucket, ref.key, ref.version_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in _GONE_CODES:
            raise
        return Skipped(ref, SKIP_GONE, error_code=code)

    read = ObjectRef(ref.bucket, ref.key, obj.version_id, obj.etag, obj.size, obj.metadata)
    with obj.body:
        if obj.size > limit:
            return Rejected(read, ObjectTooLarge(read, obj.size, limit), _elapsed_ms(started))
        try:
            summary = summarize_stream(
                obj.body,
                read.uri,
                max_decompressed_bytes=deps.settings.max_decompressed_bytes,
            )
        except InvalidFileError as exc:
            return Rejected(read, exc, _elapsed_ms(started))
    return Summarized(read, summary, _elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def report(outcome: Outcome, deps: Deps) -> None:
    """Write the outcome's one log record and, for a processed file, its one set of metrics."""
    logger = deps.logger
    fields = {**(outcome.ref.fields() if outcome.ref else {}), "outcome": outcome.kind}
    match outcome:
        case Summarized(summary=summary, duration_ms=duration_ms):
            logger.info(
                render_text(summary).rstrip("\n"),
                extra={**fields, "summary": summary.to_dict(), "duration_ms": duration_ms},
            )
            transactions = summary.totals.transactions
            _count(deps, fields, summarized=1, transactions=transactions, duration_ms=duration_ms)
        case Rejected(error=error, duration_ms=duration_ms):
            if isinstance(error, ObjectTooLarge):
                fields["max_object_bytes"] = error.limit
            logger.error(
                error.describe(),
                extra={
                    **fields,
                    "error_count": error.error_count,
                    "errors": [e.to_dict() for e in error.errors[:MAX_REPORTED_ERRORS]],
                    "duration_ms": duration_ms,
                },
            )
            _count(deps, fields, rejected=1, duration_ms=duration_ms)
        case Skipped(reason=reason, error_code=error_code):
            log = logger.warning if reason in _WARNING_SKIPS else logger.info
            log(f"skipped: {reason}", extra={**fields, "reason": reason, "error_code": error_code})
        case Duplicate(previous=previous):
            logger.info(
                f"duplicate: this version was already {previous}",
                extra={**fields, "previous": previous},
            )
            metrics = deps.metrics
            metrics.add_metric(Metric.DUPLICATES, contract.METRIC_UNITS[Metric.DUPLICATES], 1)
            _flush(metrics, fields)


def _count(
    deps: Deps,
    fields: Mapping[str, Any],
    *,
    summarized: int = 0,
    rejected: int = 0,
    transactions: int = 0,
    duration_ms: float,
) -> None:
    # Every file counts in all four, so that sums and averages over time are right.
    values = {
        Metric.FILES_SUMMARIZED: summarized,
        Metric.FILES_REJECTED: rejected,
        Metric.TRANSACTIONS_SUMMARIZED: transactions,
        Metric.PROCESSING_TIME: duration_ms,
    }
    for name, value in values.items():
        deps.metrics.add_metric(name=name, unit=contract.METRIC_UNITS[name], value=value)
    _flush(deps.metrics, fields)


def _flush(metrics: Metrics, fields: Mapping[str, Any]) -> None:
    # One EMF line per outcome, carrying the object as (non-metric) properties.
    for key in ("bucket", "key", "version_id"):
        if fields.get(key) is not None:
            metrics.add_metadata(key, fields[key])
    metrics.flush_metrics()
