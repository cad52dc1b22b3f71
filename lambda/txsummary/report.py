"""The one reporter: an Outcome becomes one log record and, for a processed file, one set of
metrics. The service decides what happened (and which delivery reports it); this only writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from txsummary import contract
from txsummary.contract import Metric
from txsummary.core.errors import MAX_REPORTED_ERRORS
from txsummary.core.render import render_text
from txsummary.objects import (
    EMAIL_FAILED,
    EMAIL_SENT,
    SKIP_GONE,
    SKIP_NOT_AN_OBJECT,
    Duplicate,
    ObjectTooLarge,
    Outcome,
    Rejected,
    Skipped,
    Summarized,
)

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

# Skips that may hide a problem are logged at WARNING, the others at INFO.
_WARNING_SKIPS: Final = frozenset({SKIP_NOT_AN_OBJECT, SKIP_GONE})


def report(outcome: Outcome, logger: Logger, metrics: Metrics) -> None:
    """Write the outcome's one log record and, for a processed file, its one set of metrics."""
    fields = {**(outcome.ref.fields() if outcome.ref else {}), "outcome": outcome.kind}
    match outcome:
        case Summarized(summary=summary, duration_ms=duration_ms, email=email):
            logger.info(
                render_text(summary).rstrip("\n"),
                extra={
                    **fields,
                    "summary": summary.to_dict(),
                    "duration_ms": duration_ms,
                    **_present(
                        email=email, email_error=outcome.email_error, lake_key=outcome.lake_key
                    ),
                },
            )
            _count(
                metrics,
                fields,
                summarized=1,
                transactions=summary.totals.transactions,
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
                    **_present(email=email, email_error=outcome.email_error),
                },
            )
            _count(metrics, fields, rejected=1, duration_ms=duration_ms, email=email)
        case Skipped(reason=reason, error_code=error_code):
            log = logger.warning if reason in _WARNING_SKIPS else logger.info
            log(f"skipped: {reason}", extra={**fields, "reason": reason, "error_code": error_code})
        case Duplicate(previous=previous):
            logger.info(
                f"duplicate: this version was already {previous}",
                extra={**fields, "previous": previous},
            )
            metrics.add_metric(Metric.DUPLICATES, contract.METRIC_UNITS[Metric.DUPLICATES], 1)
            _flush(metrics, fields)


def _count(
    metrics: Metrics,
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
    email_metric = {EMAIL_SENT: Metric.EMAILS_SENT, EMAIL_FAILED: Metric.EMAILS_FAILED}
    if email in email_metric:
        values[email_metric[email]] = 1
    for name, value in values.items():
        metrics.add_metric(name=name, unit=contract.METRIC_UNITS[name], value=value)
    _flush(metrics, fields)


def _present(**values: str | None) -> dict[str, str]:
    """The optional fields that have a value (a record has no `email` when e-mail is off)."""
    return {name: value for name, value in values.items() if value is not None}


def _flush(metrics: Metrics, fields: Mapping[str, Any]) -> None:
    # One EMF line per outcome, carrying the object as (non-metric) properties.
    for key in ("bucket", "key", "version_id"):
        if fields.get(key) is not None:
            metrics.add_metadata(key, fields[key])
    metrics.flush_metrics()
