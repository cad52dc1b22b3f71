"""Counting the errors past the first reported ones, vectorized over a chunk.

Once MAX_REPORTED_ERRORS errors are named, a later offending line can no longer be among them:
it only adds to the count. Its chunk is then read without a Python step per record when it is
*simple*, that is when the strict parser (core.records) is known to read it as plain splitting
would: UTF-8 text without NUL, no CR outside CRLF, and quotes (if any) wrapping whole fields
within one line (the fast path's proof, core.fastpath). Fields are then the spans between the
commas outside quotes. Other chunks go through the strict parser. Either way the rows are judged
by core.verdict, so the count is what the careful path would give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from txsummary.core.rules import DateCache, Layout
from txsummary.core.state import FileChecks
from txsummary.core.verdict import Rows, judge_rows, read_rows

if TYPE_CHECKING:
    import pandas as pd

_QUOTE, _COMMA, _LF, _CR = ord('"'), ord(","), ord("\n"), ord("\r")
# What Python's str.strip() removes among ASCII bytes; a value with a non-ASCII byte at either
# end (it may be a Unicode space) is trimmed by str.strip() itself.
_SPACE = np.zeros(256, dtype=bool)
_SPACE[list(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")] = True
# ASCII spaces trimmed from a value's ends vectorized, a byte a step; beyond, by str.strip().
_TRIM_STEPS = 8


# The careful path reads a declined chunk in pieces of about this size, so that once the errors
# to name are found, the rest of the chunk is only counted.
PIECE_BYTES = 64 << 10
# Counted in pieces of about this size: the per-line arrays of a piece stay a few MiB.
COUNT_BYTES = 512 << 10


def judge_chunk(
    data: bytes,
    first_line: int,
    layout: Layout,
    checks: FileChecks,
    *,
    clean: bool,
    on_rows: Callable[[pd.DataFrame], None] | None,
) -> None:
    """Judge a chunk the fast path declined: carefully, piece by piece, while its errors can
    be among the first reported; then count the rest. Valid rows of the careful pieces go to
    the totals and to ``on_rows``; counted pieces add to neither (the file is invalid)."""
    from txsummary.core.careful import check_rows, read_candidates  # noqa: PLC0415 - pandas

    pos, line = 0, first_line
    while pos < len(data) and not checks.errors.full:
        cut = _boundary(data, pos, pos + PIECE_BYTES)
        piece = data[pos:cut]
        found = read_candidates(piece, line, layout, checks.errors, clean)
        rows = check_rows(found, checks, on_rows is not None)
        if rows is not None and on_rows is not None:
            on_rows(rows)
        pos, line = cut, line + piece.count(b"\n")
    if pos < len(data):
        rest = data[pos:] if pos else data
        count_errors(rest, layout, checks)


def _boundary(data: bytes, start: int, at: int) -> int:
    """Just after the first LF at or after ``at`` with an even count of quotes since ``start``
    (a record boundary, so this is one too), or the end of the data."""
    if at >= len(data):
        return len(data)
    odd = data.count(b'"', start, at) & 1
    while True:
        lf = data.find(b"\n", at)
        if lf < 0:
            return len(data)
        odd ^= data.count(b'"', at, lf) & 1
        if not odd:
            return lf + 1
        at = lf + 1


class _Sink:
    """An error list that only counts (the strict parser's record errors past the first)."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        self.count += 1


@dataclass(frozen=True, slots=True)
class ReadForCount:
    """A chunk read for counting: per piece, its record errors and its rows."""

    pieces: list[tuple[int, Rows]]


def read_for_count(data: bytes, layout: Layout, cache: DateCache) -> ReadForCount:
    """Read a chunk's pieces for count_read: what needs no file state (any thread). In pieces
    of COUNT_BYTES, so that the per-line arrays stay small whatever the lines."""
    clean = b"\x00" not in data and (data.isascii() or is_utf8(data))
    pieces = []
    pos = 0
    while pos < len(data):
        cut = _boundary(data, pos, pos + COUNT_BYTES)
        piece = data[pos:cut] if pos or cut < len(data) else data
        pieces.append(_read_piece(piece, layout, cache, clean))
        pos = cut
    return ReadForCount(pieces)


def count_read(chunk: ReadForCount, checks: FileChecks) -> None:
    """Add a chunk's errors to the file's count (naming none), recording its Ids and fixing
    the year form as the careful path would."""
    for record_errors, rows in chunk.pieces:
        checks.errors.add_count(record_errors + int(np.count_nonzero(judge_rows(rows, checks).bad)))


def count_errors(data: bytes, layout: Layout, checks: FileChecks) -> None:
    """Count a chunk's errors: read_for_count, then count_read."""
    count_read(read_for_count(data, layout, checks.dates), checks)


def _read_piece(
    data: bytes, layout: Layout, cache: DateCache, clean: bool, vectorized: bool = True
) -> tuple[int, Rows]:
    fields = _split(data, layout, clean) if vectorized else None
    if fields is None:
        from txsummary.core.careful import read_candidates  # noqa: PLC0415 - pandas

        sink = _Sink()
        # Line numbers are not needed: nothing is named.
        found = read_candidates(data, 1, layout, sink, clean)
        ids, dates, amounts = (pa.array(c, pa.string()) for c in found.values())
        return sink.count, read_rows(ids, dates, amounts, cache, cents=False)
    wrong_width, (ids, dates, amounts) = fields
    return wrong_width, read_rows(ids, dates, amounts, cache, cents=False)


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _split(
    data: bytes, layout: Layout, clean: bool
) -> tuple[int, tuple[pa.Array, pa.Array, pa.Array]] | None:
    """How many records of the piece are offending as records (malformed, unreadable, or not
    blank with the wrong number of fields), and the trimmed Id, Date and Transaction of the
    others. None if the strict parser must read the piece itself."""
    raw = np.frombuffer(data, dtype=np.uint8)
    lf = np.flatnonzero(raw == _LF)
    lines = lf
    commas = np.flatnonzero(raw == _COMMA)
    cr = np.flatnonzero(raw == _CR)
    quotes = np.flatnonzero(raw == _QUOTE)
    before = np.zeros(0, dtype=np.int32)  # per offset, how many quotes come before it
    if quotes.size:  # a byte is inside quotes after an odd number of them
        before = np.zeros(raw.size + 1, dtype=np.int32)
        np.cumsum(raw == _QUOTE, out=before[1:])
        lf = lf[before[lf] % 2 == 0]  # the LFs that end records
        commas = commas[before[commas] % 2 == 0]
        cr = cr[before[cr] % 2 == 0]
    if not clean and lf.size != lines.size:
        return None  # unreadable bytes are counted per physical line, not per record
    starts = np.concatenate(([0], lf + 1))
    ends = np.concatenate((lf, [raw.size]))
    if starts[-1] == raw.size:  # nothing after the last LF: no record there
        starts, ends = starts[:-1], ends[:-1]
    broken = np.zeros(starts.size, dtype=bool)
    broken[np.searchsorted(starts, _breaks(raw, cr, quotes), side="right") - 1] = True
    unreadable = _unreadable_lines(raw, lf, starts.size) if not clean else broken & False
    broken &= ~unreadable
    keep = ~(broken | unreadable)
    errors = int(np.count_nonzero(~keep))
    starts, ends = starts[keep], ends[keep]
    ends = ends - ((ends > starts) & (raw.take(ends - 1, mode="clip") == _CR))
    first = np.searchsorted(commas, starts)
    count = np.searchsorted(commas, ends) - first + 1
    single = np.flatnonzero(count == 1)
    _, blank = _trim(raw, *_unquote(raw, starts[single], ends[single]))
    wrong = int(np.count_nonzero(count != layout.width)) - int(np.count_nonzero(blank == 0))
    rows = np.flatnonzero(count == layout.width)
    columns: list[pa.Array] = []
    for position in (layout.id, layout.date, layout.amount):
        lo = starts[rows] if position == 0 else commas[first[rows] + position - 1] + 1
        hi = ends[rows] if position == layout.width - 1 else commas[first[rows] + position]
        if quotes.size and bool(np.any(before[hi] - before[lo] > 2)):
            return None  # a doubled quote: the value is not a span of the bytes
        columns.append(_gather(raw, *_trim(raw, *_unquote(raw, lo, hi))))
    return errors + wrong, (columns[0], columns[1], columns[2])


def _breaks(
    raw: npt.NDArray[np.uint8], cr: npt.NDArray[np.intp], quotes: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """Where the strict parser finds a record malformed: a CR outside quotes not followed by
    LF; a quote opening anywhere but at a field's start (after a comma, a record's start or
    the quote before it, which then closed); a quote closing before anything but a quote, a
    comma or a line end; a quote never closed (the last record)."""
    size = raw.size
    found = [cr[(cr + 1 == size) | (raw.take(cr + 1, mode="clip") != _LF)]]
    if quotes.size:
        opens, closes = quotes[0::2], quotes[1::2]
        before = raw.take(opens - 1, mode="clip")
        found.append(opens[(opens > 0) & (before != _COMMA) & (before != _LF) & (before != _QUOTE)])
        after = raw.take(closes + 1, mode="clip")
        crlf = (after == _CR) & (closes + 2 < size) & (raw.take(closes + 2, mode="clip") == _LF)
        fine = (closes + 1 == size) | (after == _QUOTE) | (after == _COMMA) | (after == _LF) | crlf
        found.append(closes[~fine])
        if quotes.size % 2:
            found.append(np.array([size - 1]))
    return np.concatenate(found)


def _unreadable_lines(
    raw: npt.NDArray[np.uint8], lf: npt.NDArray[np.intp], lines: int
) -> npt.NDArray[np.bool_]:
    """Per line: whether it holds a NUL or bytes that are not UTF-8."""
    bad = np.zeros(lines, dtype=bool)
    bad[np.searchsorted(lf, np.flatnonzero(raw == 0))] = True
    high = np.flatnonzero(raw >= 0x80)
    if high.size:
        bad[np.searchsorted(lf, high[~_utf8_ok(raw, high)])] = True
        # A continuation byte no lead byte asked for: per line, more of them than were asked.
        line = np.searchsorted(lf, high)
        byte = raw[high]
        asked = np.bincount(line, _NEEDS[byte], minlength=lines)
        given = np.bincount(line, (byte & 0xC0) == 0x80, minlength=lines)
        bad |= asked != given
    return bad


# Per byte: how many continuation bytes it starts (0 for ASCII, continuations and bytes that
# can never occur in UTF-8), and the range its second byte must fall in (RFC 3629: no overlong
# forms, no surrogates, nothing past U+10FFFF).
_NEEDS = np.zeros(256, dtype=np.int64)
_NEEDS[0xC2:0xE0], _NEEDS[0xE0:0xF0], _NEEDS[0xF0:0xF5] = 1, 2, 3
_NEVER = np.zeros(256, dtype=bool)
_NEVER[[0xC0, 0xC1, *range(0xF5, 0x100)]] = True
_SECOND_LOW = np.full(256, 0x80, dtype=np.uint8)
_SECOND_HIGH = np.full(256, 0xBF, dtype=np.uint8)
_SECOND_LOW[0xE0], _SECOND_HIGH[0xED], _SECOND_LOW[0xF0], _SECOND_HIGH[0xF4] = (
    0xA0,
    0x9F,
    0x90,
    0x8F,
)


def _utf8_ok(raw: npt.NDArray[np.uint8], high: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
    """Per byte past ASCII: whether it can occur there (a lead byte followed by as many
    continuation bytes as it needs, the second in its range; or a continuation byte)."""
    byte = raw[high]
    ok = ~_NEVER[byte]
    needs = _NEEDS[byte]
    for k in (1, 2, 3):
        asks = needs >= k
        follow = raw.take(high + k, mode="clip")
        cont = (high + k < raw.size) & ((follow & 0xC0) == 0x80)
        if k == 1:
            cont &= (follow >= _SECOND_LOW[byte]) & (follow <= _SECOND_HIGH[byte])
        ok &= ~asks | cont
    return ok


def _unquote(
    raw: npt.NDArray[np.uint8], lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A wholly quoted field's span without its quotes (no doubled quotes in a simple chunk)."""
    quoted = (hi > lo) & (raw.take(lo, mode="clip") == _QUOTE)
    return lo + quoted, hi - quoted


def _trim(
    raw: npt.NDArray[np.uint8], lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The spans trimmed as str.strip() would: their starts and lengths."""
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    for _ in range(_TRIM_STEPS):
        lead = (hi > lo) & _SPACE[raw.take(lo, mode="clip")]
        trail = (hi > lo) & _SPACE[raw.take(hi - 1, mode="clip")]
        if not (lead.any() or trail.any()):
            break
        lo += lead
        hi -= trail & (hi > lo)
    edge = (hi > lo) & (
        (raw.take(lo, mode="clip") >= 0x80)
        | (raw.take(hi - 1, mode="clip") >= 0x80)
        | _SPACE[raw.take(lo, mode="clip")]
        | _SPACE[raw.take(hi - 1, mode="clip")]
    )
    for i in np.flatnonzero(edge).tolist():
        text = bytes(raw[lo[i] : hi[i]]).decode("utf-8")
        lo[i] += len(text.encode("utf-8")) - len(text.lstrip().encode("utf-8"))
        hi[i] = lo[i] + len(text.strip().encode("utf-8"))
    return lo, hi - lo


def _gather(
    raw: npt.NDArray[np.uint8], lo: npt.NDArray[np.int64], length: npt.NDArray[np.int64]
) -> pa.Array:
    """The spans as one binary array."""
    offsets = np.zeros(lo.size + 1, dtype=np.int32)
    np.cumsum(length, out=offsets[1:])
    total = int(offsets[-1])
    index = np.arange(total, dtype=np.int64)
    index += np.repeat(lo - offsets[:-1], length)
    buffer = raw.take(index)
    return pa.Array.from_buffers(
        pa.binary(), lo.size, [None, pa.py_buffer(offsets), pa.py_buffer(buffer)]
    )
