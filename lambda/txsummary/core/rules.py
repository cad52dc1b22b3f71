"""The input rules, each defined once. Both paths (and the DataFrame API) call these.

- the header: :func:`resolve_header`;
- the date forms and the calendar: :func:`parse_date`;
- the year-mixing rule: :class:`YearForm`;
- the Id rules: :func:`empty_values` and :func:`canonical_ints` (which Ids the registry keeps
  as integers);
- the amount rule: :func:`check_amounts`, vectorized over an Arrow array of texts (the careful
  path calls it on the rows it collected; :func:`parse_amount` is the one-value form).
The credit/debit split lives in the one aggregation, :func:`txsummary.core.aggregate.aggregate`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from txsummary.core import hints
from txsummary.core.arrow import ARROW_POOL
from txsummary.core.errors import shown

REQUIRED_COLUMNS = ("Id", "Date", "Transaction")
# Digits an amount may have before its point: cents then fit in int64 with room to spare.
MAX_WHOLE_DIGITS = 15

# The most digits a canonical integer Id may have: its value then fits in int64.
MAX_ID_DIGITS = 18
_MONTH_DAY = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})$")
_MONTH_DAY_YEAR = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")

# A leap year, so that a year-less 2/29 is a real date.
_LEAP_YEAR = 2000

# Byte classes for the amount rule: 0 digit, 1 sign, 2 point, 3 anything else.
_CLASS = np.full(256, 3, dtype=np.uint8)
_CLASS[list(b"0123456789")] = 0
_CLASS[list(b"+-")] = 1
_CLASS[ord(".")] = 2
_POINT = ord(".")

AMOUNT_OK, AMOUNT_NOT_A_NUMBER, AMOUNT_TOO_LONG = 0, 1, 2


class RuleError(ValueError):
    """A value breaks an input rule; the message is the reason shown to the user."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the required columns are, and how many fields every row must have."""

    width: int
    id: int
    date: int
    amount: int


@dataclass(frozen=True, slots=True)
class ParsedDate:
    year: int | None
    month: int
    day: int


def resolve_header(fields: list[str]) -> Layout:
    """Find the required columns: trimmed, case-insensitive, any order, extra columns ignored."""
    names = [f.strip().casefold() for f in fields]
    positions: dict[str, int] = {}
    for column in REQUIRED_COLUMNS:
        found = [i for i, name in enumerate(names) if name == column.casefold()]
        if len(found) > 1:
            raise RuleError(f"header has column {column} more than once")
        if found:
            positions[column] = found[0]
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        seen = ", ".join(shown(f, "<empty>") for f in fields[:10])
        reason = (
            f"header is missing {'column' if len(missing) == 1 else 'columns'} "
            f"{', '.join(missing)} (need {', '.join(REQUIRED_COLUMNS)}; found {seen})"
        )
        if sep := hints.separator(",".join(fields)):
            reason += f": the file seems {sep}-separated; {hints.SAVE_AS_COMMAS}"
        raise RuleError(reason)
    return Layout(len(fields), positions["Id"], positions["Date"], positions["Transaction"])


def parse_date(text: str) -> ParsedDate:
    """M/D (no year), M/D/YYYY or YYYY-MM-DD, and a real calendar date."""
    year: int | None
    if m := _MONTH_DAY.fullmatch(text):
        year, month, day = None, int(m[1]), int(m[2])
    elif m := _MONTH_DAY_YEAR.fullmatch(text):
        year, month, day = int(m[3]), int(m[1]), int(m[2])
    elif m := _ISO.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    else:
        raise RuleError(f"Date {shown(text)} is not M/D, M/D/YYYY or YYYY-MM-DD")
    check_year = _LEAP_YEAR if year is None else year
    if not (1 <= month <= 12 and check_year >= 1 and day >= 1):
        raise RuleError(f"Date {shown(text)} is not a real calendar date")
    if day > calendar.monthrange(check_year, month)[1]:
        raise RuleError(f"Date {shown(text)} is not a real calendar date")
    return ParsedDate(year, month, day)


# Parsed date texts shared by all chunks of a file (None: the text is not a valid date).
DateCache = dict[str, ParsedDate | None]


def cached_date(text: str, cache: DateCache) -> ParsedDate | None:
    """parse_date through the file's cache; None when the text is not a valid date."""
    try:
        return cache[text]
    except KeyError:
        pass
    try:
        date: ParsedDate | None = parse_date(text)
    except RuleError:
        date = None
    cache[text] = date
    return date


class YearForm:
    """Dates with and without a year must not mix: the file's first valid date fixes the form."""

    def __init__(self) -> None:
        self.has_year: bool | None = None

    def agrees(self, has_year: bool) -> bool:
        """Whether a date of this form would be accepted (without fixing the form)."""
        return self.has_year is None or self.has_year == has_year

    def fix(self, has_year: bool) -> None:
        """Fix the file's form at its first valid date (later calls change nothing)."""
        if self.has_year is None:
            self.has_year = has_year

    def reason(self, has_year: bool) -> str | None:
        """Why a date of this form is refused, or None when it is accepted."""
        if self.agrees(has_year):
            return None
        earlier = "have a year" if self.has_year else "have no year"
        return f"dates with and without a year are mixed (earlier dates in this file {earlier})"


@dataclass(frozen=True, slots=True)
class Amounts:
    cents: npt.NDArray[np.int64]  # 0 where the value breaks the rule
    codes: npt.NDArray[np.uint8] | None  # per value AMOUNT_*; None when every value is OK


def check_amounts(values: pa.Array, *, explain: bool = True, cents: bool = True) -> Amounts:
    """The amount rule over an array of texts (binary or string, no nulls): an optional sign,
    1 to 15 digits, optionally a point and one or two digits; and each value in cents, exact
    (integer arithmetic on the digits, never a float).

    Vectorized over the bytes: a regex per value costs more than everything else in the fast
    path. A value has at least as many signs as 'a sign first' and at least as many points as
    'a point second- or third-last', so when the totals over the array are equal, and no byte
    is foreign, every value is well formed. Only when they are not is each value counted.
    With ``explain=False`` (a caller that only needs to know whether all are OK), it is not:
    codes are then all AMOUNT_NOT_A_NUMBER and cents all 0. With ``cents=False`` (a caller
    that only counts what breaks the rule) the cents of values with errors among them are 0.
    """
    values = values.cast(pa.binary()) if pa.types.is_string(values.type) else values
    n = len(values)
    if n == 0:
        return Amounts(np.zeros(0, dtype=np.int64), None)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + n + 1
    ]
    data = values.buffers()[2]
    # At least one byte, so that the gathers below never index an empty array.
    text = np.frombuffer(data, dtype=np.uint8) if data and data.size else np.zeros(1, np.uint8)
    used = text[offsets[0] : offsets[-1]]
    shape = _Shape(text, offsets)
    signs = np.count_nonzero(used == ord("+")) + np.count_nonzero(used == ord("-"))
    points = np.count_nonzero(used == _POINT)
    digits = np.count_nonzero(used - np.uint8(ord("0")) < 10)  # uint8 wraps around
    if (
        bool(shape.ok.all())
        and signs + points + digits == used.size
        and signs == np.count_nonzero(shape.signed)
        and points == np.count_nonzero(shape.placed)
    ):
        return Amounts(shape.cents(text, None), None)
    if not explain:
        return Amounts(np.zeros(n, dtype=np.int64), np.full(n, AMOUNT_NOT_A_NUMBER, np.uint8))
    classes = _CLASS[used]
    bad = (shape.whole < 1) | _per_value_mismatch(classes, offsets, shape.signed, shape.placed)
    too_long = shape.whole > MAX_WHOLE_DIGITS
    codes = np.where(bad, AMOUNT_NOT_A_NUMBER, np.where(too_long, AMOUNT_TOO_LONG, AMOUNT_OK))
    codes = codes.astype(np.uint8)
    if not cents:
        return Amounts(np.zeros(n, dtype=np.int64), codes)
    return Amounts(shape.cents(text, codes == AMOUNT_OK), codes)


class _Shape:
    """Where each value's sign, point and digits would be if it were well formed."""

    def __init__(self, text: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int32]) -> None:
        starts, ends = offsets[:-1], offsets[1:]
        lengths = ends - starts
        first = text.take(starts, mode="clip")
        self.signed = (lengths > 0) & ((first == ord("+")) | (first == ord("-")))
        self.negative = (lengths > 0) & (first == ord("-"))
        self.point2 = (lengths >= 2) & (text.take(ends - 2, mode="clip") == _POINT)
        self.point3 = (lengths >= 3) & (text.take(ends - 3, mode="clip") == _POINT)
        self.placed = self.point2 | self.point3
        decimals = self.point2 * np.int32(2) + self.point3 * np.int32(3)
        self.whole = lengths - self.signed - decimals
        self.units = ends - 1 - decimals  # where the last whole digit is
        self.ok = (self.whole >= 1) & (self.whole <= MAX_WHOLE_DIGITS)

    def cents(
        self, text: npt.NDArray[np.uint8], good: npt.NDArray[np.bool_] | None
    ) -> npt.NDArray[np.int64]:
        """Each well-formed value in cents (0 where ``good`` is False). The whole digits are
        read eight at a time as one 64-bit word each (SWAR), with no float anywhere."""
        whole = self.whole if good is None else np.where(good, self.whole, 0)
        whole = np.clip(whole, 0, MAX_WHOLE_DIGITS)
        # Eight '0' bytes before the text, so that every word read stays inside the buffer.
        padded = np.concatenate([np.full(8, ord("0"), dtype=np.uint8), text])
        words = np.ndarray((padded.size - 7,), dtype="<u8", buffer=padded, strides=(1,))
        units = self.units + np.int32(8 - 7)  # the word that ends at the last digit
        cents = _eight_digits(words[units], np.minimum(whole, 8))
        if int(whole.max(initial=0)) > 8:
            high = _eight_digits(words[np.maximum(units - 8, 0)], np.maximum(whole - 8, 0))
            cents += high * np.int64(10**8)
        cents *= 100
        # The decimals in uint8, in place (at most 99): np.where made int64 temporaries.
        tenths = text.take(self.units + 2, mode="clip")
        tenths -= np.uint8(ord("0"))
        tenths *= self.placed
        tenths *= np.uint8(10)
        hundredths = text.take(self.units + 3, mode="clip")
        hundredths -= np.uint8(ord("0"))
        hundredths *= self.point3
        tenths += hundredths
        cents += tenths
        if good is not None:
            cents[~good] = 0
        # -x == (x ^ -1) + 1: a masked np.negative took five times as long.
        flip = self.negative.astype(np.int64)
        np.negative(flip, out=flip)
        cents ^= flip
        cents -= flip
        return cents


# Per count of digits kept (0..8): which bytes of the word are digits, and '0' in the others.
_KEEP = np.array([((1 << 64) - 1) ^ ((1 << (8 * (8 - k))) - 1) for k in range(9)], dtype=np.uint64)
_FILL = np.array([0x3030303030303030 & ~int(keep) for keep in _KEEP], dtype=np.uint64)
_ZEROS = np.uint64(0x3030303030303030)
_SWAR = (
    (np.uint64(10), np.uint64(8), np.uint64(0x00FF00FF00FF00FF)),
    (np.uint64(100), np.uint64(16), np.uint64(0x0000FFFF0000FFFF)),
    (np.uint64(10000), np.uint64(32), np.uint64(0xFFFFFFFF)),
)


def _eight_digits(
    word: npt.NDArray[np.uint64], count: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    """The number written by the last ``count`` bytes of each little-endian word (ASCII digits;
    the bytes before them are read as '0'). Works in place on ``word``: few temporaries, since
    fresh large arrays cost page faults."""
    v = word
    v &= _KEEP.take(count)  # take: faster than fancy indexing on a small table
    v |= _FILL.take(count)
    v -= _ZEROS
    shifted = np.empty_like(v)
    for factor, shift, mask in _SWAR:
        np.right_shift(v, shift, out=shifted)
        v *= factor
        v += shifted
        v &= mask
    return v.view(np.int64)


def _per_value_mismatch(
    used: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int32],
    signed: npt.NDArray[np.bool_],
    placed: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Per value: a byte that is no digit, sign or point, or a sign or point out of place."""
    starts = (offsets[:-1] - offsets[0]).astype(np.intp)
    # One zero past the end, so that reduceat accepts a start at the very end (an empty value).
    marks = np.zeros((3, used.size + 1), dtype=np.int32)  # a value is shorter than 2**31
    marks[0, :-1] = used == 1
    marks[1, :-1] = used == 2
    marks[2, :-1] = used == 3
    per_value = np.add.reduceat(marks, starts, axis=1) if starts.size else marks[:, :0]
    empty = offsets[1:] == offsets[:-1]
    per_value[:, empty] = 0
    mismatch: npt.NDArray[np.bool_] = (
        (per_value[0] != signed) | (per_value[1] != placed) | (per_value[2] != 0)
    )
    return mismatch


def parse_amount(text: str) -> int:
    """'+60.5' -> 6050 cents; the one-value form of :func:`check_amounts`."""
    checked = check_amounts(pa.array([text], pa.string()))
    if checked.codes is not None:
        from txsummary.core.reasons import amount_reason  # noqa: PLC0415 - it calls the rules

        raise RuleError(amount_reason(text, int(checked.codes[0])))
    return int(checked.cents[0])


def empty_values(values: pa.Array) -> npt.NDArray[np.bool_]:
    """Per value, whether it is empty: an Id must not be."""
    lengths = pc.binary_length(values, memory_pool=ARROW_POOL).to_numpy(zero_copy_only=False)
    empty: npt.NDArray[np.bool_] = lengths == 0
    return empty


def canonical_ints(ids: pa.Array) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """The canonical-integer Id rule over an array of texts (binary or string, no nulls): per
    Id, whether it is one ('0', '17', up to MAX_ID_DIGITS ASCII digits; not '007', '+1', ' 1',
    '' or other scripts' digits), and its value (0 where it is not)."""
    if pa.types.is_string(ids.type):
        ids = ids.cast(pa.binary())
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[ids.offset : ids.offset + n + 1]
    data = ids.buffers()[2]
    text = np.frombuffer(data, dtype=np.uint8) if data and data.size else np.zeros(1, np.uint8)
    lengths = np.diff(offsets)
    first = text.take(offsets[:-1], mode="clip")
    ok = (lengths >= 1) & (lengths <= MAX_ID_DIGITS) & ((first != ord("0")) | (lengths == 1))
    foreign = text[offsets[0] : offsets[-1]] - np.uint8(ord("0")) >= 10  # uint8 wraps around
    if bool(foreign.any()):  # else (the usual case) every byte is a digit
        # Per value, whether any byte is foreign (an empty value's entry is noise: not ok anyway).
        ok &= ~np.logical_or.reduceat(np.append(foreign, False), offsets[:-1] - offsets[0])
    if bool(ok.all()):
        values: npt.NDArray[np.int64] = pc.cast(ids, pa.int64(), memory_pool=ARROW_POOL).to_numpy()
        return ok, values
    values = np.zeros(n, dtype=np.int64)
    where = np.flatnonzero(ok)
    if where.size:
        values[where] = pc.cast(ids.take(pa.array(where)), pa.int64()).to_numpy()
    return ok, values
