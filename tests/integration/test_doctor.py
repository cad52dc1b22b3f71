"""``txsummary doctor`` against a stack on moto (S3, Lambda, SQS, CloudWatch), with botocore's
Stubber for SES v2, whose GetAccount moto does not implement."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.integration.conftest import REGION
from txsummary import cli
from txsummary.aws import checklist, clients
from txsummary.aws.checklist import FAIL, OK, WARN, Check
from txsummary.aws.doctor import Clients, Doctor, Targets

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

BUCKET = "txsummary-uploads-doc"
FUNCTION = "txsummary-fn"
SENDER = "txsummary@example.com"
RECIPIENT = "finance@example.org"
ALARMS = ("txsummary-errors", "txsummary-throttles")


@dataclass
class Stack:
    clients: Clients
    ses: Stubber
    queue_url: str
    function_arn: str

    def outputs(self, **extra: Any) -> dict[str, Any]:
        """What `pulumi stack output --json` prints, with keys the doctor does not know."""
        return {
            "bucket_name": BUCKET,
            "function_name": FUNCTION,
            "failure_queue_url": self.queue_url,
            "summary_table_name": "txsummary-summaries",
            "email_identity": SENDER,
            "log_group_name": f"/aws/lambda/{FUNCTION}",
            "alarm_names": list(ALARMS),
            "dashboard_url": "https://console.aws.amazon.com/cloudwatch/home#dashboards",
            "image_ref": "123.dkr.ecr/txsummary@sha256:abc",
            **extra,
        }

    def account(self, *, production: bool, sending: bool = True) -> None:
        self.ses.add_response(
            "get_account",
            {
                "ProductionAccessEnabled": production,
                "SendingEnabled": sending,
                "EnforcementStatus": "HEALTHY",
            },
        )

    def identity(self, name: str, *, verified: bool | None) -> None:
        """SES's answer for ``name``: verified, pending, or (None) no such identity."""
        if verified is None:
            self.ses.add_client_error("get_email_identity", "NotFoundException", "", 404)
            return
        self.ses.add_response(
            "get_email_identity",
            {
                "IdentityType": "EMAIL_ADDRESS" if "@" in name else "DOMAIN",
                "VerifiedForSendingStatus": verified,
                "VerificationStatus": "SUCCESS" if verified else "PENDING",
            },
            {"EmailIdentity": name},
        )

    def run(self, **targets: Any) -> list[Check]:
        chosen = Targets(**targets) if targets else Targets.from_outputs(self.outputs())
        found = Doctor(chosen, self.clients).run()
        self.ses.assert_no_pending_responses()
        return found


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def stack(aws: None) -> Iterator[Stack]:
    # Given the deployed stack: a function with e-mail settings, the bucket notifying it, the
    # failure queue, two alarms; and SES answered by a Stubber
    s3: S3Client = boto3.client("s3", region_name=REGION)
    lam: LambdaClient = boto3.client("lambda", region_name=REGION)
    sqs: SQSClient = boto3.client("sqs", region_name=REGION)
    cloudwatch: CloudWatchClient = boto3.client("cloudwatch", region_name=REGION)
    ses: SESV2Client = boto3.client("sesv2", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    arn = lam.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": function_zip()},
        Environment={"Variables": {"EMAIL_FROM": SENDER, "EMAIL_TO": RECIPIENT}},
    )["FunctionArn"]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
                }
            ]
        },
    )
    queue_url = sqs.create_queue(QueueName="txsummary-failures")["QueueUrl"]
    for name in ALARMS:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    with Stubber(ses) as stubber:
        yield Stack(Clients(s3, lam, sqs, ses, cloudwatch), stubber, queue_url, arn)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_a_ready_stack_passes_every_check(stack: Stack) -> None:
    # Given production access and a verified sender
    stack.account(production=True)
    stack.identity(SENDER, verified=True)
    # When checked from the stack outputs
    checks = stack.run()
    # Then every check is ok, and the sender and recipient came from the function's environment
    assert [(c.name, c.status) for c in checks] == [
        ("function", OK),
        ("bucket notification", OK),
        ("failure queue", OK),
        ("SES account", OK),
        (f"SES sender {SENDER}", OK),
        ("alarms", OK),
    ]
    assert "suffixes .csv" in by_name(checks)["bucket notification"].detail
    assert checklist.render(checks).endswith("0 FAIL, 0 warn, 6 ok: ready\n")


def test_what_blocks_processing_or_email_fails_with_its_fix(stack: Stack) -> None:
    # Given the sandbox with an unverified recipient and a pending sender, a bucket whose
    # notification was overwritten, events in the failure queue and an alarm firing
    c = stack.clients
    c.s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    for _ in range(2):
        c.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{}")
    c.cloudwatch.set_alarm_state(
        AlarmName=ALARMS[0], StateValue="ALARM", StateReason="Threshold Crossed: 3 errors"
    )
    stack.account(production=False)
    stack.identity(SENDER, verified=False)
    stack.identity(RECIPIENT, verified=None)
    stack.identity("example.org", verified=None)
    # When checked
    checks = by_name(stack.run())
    # Then each problem has its status and a fix that names what to do
    notification = checks["bucket notification"]
    assert notification.status == FAIL and "pulumi up" in notification.fix
    queue = checks["failure queue"]
    assert queue.status == WARN and "2 event(s)" in queue.detail
    assert f"txsummary redrive {stack.queue_url} --function {FUNCTION}" in queue.fix
    assert checks["SES account"].detail.startswith("sandbox")
    sender = checks[f"SES sender {SENDER}"]
    assert sender.status == FAIL and "PENDING" in sender.detail and "link" in sender.fix
    recipient = checks[f"SES recipient {RECIPIENT}"]
    assert recipient.status == FAIL and "create-email-identity" in recipient.fix
    assert "production access" in recipient.fix
    alarm = checks[f"alarm {ALARMS[0]}"]
    assert alarm.status == FAIL and "3 errors" in alarm.detail
    assert "alarms" not in checks  # an alarm fired: no "none in ALARM" line
    # And the checklist says it is blocked
    assert (
        checklist.render(list(checks.values())).rstrip().endswith("processing or e-mail is blocked")
    )


def test_a_notification_for_other_events_does_not_count(stack: Stack) -> None:
    # Given the bucket notifying the function of deletions only
    stack.clients.s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": stack.function_arn, "Events": ["s3:ObjectRemoved:*"]}
            ]
        },
    )
    # When checked (e-mail off) / Then uploads do not invoke it
    checks = by_name(stack.run(bucket=BUCKET, function=FUNCTION))
    assert checks["bucket notification"].status == FAIL


def test_a_recipient_verified_through_its_domain_passes_in_the_sandbox(stack: Stack) -> None:
    # Given the sandbox, the sender verified, and the recipient's domain verified
    stack.account(production=False)
    stack.identity(SENDER, verified=True)
    stack.identity(RECIPIENT, verified=None)
    stack.identity("example.org", verified=True)
    # When checked / Then the recipient passes through its domain
    recipient = by_name(stack.run())[f"SES recipient {RECIPIENT}"]
    assert (recipient.status, recipient.detail) == (OK, "verified (through example.org)")


def test_disabled_sending_fails(stack: Stack) -> None:
    stack.account(production=True, sending=False)
    stack.identity(SENDER, verified=True)
    account = by_name(stack.run())["SES account"]
    assert account.status == FAIL and "disabled" in account.detail


def test_a_missing_function_and_bucket_fail(stack: Stack) -> None:
    # Given names that do not exist (e-mail off: no sender anywhere)
    checks = by_name(
        stack.run(bucket="no-such-bucket", function="no-such-fn", queue_url=stack.queue_url)
    )
    # Then both fail, and e-mail is reported off
    assert checks["function"].status == FAIL and "does not exist" in checks["function"].detail
    assert checks["bucket notification"].status == FAIL
    assert checks["SES"].detail.startswith("e-mail is off")
    assert checks["alarms"].status == WARN


def test_a_failed_function_update_fails_with_its_reason(aws: None) -> None:
    # Given Lambda reporting a failed update (moto's functions always succeed: a Stubber)
    response = {
        "Configuration": {
            "FunctionName": FUNCTION,
            "State": "Active",
            "LastUpdateStatus": "Failed",
            "LastUpdateStatusReason": "The image manifest could not be read",
        }
    }
    # When checked / Then it fails, with Lambda's reason in the fix
    check = function_check(aws, response)
    assert check.status == FAIL
    assert "Failed" in check.detail and "image manifest" in check.fix


def function_check(aws: None, response: dict[str, Any]) -> Check:
    """The function check against Lambda's GetFunction ``response`` (a Stubber's)."""
    lam: LambdaClient = boto3.client("lambda", region_name=REGION)
    with Stubber(lam) as stubber:
        stubber.add_response("get_function", response, {"FunctionName": FUNCTION})
        unused: Any = None
        found = Doctor(Targets(function=FUNCTION), Clients(unused, lam, unused, unused, unused))
        found._function()
    (check,) = found.checks
    return check


def test_a_reserved_concurrency_of_zero_fails(aws: None) -> None:
    # Given the function's reserved concurrency set to 0, so every invocation is throttled
    # (a Stubber: moto drops a reserved concurrency of 0 from GetFunction)
    response = {
        "Configuration": {"State": "Active", "LastUpdateStatus": "Successful"},
        "Concurrency": {"ReservedConcurrentExecutions": 0},
    }
    # When checked / Then the function check fails and says how to lift it
    check = function_check(aws, response)
    assert check.status == FAIL and "throttled" in check.detail
    assert "reservedConcurrency" in check.fix


def test_the_outputs_are_read_tolerantly() -> None:
    # Given outputs with unknown keys, alarm names as text, and a prefix
    targets = Targets.from_outputs(
        {"bucket_name": "b", "alarm_names": "a, b", "alarm_name_prefix": "tx-", "new_thing": [1]}
    )
    assert targets == Targets(bucket="b", alarm_names=("a", "b"), alarm_prefix="tx-")
    assert Targets.from_outputs({"alarm_names": {"errors": "e"}}).alarm_names == ("e",)


def test_the_cli_reads_outputs_from_a_file_and_flags_win(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the stack outputs in a file, and SES (stubbed) in production with the sender verified
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(stack.outputs()), encoding="utf-8")
    monkeypatch.setattr(clients, "sesv2", lambda region=None: stack.clients.sesv2)
    stack.account(production=True)
    stack.identity("other@example.com", verified=True)
    # When `txsummary doctor` runs, with a flag that overrides the environment's sender
    code = cli.main(
        ["doctor", "--stack-outputs", str(outputs), "--email-from", "other@example.com"]
    )
    # Then it prints the checklist and exits 0
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok    SES sender other@example.com: verified" in out
    assert out.rstrip().endswith("ready")


def test_the_cli_exits_1_when_blocked_and_2_without_names(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given only a bucket whose notification does not reach the function, read from stdin
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"bucket_name": BUCKET})))
    code = cli.main(["doctor", "--stack-outputs", "-", "--function", "someone-else"])
    assert code == 1
    assert "FAIL  bucket notification" in capsys.readouterr().out
    # And with nothing to check, it is a usage error
    assert cli.main(["doctor"]) == 2
    assert "nothing to check" in capsys.readouterr().err
