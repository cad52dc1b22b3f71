"""``txsummary redrive``: send the events parked in the failure queue back to the function.

Lambda's on-failure destination puts one invocation record per event that ran out of retries:
``{"version", "timestamp", "requestContext": {"requestId", "functionArn", "condition",
"approximateInvokeCount"}, "requestPayload": <the event>, "responseContext": {"statusCode",
"executedVersion", "functionError"}, "responsePayload": <the error>}``. Each record's
``requestPayload`` is invoked again asynchronously, as S3 invoked it, and the message is deleted
only once Lambda accepted the invoke (202), so a failure keeps it. The function's effects
happen once per object version, so an event that is redriven twice costs a duplicate, not a
second e-mail.

A message that is not such a record, or is one for another function, stays where it is. Every
message the run received and kept is made visible again at the end, so a dry run leaves the
queue as it found it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        MessageTypeDef,
    )

ACCEPTED: Final = 202
BATCH: Final = 10  # SQS's maximum per ReceiveMessage
# Long enough that a run never sees its own kept messages again before it ends.
VISIBILITY_SECONDS: Final = 300

REDRIVEN: Final = "redriven"
WOULD_REDRIVE: Final = "would redrive"
NOT_A_RECORD: Final = "left: not a Lambda failure record"
OTHER_FUNCTION: Final = "left: a record of another function"
INVOKE_FAILED: Final = "kept: the invoke failed"
NOT_DELETED: Final = "redriven, but not deleted"


@dataclass(frozen=True, slots=True)
class Line:
    """What happened to one message."""

    message_id: str
    status: str
    detail: str

    def text(self) -> str:
        return f"{self.status:<36} {self.message_id}  {self.detail}"


@dataclass(slots=True)
class Totals:
    lines: list[Line] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def kept(self) -> int:
        """Messages left in the queue that needed the operator (not a record, failed invoke)."""
        done = (REDRIVEN, WOULD_REDRIVE, NOT_DELETED)
        return sum(1 for line in self.lines if line.status not in done)

    def text(self, dry_run: bool) -> str:
        done = WOULD_REDRIVE if dry_run else REDRIVEN
        return (
            f"{len(self.lines)} messages: {self.count(done)} {done}, "
            f"{self.count(INVOKE_FAILED)} invoke failed (kept), "
            f"{self.count(NOT_DELETED)} redriven but not deleted, "
            f"{self.count(NOT_A_RECORD) + self.count(OTHER_FUNCTION)} left in place"
        )


def function_name_of(name_or_arn: str) -> str:
    """``arn:aws:lambda:r:a:function:NAME[:qualifier]`` or ``NAME`` -> ``NAME``."""
    parts = name_or_arn.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[5] == "function":
        return parts[6]
    return name_or_arn


def parse_record(body: str) -> Mapping[str, Any] | None:
    """The invocation record in a message body, or None when the body is not one."""
    try:
        record = json.loads(body)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    context = record.get("requestContext")
    if not isinstance(context, dict) or "requestPayload" not in record:
        return None
    if not isinstance(context.get("functionArn"), str):
        return None
    return record


def describe_payload(payload: object) -> str:
    """A short account of the event: the objects an S3 event names, or the reconcile."""
    if isinstance(payload, dict):
        records = payload.get("Records")
        if isinstance(records, list):
            keys = [_s3_uri(r) for r in records if isinstance(r, dict)]
            found = [k for k in keys if k is not None]
            return ", ".join(found) or f"{len(records)} records, none of S3"
        if "txsummary" in payload:
            return f"txsummary: {payload['txsummary']}"
    return f"a {type(payload).__name__} payload"


def _s3_uri(record: Mapping[str, Any]) -> str | None:
    # As the event has it (keys URL-encoded): enough to tell the files apart in the output.
    s3 = record.get("s3")
    if not isinstance(s3, dict):
        return None
    bucket, key = s3.get("bucket"), s3.get("object")
    if not isinstance(bucket, dict) or not isinstance(key, dict):
        return None
    return f"s3://{bucket.get('name')}/{key.get('key')}"


def redrive(
    sqs: SQSClient,
    lambda_client: LambdaClient,
    queue_url: str,
    function: str,
    *,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> Totals:
    """Redrive every record in the queue once; stop when the queue returns no new message."""
    totals = Totals()
    kept: dict[str, str] = {}  # message id -> receipt handle, made visible again at the end
    try:
        for message in _messages(sqs, queue_url):
            line = _one(sqs, lambda_client, queue_url, function, message, dry_run=dry_run)
            if line.status != REDRIVEN:
                kept[message["MessageId"]] = message["ReceiptHandle"]
            totals.lines.append(line)
            say(line.text())
    finally:
        _release(sqs, queue_url, kept)
    say(totals.text(dry_run))
    return totals


def _messages(sqs: SQSClient, queue_url: str) -> Iterator[MessageTypeDef]:
    handled: set[str] = set()
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=BATCH,
            VisibilityTimeout=VISIBILITY_SECONDS,
            WaitTimeSeconds=1,  # a long poll asks every SQS server, so empty means empty
        )
        batch: list[MessageTypeDef] = response.get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in handled]
        if not fresh:  # empty, or only what this run already handled (its visibility ran out)
            return
        for message in fresh:
            handled.add(message["MessageId"])
            yield message


def _one(
    sqs: SQSClient,
    lambda_client: LambdaClient,
    queue_url: str,
    function: str,
    message: MessageTypeDef,
    *,
    dry_run: bool,
) -> Line:
    message_id = message["MessageId"]
    record = parse_record(message.get("Body", ""))
    if record is None:
        return Line(message_id, NOT_A_RECORD, "its body has no requestContext/requestPayload")
    context = record["requestContext"]
    source = function_name_of(str(context["functionArn"]))
    if source != function_name_of(function):
        return Line(message_id, OTHER_FUNCTION, f"it is for {source}, not {function}")
    payload = record["requestPayload"]
    detail = (
        f"{describe_payload(payload)} (request {context.get('requestId')}, "
        f"{context.get('condition')}, {context.get('approximateInvokeCount')} attempts)"
    )
    if dry_run:
        return Line(message_id, WOULD_REDRIVE, detail)
    try:
        response = lambda_client.invoke(
            FunctionName=function,
            InvocationType="Event",
            Payload=json.dumps(payload).encode("utf-8"),
        )
    except (ClientError, BotoCoreError) as exc:
        return Line(message_id, INVOKE_FAILED, f"{detail}: {exc}")
    status = response.get("StatusCode")
    if status != ACCEPTED:
        return Line(message_id, INVOKE_FAILED, f"{detail}: Lambda answered {status}, not 202")
    try:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    except (ClientError, BotoCoreError) as exc:
        # Invoked, but still queued: a later redrive sends it again, which costs a duplicate.
        return Line(message_id, NOT_DELETED, f"{detail}: {exc}")
    return Line(message_id, REDRIVEN, detail)


def _release(sqs: SQSClient, queue_url: str, kept: Mapping[str, str]) -> None:
    """Make the messages this run kept visible again, ten at a time."""
    handles = list(kept.items())
    for start in range(0, len(handles), BATCH):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, (_, handle) in enumerate(handles[start : start + BATCH])
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)


def run_cli(queue_url: str, function: str, *, dry_run: bool, region: str | None = None) -> int:
    """``txsummary redrive``: 0 when every message was redriven (or the queue was empty), 1 when
    some stay for the operator, 3 when the queue or Lambda could not be reached."""
    from txsummary.aws import clients  # noqa: PLC0415

    try:
        totals = redrive(
            clients.sqs(region), clients.lambda_(region), queue_url, function, dry_run=dry_run
        )
    except (ClientError, BotoCoreError) as exc:
        print(f"txsummary redrive: {exc}", file=sys.stderr)
        return 3
    return 1 if totals.kept else 0
