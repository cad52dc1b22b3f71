"""One S3 object version in, one :data:`Outcome` out; one reporter turns it into a record.

:func:`summarize_object` decides what happened to an object and returns it as a value; it never
logs. :func:`report` is the one place that writes the outcome's log record and counts it in the
metrics, once. Data errors are outcomes (a retry cannot fix them); anything else raises, so that
the handler can log it and let Lambda retry.

Side effects (issue 9) come from :class:`Deps`, built once from the settings by
:func:`build_deps`:

- with a ``store`` (``SUMMARY_TABLE`` set, as the stack always sets it), each object version
  gets one record, and the e-mail (``mail``, when ``EMAIL_FROM`` is set) and the lake file
  (``lake_bucket``, when ``LAKE_BUCKET`` is set) once, through :mod:`txsummary.effects`: a
  version that already has a record is a :class:`Duplicate`, found before the object is read,
  and only an e-mail still owed is sent. (The delivery that sends an e-mail a failed one owed
  reports the file as Summarized/Rejected from its record instead: the failed delivery raised
  before it was reported, and each version is counted once.) Log records gain ``email``
  (``sent``, ``pending``, ``no recipient``; absent when e-mail is off) and ``lake_key``;
- without one (a bare local run, the tests of the event contract) the service only summarizes
  and the reporter logs and counts: nothing can tell a redelivery apart, so every delivery is
  reported. E-mail and the lake need the store (``Settings.from_env`` refuses them without it),
  because the record is what makes them happen once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

from botocore.exceptions import ClientError

from txsummary import contract, effects
from txsummary.aws import s3 as s3io
from txsummary.contract import Metric
from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.core.model import Summary
from txsummary.core.render import render_text
from txsummary.core.summarize import DEFAULT_WORKERS, summarize_stream
from txsummary.effects import Effect

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from mypy_boto3_s3 import S3Client

    from txsummary.aws.lake import LakeWriter
    from txsummary.aws.settings import Settings

# Why an object was skipped (the record's `reason`).
SKIP_TEST_EVENT: Final = "s3:TestEvent"
SKIP_NOT_AN_OBJECT: Final = "not an S3 object record"
SKIP_SUFFIX: Final = f"key does not end in {' or '.join(contract.UPLOAD_SUFFIXES)}"
SKIP_GONE: Final = "object no longer exists"
# Skips that may hide a problem are logged at WARNING, the others at INFO.
_WARNING_SKIPS = frozenset({SKIP_NOT_AN_OBJECT, SKIP_GONE})
_GONE_CODES = frozenset({"NoSuchKey", "NoSuchVersion"})

# The `email` field of a record, when e-mail is on.
EMAIL_SENT: Final = "sent"  # this delivery sent it
EMAIL_NO_RECIPIENT: Final = "no recipient"  # no EMAIL_TO and no allowed metadata address
EMAIL_PENDING: Final = "pending"  # owed; another delivery holds the claim, or a retry sends it


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One S3 object version; ``key`` is already ``unquote_plus``-decoded."""

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
    email: str | None = None  # EMAIL_SENT, EMAIL_NO_RECIPIENT, EMAIL_PENDING; None: e-mail off
    lake_key: str | None = None  # the lake object written, when the lake is on


@dataclass(frozen=True, slots=True)
class Rejected:
    kind: ClassVar[str] = "rejected"
    ref: ObjectRef
    error: InvalidFileError
    duration_ms: float
    email: str | None = None


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
    """What the service talks to; built once per execution environment, replaceable in tests.
    ``store`` None: no record, no e-mail, no lake (log only)."""

    settings: Settings
    s3: S3Client
    logger: Logger
    metrics: Metrics
    store: effects.Store | None = None
    mail: effects.Mail | None = None
    lake_bucket: str | None = None


def build_deps(settings: Settings, logger: Logger, metrics: Metrics) -> Deps:
    """The adapters the settings turn on, each client created once (at the first invocation)."""
    s3 = s3io.s3_client()
    if settings.summary_table is None:
        return Deps(settings, s3, logger, metrics)
    from txsummary.aws.store import SummaryStore, dynamodb_client  # noqa: PLC0415

    mail: effects.Mail | None = None
    if settings.mail is not None:
        from txsummary.aws.mail import Mailer, sesv2_client  # noqa: PLC0415

        mail = Mailer(sesv2_client(), settings.mail)
    store = SummaryStore(settings.summary_table, dynamodb_client())
    return Deps(settings, s3, logger, metrics, store, mail, settings.lake_bucket)


def summarize_object(ref: ObjectRef, deps: Deps) -> Outcome:
    """Read the exact version ``ref`` names and summarize it. The Summarized or Rejected outcome
    carries the version id, ETag and size that GetObject returned. An object gone before it was
    read is Skipped; S3, network and other failures raise. With a store, a version that already
    has a record is a Duplicate (only an e-mail still owed is sent), and a new one is recorded,
    mailed and written to the lake once (:mod:`txsummary.effects`)."""
    if not ref.key.lower().endswith(contract.UPLOAD_SUFFIXES):
        return Skipped(ref, SKIP_SUFFIX)
    started = time.perf_counter()
    if deps.store is not None and (ref.version_id or ref.etag):
        # Before GetObject: a redelivery costs one read of the table, not of the file.
        replayed = effects.replay(ref, store=deps.store, mail=deps.mail)
        if replayed is not None:
            return _replayed(ref, replayed, started)
    limit = deps.settings.max_object_bytes
    if ref.size is not None and ref.size > limit:
        return _publish(deps, ref, ObjectTooLarge(ref, ref.size, limit), started, None)

    try:
        obj = s3io.open_object(deps.s3, ref.bucket, ref.key, ref.version_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in _GONE_CODES:
            raise
        return Skipped(ref, SKIP_GONE, error_code=code)

    read = ObjectRef(
        ref.bucket, ref.key, obj.version_id, obj.etag, obj.size, obj.metadata, obj.last_modified
    )
    with obj.body, _lake_writer(deps, read) as writer:
        if obj.size > limit:
            return _publish(deps, read, ObjectTooLarge(read, obj.size, limit), started, writer)
        try:
            result: Summary | InvalidFileError = summarize_stream(
                obj.body,
                read.uri,
                max_decompressed_bytes=deps.settings.max_decompressed_bytes,
                on_rows=writer,
                workers=DEFAULT_WORKERS if writer is None else writer.SUMMARY_WORKERS,
            )
        except InvalidFileError as exc:
            result = exc
        return _publish(deps, read, result, started, writer)


@contextlib.contextmanager
def _lake_writer(deps: Deps, ref: ObjectRef) -> Iterator[LakeWriter | None]:
    """The object's lake writer (its temporary file is removed whatever happens), or None."""
    if deps.store is None or deps.lake_bucket is None:
        yield None
        return
    from txsummary.aws.lake import LakeWriter  # noqa: PLC0415 - pyarrow only with the lake on

    # The object's own date, not the clock's: a redelivery on another day writes the same key.
    uploaded = ref.last_modified or datetime.now(UTC)
    with LakeWriter(
        deps.s3,
        deps.lake_bucket,
        source_bucket=ref.bucket,
        source_key=ref.key,
        source_version=ref.version_id or ref.etag or "",
        upload_date=uploaded.astimezone(UTC).date(),
    ) as writer:
        yield writer


def _publish(
    deps: Deps,
    ref: ObjectRef,
    result: Summary | InvalidFileError,
    started: float,
    lake: LakeWriter | None,
) -> Outcome:
    """Record, mail and commit the lake (when on), then say what happened."""
    applied: effects.Applied | None = None
    if deps.store is not None:
        applied = effects.apply(ref, result, store=deps.store, lake=lake, mail=deps.mail)
        if applied.effect is Effect.DUPLICATE:  # a concurrent delivery recorded it first
            return Duplicate(ref, previous=applied.outcome)
    duration_ms = _elapsed_ms(started)
    email = _email_status(deps, ref, applied)
    if isinstance(result, InvalidFileError):
        return Rejected(ref, result, duration_ms, email)
    lake_key = applied.lake_key if applied is not None else None
    return Summarized(ref, result, duration_ms, email, lake_key)


def _replayed(
    ref: ObjectRef, applied: effects.Applied, started: float
) -> Summarized | Rejected | Duplicate:
    """A version that has a record. Usually a Duplicate. When this delivery sent the e-mail a
    failed one owed (EMAIL_RESENT), that failed delivery raised before it was reported, so
    this one reports the file, from the record: each version is counted once."""
    result = applied.result
    if applied.effect is not Effect.EMAIL_RESENT or result is None:
        return Duplicate(ref, previous=applied.outcome)
    if isinstance(result, InvalidFileError):
        return Rejected(ref, result, _elapsed_ms(started), EMAIL_SENT)
    return Summarized(ref, result, _elapsed_ms(started), EMAIL_SENT)


def _email_status(deps: Deps, ref: ObjectRef, applied: effects.Applied | None) -> str | None:
    if deps.mail is None or applied is None:
        return None
    if applied.email_message_id is not None:
        return EMAIL_SENT
    return EMAIL_PENDING if deps.mail.recipients(ref.metadata) else EMAIL_NO_RECIPIENT


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def report(outcome: Outcome, deps: Deps) -> None:
    """Write the outcome's one log record and, for a processed file, its one set of metrics."""
    logger = deps.logger
    fields = {**(outcome.ref.fields() if outcome.ref else {}), "outcome": outcome.kind}
    match outcome:
        case Summarized(summary=summary, duration_ms=duration_ms, email=email, lake_key=lake_key):
            logger.info(
                render_text(summary).rstrip("\n"),
                extra={
                    **fields,
                    "summary": summary.to_dict(),
                    "duration_ms": duration_ms,
                    **_present(email=email, lake_key=lake_key),
                },
            )
            transactions = summary.totals.transactions
            _count(
                deps,
                fields,
                summarized=1,
                transactions=transactions,
                duration_ms=duration_ms,
                email=email,
            )
        case Rejected(error=error, duration_ms=duration_ms, email=email):
            if isinstance(error, ObjectTooLarge):
                fields["max_object_bytes"] = error.limit
            logger.error(
                error.describe(),
                extra={
                    **fields,
                    "error_count": error.error_count,
                    "errors": [e.to_dict() for e in error.errors[:MAX_REPORTED_ERRORS]],
                    "duration_ms": duration_ms,
                    **_present(email=email),
                },
            )
            _count(deps, fields, rejected=1, duration_ms=duration_ms, email=email)
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
    email: str | None = None,
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
    _count_email(deps.metrics, email)
    _flush(deps.metrics, fields)


def _count_email(metrics: Metrics, email: str | None) -> None:
    if email == EMAIL_SENT:
        name = Metric.EMAILS_SENT
        metrics.add_metric(name=name, unit=contract.METRIC_UNITS[name], value=1)


def _present(**values: str | None) -> dict[str, str]:
    """The optional fields that have a value (a record has no `email` when e-mail is off)."""
    return {name: value for name, value in values.items() if value is not None}


def _flush(metrics: Metrics, fields: Mapping[str, Any]) -> None:
    # One EMF line per outcome, carrying the object as (non-metric) properties.
    for key in ("bucket", "key", "version_id"):
        if fields.get(key) is not None:
            metrics.add_metadata(key, fields[key])
    metrics.flush_metrics()
