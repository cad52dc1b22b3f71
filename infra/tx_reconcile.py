"""The reconcile's schedule: EventBridge Scheduler sends the function the reconcile event, so
every upload version gets its verdict even when its S3 event was lost or dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import tx_policies
from tx_config import StackSettings
from txsummary import contract

# A missed run is caught up by the next one, so a failed delivery is retried briefly only.
RETRY_ATTEMPTS = 2
RETRY_MAX_AGE_SECONDS = 3600


@dataclass(frozen=True)
class ReconcileSchedule:
    schedule: aws.scheduler.Schedule
    role: aws.iam.Role
    policy: aws.iam.RolePolicy


def reconcile_schedule(
    name: str, settings: StackSettings, *, function: aws.lambda_.Function
) -> ReconcileSchedule:
    account_id = aws.get_caller_identity_output().account_id
    role = aws.iam.Role(
        f"{name}-scheduler-role",
        assume_role_policy=account_id.apply(tx_policies.scheduler_assume_role),
    )
    policy = aws.iam.RolePolicy(
        f"{name}-scheduler-invoke",
        role=role.id,
        policy=function.arn.apply(tx_policies.invoke_function_policy),
        opts=pulumi.ResourceOptions(parent=role),
    )
    schedule = aws.scheduler.Schedule(
        f"{name}-reconcile",
        description="Gives every upload version without a record its verdict (txsummary).",
        schedule_expression=settings.reconcile_schedule,
        flexible_time_window={"mode": "OFF"},
        target={
            "arn": function.arn,
            "role_arn": role.arn,
            "input": json.dumps(contract.RECONCILE_EVENT),
            "retry_policy": {
                "maximum_retry_attempts": RETRY_ATTEMPTS,
                "maximum_event_age_in_seconds": RETRY_MAX_AGE_SECONDS,
            },
        },
        # The role must be able to invoke before the first run.
        opts=pulumi.ResourceOptions(depends_on=[policy]),
    )
    return ReconcileSchedule(schedule=schedule, role=role, policy=policy)
