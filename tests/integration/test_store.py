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
from txsummary.aws.store import (
    EMAIL_PENDING,
    EMAIL_SENDING,
    EMAIL_SENT,
    SummaryStore,
    item_key,
)
from txsummary.core.errors import InvalidFileError, LineError
from txsummary.core.model import MonthSummary, Summary, Totals
from txsummary.core.summarize import summarize_stream

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


def put(store: SummaryStore, summary: Summary, version: str | None = "v1", **kw: Any) -> bool:
    return store.put(
        bucket="uploads",
        key="in/july.csv",
        version_id=version,
        etag="e1",
        size=len(SAMPLE),
        result=summary,
        processed_at=WHEN,
        **kw,
    )


def test_first_put_creates_the_item_and_a_second_is_a_duplicate(
    store: SummaryStore, dynamodb: DynamoDBClient
) -> None:
    # Given an object version's summary
    summary = sample_summary()
    # When it is put twice
    first, second = put(store, summary), put(store, summary)
    # Then the first created it, the second learned it existed; one item
    assert (first, second) == (True, False)
    (item,) = raw_items(dynamodb, store.table_name)
    assert item["pk"] == {"S": "s3://uploads/in/july.csv"}
    assert item["sk"] == {"S": "v1"}
    assert item["outcome"] == {"S": "summarized"}
    assert item["processed_at"] == {"S": "2026-03-01T12:30:05.123Z"}


def test_a_new_version_of_the_key_gets_its_own_item(
    store: SummaryStore, dynamodb: DynamoDBClient
) -> None:
    summary = sample_summary()
    assert put(store, summary, "v1")
    assert put(store, summary, "v2")
    assert len(raw_items(dynamodb, store.table_name)) == 2


def test_an_unversioned_object_is_keyed_by_its_etag() -> None:
    assert item_key("b", "k.csv", None, "abc") == {"pk": "s3://b/k.csv", "sk": "abc"}
    assert item_key("b", "k.csv", "v9", "abc")["sk"] == "v9"
    with pytest.raises(ValueError, match="neither a version id nor an ETag"):
        item_key("b", "k.csv", None, None)


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
    assert put(store, summary, version)
    record = store.get("uploads", "in/july.csv", version, None)
    # Then it rebuilds to the same summary, and every stored number is an integer literal
    assert record is not None
    assert record.result() == summary
    raw = dynamodb.get_item(
        TableName=store.table_name,
        Key={"pk": {"S": "s3://uploads/in/july.csv"}, "sk": {"S": version}},
    )["Item"]
    assert all(n.lstrip("-").isdigit() for n in _all_numbers(raw))


def test_a_rejection_keeps_the_count_and_first_errors(store: SummaryStore) -> None:
    # Given a rejection with 25 errors, 2 listed
    error = InvalidFileError(
        "s3://uploads/in/bad.csv", (LineError(2, "bad date"), LineError(0, "whole file")), 25
    )
    assert store.put(
        bucket="uploads", key="in/bad.csv", version_id="v1", etag=None, size=9, result=error
    )
    record = store.get("uploads", "in/bad.csv", "v1", None)
    # Then the record says rejected and rebuilds the same description
    assert record is not None
    assert record.outcome == "rejected"
    assert record.item["error_count"] == 25
    assert "transactions" not in record.item
    rebuilt = record.result()
    assert isinstance(rebuilt, InvalidFileError)
    assert rebuilt.describe() == error.describe()


def test_email_status_claim_release_and_sent(store: SummaryStore) -> None:
    # Given an item whose e-mail is pending
    put(store, sample_summary(), email_status=EMAIL_PENDING)
    where = ("uploads", "in/july.csv", "v1", "e1")
    # When one invocation claims it, a second cannot
    assert store.claim_email(*where, now=1000, lease_seconds=50)
    assert not store.claim_email(*where, now=1010, lease_seconds=50)
    # But after the lease runs out it can be taken over
    assert store.claim_email(*where, now=1051, lease_seconds=50)
    # And a released claim is pending again
    store.release_email(*where)
    record = store.get(*where)
    assert record is not None and record.email_status == EMAIL_PENDING
    # When it is claimed and marked sent
    assert store.claim_email(*where, now=2000, lease_seconds=50)
    record = store.get(*where)
    assert record is not None and record.email_status == EMAIL_SENDING
    store.mark_email_sent(*where, message_id="m-1", recipients=("a@example.com",), sent_at=WHEN)
    # Then it is sent, and can no longer be claimed
    record = store.get(*where)
    assert record is not None
    assert record.email_status == EMAIL_SENT
    assert record.item["email_message_id"] == "m-1"
    assert record.item["email_to"] == ["a@example.com"]
    assert "email_claimed_until" not in record.item
    assert not store.claim_email(*where, now=99999, lease_seconds=50)


def test_get_of_a_missing_version_is_none(store: SummaryStore) -> None:
    assert store.get("uploads", "in/none.csv", "v1", None) is None
