"""The pandas engine: rows as DataFrames, and the one aggregation both paths send them through.

Two kinds of frame:
- the *aggregation frame*: ``date`` (categorical: each distinct date text once, rows as codes)
  and ``amount_cents`` (int64). Both paths build it for their valid rows and call
  :func:`aggregate`, the only place that groups rows by month and splits credits from debits;
- the *rows frame* given to ``on_rows``: ``line, id, date, year, month, day, amount_cents``,
  Arrow-backed, built only when someone asked for it.

Money is integer cents end to end. Sums are exact at any size: they are taken in float64 only
while every partial sum provably stays below 2**53, otherwise in 32-bit limbs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from txsummary.core.model import MonthKey, Partial, Totals
from txsummary.core.rules import DateCache, ParsedDate, cached_date

ROW_COLUMNS = ("line", "id", "date", "year", "month", "day", "amount_cents")
_EXACT_FLOAT = 1 << 53
# Rows per limb sum: 2**20 rows * 2**32 per low limb stays below 2**53.
_LIMB_ROWS = 1 << 20


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
    numpy's bincount on the frame's arrays (what pandas' own groupby does, without the
    hashing of a second key)."""
    partial = Partial()
    if rows.empty:
        return partial
    dates = rows["date"].cat
    keys: list[MonthKey] = []
    index: dict[MonthKey, int] = {}
    of_date = np.empty(len(dates.categories), dtype=np.int64)
    for i, text in enumerate(dates.categories):
        date = cached_date(text, cache)
        assert date is not None, "only valid rows are aggregated"
        of_date[i] = index.setdefault((date.year, date.month), len(index))
        if len(index) > len(keys):
            keys.append((date.year, date.month))
    cents = rows["amount_cents"].to_numpy(dtype=np.int64)
    key = of_date[dates.codes.to_numpy()]
    key *= 3
    key += 1
    key += np.sign(cents)  # + 0 debit, 1 zero, 2 credit
    counts = np.bincount(key, minlength=3 * len(keys)).reshape(-1, 3)
    sums = _exact_sums(key, cents, 3 * len(keys))
    for code, month in enumerate(keys):
        debit_total, credit_total = sums[3 * code], sums[3 * code + 2]
        partial.add(
            month,
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


def _exact_sums(key: npt.NDArray[np.int64], cents: npt.NDArray[np.int64], size: int) -> list[int]:
    """Sum of cents per key as Python ints, exact whatever the values and the row count."""
    largest = max(int(cents.max()), -int(cents.min()))
    if largest * cents.size < _EXACT_FLOAT:
        return [int(v) for v in np.bincount(key, weights=cents, minlength=size)]
    # cents = high * 2**32 + low, with 0 <= low < 2**32 and |high| < 2**31.
    totals = [0] * size
    for start in range(0, cents.size, _LIMB_ROWS):
        part, part_key = cents[start : start + _LIMB_ROWS], key[start : start + _LIMB_ROWS]
        low = np.bincount(part_key, weights=part & 0xFFFFFFFF, minlength=size)
        high = np.bincount(part_key, weights=part >> 32, minlength=size)
        for i in range(size):
            totals[i] += (int(high[i]) << 32) + int(low[i])
    return totals


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
            "line": line.cast(pa.int64()),
            "id": ids.cast(pa.string()),
            "date": dates.cast(pa.string()),
            "year": pc.take(year, date_codes),
            "month": pc.take(month, date_codes),
            "day": pc.take(day, date_codes),
            "amount_cents": pa.array(cents, pa.int64()),
        }
    )
    frame: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
    return frame
