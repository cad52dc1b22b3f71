"""The Lambda entry point (``txsummary.handler.handler``) and the composition root: the
settings, the adapters they turn on, and S3 event -> object versions -> the service -> the report.

Every record is tried. An unexpected failure is logged with its traceback, and the first one is
raised after all records were tried, so that Lambda retries the event; data errors are outcomes.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TextIO

from txsummary import effects, reconcile, service
from txsummary.aws import observability
from txsummary.aws.events import object_refs
from txsummary.aws.settings import Settings
from txsummary.objects import EMAIL_SENT, ObjectRef, Outcome, Skipped
from txsummary.report import report

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext

SETTINGS = Settings.from_env()  # cold start: a bad value fails the init phase, clearly
logger = observability.make_logger(SETTINGS.log_level)


def build_deps(settings: Settings, logger: Logger, metrics: Metrics) -> service.Deps:
    """The adapters the settings turn on, each client created once (at the first invocation)."""
    from txsummary.aws.s3 import s3_client  # noqa: PLC0415

    s3 = s3_client()
    if settings.summary_table is None:
        return service.Deps(settings, s3, logger, metrics)
    from txsummary.aws.store import SummaryStore, dynamodb_client  # noqa: PLC0415

    mail: effects.Mail | None = None
    if settings.mail is not None:
        from txsummary.aws.mail import Mailer, sesv2_client  # noqa: PLC0415

        mail = Mailer(sesv2_client(), settings.mail)
    store = SummaryStore(settings.summary_table, dynamodb_client())
    return service.Deps(settings, s3, logger, metrics, store, mail, settings.lake_bucket)


@functools.cache
def _deps() -> service.Deps:
    metrics = observability.make_metrics(SETTINGS.metrics_namespace, SETTINGS.function_name)
    return build_deps(SETTINGS, logger, metrics)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if reconcile.is_reconcile_event(event):  # the schedule's sweep
        return reconcile.handle(event, reconcile.build_ports(_deps()), context)
    return process_event(event, _deps(), token=effects.new_token(context.aws_request_id))


def process_event(
    event: dict[str, Any], deps: service.Deps, *, token: str | None = None
) -> dict[str, str]:
    """Handle every record; return ``{key: outcome}`` for the records that name an object.
    ``token`` names this delivery attempt (one per invocation; a fresh one when None)."""
    token = token or effects.new_token()
    outcomes: dict[str, str] = {}
    failures: list[Exception] = []
    for item in object_refs(event):
        if isinstance(item, Skipped):
            outcome: Outcome = item
        else:
            try:
                outcome = service.summarize_object(item, deps, token=token)
            except Exception as exc:
                deps.logger.exception("failed: raising so that Lambda retries", extra=item.fields())
                failures.append(exc)
                continue
        report(outcome, deps.logger, deps.metrics)
        if outcome.ref is not None:
            outcomes[outcome.ref.key] = outcome.kind
    if failures:
        raise failures[0]
    return outcomes


def run_resend(url: str, version_id: str | None, out: TextIO) -> int:
    """``txsummary resend s3://bucket/key [--version-id V]``: send the version's failed or
    pending e-mail again, once, with the function's settings (its environment variables).
    The key's current version when no version is given. Exit 0 when the e-mail is sent (now or
    before), 1 when it still is not, 2 on a usage or settings problem."""
    from txsummary.aws.s3 import current_version, parse_s3_url  # noqa: PLC0415

    try:
        bucket, key = parse_s3_url(url)
    except ValueError as exc:
        print(f"txsummary: {exc}", file=out)
        return 2
    if SETTINGS.summary_table is None or SETTINGS.mail is None:
        print("txsummary: resend needs SUMMARY_TABLE and EMAIL_FROM set", file=out)
        return 2
    deps = _deps()
    ref = ObjectRef(bucket, key, version_id) if version_id else None
    ref = ref or current_version(deps.s3, bucket, key)
    applied = service.resend(ref, deps)
    where = f"{ref.uri} (version {ref.sort_key})"
    if applied is None:
        print(f"{where}: no record; the function has not processed this version", file=out)
        return 1
    reason = f": {applied.email_error}" if applied.email_error else ""
    print(f"{where}: e-mail {applied.email}{reason}", file=out)
    return 0 if applied.email == EMAIL_SENT else 1
