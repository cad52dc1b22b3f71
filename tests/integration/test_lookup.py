"""The reconcile's record lookup on moto's DynamoDB (BatchGetItem), and with a Stubber for the
unprocessed keys a throttled table returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.integration.conftest import REGION
from tests.integration.effects_support import create_table
from txsummary.aws.lookup import LookupIncomplete, RecordLookup
from txsummary.aws.store import item_key
from txsummary.objects import ObjectRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def refs(n: int) -> list[ObjectRef]:
    # Half versioned, half keyed by ETag (an unversioned bucket)
    return [
        ObjectRef("b", f"k{i}.csv", version_id=f"v{i}" if i % 2 else None, etag=f"e{i}")
        for i in range(n)
    ]


def put_item(client: DynamoDBClient, table: str, ref: ObjectRef) -> None:
    key = item_key(ref)
    client.put_item(TableName=table, Item={k: {"S": v} for k, v in key.items()})


@pytest.fixture
def dynamodb(aws: None) -> DynamoDBClient:
    client: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    return client


def test_every_ref_is_answered_in_order_across_batches(dynamodb: DynamoDBClient) -> None:
    # Given 250 versions, every seventh recorded, asked with one repeated
    table = create_table(dynamodb)
    versions = refs(250)
    for ref in versions[::7]:
        put_item(dynamodb, table, ref)
    asked = [*versions, versions[7]]
    # When looked up / Then each answer is whether that version has its item
    answers = RecordLookup(dynamodb, table).have_records(asked)
    assert answers == [i % 7 == 0 for i in range(250)] + [True]


def unprocessed(table: str, keys: list[dict[str, str]]) -> dict[str, Any]:
    wire = [{"pk": {"S": k["pk"]}, "sk": {"S": k["sk"]}} for k in keys]
    return {"Responses": {table: []}, "UnprocessedKeys": {table: {"Keys": wire}}}


def test_unprocessed_keys_are_asked_again_until_answered(aws: None) -> None:
    # Given a table that throttles the first round: nothing answered, everything unprocessed
    client: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    versions = refs(2)
    keys = [item_key(r) for r in versions]
    pauses: list[float] = []
    with Stubber(client) as stubber:
        stubber.add_response("batch_get_item", unprocessed("t", keys))
        found = {"Responses": {"t": [{"pk": {"S": keys[1]["pk"]}, "sk": {"S": keys[1]["sk"]}}]}}
        stubber.add_response("batch_get_item", found)
        # When looked up / Then the second round answers, after a pause
        answers = RecordLookup(client, "t", sleep=pauses.append).have_records(versions)
        stubber.assert_no_pending_responses()
    assert answers == [False, True]
    assert len(pauses) == 1


def test_a_table_that_never_answers_raises(aws: None) -> None:
    client: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    versions = refs(1)
    keys = [item_key(r) for r in versions]
    with Stubber(client) as stubber:
        for _ in range(8):
            stubber.add_response("batch_get_item", unprocessed("t", keys))
        with pytest.raises(LookupIncomplete, match="unprocessed"):
            RecordLookup(client, "t", sleep=lambda _: None).have_records(versions)
