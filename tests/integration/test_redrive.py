"""``txsummary redrive`` on moto's SQS, with botocore's Stubber standing in for Lambda's Invoke
(moto runs async invokes in docker): records are re-invoked with their payload and deleted only
once accepted; anything else stays in the queue, visible again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.integration.conftest import REGION, load_event
from txsummary import cli
from txsummary.aws import clients, redrive

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

FUNCTION = "txsummary-fn"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}:$LATEST"


def failure_record(key: str, *, function_arn: str = ARN) -> dict[str, Any]:
    """Lambda's on-failure destination record for an S3 event that ran out of retries."""
    event = load_event("s3_put.json")
    event["Records"][0]["s3"]["object"]["key"] = key
    return {
        "version": "1.0",
        "timestamp": "2026-12-01T10:00:00.000Z",
        "requestContext": {
            "requestId": f"req-{key}",
            "functionArn": function_arn,
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorMessage": "S3 unreachable", "errorType": "ConnectionError"},
    }


@pytest.fixture
def sqs(aws: None) -> SQSClient:
    client: SQSClient = boto3.client("sqs", region_name=REGION)
    return client


@pytest.fixture
def queue(sqs: SQSClient) -> str:
    return sqs.create_queue(QueueName="txsummary-failures")["QueueUrl"]


@pytest.fixture
def lambda_stub(aws: None) -> Iterator[tuple[LambdaClient, Stubber]]:
    client: LambdaClient = boto3.client("lambda", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber


def send(sqs: SQSClient, queue: str, body: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody=body)


def bodies(sqs: SQSClient, queue: str) -> list[str]:
    """Every message now visible in the queue (received, then made visible again)."""
    found = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return sorted(m["Body"] for m in found.get("Messages", []))


def expect_invoke(stubber: Stubber, record: dict[str, Any], status: int = 202) -> None:
    stubber.add_response(
        "invoke",
        {"StatusCode": status},
        {
            "FunctionName": FUNCTION,
            "InvocationType": "Event",
            "Payload": json.dumps(record["requestPayload"]).encode(),
        },
    )


def test_records_are_reinvoked_and_deleted_a_failed_invoke_and_strangers_are_kept(
    sqs: SQSClient, queue: str, lambda_stub: tuple[LambdaClient, Stubber]
) -> None:
    # Given two failure records, a message that is not one, and a record of another function
    client, stubber = lambda_stub
    ok, failing = failure_record("in/ok.csv"), failure_record("in/fails.csv")
    stranger = failure_record("in/x.csv", function_arn=ARN.replace(FUNCTION, "someone-else"))
    for body in (json.dumps(ok), json.dumps(failing), "not json", json.dumps(stranger)):
        send(sqs, queue, body)
    # And Lambda accepts the first invoke and throttles the second
    expect_invoke(stubber, ok)
    stubber.add_client_error("invoke", "ResourceConflictException", http_status_code=409)
    said: list[str] = []

    # When redriven
    totals = redrive.redrive(sqs, client, queue, FUNCTION, say=said.append)

    # Then the accepted one is gone; the failed one, the stranger and the non-record stay,
    # visible again for the next run
    stubber.assert_no_pending_responses()
    assert bodies(sqs, queue) == sorted([json.dumps(failing), "not json", json.dumps(stranger)])
    statuses = [line.status for line in totals.lines]
    assert statuses == [
        redrive.REDRIVEN,
        redrive.INVOKE_FAILED,
        redrive.NOT_A_RECORD,
        redrive.OTHER_FUNCTION,
    ]
    assert totals.kept == 3
    # And it printed one line per message, naming the object, then the total
    assert len(said) == 5
    assert "s3://" in said[0] and "in/ok.csv" in said[0] and "RetriesExhausted" in said[0]
    assert "ResourceConflictException" in said[1]
    assert said[-1].startswith("4 messages: 1 redriven, 1 invoke failed")


def test_a_status_other_than_accepted_keeps_the_message(
    sqs: SQSClient, queue: str, lambda_stub: tuple[LambdaClient, Stubber]
) -> None:
    # Given one record, and Lambda answering 200 (a synchronous invoke, not an accepted event)
    client, stubber = lambda_stub
    record = failure_record("in/a.csv")
    send(sqs, queue, json.dumps(record))
    expect_invoke(stubber, record, status=200)
    # When redriven / Then it is kept
    totals = redrive.redrive(sqs, client, queue, FUNCTION, say=lambda _: None)
    assert [line.status for line in totals.lines] == [redrive.INVOKE_FAILED]
    assert bodies(sqs, queue) == [json.dumps(record)]


def test_a_dry_run_changes_nothing(
    sqs: SQSClient, queue: str, lambda_stub: tuple[LambdaClient, Stubber]
) -> None:
    # Given two records and no invoke expected (the Stubber fails on any call)
    client, stubber = lambda_stub
    records = [json.dumps(failure_record(k)) for k in ("in/a.csv", "in/b.csv")]
    for body in records:
        send(sqs, queue, body)
    # When dry-run
    totals = redrive.redrive(sqs, client, queue, FUNCTION, dry_run=True, say=lambda _: None)
    # Then it says what it would do, invoked nothing, and every message is still visible
    assert [line.status for line in totals.lines] == [redrive.WOULD_REDRIVE] * 2
    stubber.assert_no_pending_responses()
    assert bodies(sqs, queue) == sorted(records)


def test_an_empty_queue_ends_at_once(
    sqs: SQSClient, queue: str, lambda_stub: tuple[LambdaClient, Stubber]
) -> None:
    client, _ = lambda_stub
    said: list[str] = []
    totals = redrive.redrive(sqs, client, queue, FUNCTION, say=said.append)
    assert totals.lines == []
    assert said == [
        "0 messages: 0 redriven, 0 invoke failed (kept), 0 redriven but not "
        "deleted, 0 left in place"
    ]


def test_more_than_one_batch_is_all_redriven(
    sqs: SQSClient, queue: str, lambda_stub: tuple[LambdaClient, Stubber]
) -> None:
    # Given more records than one ReceiveMessage returns
    client, stubber = lambda_stub
    for i in range(13):
        send(sqs, queue, json.dumps(failure_record(f"in/{i}.csv")))
    for _ in range(13):
        stubber.add_response("invoke", {"StatusCode": 202})
    # When redriven / Then all are invoked once and the queue is empty
    totals = redrive.redrive(sqs, client, queue, FUNCTION, say=lambda _: None)
    assert totals.count(redrive.REDRIVEN) == 13
    stubber.assert_no_pending_responses()
    assert bodies(sqs, queue) == []


def test_the_function_may_be_named_by_arn() -> None:
    assert redrive.function_name_of(ARN) == FUNCTION
    assert redrive.function_name_of(f"arn:aws:lambda:{REGION}:1:function:{FUNCTION}") == FUNCTION
    assert redrive.function_name_of(FUNCTION) == FUNCTION


def test_the_cli_runs_it(
    sqs: SQSClient,
    queue: str,
    lambda_stub: tuple[LambdaClient, Stubber],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given one record, and the CLI's client factory returning the stubbed Lambda client
    client, stubber = lambda_stub
    record = failure_record("in/a.csv")
    send(sqs, queue, json.dumps(record))
    expect_invoke(stubber, record)
    monkeypatch.setattr(clients, "lambda_", lambda region=None: client)
    # When `txsummary redrive QUEUE --function NAME` runs
    code = cli.main(["redrive", queue, "--function", FUNCTION])
    # Then it redrove it and exited 0
    out = capsys.readouterr().out
    assert code == 0
    assert "redriven" in out and "in/a.csv" in out
    assert bodies(sqs, queue) == []
