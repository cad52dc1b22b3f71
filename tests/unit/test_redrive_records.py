"""Which failure-queue messages redrive treats as Lambda's destination records, and how it names
what they carry. Pure: no queue, no Lambda."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from txsummary import contract
from txsummary.aws import redrive

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:txsummary-fn:$LATEST"


def record(payload: Any) -> dict[str, Any]:
    return {
        "version": "1.0",
        "requestContext": {"requestId": "r1", "functionArn": ARN, "condition": "RetriesExhausted"},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@given(json_values)
def test_any_json_that_lacks_the_record_s_parts_is_not_a_record(value: Any) -> None:
    # Given any JSON value that is not shaped like a destination record
    shaped = (
        isinstance(value, dict)
        and "requestPayload" in value
        and isinstance(value.get("requestContext"), dict)
        and isinstance(value["requestContext"].get("functionArn"), str)
    )
    # When parsed / Then it is a record exactly when it has those parts, and never raises
    assert (redrive.parse_record(json.dumps(value)) is not None) == shaped


@given(json_values)
def test_a_record_keeps_its_payload_whatever_it_is(payload: Any) -> None:
    parsed = redrive.parse_record(json.dumps(record(payload)))
    assert parsed is not None
    assert parsed["requestPayload"] == payload


def test_bodies_that_are_not_json_are_not_records() -> None:
    for body in ("", "not json", "{", "[1, 2]", '"text"'):
        assert redrive.parse_record(body) is None


def test_the_payload_is_described_by_its_objects_or_as_the_reconcile() -> None:
    s3_event = {
        "Records": [
            {"s3": {"bucket": {"name": "b"}, "object": {"key": "in/a.csv"}}},
            {"s3": {"bucket": {"name": "b"}, "object": {"key": "in/b.csv"}}},
        ]
    }
    assert redrive.describe_payload(s3_event) == "s3://b/in/a.csv, s3://b/in/b.csv"
    assert redrive.describe_payload(contract.RECONCILE_EVENT) == "txsummary: reconcile"
    assert redrive.describe_payload({"Records": [{"eventSource": "aws:sqs"}]}) == (
        "1 records, none of S3"
    )
    assert redrive.describe_payload({"Records": [{"s3": {"bucket": "b"}}]}) == (
        "1 records, none of S3"
    )
    assert redrive.describe_payload([1]) == "a list payload"


@given(json_values)
def test_describing_any_payload_never_raises(payload: Any) -> None:
    assert isinstance(redrive.describe_payload({"Records": [payload, {"s3": payload}]}), str)


def test_function_names_compare_without_qualifier_or_arn() -> None:
    assert redrive.function_name_of(ARN) == "txsummary-fn"
    assert redrive.function_name_of("txsummary-fn") == "txsummary-fn"
    assert redrive.function_name_of("arn:aws:s3:::bucket") == "arn:aws:s3:::bucket"
