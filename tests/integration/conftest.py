"""Shared fixtures for the handler's integration tests: moto's mock_aws with fake credentials,
clients created after the mock starts, a versioned bucket, and the handler's records as dicts."""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, overload
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from txsummary import handler as lambda_handler
from txsummary.aws import s3 as s3io
from txsummary.objects import ObjectRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EVENTS = Path(__file__).resolve().parents[1] / "events"
BUCKET = "txsummary-uploads-test"
REGION = "us-east-1"


Event = dict[str, Any]


def load_event(name: str) -> Event:
    event: Event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials only: nothing here can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[None]:
    """moto's mock_aws around the test; the handler's cached S3 client is rebuilt inside it."""
    with mock_aws():
        lambda_handler._deps.cache_clear()
        yield
    lambda_handler._deps.cache_clear()


@pytest.fixture
def s3(aws: None) -> S3Client:
    client: S3Client = boto3.client("s3", region_name=REGION)
    return client


@pytest.fixture
def bucket(s3: S3Client) -> str:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return BUCKET


@pytest.fixture
def put(s3: S3Client, bucket: str) -> Callable[[str, bytes], dict[str, Any]]:
    """Upload ``body`` at ``key``; returns the object's version id, etag and size."""

    def _put(key: str, body: bytes) -> dict[str, Any]:
        response = s3.put_object(Bucket=bucket, Key=key, Body=body)
        return {
            "versionId": response["VersionId"],
            "eTag": response["ETag"].strip('"'),
            "size": len(body),
        }

    return _put


@pytest.fixture
def make_event() -> Callable[..., Event]:
    """An AWS-shaped ObjectCreated event (from tests/events/s3_put.json) with one record per
    ``(key, object_info)``; keys are URL-encoded the way S3 encodes them."""

    def _make(*objects: tuple[str, dict[str, Any]], bucket: str = BUCKET) -> Event:
        template = load_event("s3_put.json")["Records"][0]
        records = []
        for key, info in objects:
            record = copy.deepcopy(template)
            record["s3"]["bucket"]["name"] = bucket
            record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
            record["s3"]["object"].update(info, key=quote_plus(key))
            if info.get("versionId") is None:
                record["s3"]["object"].pop("versionId", None)
            records.append(record)
        return {"Records": records}

    return _make


class Records(Sequence[dict[str, Any]]):
    """The JSON records a stream of log lines holds so far, parsed afresh on every access."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    def _all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._stream.getvalue().splitlines() if line]

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all())


@pytest.fixture
def records() -> Iterator[Records]:
    """The handler's log records, each as the JSON object CloudWatch would hold: what the
    Powertools Logger writes, one line per record."""
    stream = io.StringIO()
    handler = lambda_handler.logger.logger_handler
    assert isinstance(handler, logging.StreamHandler)
    saved = handler.setStream(stream)
    yield Records(stream)
    handler.setStream(saved)


@dataclass(frozen=True)
class FakeContext:
    """The attributes of Lambda's context object that Powertools' Logger reads."""

    function_name: str = "txsummary-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:txsummary-test"


def emf_lines(stdout: str) -> list[dict[str, Any]]:
    """The EMF records among the lines the function wrote to stdout."""
    found = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            found.append(json.loads(line))
    return found


@pytest.fixture
def body_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes the handler asks of every S3 body it opens; each read must return at most that."""
    reads: list[int] = []
    real_open = s3io.open_object

    def spy_open(*args: Any, **kwargs: Any) -> tuple[ObjectRef, BinaryIO]:
        read_ref, body = real_open(*args, **kwargs)
        real_read = body.read

        def read(n: int = -1) -> bytes:
            data = real_read(n)
            reads.append(n)
            assert len(data) <= max(n, 0)
            return data

        monkeypatch.setattr(body, "read", read)
        return read_ref, body

    monkeypatch.setattr(s3io, "open_object", spy_open)
    return reads
