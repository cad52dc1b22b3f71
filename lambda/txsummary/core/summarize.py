"""The streaming summarizer: a binary stream in, a :class:`Summary` or an InvalidFileError out.

Each chunk of whole records becomes pandas DataFrames by one of two paths:
- the fast path (:mod:`txsummary.core.fastpath`): pyarrow's CSV reader into Arrow-backed
  columns and vectorized checks, for chunks it can prove it read exactly; prepared on worker
  threads while the next chunk is read;
- the careful path (:mod:`txsummary.core.careful`): a strict parser, record by record, when the
  fast path declines. It names each offending line with its reason until MAX_REPORTED_ERRORS
  are named; past them, offending lines are only counted (:mod:`txsummary.core.counting`).
Both check values with the same rule functions (core.rules) and send their valid rows through
the same aggregation (core.aggregate.aggregate). The fast path never reports errors.

Start-up: pandas (for the aggregation and the careful path) is imported on a thread when the
first file starts, while the first chunks are read, parsed and checked: pyarrow's reader and
numpy release the GIL, and nothing before the aggregation needs pandas. No chunks beyond the
usual window are read while it loads: they cost 15-25 MiB at the peak for no measured gain.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, BinaryIO, Literal

from txsummary.core.chunks import (
    MAX_RECORD_BYTES,
    StreamError,
    raw_blocks,
    record_chunks,
)
from txsummary.core.counting import ReadForCount, count_read, is_utf8, judge_chunk, read_for_count
from txsummary.core.errors import InvalidFileError
from txsummary.core.fastpath import Prepared, prepare
from txsummary.core.header import HeaderError, take_header
from txsummary.core.limits import MAX_DECOMPRESSED_BYTES
from txsummary.core.model import Summary
from txsummary.core.rules import Layout
from txsummary.core.state import FileChecks

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_CHUNK_SIZE = 4 << 20
# Lambda's largest size has 6 vCPUs; past that the reading and the in-order settling on the
# main thread bound the speed, and each worker holds one more chunk.
MAX_WORKERS = 6
_ENGINE = ("txsummary.core.aggregate", "txsummary.core.careful")


def default_workers() -> int:
    """One fast-path worker per CPU this process may run on, from 1 to MAX_WORKERS."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


DEFAULT_WORKERS = default_workers()

RowsHook = Callable[["pd.DataFrame"], None]
_Read = Prepared | ReadForCount | None
_Pending = tuple[bytes, int, "Future[_Read]"]

# Which path judges the chunks: "mixed" (the fast path, the careful one where it declines), or
# only one of them, so that tests can hold each to the oracle.
Path = Literal["mixed", "fast", "careful"]


class FastPathDeclined(Exception):
    """The fast path declined a chunk when it was the only path allowed (path "fast")."""


def summarize_stream(
    stream: BinaryIO,
    source: str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], None] | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
    on_rows: RowsHook | None = None,
) -> Summary:
    """Summarize a transactions CSV (optionally gzipped) read from ``stream`` in chunks.

    Raises InvalidFileError naming the first offending lines and counting all of them when
    the data breaks a rule; a partial balance is a wrong balance, so an invalid file gets no
    summary. I/O errors from the stream propagate unchanged. At most ``workers + 1`` chunks are
    held at once.

    ``on_rows``, if given, is called in file order with each chunk's valid rows as a DataFrame
    (columns core.aggregate.ROW_COLUMNS). The file may still be rejected after some calls;
    once it has MAX_REPORTED_ERRORS errors (so it will be), later rows may not be passed.
    """
    return summarize_path(
        stream,
        source,
        "mixed",
        chunk_size=chunk_size,
        workers=workers,
        progress=progress,
        max_record_bytes=max_record_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
        on_rows=on_rows,
    )


def summarize_path(
    stream: BinaryIO,
    source: str,
    path: Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], None] | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
    on_rows: RowsHook | None = None,
) -> Summary:
    """summarize_stream with the chunks judged by the given path (Path)."""
    file = _File(source, on_rows, path)
    window: deque[_Pending] = deque()
    _import_engine_ahead()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="txsummary") as pool:
        try:
            blocks = raw_blocks(
                stream, chunk_size, progress, max_decompressed_bytes=max_decompressed_bytes
            )
            for chunk in record_chunks(blocks, max_record_bytes=max_record_bytes):
                data, line = file.admit(chunk.data, chunk.first_line)
                if data:
                    window.append((data, line, file.submit(pool, data, line)))
                if len(window) > workers:
                    file.settle(*window.popleft())
            while window:
                file.settle(*window.popleft())
        except StreamError as exc:
            while window:
                file.settle(*window.popleft())
            file.checks.errors.add(exc.line, str(exc))
        except HeaderError as exc:
            file.checks.errors.add(exc.line, str(exc))
    return file.finish()


class _File:
    """One file's run: its header, the checks' memory, and where each chunk goes."""

    def __init__(self, source: str, on_rows: RowsHook | None, path: Path) -> None:
        self.source = source
        self.path = path
        self.on_rows = on_rows
        self.layout: Layout | None = None
        self.checks = FileChecks()

    def admit(self, data: bytes, line: int) -> tuple[bytes, int]:
        """Take the header if it is still to come; returns the rows' data and first line."""
        if self.layout is None:
            self.layout, data, line = take_header(data, line)
        return data, line

    def submit(self, pool: ThreadPoolExecutor, data: bytes, line: int) -> Future[_Read]:
        assert self.layout is not None
        if self.checks.errors.full and self.path != "fast":
            # The file is invalid and its errors to name are found: only counting is left.
            return pool.submit(read_for_count, data, self.layout, self.checks.dates)
        if self.path == "careful":
            declined: Future[_Read] = Future()
            declined.set_result(None)
            return declined
        want_rows = self.on_rows is not None
        return pool.submit(prepare, data, self.layout, self.checks.dates, line, want_rows)

    def finish(self) -> Summary:
        if self.layout is None and not self.checks.errors.count:
            self.checks.errors.add(0, "file is empty: no header line")
        return self.checks.summary(self.source)

    def settle(self, data: bytes, line: int, future: Future[_Read]) -> None:
        """In file order: count a chunk read for counting; commit the prepared chunk if its
        bytes are UTF-8 text and it agrees with the file so far; or else judge it carefully."""
        prepared = future.result()
        if isinstance(prepared, ReadForCount):
            count_read(prepared, self.checks)
            return
        clean = b"\x00" not in data and (data.isascii() or is_utf8(data))
        if clean and prepared is not None and self.checks.commit(prepared):
            if prepared.rows is not None and self.on_rows is not None:
                self.on_rows(prepared.rows)
            return
        if self.path == "fast":
            raise FastPathDeclined(f"chunk at line {line}")
        assert self.layout is not None
        judge_chunk(data, line, self.layout, self.checks, clean=clean, on_rows=self.on_rows)


def _import_engine_ahead() -> None:
    """Import pandas and the modules that need it on a thread, unless already imported. Workers
    that reach the aggregation before it is done wait on Python's import lock."""
    if all(name in sys.modules for name in _ENGINE):
        return
    threading.Thread(target=_import_engine, name="txsummary-import", daemon=True).start()


def _import_engine() -> None:
    for name in _ENGINE:
        importlib.import_module(name)


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_WORKERS",
    "InvalidFileError",
    "default_workers",
    "summarize_stream",
]
