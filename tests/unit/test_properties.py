"""Property tests: the summarizer against a small, obviously correct Decimal oracle.

Tiny chunk sizes push chunk boundaries through every part of a file, so merging partial
summaries, the fast path and the careful path are all exercised.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.conftest import PATHS, rejection, summarize_bytes
from txsummary.core.summarize import FastPathDeclined, Path

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Row:
    id: str
    date: str
    amount: str
    year: int | None
    month: int
    value: Decimal


def _amount_text(cents: int, draw: st.DrawFn) -> str:
    sign = "-" if cents < 0 else draw(st.sampled_from(["", "+"]))
    whole, frac = divmod(abs(cents), 100)
    forms = [f"{whole}.{frac:02d}"]
    if frac % 10 == 0:
        forms.append(f"{whole}.{frac // 10}")
    if frac == 0:
        forms.append(f"{whole}")
    return sign + draw(st.sampled_from(forms))


@st.composite
def rows(draw: st.DrawFn, with_year: bool, index: int) -> Row:
    day = draw(st.dates(date(1990, 1, 1), date(2030, 12, 31)))
    if with_year:
        text = draw(st.sampled_from([f"{day.month}/{day.day}/{day.year}", day.isoformat()]))
        year: int | None = day.year
    else:
        day = day.replace(year=2000) if not (day.month == 2 and day.day == 29) else day
        text = draw(st.sampled_from([f"{day.month}/{day.day}", f"{day.month:02d}/{day.day:02d}"]))
        year = None
    cents = draw(st.one_of(st.integers(-10**6, 10**6), st.integers(-10**17 + 1, 10**17 - 1),
                           st.sampled_from([0, 1, -1, 5, -5])))  # fmt: skip
    id_text = draw(st.sampled_from([str(index), f"tx-{index}", f"00{index}", str(10**19 + index)]))
    return Row(id_text, text, _amount_text(cents, draw), year, day.month, Decimal(cents) / 100)


@st.composite
def valid_files(draw: st.DrawFn) -> tuple[bytes, list[Row]]:
    with_year = draw(st.booleans())
    count = draw(st.integers(0, 60))
    body = [draw(rows(with_year, i)) for i in range(count)]
    extra = draw(st.booleans())
    order = draw(st.permutations(["Id", "Date", "Transaction"] + (["Memo"] if extra else [])))
    header_names = [draw(st.sampled_from([n, n.upper(), n.lower(), f" {n} "])) for n in order]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO(newline="")
    if draw(st.booleans()):
        writer = csv.writer(out, lineterminator=newline, quoting=csv.QUOTE_ALL)
    else:
        writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header_names)
    for row in body:
        memo = draw(st.sampled_from(["", "coffee", "a, b", 'say "hi"', "two\nlines"]))
        values = {"Id": row.id, "Date": row.date, "Transaction": row.amount, "Memo": memo}
        pad = draw(st.sampled_from(["", " ", "\t"]))
        writer.writerow([pad + values[name] + pad if name != "Memo" else values[name]
                         for name in order])  # fmt: skip
        if draw(st.integers(0, 9)) == 0:
            out.write(draw(st.sampled_from(["", "   "])) + newline)
    data = out.getvalue().encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, body


def oracle(body: list[Row]) -> dict[str, object]:
    """The expected JSON summary, computed with Decimal from the generated rows."""

    def average(values: list[Decimal]) -> Decimal | None:
        if not values:
            return None
        mean = (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return _json(mean)

    def describe(selected: list[Row]) -> dict[str, object]:
        values = [r.value for r in selected]
        credits = [v for v in values if v > 0]
        debits = [v for v in values if v < 0]
        return {"transactions": len(values), "credits": len(credits), "debits": len(debits),
                "balance": _json(sum(values, Decimal(0))), "average_credit": average(credits),
                "average_debit": average(debits)}  # fmt: skip

    overall = describe(body)
    months = []
    for year, month in sorted({(r.year or 0, r.month) for r in body}):
        selected = [r for r in body if (r.year or 0, r.month) == (year, month)]
        months.append({"year": selected[0].year, "month": month, **describe(selected)})
    overall["total_balance"] = overall.pop("balance")
    return {**overall, "months": months}


def _json(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _comparable(summary: dict[str, object]) -> dict[str, object]:
    months = [{k: v for k, v in m.items() if k != "name"} for m in summary["months"]]  # type: ignore[attr-defined]
    return {**summary, "months": months}


@PROFILE
@given(valid_files(), st.integers(16, 400), st.sampled_from([1, 2]), st.booleans(),
       st.sampled_from(PATHS))  # fmt: skip
def test_valid_files_match_the_oracle(
    file: tuple[bytes, list[Row]], chunk_size: int, workers: int, gzipped: bool, path: Path
) -> None:
    data, body = file
    if gzipped:
        data = gzip.compress(data)
    try:
        summary = summarize_bytes(data, chunk_size=chunk_size, workers=workers, path=path)
    except FastPathDeclined:
        assert path == "fast"  # alone, the fast path may decline (padded values, "" quotes)
        return
    assert _comparable(summary.to_dict()) == oracle(body)


# Invalid rows placed anywhere ----------------------------------------------------------

BAD_ROWS = {
    "amount": ["1e3", "NaN", "inf", "+-5", "10.", "$10", "1.234", '"1,000"', "", "\u0663"],
    "date": ["2/30", "13/1", "7-15", "", "2023-02-29", "0/1"],
    "fields": [],
    "id": [],
}


@st.composite
def files_with_bad_rows(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    with_year = draw(st.booleans())
    good = [draw(rows(with_year, i)) for i in range(draw(st.integers(1, 40)))]
    lines = ["Id,Date,Transaction"] + [f"{r.id},{r.date},{r.amount}" for r in good]
    good_date = good[0].date
    wrong_year = "7/15" if with_year else "7/15/2024"
    count = draw(st.integers(1, 30))
    for k in range(count):
        kind = draw(st.sampled_from(["amount", "date", "fields", "id", "dup", "year"]))
        if kind == "amount":
            row = f"bad-{k},{good_date},{draw(st.sampled_from(BAD_ROWS['amount']))}"
        elif kind == "date":
            row = f"bad-{k},{draw(st.sampled_from(BAD_ROWS['date']))},+1"
        elif kind == "fields":
            row = draw(st.sampled_from([f"bad-{k},{good_date}", f"bad-{k},{good_date},+1,x"]))
        elif kind == "id":
            row = f" ,{good_date},+1"
        elif kind == "dup":
            row = f"{good[0].id},{good_date},+1"
        else:
            row = f"bad-{k},{wrong_year},+1"
        # After the first good row, so the year form and the duplicated Id come first.
        lines.insert(draw(st.integers(2, len(lines))), row)
    text = "\n".join(lines) + "\n"
    bad_lines = [i + 1 for i, line in enumerate(lines) if line.startswith(("bad-", " ,"))
                 or (line.startswith(good[0].id + ",") and i > 1)]  # fmt: skip
    return text.encode(), bad_lines


@PROFILE
@given(files_with_bad_rows(), st.integers(16, 300), st.sampled_from([1, 2]),
       st.sampled_from(["mixed", "careful"]))  # fmt: skip
def test_every_bad_row_is_reported_with_its_line(
    file: tuple[bytes, list[int]], chunk_size: int, workers: int, path: Path
) -> None:
    data, bad_lines = file
    error = rejection(data, chunk_size=chunk_size, workers=workers, path=path)
    assert error.error_count == len(bad_lines)
    assert [e.line for e in error.errors] == bad_lines[:20]
