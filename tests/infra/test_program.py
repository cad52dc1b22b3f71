"""The whole Pulumi program under mocks: every resource property the deploy relies on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.infra.pulumi_harness import (
    ACCOUNT,
    DIGEST,
    ECR_PASSWORD,
    ECR_USER,
    PROJECT_ROOT,
    Program,
    Registered,
)

REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
IMAGE = "docker-build:index:Image"
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
QUEUE = "aws:sqs/queue:Queue"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
PERMISSION = "aws:lambda/permission:Permission"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

# Exactly what the stack may contain. A managed policy attachment, a second inline policy or
# anything else unreviewed makes this fail.
ALLOWED_TYPES = {
    REPOSITORY, ECR_LIFECYCLE, IMAGE, BUCKET, PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING,
    LIFECYCLE, BUCKET_POLICY, LOG_GROUP, QUEUE, ROLE, ROLE_POLICY, FUNCTION, INVOKE_CONFIG,
    PERMISSION, NOTIFICATION, ALARM, TOPIC, SUBSCRIPTION,
}  # fmt: skip

BOTH = pytest.mark.parametrize("program_name", ["default_program", "tuned_program"])


@pytest.fixture
def program(request: pytest.FixtureRequest, program_name: str) -> Program:
    fixture: Program = request.getfixturevalue(program_name)
    return fixture


def bucket_of(program: Program) -> Registered:
    return program.one(BUCKET)


# --- shape ---------------------------------------------------------------------------------


def test_default_stack_has_exactly_the_reviewed_resources(default_program: Program) -> None:
    assert default_program.types == ALLOWED_TYPES - {TOPIC, SUBSCRIPTION}
    assert len(default_program.of_type(ALARM)) == 2


def test_alarm_email_adds_topic_and_subscription(tuned_program: Program) -> None:
    assert tuned_program.types == ALLOWED_TYPES


# --- image ---------------------------------------------------------------------------------


def test_repository_scans_on_push(default_program: Program) -> None:
    repo = default_program.one(REPOSITORY)
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}


@pytest.mark.parametrize(("program_name", "keep"), [("default_program", 10), ("tuned_program", 3)])
def test_ecr_keeps_the_last_n_images(program: Program, keep: int) -> None:
    lifecycle = program.one(ECR_LIFECYCLE)
    assert lifecycle.inputs["repository"] == program.one(REPOSITORY).outputs["name"]
    (rule,) = json.loads(lifecycle.inputs["policy"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] == keep
    assert rule["selection"]["tagStatus"] == "any"


def test_image_is_built_from_root_dockerfile_for_amd64_and_pushed(default_program: Program) -> None:
    image = default_program.one(IMAGE)
    repo_url = default_program.one(REPOSITORY).outputs["repositoryUrl"]
    assert image.inputs["platforms"] == ["linux/amd64"]
    assert image.inputs["push"] is True
    assert Path(image.inputs["context"]["location"]).resolve() == PROJECT_ROOT
    assert Path(image.inputs["dockerfile"]["location"]).resolve() == PROJECT_ROOT / "Dockerfile"
    assert image.inputs["registries"] == [
        {"address": repo_url, "username": ECR_USER, "password": ECR_PASSWORD}
    ]
    assert image.inputs["tags"] == [f"{repo_url}:latest"]
    assert "aws:ecr/getAuthorizationToken:getAuthorizationToken" in default_program.calls


def test_function_pins_the_image_by_digest_only(default_program: Program) -> None:
    repo_url = default_program.one(REPOSITORY).outputs["repositoryUrl"]
    uri = default_program.one(FUNCTION).inputs["imageUri"]
    assert uri == f"{repo_url}@{DIGEST}"
    # Lambda rejects repo:tag@digest, which is what the Image's `ref` output looks like.
    assert re.fullmatch(
        r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[^:@]+@sha256:[0-9a-f]{64}", uri
    )
    assert uri != default_program.one(IMAGE).outputs["ref"]


# --- bucket --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typ", [PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING, LIFECYCLE, BUCKET_POLICY, NOTIFICATION]
)
def test_bucket_settings_apply_to_the_upload_bucket(default_program: Program, typ: str) -> None:
    assert default_program.one(typ).inputs["bucket"] == bucket_of(default_program).outputs["bucket"]


def test_bucket_blocks_all_public_access(default_program: Program) -> None:
    block = default_program.one(PUBLIC_ACCESS_BLOCK)
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[flag] is True, flag


def test_bucket_is_encrypted_and_versioned(default_program: Program) -> None:
    (rule,) = default_program.one(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert default_program.one(VERSIONING).inputs["versioningConfiguration"] == {
        "status": "Enabled"
    }


@pytest.mark.parametrize(("program_name", "days"), [("default_program", 30), ("tuned_program", 7)])
def test_noncurrent_versions_expire_and_incomplete_uploads_abort(
    program: Program, days: int
) -> None:
    lifecycle = program.one(LIFECYCLE)
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}  # the whole bucket
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
    # Rules on noncurrent versions are applied once versioning is on.
    assert lifecycle.depends_on(program.one(VERSIONING))


def test_bucket_policy_denies_requests_without_tls(default_program: Program) -> None:
    policy = default_program.one(BUCKET_POLICY)
    arn = bucket_of(default_program).outputs["arn"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Resource"] == [arn, f"{arn}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert policy.depends_on(default_program.one(PUBLIC_ACCESS_BLOCK))


@pytest.mark.parametrize(
    ("program_name", "force"), [("default_program", False), ("tuned_program", True)]
)
def test_force_destroy_is_off_unless_asked_for(program: Program, force: bool) -> None:
    assert bucket_of(program).inputs.get("forceDestroy", False) is force


# --- log group, role -----------------------------------------------------------------------


@pytest.mark.parametrize(("program_name", "days"), [("default_program", 30), ("tuned_program", 90)])
def test_log_group_is_the_functions_with_retention(program: Program, days: int) -> None:
    log_group = program.one(LOG_GROUP)
    function = program.one(FUNCTION)
    assert log_group.inputs["name"] == f"/aws/lambda/{function.inputs['name']}"
    assert log_group.inputs["retentionInDays"] == days


def test_role_has_one_inline_least_privilege_policy(default_program: Program) -> None:
    role = default_program.one(ROLE)
    assert "managedPolicyArns" not in role.inputs
    assert "inlinePolicies" not in role.inputs
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]

    role_policy = default_program.one(ROLE_POLICY)
    assert role_policy.inputs["role"] == role.outputs["name"]
    document = json.loads(role_policy.inputs["policy"])
    grants = sorted(
        (sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"]), s["Resource"])
        for s in document["Statement"]
    )
    bucket_arn = bucket_of(default_program).outputs["arn"]
    log_group_arn = default_program.one(LOG_GROUP).outputs["arn"]
    queue_arn = default_program.one(QUEUE).outputs["arn"]
    assert grants == sorted(
        [
            (["s3:GetObject", "s3:GetObjectVersion"], f"{bucket_arn}/*"),
            (["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group_arn}:*"),
            (["sqs:SendMessage"], queue_arn),
        ]
    )
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    assert "*" not in role_policy.inputs["policy"].replace(":*", "").replace("/*", "")


# --- function ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program_name", "memory", "timeout", "env", "app_level"),
    [
        (
            "default_program",
            2048,
            300,
            {
                "LOG_LEVEL": "INFO",
                "MAX_OBJECT_BYTES": "2147483648",
                "METRICS_NAMESPACE": "txsummary",
            },
            "INFO",
        ),
        (
            "tuned_program",
            4096,
            120,
            {
                "LOG_LEVEL": "WARNING",
                "MAX_OBJECT_BYTES": "1048576",
                "METRICS_NAMESPACE": "acme/txsummary",
            },
            "WARN",
        ),
    ],
)
def test_function_settings(
    program: Program, memory: int, timeout: int, env: dict[str, str], app_level: str
) -> None:
    function = program.one(FUNCTION)
    assert function.inputs["packageType"] == "Image"
    assert function.inputs["architectures"] == ["x86_64"]
    assert function.inputs["memorySize"] == memory
    assert function.inputs["timeout"] == timeout
    assert function.inputs["environment"] == {"variables": env}
    assert function.inputs["role"] == program.one(ROLE).outputs["arn"]
    assert function.inputs["loggingConfig"] == {
        "logFormat": "JSON",
        "logGroup": program.one(LOG_GROUP).inputs["name"],
        "applicationLogLevel": app_level,
    }


@pytest.mark.parametrize(
    ("program_name", "reserved"), [("default_program", None), ("tuned_program", 5)]
)
def test_reserved_concurrency_is_optional(program: Program, reserved: int | None) -> None:
    assert program.one(FUNCTION).inputs.get("reservedConcurrentExecutions") == reserved


def test_function_is_created_after_its_log_group_and_permissions(default_program: Program) -> None:
    function = default_program.one(FUNCTION)
    assert function.depends_on(default_program.one(LOG_GROUP))
    assert function.depends_on(default_program.one(ROLE_POLICY))


# --- trigger -------------------------------------------------------------------------------


def test_only_this_bucket_in_this_account_may_invoke(default_program: Program) -> None:
    permission = default_program.one(PERMISSION)
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["principal"] == "s3.amazonaws.com"
    assert permission.inputs["function"] == default_program.one(FUNCTION).inputs["name"]
    assert permission.inputs["sourceArn"] == bucket_of(default_program).outputs["arn"]
    assert permission.inputs["sourceAccount"] == ACCOUNT


@pytest.mark.parametrize(
    ("program_name", "prefix"), [("default_program", None), ("tuned_program", "incoming/")]
)
def test_csv_uploads_trigger_the_function(program: Program, prefix: str | None) -> None:
    notification = program.one(NOTIFICATION)
    function_arn = program.one(FUNCTION).outputs["arn"]
    targets = notification.inputs["lambdaFunctions"]
    assert sorted(t["filterSuffix"] for t in targets) == [".csv", ".csv.gz"]
    for target in targets:
        assert target["lambdaFunctionArn"] == function_arn
        assert target["events"] == ["s3:ObjectCreated:*"]
        assert target.get("filterPrefix") == prefix


def test_notification_waits_for_the_invoke_permission(default_program: Program) -> None:
    notification = default_program.one(NOTIFICATION)
    assert notification.depends_on(default_program.one(PERMISSION))


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program_name", "age"), [("default_program", 3600), ("tuned_program", 600)]
)
def test_failed_events_are_retried_twice_then_kept(program: Program, age: int) -> None:
    config = program.one(INVOKE_CONFIG)
    queue = program.one(QUEUE)
    assert config.inputs["functionName"] == program.one(FUNCTION).inputs["name"]
    assert config.inputs["maximumRetryAttempts"] == 2
    assert config.inputs["maximumEventAgeInSeconds"] == age
    assert config.inputs["destinationConfig"] == {
        "onFailure": {"destination": queue.outputs["arn"]}
    }


def test_failure_queue_is_encrypted_and_keeps_messages_14_days(default_program: Program) -> None:
    queue = default_program.one(QUEUE)
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert queue.inputs["messageRetentionSeconds"] == 14 * 24 * 3600


def alarm_on(program: Program, metric: str) -> Registered:
    (alarm,) = [a for a in program.of_type(ALARM) if a.inputs["metricName"] == metric]
    return alarm


def test_alarms_watch_function_errors_and_parked_events(default_program: Program) -> None:
    errors = alarm_on(default_program, "Errors")
    assert errors.inputs["namespace"] == "AWS/Lambda"
    assert errors.inputs["dimensions"] == {
        "FunctionName": default_program.one(FUNCTION).inputs["name"]
    }
    parked = alarm_on(default_program, "ApproximateNumberOfMessagesVisible")
    assert parked.inputs["namespace"] == "AWS/SQS"
    assert parked.inputs["dimensions"] == {"QueueName": default_program.one(QUEUE).outputs["name"]}
    for alarm in (errors, parked):
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm.inputs["threshold"] == 0
        assert alarm.inputs.get("alarmActions", []) == []  # nobody to tell without alarmEmail


def test_alarm_email_is_subscribed_and_notified(tuned_program: Program) -> None:
    topic_arn = tuned_program.one(TOPIC).outputs["arn"]
    subscription = tuned_program.one(SUBSCRIPTION)
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "ops@example.com"
    assert subscription.inputs["topic"] == topic_arn
    for alarm in tuned_program.of_type(ALARM):
        assert alarm.inputs["alarmActions"] == [topic_arn]


# --- exports -------------------------------------------------------------------------------


def test_exports(default_program: Program) -> None:
    bucket = bucket_of(default_program).outputs["bucket"]
    log_group = default_program.one(LOG_GROUP).inputs["name"]
    assert default_program.exports == {
        "bucket_name": bucket,
        "function_name": "txsummary-dev",
        "log_group_name": "/aws/lambda/txsummary-dev",
        "failure_queue_url": default_program.one(QUEUE).outputs["url"],
        "image_ref": default_program.one(FUNCTION).inputs["imageUri"],
        "upload_command": f"aws s3 cp transactions.csv s3://{bucket}/",
        "logs_command": f"aws logs tail {log_group} --follow",
    }
