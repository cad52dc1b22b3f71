"""SES refusals no retry fixes, through the handler on moto, and ``txsummary resend``."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from moto.ses.models import ses_backends

from tests.challenge import CHALLENGE_CSV
from tests.integration.conftest import BUCKET, REGION, FakeContext, Records, emf_lines
from tests.integration.effects_support import LAKE_BUCKET, SENDER, create_table, verify_sender
from txsummary import cli
from txsummary import handler as lambda_handler
from txsummary.aws.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

MOTO_ACCOUNT = "123456789012"
RECIPIENT = "holder@example.com"
Put = Callable[[str, bytes], dict[str, Any]]
MakeEvent = Callable[..., dict[str, Any]]


def emails() -> list[Any]:
    return list(ses_backends[MOTO_ACCOUNT][REGION].sent_messages)


def invoke(event: dict[str, Any]) -> dict[str, str]:
    return lambda_handler.handler(event, cast("LambdaContext", FakeContext()))


def counted(stdout: str, name: str) -> int:
    return sum(int(sum(r.get(name, [0]))) for r in emf_lines(stdout))


@pytest.fixture
def table(aws: None, bucket: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # Given the stack's side effects, with the sender NOT yet a verified SES identity
    dynamodb: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=LAKE_BUCKET)
    ses_backends[MOTO_ACCOUNT][REGION].sent_messages.clear()
    name = create_table(dynamodb)
    env = {"SUMMARY_TABLE": name, "EMAIL_FROM": SENDER, "EMAIL_TO": RECIPIENT}
    monkeypatch.setattr(
        lambda_handler, "SETTINGS", Settings.from_env(env | {"LAKE_BUCKET": LAKE_BUCKET})
    )
    lambda_handler._deps.cache_clear()
    yield name
    lambda_handler._deps.cache_clear()


def item(table: str) -> dict[str, Any]:
    (found,) = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    return found


def test_a_refused_email_is_recorded_failed_counted_and_not_retried(
    table: str,
    put: Put,
    make_event: MakeEvent,
    records: Records,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When a file arrives while SES refuses the sender (MessageRejected)
    event = make_event(("t.csv", put("t.csv", CHALLENGE_CSV)))
    result = invoke(event)
    # Then the invocation succeeds (no retry can fix it): the file is summarized, the record
    # says the e-mail failed and why, and the log record and the metrics say so once
    assert result == {"t.csv": "summarized"}
    stored = item(table)
    assert stored["email_status"] == {"S": "failed"}
    assert stored["email_error"]["S"].startswith("MessageRejected: ")
    (summarized,) = [r for r in records if r.get("outcome") == "summarized"]
    assert summarized["email"] == "failed"
    assert summarized["email_error"] == stored["email_error"]["S"]
    out = capsys.readouterr().out
    assert counted(out, "EmailsFailed") == 1
    assert counted(out, "EmailsSent") == 0
    assert counted(out, "FilesSummarized") == 1
    assert emails() == []
    # And a redelivery does not try again
    assert invoke(event) == {"t.csv": "duplicate"}
    assert item(table)["email_status"] == {"S": "failed"}


def test_resend_sends_a_failed_email_once_after_the_fix(
    table: str, put: Put, make_event: MakeEvent, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file whose e-mail SES refused
    info = put("t.csv", CHALLENGE_CSV)
    invoke(make_event(("t.csv", info)))
    assert item(table)["email_status"] == {"S": "failed"}
    url = f"s3://{BUCKET}/t.csv"
    # When the operator resends before fixing anything, Then it fails again, saying why
    out = io.StringIO()
    assert lambda_handler.run_resend(url, info["versionId"], out) == 1
    assert "e-mail failed: MessageRejected" in out.getvalue()
    # When the sender is verified and the operator resends (by the CLI, current version)
    verify_sender(boto3.client("sesv2", region_name=REGION))
    capsys.readouterr()
    assert cli.main(["resend", url]) == 0
    # Then one e-mail is sent, the record says so, and a second resend sends nothing
    assert "e-mail sent" in capsys.readouterr().out
    assert len(emails()) == 1
    assert item(table)["email_status"] == {"S": "sent"}
    assert cli.main(["resend", url, "--version-id", info["versionId"]]) == 0
    assert len(emails()) == 1


def test_resend_of_a_version_without_a_record_says_so(
    table: str, put: Put, capsys: pytest.CaptureFixture[str]
) -> None:
    put("t.csv", CHALLENGE_CSV)
    assert cli.main(["resend", f"s3://{BUCKET}/t.csv"]) == 1
    assert "no record" in capsys.readouterr().out
    assert cli.main(["resend", "not-a-url"]) == 2
