"""Hostile CSV against a simple oracle, on the fast path alone, the careful path alone and the
normal mix: the same verdict, every figure, the first 20 error lines and the error count.

The oracle is written for clarity, not speed: a character-by-character strict CSV reader,
regular expressions and ``datetime.date`` for the rules, and Decimal for the money.
"""

from __future__ import annotations

import datetime
import gzip
import re
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.conftest import PATHS, summarize_bytes
from txsummary.core import counting
from txsummary.core.errors import InvalidFileError
from txsummary.core.summarize import FastPathDeclined, Path

PROFILE = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AMOUNT = re.compile(r"[+-]?[0-9]{1,15}(?:\.[0-9]{1,2})?")
CENT = Decimal("0.01")


# The oracle ---------------------------------------------------------------------------


def oracle_records(text: str) -> list[tuple[int, list[str] | None]]:
    """(first line, fields or None when malformed) for every record."""
    out: list[tuple[int, list[str] | None]] = []
    i, n = 0, len(text)
    while i < n:
        start = i
        fields, error, i = _one_record(text, i)
        if error:
            i = _resume(text, start, i)
        out.append((text.count("\n", 0, start) + 1, None if error else fields))
    return out


def _one_record(text: str, i: int) -> tuple[list[str], bool, int]:
    fields: list[str] = []
    field, state, n = "", "start", len(text)
    while i < n:
        c, nxt = text[i], text[i + 1 : i + 2]
        if state == "quoted":
            if c == '"' and nxt == '"':
                field, i = field + '"', i + 2
                continue
            if c == '"':
                state = "closed"
            else:
                field += c
            i += 1
            continue
        if c == '"' and state == "start":
            state, i = "quoted", i + 1
            continue
        if c in {",", "\n"} or (c == "\r" and nxt == "\n"):
            fields.append(field)
            field, state = "", "start"
            if c == ",":
                i += 1
                continue
            return fields, False, i + (1 if c == "\n" else 2)
        if c in {"\r", '"'} or state == "closed":
            return fields, True, i
        field, state, i = field + c, "plain", i + 1
    if state == "quoted":
        return fields, True, i
    fields.append(field)
    return fields, False, n


def _resume(text: str, start: int, at: int) -> int:
    for lf in range(at, len(text)):
        if text[lf] == "\n" and text.count('"', start, lf) % 2 == 0:
            return lf + 1
    return len(text)


def _date(text: str) -> tuple[int | None, int] | None:
    for pattern, order in (
        (r"([0-9]{1,2})/([0-9]{1,2})", "md"),
        (r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", "mdy"),
        (r"([0-9]{4})-([0-9]{2})-([0-9]{2})", "ymd"),
    ):
        if m := re.fullmatch(pattern, text):
            parts = dict(zip(order, map(int, m.groups()), strict=True))
            try:
                datetime.date(parts.get("y", 2000), parts["m"], parts["d"])
            except ValueError:
                return None
            return (parts.get("y"), parts["m"])
    return None


def oracle(text: str) -> tuple[dict[str, object] | None, list[int], int]:
    """(summary dict or None, first 20 error lines, error count)."""
    records = [(line, f) for line, f in oracle_records(text.removeprefix("\ufeff"))
               if f is None or len(f) > 1 or f[0].strip()]  # fmt: skip
    if not records:
        return None, [0], 1
    (header_line, header), rows = records[0], records[1:]
    names = [h.strip().casefold() for h in header or []]
    if header is None or any(names.count(c) != 1 for c in ("id", "date", "transaction")):
        return None, [header_line], 1
    assert header is not None
    where = [names.index(c) for c in ("id", "date", "transaction")]
    errors: list[int] = []
    rules = _RowRules()
    valid: list[tuple[tuple[int | None, int], Decimal]] = []
    for line, fields in rows:
        if fields is None or len(fields) != len(header):
            errors.append(line)
            continue
        row = rules.check(*(fields[i].strip() for i in where))
        if row is None:
            errors.append(line)
        else:
            valid.append(row)
    if errors:
        return None, sorted(errors)[:20], len(errors)
    return _summary(valid), [], 0


class _RowRules:
    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.has_year: bool | None = None

    def check(
        self, row_id: str, date_text: str, amount: str
    ) -> tuple[tuple[int | None, int], Decimal] | None:
        bad = not row_id or row_id in self.seen
        self.seen.add(row_id)
        month = _date(date_text)
        if month is None:
            bad = True
        elif self.has_year is None:
            self.has_year = month[0] is not None
        elif self.has_year != (month[0] is not None):
            bad = True
        if bad or month is None or not AMOUNT.fullmatch(amount):
            return None
        return month, Decimal(amount)


def _summary(valid: list[tuple[tuple[int | None, int], Decimal]]) -> dict[str, object]:
    def describe(values: list[Decimal]) -> dict[str, object]:
        credits = [v for v in values if v > 0]
        debits = [v for v in values if v < 0]
        return {"transactions": len(values), "credits": len(credits), "debits": len(debits),
                "balance": sum(values, Decimal(0)).quantize(CENT),
                "average_credit": _average(credits), "average_debit": _average(debits)}  # fmt: skip

    overall = describe([v for _, v in valid])
    overall["total_balance"] = overall.pop("balance")
    months = []
    for key in sorted({k for k, _ in valid}, key=lambda k: (k[0] or 0, k[1])):
        months.append({"year": key[0], "month": key[1],
                       **describe([v for k, v in valid if k == key])})  # fmt: skip
    return {**overall, "months": months}


def _average(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, ROUND_HALF_UP)


# Hostile files ------------------------------------------------------------------------

JUNK = ['"', '""', ",", "\r", "\n", "\r\n", " ", "a", "7/15", "+1.5", "-2", "0", "x" * 300]
DATES = ["7/15", "2/29", "12/31", "2/30", "7/15/2024", "2024-02-29", " 8/1 ", "2023-02-29"]
AMOUNTS = ["+1.5", "-2", "0", "-0.01", "999999999999999.99", "1234567890123456", "1e3", " 7 ",
           "5-", "+.5", "10."]  # fmt: skip
HEADERS = ["Id,Date,Transaction", '"Id","Date","Transaction"', "Transaction, id ,DATE,Memo",
           "Id,Date", 'Id,"Da""te",Transaction', 'Id,"Date,Transaction']  # fmt: skip


def _quoted(text: str, draw: st.DrawFn) -> str:
    return '"' + text.replace('"', '""') + '"' if draw(st.integers(0, 3)) == 0 else text


GOOD_DATES = {False: ["7/15", "2/29", "12/31", "01/02"], True: ["7/15/2024", "2024-02-29"]}
GOOD_AMOUNTS = ["+1.5", "-2", "0", "-0.01", "999999999999999.99", " 7 ", "12.34"]


@st.composite
def hostile_files(draw: st.DrawFn) -> str:
    # Half the files are valid but for their quoting, line ends and blank lines; the rest
    # have junk anywhere.
    clean = draw(st.booleans())
    header = draw(st.sampled_from(HEADERS[:3] if clean else HEADERS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    dates, amounts, junk = DATES, AMOUNTS, 9
    if clean:
        dates, amounts, junk = GOOD_DATES[draw(st.booleans())], GOOD_AMOUNTS, 7
    width = 4 if "Memo" in header else 3
    parts = [header + newline]
    for i in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0 if not clean else 1, 9))
        if kind < 7 or (clean and kind < 9):
            values = {"Id": str(draw(st.integers(0, i))) if kind == 0 else str(i),
                      "Date": draw(st.sampled_from(dates)),
                      "Transaction": draw(st.sampled_from(amounts)),
                      "Memo": draw(st.sampled_from(["", "a, b", 'say "hi"', "two\nlines",
                                                    "c\rr", "m" * 2000]))}  # fmt: skip
            order = (
                ["Transaction", "Id", "Date", "Memo"]
                if width == 4
                else ["Id", "Date", "Transaction"]
            )
            row = ",".join(_quoted(values[k], draw) if k != "Memo" else
                           '"' + values[k].replace('"', '""') + '"' for k in order)  # fmt: skip
        elif kind < junk:
            row = "".join(draw(st.lists(st.sampled_from(JUNK), max_size=6)))
        else:
            row = draw(st.sampled_from(["", "   ", '""']))
        ends = [newline] if clean else [newline, newline, newline, "\r", "\n"]
        parts.append(row + draw(st.sampled_from(ends)))
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.rstrip("\n")
    return draw(st.sampled_from(["", "\ufeff"])) + text


@PROFILE
@given(hostile_files(), st.sampled_from(PATHS), st.integers(2, 400), st.booleans(),
       st.sampled_from([1, 2]))  # fmt: skip
def test_hostile_files_match_the_oracle(
    text: str, path: Path, chunk_size: int, gzipped: bool, workers: int
) -> None:
    # Given a hostile file and what the oracle makes of it
    expected, lines, count = oracle(text)
    data = text.encode("utf-8")
    if gzipped:
        data = gzip.compress(data)
    # When one path (or the mix) reads it in chunks of any size, gzip blocks split anywhere
    try:
        summary = summarize_bytes(data, chunk_size=chunk_size, workers=workers, path=path)
    except InvalidFileError as error:
        # Then an invalid file is rejected with the oracle's lines and count
        assert expected is None, error.describe()
        assert [e.line for e in error.errors] == lines
        assert error.error_count == count
    except FastPathDeclined:
        assert path == "fast"  # the fast path alone may decline; it must never be wrong
    else:
        # Then a valid file gets every figure of the oracle
        assert expected is not None, (lines, count)
        document = summary.to_dict()
        for month in document["months"]:
            del month["name"]
        assert document == expected


# Invalid-heavy files: more errors than are named, so that most are only counted ------------

SHAPES = ("amounts", "dates", "ids", "one-field", "quotes", "mixed")
PADDING = ["", " ", "\t", "\u00a0", "\u3000", "\x1f"]


@st.composite
def invalid_heavy_files(draw: st.DrawFn) -> str:
    """Many offending rows of one shape (all amounts bad, every other date bad, all Ids
    repeated, one-field lines, quotes), with valid rows, blank lines and padding between."""
    shape = draw(st.sampled_from(SHAPES))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    with_year = draw(st.booleans())
    parts = [draw(st.sampled_from(HEADERS[:3])) + newline]
    width = 4 if "Memo" in parts[0] else 3
    for i in range(draw(st.integers(21, 90))):
        row_id, date = str(i), draw(st.sampled_from(GOOD_DATES[with_year]))
        amount = draw(st.sampled_from(GOOD_AMOUNTS))
        kind = shape if shape != "mixed" else draw(st.sampled_from(SHAPES[:-1]))
        if kind == "amounts":
            amount = draw(st.sampled_from([*AMOUNTS, "", "x", "1.234", "\u0663"]))
        elif kind == "dates" and i % 2:
            date = draw(st.sampled_from([*DATES, *GOOD_DATES[not with_year], "", "x"]))
        elif kind == "ids":
            row_id = draw(st.sampled_from(["1", "007", "tx", "", "99999999999999999999", "1"]))
        elif kind == "one-field" and draw(st.integers(0, 4)):
            parts.append(draw(st.sampled_from(["1", "x", "", " ", '""', '"a,b"', "\u00a0"])))
            parts.append(newline)
            continue
        values = {"Id": row_id, "Date": date, "Transaction": amount, "Memo": "m"}
        order = (
            ["Transaction", "Id", "Date", "Memo"] if width == 4 else ["Id", "Date", "Transaction"]
        )
        fields = [draw(st.sampled_from(PADDING)) + values[k] for k in order]
        if kind == "quotes" or draw(st.integers(0, 5)) == 0:
            fields = [_quoted(f, draw) for f in fields]
            if draw(st.integers(0, 3)) == 0:
                fields[draw(st.integers(0, width - 1))] += draw(
                    st.sampled_from(['"', 'x"', ",", ""])
                )
        parts.append(",".join(fields) + newline)
    text = "".join(parts)
    return text.rstrip("\n") if draw(st.booleans()) else text


@PROFILE
@given(invalid_heavy_files(), st.sampled_from(PATHS), st.integers(16, 2000),
       st.sampled_from([8, 100, 64 << 10]))  # fmt: skip
def test_invalid_heavy_files_are_counted_exactly(
    text: str, path: Path, chunk_size: int, piece: int
) -> None:
    # Given a file with many offending rows, and the careful path cutting chunks in pieces of
    # any size (so errors past the first 20 are counted within a chunk and across chunks)
    expected, lines, count = oracle(text)
    previous, counting.PIECE_BYTES = counting.PIECE_BYTES, piece
    # When it is read by one path or the mix
    try:
        summary = summarize_bytes(text.encode("utf-8"), chunk_size=chunk_size, path=path)
    except InvalidFileError as error:
        # Then it is rejected with the oracle's first 20 lines and its exact count
        assert expected is None, error.describe()
        assert [e.line for e in error.errors] == lines
        assert error.error_count == count
    except FastPathDeclined:
        assert path == "fast"
    else:
        assert expected is not None
        assert summary.totals.transactions == expected["transactions"]
    finally:
        counting.PIECE_BYTES = previous
