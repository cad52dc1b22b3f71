"""The effects' rules on in-memory fakes of the ports: no AWS, no network."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import txsummary
from tests.unit.fakes import FakeLake, FakeMail, FakeStore
from txsummary import effects
from txsummary.core.errors import InvalidFileError, LineError
from txsummary.core.summarize import summarize_stream
from txsummary.effects import Applied, Delivery, EmailStatus
from txsummary.objects import EMAIL_FAILED, EMAIL_NO_RECIPIENT, EMAIL_SENT, ObjectRef

SAMPLE = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/28,-10.3\n"
SUMMARY = summarize_stream(io.BytesIO(SAMPLE), "t.csv")
REF = ObjectRef("uploads", "in/t.csv", "v1", "e1", len(SAMPLE))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def deliver(store: FakeStore, mail: FakeMail | None, lake: FakeLake, clock: Clock) -> Applied:
    """One delivery as the service runs it: replay, else summarize and apply."""
    d = Delivery(effects.new_token("req"), store, mail, clock, sleep=lambda _: None)
    return effects.replay(REF, d) or effects.apply(REF, SUMMARY, d, lake=lake)


def test_a_first_delivery_does_everything_and_a_second_nothing() -> None:
    store, mail, lake, clock = FakeStore(), FakeMail(), FakeLake(), Clock()
    first, second = (deliver(store, mail, lake, clock) for _ in range(2))
    assert (first.report, first.email, first.lake_key) == (True, EMAIL_SENT, lake.key)
    assert not second.report
    assert len(mail.sent) == 1
    (record,) = store.records.values()
    assert record.lake_key == lake.key and record.email_status is EmailStatus.SENT


def test_without_a_recipient_the_file_is_reported_with_no_recipient() -> None:
    store, lake, clock = FakeStore(), FakeLake(), Clock()
    applied = deliver(store, FakeMail(to=()), lake, clock)
    assert (applied.report, applied.email) == (True, EMAIL_NO_RECIPIENT)


def test_a_refused_email_is_failed_terminal_and_resend_sends_it_once() -> None:
    # Given SES refusing the first send for good
    store, mail, lake, clock = FakeStore(), FakeMail(refuse=1), FakeLake(), Clock()
    applied = deliver(store, mail, lake, clock)
    # Then the file is reported with the failure and its reason; a retry does not send
    assert (applied.report, applied.email) == (True, EMAIL_FAILED)
    assert applied.email_error is not None and applied.email_error.startswith("MessageRejected")
    assert not deliver(store, mail, lake, clock).report
    assert mail.sent == []
    # When the operator resends, twice
    d = Delivery(effects.new_token(), store, mail, clock)
    assert effects.resend(REF, d) == Applied(False, SUMMARY, lake.key, EMAIL_SENT, None)
    again = effects.resend(REF, d)
    # Then one e-mail
    assert again is not None and again.email == EMAIL_SENT
    assert len(mail.sent) == 1


def test_a_rejection_discards_the_lake_rows() -> None:
    store, mail, lake, clock = FakeStore(), FakeMail(), FakeLake(), Clock()
    error = InvalidFileError(REF.uri, (LineError(2, "bad amount"),), 1)
    d = Delivery(effects.new_token(), store, mail, clock)
    applied = effects.apply(REF, error, d, lake=lake)
    assert (applied.report, applied.outcome, applied.lake_key) == (True, "rejected", None)
    assert (lake.objects, lake.discarded) == (set(), 1)


@given(
    history=st.lists(
        st.tuples(st.sampled_from(["ok", "fail", "refuse"]), st.sampled_from([0, 30, 61])),
        min_size=1,
        max_size=6,
    )
)
def test_any_history_of_deliveries_gives_one_record_one_report_at_most_one_email(
    history: list[tuple[str, int]],
) -> None:
    # Given deliveries whose send succeeds, fails for now, or is refused for good, each some
    # seconds after the last (a claim may still be held, or have run out)
    store, mail, lake, clock = FakeStore(), FakeMail(), FakeLake(), Clock()
    reports = 0
    for send, later in history:
        clock.now += later
        mail.fail, mail.refuse = int(send == "fail"), int(send == "refuse")
        with contextlib.suppress(ConnectionError):
            reports += deliver(store, mail, lake, clock).report
    # Then (oracle) one record; the first send that did not fail decides: sent or failed for
    # good; the file is reported once exactly when that happened
    (record,) = store.records.values()
    decided = next((s for s, _ in history if s != "fail"), None)
    assert len(mail.sent) == (1 if decided == "ok" else 0)
    assert reports == (0 if decided is None else 1)
    expected = {None: EmailStatus.PENDING, "ok": EmailStatus.SENT, "refuse": EmailStatus.FAILED}
    assert record.email_status is expected[decided]


def test_a_claim_held_by_a_live_delivery_is_left_to_it() -> None:
    store, mail, lake, clock = FakeStore(), FakeMail(fail=1), FakeLake(), Clock()
    with pytest.raises(ConnectionError):
        deliver(store, mail, lake, clock)
    assert store.claim_email(REF, token="other", now=int(clock()), lease_seconds=50) is None
    assert not deliver(store, mail, lake, clock).report
    assert mail.sent == []
    clock.now += 51  # the holder died: its lease ran out
    assert deliver(store, mail, lake, clock).report
    assert len(mail.sent) == 1


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("txsummary.effects", ("boto3", "botocore", "txsummary.aws")),
        ("txsummary.handler", ("boto3", "boto3.dynamodb.types", "jinja2", "txsummary.aws.store")),
    ],
)
def test_what_an_import_does_not_load(module: str, absent: tuple[str, ...]) -> None:
    # The orchestration needs no AWS library; the cold start loads no adapter it may not use
    code = f"import sys, {module}; print(*[m for m in {absent!r} if m in sys.modules])"
    here = {"PYTHONPATH": str(Path(txsummary.__file__).parents[1])}  # this checkout's package
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=here
    )
    assert out.stdout.strip() == ""


def test_the_network_is_blocked_in_unit_tests() -> None:
    import socket

    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("example.com", 443), timeout=1)


def test_resend_leaves_an_email_another_delivery_is_sending() -> None:
    # Given a record whose e-mail another delivery claimed a moment ago
    store, mail, lake, clock = FakeStore(), FakeMail(fail=1), FakeLake(), Clock()
    with pytest.raises(ConnectionError):
        deliver(store, mail, lake, clock)
    assert store.claim_email(REF, token="other", now=int(clock()), lease_seconds=50) is None
    # When the operator resends, Then nothing is sent and the status says it is being sent
    applied = effects.resend(REF, Delivery(effects.new_token(), store, mail, clock))
    assert applied is not None and applied.email == "sending"
    assert mail.sent == []
