"""The DataFrame API, for notebooks and anyone who already holds transactions in memory.

    >>> import pandas as pd
    >>> from txsummary import summarize_frame, month_table
    >>> frame = pd.DataFrame({"Id": ["0", "1"], "Date": ["7/15", "7/28"],
    ...                       "Transaction": ["+60.5", "-10.3"]})
    >>> month_table(summarize_frame(frame))[["name", "transactions", "balance"]]
       name  transactions balance
    0  July             2   50.20

:func:`summarize_frame` applies exactly the rules of a CSV file (core.rules), through the same
checks and the same aggregation as the streaming summarizer. The columns are found as in a CSV
header (trimmed, any case, any order, extra columns ignored). Values are texts as a CSV would
hold them (``dtype=str``, or Arrow strings); integer columns are taken as their decimal text.
Float columns are refused with a TypeError: a float cannot hold every amount in cents exactly.
A missing value (None, NaN, NA) counts as an empty field. An invalid frame raises
InvalidFileError whose line numbers are row positions counted from 1 (``iloc`` + 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from txsummary.core.careful import Candidates, check_rows
from txsummary.core.fastpath import prepare_columns
from txsummary.core.model import AVERAGE_FIELDS, CENTS_FIELDS, COUNT_FIELDS, Summary
from txsummary.core.money import json_money
from txsummary.core.rules import REQUIRED_COLUMNS, RuleError, resolve_header
from txsummary.core.state import FileChecks

# Rows checked at a time: about one CSV chunk's worth.
BLOCK_ROWS = 1 << 18

# Money shown as exact Decimals beside its cents: the balance and the averages.
_SHOWN = ("balance", *AVERAGE_FIELDS)
_CENTS = (*CENTS_FIELDS, *AVERAGE_FIELDS)
MONTH_COLUMNS = (
    "year", "month", "name", *COUNT_FIELDS, *(f"{name}_cents" for name in _CENTS), *_SHOWN,
)  # fmt: skip


def summarize_frame(frame: pd.DataFrame, *, source: str = "DataFrame") -> Summary:
    """Summarize a DataFrame with columns Id, Date and Transaction, by the CSV rules.

    Raises InvalidFileError (every offending row, by position from 1) when a rule is broken,
    and TypeError when a column's type cannot hold the values exactly (floats, datetimes).
    """
    try:
        layout = resolve_header([str(name) for name in frame.columns])
    except RuleError as exc:
        raise TypeError(f"{source}: {exc}") from None
    ids, dates, amounts = (
        _texts(frame.iloc[:, position], name)
        for position, name in zip(
            (layout.id, layout.date, layout.amount), REQUIRED_COLUMNS, strict=True
        )
    )
    checks = FileChecks()
    for start in range(0, len(frame), BLOCK_ROWS):
        block = [column.slice(start, BLOCK_ROWS) for column in (ids, dates, amounts)]
        prepared = prepare_columns(*block, dates=checks.dates, first_line=start + 1)
        if prepared is not None and checks.commit(prepared):
            continue
        found = Candidates()
        found.lines = list(range(start + 1, start + 1 + len(block[0])))
        found.ids, found.dates, found.amounts = ([t.strip() for t in c.to_pylist()] for c in block)
        check_rows(found, checks, want_rows=False)
    return checks.summary(source)


def _texts(column: pd.Series[Any], name: str) -> pa.Array:
    """A column's values as a null-free Arrow string array (missing values as empty texts)."""
    dtype = column.dtype
    if column.empty:  # an empty column's dtype says nothing (pandas makes it float or object)
        return pa.array([], pa.string())
    if pd.api.types.is_float_dtype(dtype):
        raise TypeError(
            f"column {name} holds floats ({dtype}), which cannot hold every amount in cents "
            "exactly; read the CSV with dtype=str (or pass the values as text)"
        )
    if pd.api.types.is_bool_dtype(dtype) or not (
        pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    ):
        raise TypeError(f"column {name} holds {dtype} values; pass the values as text")
    if pd.api.types.is_integer_dtype(dtype):
        array = pa.array(column, from_pandas=True).cast(pa.string())
    else:
        try:  # texts and missing values: Arrow converts them without a Python loop
            array = pa.array(column, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = pa.array([_text(value, name) for value in column], pa.string())
    return pc.fill_null(array, "")


def _text(value: object, name: str) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return str(value)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    raise TypeError(
        f"column {name} holds a {type(value).__name__} ({value!r}); pass the values as text"
        + (" (a float cannot hold every amount exactly)" if isinstance(value, float) else "")
    )


def month_table(summary: Summary) -> pd.DataFrame:
    """One row per month, in order: counts, integer cents (Int64, or Python ints when a value
    does not fit in 64 bits), and the money again as exact Decimals for display."""
    months = summary.months
    totals = [m.totals for m in months]
    cents = {name: [getattr(t, name) for t in totals] for name in _CENTS}
    columns: dict[str, pd.Series[Any]] = {
        "year": pd.Series([m.year for m in months], dtype="Int64"),
        "month": pd.Series([m.month for m in months], dtype="int64"),
        "name": pd.Series([m.name for m in months], dtype=object),
    }
    for name in COUNT_FIELDS:
        columns[name] = pd.Series([getattr(t, name) for t in totals], dtype="int64")
    columns.update({f"{name}_cents": _cents_column(values) for name, values in cents.items()})
    for name in _SHOWN:
        columns[name] = pd.Series([json_money(v) for v in cents[name]], dtype=object)
    return pd.DataFrame(columns, columns=list(MONTH_COLUMNS))


def _cents_column(values: list[int | None]) -> pd.Series[Any]:
    limit = np.iinfo(np.int64).max
    if all(v is None or -limit <= v <= limit for v in values):
        return pd.Series(values, dtype="Int64")
    return pd.Series(values, dtype=object)


__all__ = ["MONTH_COLUMNS", "month_table", "summarize_frame"]
