"""The Lambda entry point: S3 ObjectCreated event -> one structured log record per object.

Thin on purpose: decode the event, stream the object into the core, log, classify errors.
Data errors are logged and not raised (a retry cannot fix them); anything else is logged with
its traceback and raised, so that Lambda's async retries and on-failure destination apply.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from txsummary.aws import logs, metrics
from txsummary.aws import s3 as s3io
from txsummary.aws.settings import Settings
from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.core.render import render_text
from txsummary.core.summarize import summarize_stream

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SUFFIXES = (".csv", ".csv.gz")
GONE_CODES = frozenset({"NoSuchKey", "NoSuchVersion"})

SUMMARIZED = "summarized"
REJECTED = "rejected"
SKIPPED = "skipped"

SETTINGS = Settings.from_env()  # cold start: a bad value fails the init phase, clearly
logger = logs.configure(SETTINGS.log_level)


@dataclass(frozen=True, slots=True)
class Deps:
    """What the handler talks to; built once per execution environment, injectable in tests."""

    settings: Settings
    s3: S3Client
    metrics: metrics.MetricsWriter


@functools.cache
def _deps() -> Deps:
    return Deps(
        settings=SETTINGS,
        s3=s3io.s3_client(),
        metrics=metrics.MetricsWriter(SETTINGS.metrics_namespace, SETTINGS.function_name),
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Lambda entry point (``txsummary.handler.handler``)."""
    return process_event(event, _deps())


def process_event(event: dict[str, Any], deps: Deps) -> dict[str, str]:
    """Handle every record; return ``{key: outcome}``. An unexpected failure is logged with its
    traceback; the first one is raised after every record has been tried."""
    records = event.get("Records") or []
    if not records:
        logger.info(
            "skipped: event has no Records (s3:TestEvent)",
            extra={"outcome": SKIPPED, "event": event.get("Event")},
        )
        return {}
    outcomes: dict[str, str] = {}
    failures: list[Exception] = []
    for record in records:
        fields = _fields(record)
        try:
            outcome = _process_record(record, fields, deps)
        except Exception as exc:
            logger.exception("failed: raising so that Lambda retries", extra=fields)
            failures.append(exc)
            continue
        if outcome is not None:
            outcomes[fields["key"]] = outcome
    if failures:
        raise failures[0]
    return outcomes


def _fields(record: dict[str, Any]) -> dict[str, Any]:
    """bucket, key (decoded) and version_id of a record, as far as they can be read."""
    obj = record.get("s3", {}).get("object", {})
    raw_key = obj.get("key")
    return {
        "bucket": record.get("s3", {}).get("bucket", {}).get("name"),
        "key": unquote_plus(raw_key) if isinstance(raw_key, str) else None,
        "version_id": obj.get("versionId"),
    }


def _process_record(record: dict[str, Any], fields: dict[str, Any], deps: Deps) -> str | None:
    bucket, key = fields["bucket"], fields["key"]
    if record.get("eventSource") != "aws:s3" or not bucket or not key:
        logger.warning("skipped: not an S3 object record", extra={"outcome": SKIPPED})
        return None
    if not key.lower().endswith(SUFFIXES):
        logger.info("skipped: key is not .csv or .csv.gz", extra={**fields, "outcome": SKIPPED})
        return SKIPPED

    limit = deps.settings.max_object_bytes
    event_size = record["s3"]["object"].get("size")
    if isinstance(event_size, int) and event_size > limit:
        _reject_too_large(deps, {**fields, "size": event_size}, limit)
        return REJECTED

    started = time.perf_counter()
    try:
        obj = s3io.open_object(deps.s3, bucket, key, fields["version_id"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in GONE_CODES:
            raise
        logger.warning(
            "skipped: object no longer exists",
            extra={**fields, "outcome": SKIPPED, "error_code": code},
        )
        return SKIPPED

    fields.update(version_id=obj.version_id, etag=obj.etag, size=obj.size)
    try:
        if obj.size > limit:
            _reject_too_large(deps, fields, limit)
            return REJECTED
        summary = summarize_stream(obj.body, f"s3://{bucket}/{key}")
    except InvalidFileError as exc:
        _reject(deps, fields, exc, started)
        return REJECTED
    finally:
        obj.body.close()

    duration_ms = _elapsed_ms(started)
    logger.info(
        render_text(summary).rstrip("\n"),
        extra={
            **fields,
            "outcome": SUMMARIZED,
            "summary": summary.to_dict(),
            "duration_ms": duration_ms,
        },
    )
    deps.metrics.emit(
        {
            metrics.FILES_SUMMARIZED: 1,
            metrics.FILES_REJECTED: 0,
            metrics.TRANSACTIONS_SUMMARIZED: summary.totals.transactions,
            metrics.PROCESSING_TIME: duration_ms,
        },
        bucket=bucket,
        key=key,
    )
    return SUMMARIZED


def _elapsed_ms(started: float | None) -> float:
    return 0.0 if started is None else round((time.perf_counter() - started) * 1000, 1)


def _reject_too_large(deps: Deps, fields: dict[str, Any], limit: int) -> None:
    size = fields["size"]
    reason = f"object is {size} bytes, over the limit of {limit} bytes (MAX_OBJECT_BYTES); not read"
    where = f"s3://{fields['bucket']}/{fields['key']}"
    error = InvalidFileError(where, (LineError(0, reason),), 1)
    _reject(deps, {**fields, "max_object_bytes": limit}, error, None)


def _reject(
    deps: Deps, fields: dict[str, Any], error: InvalidFileError, started: float | None
) -> None:
    duration_ms = _elapsed_ms(started)
    logger.error(
        error.describe(),
        extra={
            **fields,
            "outcome": REJECTED,
            "error_count": error.error_count,
            "errors": [e.to_dict() for e in error.errors[:MAX_REPORTED_ERRORS]],
            "duration_ms": duration_ms,
        },
    )
    deps.metrics.emit(
        {
            metrics.FILES_SUMMARIZED: 0,
            metrics.FILES_REJECTED: 1,
            metrics.TRANSACTIONS_SUMMARIZED: 0,
            metrics.PROCESSING_TIME: duration_ms,
        },
        bucket=fields["bucket"],
        key=fields["key"],
    )
