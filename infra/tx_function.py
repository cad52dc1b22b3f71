"""The function and its wiring: log group, role, S3 trigger, the queue that keeps failures and
its recursion guard; its side effects' resources (the summary table, the lake, the sender) are
passed in."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import tx_policies
from tx_config import StackSettings
from tx_email import EmailSender
from tx_lake import TransactionsLake
from tx_table import SummaryTable
from txsummary import contract
from txsummary.contract import LAKE_PREFIX, Env

ASYNC_RETRIES = 2
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class SummarizerFunction:
    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    failure_queue: aws.sqs.Queue
    role: aws.iam.Role
    permission: aws.lambda_.Permission
    notification: aws.s3.BucketNotification
    recursion: aws.lambda_.FunctionRecursionConfig


def summarizer_function(
    name: str,
    settings: StackSettings,
    *,
    bucket: aws.s3.Bucket,
    image_uri: pulumi.Input[str],
    table: SummaryTable,
    lake: TransactionsLake | None = None,
    sender: EmailSender | None = None,
) -> SummarizerFunction:
    function_name = f"{name}-{pulumi.get_stack()}"

    # Created first, with a retention period, so Lambda never creates a never-expiring one.
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/lambda/{function_name}",
        retention_in_days=settings.log_retention_days,
    )
    failure_queue = aws.sqs.Queue(
        f"{name}-failures",
        message_retention_seconds=FAILURE_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
    )

    role = aws.iam.Role(f"{name}-role", assume_role_policy=tx_policies.lambda_assume_role())

    def policy(arns: list[str | None]) -> str:
        bucket_arn, log_group_arn, queue_arn, table_arn, lake_arn, sender_arn = arns
        assert bucket_arn and log_group_arn and queue_arn and table_arn
        extra = [
            *tx_policies.list_uploads_statements(bucket_arn, settings.key_prefix),
            tx_policies.summary_table_statement(table_arn),
        ]
        if sender_arn is not None:
            recipients = tx_policies.recipient_identity_arns(
                sender_arn, settings.email_to, settings.email_allowed_domains
            )
            extra.append(tx_policies.send_email_statement([sender_arn, *recipients]))
        if lake_arn is not None:
            extra.append(tx_policies.lake_write_statement(lake_arn, LAKE_PREFIX))
        return tx_policies.function_policy(bucket_arn, log_group_arn, queue_arn, *extra)

    role_policy = aws.iam.RolePolicy(
        f"{name}-least-privilege",
        role=role.id,
        policy=pulumi.Output.all(
            bucket.arn,
            log_group.arn,
            failure_queue.arn,
            table.table.arn,
            lake.bucket.arn if lake is not None else None,
            sender.identity.arn if sender is not None else None,
        ).apply(policy),
        opts=pulumi.ResourceOptions(parent=role),
    )

    variables: dict[str, pulumi.Input[str]] = {
        Env.LOG_LEVEL: settings.log_level,
        Env.MAX_OBJECT_BYTES: str(settings.max_object_bytes),
        Env.METRICS_NAMESPACE: settings.metrics_namespace,
        Env.SUMMARY_TABLE: table.table.name,
        # What the scheduled reconcile lists: the bucket and prefix the trigger watches.
        Env.UPLOAD_BUCKET: bucket.bucket,
    }
    if settings.key_prefix:
        variables[Env.KEY_PREFIX] = settings.key_prefix
    if lake is not None:
        variables[Env.LAKE_BUCKET] = lake.bucket.bucket
    if sender is not None and settings.email_from is not None:
        variables[Env.EMAIL_FROM] = settings.email_from
        if settings.email_to:
            variables[Env.EMAIL_TO] = ",".join(settings.email_to)
        if settings.email_allowed_domains:
            variables[Env.EMAIL_ALLOWED_DOMAINS] = ",".join(settings.email_allowed_domains)

    function = aws.lambda_.Function(
        name,
        name=function_name,
        package_type="Image",
        image_uri=image_uri,
        architectures=["x86_64"],
        role=role.arn,
        memory_size=settings.memory_size,
        timeout=settings.timeout,
        reserved_concurrent_executions=settings.reserved_concurrency,
        environment={"variables": variables},
        ephemeral_storage={"size": settings.ephemeral_storage_mb},
        logging_config={
            "log_format": "JSON",
            "log_group": log_group.name,
            "application_log_level": settings.lambda_log_level,
        },
        opts=pulumi.ResourceOptions(depends_on=[log_group, role_policy]),
    )
    # The function writes only to other buckets and the table, so a loop through it is a bug:
    # stop it, stated here rather than left to Lambda's default.
    recursion = aws.lambda_.FunctionRecursionConfig(
        f"{name}-no-recursion",
        function_name=function.name,
        recursive_loop="Terminate",
        opts=pulumi.ResourceOptions(parent=function),
    )

    aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-async",
        function_name=function.name,
        maximum_retry_attempts=ASYNC_RETRIES,
        maximum_event_age_in_seconds=settings.max_event_age_seconds,
        destination_config={"on_failure": {"destination": failure_queue.arn}},
        opts=pulumi.ResourceOptions(parent=function),
    )

    permission = aws.lambda_.Permission(
        f"{name}-allow-s3",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="s3.amazonaws.com",
        source_arn=bucket.arn,
        source_account=aws.get_caller_identity_output().account_id,
        opts=pulumi.ResourceOptions(parent=function),
    )
    notification = aws.s3.BucketNotification(
        f"{name}-on-upload",
        bucket=bucket.id,
        lambda_functions=[
            {
                "lambda_function_arn": function.arn,
                "events": ["s3:ObjectCreated:*"],
                "filter_prefix": settings.key_prefix,
                "filter_suffix": suffix,
            }
            # S3 filters are case-sensitive: one rule per suffix, as the contract writes it.
            for suffix in contract.UPLOAD_SUFFIXES
        ],
        # S3 tests the destination when the notification is saved: the permission must exist.
        opts=pulumi.ResourceOptions(depends_on=[permission]),
    )
    return SummarizerFunction(
        function=function,
        log_group=log_group,
        failure_queue=failure_queue,
        role=role,
        permission=permission,
        notification=notification,
        recursion=recursion,
    )
