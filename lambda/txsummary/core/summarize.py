"""The streaming summarizer: a binary stream in, a :class:`Summary` or an InvalidFileError out.

Each chunk of whole records takes one of two paths, and both give the same Partial:
- the fast path (:mod:`txsummary.core.fastpath`): pyarrow's CSV reader and vectorized checks, for
  clean chunks, prepared on worker threads while the next chunk is read;
- the careful path: Python's csv module, row by row, when the fast path declines.
The fast path never reports errors. When anything looks off it declines, and the careful
path finds every offending line with its reason, so errors come from one implementation.
"""

from __future__ import annotations

import csv
import heapq
import io
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from txsummary.core.chunks import (
    MAX_DECOMPRESSED_BYTES,
    MAX_RECORD_BYTES,
    StreamError,
    raw_blocks,
    record_chunks,
)
from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError, shown
from txsummary.core.fastpath import DateCache, Prepared, prepare
from txsummary.core.ids import IdRegistry
from txsummary.core.model import MonthKey, Partial, Summary, Totals
from txsummary.core.rules import (
    Layout,
    ParsedDate,
    RuleError,
    parse_amount,
    parse_date,
    resolve_header,
)

DEFAULT_CHUNK_SIZE = 4 << 20
DEFAULT_WORKERS = 2

_Pending = tuple[bytes, int, "Future[Prepared | None]"]


def summarize_stream(
    stream: BinaryIO,
    source: str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], None] | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> Summary:
    """Summarize a transactions CSV (optionally gzipped) read from ``stream`` in chunks.

    Raises InvalidFileError listing every offending line when the data breaks a rule; a
    partial balance is a wrong balance, so an invalid file gets no summary. I/O errors from
    the stream propagate unchanged. At most ``workers + 1`` chunks are held at once.
    """
    state = _FileState(source)
    window: deque[_Pending] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="txsummary") as pool:
        try:
            blocks = raw_blocks(
                stream, chunk_size, progress, max_decompressed_bytes=max_decompressed_bytes
            )
            for chunk in record_chunks(blocks, max_record_bytes=max_record_bytes):
                data, line = state.admit(chunk.data, chunk.first_line)
                if not data:
                    continue
                assert state.layout is not None
                window.append((data, line, pool.submit(prepare, data, state.layout, state.dates)))
                if len(window) > workers:
                    state.settle(*window.popleft())
            while window:
                state.settle(*window.popleft())
        except StreamError as exc:
            while window:
                state.settle(*window.popleft())
            state.errors.add(exc.line, str(exc))
    return state.finish()


class _Errors:
    """How many errors there were, and the MAX_REPORTED_ERRORS with the lowest line numbers,
    whatever order they were found in (encoding checks run before a chunk's row checks)."""

    def __init__(self) -> None:
        self._lowest: list[tuple[int, int, str]] = []  # a max-heap on (line, order found)
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        heapq.heappush(self._lowest, (-line, -self.count, reason))
        if len(self._lowest) > MAX_REPORTED_ERRORS:
            heapq.heappop(self._lowest)

    @property
    def first(self) -> list[LineError]:
        return [LineError(-line, reason) for line, _, reason in sorted(self._lowest, reverse=True)]


class _FileState:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors = _Errors()
        self.layout: Layout | None = None
        self.partial = Partial()
        self.ids = IdRegistry()
        # Whether the file's dates carry a year, fixed by its first valid date.
        self.has_year: bool | None = None
        # Date texts parsed so far, by both paths; a file has few distinct dates.
        self.dates: DateCache = {}

    def finish(self) -> Summary:
        if self.layout is None and not self.errors.count:
            self.errors.add(0, "file is empty: no header line")
        if self.errors.count:
            raise InvalidFileError(self.source, tuple(self.errors.first), self.errors.count)
        return self.partial.summary()

    def admit(self, data: bytes, line: int) -> tuple[bytes, int]:
        """Take the header if it is still to come; returns the rows' data and first line."""
        if self.layout is None:
            data, line = self._take_header(data, line)
        return data, line

    def settle(self, data: bytes, line: int, future: Future[Prepared | None]) -> None:
        """In file order (so errors are listed in line order): check the encoding, then commit
        the prepared chunk, or judge it carefully."""
        prepared = future.result()
        data, clean = self._check_encoding(data, line)
        if not clean or prepared is None or not self._commit(prepared):
            self._careful(data, line)

    def _commit(self, prepared: Prepared) -> bool:
        """Check what depends on earlier chunks (year form, Ids), then merge. All or nothing:
        Ids are recorded last, and only when none is a duplicate."""
        if None not in (prepared.has_year, self.has_year) and prepared.has_year != self.has_year:
            return False
        if prepared.int_ids is not None:
            if not self.ids.add_ints(prepared.int_ids):
                return False
        elif prepared.text_ids is not None and not self.ids.add_texts(prepared.text_ids):
            return False
        if self.has_year is None:
            self.has_year = prepared.has_year
        self.partial.merge(prepared.partial)
        return True

    def _fatal(self, line: int, reason: str) -> InvalidFileError:
        self.errors.add(line, reason)
        return InvalidFileError(self.source, tuple(self.errors.first), self.errors.count)

    def _take_header(self, data: bytes, line: int) -> tuple[bytes, int]:
        """Consume leading blank lines and the header; without a valid header nothing else can
        be checked, so a bad header stops the file at once."""
        pos = 0
        while pos < len(data):
            end = data.find(b"\n", pos) + 1 or len(data)
            raw = data[pos:end]
            if raw.strip():
                if b"\x00" in raw:
                    raise self._fatal(line, "header is binary data (NUL byte), not UTF-8 text")
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise self._fatal(line, f"header is not valid UTF-8 ({exc.reason})") from None
                fields = next(csv.reader([text.rstrip("\r\n")]), [])
                try:
                    self.layout = resolve_header(fields)
                except RuleError as exc:
                    raise self._fatal(line, str(exc)) from None
                return data[end:], line + 1
            pos = end
            line += 1
        return b"", line

    def _check_encoding(self, data: bytes, line: int) -> tuple[bytes, bool]:
        """Report lines that are not UTF-8 text and blank them (newlines kept, so numbering
        holds). Returns the data and whether it was clean."""
        if b"\x00" not in data and (data.isascii() or _is_utf8(data)):
            return data, True
        lines = data.split(b"\n")
        for i, raw in enumerate(lines):
            if b"\x00" in raw:
                self.errors.add(line + i, "binary data (NUL byte); the file must be UTF-8 text")
                lines[i] = b""
                continue
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.errors.add(
                    line + i,
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "the file must be UTF-8 encoded",
                )
                lines[i] = b""
        return b"\n".join(lines), False

    def _year_conflict(self, date: ParsedDate) -> str | None:
        has_year = date.year is not None
        if self.has_year is None or self.has_year == has_year:
            return None
        earlier = "have a year" if self.has_year else "have no year"
        return f"dates with and without a year are mixed (earlier dates in this file {earlier})"

    # The careful path: every row, every rule, every error with its line.
    def _careful(self, data: bytes, first_line: int) -> None:
        assert self.layout is not None
        layout = self.layout
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True)
        # Per month: transactions, balance, credits, credit total, debits, debit total.
        tallies: dict[MonthKey, list[int]] = {}
        consumed = 0  # physical lines the reader has consumed so far
        while True:
            line = first_line + consumed
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                consumed = reader.line_num
                self.errors.add(line, f"malformed CSV ({exc})")
                continue
            consumed = reader.line_num
            if len(row) <= 1 and not "".join(row).strip():
                continue  # blank or whitespace-only line
            if len(row) != layout.width:
                self.errors.add(line, f"expected {layout.width} fields, found {len(row)}")
                continue
            self._careful_row(row, layout, line, tallies)
        for key, tally in tallies.items():
            self.partial.add(key, Totals(*tally))

    def _careful_row(
        self, row: list[str], layout: Layout, line: int, tallies: dict[MonthKey, list[int]]
    ) -> None:
        reasons: list[str] = []
        row_id = row[layout.id].strip()
        if not row_id:
            reasons.append("Id is empty")
        elif not self.ids.add(row_id):
            reasons.append(f"duplicate Id {shown(row_id)}")
        date_text = row[layout.date].strip()
        date = self.dates.get(date_text)
        if date is None:
            try:
                date = self.dates[date_text] = parse_date(date_text)
            except RuleError as exc:
                reasons.append(str(exc))
        if date is not None:
            if conflict := self._year_conflict(date):
                reasons.append(conflict)
            elif self.has_year is None:
                self.has_year = date.year is not None
        cents = 0
        try:
            cents = parse_amount(row[layout.amount].strip())
        except RuleError as exc:
            reasons.append(str(exc))
        if reasons:
            self.errors.add(line, "; ".join(reasons))
        elif date is not None:
            tally = tallies.setdefault((date.year, date.month), [0] * 6)
            tally[0] += 1
            tally[1] += cents
            if cents > 0:
                tally[2] += 1
                tally[3] += cents
            elif cents < 0:
                tally[4] += 1
                tally[5] += cents


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
