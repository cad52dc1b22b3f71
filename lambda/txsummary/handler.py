"""The Lambda entry point (``txsummary.handler.handler``): S3 event -> one record per object.

Every record is tried. An unexpected failure is logged with its traceback, and the first one is
raised after all records were tried, so that Lambda retries the event; data errors are outcomes.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from txsummary import service
from txsummary.aws import observability
from txsummary.aws.events import object_refs
from txsummary.aws.settings import Settings

SETTINGS = Settings.from_env()  # cold start: a bad value fails the init phase, clearly
logger = observability.make_logger(SETTINGS.log_level)


@functools.cache
def _deps() -> service.Deps:
    metrics = observability.make_metrics(SETTINGS.metrics_namespace, SETTINGS.function_name)
    return service.build_deps(SETTINGS, logger, metrics)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return process_event(event, _deps())


def process_event(event: dict[str, Any], deps: service.Deps) -> dict[str, str]:
    """Handle every record; return ``{key: outcome}`` for the records that name an object."""
    outcomes: dict[str, str] = {}
    failures: list[Exception] = []
    for item in object_refs(event):
        if isinstance(item, service.Skipped):
            outcome: service.Outcome = item
        else:
            try:
                outcome = service.summarize_object(item, deps)
            except Exception as exc:
                deps.logger.exception("failed: raising so that Lambda retries", extra=item.fields())
                failures.append(exc)
                continue
        service.report(outcome, deps)
        if outcome.ref is not None:
            outcomes[outcome.ref.key] = outcome.kind
    if failures:
        raise failures[0]
    return outcomes
