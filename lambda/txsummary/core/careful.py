"""The careful path: every record, every rule, each offending line named with its reasons.

Records come from the strict parser (core.records). Their rows are judged by core.verdict (the
same rule functions as the fast path's), and the valid rows go through the same pandas
aggregation. Offending lines are named while they can be among the first reported; past that
they are counted (core.counting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from txsummary.core import aggregate as engine
from txsummary.core.reasons import width_reason
from txsummary.core.records import records
from txsummary.core.rules import Layout
from txsummary.core.state import FileChecks
from txsummary.core.verdict import judge

# A NUL, or a byte that is not UTF-8 (decoded with surrogateescape).
_UNREADABLE = re.compile("[\x00\udc80-\udcff]")


@dataclass(slots=True)
class Candidates:
    """Well-formed rows with the right number of fields: their lines and trimmed values."""

    lines: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)

    def values(self) -> tuple[list[str], list[str], list[str]]:
        return self.ids, self.dates, self.amounts


class ErrorSink(Protocol):
    def add(self, line: int, reason: str) -> None: ...


def read_candidates(
    data: bytes, first_line: int, layout: Layout, errors: ErrorSink, clean: bool
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
            errors.add(line, width_reason(fields, layout))
    return found


def report_unreadable(text: str, line: int, errors: ErrorSink) -> None:
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


def check_rows(found: Candidates, checks: FileChecks, want_rows: bool) -> pd.DataFrame | None:
    """Judge every candidate row (in line order), name each offending one with all its reasons
    while it can be among the first reported (count the rest), and add the valid rows to the
    file's totals. Returns their on_rows frame if wanted."""
    verdict = judge(
        pa.array(found.ids, pa.string()),
        pa.array(found.dates, pa.string()),
        pa.array(found.amounts, pa.string()),
        checks,
    )
    errors, lines = checks.errors, found.lines
    offending = np.flatnonzero(verdict.bad).tolist()
    for k, i in enumerate(offending):
        if not errors.would_keep(lines[i]):  # lines only grow from here
            errors.add_count(len(offending) - k)
            break
        reason = verdict.reasons(i, found.ids[i], found.dates[i], found.amounts[i])
        errors.add(lines[i], reason)
    good = np.flatnonzero(~verdict.bad)
    if not good.size:
        return None
    # The dates the valid rows use, coded afresh: the aggregation takes only valid dates.
    used, date_codes = np.unique(verdict.codes[good], return_inverse=True)
    date_codes = date_codes.astype(np.int32)
    texts = [verdict.texts[u] for u in used.tolist()]
    parsed = [verdict.parsed[u] for u in used.tolist()]
    cents = verdict.amounts.cents[good]
    frame = engine.aggregation_frame(date_codes, texts, cents)
    checks.totals.merge(engine.aggregate(frame, checks.dates))
    if not want_rows:
        return None
    return engine.rows_frame(
        line=pa.array([lines[i] for i in good.tolist()], pa.int64()),
        ids=pa.array([found.ids[i] for i in good.tolist()], pa.string()),
        dates=pa.array([found.dates[i] for i in good.tolist()], pa.string()),
        parsed=[p for p in parsed if p is not None],
        date_codes=pa.array(date_codes),
        cents=cents,
    )
