"""S3 ListObjectVersions as a lazy stream of object versions, one page at a time.

Delete markers are not object versions (they have no content to summarize), so they are not
yielded; the versions beneath them are, since each was an upload that deserves a verdict.
In an unversioned bucket (or for objects written before versioning was enabled) S3 reports the
version id ``"null"``: such a ref carries no version id and is keyed by its ETag, exactly as
the handler keys an event that has no ``versionId``. Only the latest ``"null"`` version is
yielded: without a version id GetObject reads the latest version, so an older one (written
before versioning was enabled, then overwritten) cannot be read as itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from txsummary.objects import ObjectRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NULL_VERSION: Final = "null"
PAGE_SIZE: Final = 1000  # S3's maximum


def list_versions(
    client: S3Client, bucket: str, prefix: str = "", *, page_size: int = PAGE_SIZE
) -> Iterator[ObjectRef]:
    """Every object version under ``prefix``, in S3's order (by key, newest version first)."""
    paginator = client.get_paginator("list_object_versions")
    pages = paginator.paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        for version in page.get("Versions", []):
            version_id = version.get("VersionId")
            unversioned = version_id in (None, NULL_VERSION)
            if unversioned and not version.get("IsLatest", True):
                continue
            yield ObjectRef(
                bucket=bucket,
                key=version["Key"],
                version_id=None if unversioned else version_id,
                etag=version.get("ETag", "").strip('"') or None,
                size=version.get("Size"),
                last_modified=_utc(version.get("LastModified")),
            )


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
