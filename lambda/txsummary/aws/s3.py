"""S3 adapter: open an object version as a stream the summarizer reads in chunks; never
buffers it. A version deleted before it was read raises :class:`ObjectGone`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, cast
from urllib.parse import urlparse

from txsummary.objects import ObjectRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_ATTEMPTS = 5


def s3_client() -> S3Client:
    """A client with standard retries (throttling and transient errors are retried by botocore)."""
    import boto3  # noqa: PLC0415 - keeps boto3 off the import path of purely local runs
    from botocore.config import Config  # noqa: PLC0415

    retries = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS})
    return boto3.client("s3", config=retries)


class ObjectGone(Exception):
    """The version named no longer exists (deleted before it was read): nothing to do."""

    def __init__(self, ref: ObjectRef, code: str) -> None:
        super().__init__(f"{ref.uri} ({ref.version_id or 'latest'}): {code}")
        self.code = code


_GONE_CODES = frozenset({"NoSuchKey", "NoSuchVersion"})


def open_object(client: S3Client, ref: ObjectRef) -> tuple[ObjectRef, BinaryIO]:
    """GetObject for the version ``ref`` names: the version as S3 returned it (id, ETag, size,
    metadata, upload time) and its streaming body, unread. :class:`ObjectGone` when it was
    deleted; AccessDenied, throttling and the network propagate."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        if ref.version_id:
            response = client.get_object(Bucket=ref.bucket, Key=ref.key, VersionId=ref.version_id)
        else:
            response = client.get_object(Bucket=ref.bucket, Key=ref.key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _GONE_CODES:
            raise ObjectGone(ref, code) from exc
        raise
    read = ObjectRef(
        bucket=ref.bucket,
        key=ref.key,
        version_id=response.get("VersionId"),
        etag=response.get("ETag", "").strip('"') or None,
        size=int(response.get("ContentLength", 0)),
        metadata=dict(response.get("Metadata", {})),
        last_modified=_utc(response.get("LastModified")),
    )
    return read, cast(BinaryIO, response["Body"])


def current_version(client: S3Client, bucket: str, key: str) -> ObjectRef:
    """The key's current version (HeadObject): its version id, ETag and size."""
    response = client.head_object(Bucket=bucket, Key=key)
    return ObjectRef(
        bucket=bucket,
        key=key,
        version_id=response.get("VersionId"),
        etag=response.get("ETag", "").strip('"') or None,
        size=int(response.get("ContentLength", 0)),
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
