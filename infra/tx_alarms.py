"""Alarms on real failures: function errors, and events parked in the failure queue."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from tx_config import StackSettings

PERIOD_SECONDS = 300


@dataclass(frozen=True)
class Alarms:
    function_errors: aws.cloudwatch.MetricAlarm
    failed_events: aws.cloudwatch.MetricAlarm
    topic: aws.sns.Topic | None


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

    # Invalid files are reported in the log and do not count as errors; these are real failures.
    function_errors = _any_above_zero(
        f"{name}-function-errors",
        "The summarizer raised: the event is retried, then parked in the queue.",
        namespace="AWS/Lambda",
        metric_name="Errors",
        dimensions={"FunctionName": function.name},
        statistic="Sum",
        actions=actions,
    )
    failed_events = _any_above_zero(
        f"{name}-failed-events",
        "Uploads whose processing failed after all retries wait in the queue.",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": failure_queue.name},
        statistic="Maximum",
        actions=actions,
    )
    return Alarms(function_errors=function_errors, failed_events=failed_events, topic=topic)


def _any_above_zero(
    name: str,
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
        name,
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
