"""The fast path: a chunk of records through pyarrow's CSV reader into pandas, all or nothing.

:func:`prepare` holds no file state (only the shared cache of parsed dates), so chunks are
prepared on worker threads; pyarrow, numpy and pandas' array code release the GIL. It accepts a
chunk only when it can show it read the chunk exactly as the careful path's strict parser
would, and every value follows the rules; otherwise it returns None and the careful path judges
the chunk row by row. It never reports errors itself, so errors come from one implementation.

The proof that pyarrow read the chunk as the strict parser would:
- no CR other than in CRLF (the strict parser refuses a bare CR outside quotes);
- quotes, if any, come in pairs, each opening right after a comma or line start and closing
  right before a comma or line end; so no field has a quote inside or after its quotes;
- as many records as physical lines: no quoted line break, no blank line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from txsummary.core.arrow import ARROW_POOL
from txsummary.core.ids import BITMAP_LIMIT
from txsummary.core.model import Partial
from txsummary.core.rules import (
    DateCache,
    Layout,
    ParsedDate,
    cached_date,
    canonical_ints,
    check_amounts,
    empty_values,
)

if TYPE_CHECKING:
    import pandas as pd

# Fewer, larger record batches: less per-batch work in the reader.
_BLOCK_SIZE = 16 << 20
_QUOTE, _COMMA, _LF, _CR = ord('"'), ord(","), ord("\n"), ord("\r")
_POOL = ARROW_POOL


@dataclass(frozen=True, slots=True)
class Prepared:
    """A clean chunk's partial summary and what must still be checked against the file."""

    partial: Partial
    has_year: bool | None  # None when the chunk has no rows
    int_ids: npt.NDArray[np.int64] | None  # canonical integer Ids below BITMAP_LIMIT
    text_ids: pa.Array | None  # any other Ids
    rows: pd.DataFrame | None  # the on_rows frame, when asked for


def prepare(
    data: bytes, layout: Layout, dates: DateCache, first_line: int = 1, want_rows: bool = False
) -> Prepared | None:
    """Read and check a chunk of whole records; None if the careful path must judge it."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if b"\r" in data and _count(raw, _CR) != data.count(b"\r\n"):
        return None
    quoted = b'"' in data
    if quoted and not quotes_wrap_whole_fields(raw):
        return None
    table = _read(data, layout, quoted)
    lines = _count(raw, _LF) + (not data.endswith(b"\n"))
    if table is None or table.num_rows != lines:
        return None
    columns = [table.column(i).combine_chunks(memory_pool=_POOL) for i in range(3)]
    return prepare_columns(*columns, dates=dates, first_line=first_line, want_rows=want_rows)


def prepare_columns(
    ids: pa.Array,
    date_texts: pa.Array,
    amounts: pa.Array,
    *,
    dates: DateCache,
    first_line: int = 1,
    want_rows: bool = False,
) -> Prepared | None:
    """Check three columns of texts (binary or UTF-8 string), one row per line from
    ``first_line``; None unless every value follows the rules as written (trimmed)."""
    if len(ids) == 0:
        return Prepared(Partial(), None, np.zeros(0, dtype=np.int64), None, None)
    encoded = pc.dictionary_encode(date_texts, memory_pool=_POOL)
    months = _distinct_dates(encoded.dictionary, dates)
    if months is None:
        return None
    distinct, parsed, has_year = months
    checked = check_amounts(amounts, explain=False)
    if checked.codes is not None:
        return None
    if bool(empty_values(ids).any()):
        return None
    canonical, values = canonical_ints(ids)
    int_ids, text_ids = None, None
    if bool(canonical.all()) and int(values.max()) < BITMAP_LIMIT:
        int_ids = values
    else:
        text_ids = ids.cast(pa.string())
        if any(t != t.strip() for t in text_ids.to_pylist()):
            return None
    # Here, not at the top: the checks above need no pandas, so the first chunks are read
    # and checked while pandas is still being imported (core.summarize).
    from txsummary.core import aggregate as engine  # noqa: PLC0415

    codes = encoded.indices.to_numpy(zero_copy_only=False)
    partial = engine.aggregate(engine.aggregation_frame(codes, distinct, checked.cents), dates)
    rows = None
    if want_rows:
        line = pa.array(np.arange(first_line, first_line + len(ids), dtype=np.int64))
        rows = engine.rows_frame(
            line=line,
            ids=ids,
            dates=date_texts,
            parsed=parsed,
            date_codes=encoded.indices,
            cents=checked.cents,
        )
    return Prepared(partial, has_year, int_ids, text_ids, rows)


def _count(raw: npt.NDArray[np.uint8], byte: int) -> int:
    """How many times ``byte`` occurs: numpy in slices, so no chunk-sized temporary (bytes.count
    is ten times slower)."""
    step = 1 << 18
    found = np.empty(min(step, raw.size), dtype=bool)
    total = 0
    for start in range(0, raw.size, step):
        part = raw[start : start + step]
        total += int(np.count_nonzero(np.equal(part, byte, out=found[: part.size])))
    return total


def quotes_wrap_whole_fields(raw: npt.NDArray[np.uint8]) -> bool:
    """Quotes pair up, each pair opening a field right after a comma or line start and closing
    it right before a comma or line end (no doubled quotes: those go the careful way)."""
    quotes = np.flatnonzero(raw == _QUOTE)
    if quotes.size % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    before = raw[np.maximum(opens - 1, 0)]
    if not bool(np.all((opens == 0) | (before == _COMMA) | (before == _LF))):
        return False
    after = raw[np.minimum(closes + 1, raw.size - 1)]
    at_end = closes + 1 == raw.size
    return bool(np.all(at_end | (after == _COMMA) | (after == _LF) | (after == _CR)))


def _read(data: bytes, layout: Layout, quoted: bool) -> pa.Table | None:
    names = [f"c{i}" for i in range(layout.width)]
    wanted = [names[layout.id], names[layout.date], names[layout.amount]]
    try:
        return pacsv.read_csv(
            pa.py_buffer(data),
            # One thread per chunk: chunks are already prepared in parallel.
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=_BLOCK_SIZE
            ),
            # With quotes, a quoted line break must join lines so the count check sees it.
            parse_options=pacsv.ParseOptions(newlines_in_values=quoted),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                # Bytes: the chunk's UTF-8 is checked once, by the caller, not per column.
                column_types=dict.fromkeys(wanted, pa.binary()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            memory_pool=_POOL,
        )
    except pa.ArrowInvalid:  # e.g. a row with the wrong number of fields
        return None


def _distinct_dates(
    dictionary: pa.Array, dates: DateCache
) -> tuple[list[str], list[ParsedDate], bool] | None:
    """The distinct date texts, parsed once each (and cached across chunks); None if any is
    not a valid date or the forms with and without a year mix within the chunk."""
    try:
        texts: list[str] = dictionary.cast(pa.string()).to_pylist()
    except pa.ArrowInvalid:  # not UTF-8
        return None
    parsed: list[ParsedDate] = []
    for text in texts:
        date = cached_date(text, dates)
        if date is None:
            return None
        parsed.append(date)
    forms = {date.year is not None for date in parsed}
    if len(forms) != 1:
        return None
    return texts, parsed, forms.pop()
