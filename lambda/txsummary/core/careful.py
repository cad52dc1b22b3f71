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

from txsummary.core import frame as engine
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

    def append(self, line: int, fields: list[str], layout: Layout) -> None:
        self.lines.append(line)
        self.ids.append(fields[layout.id].strip())
        self.dates.append(fields[layout.date].strip())
        self.amounts.append(fields[layout.amount].strip())


def read_candidates(
    data: bytes, first_line: int, layout: Layout, errors: ErrorList, clean: bool
) -> Candidates:
    """Parse a chunk record by record; report malformed, unreadable and wrong-width records."""
    text = data.decode("utf-8") if clean else data.decode("utf-8", "surrogateescape")
    found = Candidates()
    for record in records(text):
        line = first_line + record.lf
        if not clean and _UNREADABLE.search(text, record.start, record.end):
            report_unreadable(text[record.start : record.end], line, errors)
            continue
        fields = record.fields
        if fields is None:
            errors.add(line, record.error)
        elif len(fields) <= 1 and not "".join(fields).strip():
            continue  # blank or whitespace-only line
        elif len(fields) != layout.width:
            errors.add(line, f"expected {layout.width} fields, found {len(fields)}")
        else:
            found.append(line, fields, layout)
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

    def add(self, row: int, text: str, date: ParsedDate) -> None:
        code = self.index.setdefault(text, len(self.index))
        if code == len(self.parsed):
            self.parsed.append(date)
        self.rows.append(row)
        self.codes.append(code)


def _reasons(
    found: Candidates,
    i: int,
    date: ParsedDate | None,
    checks: FileChecks,
    codes: npt.NDArray[np.uint8] | None,
) -> list[str]:
    """Every rule row ``i`` breaks, in column order. Records its Id and may fix the year form."""
    reasons: list[str] = []
    row_id = found.ids[i]
    if not row_id:
        reasons.append("Id is empty")
    elif not checks.ids.add(row_id):
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
    valid = _Valid()
    for i, line in enumerate(found.lines):
        date = cached_date(found.dates[i], checks.dates)
        reasons = _reasons(found, i, date, checks, codes)
        if reasons:
            checks.errors.add(line, "; ".join(reasons))
        elif date is not None:
            valid.add(i, found.dates[i], date)
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
