"""The careful path: every record, every rule, every offending line with its reason.

Records come from the strict parser (core.records). Their values are checked with the same rule
functions as the fast path's, and the valid rows go through the same pandas aggregation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from txsummary.core import aggregate as engine
from txsummary.core.errors import shown
from txsummary.core.records import records
from txsummary.core.rules import (
    AMOUNT_OK,
    Layout,
    ParsedDate,
    amount_reason,
    cached_date,
    check_amounts,
    date_reason,
)
from txsummary.core.state import ErrorList, FileChecks

# A NUL, or a byte that is not UTF-8 (decoded with surrogateescape).
_UNREADABLE = re.compile("[\x00\udc80-\udcff]")


@dataclass(slots=True)
class Candidates:
    """Well-formed rows with the right number of fields: their lines and trimmed values."""

    lines: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)


def read_candidates(
    data: bytes, first_line: int, layout: Layout, errors: ErrorList, clean: bool
) -> Candidates:
    """Parse a chunk record by record; report malformed, unreadable and wrong-width records."""
    text = data.decode("utf-8") if clean else data.decode("utf-8", "surrogateescape")
    found = Candidates()
    lines, ids, dates, amounts = found.lines, found.ids, found.dates, found.amounts
    width, at_id, at_date, at_amount = layout.width, layout.id, layout.date, layout.amount
    for lf, start, end, fields, error in records(text):
        line = first_line + lf
        if not clean and _UNREADABLE.search(text, start, end):
            report_unreadable(text[start:end], line, errors)
        elif fields is None:
            errors.add(line, error)
        elif len(fields) == width:
            lines.append(line)
            ids.append(fields[at_id].strip())
            dates.append(fields[at_date].strip())
            amounts.append(fields[at_amount].strip())
        elif len(fields) > 1 or "".join(fields).strip():  # else a blank line
            errors.add(line, f"expected {width} fields, found {len(fields)}")
    return found


def report_unreadable(text: str, line: int, errors: ErrorList) -> None:
    """One error per physical line holding a NUL or bytes that are not UTF-8."""
    for offset, physical in enumerate(text.split("\n")):
        if "\x00" in physical:
            errors.add(line + offset, "binary data (NUL byte); the file must be UTF-8 text")
        elif _UNREADABLE.search(physical):
            raw = physical.encode("utf-8", "surrogateescape")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.add(
                    line + offset,
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "the file must be UTF-8 encoded",
                )


@dataclass(slots=True)
class _Valid:
    """The valid rows of a batch, with their dates as codes into the distinct texts."""

    rows: list[int] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    parsed: list[ParsedDate] = field(default_factory=list)


def _reasons(
    found: Candidates,
    i: int,
    *,
    fresh: bool,
    date: ParsedDate | None,
    checks: FileChecks,
    codes: npt.NDArray[np.uint8] | None,
) -> list[str]:
    """Every rule row ``i`` breaks, in column order (its Id is already recorded: ``fresh``
    says whether it was new). May fix the file's year form."""
    reasons: list[str] = []
    row_id = found.ids[i]
    if not row_id:
        reasons.append("Id is empty")
    elif not fresh:
        reasons.append(f"duplicate Id {shown(row_id)}")
    if date is None:
        reasons.append(date_reason(found.dates[i]))
    elif conflict := checks.year_form.conflict(date.year is not None):
        reasons.append(conflict)
    if codes is not None and codes[i] != AMOUNT_OK:
        reasons.append(amount_reason(found.amounts[i], int(codes[i])))
    return reasons


def check_rows(found: Candidates, checks: FileChecks, want_rows: bool) -> pd.DataFrame | None:
    """Check every candidate row in line order, report each offending one with all its reasons,
    and add the valid rows to the file's totals. Returns their on_rows frame if wanted."""
    amounts = check_amounts(pa.array(found.amounts, pa.string()))
    codes = amounts.codes
    bad_amounts = set() if codes is None else set(np.flatnonzero(codes != AMOUNT_OK).tolist())
    valid = _Valid()
    valid_rows, valid_codes, date_index = valid.rows, valid.codes, valid.index
    add_id, dates, year_form = checks.ids.add, checks.dates, checks.year_form
    for i, (line, row_id, text) in enumerate(zip(found.lines, found.ids, found.dates, strict=True)):
        fresh = bool(row_id) and add_id(row_id)
        date = cached_date(text, dates)
        if (
            fresh
            and date is not None
            and i not in bad_amounts
            and year_form.agrees(date.year is not None)
        ):
            year_form.conflict(date.year is not None)  # fixes the form at the first date
            code = date_index.get(text)
            if code is None:
                code = date_index[text] = len(valid.parsed)
                valid.parsed.append(date)
            valid_rows.append(i)
            valid_codes.append(code)
        else:
            reasons = _reasons(found, i, fresh=fresh, date=date, checks=checks, codes=codes)
            checks.errors.add(line, "; ".join(reasons))
    if not valid.rows:
        return None
    keep = np.array(valid.rows, dtype=np.intp)
    cents = amounts.cents[keep]
    date_codes = np.array(valid.codes, dtype=np.int32)
    frame = engine.aggregation_frame(date_codes, list(valid.index), cents)
    checks.totals.merge(engine.aggregate(frame, checks.dates))
    if not want_rows:
        return None
    return engine.rows_frame(
        line=pa.array([found.lines[i] for i in valid.rows], pa.int64()),
        ids=pa.array([found.ids[i] for i in valid.rows], pa.string()),
        dates=pa.array([found.dates[i] for i in valid.rows], pa.string()),
        parsed=valid.parsed,
        date_codes=pa.array(date_codes),
        cents=cents,
    )
