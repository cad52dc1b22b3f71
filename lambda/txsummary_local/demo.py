"""The whole pipeline on one machine, with no AWS account and no Docker (``txsummary demo``).

An embedded moto server on a free loopback port stands in for AWS. It gets the deployed stack's
shape: a versioned upload bucket whose ObjectCreated notification (``.csv`` and ``.csv.gz``
suffixes) goes to an SQS queue, because moto cannot run container Lambdas, and the log group
``/aws/lambda/<function name>``. A small runner receives the real S3 event from the queue and
invokes the same ``txsummary.handler.handler`` with it, as Lambda's async invoke would (two
retries on failure). What the function writes to stdout, the Powertools JSON log records and
the EMF metric records, is shipped line by line to the log group with watchtower, as the Lambda
runtime ships it. Finally the log group is read back, like ``aws logs tail``, and the records
are printed.

The side effects are on, as the stack sets them: the summary table, the SES sender (the
messages moto keeps are saved as ``out/<key>.eml`` and an ``.html`` a browser shows with the logo)
and the lake bucket (its Parquet read back with pandas). The first event is then delivered a
second time, to show that a redelivery is a duplicate with no second e-mail.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import boto3
import pandas as pd
import watchtower
from boto3.dynamodb.types import TypeDeserializer
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends

from txsummary import contract
from txsummary import handler as lambda_handler
from txsummary.aws.settings import Settings
from txsummary.contract import Env
from txsummary.core import email
from txsummary.core.jsonout import dumps
from txsummary.core.money import format_cents
from txsummary_local import resources

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

REGION = "us-east-1"
BUCKET = "txsummary-uploads-local"
QUEUE = "txsummary-s3-events-local"
ASYNC_RETRIES = 2  # Lambda's default MaximumRetryAttempts for async invokes
RECEIVE_TIMEOUT_S = 20.0
# Outside the service's logger tree, so Powertools' filters leave it alone.
STDOUT_LOGGER = "txsummary_local.stdout"
DEFAULT_FILE = Path("transactions.csv")
DEFAULT_OUT = Path("out")
TABLE = "txsummary-summaries-local"
LAKE_BUCKET = "txsummary-lake-local"
SENDER = "txsummary@example.com"
RECIPIENT = "holder@example.com"
MOTO_ACCOUNT = "123456789012"  # moto's default account
# The function's side effects, as the stack sets them (names from the contract).
_EFFECTS_ENV = {
    Env.SUMMARY_TABLE: TABLE,
    Env.EMAIL_FROM: SENDER,
    Env.EMAIL_TO: RECIPIENT,
    Env.LAKE_BUCKET: LAKE_BUCKET,
    Env.UPLOAD_BUCKET: BUCKET,
}

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
_UNSET_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@contextlib.contextmanager
def _patched_env(values: dict[str, str], unset: tuple[str, ...]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (*values, *unset)}
    os.environ.update(values)
    for name in unset:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _StdoutToLogs(io.TextIOBase):
    """Captures the function's stdout line by line into the log group, like the runtime."""

    def __init__(self) -> None:
        self._logger = logging.getLogger(STDOUT_LOGGER)
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line:
                self._logger.info(line)
        return len(text)


@dataclass(frozen=True, slots=True)
class LocalContext:
    """The attributes of Lambda's context object that a handler may read."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass
class Invocation:
    request_id: str
    keys: list[str]
    attempts: int
    event: dict[str, Any] = field(default_factory=dict)
    result: dict[str, str] | None = None
    error: str | None = None


@dataclass
class Emulation:
    """A running moto server holding the stack's shape, and clients pointed at it."""

    server: ThreadedMotoServer
    endpoint: str
    function_name: str
    s3: S3Client
    sqs: SQSClient
    logs: CloudWatchLogsClient
    dynamodb: DynamoDBClient
    queue_url: str
    log_group: str
    log_stream: str
    invocations: list[Invocation] = field(default_factory=list)

    # -- the user's side ------------------------------------------------------------------------
    def upload(self, path: Path, key: str | None = None) -> str:
        key = key or path.name
        self.s3.upload_file(str(path), BUCKET, key)
        return key

    # -- Lambda's side --------------------------------------------------------------------------
    def deliver(self, expected: int, timeout_s: float = RECEIVE_TIMEOUT_S) -> list[Invocation]:
        """Receive S3 events from the queue and invoke the handler with each, until ``expected``
        events have been handled or the timeout passes."""
        handled: list[Invocation] = []
        deadline = time.monotonic() + timeout_s
        while len(handled) < expected and time.monotonic() < deadline:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for message in response.get("Messages", []):
                event = json.loads(message["Body"])
                invocation = self.invoke(event)
                if invocation.keys:  # S3 also sends an s3:TestEvent when notifications are set
                    handled.append(invocation)
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return handled

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """One async invoke: the handler, retried up to twice when it raises."""
        request_id = str(uuid.uuid4())
        keys = [r.get("s3", {}).get("object", {}).get("key", "") for r in event.get("Records", [])]
        invocation = Invocation(request_id, keys, attempts=0, event=event)
        context = LocalContext(
            self.function_name, request_id, log_group_name=self.log_group,
            log_stream_name=self.log_stream,
        )  # fmt: skip
        with _shipping(self, request_id):
            for _ in range(1 + ASYNC_RETRIES):
                invocation.attempts += 1
                try:
                    invocation.result = lambda_handler.handler(
                        event, cast("LambdaContext", context)
                    )
                except Exception as exc:  # the runtime reports it; Lambda retries
                    invocation.error = f"{type(exc).__name__}: {exc}"
                    continue
                invocation.error = None
                break
        self.invocations.append(invocation)
        return invocation

    # -- reading back ---------------------------------------------------------------------------
    def tail(self) -> list[tuple[int, str]]:
        """Every event of the log group, oldest first, like ``aws logs tail``."""
        paginator = self.logs.get_paginator("filter_log_events")
        events = [
            (int(e["timestamp"]), e["message"])
            for page in paginator.paginate(logGroupName=self.log_group)
            for e in page.get("events", [])
        ]
        return sorted(events, key=lambda item: item[0])

    def items(self) -> list[dict[str, Any]]:
        """The summary table's items, as plain values (numbers as Decimal)."""
        deserializer = TypeDeserializer()
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in items]

    def emails(self) -> list[Any]:
        """The messages SES accepted (moto keeps them; its server shares this process)."""
        return list(ses_backends[MOTO_ACCOUNT][REGION].sent_messages)

    def lake_objects(self) -> list[str]:
        return resources.lake_objects(self.s3, LAKE_BUCKET)

    def lake_frame(self, key: str) -> pd.DataFrame:
        return resources.lake_frame(self.s3, LAKE_BUCKET, key)


@contextlib.contextmanager
def _shipping(emu: Emulation, request_id: str) -> Iterator[None]:
    """For one invocation: every line the function writes to stdout goes to the log group."""
    ship = watchtower.CloudWatchLogHandler(
        log_group_name=emu.log_group,
        log_stream_name=emu.log_stream,
        boto3_client=emu.logs,
        create_log_group=False,
    )
    ship.setFormatter(logging.Formatter("%(message)s"))
    lines = logging.getLogger(STDOUT_LOGGER)
    lines.setLevel(logging.INFO)
    lines.propagate = False  # the terminal shows what is read back, not the raw lines
    lines.addHandler(ship)
    capture = _StdoutToLogs()
    # The Powertools handler holds the stream it was built with; point it at the capture too.
    records = lambda_handler.logger.logger_handler
    assert isinstance(records, logging.StreamHandler)
    saved = records.setStream(capture)
    try:
        with contextlib.redirect_stdout(capture):
            yield
    finally:
        records.setStream(saved)
        lines.removeHandler(ship)
        ship.close()  # type: ignore[no-untyped-call]  # flushes the batch to the log group


@contextlib.contextmanager
def emulation(function_name: str | None = None) -> Iterator[Emulation]:
    """Start moto on a free loopback port, create the stack's shape, stop it at the end."""
    name = function_name or lambda_handler.SETTINGS.function_name
    werkzeug = logging.getLogger("werkzeug")  # moto's HTTP access log
    saved_level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        _reset(endpoint)  # moto keeps state per process: start from an empty account
        env = {**_FAKE_ENV, **_EFFECTS_ENV, "AWS_ENDPOINT_URL": endpoint}
        with _patched_env(env, _UNSET_ENV):
            # A fresh execution environment: the handler reads the stack's settings and builds
            # its clients against the emulation on its first invocation, and forgets them when
            # the emulation ends.
            saved_settings = lambda_handler.SETTINGS
            lambda_handler.SETTINGS = Settings.from_env()
            lambda_handler._deps.cache_clear()
            ses_backends[MOTO_ACCOUNT][REGION].sent_messages.clear()
            try:
                yield _create_stack(server, endpoint, name)
            finally:
                lambda_handler._deps.cache_clear()
                lambda_handler.SETTINGS = saved_settings
    finally:
        server.stop()
        werkzeug.setLevel(saved_level)


def _reset(endpoint: str) -> None:
    url = f"{endpoint}/moto-api/reset"  # endpoint is the loopback server started above
    request = urllib.request.Request(url, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        response.read()


def _create_stack(server: ThreadedMotoServer, endpoint: str, name: str) -> Emulation:
    s3: S3Client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    sqs: SQSClient = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
    logs: CloudWatchLogsClient = boto3.client("logs", endpoint_url=endpoint, region_name=REGION)
    dynamodb: DynamoDBClient = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    sesv2: SESV2Client = boto3.client("sesv2", endpoint_url=endpoint, region_name=REGION)

    # The side effects' resources, as infra/ declares them (tx_table, tx_email, tx_lake).
    resources.create_summary_table(dynamodb, TABLE)
    sesv2.create_email_identity(EmailIdentity=SENDER)  # moto verifies it at once
    s3.create_bucket(Bucket=LAKE_BUCKET)

    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": f"summarize-{suffix.strip('.').replace('.', '-')}",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": suffix}]}},
                }
                for suffix in contract.UPLOAD_SUFFIXES
            ]
        },
    )
    log_group = f"/aws/lambda/{name}"
    logs.create_log_group(logGroupName=log_group)
    log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    logs.create_log_stream(logGroupName=log_group, logStreamName=log_stream)
    return Emulation(
        server, endpoint, name, s3, sqs, logs, dynamodb, queue_url, log_group, log_stream
    )


# -- what the user sees ------------------------------------------------------------------------


def _print_event(timestamp_ms: int, message: str, out: TextIO) -> None:
    when = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).strftime("%H:%M:%S")
    try:
        record = json.loads(message)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        out.write(f"{when}  {message}\n")
        return
    if "_aws" in record:
        names = [m["Name"] for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        values = ", ".join(f"{n}={_metric_value(record.get(n))}" for n in names)
        out.write(f"{when}  METRICS {record.get('key', '')}: {values}\n")
        return
    where = f"s3://{record['bucket']}/{record['key']}" if record.get("bucket") else ""
    head = f"{when}  {record.get('level', '?')} {record.get('outcome', '')} {where}".rstrip()
    if record.get("version_id"):
        head += f" (version {record['version_id']})"
    out.write(head + "\n")
    if record.get("outcome") == "summarized":
        out.write(record["message"].rstrip("\n") + "\n")
    else:
        detail = str(record.get("message", ""))
        if record.get("exception"):  # the traceback's last line: the error and its message
            detail += "\n" + str(record["exception"]).rstrip().splitlines()[-1]
        out.write("".join(f"  {line}\n" for line in detail.splitlines() if line))
    out.write("\n")


def _metric_value(value: Any) -> str:
    """EMF values as written: Powertools writes a list of floats; show 1 for [1.0]."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def run_demo(files: list[Path], out: TextIO, out_dir: Path = DEFAULT_OUT) -> int:
    """Upload each file (default ``./transactions.csv``) to the emulated bucket, let the pipeline
    run, and print the log group's records, then the side effects: the stored items, the
    e-mails (saved under ``out_dir``) and the lake's Parquet. The first event is delivered again
    to show it is a duplicate. 0 when every file was summarized, 1 otherwise (a rejected or
    failed file, or a name the notification filter does not match), 2 when a file is missing."""
    paths = files or [DEFAULT_FILE]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        out.write(f"txsummary demo: no such file: {', '.join(missing)}\n")
        return 2

    with emulation() as emu:
        out.write(
            f"AWS emulation (moto) on {emu.endpoint}: bucket {BUCKET} (versioned), "
            f"ObjectCreated *.csv|*.csv.gz -> SQS -> {emu.function_name}, "
            f"log group {emu.log_group}; table {TABLE}, e-mail {SENDER} -> {RECIPIENT}, "
            f"lake s3://{LAKE_BUCKET}\n"
        )
        expected = 0
        for path in paths:
            key = emu.upload(path)
            if key.endswith(contract.UPLOAD_SUFFIXES):
                expected += 1
                out.write(f"uploaded {path} -> s3://{BUCKET}/{key}\n")
            else:
                out.write(
                    f"uploaded {path} -> s3://{BUCKET}/{key}: no notification, the bucket's "
                    f"suffix filters are {', '.join(contract.UPLOAD_SUFFIXES)}\n"
                )
        invocations = emu.deliver(expected)
        _print_failures(invocations, out)
        events = emu.tail()
        out.write(f"\n$ aws logs tail {emu.log_group}  ({len(events)} events)\n\n")
        for timestamp_ms, message in events:
            _print_event(timestamp_ms, message, out)

        _print_items(emu, out)
        _save_emails(emu, out_dir, out)
        _print_lake(emu, out)
        if invocations:
            _redeliver(emu, invocations[0], len(events), out)
            _reconcile(emu, paths[0], out)

    outcomes = [o for inv in invocations for o in (inv.result or {}).values()]
    ok = not any(inv.error for inv in invocations) and outcomes.count("summarized") == len(paths)
    return 0 if ok else 1


def _print_failures(invocations: list[Invocation], out: TextIO) -> None:
    for inv in invocations:
        if inv.error:
            out.write(
                f"invocation {inv.request_id} failed {inv.attempts} times, last with "
                f"{inv.error}; Lambda would now send the event to the on-failure queue\n"
            )


def _print_items(emu: Emulation, out: TextIO) -> None:
    items = emu.items()
    out.write(f"\n$ aws dynamodb scan --table-name {TABLE}  ({len(items)} items)\n\n")
    for item in items:
        for name in sorted(item, key=lambda n: (n not in ("pk", "sk"), n)):
            value = item[name]
            text = value if isinstance(value, str) else dumps(value)
            out.write(f"  {name}: {text}\n")
        out.write("\n")


def _save_emails(emu: Emulation, out_dir: Path, out: TextIO) -> None:
    """Each message SES accepted: the MIME as sent (.eml) and its HTML for a browser (.html,
    the logo's cid: reference swapped for a data: URI)."""
    keys = {str(i.get("email_message_id")): str(i["key"]) for i in emu.items()}
    for message in emu.emails():
        raw = message.raw_data.encode("utf-8")
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        subject = str(parsed["Subject"])
        # out/<key>: the object's key, as a file name
        key = keys.get(message.id, "message")
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._") or "message"
        out_dir.mkdir(parents=True, exist_ok=True)
        eml, html = out_dir / f"{stem}.eml", out_dir / f"{stem}.html"
        eml.write_bytes(raw)
        part = parsed.get_body(preferencelist=("html",))
        if part is not None:
            html.write_text(email.browser_html(str(part.get_content())), encoding="utf-8")
        recipients = ", ".join(sorted(set(message.destinations)))
        out.write(f"e-mail sent to {recipients}: {subject!r}\n  saved as {eml} and {html}\n\n")


def _print_lake(emu: Emulation, out: TextIO) -> None:
    keys = emu.lake_objects()
    balances = {
        (str(i["bucket"]), str(i["key"]), str(i.get("version_id") or i.get("etag"))): int(
            i["total_balance_cents"]
        )
        for i in emu.items()
        if i["outcome"] == "summarized"
    }
    out.write(f"$ aws s3 ls --recursive s3://{LAKE_BUCKET}/  ({len(keys)} objects)\n\n")
    for key in keys:
        frame = emu.lake_frame(key)
        total = int(frame["amount_cents"].sum())
        source = (
            (
                str(frame["source_bucket"][0]),
                str(frame["source_key"][0]),
                str(frame["source_version"][0]),
            )
            if len(frame)
            else ("", "", "")
        )
        summary = balances.get(source)
        verdict = "equal to" if summary == total else "NOT equal to"
        out.write(
            f"s3://{LAKE_BUCKET}/{key}: {len(frame)} rows read back with pandas; their balance "
            f"{format_cents(total)} is {verdict} the summary's "
            f"{'?' if summary is None else format_cents(summary)}\n"
        )
        shown = frame[["line", "id", "date", "year", "month", "day", "amount", "amount_cents"]]
        out.write("".join(f"  {line}\n" for line in shown.head(10).to_string().splitlines()))
        out.write("\n")


def _reconcile(emu: Emulation, path: Path, out: TextIO) -> None:
    """An upload whose event never came (Lambda may drop one under a backlog): the scheduled
    reconcile finds the version without a record and gives it its verdict."""
    key = f"no-event/{path.name}"
    emu.upload(path, key)
    emu.sqs.purge_queue(QueueUrl=emu.queue_url)  # the event is lost
    seen = len(emu.tail())
    event = {**contract.RECONCILE_EVENT, "min_age_seconds": 0}
    out.write(f"\nuploaded {path} -> s3://{BUCKET}/{key}, its event dropped; the schedule sends "
              f"{json.dumps(event)}:\n\n")  # fmt: skip
    emu.invoke(event)
    for timestamp_ms, message in emu.tail()[seen:]:
        _print_event(timestamp_ms, message, out)
    out.write(f"items: {len(emu.items())}; lake objects: {len(emu.lake_objects())}\n")


def _redeliver(emu: Emulation, first: Invocation, seen: int, out: TextIO) -> None:
    """Deliver the first event again, as S3 may: a duplicate, with no second e-mail."""
    sent = len(emu.emails())
    again = emu.invoke(first.event)
    events = emu.tail()[seen:]
    out.write(f"delivering the same event again: {again.result}\n\n")
    for timestamp_ms, message in events:
        _print_event(timestamp_ms, message, out)
    second = len(emu.emails()) - sent
    out.write(
        f"e-mails sent by the second delivery: {second}"
        f"{' (no second e-mail)' if second == 0 else ''}; items: {len(emu.items())}; "
        f"lake objects: {len(emu.lake_objects())}\n"
    )
