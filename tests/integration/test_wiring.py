"""The side effects end to end through the handler, on moto: the record, the e-mail and the lake
happen once per object version however often the event arrives, and each is counted once."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, cast

import boto3
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.ses.models import ses_backends

from tests.challenge import CHALLENGE_CSV
from tests.integration.conftest import REGION, FakeContext, Records, emf_lines
from tests.integration.effects_support import LAKE_BUCKET, SENDER, create_table, verify_sender
from txsummary import handler as lambda_handler
from txsummary.aws.mail import Mailer
from txsummary.aws.settings import Settings
from txsummary.core.summarize import summarize_stream
from txsummary_local import resources

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

MOTO_ACCOUNT = "123456789012"
RECIPIENT = "holder@example.com"
Put = Callable[[str, bytes], dict[str, Any]]
MakeEvent = Callable[..., dict[str, Any]]


@dataclass
class Stack:
    """The deployed stack's side effects on moto, and the handler configured for them."""

    dynamodb: DynamoDBClient
    s3: S3Client
    table: str

    def items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.table)["Items"])

    def lake_objects(self) -> list[str]:
        return resources.lake_objects(self.s3, LAKE_BUCKET)

    def lake_frame(self, key: str) -> pd.DataFrame:
        return resources.lake_frame(self.s3, LAKE_BUCKET, key)


def emails() -> list[Any]:
    return list(ses_backends[MOTO_ACCOUNT][REGION].sent_messages)


def invoke(event: dict[str, Any]) -> dict[str, str]:
    return lambda_handler.handler(event, cast("LambdaContext", FakeContext()))


def configure(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """A cold start with ``env``: the handler's settings and adapters are built afresh."""
    monkeypatch.setattr(lambda_handler, "SETTINGS", Settings.from_env(env))
    lambda_handler._deps.cache_clear()


@pytest.fixture
def stack(aws: None, bucket: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    # Given the table, the lake bucket and the verified sender, and the handler's environment
    # naming them as the stack sets it
    dynamodb: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    s3: S3Client = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=LAKE_BUCKET)
    verify_sender(boto3.client("sesv2", region_name=REGION))
    ses_backends[MOTO_ACCOUNT][REGION].sent_messages.clear()
    table = create_table(dynamodb)
    configure(
        monkeypatch,
        {
            "SUMMARY_TABLE": table,
            "EMAIL_FROM": SENDER,
            "EMAIL_TO": RECIPIENT,
            "LAKE_BUCKET": LAKE_BUCKET,
        },
    )
    yield Stack(dynamodb, s3, table)
    ses_backends[MOTO_ACCOUNT][REGION].sent_messages.clear()
    lambda_handler._deps.cache_clear()


@pytest.fixture
def failing_sends(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """SES fails a send while the list's first entry is True (each send pops one entry)."""
    plan: list[bool] = []
    real = Mailer.send

    def send(self: Mailer, message: EmailMessage, recipients: tuple[str, ...]) -> str:
        if plan and plan.pop(0):
            raise ConnectionError("SES unreachable")
        return real(self, message, recipients)

    monkeypatch.setattr(Mailer, "send", send)
    return plan


def counted(stdout: str, name: str) -> int:
    return sum(int(sum(r.get(name, [0]))) for r in emf_lines(stdout))


def test_a_redelivered_event_gives_one_item_one_email_one_lake_object_one_count(
    stack: Stack,
    put: Put,
    make_event: MakeEvent,
    records: Records,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given one object version whose event arrives three times
    info = put("in/transactions.csv", CHALLENGE_CSV)
    event = make_event(("in/transactions.csv", info))
    # When each delivery is handled
    results = [invoke(event) for _ in range(3)]
    # Then the first summarized it and the others were duplicates
    assert [r["in/transactions.csv"] for r in results] == ["summarized", "duplicate", "duplicate"]
    # And there is one item, one e-mail, one lake object
    (item,) = stack.items()
    assert item["pk"] == {"S": f"s3://{info_bucket(event)}/in/transactions.csv"}
    assert item["sk"] == {"S": info["versionId"]}
    assert item["email_status"] == {"S": "sent"}
    (sent,) = emails()
    assert set(sent.destinations) == {RECIPIENT}  # moto lists the To header and the envelope
    (lake_key,) = stack.lake_objects()
    # And the records say so: the summary names the lake object and the e-mail
    first, second, third = records
    assert (first["outcome"], first["email"], first["lake_key"]) == ("summarized", "sent", lake_key)
    assert [(r["outcome"], r["previous"]) for r in (second, third)] == [
        ("duplicate", "summarized")
    ] * 2
    assert "email" not in second
    # And the file is counted once, the duplicates twice, the e-mail once
    out = capsys.readouterr().out
    assert counted(out, "FilesSummarized") == 1
    assert counted(out, "Duplicates") == 2
    assert counted(out, "EmailsSent") == 1


def info_bucket(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["s3"]["bucket"]["name"])


def test_a_redelivery_does_not_read_the_object_again(
    stack: Stack, put: Put, make_event: MakeEvent, body_reads: list[int]
) -> None:
    # Given a version already summarized
    event = make_event(("t.csv", put("t.csv", CHALLENGE_CSV)))
    invoke(event)
    reads = len(body_reads)
    # When its event arrives again / Then the table answers: the object is not read
    assert invoke(event) == {"t.csv": "duplicate"}
    assert len(body_reads) == reads


def test_a_failed_send_is_retried_without_a_second_summary_record(
    stack: Stack,
    *,
    put: Put,
    make_event: MakeEvent,
    records: Records,
    failing_sends: list[bool],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given SES failing the first send
    failing_sends.append(True)
    event = make_event(("t.csv", put("t.csv", CHALLENGE_CSV)))
    # When the event is handled, Then the invocation raises so that Lambda retries
    with pytest.raises(ConnectionError):
        invoke(event)
    (item,) = stack.items()
    assert item["email_status"] == {"S": "pending"}
    assert emails() == []
    assert len(stack.lake_objects()) == 1
    # When Lambda retries
    assert invoke(event) == {"t.csv": "summarized"}
    # Then only the e-mail was sent: one item, one e-mail, still one lake object
    assert len(stack.items()) == 1
    assert stack.items()[0]["email_status"] == {"S": "sent"}
    (sent,) = emails()
    assert "Total balance is 39.74" in sent.raw_data
    assert len(stack.lake_objects()) == 1
    # And the retry reports the file (the failed delivery never did), once, from the record
    (summarized,) = [r for r in records if r.get("outcome") == "summarized"]
    assert summarized["email"] == "sent"
    assert summarized["summary"]["total_balance"] == 39.74
    out = capsys.readouterr().out
    assert counted(out, "FilesSummarized") == 1
    assert counted(out, "EmailsSent") == 1
    # And a further redelivery is a plain duplicate
    assert invoke(event) == {"t.csv": "duplicate"}
    assert len(emails()) == 1


def test_a_rejected_file_writes_no_lake_object_and_is_recorded_and_mailed(
    stack: Stack, put: Put, make_event: MakeEvent, records: Records
) -> None:
    # Given a file whose valid rows come before an invalid one (the lake saw rows first)
    body = CHALLENGE_CSV + b"4,8/20,not money\n"
    event = make_event(("bad.csv", put("bad.csv", body)))
    # When it is handled, twice
    assert invoke(event) == {"bad.csv": "rejected"}
    assert invoke(event) == {"bad.csv": "duplicate"}
    # Then nothing reached the lake; one rejection record and one e-mail to the uploader
    assert stack.lake_objects() == []
    (item,) = stack.items()
    assert item["outcome"] == {"S": "rejected"}
    (sent,) = emails()
    assert "not money" in sent.raw_data
    assert records[0]["email"] == "sent"
    assert records[1]["previous"] == "rejected"


def test_a_new_version_of_the_key_gets_its_own_record_email_and_lake_object(
    stack: Stack, put: Put, make_event: MakeEvent
) -> None:
    old = put("t.csv", CHALLENGE_CSV)
    new = put("t.csv", CHALLENGE_CSV + b"4,8/20,+1\n")
    assert invoke(make_event(("t.csv", old))) == {"t.csv": "summarized"}
    assert invoke(make_event(("t.csv", new))) == {"t.csv": "summarized"}
    assert sorted(i["sk"]["S"] for i in stack.items()) == sorted(
        [old["versionId"], new["versionId"]]
    )
    assert len(emails()) == 2
    assert len(stack.lake_objects()) == 2


def test_without_a_table_the_service_only_logs(
    aws: None, put: Put, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no SUMMARY_TABLE (a bare local run)
    configure(monkeypatch, {})
    event = make_event(("t.csv", put("t.csv", CHALLENGE_CSV)))
    # Then every delivery is summarized and logged, with no record and no e-mail
    assert invoke(event) == invoke(event) == {"t.csv": "summarized"}
    assert lambda_handler._deps().store is None
    assert emails() == []


def test_email_off_and_lake_off_still_record_once(
    stack: Stack,
    put: Put,
    make_event: MakeEvent,
    monkeypatch: pytest.MonkeyPatch,
    records: Records,
) -> None:
    # Given only the table
    configure(monkeypatch, {"SUMMARY_TABLE": stack.table})
    event = make_event(("t.csv", put("t.csv", CHALLENGE_CSV)))
    assert invoke(event) == {"t.csv": "summarized"}
    assert invoke(event) == {"t.csv": "duplicate"}
    (item,) = stack.items()
    assert "email_status" not in item
    assert emails() == []
    assert stack.lake_objects() == []
    assert "email" not in records[0]
    assert "lake_key" not in records[0]


def _lines(cents: list[int]) -> bytes:
    rows = "".join(
        f"{i},{1 + i % 12}/{1 + i % 28}/2025,{c / 100:+.2f}\n" for i, c in enumerate(cents)
    )
    return ("Id,Date,Transaction\n" + rows).encode()


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cents=st.lists(st.integers(-(10**11), 10**11), min_size=1, max_size=40))
def test_the_lake_round_trip_is_exact_to_the_cent(
    stack: Stack, put: Put, make_event: MakeEvent, cents: list[int]
) -> None:
    # Given any amounts, written as the CSV's text (a fresh key per example)
    key = f"exact/{len(stack.items())}.csv"
    body = _lines(cents)
    event = make_event((key, put(key, body)))
    # When the handler summarizes it with the lake on
    assert invoke(event) == {key: "summarized"}
    # Then (oracle: the amounts as written) the lake's rows are the file's, to the cent
    (lake_key,) = [k for k in stack.lake_objects() if stack.lake_frame(k)["source_key"][0] == key]
    frame = stack.lake_frame(lake_key)
    assert frame["amount_cents"].tolist() == cents
    assert [Decimal(str(a)) for a in frame["amount"]] == [Decimal(c) / 100 for c in cents]
    # And the summary's balance is their sum, in the record and in the lake
    summary = summarize_stream(io.BytesIO(body), key)
    assert summary.totals.balance == sum(cents) == int(frame["amount_cents"].sum())
    (item,) = [i for i in stack.items() if i["key"]["S"] == key]
    assert int(item["total_balance_cents"]["N"]) == sum(cents)


def test_the_email_is_mime_with_the_summary_text(
    stack: Stack, put: Put, make_event: MakeEvent, records: Records
) -> None:
    invoke(make_event(("t.csv", put("t.csv", CHALLENGE_CSV))))
    (sent,) = emails()
    message = message_from_bytes(sent.raw_data.encode())
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes)
    # (the wire has CRLF line ends, as SMTP wants)
    assert payload.decode().replace("\r\n", "\n").rstrip("\n") == records[0]["message"]


def test_an_unversioned_bucket_keys_the_record_by_etag(
    stack: Stack, s3: S3Client, make_event: MakeEvent
) -> None:
    # Given a bucket without versioning: events carry no version id
    s3.create_bucket(Bucket="plain")
    etag = s3.put_object(Bucket="plain", Key="t.csv", Body=CHALLENGE_CSV)["ETag"].strip('"')
    event = make_event(("t.csv", {"eTag": etag, "size": len(CHALLENGE_CSV)}), bucket="plain")
    # When it is delivered twice
    assert invoke(event) == {"t.csv": "summarized"}
    assert invoke(event) == {"t.csv": "duplicate"}
    # Then the one record's sort key is the ETag, and there is one e-mail and one lake object
    (item,) = stack.items()
    assert item["sk"] == {"S": etag}
    assert len(emails()) == 1
    assert len(stack.lake_objects()) == 1


def test_a_too_large_object_is_recorded_and_mailed_once_without_being_read(
    stack: Stack, make_event: MakeEvent, body_reads: list[int]
) -> None:
    # Given an event for an object over the size limit (in a bucket that does not exist, so
    # any read would fail)
    event = make_event(("huge.csv", {"size": 5 * 1024**3, "eTag": "e1"}), bucket="nowhere")
    # When it is delivered twice / Then it is rejected, then a duplicate, and never read
    assert invoke(event) == {"huge.csv": "rejected"}
    assert invoke(event) == {"huge.csv": "duplicate"}
    assert body_reads == []
    (item,) = stack.items()
    assert (item["outcome"], item["sk"]) == ({"S": "rejected"}, {"S": "e1"})
    (sent,) = emails()
    assert "over the limit" in sent.raw_data
    assert stack.lake_objects() == []
