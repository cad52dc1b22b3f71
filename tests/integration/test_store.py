"""The summary record on moto's DynamoDB: one item per object version, written once, no floats."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import REGION
from tests.integration.effects_support import create_table
from txsummary.aws import store as store_module
from txsummary.aws.store import SummaryStore, item_key
from txsummary.core.errors import InvalidFileError, LineError
from txsummary.core.model import MonthSummary, Summary, Totals
from txsummary.core.summarize import summarize_stream
from txsummary.effects import EmailStatus, Kind, Record, Result
from txsummary.objects import ObjectRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SAMPLE = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/28,-10.3\n2,8/2,-20.46\n3,8/13,+10\n"
WHEN = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)


@pytest.fixture
def dynamodb(aws: None) -> DynamoDBClient:
    client: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    return client


@pytest.fixture
def store(dynamodb: DynamoDBClient) -> SummaryStore:
    return SummaryStore(create_table(dynamodb), dynamodb)


def raw_items(client: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    return list(client.scan(TableName=table)["Items"])


def sample_summary() -> Summary:
    return summarize_stream(io.BytesIO(SAMPLE), "sample.csv")


def ref(version: str | None = "v1", key: str = "in/july.csv") -> ObjectRef:
    return ObjectRef("uploads", key, version, "e1", len(SAMPLE))


def put(
    store: SummaryStore,
    result: Result,
    version: str | None = "v1",
    *,
    token: str = "t1",  # noqa: S107 - a delivery token, not a secret
    **kw: Any,
) -> Record | None:
    return store.put(ref(version), Record(result, token, **kw), processed_at=WHEN)


def test_first_put_creates_the_item_and_a_second_is_a_duplicate(
    store: SummaryStore, dynamodb: DynamoDBClient
) -> None:
    # Given an object version's summary
    summary = sample_summary()
    # When it is put by one delivery, then again by it (a lost response), then by another
    first, again, other = put(store, summary), put(store, summary), put(store, summary, token="t2")
    # Then the first created it, the same token's retry is its own, the other learns it existed
    # (the item comes back with the failed condition: no second read)
    assert (first, again) == (None, None)
    assert other is not None and other.token == "t1" and other.result == summary
    (item,) = raw_items(dynamodb, store.table_name)
    assert item["pk"] == {"S": "s3://uploads/in/july.csv"}
    assert item["sk"] == {"S": "v1"}
    assert item["outcome"] == {"S": "summarized"}
    assert item["processed_at"] == {"S": "2026-03-01T12:30:05.123Z"}


def test_a_new_version_of_the_key_gets_its_own_item(
    store: SummaryStore, dynamodb: DynamoDBClient
) -> None:
    summary = sample_summary()
    assert put(store, summary, "v1") is None
    assert put(store, summary, "v2", token="t2") is None
    assert len(raw_items(dynamodb, store.table_name)) == 2


def test_an_unversioned_object_is_keyed_by_its_etag() -> None:
    assert item_key(ObjectRef("b", "k.csv", None, "abc")) == {"pk": "s3://b/k.csv", "sk": "abc"}
    assert item_key(ObjectRef("b", "k.csv", "v9", "abc"))["sk"] == "v9"
    with pytest.raises(ValueError, match="neither a version id nor an ETag"):
        item_key(ObjectRef("b", "k.csv"))


def test_money_is_integer_cents_as_numbers_and_a_missing_average_is_absent(
    store: SummaryStore, dynamodb: DynamoDBClient
) -> None:
    # Given a file with credits only (no debit average)
    summary = summarize_stream(io.BytesIO(b"Id,Date,Transaction\n0,1/2/2025,+0.10\n"), "c.csv")
    put(store, summary)
    (item,) = raw_items(dynamodb, store.table_name)
    # Then the cents are N attributes holding integers, and the debit average is not there
    assert item["total_balance_cents"] == {"N": "10"}
    assert item["average_credit_cents"] == {"N": "10"}
    assert "average_debit_cents" not in item
    (month,) = item["months"]["L"]
    assert month["M"]["year"] == {"N": "2025"}
    assert month["M"]["balance_cents"] == {"N": "10"}
    assert "average_debit_cents" not in month["M"]


def test_a_float_can_never_be_written() -> None:
    # Given the serializer the store uses
    # Then a float is refused outright (boto3 raises), so no code path can store one
    with pytest.raises(TypeError, match="Float"):
        store_module._serialize({"x": 0.1})


def _all_numbers(value: Any) -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"N"}:
            return [value["N"]]
        return [n for v in value.values() for n in _all_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _all_numbers(v)]
    return []


month_totals = st.builds(
    lambda credits, credit_total, debits, debit_total: Totals(
        credits + debits, credit_total + debit_total, credits, credit_total, debits, debit_total
    ),
    st.integers(0, 10**6),
    st.integers(0, 10**15),
    st.integers(0, 10**6),
    st.integers(-(10**15), 0),
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    months=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(1, 9999)), st.integers(1, 12), month_totals),
        max_size=12,
        unique_by=lambda m: (m[0], m[1]),
    )
)
def test_any_summary_round_trips_exactly_with_integer_numbers_only(
    store: SummaryStore, dynamodb: DynamoDBClient, months: list[tuple[int | None, int, Totals]]
) -> None:
    # Given any summary (oracle: the Summary itself)
    parts = tuple(MonthSummary(y, m, t) for y, m, t in months)
    summary = Summary(sum((p.totals for p in parts), Totals()), parts)
    version = f"v{len(raw_items(dynamodb, store.table_name))}"
    # When it is stored and read back
    assert put(store, summary, version) is None
    record = store.get(ref(version))
    # Then it rebuilds to the same summary, and every stored number is an integer literal
    assert record is not None
    assert record.result == summary
    raw = dynamodb.get_item(
        TableName=store.table_name,
        Key={"pk": {"S": "s3://uploads/in/july.csv"}, "sk": {"S": version}},
    )["Item"]
    assert all(n.lstrip("-").isdigit() for n in _all_numbers(raw))


def test_a_rejection_keeps_the_count_and_first_errors(
    store: SummaryStore, dynamodb: DynamoDBClient
) -> None:
    # Given a rejection with 25 errors, 2 listed
    error = InvalidFileError(
        "s3://uploads/in/bad.csv", (LineError(2, "bad date"), LineError(0, "whole file")), 25
    )
    bad = ObjectRef("uploads", "in/bad.csv", "v1", None, 9)
    assert store.put(bad, Record(error, "t1"), processed_at=WHEN) is None
    record = store.get(bad)
    # Then the record says rejected and rebuilds the same description
    assert record is not None
    assert record.outcome is Kind.REJECTED
    (item,) = raw_items(dynamodb, store.table_name)
    assert item["error_count"] == {"N": "25"}
    assert "transactions" not in item
    rebuilt = record.result
    assert isinstance(rebuilt, InvalidFileError)
    assert rebuilt.describe() == error.describe()


def test_email_claim_release_sent_each_told_apart_by_token(store: SummaryStore) -> None:
    # Given an item whose e-mail is pending
    put(store, sample_summary(), email_status=EmailStatus.PENDING, email_to=("a@example.com",))
    where = ref()
    # When one delivery claims it, a second cannot (and sees the holder), but the first's own
    # re-sent claim (a lost response) still holds
    assert store.claim_email(where, token="A", now=1000, lease_seconds=50) is None
    held = store.claim_email(where, token="B", now=1010, lease_seconds=50)
    assert held is not None and held.email_token == "A" and held.email_claimed_until == 1050
    assert store.claim_email(where, token="A", now=1011, lease_seconds=50) is None
    # But after the lease runs out it can be taken over
    assert store.claim_email(where, token="B", now=1062, lease_seconds=50) is None
    # And A can no longer release it; B's released claim is pending again
    store.release_email(where, token="A")
    record = store.get(where)
    assert record is not None and record.email_status is EmailStatus.SENDING
    store.release_email(where, token="B")
    record = store.get(where)
    assert record is not None and record.email_status is EmailStatus.PENDING
    # When C claims it and marks it sent, twice (a lost response)
    assert store.claim_email(where, token="C", now=2000, lease_seconds=50) is None
    assert store.mark_email_sent(where, token="C", message_id="m-1", recipients=["a@x.io"]) is None
    assert store.mark_email_sent(where, token="C", message_id="m-1", recipients=["a@x.io"]) is None
    # Then it is sent, can no longer be claimed, and another token's mark is refused
    record = store.get(where)
    assert record is not None
    assert record.email_status is EmailStatus.SENT
    assert (record.email_message_id, record.email_to) == ("m-1", ("a@x.io",))
    assert record.email_claimed_until == 0
    assert store.claim_email(where, token="D", now=99999, lease_seconds=50) is not None
    assert store.mark_email_sent(where, token="D", message_id="m-2", recipients=[]) is not None


def test_a_failed_email_is_terminal_until_reopened(store: SummaryStore) -> None:
    # Given a claimed e-mail that SES refused for good
    put(store, sample_summary(), email_status=EmailStatus.PENDING, email_to=("a@example.com",))
    where = ref()
    assert store.claim_email(where, token="A", now=1000, lease_seconds=50) is None
    assert store.mark_email_failed(where, token="A", reason="MessageRejected: no") is None
    record = store.get(where)
    assert record is not None
    assert (record.email_status, record.email_error) == (EmailStatus.FAILED, "MessageRejected: no")
    # Then a retry cannot claim it, but a resend (reopen) can
    assert store.claim_email(where, token="B", now=1100, lease_seconds=50) is not None
    assert store.claim_email(where, token="B", now=1100, lease_seconds=50, reopen=True) is None


def test_the_report_is_claimed_once_and_again_by_its_own_token(store: SummaryStore) -> None:
    put(store, sample_summary())
    assert store.mark_reported(ref(), token="A")
    assert store.mark_reported(ref(), token="A")  # a lost response, re-sent
    assert not store.mark_reported(ref(), token="B")
    record = store.get(ref())
    assert record is not None and record.reported_by == "A"


def test_a_write_to_a_missing_record_raises(store: SummaryStore) -> None:
    with pytest.raises(LookupError, match="gone"):
        store.claim_email(ref(), token="A", now=1, lease_seconds=50)


def test_get_of_a_missing_version_is_none(store: SummaryStore) -> None:
    assert store.get(ref(key="in/none.csv")) is None
