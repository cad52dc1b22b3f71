"""The pandas engine: rows as DataFrames, and the one aggregation both paths send them through.

Two kinds of frame:
- the *aggregation frame*: ``date`` (categorical: each distinct date text once, rows as codes)
  and ``amount_cents`` (int64). Both paths build it for their valid rows and call
  :func:`aggregate`, the only place that groups rows by month and splits credits from debits;
- the *rows frame* given to ``on_rows``: ``line, id, date, year, month, day, amount_cents``,
  Arrow-backed, built only when someone asked for it.

Money is integer cents end to end. Sums are exact at any size: int64 sums, of 32-bit halves
when whole values could overflow; never a float.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from txsummary.core.arrow import ARROW_POOL
from txsummary.core.model import MonthKey, Partial, Totals
from txsummary.core.rules import DateCache, ParsedDate, cached_date

ROW_COLUMNS = ("line", "id", "date", "year", "month", "day", "amount_cents")
_INT64_LIMIT = 1 << 63
__all__ = ["ROW_COLUMNS", "aggregate", "aggregation_frame", "rows_frame"]


def aggregation_frame(
    codes: npt.NDArray[np.integer], dates: Sequence[str], cents: npt.NDArray[np.int64]
) -> pd.DataFrame:
    """Rows as (date code into ``dates``, cents); ``dates`` must be distinct."""
    return pd.DataFrame(
        {
            # Codes from a dictionary encoding are in range: skip pandas' check of every code.
            "date": pd.Categorical.from_codes(
                codes,
                categories=pd.Index(list(dates), dtype=object),
                validate=False,
            ),
            "amount_cents": cents,
        },
        copy=False,
    )


def aggregate(rows: pd.DataFrame, cache: DateCache) -> Partial:
    """Per-month counts and exact sums, credits (> 0) and debits (< 0) apart; zero amounts
    count toward neither. Groups by one integer key, month code * 3 + sign class, with
    numpy's bincount (counts) and int64 add.at (sums) on the frame's arrays: pandas' own
    groupby works that way, and one small integer key needs no hashing. (A pandas groupby
    took 15x as long per chunk here.)"""
    partial = Partial()
    if rows.empty:
        return partial
    dates: pd.Categorical = rows["date"].array
    months = [_month(text, cache) for text in dates.categories]
    keys: list[MonthKey] = list(dict.fromkeys(months))
    index = {month: code for code, month in enumerate(keys)}
    # Each date's month code * 3 + 1; + sign below: 0 debit, 1 zero, 2 credit.
    of_date = np.array([index[month] for month in months], dtype=np.int64)
    of_date *= 3
    of_date += 1
    cents = rows["amount_cents"].to_numpy(dtype=np.int64)
    key = of_date.take(dates.codes)  # take: faster than fancy indexing on a small table
    key += np.sign(cents)
    counts = np.bincount(key, minlength=3 * len(keys)).reshape(-1, 3)
    sums = _exact_sums(key, cents, 3 * len(keys))
    for code, month in enumerate(keys):
        partial.add(
            month,
            Totals.of(
                credits=int(counts[code, 2]),
                credit_total=sums[3 * code + 2],
                debits=int(counts[code, 0]),
                debit_total=sums[3 * code],
                zeros=int(counts[code, 1]),
            ),
        )
    return partial


def _month(text: str, cache: DateCache) -> MonthKey:
    date = cached_date(text, cache)
    assert date is not None, "only valid rows are aggregated"
    return (date.year, date.month)


def _exact_sums(key: npt.NDArray[np.int64], cents: npt.NDArray[np.int64], size: int) -> list[int]:
    """Sum of cents per key as Python ints, in int64 only (never a float), exact whatever the
    values: when the sums could overflow int64, the 32-bit halves are summed apart."""
    largest = max(int(cents.max()), -int(cents.min()))
    if largest * cents.size < _INT64_LIMIT:
        return [int(v) for v in _int_sums(key, cents, size)]
    # cents = high * 2**32 + low, 0 <= low < 2**32, |high| < 2**31: each sum of fewer than
    # 2**31 halves fits int64.
    assert cents.size < 1 << 31
    low = _int_sums(key, cents & 0xFFFFFFFF, size)
    high = _int_sums(key, cents >> 32, size)
    return [(int(h) << 32) + int(lo) for h, lo in zip(high, low, strict=True)]


def _int_sums(
    key: npt.NDArray[np.int64], values: npt.NDArray[np.int64], size: int
) -> npt.NDArray[np.int64]:
    sums = np.zeros(size, dtype=np.int64)
    np.add.at(sums, key, values)
    return sums


def rows_frame(
    *,
    line: pa.Array,
    ids: pa.Array,
    dates: pa.Array,
    parsed: Sequence[ParsedDate],
    date_codes: pa.Array,
    cents: npt.NDArray[np.int64],
) -> pd.DataFrame:
    """The ``on_rows`` frame: ``dates`` are the row texts, ``parsed``/``date_codes`` the parsed
    distinct dates and each row's index into them."""
    year = pa.array([d.year for d in parsed], pa.int16())
    month = pa.array([d.month for d in parsed], pa.int8())
    day = pa.array([d.day for d in parsed], pa.int8())
    table = pa.table(
        {
            "line": line.cast(pa.int64(), memory_pool=ARROW_POOL),
            "id": ids.cast(pa.string(), memory_pool=ARROW_POOL),
            "date": dates.cast(pa.string(), memory_pool=ARROW_POOL),
            "year": pc.take(year, date_codes, memory_pool=ARROW_POOL),
            "month": pc.take(month, date_codes, memory_pool=ARROW_POOL),
            "day": pc.take(day, date_codes, memory_pool=ARROW_POOL),
            "amount_cents": pa.array(cents, pa.int64(), memory_pool=ARROW_POOL),
        }
    )
    frame: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
    return frame
