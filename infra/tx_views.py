"""What an operator reads in CloudWatch: a dashboard of the function's metrics, and saved Logs
Insights queries on its log group that read the one record logged per file.

The dashboard body and the queries are plain functions of names (pure, tested as data); the
metric names come from txsummary.contract, the record fields from the reporter's record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from tx_alarms import Alarms, metric_dimensions
from txsummary.contract import Metric
from txsummary.objects import Rejected, Summarized

PERIOD_SECONDS = 300
WIDTH = 12  # of the dashboard's 24 columns: two widgets a row
HEIGHT = 6


class Field:
    """Fields of the per-file log record, as Logs Insights names them (nested JSON flattened
    with dots, list items by index)."""

    KEY = "key"
    VERSION_ID = "version_id"
    SIZE = "size"
    OUTCOME = "outcome"
    DURATION_MS = "duration_ms"
    EMAIL = "email"
    LAKE_KEY = "lake_key"
    ERROR_COUNT = "error_count"
    TRANSACTIONS = "summary.transactions"
    CREDITS = "summary.credits"
    DEBITS = "summary.debits"
    BALANCE = "summary.total_balance"
    # The first reported errors (the record lists them in file order).
    FIRST_ERRORS = tuple(f"errors.{i}.{part}" for i in range(3) for part in ("line", "reason"))


# The outcomes as the function writes them in its records.
SUMMARIZED = Summarized.kind
REJECTED = Rejected.kind
# The saved query that shows one key's history: the operator replaces this with their key.
EXAMPLE_KEY = "transactions.csv"


@dataclass(frozen=True)
class Views:
    dashboard: aws.cloudwatch.Dashboard
    queries: dict[str, aws.cloudwatch.QueryDefinition]
    dashboard_url: pulumi.Output[str]
    logs_insights_url: pulumi.Output[str]


def queries() -> dict[str, str]:
    """The saved Logs Insights queries, by their name under the stack's folder."""
    f = Field
    return {
        "latest-summaries": _query(
            [f.KEY, f.VERSION_ID, f.TRANSACTIONS, f.CREDITS, f.DEBITS, f.BALANCE, f.EMAIL],
            f'filter {f.OUTCOME} = "{SUMMARIZED}"',
            "sort @timestamp desc",
            "limit 50",
        ),
        "rejections": _query(
            [f.KEY, f.VERSION_ID, f.ERROR_COUNT, *f.FIRST_ERRORS],
            f'filter {f.OUTCOME} = "{REJECTED}"',
            "sort @timestamp desc",
            "limit 50",
        ),
        "key-history": _query(
            [f.VERSION_ID, f.OUTCOME, f.BALANCE, f.ERROR_COUNT, f.EMAIL, f.LAKE_KEY],
            f'filter {f.KEY} = "{EXAMPLE_KEY}"',
            "sort @timestamp asc",
            comment=f"One key's history across its versions: put your key in place of "
            f"{EXAMPLE_KEY}.",
        ),
        "slowest-files": _query(
            [f.KEY, f.OUTCOME, f.DURATION_MS, f.SIZE, f.TRANSACTIONS],
            f'filter {f.OUTCOME} in ["{SUMMARIZED}", "{REJECTED}"]',
            f"sort {f.DURATION_MS} desc",
            "limit 20",
        ),
    }


def _query(fields: list[str], *commands: str, comment: str | None = None) -> str:
    lines = [f"# {comment}"] if comment else []
    lines.append("fields " + ", ".join(["@timestamp", *fields]))
    lines.extend(f"| {command}" for command in commands)
    return "\n".join(lines)


def dashboard_body(
    *,
    region: str,
    namespace: str,
    function_name: str,
    queue_name: str,
    log_group_name: str,
    alarm_arns: list[str],
) -> str:
    """The dashboard: files, transactions, processing time, e-mails, failures, the queue, the
    alarms and the latest summaries."""
    own = {key: str(value) for key, value in metric_dimensions(function_name).items()}

    def metric(name: str, *, stat: str = "Sum", label: str | None = None) -> list[Any]:
        return _metric(namespace, name, own, stat=stat, label=label)

    def lambda_metric(name: str) -> list[Any]:
        return _metric("AWS/Lambda", name, {"FunctionName": function_name}, stat="Sum")

    widgets = [
        _graph("Files summarized and rejected",
               [metric(Metric.FILES_SUMMARIZED), metric(Metric.FILES_REJECTED)], region),
        _graph("Transactions summarized", [metric(Metric.TRANSACTIONS_SUMMARIZED)], region),
        _graph("Processing time per file (ms)",
               [metric(Metric.PROCESSING_TIME, stat="p50", label="p50"),
                metric(Metric.PROCESSING_TIME, stat="p99", label="p99")], region),
        _graph("E-mails sent and failed",
               [metric(Metric.EMAILS_SENT), metric(Metric.EMAILS_FAILED)], region),
        _graph("Errors, throttles and dropped events",
               [lambda_metric(m) for m in
                ("Errors", "Throttles", "AsyncEventsDropped", "DestinationDeliveryFailures")],
               region),
        _graph("Failure queue depth",
               [_metric("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                        {"QueueName": queue_name}, stat="Maximum")], region),
        {"type": "alarm", "width": 24, "height": 3,
         "properties": {"title": "Alarms", "alarms": alarm_arns}},
        {"type": "log", "width": 24, "height": HEIGHT,
         "properties": {"title": "Latest summaries", "region": region, "view": "table",
                        "query": f"SOURCE '{log_group_name}' | "
                        + queries()["latest-summaries"].replace("\n", " ")}},
    ]  # fmt: skip
    return json.dumps({"widgets": _laid_out(widgets)})


def _metric(
    namespace: str,
    name: str,
    dimensions: dict[str, str],
    *,
    stat: str,
    label: str | None = None,
) -> list[Any]:
    """One line of a metric widget: namespace, name, the dimensions' names and values, then
    the rendering options."""
    pairs = [part for item in dimensions.items() for part in item]
    options: dict[str, Any] = {"stat": stat}
    if label is not None:
        options["label"] = label
    return [namespace, name, *pairs, options]


def _graph(title: str, metrics: list[list[Any]], region: str) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "period": PERIOD_SECONDS,
            "metrics": metrics,
        },
    }


def _laid_out(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Widgets placed left to right, top to bottom, on the 24-column grid."""
    x = y = row_height = 0
    placed = []
    for widget in widgets:
        if x + widget["width"] > 24:
            x, y, row_height = 0, y + row_height, 0
        placed.append({**widget, "x": x, "y": y})
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return placed


def console_urls(region: str, dashboard_name: str) -> tuple[str, str]:
    """The dashboard's and Logs Insights' console pages (the saved queries are listed there)."""
    home = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
    return f"{home}#dashboards/dashboard/{dashboard_name}", f"{home}#logsV2:logs-insights"


def views(
    name: str,
    *,
    function: aws.lambda_.Function,
    log_group: aws.cloudwatch.LogGroup,
    failure_queue: aws.sqs.Queue,
    alarms: Alarms,
    namespace: str,
) -> Views:
    region = aws.get_region_output().region
    dashboard_name = function.name  # holds the stack's name: one dashboard per stack

    def body(args: list[Any]) -> str:
        region_, function_name, queue_name, log_group_name, *alarm_arns = args
        return dashboard_body(
            region=region_,
            namespace=namespace,
            function_name=function_name,
            queue_name=queue_name,
            log_group_name=log_group_name,
            alarm_arns=alarm_arns,
        )

    dashboard = aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        dashboard_name=dashboard_name,
        dashboard_body=pulumi.Output.all(
            region, function.name, failure_queue.name, log_group.name,
            *(alarm.arn for alarm in alarms.all),
        ).apply(body),
    )  # fmt: skip

    def in_folder(query_name: str) -> pulumi.Output[str]:
        # A "/" makes a folder in the console's saved queries: one per stack.
        return pulumi.Output.concat(function.name, "/", query_name)

    saved = {
        query_name: aws.cloudwatch.QueryDefinition(
            f"{name}-query-{query_name}",
            name=in_folder(query_name),
            log_group_names=[log_group.name],
            query_string=text,
        )
        for query_name, text in queries().items()
    }
    urls = pulumi.Output.all(region, dashboard.dashboard_name).apply(
        lambda args: console_urls(args[0], args[1])
    )
    return Views(
        dashboard=dashboard,
        queries=saved,
        dashboard_url=urls.apply(lambda u: u[0]),
        logs_insights_url=urls.apply(lambda u: u[1]),
    )
