"""The transactions lake: every valid row of every file, as Parquet that Athena queries.

A :class:`LakeWriter` is the summarizer's ``on_rows`` consumer: each chunk's frame of valid rows
becomes one row group of a Parquet file, encoded on a writer thread into memory and sent to S3 as
the parts of a multipart upload while the file streams (:class:`PartSink`), so neither memory
nor ephemeral storage bounds the object's size. Nothing is visible until
:meth:`LakeWriter.commit` completes the upload, once the whole file proved valid; a rejected
file is :meth:`LakeWriter.discard`-ed: its upload is aborted and leaves nothing in the lake.

The object key is a function of the source bucket, key and version and of the upload date, so
a redelivered event overwrites the same object instead of adding a second copy. Columns are built
from the frame's arrays with no per-row Python: the decimal ``amount`` shares its integer with
``amount_cents`` (a decimal(18,2) is its unscaled integer in cents).
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import queue
import re
import threading
from datetime import date
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from txsummary.aws.multipart import PART_BYTES, PartSink
from txsummary.contract import GLUE_COLUMNS, LAKE_PARTITION, LAKE_PREFIX
from txsummary.core.arrow import ARROW_POOL

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_s3 import S3Client

AMOUNT_TYPE = pa.decimal128(18, 2)  # what readers see: Parquet DECIMAL(18,2) on INT64
# Written as a decimal64 that shares amount_cents' buffer: no copy, and Parquet stores it as the
# same INT64 unscaled value.
_AMOUNT_WRITE_TYPE = pa.decimal64(18, 2)
COMPRESSION = "zstd"  # for the Id column; Athena reads it, and level 1 is fast
COMPRESSION_LEVEL = 1
_STEM_CHARS = 48

_ARROW_TYPES = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "decimal(18,2)": AMOUNT_TYPE,
}
SCHEMA = pa.schema(
    [pa.field(name, _ARROW_TYPES[kind], nullable=name == "year") for name, kind in GLUE_COLUMNS]
)
"""The columns as a reader (pandas, Athena) sees them."""

_CONSTANT = pa.dictionary(pa.int32(), pa.string())
_WRITE_SCHEMA = pa.schema(
    [
        pa.field(f.name, _CONSTANT, nullable=False)
        if f.name.startswith("source_")
        else pa.field(f.name, _AMOUNT_WRITE_TYPE, nullable=False)
        if f.name == "amount"
        else f
        for f in SCHEMA
    ]
)
# Parquet encodings, measured for CPU per row: the three source columns are one dictionary value
# each (a single run); dates are few, so a dictionary; integers are delta bit-packed, which is
# already compact, so only the Ids (text) are compressed.
_DICTIONARY_COLUMNS = ["source_bucket", "source_key", "source_version", "date"]
_ENCODINGS = {
    name: "DELTA_BINARY_PACKED"
    for name in ("line", "year", "month", "day", "amount", "amount_cents")
}
_COMPRESSION = {name: "none" for name in SCHEMA.names} | {"id": COMPRESSION}
# min/max only where queries filter ("debits in March": month, amount); each costs CPU.
_STATISTICS = ["year", "month", "amount", "amount_cents"]


def lake_key(
    source_bucket: str,
    source_key: str,
    source_version: str,
    upload_date: date,
    prefix: str = LAKE_PREFIX,
) -> str:
    """``<prefix>/upload_date=YYYY-MM-DD/<stem>-<hash>.parquet``: the same inputs always give
    the same key. The hash covers all three source parts; the stem only helps a person."""
    digest = hashlib.sha256(
        "\0".join((source_bucket, source_key, source_version)).encode("utf-8", "surrogatepass")
    ).hexdigest()[:32]
    name = source_key.rstrip("/").rpartition("/")[2]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:_STEM_CHARS].strip("._") or "object"
    return f"{prefix}/{LAKE_PARTITION}={upload_date.isoformat()}/{stem}-{digest}.parquet"


class _State(enum.Enum):
    OPEN = "open"
    COMMITTED = "committed"
    DISCARDED = "discarded"


class LakeWriter:
    """Write one object version's valid rows to the lake.

    Call it (it is the ``on_rows`` callback) with each chunk's frame, then :meth:`commit` once
    the file is valid, or :meth:`discard`. Use it as a context manager so an upload left open
    by an error is aborted. ``upload_date`` must come from the object (its LastModified in
    UTC), not from the clock, so a redelivery on another day writes the same key.
    """

    # With the lake on the summary runs one fast-path worker on half-size chunks: each chunk in
    # flight holds its rows frame and its Parquet encoding, and with 4 MiB chunks (or two
    # workers) the peak went over 256 MiB (bench/notes.md).
    SUMMARY_WORKERS = 1
    SUMMARY_CHUNK_BYTES = 2 << 20

    def __init__(
        self,
        client: S3Client,
        lake_bucket: str,
        *,
        source_bucket: str,
        source_key: str,
        source_version: str,
        upload_date: date,
        prefix: str = LAKE_PREFIX,
        background: bool = True,
        part_bytes: int = PART_BYTES,
    ) -> None:
        self.lake_bucket = lake_bucket
        self.key = lake_key(source_bucket, source_key, source_version, upload_date, prefix)
        self._source = (source_bucket, source_key, source_version)
        self._sink = PartSink(client, lake_bucket, self.key, part_bytes)
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0
        self.row_groups = 0
        self._state = _State.OPEN
        # Parquet encoding and the uploads release the GIL, so a writer thread overlaps them
        # with the summarizer. A frame is handed over once the previous one is written, so
        # the thread holds one frame, not a queue of them.
        self._background = background
        self._pending: queue.Queue[pd.DataFrame | None] = queue.Queue(maxsize=1)
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def upload_id(self) -> str | None:
        """The multipart upload in progress, once the first part is sent."""
        return self._sink.upload_id

    @property
    def parts(self) -> int:
        """How many parts were sent (0: the file went as one PutObject)."""
        return len(self._sink.parts)

    def __call__(self, frame: pd.DataFrame) -> None:
        self.write(frame)

    def write(self, frame: pd.DataFrame) -> None:
        """Append one chunk's valid rows as one row group."""
        if self._state is not _State.OPEN:
            raise RuntimeError(f"the lake file was already {self._state.value}")
        n = len(frame)
        if n == 0:
            return
        self._raise_failure()
        if self._background:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._drain, name="txsummary-lake", daemon=True
                )
                self._thread.start()
            self._pending.join()  # the previous frame is written
            self._pending.put(frame)
        else:
            self._write_group(frame)
        self.rows += n
        self.row_groups += 1

    def _write_group(self, frame: pd.DataFrame) -> None:
        table = self._table(frame, len(frame))
        self._open().write_table(table, row_group_size=table.num_rows)

    def _drain(self) -> None:
        """The writer thread: write each frame as a row group, in order, until None."""
        while True:
            frame = self._pending.get()
            try:
                if frame is None:
                    return
                if self._failure is None and self._state is _State.OPEN:
                    self._write_group(frame)
            except BaseException as exc:  # re-raised on the caller's thread
                self._failure = exc
            finally:
                del frame  # not held while waiting for the next
                self._pending.task_done()

    def _join(self) -> None:
        """Wait until every queued frame is written."""
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join()
            self._thread = None

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise RuntimeError("writing the lake file failed") from self._failure

    def commit(self) -> str:
        """Finish the Parquet file and complete its upload; returns the lake object's key. A
        file with no valid rows still gets its (empty) object, so every valid file has exactly
        one. Committing again returns the same key."""
        if self._state is _State.COMMITTED:
            return self.key
        if self._state is _State.DISCARDED:
            raise RuntimeError("the lake file was already discarded")
        self._join()
        self._raise_failure()
        self._open().close()  # the footer, into the last part
        self._sink.finish()
        self._state = _State.COMMITTED
        return self.key

    def discard(self) -> None:
        """Drop what was written (a rejected file): the upload is aborted, nothing is visible."""
        if self._state is _State.COMMITTED:
            raise RuntimeError("the lake file was already committed")
        self._state = _State.DISCARDED  # the writer thread skips what is still queued
        self._join()
        self._sink.abort()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()  # its footer goes nowhere: the sink is aborted

    def __enter__(self) -> LakeWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state is not _State.OPEN:
            return
        if exc is None:
            self.discard()
            return
        # The block's own error is what Lambda must see; an upload the abort misses is
        # removed by the bucket's lifecycle rule.
        with contextlib.suppress(Exception):
            self.discard()

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._sink,
                _WRITE_SCHEMA,
                compression=_COMPRESSION,
                compression_level={"id": COMPRESSION_LEVEL},
                use_dictionary=_DICTIONARY_COLUMNS,
                column_encoding=_ENCODINGS,
                write_statistics=_STATISTICS,
                store_decimal_as_integer=True,  # decimal(18,2) as INT64, as Athena reads it
                store_schema=False,  # readers get SCHEMA's plain types, not the write types
                memory_pool=ARROW_POOL,  # as the core's buffers: less held at the peak
            )
        return self._writer

    def _table(self, frame: pd.DataFrame, n: int) -> pa.Table:
        cents = _int64(frame["amount_cents"])
        bucket, key, version = self._source
        constant = _zeros(n)
        columns: list[Any] = [
            _repeat(bucket, constant),
            _repeat(key, constant),
            _repeat(version, constant),
            _int64(frame["line"]),
            _strings(frame["id"]),
            _strings(frame["date"]),
            _column(frame["year"]).cast(pa.int32(), memory_pool=ARROW_POOL),
            _column(frame["month"]).cast(pa.int32(), memory_pool=ARROW_POOL),
            _column(frame["day"]).cast(pa.int32(), memory_pool=ARROW_POOL),
            _decimal64_from_cents(cents),
            cents,
        ]
        return pa.Table.from_arrays(columns, schema=_WRITE_SCHEMA)


def _column(series: pd.Series[Any]) -> pa.Array:
    """The series as one Arrow array: zero-copy for Arrow-backed and numpy columns."""
    array = pa.array(series, from_pandas=True, memory_pool=ARROW_POOL)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _int64(series: pd.Series[Any]) -> pa.Array:
    array = _column(series)
    return array if array.type == pa.int64() else array.cast(pa.int64(), memory_pool=ARROW_POOL)


def _strings(series: pd.Series[Any]) -> pa.Array:
    array = _column(series)
    return (
        array if pa.types.is_string(array.type) else array.cast(pa.string(), memory_pool=ARROW_POOL)
    )


def _zeros(n: int) -> pa.Array:
    return pa.array(np.zeros(n, dtype=np.int32))


def _repeat(value: str, zeros: pa.Array) -> pa.Array:
    """A constant column as a dictionary of one value: zero indices (shared by the three
    source columns), no n strings."""
    return pa.DictionaryArray.from_arrays(zeros, pa.array([value]))


def _decimal64_from_cents(cents: pa.Array) -> pa.Array:
    """decimal(18,2) from int64 cents with no copy: a decimal64's storage is its unscaled
    integer, which for two decimal places is the amount in cents."""
    return pa.Array.from_buffers(
        _AMOUNT_WRITE_TYPE, len(cents), [None, *cents.buffers()[1:]], offset=cents.offset
    )
