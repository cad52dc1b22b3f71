"""S3 adapter: open an object as a stream the summarizer reads in chunks; never buffers it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, cast
from urllib.parse import urlparse

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_ATTEMPTS = 5


def s3_client() -> S3Client:
    """A client with standard retries (throttling and transient errors are retried by botocore)."""
    import boto3  # noqa: PLC0415 - keeps boto3 off the import path of purely local runs
    from botocore.config import Config  # noqa: PLC0415

    retries = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS})
    return boto3.client("s3", config=retries)


@dataclass(frozen=True, slots=True)
class S3Object:
    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    size: int
    body: BinaryIO
    metadata: Mapping[str, str] = field(default_factory=dict)  # user metadata (x-amz-meta-*)
    last_modified: datetime | None = None  # in UTC


def open_object(client: S3Client, bucket: str, key: str, version_id: str | None = None) -> S3Object:
    """GetObject, returning its streaming body unread. NoSuchKey, AccessDenied... propagate."""
    if version_id:
        response = client.get_object(Bucket=bucket, Key=key, VersionId=version_id)
    else:
        response = client.get_object(Bucket=bucket, Key=key)
    return S3Object(
        bucket=bucket,
        key=key,
        version_id=response.get("VersionId"),
        etag=response.get("ETag", "").strip('"') or None,
        size=int(response.get("ContentLength", 0)),
        body=cast(BinaryIO, response["Body"]),
        metadata=dict(response.get("Metadata", {})),
        last_modified=_utc(response.get("LastModified")),
    )


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key). Raises ValueError when either part is missing."""
    parsed = urlparse(url)
    key = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not key:
        raise ValueError(f"not an s3://bucket/key URL: {url}")
    return parsed.netloc, key
