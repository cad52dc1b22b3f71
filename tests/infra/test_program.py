"""The whole Pulumi program under mocks: every resource property the deploy relies on."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.pulumi_harness import (
    ACCOUNT,
    DIGEST,
    ECR_PASSWORD,
    ECR_USER,
    PROJECT_ROOT,
    REGION,
    Program,
    Registered,
)
from tests.infra.resource_types import (
    ALARM,
    BUCKET,
    BUCKET_POLICY,
    DASHBOARD,
    DATABASE,
    ECR_LIFECYCLE,
    ENCRYPTION,
    FUNCTION,
    GLUE_TABLE,
    IDENTITY,
    IMAGE,
    INVOKE_CONFIG,
    LIFECYCLE,
    LOG_GROUP,
    NOTIFICATION,
    PERMISSION,
    PUBLIC_ACCESS_BLOCK,
    QUERY,
    QUEUE,
    RECURSION,
    REPOSITORY,
    ROLE,
    ROLE_POLICY,
    SCHEDULE,
    SUBSCRIPTION,
    TABLE,
    TOPIC,
    VERSIONING,
)

# Exactly what the stack may contain. A managed policy attachment, a second inline policy or
# anything else unreviewed makes this fail.
ALLOWED_TYPES = {
    REPOSITORY, ECR_LIFECYCLE, IMAGE, BUCKET, PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING,
    LIFECYCLE, BUCKET_POLICY, LOG_GROUP, QUEUE, ROLE, ROLE_POLICY, FUNCTION, INVOKE_CONFIG,
    PERMISSION, NOTIFICATION, ALARM, TOPIC, SUBSCRIPTION, TABLE, IDENTITY, DATABASE, GLUE_TABLE,
    RECURSION, SCHEDULE, DASHBOARD, QUERY,
}  # fmt: skip
EMAIL_TYPES = {IDENTITY}
LAKE_TYPES = {DATABASE, GLUE_TABLE}

BOTH = pytest.mark.parametrize("program_name", ["default_program", "tuned_program"])


@pytest.fixture
def program(request: pytest.FixtureRequest, program_name: str) -> Program:
    fixture: Program = request.getfixturevalue(program_name)
    return fixture


def upload(program: Program, typ: str) -> Registered:
    """The upload bucket's resource of a type the lake bucket has too (logical name "uploads")."""
    found = program.of_type(typ)
    if len(found) > 1:
        found = [r for r in found if r.name.split("-")[0] == "uploads"]
    (one,) = found
    return one


def function_role(program: Program) -> Registered:
    """The function's role (the schedule has its own)."""
    (role,) = [r for r in program.of_type(ROLE) if r.name == "txsummary-role"]
    return role


def function_role_policy(program: Program) -> Registered:
    (policy,) = [r for r in program.of_type(ROLE_POLICY) if r.name == "txsummary-least-privilege"]
    return policy


def bucket_of(program: Program) -> Registered:
    return upload(program, BUCKET)


def lake_bucket_of(program: Program) -> Registered:
    (found,) = [r for r in program.of_type(BUCKET) if r.name == "transactions-lake"]
    return found


# --- shape ---------------------------------------------------------------------------------


def test_default_stack_has_exactly_the_reviewed_resources(default_program: Program) -> None:
    # no alarm e-mail, no summary e-mail; the lake is on
    assert default_program.types == ALLOWED_TYPES - {TOPIC, SUBSCRIPTION} - EMAIL_TYPES
    assert len(default_program.of_type(ALARM)) == 6
    assert len(default_program.of_type(ROLE)) == len(default_program.of_type(ROLE_POLICY)) == 2
    assert len(default_program.of_type(BUCKET)) == 2


def test_alarm_email_adds_topic_and_subscription(tuned_program: Program) -> None:
    # the tuned stack turns the summary e-mail on and the lake off
    assert tuned_program.types == ALLOWED_TYPES - LAKE_TYPES
    assert [b.name for b in tuned_program.of_type(BUCKET)] == ["uploads"]


def test_the_full_stack_has_every_reviewed_type(full_program: Program) -> None:
    assert full_program.types == ALLOWED_TYPES


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
    assert (
        upload(default_program, typ).inputs["bucket"]
        == bucket_of(default_program).outputs["bucket"]
    )


def test_bucket_blocks_all_public_access(default_program: Program) -> None:
    block = upload(default_program, PUBLIC_ACCESS_BLOCK)
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[flag] is True, flag


def test_bucket_is_encrypted_and_versioned(default_program: Program) -> None:
    (rule,) = upload(default_program, ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert upload(default_program, VERSIONING).inputs["versioningConfiguration"] == {
        "status": "Enabled"
    }


@pytest.mark.parametrize(("program_name", "days"), [("default_program", 30), ("tuned_program", 7)])
def test_noncurrent_versions_expire_and_incomplete_uploads_abort(
    program: Program, days: int
) -> None:
    lifecycle = upload(program, LIFECYCLE)
    (rule,) = lifecycle.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}  # the whole bucket
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
    # Rules on noncurrent versions are applied once versioning is on.
    assert lifecycle.depends_on(upload(program, VERSIONING))


def test_bucket_policy_denies_requests_without_tls(default_program: Program) -> None:
    policy = upload(default_program, BUCKET_POLICY)
    arn = bucket_of(default_program).outputs["arn"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Resource"] == [arn, f"{arn}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert policy.depends_on(upload(default_program, PUBLIC_ACCESS_BLOCK))


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


ALL = pytest.mark.parametrize("program_name", ["default_program", "tuned_program", "full_program"])


@ALL
def test_role_has_one_inline_least_privilege_policy(program: Program) -> None:
    role = function_role(program)
    assert "managedPolicyArns" not in role.inputs
    assert "inlinePolicies" not in role.inputs
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]

    role_policy = function_role_policy(program)
    assert role_policy.inputs["role"] == role.outputs["name"]
    document = json.loads(role_policy.inputs["policy"])
    grants = [
        (
            sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"]),
            s["Resource"],
            s.get("Condition"),
        )
        for s in document["Statement"]
    ]
    bucket_arn = bucket_of(program).outputs["arn"]
    log_group_arn = program.one(LOG_GROUP).outputs["arn"]
    queue_arn = program.one(QUEUE).outputs["arn"]
    table_arn = program.one(TABLE).outputs["arn"]
    # the reconcile lists versions under the trigger's prefix only
    prefix = program.one(FUNCTION).inputs["environment"]["variables"].get("KEY_PREFIX")
    in_prefix = {"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else None
    expected: list[tuple[list[str], Any, Any]] = [
        (["s3:GetObject", "s3:GetObjectVersion"], f"{bucket_arn}/*", None),
        # so that S3 answers 404, not 403, for a version deleted before it is read
        (["s3:ListBucket"], bucket_arn, None),
        (["s3:ListBucketVersions"], bucket_arn, in_prefix),
        (["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group_arn}:*", None),
        (["sqs:SendMessage"], queue_arn, None),
        (
            [
                "dynamodb:BatchGetItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ],
            table_arn,
            None,
        ),
    ]
    if program.of_type(IDENTITY):
        # the sender, and (for the SES sandbox) exactly the recipients' identities
        sender = program.one(IDENTITY).outputs["arn"]
        prefix = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity"
        assert sender == f"{prefix}/reports@example.com"
        recipients = ("holder@example.com", "second@example.com", "bank.example", "*@bank.example")
        identities = [sender] + [f"{prefix}/{r}" for r in recipients]
        expected.append((["ses:SendEmail"], identities, None))
    if program.of_type(DATABASE):
        lake_arn = lake_bucket_of(program).outputs["arn"]
        expected.append(
            (
                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                f"{lake_arn}/transactions/*",
                None,
            )
        )
    assert sorted(grants, key=json.dumps) == sorted(expected, key=json.dumps)
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    wildcards = role_policy.inputs["policy"].replace(":*", "").replace("/*", "")
    # the only other wildcards: the allowed domain's addresses and the prefix condition
    assert "*" not in wildcards.replace("*@bank.example", "").replace("incoming/*", "")


# --- function ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program_name", "memory", "timeout", "env", "app_level"),
    [
        (
            "default_program",
            1769,
            300,
            {
                "LOG_LEVEL": "INFO",
                "MAX_OBJECT_BYTES": "4294967296",
                "METRICS_NAMESPACE": "txsummary",
                "SUMMARY_TABLE": "summaries-8a9b0c1",
                "UPLOAD_BUCKET": "uploads-0a1b2c3",
                "LAKE_BUCKET": "transactions-lake-0a1b2c3",
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
                "SUMMARY_TABLE": "summaries-8a9b0c1",
                "UPLOAD_BUCKET": "uploads-0a1b2c3",
                "KEY_PREFIX": "incoming/",
                "EMAIL_FROM": "reports@example.com",
                "EMAIL_TO": "holder@example.com,second@example.com",
                "EMAIL_ALLOWED_DOMAINS": "bank.example",
            },
            # Powertools follows WARNING; Lambda's filter stays at INFO, or it drops the metrics
            "INFO",
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
    # Lambda's default /tmp: the lake streams to S3, nothing is staged
    assert function.inputs["ephemeralStorage"] == {"size": 512}
    assert function.inputs["role"] == function_role(program).outputs["arn"]
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
    assert function.depends_on(function_role_policy(default_program))


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
    console = f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
    assert default_program.exports == {
        "bucket_name": bucket,
        "function_name": "txsummary-dev",
        "log_group_name": "/aws/lambda/txsummary-dev",
        "failure_queue_url": default_program.one(QUEUE).outputs["url"],
        "image_ref": default_program.one(FUNCTION).inputs["imageUri"],
        "upload_command": f"aws s3 cp transactions.csv s3://{bucket}/",
        "logs_command": f"aws logs tail {log_group} --follow",
        "summary_table_name": "summaries-8a9b0c1",
        "lake_bucket_name": lake_bucket_of(default_program).outputs["bucket"],
        "glue_database": "transactions_lake_dev",
        "glue_table": "transactions",
        "dashboard_url": f"{console}#dashboards/dashboard/txsummary-dev",
        "logs_insights_url": f"{console}#logsV2:logs-insights",
        "saved_queries": [
            "txsummary-dev/latest-summaries",
            "txsummary-dev/rejections",
            "txsummary-dev/key-history",
            "txsummary-dev/slowest-files",
        ],
        "alarm_names": [
            "txsummary-dev-function-errors",
            "txsummary-dev-failed-events",
            "txsummary-dev-throttles",
            "txsummary-dev-dropped-events",
            "txsummary-dev-undelivered-failures",
            "txsummary-dev-emails-failed",
        ],
        "reconcile_schedule_name": default_program.one(SCHEDULE).outputs["name"],
    }


def test_exports_with_email_and_no_lake(tuned_program: Program) -> None:
    exports = tuned_program.exports
    assert exports["email_identity"] == "reports@example.com"
    assert exports["summary_table_name"] == "summaries-8a9b0c1"
    assert not {"lake_bucket_name", "glue_database", "glue_table"} & set(exports)


# --- side effects --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program_name", "protected"), [("default_program", True), ("tuned_program", False)]
)
def test_summary_table_settings(program: Program, protected: bool) -> None:
    table = program.one(TABLE).inputs
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert (table["hashKey"], table["rangeKey"]) == ("pk", "sk")
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True}
    # deletion protection on unless forceDestroy
    assert table["deletionProtectionEnabled"] is protected


def test_the_sender_identity_is_email_from(full_program: Program) -> None:
    assert full_program.one(IDENTITY).inputs["emailIdentity"] == "reports@example.com"


def test_the_lake_bucket_is_hardened_like_the_uploads(default_program: Program) -> None:
    lake = lake_bucket_of(default_program)
    name = lake.outputs["bucket"]

    def of_lake(typ: str) -> Registered:
        (found,) = [r for r in default_program.of_type(typ) if r.inputs.get("bucket") == name]
        return found

    block = of_lake(PUBLIC_ACCESS_BLOCK).inputs
    assert all(block[f] is True for f in ("blockPublicAcls", "blockPublicPolicy",
                                          "ignorePublicAcls", "restrictPublicBuckets"))  # fmt: skip
    (rule,) = of_lake(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (statement,) = json.loads(of_lake(BUCKET_POLICY).inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Resource"] == [lake.outputs["arn"], f"{lake.outputs['arn']}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert lake.inputs.get("forceDestroy", False) is False


def test_the_glue_table_projects_upload_date_over_the_lake(default_program: Program) -> None:
    lake_name = lake_bucket_of(default_program).outputs["bucket"]
    table = default_program.one(GLUE_TABLE).inputs
    assert table["databaseName"] == default_program.one(DATABASE).inputs["name"]
    assert table["storageDescriptor"]["location"] == f"s3://{lake_name}/transactions/"
    assert table["partitionKeys"] == [{"name": "upload_date", "type": "string"}]
    parameters = table["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.upload_date.type"] == "date"
    assert parameters["storage.location.template"] == (
        f"s3://{lake_name}/transactions/upload_date=${{upload_date}}/"
    )
