"""What keeps every upload accounted for and visible: the reconcile's schedule and its role, the
recursion guard, the alarms, the dashboard and the saved Logs Insights queries, under mocks."""

from __future__ import annotations

import json
from typing import Any

import pytest

import tx_policies
from tests.infra.pulumi_harness import ACCOUNT, REGION, Program, Registered
from tests.infra.resource_types import (
    ALARM,
    DASHBOARD,
    FUNCTION,
    LOG_GROUP,
    QUERY,
    QUEUE,
    RECURSION,
    ROLE,
    ROLE_POLICY,
    SCHEDULE,
)
from txsummary import contract
from txsummary.contract import Metric

ALL = pytest.mark.parametrize("program_name", ["default_program", "tuned_program", "full_program"])


@pytest.fixture
def program(request: pytest.FixtureRequest, program_name: str) -> Program:
    fixture: Program = request.getfixturevalue(program_name)
    return fixture


def named(program: Program, typ: str, name: str) -> Registered:
    (found,) = [r for r in program.of_type(typ) if r.name == name]
    return found


# --- the reconcile's schedule --------------------------------------------------------------


@pytest.mark.parametrize(
    ("program_name", "expression"),
    [("default_program", "rate(1 hour)"), ("tuned_program", "cron(15 * * * ? *)")],
)
def test_the_schedule_sends_the_function_the_reconcile_event(
    program: Program, expression: str
) -> None:
    schedule = program.one(SCHEDULE).inputs
    function = program.one(FUNCTION)
    role = named(program, ROLE, "txsummary-scheduler-role")
    assert schedule["scheduleExpression"] == expression
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule["target"]
    assert target["arn"] == function.outputs["arn"]
    assert target["roleArn"] == role.outputs["arn"]
    # exactly the event the handler recognises
    assert json.loads(target["input"]) == contract.RECONCILE_EVENT == {"txsummary": "reconcile"}
    # a missed run is caught up by the next: retried briefly only
    assert target["retryPolicy"] == {"maximumRetryAttempts": 2, "maximumEventAgeInSeconds": 3600}


def test_the_default_schedule_is_the_contracts() -> None:
    from tx_config import StackSettings

    assert StackSettings().reconcile_schedule == contract.DEFAULT_RECONCILE_SCHEDULE


def test_only_the_scheduler_of_this_account_assumes_the_schedule_role(
    default_program: Program,
) -> None:
    role = named(default_program, ROLE, "txsummary-scheduler-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }


@ALL
def test_the_schedule_role_may_only_invoke_the_function(program: Program) -> None:
    policy = named(program, ROLE_POLICY, "txsummary-scheduler-invoke")
    role = named(program, ROLE, "txsummary-scheduler-role")
    assert policy.inputs["role"] == role.outputs["name"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement == {
        "Sid": "InvokeSummarizer",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": program.one(FUNCTION).outputs["arn"],
    }
    # and the schedule is created once the role may invoke
    assert program.one(SCHEDULE).depends_on(policy)


@pytest.mark.parametrize(
    ("program_name", "prefix"), [("default_program", None), ("tuned_program", "incoming/")]
)
def test_the_function_knows_what_the_reconcile_lists(program: Program, prefix: str | None) -> None:
    variables = program.one(FUNCTION).inputs["environment"]["variables"]
    assert variables[contract.Env.UPLOAD_BUCKET] == program.exports["bucket_name"]
    assert variables.get(contract.Env.KEY_PREFIX) == prefix


def test_recursive_loops_are_terminated(default_program: Program) -> None:
    recursion = default_program.one(RECURSION).inputs
    assert recursion == {
        "functionName": default_program.one(FUNCTION).inputs["name"],
        "recursiveLoop": "Terminate",
    }


# --- alarms ----------------------------------------------------------------------------------


def alarm_on(program: Program, metric: str) -> dict[str, Any]:
    (alarm,) = [a for a in program.of_type(ALARM) if a.inputs["metricName"] == metric]
    return alarm.inputs


@pytest.mark.parametrize(
    "metric", ["Throttles", "AsyncEventsDropped", "DestinationDeliveryFailures"]
)
def test_lambdas_own_failure_metrics_alarm(default_program: Program, metric: str) -> None:
    alarm = alarm_on(default_program, metric)
    assert alarm["namespace"] == "AWS/Lambda"
    assert alarm["dimensions"] == {"FunctionName": "txsummary-dev"}
    assert alarm["statistic"] == "Sum"
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize(
    ("program_name", "namespace"),
    [("default_program", "txsummary"), ("tuned_program", "acme/txsummary")],
)
def test_emails_failed_alarms_on_the_functions_own_metric(program: Program, namespace: str) -> None:
    alarm = alarm_on(program, Metric.EMAILS_FAILED)
    assert alarm["namespace"] == namespace
    # exactly the dimension set Powertools emits: its `service` and the function's name
    assert alarm["dimensions"] == {"service": "txsummary", "function_name": "txsummary-dev"}
    assert alarm["statistic"] == "Sum"
    assert alarm["threshold"] == 0


def test_the_emitted_dimensions_are_the_alarms() -> None:
    # Given the function's own Metrics object / When it emits EmailsFailed
    from txsummary.aws.observability import make_metrics

    metrics = make_metrics("txsummary", "txsummary-dev")
    try:
        metrics.add_metric(Metric.EMAILS_FAILED, "Count", 1)
        blob: dict[str, Any] = dict(metrics.serialize_metric_set())
    finally:  # Powertools shares one metric set per process: leave nothing for later tests
        metrics.clear_metrics()
        metrics.clear_default_dimensions()
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    # Then its one dimension set is the alarm's
    (dimension_set,) = directive["Dimensions"]
    from tx_alarms import metric_dimensions

    expected = metric_dimensions("txsummary-dev")
    assert set(dimension_set) == set(expected)
    assert {name: blob[name] for name in dimension_set} == expected


def test_alarm_names_are_exported_for_the_doctor(default_program: Program) -> None:
    names = [a.inputs["name"] for a in default_program.of_type(ALARM)]
    assert sorted(default_program.exports["alarm_names"]) == sorted(names)
    assert len(set(names)) == 6
    assert all(name.startswith("txsummary-dev-") for name in names)


# --- the dashboard ---------------------------------------------------------------------------


def dashboard_of(program: Program) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(program.one(DASHBOARD).inputs["dashboardBody"])
    return board


def metric_lines(board: dict[str, Any]) -> dict[str, list[list[Any]]]:
    return {
        w["properties"]["title"]: w["properties"]["metrics"]
        for w in board["widgets"]
        if w["type"] == "metric"
    }


@pytest.mark.parametrize(
    ("program_name", "namespace"),
    [("default_program", "txsummary"), ("tuned_program", "acme/txsummary")],
)
def test_the_dashboard_graphs_the_functions_metrics(program: Program, namespace: str) -> None:
    lines = metric_lines(dashboard_of(program))
    own = ["service", "txsummary", "function_name", "txsummary-dev"]

    def of(name: str, stat: str = "Sum", **extra: str) -> list[Any]:
        return [namespace, name, *own, {"stat": stat, **extra}]

    queue = program.one(QUEUE).outputs["name"]
    assert lines == {
        "Files summarized and rejected": [of(Metric.FILES_SUMMARIZED), of(Metric.FILES_REJECTED)],
        "Transactions summarized": [of(Metric.TRANSACTIONS_SUMMARIZED)],
        "Processing time per file (ms)": [
            of(Metric.PROCESSING_TIME, "p50", label="p50"),
            of(Metric.PROCESSING_TIME, "p99", label="p99"),
        ],
        "E-mails sent and failed": [of(Metric.EMAILS_SENT), of(Metric.EMAILS_FAILED)],
        "Errors, throttles and dropped events": [
            ["AWS/Lambda", m, "FunctionName", "txsummary-dev", {"stat": "Sum"}]
            for m in ("Errors", "Throttles", "AsyncEventsDropped", "DestinationDeliveryFailures")
        ],
        "Failure queue depth": [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue,
             {"stat": "Maximum"}]
        ],
    }  # fmt: skip


def test_the_dashboard_shows_every_alarm_and_the_latest_summaries(default_program: Program) -> None:
    board = dashboard_of(default_program)
    (alarms,) = [w for w in board["widgets"] if w["type"] == "alarm"]
    arns = [a.outputs["arn"] for a in default_program.of_type(ALARM)]
    assert sorted(alarms["properties"]["alarms"]) == sorted(arns)
    (log,) = [w for w in board["widgets"] if w["type"] == "log"]
    log_group = default_program.one(LOG_GROUP).inputs["name"]
    assert log["properties"]["query"].startswith(f"SOURCE '{log_group}' | fields @timestamp, key")
    assert log["properties"]["region"] == REGION
    metric_widgets = [w for w in board["widgets"] if w["type"] == "metric"]
    assert all(w["properties"]["region"] == REGION for w in metric_widgets)


def test_the_dashboard_widgets_do_not_overlap(default_program: Program) -> None:
    cells: set[tuple[int, int]] = set()
    for widget in dashboard_of(default_program)["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        mine = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not mine & cells, widget["properties"]["title"]
        cells |= mine


def test_one_dashboard_per_stack_with_its_url_exported(default_program: Program) -> None:
    dashboard = default_program.one(DASHBOARD).inputs
    assert dashboard["dashboardName"] == "txsummary-dev"
    url = default_program.exports["dashboard_url"]
    assert url == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        "#dashboards/dashboard/txsummary-dev"
    )


# --- saved queries -----------------------------------------------------------------------


def test_the_saved_queries_read_the_functions_log_group(default_program: Program) -> None:
    queries = {q.inputs["name"]: q.inputs for q in default_program.of_type(QUERY)}
    log_group = default_program.one(LOG_GROUP).inputs["name"]
    assert set(queries) == {
        "txsummary-dev/latest-summaries",
        "txsummary-dev/rejections",
        "txsummary-dev/key-history",
        "txsummary-dev/slowest-files",
    }
    for query in queries.values():
        assert query["logGroupNames"] == [log_group]
    assert default_program.exports["saved_queries"] == list(queries)
    assert default_program.exports["logs_insights_url"].endswith("#logsV2:logs-insights")


def test_each_query_asks_what_its_name_says(default_program: Program) -> None:
    queries = {q.inputs["name"].split("/")[1]: q.inputs["queryString"]
               for q in default_program.of_type(QUERY)}  # fmt: skip
    latest = queries["latest-summaries"]
    assert 'filter outcome = "summarized"' in latest
    assert "summary.total_balance" in latest and "key" in latest
    assert "sort @timestamp desc" in latest
    rejections = queries["rejections"]
    assert 'filter outcome = "rejected"' in rejections
    assert "errors.0.line" in rejections and "errors.0.reason" in rejections
    history = queries["key-history"]
    assert 'filter key = "transactions.csv"' in history and "version_id" in history
    assert "sort @timestamp asc" in history
    slowest = queries["slowest-files"]
    assert "sort duration_ms desc" in slowest


def test_statement_helpers_are_exact() -> None:
    bucket = "arn:aws:s3:::uploads"
    plain, versions = tx_policies.list_uploads_statements(bucket, None)
    assert plain == {
        "Sid": "TellGoneFromForbidden",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": bucket,
    }
    assert "Condition" not in versions
    _, scoped = tx_policies.list_uploads_statements(bucket, "in/")
    assert scoped["Action"] == "s3:ListBucketVersions"
    assert scoped["Condition"] == {"StringLike": {"s3:prefix": ["in/*"]}}
    sender = "arn:aws:ses:us-east-1:1:identity/r@x.example"
    assert tx_policies.recipient_identity_arns(sender, ["a@y.example"], ["z.example"]) == [
        "arn:aws:ses:us-east-1:1:identity/a@y.example",
        "arn:aws:ses:us-east-1:1:identity/z.example",
        "arn:aws:ses:us-east-1:1:identity/*@z.example",
    ]
