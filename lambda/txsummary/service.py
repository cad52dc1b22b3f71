"""One S3 object version in, one :data:`~txsummary.objects.Outcome` out; orchestration only.

:func:`summarize_object` decides what happened to an object version and returns it as a value;
it never logs (:func:`txsummary.report.report` does, once). Data errors are outcomes (a retry
cannot fix them); anything else raises, so that the handler can log it and let Lambda retry.

With a ``store`` (``SUMMARY_TABLE`` set, as the stack always sets it), each object version gets
one record, and the e-mail (``mail``, when ``EMAIL_FROM`` is set) and the lake object
(``lake_bucket``) once, through :mod:`txsummary.effects`; a version that already has a record
is looked up before the object is read, and only what it still owes is done. The delivery that
completes a version reports it (Summarized or Rejected, from the record when a retry completes
it); every other delivery is a Duplicate. Without a store (a bare local run) the service only
summarizes, and every delivery is reported: nothing can tell a redelivery apart.

The reconcile calls :func:`summarize_object` for each version without a record, with an
:class:`~txsummary.objects.ObjectRef` it built from the listing (bucket, key, version id, ETag,
size), then :func:`txsummary.report.report` with the Outcome.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from txsummary import contract, effects
from txsummary.aws import s3 as s3io
from txsummary.core.errors import InvalidFileError
from txsummary.core.summarize import DEFAULT_CHUNK_SIZE, DEFAULT_WORKERS, summarize_stream
from txsummary.objects import (
    SKIP_GONE,
    SKIP_SUFFIX,
    Duplicate,
    ObjectRef,
    ObjectTooLarge,
    Outcome,
    Rejected,
    Skipped,
    Summarized,
)

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from mypy_boto3_s3 import S3Client

    from txsummary.aws.lake import LakeWriter
    from txsummary.aws.settings import Settings


@dataclass(frozen=True, slots=True)
class Deps:
    """What the service talks to; built once per execution environment by the handler
    (:func:`txsummary.handler.build_deps`), replaceable in tests. ``store`` None: no record,
    no e-mail, no lake (log only)."""

    settings: Settings
    s3: S3Client
    logger: Logger
    metrics: Metrics
    store: effects.Store | None = None
    mail: effects.Mail | None = None
    lake_bucket: str | None = None
    clock: Callable[[], float] = time.time  # the e-mail claim's lease is measured on it

    def delivery(self, token: str | None = None) -> effects.Delivery | None:
        """This delivery attempt's effects, or None without a store."""
        if self.store is None:
            return None
        return effects.Delivery(token or effects.new_token(), self.store, self.mail, self.clock)


def summarize_object(ref: ObjectRef, deps: Deps, *, token: str | None = None) -> Outcome:
    """Read the exact version ``ref`` names and summarize it, once per version (``token``: this
    delivery attempt's, :func:`txsummary.effects.new_token`; a fresh one when None).

    Summarized/Rejected carry the version id, ETag and size that GetObject returned. An object
    gone before it was read is Skipped; S3, network and other failures raise."""
    if not ref.is_upload:
        return Skipped(ref, SKIP_SUFFIX)
    started = time.perf_counter()
    delivery = deps.delivery(token)
    if delivery is not None and ref.identified:
        # Before GetObject: a redelivery costs one read of the table, not of the file.
        replayed = effects.replay(ref, delivery)
        if replayed is not None:
            return _outcome(ref, replayed, started)
    limit = deps.settings.max_object_bytes
    if ref.size is not None and ref.size > limit:
        return _publish(delivery, ref, ObjectTooLarge(ref, ref.size, limit), started, None)
    try:
        read, body = s3io.open_object(deps.s3, ref)
    except s3io.ObjectGone as gone:
        return Skipped(ref, SKIP_GONE, error_code=gone.code)

    with body, _lake_writer(deps, read) as writer:
        if read.size is not None and read.size > limit:
            result: effects.Result = ObjectTooLarge(read, read.size, limit)
            return _publish(delivery, read, result, started, writer)
        try:
            result = summarize_stream(
                body,
                read.uri,
                max_decompressed_bytes=deps.settings.max_decompressed_bytes,
                on_rows=writer,
                workers=DEFAULT_WORKERS if writer is None else writer.SUMMARY_WORKERS,
                chunk_size=DEFAULT_CHUNK_SIZE if writer is None else writer.SUMMARY_CHUNK_BYTES,
            )
        except InvalidFileError as exc:
            result = exc
        return _publish(delivery, read, result, started, writer)


def resend(ref: ObjectRef, deps: Deps) -> effects.Applied | None:
    """Send a version's failed or pending e-mail again, once (``txsummary resend``). None when
    the version has no record."""
    delivery = deps.delivery()
    if delivery is None:
        raise ValueError(f"{contract.Env.SUMMARY_TABLE} is not set: there are no records")
    return effects.resend(ref, delivery)


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
    delivery: effects.Delivery | None,
    ref: ObjectRef,
    result: effects.Result,
    started: float,
    lake: LakeWriter | None,
) -> Outcome:
    """Record, mail and commit the lake (when on), then say what happened."""
    if delivery is None:
        applied = effects.Applied(True, result)
    else:
        applied = effects.apply(ref, result, delivery, lake=lake)
    return _outcome(ref, applied, started)


def _outcome(ref: ObjectRef, applied: effects.Applied, started: float) -> Outcome:
    """The one mapping from what the effects did to the Outcome reported."""
    if not applied.report:
        return Duplicate(ref, previous=applied.outcome.value)
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    result = applied.result
    if isinstance(result, InvalidFileError):
        return Rejected(ref, result, duration_ms, applied.email, applied.email_error)
    return Summarized(
        ref, result, duration_ms, applied.email, applied.lake_key, applied.email_error
    )
