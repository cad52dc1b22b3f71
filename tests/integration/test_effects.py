"""Each side effect once per object version, on moto: redelivery, a failed send and its retry,
concurrent deliveries, a rejected file. The real adapters, wired as the service will wire them."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.ses.models import ses_backends

from tests.integration.conftest import REGION
from tests.integration.effects_support import (
    LAKE_BUCKET,
    SENDER,
    create_table,
    verify_sender,
)
from txsummary import effects
from txsummary.aws.lake import LakeWriter
from txsummary.aws.mail import MailConfig, Mailer
from txsummary.aws.store import SummaryStore
from txsummary.core.errors import InvalidFileError, LineError
from txsummary.core.model import Summary
from txsummary.core.summarize import summarize_stream
from txsummary.effects import Applied
from txsummary.objects import EMAIL_SENT, ObjectRef
from txsummary_local import resources

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client

MOTO_ACCOUNT = "123456789012"  # moto's default account
SAMPLE = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/28,-10.3\n2,8/2,-20.46\n3,8/13,+10\n"
CENTS = [6050, -1030, -2046, 1000]
REF = ObjectRef("uploads", "in/july.csv", "v1", "etag1", len(SAMPLE))
RECIPIENT = "holder@example.com"


class FlakyMailer(Mailer):
    """The real mailer, failing its next ``failures`` sends the way SES would."""

    failures = 0

    def send(self, message: EmailMessage, recipients: tuple[str, ...]) -> str:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SES unreachable")
        return super().send(message, recipients)


@dataclass
class World:
    dynamodb: DynamoDBClient
    s3: S3Client
    store: SummaryStore
    mailer: FlakyMailer
    tmp: Path
    summary: Summary = field(default_factory=lambda: summarize_stream(io.BytesIO(SAMPLE), "t"))

    def lake(self, ref: ObjectRef = REF) -> LakeWriter:
        """A writer that consumed the file's rows, as the summarizer's on_rows would feed it."""
        writer = LakeWriter(
            self.s3,
            LAKE_BUCKET,
            source_bucket=ref.bucket,
            source_key=ref.key,
            source_version=ref.version_id or ref.etag or "",
            upload_date=date(2026, 3, 14),
        )
        n = len(CENTS)
        writer(
            pd.DataFrame(
                {
                    "line": np.arange(2, 2 + n, dtype=np.int64),
                    "id": [str(i) for i in range(n)],
                    "date": ["7/15", "7/28", "8/2", "8/13"],
                    "year": pd.array([None] * n, dtype="Int64"),
                    "month": np.array([7, 7, 8, 8], dtype=np.int8),
                    "day": np.array([15, 28, 2, 13], dtype=np.int8),
                    "amount_cents": np.array(CENTS, dtype=np.int64),
                }
            )
        )
        return writer

    def delivery(self, *, mail: bool = True) -> effects.Delivery:
        """A new delivery attempt: its own token."""
        return effects.Delivery(effects.new_token(), self.store, self.mailer if mail else None)

    def apply(self, ref: ObjectRef = REF, result: Any = None) -> Applied:
        """A delivery that read and summarized the object (it saw no record before)."""
        with self.lake(ref) as lake:
            return effects.apply(ref, result or self.summary, self.delivery(), lake=lake)

    def deliver(self, ref: ObjectRef = REF, result: Any = None, *, mail: bool = True) -> Applied:
        """One delivery as the service runs it: replay first, else summarize and apply."""
        delivery = self.delivery(mail=mail)
        replayed = effects.replay(ref, delivery)
        if replayed is not None:
            return replayed
        with self.lake(ref) as lake:
            return effects.apply(ref, result or self.summary, delivery, lake=lake)

    def items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.store.table_name)["Items"])

    def lake_objects(self) -> list[str]:
        return resources.lake_objects(self.s3, LAKE_BUCKET)


def emails() -> list[Any]:
    return list(ses_backends[MOTO_ACCOUNT][REGION].sent_messages)


@pytest.fixture
def world(aws: None, tmp_path: Path) -> Iterator[World]:
    dynamodb: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    s3: S3Client = boto3.client("s3", region_name=REGION)
    sesv2: SESV2Client = boto3.client("sesv2", region_name=REGION)
    s3.create_bucket(Bucket=LAKE_BUCKET)
    verify_sender(sesv2)
    config = MailConfig.from_values(SENDER, RECIPIENT)
    assert config is not None
    ses_backends[MOTO_ACCOUNT][REGION].sent_messages.clear()
    yield World(
        dynamodb=dynamodb,
        s3=s3,
        store=SummaryStore(create_table(dynamodb), dynamodb),
        mailer=FlakyMailer(sesv2, config),
        tmp=tmp_path,
    )
    ses_backends[MOTO_ACCOUNT][REGION].sent_messages.clear()


def test_a_redelivered_event_gives_one_item_one_email_one_lake_object(world: World) -> None:
    # Given an object version delivered three times
    results = [world.deliver() for _ in range(3)]
    # Then the first did everything and reports it; the others are duplicates
    assert [r.report for r in results] == [True, False, False]
    assert results[0].email == EMAIL_SENT
    assert results[1].outcome == "summarized"
    assert len(world.items()) == 1
    assert len(emails()) == 1
    assert world.lake_objects() == [results[0].lake_key]
    (item,) = world.items()
    assert item["email_status"] == {"S": "sent"}
    assert item["email_message_id"] == {"S": emails()[0].id}
    assert item["lake_key"] == {"S": results[0].lake_key}
    assert not any(world.tmp.iterdir())


def test_a_redelivery_that_races_past_replay_is_still_a_duplicate(world: World) -> None:
    # Given two deliveries that both read the object (neither saw a record before summarizing)
    first, second = world.apply(), world.apply()
    # Then one reports it; one item, one e-mail, one lake object (overwritten in place)
    assert (first.report, second.report) == (True, False)
    assert len(world.items()) == 1
    assert len(emails()) == 1
    assert len(world.lake_objects()) == 1


def test_a_new_version_of_the_key_is_processed_again(world: World) -> None:
    first = world.deliver()
    second = world.deliver(ObjectRef(REF.bucket, REF.key, "v2", "etag2", REF.size))
    assert (first.report, second.report) == (True, True)
    assert len(world.items()) == 2
    assert len(emails()) == 2
    assert len(world.lake_objects()) == 2


def test_a_failed_send_raises_and_the_retry_sends_only_the_email(world: World) -> None:
    # Given SES failing the first send
    world.mailer.failures = 1
    # When the event is delivered, the send fails and raises (so Lambda retries)
    with pytest.raises(ConnectionError):
        world.deliver()
    # Then the record and the lake object exist, the e-mail is owed, none was sent
    (item,) = world.items()
    assert item["email_status"] == {"S": "pending"}
    assert len(world.lake_objects()) == 1
    assert emails() == []
    # When Lambda retries
    retried = world.deliver()
    # Then only the e-mail is sent, from the stored record, with no second item, and the
    # retry reports the file with the lake key the first delivery wrote
    assert (retried.report, retried.email) == (True, EMAIL_SENT)
    assert retried.lake_key == world.lake_objects()[0]
    assert len(world.items()) == 1
    assert len(emails()) == 1
    assert "Total balance is 39.74" in emails()[0].raw_data
    # And a further redelivery is a plain duplicate
    assert not world.deliver().report
    assert len(emails()) == 1


def test_a_retry_that_summarized_again_also_sends_only_the_email(world: World) -> None:
    # Given a first attempt whose send failed
    world.mailer.failures = 1
    with pytest.raises(ConnectionError):
        world.apply()
    # When the retry summarizes again and applies (no replay)
    applied = world.apply()
    # Then it sends the e-mail, with no second record
    assert (applied.report, applied.email) == (True, EMAIL_SENT)
    assert len(world.items()) == 1
    assert len(emails()) == 1


def test_an_email_being_sent_by_another_delivery_is_not_sent_twice(world: World) -> None:
    # Given a record whose e-mail another delivery has just claimed
    world.mailer.failures = 1
    with pytest.raises(ConnectionError):
        world.deliver()
    assert (
        world.store.claim_email(REF, token="other", now=int(time.time()), lease_seconds=600) is None
    )
    # When a concurrent delivery arrives
    applied = world.deliver()
    # Then it sends nothing and leaves the report to the holder
    assert not applied.report
    assert emails() == []


def test_a_rejected_file_writes_no_lake_object_but_is_recorded_and_mailed(world: World) -> None:
    # Given a rejected file (the lake writer had consumed rows before the rejection)
    error = InvalidFileError("s3://uploads/in/july.csv", (LineError(3, "bad amount 'x'"),), 1)
    applied = world.deliver(result=error)
    # Then the record says rejected, the uploader is told, and the lake is empty
    assert (applied.report, applied.outcome, applied.lake_key) == (True, "rejected", None)
    assert world.lake_objects() == []
    (item,) = world.items()
    assert item["outcome"] == {"S": "rejected"}
    assert item["error_count"] == {"N": "1"}
    (sent,) = emails()
    assert "bad amount" in sent.raw_data
    assert not any(world.tmp.iterdir())
    # And a redelivery is a duplicate that reports the earlier outcome
    again = world.deliver(result=error)
    assert (again.report, again.outcome) == (False, "rejected")


def test_with_email_off_the_record_has_no_email_status(world: World) -> None:
    applied = world.deliver(mail=False)
    assert (applied.report, applied.email) == (True, None)
    (item,) = world.items()
    assert "email_status" not in item
    assert emails() == []
    assert not world.deliver(mail=False).report


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(failures=st.lists(st.booleans(), min_size=1, max_size=5))
def test_any_delivery_history_gives_at_most_one_of_each(world: World, failures: list[bool]) -> None:
    # Given a fresh object version (so examples do not share state)
    n = len(world.items())
    ref = ObjectRef("uploads", f"in/{n}.csv", "v1", "e", 1)
    sent_before = len(emails())
    # When it is delivered once per entry, the send failing where the entry is True
    reports = 0
    for fail in failures:
        world.mailer.failures = int(fail)
        with contextlib.suppress(ConnectionError):
            reports += world.deliver(ref).report
    # Then (oracle) one record; one e-mail and one report exactly when some send succeeded
    assert len(world.items()) == n + 1
    delivered = 1 if not all(failures) else 0
    assert len(emails()) - sent_before == delivered
    assert reports == delivered


def test_a_retry_mails_the_recipient_chosen_first_even_without_the_metadata(world: World) -> None:
    # Given e-mail settings that let the metadata pick an allowed recipient
    config = MailConfig.from_values(SENDER, RECIPIENT, "bank.example")
    assert config is not None
    world.mailer = FlakyMailer(world.mailer._client, config)
    picked = ObjectRef(REF.bucket, REF.key, "v7", "e7", 1, {"email": "holder@bank.example"})
    # And a first delivery whose send failed
    world.mailer.failures = 1
    with pytest.raises(ConnectionError):
        world.deliver(picked)
    # When the retry replays before reading the object (no metadata in hand)
    retried = world.deliver(ObjectRef(REF.bucket, REF.key, "v7", "e7", 1))
    # Then the e-mail goes to the recipient the first delivery chose
    assert (retried.report, retried.email) == (True, EMAIL_SENT)
    (sent,) = emails()
    assert sent.destinations[0] == "holder@bank.example"
