"""Alarms on real failures: function errors, throttles, dropped events and undelivered failure
records, events parked in the failure queue, and e-mails SES refused for good."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from tx_config import StackSettings
from txsummary import contract

PERIOD_SECONDS = 300
LAMBDA_NAMESPACE = "AWS/Lambda"


@dataclass(frozen=True)
class Alarms:
    function_errors: aws.cloudwatch.MetricAlarm
    failed_events: aws.cloudwatch.MetricAlarm
    throttles: aws.cloudwatch.MetricAlarm
    dropped_events: aws.cloudwatch.MetricAlarm
    undelivered_failures: aws.cloudwatch.MetricAlarm
    emails_failed: aws.cloudwatch.MetricAlarm
    topic: aws.sns.Topic | None

    @property
    def all(self) -> list[aws.cloudwatch.MetricAlarm]:
        return [
            self.function_errors,
            self.failed_events,
            self.throttles,
            self.dropped_events,
            self.undelivered_failures,
            self.emails_failed,
        ]


def metric_dimensions(function_name: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """The dimensions the function's own metrics carry: Powertools' ``service`` and the
    function's name (txsummary.aws.observability.make_metrics)."""
    return {"service": contract.SERVICE, contract.FUNCTION_DIMENSION: function_name}


def alarms(
    name: str,
    settings: StackSettings,
    *,
    function: aws.lambda_.Function,
    failure_queue: aws.sqs.Queue,
) -> Alarms:
    topic: aws.sns.Topic | None = None
    actions: list[pulumi.Input[str]] = []
    if settings.alarm_email:
        topic = aws.sns.Topic(f"{name}-alarms")
        aws.sns.TopicSubscription(
            f"{name}-alarm-email",
            topic=topic.arn,
            protocol="email",
            endpoint=settings.alarm_email,
            opts=pulumi.ResourceOptions(parent=topic),
        )
        actions = [topic.arn]

    def alarm(
        suffix: str,
        description: str,
        *,
        namespace: str,
        metric: str,
        dimensions: dict[str, pulumi.Input[str]],
        statistic: str,
    ) -> aws.cloudwatch.MetricAlarm:
        return _any_above_zero(
            f"{name}-{suffix}",
            # Named after the function (which holds the stack's name), so the doctor and the
            # console show which stack's alarm fired.
            function.name.apply(lambda function_name: f"{function_name}-{suffix}"),
            description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
            actions=actions,
        )

    on_function: dict[str, pulumi.Input[str]] = {"FunctionName": function.name}
    # Invalid files are reported in the log and do not count as errors; these are real failures.
    function_errors = alarm(
        "function-errors",
        "The summarizer raised: the event is retried, then parked in the queue.",
        namespace=LAMBDA_NAMESPACE,
        metric="Errors",
        dimensions=on_function,
        statistic="Sum",
    )
    failed_events = alarm(
        "failed-events",
        "Uploads whose processing failed after all retries wait in the queue: "
        "`txsummary redrive` sends them again.",
        namespace="AWS/SQS",
        metric="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": failure_queue.name},
        statistic="Maximum",
    )
    throttles = alarm(
        "throttles",
        "Invocations were throttled (reserved concurrency or the account's limit): "
        "events wait, and may age out.",
        namespace=LAMBDA_NAMESPACE,
        metric="Throttles",
        dimensions=on_function,
        statistic="Sum",
    )
    dropped_events = alarm(
        "dropped-events",
        "Lambda dropped asynchronous events without delivering them anywhere: the scheduled "
        "reconcile gives those uploads their verdict.",
        namespace=LAMBDA_NAMESPACE,
        metric="AsyncEventsDropped",
        dimensions=on_function,
        statistic="Sum",
    )
    undelivered_failures = alarm(
        "undelivered-failures",
        "A failed event could not be written to the failure queue: only the reconcile will "
        "give it a verdict.",
        namespace=LAMBDA_NAMESPACE,
        metric="DestinationDeliveryFailures",
        dimensions=on_function,
        statistic="Sum",
    )
    emails_failed = alarm(
        "emails-failed",
        "SES refused a summary e-mail for good (unverified address, sending paused): fix it, "
        "then `txsummary resend`.",
        namespace=settings.metrics_namespace,
        metric=contract.Metric.EMAILS_FAILED,
        dimensions=metric_dimensions(function.name),
        statistic="Sum",
    )
    return Alarms(
        function_errors=function_errors,
        failed_events=failed_events,
        throttles=throttles,
        dropped_events=dropped_events,
        undelivered_failures=undelivered_failures,
        emails_failed=emails_failed,
        topic=topic,
    )


def _any_above_zero(
    resource_name: str,
    alarm_name: pulumi.Input[str],
    description: str,
    *,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, pulumi.Input[str]],
    statistic: str,
    actions: list[pulumi.Input[str]],
) -> aws.cloudwatch.MetricAlarm:
    """An alarm that fires when the metric is above zero in any one period."""
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=alarm_name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic=statistic,
        period=PERIOD_SECONDS,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=actions,
    )
