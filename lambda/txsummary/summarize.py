"""The streaming summarizer: a binary stream in, a :class:`Summary` or an InvalidFileError out.

Each chunk of whole records takes one of two paths, and both give the same Partial:
- the fast path: pyarrow's CSV reader and vectorized checks, used when a chunk is clean;
- the careful path: Python's csv module, row by row, used when the fast path declines.
The fast path never reports errors. When anything looks off it declines, and the careful
path finds every offending line with its reason, so errors come from one implementation.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from txsummary.chunks import StreamError, raw_blocks, record_chunks
from txsummary.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.ids import BITMAP_LIMIT, IdRegistry
from txsummary.model import MonthKey, Partial, Summary, Totals, totals_of
from txsummary.rules import (
    AMOUNT_PATTERN,
    Layout,
    ParsedDate,
    RuleError,
    parse_amount,
    parse_date,
    resolve_header,
)

DEFAULT_CHUNK_SIZE = 16 << 20
# The fast path sums a chunk in int64: keep |cents| * rows far below 2**63.
_FAST_MAX_CENTS = 10**12
_FAST_MAX_ROWS = 9_000_000
_SCALE_BY_DECIMALS = np.array([100, 10, 1], dtype=np.int64)
# A quote that neither opens nor closes a field ("ab"c, a"b, doubled quotes): pyarrow reads
# these leniently, so such chunks go to the careful path, which rejects malformed quoting.
_MID_FIELD_QUOTE = re.compile(rb'(?<![,\n])"(?![,\r\n])')


def summarize_stream(
    stream: BinaryIO,
    source: str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Summarize a transactions CSV (optionally gzipped) read from ``stream`` in chunks.

    Raises InvalidFileError listing every offending line when the data breaks a rule; a
    partial balance is a wrong balance, so an invalid file gets no summary. I/O errors from
    the stream propagate unchanged.
    """
    state = _FileState(source)
    try:
        blocks = raw_blocks(stream, chunk_size, progress)
        for chunk in record_chunks(blocks, max_pending=max(4 * chunk_size, 1 << 20)):
            state.feed(chunk.data, chunk.first_line)
    except StreamError as exc:
        state.errors.add(0, str(exc))
    return state.finish()


class _Errors:
    """The first MAX_REPORTED_ERRORS errors, and how many there were in all."""

    def __init__(self) -> None:
        self.first: list[LineError] = []
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        if len(self.first) < MAX_REPORTED_ERRORS:
            self.first.append(LineError(line, reason))


class _FileState:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors = _Errors()
        self.layout: Layout | None = None
        self.partial = Partial()
        self.ids = IdRegistry()
        # Whether the file's dates carry a year, fixed by its first valid date.
        self.has_year: bool | None = None
        # Valid date texts seen by the fast path; a file has few distinct dates.
        self._date_cache: dict[str, ParsedDate] = {}

    def finish(self) -> Summary:
        if self.layout is None and not self.errors.count:
            self.errors.add(0, "file is empty: no header line")
        if self.errors.count:
            raise InvalidFileError(self.source, tuple(self.errors.first), self.errors.count)
        return self.partial.summary()

    def feed(self, data: bytes, line: int) -> None:
        if self.layout is None:
            data, line = self._take_header(data, line)
        if not data:
            return
        data, clean = self._check_encoding(data, line)
        if clean and (partial := self._fast(data)) is not None:
            self.partial.merge(partial)
        else:
            self._careful(data, line)

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
            self._careful_row(row, layout, line)

    def _careful_row(self, row: list[str], layout: Layout, line: int) -> None:
        reasons: list[str] = []
        row_id = row[layout.id].strip()
        if not row_id:
            reasons.append("Id is empty")
        elif not self.ids.add(row_id):
            reasons.append(f"duplicate Id {row_id!r}")
        date: ParsedDate | None = None
        try:
            date = parse_date(row[layout.date].strip())
        except RuleError as exc:
            reasons.append(str(exc))
        else:
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
            self.partial.add((date.year, date.month), totals_of(cents))

    # The fast path: vectorized checks over pyarrow arrays; None means "let the careful path do it".
    def _fast(self, data: bytes) -> Partial | None:
        assert self.layout is not None
        layout = self.layout
        if b'"' in data and _MID_FIELD_QUOTE.search(data):
            return None  # quoting that only the careful path judges strictly
        names = [f"c{i}" for i in range(layout.width)]
        wanted = [names[layout.id], names[layout.date], names[layout.amount]]
        try:
            table = pacsv.read_csv(
                pa.py_buffer(data),
                read_options=pacsv.ReadOptions(column_names=names),
                parse_options=pacsv.ParseOptions(newlines_in_values=b'"' in data),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted,
                    column_types={
                        wanted[0]: pa.string(),
                        wanted[1]: pa.dictionary(pa.int32(), pa.string()),
                        wanted[2]: pa.string(),
                    },
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            return None
        if table.num_rows == 0 or table.num_rows > _FAST_MAX_ROWS:
            return None if table.num_rows else Partial()

        keys: list[MonthKey] = []
        key_index: dict[MonthKey, int] = {}
        has_year = self.has_year
        row_keys: list[npt.NDArray[np.int64]] = []
        for dates in table.column(1).chunks:
            codes = np.empty(len(dates.dictionary), dtype=np.int64)
            for i, text in enumerate(dates.dictionary.to_pylist()):
                date = self._date_cache.get(text)
                if date is None:
                    try:
                        date = self._date_cache[text] = parse_date(text)
                    except RuleError:
                        return None
                if has_year is None:
                    has_year = date.year is not None
                elif has_year != (date.year is not None):
                    return None
                key = (date.year, date.month)
                code = codes[i] = key_index.setdefault(key, len(keys))
                if code == len(keys):
                    keys.append(key)
            row_keys.append(codes[dates.indices.to_numpy(zero_copy_only=False)])

        cents = _fast_cents(table.column(2).combine_chunks())
        if cents is None or not self._fast_ids(table.column(0).combine_chunks()):
            return None
        # Ids are recorded last, once nothing else can make this path decline.
        if self.has_year is None:
            self.has_year = has_year
        return _aggregate(np.concatenate(row_keys), cents, keys)

    def _fast_ids(self, ids: pa.StringArray) -> bool:
        """Record the chunk's Ids if none is empty, padded or a duplicate; else record none."""
        if pc.min(pc.binary_length(ids)).as_py() == 0:
            return False
        canonical = pc.all(pc.ascii_is_decimal(ids)).as_py() and not pc.any(
            pc.and_(pc.starts_with(ids, "0"), pc.greater(pc.binary_length(ids), 1))
        ).as_py()
        if canonical:
            values = pc.cast(ids, pa.int64()).to_numpy()
            if values.max() < BITMAP_LIMIT:
                return self.ids.add_ints(values)
        texts = ids.to_pylist()
        if any(t != t.strip() for t in texts):
            return False
        return self.ids.add_texts(texts)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _fast_cents(amounts: pa.StringArray) -> npt.NDArray[np.int64] | None:
    """Validated integer cents of every amount, or None if any amount needs the careful path.

    Exact: the digits are parsed as an integer with the point removed, then scaled by the
    number of decimals. No float is involved.
    """
    if not pc.all(pc.match_substring_regex(amounts, AMOUNT_PATTERN)).as_py():
        return None
    body = pc.utf8_ltrim(amounts, characters="+")
    point = pc.find_substring(body, ".").to_numpy()
    length = pc.binary_length(body).to_numpy()
    try:
        digits = pc.cast(pc.replace_substring(body, ".", ""), pa.int64()).to_numpy()
    except pa.ArrowInvalid:  # more digits than int64 holds
        return None
    if digits.size and np.abs(digits).max() >= _FAST_MAX_CENTS:
        return None
    decimals = np.where(point < 0, 0, length - point - 1)
    cents: npt.NDArray[np.int64] = digits * _SCALE_BY_DECIMALS[decimals]
    return cents


def _aggregate(
    keys: npt.NDArray[np.int64], cents: npt.NDArray[np.int64], names: list[MonthKey]
) -> Partial:
    """Per-month integer sums; zero amounts count toward neither side."""
    credit = cents > 0
    frame = pd.DataFrame({"balance": cents, "credit_total": np.where(credit, cents, 0)})
    sums = frame.groupby(keys, sort=False).sum()
    size = len(names)
    transactions = np.bincount(keys, minlength=size)
    credits = np.bincount(keys[credit], minlength=size)
    debits = np.bincount(keys[cents < 0], minlength=size)
    partial = Partial()
    for code, balance, credit_total in sums.itertuples(index=True, name=None):
        partial.add(
            names[code],
            Totals(
                transactions=int(transactions[code]),
                balance=int(balance),
                credits=int(credits[code]),
                credit_total=int(credit_total),
                debits=int(debits[code]),
                debit_total=int(balance) - int(credit_total),
            ),
        )
    return partial
