"""S3 event notifications -> object refs: every record, every key decoded.

S3 URL-encodes keys in events (a space arrives as ``+``), so each key goes through
``unquote_plus``. A record that cannot be read as an S3 object (a hand-made or foreign event)
becomes a :class:`~txsummary.objects.Skipped` so the other records are still processed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

from txsummary.objects import SKIP_NOT_AN_OBJECT, SKIP_TEST_EVENT, ObjectRef, Skipped


def object_refs(event: Mapping[str, Any]) -> Iterator[ObjectRef | Skipped]:
    """One item per record, in order; the ``s3:TestEvent`` S3 sends when a notification is
    saved gives a single Skipped."""
    if event.get("Event") == SKIP_TEST_EVENT:
        yield Skipped(None, SKIP_TEST_EVENT)
        return
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        yield Skipped(None, SKIP_NOT_AN_OBJECT)
        return
    for record in records:
        ref = _ref(record)
        yield ref if ref is not None else Skipped(None, SKIP_NOT_AN_OBJECT)


def _ref(record: Any) -> ObjectRef | None:
    """The object a record names, or None when it is not a well-formed S3 object record."""
    if not isinstance(record, Mapping) or record.get("eventSource") != "aws:s3":
        return None
    s3 = record.get("s3")
    if not isinstance(s3, Mapping):
        return None
    bucket, obj = s3.get("bucket"), s3.get("object")
    if not isinstance(bucket, Mapping) or not isinstance(obj, Mapping):
        return None
    name, key = bucket.get("name"), obj.get("key")
    if not isinstance(name, str) or not name or not isinstance(key, str) or not key:
        return None
    version_id, etag, size = obj.get("versionId"), obj.get("eTag"), obj.get("size")
    return ObjectRef(
        bucket=name,
        key=unquote_plus(key),
        version_id=version_id if isinstance(version_id, str) and version_id else None,
        etag=etag if isinstance(etag, str) and etag else None,
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )
