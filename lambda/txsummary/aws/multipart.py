"""A file-like sink that streams what is written to it into one S3 object, as multipart parts.

The lake's Parquet writer writes into it; nothing is staged on disk and at most about one part
is held in memory, so the object's size is bounded by neither.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, cast

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

# S3's parts are at least 5 MiB but the last; a part is sent once this much is written. The
# least is the least held in memory, and 10,000 such parts (S3's most) are about 48 GiB.
MIN_PART_BYTES = 5 << 20
PART_BYTES = MIN_PART_BYTES


class PartSink:
    """Where the Parquet writer's bytes go: gathered in memory and sent as the parts of one S3
    multipart upload, each ``part_bytes`` or more (S3 wants 5 MiB but for the last), so at
    most about one part is held at a time. :meth:`finish` sends the rest and completes the
    upload; a file smaller than one part is sent by one PutObject instead. :meth:`abort` drops
    everything, including what a writer still closing may add.
    """

    def __init__(
        self, client: S3Client, bucket: str, key: str, part_bytes: int = PART_BYTES
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.key = key
        self._part_bytes = part_bytes
        self._buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[CompletedPartTypeDef] = []
        self.size = 0
        self._aborted = False

    # The file-like methods pyarrow's writer calls (through its PythonFile wrapper).
    closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._aborted:
            return len(data)
        self._buffer += data
        self.size += len(data)
        if len(self._buffer) >= self._part_bytes:
            self._send_part()
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        """Called by the Parquet writer once its footer is written; :meth:`finish` publishes."""

    def _send_part(self) -> None:
        body, self._buffer = self._buffer, bytearray()  # handed over whole: no copy
        if self.upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self.bucket, Key=self.key)
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        sent = self._client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=_blob(body),
        )
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def finish(self) -> None:
        """Publish what was written: the object appears whole, at once, or not at all."""
        if self._aborted:
            raise RuntimeError("the lake upload was aborted")
        if self.upload_id is None:
            # Overwriting the deterministic key is safe, so a retried PutObject is too.
            body, self._buffer = self._buffer, bytearray()
            self._client.put_object(Bucket=self.bucket, Key=self.key, Body=_blob(body))
            return
        if self._buffer:
            self._send_part()
        try:
            self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        except ClientError as exc:
            # botocore retries a Complete whose response was lost; the retry finds the upload
            # gone. It is done if the key holds exactly these parts.
            if _code(exc) != "NoSuchUpload" or not self._completed():
                raise

    @property
    def expected_etag(self) -> str:
        """S3's ETag of a completed multipart object: the MD5 of the parts' MD5s, and their
        count (for SSE-S3 objects, as the lake's are)."""
        digests = b"".join(bytes.fromhex(part["ETag"].strip('"')) for part in self.parts)
        return f'"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(self.parts)}"'

    def _completed(self) -> bool:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self.key)
        except ClientError:  # absent (or not readable): the Complete's own error stands
            return False
        return head["ETag"] == self.expected_etag and head["ContentLength"] == self.size

    def abort(self) -> None:
        """Abort the upload, if one was started: no object, no parts left to pay for."""
        self._aborted = True
        self._buffer = bytearray()
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        try:
            self._client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=upload_id
            )
        except ClientError as exc:
            if _code(exc) != "NoSuchUpload":  # already gone is what an abort wants
                raise


def _blob(data: bytearray) -> bytes:
    """botocore takes a bytearray as a blob as it is (its validator allows one; the stubs say
    bytes), which spares a part-sized copy."""
    return cast("bytes", data)


def _code(exc: ClientError) -> str | None:
    return exc.response.get("Error", {}).get("Code")
