"""The fast path: one chunk of records through pyarrow's CSV reader and vectorized checks.

:func:`prepare` holds no file state (only a shared cache of parsed dates), so chunks can be
prepared on worker threads; pyarrow and numpy release the GIL. It returns None whenever
anything needs a closer look, and the careful path then judges the chunk row by row. It never
reports errors itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from txsummary.core.ids import BITMAP_LIMIT
from txsummary.core.model import MonthKey, Partial, Totals
from txsummary.core.rules import Layout, ParsedDate, RuleError, parse_date

_T = TypeVar("_T", bound=np.generic)

# Parsed date texts shared by all chunks of a file (None: the text is not a valid date).
DateCache = dict[str, ParsedDate | None]

# Sums are taken in int64: keep |cents| * rows far below 2**63.
MAX_CENTS = 10**12
MAX_ROWS = 9_000_000
# Fewer, larger record batches: less per-batch work in the reader.
_BLOCK_SIZE = 16 << 20
# The bytes an amount may contain.
_AMOUNT_BYTE = np.zeros(256, dtype=bool)
_AMOUNT_BYTE[list(b"0123456789+-.")] = True
# Scale 2: the stored integer is the amount in cents.
_CENTS_TYPE = pa.decimal64(18, 2)
# A quote that neither opens nor closes a field ("ab"c, a"b, doubled quotes): pyarrow reads
# these leniently, so such chunks go to the careful path, which rejects malformed quoting.
_MID_FIELD_QUOTE = re.compile(rb'(?<![,\n])"(?![,\r\n])')


@dataclass(frozen=True, slots=True)
class Prepared:
    """A clean chunk's partial summary and what must still be checked against the file."""

    partial: Partial
    has_year: bool | None  # None when the chunk has no rows
    int_ids: npt.NDArray[np.int64] | None  # canonical integer Ids below BITMAP_LIMIT
    text_ids: list[str] | None  # any other Ids


def prepare(data: bytes, layout: Layout, dates: DateCache) -> Prepared | None:
    """Parse and check a chunk of whole records; None if the careful path must judge it."""
    if b'"' in data and _MID_FIELD_QUOTE.search(data):
        return None
    table = _read(data, layout)
    if table is None or table.num_rows > MAX_ROWS:
        return None
    if table.num_rows == 0:
        return Prepared(Partial(), None, np.zeros(0, dtype=np.int64), None)
    month = _month_codes(table.column(1).combine_chunks(), dates)
    if month is None:
        return None
    row_keys, keys, has_year = month
    cents = _cents(table.column(2).combine_chunks())
    if cents is None:
        return None
    ids = table.column(0).combine_chunks()
    if pc.min(pc.binary_length(ids)).as_py() == 0:
        return None
    int_ids = _canonical_int_ids(ids)
    text_ids = None
    if int_ids is None:
        try:
            text_ids = [raw.decode("utf-8") for raw in ids.to_pylist()]
        except UnicodeDecodeError:
            return None
        if any(t != t.strip() for t in text_ids):
            return None
    return Prepared(_aggregate(row_keys, cents, keys), has_year, int_ids, text_ids)


def _read(data: bytes, layout: Layout) -> pa.Table | None:
    names = [f"c{i}" for i in range(layout.width)]
    wanted = [names[layout.id], names[layout.date], names[layout.amount]]
    try:
        return pacsv.read_csv(
            pa.py_buffer(data),
            # One thread per chunk: chunks are already prepared in parallel.
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=_BLOCK_SIZE
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=b'"' in data),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                # Bytes: the chunk's UTF-8 is checked once, by the caller, not per column.
                column_types=dict.fromkeys(wanted, pa.binary()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:  # e.g. a row with the wrong number of fields
        return None


def _month_codes(
    column: pa.BinaryArray, dates: DateCache
) -> tuple[npt.NDArray[np.int64], list[MonthKey], bool] | None:
    """Per-row month codes. A chunk has few distinct dates, so each is parsed once (and cached
    across chunks); dictionary-encoding afterwards is cheaper than in the CSV reader."""
    encoded = pc.dictionary_encode(column)
    keys: list[MonthKey] = []
    key_index: dict[MonthKey, int] = {}
    has_year: bool | None = None
    codes = np.empty(len(encoded.dictionary), dtype=np.int64)
    for i, raw in enumerate(encoded.dictionary.to_pylist()):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if text in dates:
            date = dates[text]
        else:
            try:
                date = parse_date(text)
            except RuleError:
                date = None
            dates[text] = date
        if date is None:
            return None
        if has_year is None:
            has_year = date.year is not None
        elif has_year != (date.year is not None):
            return None
        key = (date.year, date.month)
        codes[i] = key_index.setdefault(key, len(keys))
        if len(key_index) > len(keys):
            keys.append(key)
    assert has_year is not None
    return codes[_numbers(encoded.indices, np.int32)], keys, has_year


def _cents(amounts: pa.BinaryArray) -> npt.NDArray[np.int64] | None:
    """Integer cents of every amount, or None if any breaks the rule or is too large.

    Exact: Arrow parses each text as a decimal64 with scale 2, whose storage is the value in
    cents as a 64-bit integer. No float is involved. That parser also takes forms the rule
    refuses (1e3, .5, 10., 1.230), so :func:`_amounts_follow_the_rule` goes first.
    """
    if not _amounts_follow_the_rule(amounts):
        return None
    try:
        decimals = pc.cast(amounts, _CENTS_TYPE)
    except pa.ArrowInvalid:  # not a number (+-5, 1.2.3), or more digits than decimal64 holds
        return None
    cents = _numbers(decimals, np.int64)
    if np.abs(cents).max() >= MAX_CENTS:
        return None
    return cents


def _amounts_follow_the_rule(amounts: pa.BinaryArray) -> bool:
    """AMOUNT_PATTERN for every value, given that the decimal64 cast then succeeds (which
    refuses misplaced signs and a second point). Vectorized over the bytes: per value, a
    regex costs more than everything else in the fast path."""
    offsets = np.frombuffer(amounts.buffers()[1], dtype=np.int32)[
        amounts.offset : amounts.offset + len(amounts) + 1
    ]
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    if int(lengths.min()) == 0:
        return False
    text = np.frombuffer(amounts.buffers()[2], dtype=np.uint8)
    used = text[offsets[0] : offsets[-1]]
    if not bool(_AMOUNT_BYTE[used].all()):  # digits, signs and points only: no e, no spaces
        return False
    point = ord(".")
    first = text[starts]
    signed = (first == ord("+")) | (first == ord("-"))
    second = text[np.minimum(starts + 1, ends - 1)]
    if bool(np.any((first == point) | (signed & (lengths > 1) & (second == point)))):
        return False  # .5 or +.5: no digit before the point
    # A value's point, if any, must be its second- or third-last byte (one or two decimals).
    # Each value has at least as many points as it has points in those places, so the totals
    # are equal exactly when every value has no other point.
    second_last = (lengths >= 2) & (text[np.maximum(ends - 2, starts)] == point)
    third_last = (lengths >= 3) & (text[np.maximum(ends - 3, starts)] == point)
    placed = int(np.count_nonzero(second_last | third_last))
    return int(np.count_nonzero(used == point)) == placed


def _canonical_int_ids(ids: pa.BinaryArray) -> npt.NDArray[np.int64] | None:
    """The Ids as integers if all are canonical ('0', '17'; not '007', '+1', ' 1', '0x1F') and
    below BITMAP_LIMIT. Ids are not empty here."""
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[
        ids.offset : ids.offset + len(ids) + 1
    ]
    text = np.frombuffer(ids.buffers()[2], dtype=np.uint8)
    if not bool(np.all(text[offsets[0] : offsets[-1]] - ord("0") < 10)):  # uint8 wraps around
        return None
    if bool(np.any((text[offsets[:-1]] == ord("0")) & (np.diff(offsets) > 1))):
        return None
    try:
        values = _numbers(pc.cast(ids, pa.int64()), np.int64)
    except pa.ArrowInvalid:  # too many digits for int64
        return None
    return values if values.max() < BITMAP_LIMIT else None


def _numbers(array: pa.Array, dtype: type[_T]) -> npt.NDArray[_T]:
    """A view of a null-free fixed-width array's values (for decimal64, the scaled integer).
    Not Array.to_numpy(): that imports pandas, which costs a third of a second."""
    assert array.null_count == 0
    values: npt.NDArray[_T] = np.frombuffer(array.buffers()[1], dtype=dtype)
    return values[array.offset : array.offset + len(array)]


def _aggregate(
    keys: npt.NDArray[np.int64], cents: npt.NDArray[np.int64], names: list[MonthKey]
) -> Partial:
    """Per-month counts and sums, split by sign, in int64 (exact: MAX_CENTS * MAX_ROWS < 2**63).
    Zero amounts count toward neither credits nor debits."""
    sign_class = keys * 3 + np.sign(cents) + 1  # 0 debit, 1 zero, 2 credit
    counts = np.bincount(sign_class, minlength=3 * len(names)).reshape(-1, 3)
    flat_sums = np.zeros(3 * len(names), dtype=np.int64)
    np.add.at(flat_sums, sign_class, cents)
    sums = flat_sums.reshape(-1, 3)
    partial = Partial()
    for code, key in enumerate(names):
        debit_total, _, credit_total = (int(v) for v in sums[code])
        partial.add(
            key,
            Totals(
                transactions=int(counts[code].sum()),
                balance=debit_total + credit_total,
                credits=int(counts[code, 2]),
                credit_total=credit_total,
                debits=int(counts[code, 0]),
                debit_total=debit_total,
            ),
        )
    return partial
