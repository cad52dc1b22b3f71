"""Every row rule over a batch of rows at once: which rows break which rule.

The careful path names the offending rows from this verdict, and the counting path (once the
errors to name are found) only counts them, so a row is judged by one implementation whichever
path reads it. The rules themselves are in core.rules; the file's memory (the Ids seen, the
year form) in core.state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from txsummary.core.arrow import ARROW_POOL
from txsummary.core.errors import shown
from txsummary.core.reasons import amount_reason, date_reason
from txsummary.core.rules import (
    AMOUNT_OK,
    Amounts,
    DateCache,
    ParsedDate,
    YearForm,
    cached_date,
    check_amounts,
    empty_values,
)
from txsummary.core.state import FileChecks


@dataclass(frozen=True, slots=True)
class Verdict:
    """Per row of a batch, the rules it breaks; ``bad`` is their union."""

    empty_id: npt.NDArray[np.bool_]
    duplicate_id: npt.NDArray[np.bool_]
    bad_date: npt.NDArray[np.bool_]
    mixed_year: npt.NDArray[np.bool_]
    amounts: Amounts
    bad: npt.NDArray[np.bool_]
    # The dates: distinct texts, each parsed (None: not a date), and each row's code into them.
    texts: list[str]
    parsed: list[ParsedDate | None]
    codes: npt.NDArray[np.int32]
    form: YearForm

    def reasons(self, i: int, row_id: str, date: str, amount: str) -> str:
        """Every rule row ``i`` breaks, in column order, as the reason shown for its line."""
        reasons: list[str] = []
        if self.empty_id[i]:
            reasons.append("Id is empty")
        elif self.duplicate_id[i]:
            reasons.append(f"duplicate Id {shown(row_id)}")
        parsed = self.parsed[self.codes[i]]
        if parsed is None:
            reasons.append(date_reason(date))
        elif self.mixed_year[i]:
            reasons.append(self.form.reason(parsed.year is not None) or "")
        codes = self.amounts.codes
        if codes is not None and codes[i] != AMOUNT_OK:
            reasons.append(amount_reason(amount, int(codes[i])))
        return "; ".join(reasons)


@dataclass(frozen=True, slots=True)
class Rows:
    """What a batch's rules need that no earlier row changes: read on any thread."""

    ids: pa.Array
    texts: list[str]
    parsed: list[ParsedDate | None]
    codes: npt.NDArray[np.int32]
    amounts: Amounts


def read_rows(
    ids: pa.Array, dates: pa.Array, amounts: pa.Array, cache: DateCache, *, cents: bool = True
) -> Rows:
    """The batch's values checked on their own (trimmed texts): dates parsed, amounts read
    (their cents only if ``cents``: counting needs none)."""
    encoded = pc.dictionary_encode(dates, memory_pool=ARROW_POOL)
    texts: list[str] = encoded.dictionary.cast(pa.string()).to_pylist()
    parsed = [cached_date(text, cache) for text in texts]
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return Rows(ids, texts, parsed, codes, check_amounts(amounts, cents=cents))


def judge(ids: pa.Array, dates: pa.Array, amounts: pa.Array, checks: FileChecks) -> Verdict:
    """Judge a batch of rows (trimmed texts, in line order); see judge_rows."""
    return judge_rows(read_rows(ids, dates, amounts, checks.dates), checks)


def judge_rows(rows: Rows, checks: FileChecks) -> Verdict:
    """Judge a batch of rows in line order as if one after another: every non-empty Id is
    recorded, and the first valid date fixes the file's year form."""
    empty = empty_values(rows.ids)
    fresh = checks.ids.add_each(rows.ids)
    parsed, codes = rows.parsed, rows.codes
    valid_date = np.array([p is not None for p in parsed], dtype=bool).take(codes)
    with_year = np.array([p is not None and p.year is not None for p in parsed], dtype=bool)
    has_year = with_year.take(codes)
    form = checks.year_form
    if form.has_year is None and bool(valid_date.any()):
        form.fix(bool(has_year[int(np.argmax(valid_date))]))
    mixed = np.zeros(len(codes), dtype=bool)
    if form.has_year is not None:
        mixed = valid_date & (has_year != form.has_year)
    checked = rows.amounts
    bad = empty | ~fresh | ~valid_date | mixed
    if checked.codes is not None:
        bad |= checked.codes != AMOUNT_OK
    return Verdict(
        empty_id=empty,
        duplicate_id=~empty & ~fresh,
        bad_date=~valid_date,
        mixed_year=mixed,
        amounts=checked,
        bad=bad,
        texts=rows.texts,
        parsed=parsed,
        codes=codes,
        form=form,
    )
