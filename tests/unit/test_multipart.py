"""The multipart sink against an in-memory S3 fake: parts, sizes, the ETag S3 would give."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from txsummary.aws.multipart import PartSink


def _md5(data: bytes) -> Any:
    return hashlib.md5(data, usedforsecurity=False)  # what S3's ETags are


class FakeS3:
    """Multipart uploads kept in memory, assembled the way S3 does on Complete."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}  # key -> (body, ETag)
        self.uploads: dict[str, dict[int, bytes]] = {}
        self.puts = 0

    def create_multipart_upload(self, *, Key: str, **_: Any) -> dict[str, str]:
        upload_id = f"u{len(self.uploads)}"
        self.uploads[upload_id] = {}
        return {"UploadId": upload_id}

    def upload_part(self, *, UploadId: str, PartNumber: int, Body: Any, **_: Any) -> dict[str, str]:
        self.uploads[UploadId][PartNumber] = bytes(Body)
        return {"ETag": f'"{_md5(bytes(Body)).hexdigest()}"'}

    def complete_multipart_upload(
        self,
        *,
        Key: str,
        UploadId: str,
        MultipartUpload: dict[str, Any],
        **_: Any,
    ) -> dict[str, str]:
        parts = self.uploads.pop(UploadId)
        numbers = [p["PartNumber"] for p in MultipartUpload["Parts"]]
        body = b"".join(parts[n] for n in numbers)
        digests = b"".join(_md5(parts[n]).digest() for n in numbers)
        etag = f'"{_md5(digests).hexdigest()}-{len(numbers)}"'
        self.objects[Key] = (body, etag)
        return {"ETag": etag}

    def put_object(self, *, Key: str, Body: Any, **_: Any) -> dict[str, str]:
        self.puts += 1
        etag = f'"{_md5(bytes(Body)).hexdigest()}"'
        self.objects[Key] = (bytes(Body), etag)
        return {"ETag": etag}

    def abort_multipart_upload(self, *, UploadId: str, **_: Any) -> dict[str, str]:
        del self.uploads[UploadId]
        return {}


writes = st.lists(st.binary(max_size=300), max_size=30)


@given(writes, st.integers(1, 700))
def test_the_object_is_every_byte_written_in_parts_of_at_least_the_part_size(
    chunks: list[bytes], part_bytes: int
) -> None:
    # Given any sequence of writes and any part size
    s3 = FakeS3()
    sink = PartSink(s3, "lake", "k", part_bytes)  # type: ignore[arg-type]
    for chunk in chunks:
        assert sink.write(chunk) == len(chunk)
    sizes = [len(b) for b in (s3.uploads[sink.upload_id].values() if sink.upload_id else [])]
    # When it is finished
    sink.finish()
    # Then the object is the bytes in order, every part but the last at least part_bytes, and
    # the ETag the sink expects is the one S3 gives
    written = b"".join(chunks)
    body, etag = s3.objects["k"]
    assert body == written and sink.tell() == sink.size == len(written)
    assert all(size >= part_bytes for size in sizes)
    if sink.parts:
        assert etag == sink.expected_etag
        assert s3.puts == 0
    else:  # under one part: one PutObject, no upload
        assert len(written) < part_bytes or not written
        assert s3.puts == 1
    assert s3.uploads == {}


@given(writes, st.integers(1, 700))
def test_an_aborted_sink_leaves_no_upload_and_takes_no_more(
    chunks: list[bytes], part_bytes: int
) -> None:
    s3 = FakeS3()
    sink = PartSink(s3, "lake", "k", part_bytes)  # type: ignore[arg-type]
    for chunk in chunks:
        sink.write(chunk)
    sink.abort()
    sink.write(b"a footer written while closing")
    assert s3.uploads == {} and s3.objects == {}
