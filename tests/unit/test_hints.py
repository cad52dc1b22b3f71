"""Typical export mistakes get a reason that names the cause and the fix; verdicts stay the same."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.conftest import rejection, summarize_bytes
from txsummary.core import hints, reasons
from txsummary.core.errors import InvalidFileError, LineError
from txsummary.core.rules import parse_amount, parse_date

HEADER = b"Id,Date,Transaction\n"
SAVE_UTF8 = "File > Save As > CSV UTF-8"


def reason_of(data: bytes) -> str:
    """The one reason a file with exactly one offending line gets."""
    error = rejection(data)
    assert error.error_count == 1, error.describe()
    return error.errors[0].reason


# Each mistake, in a real-shaped file, and what its reason must say --------------------------

MISTAKES = {
    "semicolon header": (b"Id;Date;Transaction\n1;7/15;-12.50\n", "semicolon-separated"),
    "quoted semicolons": (b'"Id";"Date";"Transaction"\n"1";"7/15";"-1"\n', "semicolon-separated"),
    "tab header": (b"Id\tDate\tTransaction\n1\t7/15\t-12.50\n", "tab-separated"),
    "Excel sep= line": (b"sep=;\nId;Date;Transaction\n", "semicolon-separated"),
    "semicolon record": (HEADER + b"1;7/15;-12.50\n", "the line seems semicolon-separated"),
    "tab record": (HEADER + b"1\t7/15\t-12.50\n", "the line seems tab-separated"),
    "quoted decimal comma": (HEADER + b'1,7/15,"12,50"\n', "a decimal comma, so write it as 12.50"),
    "unquoted decimal comma": (
        HEADER + b"1,7/15,-12,50\n",
        "expected 3 fields, found 4: the Transaction '-12,50' seems to have a decimal comma, "
        "which split it in two, so write it as -12.50",
    ),
    "thousands": (HEADER + b'1,7/15,"1,234.50"\n', "thousands separators, so write it as 1234.50"),
    "unquoted thousands": (HEADER + b"1,7/15,1,234.50\n", "write it as 1234.50"),
    "european thousands": (HEADER + b'1,7/15,"-1.234,50"\n', "write it as -1234.50"),
    "dollar": (HEADER + b"1,7/15,$12.50\n", "a currency symbol ($), so write it as 12.50"),
    "minus dollar": (HEADER + b"1,7/15,-$12.50\n", "write it as -12.50"),
    "euro": (HEADER + "1,7/15,€3\n".encode(), "a currency symbol (€), so write it as 3"),
    "pound": (HEADER + "1,7/15,£4.10\n".encode(), "a currency symbol (£), so write it as 4.10"),
    "code": (HEADER + b"1,7/15,12.50 USD\n", "a currency code (USD), so write it as 12.50"),
    "euro and comma": (
        HEADER + '1,7/15,"12,50 €"\n'.encode(),
        "a currency symbol (€) and a decimal comma, so write it as 12.50",
    ),
    "unicode minus": (HEADER + "1,7/15,\u22122.00\n".encode(), "U+2212 (minus sign) in place"),
    "en dash": (HEADER + "1,7/15,\u20132.00\n".encode(), "U+2013 (en dash) in place of '-'"),
    "parentheses": (HEADER + b"1,7/15,(5.00)\n", "parentheses for a negative amount"),
    "trailing minus": (HEADER + b"1,7/15,5.00-\n", "a trailing minus sign, so write it as -5.00"),
    "space thousands": (HEADER + b"1,7/15,1 234.50\n", "thousands separators, so write it as 1234"),
    "euro, dots and comma": (
        HEADER + '1,7/15,"-€1.234,50"\n'.encode(),
        "a currency symbol (€), thousands separators and a decimal comma, so write it as -1234.50",
    ),
    "day/month": (
        HEADER + b"1,15/07/2024,1\n",
        "a day/month date (15 July 2024) where month/day is expected, so write it as 7/15/2024",
    ),
    "day/month without year": (HEADER + b"1,31/12,1\n", "write it as 12/31"),
    "day.month": (HEADER + b"1,15.07.2024,1\n", "write it as 7/15/2024"),
    "time of day": (HEADER + b"1,2024-07-15 10:30,1\n", "time of day, so write it as 2024-07-15"),
    "year first slashes": (HEADER + b"1,2024/07/15,1\n", "write it as 2024-07-15"),
    "utf-16 BOM": ("Id,Date,Transaction\n1,7/15,1\n".encode("utf-16"), SAVE_UTF8),
    "utf-16-be BOM": (b"\xfe\xff" + "Id,Date,Transaction\n".encode("utf-16-be"), SAVE_UTF8),
    "utf-16-le no BOM": ("Id,Date,Transaction\r\n1,7/15,1\r\n".encode("utf-16-le"), SAVE_UTF8),
    "utf-16-be no BOM": ("Id,Date,Transaction\r\n1,7/15,1\r\n".encode("utf-16-be"), SAVE_UTF8),
    "windows-1252 header": ("Id,Date,Transacción\n".encode("cp1252"), SAVE_UTF8),
    "empty amount": (
        HEADER + b"1,7/15,\n",
        "the Transaction field is empty: expected an amount like -12.50",
    ),
    "empty date": (HEADER + b"1,,1\n", "the Date field is empty: expected a date like 7/15"),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_export_mistake_gets_its_hint(name: str) -> None:
    # Given a file with one typical export mistake
    data, hint = MISTAKES[name]
    # When it is summarized, Then it is rejected (as before) with the cause and the fix named
    assert hint in reason_of(data)


@pytest.mark.parametrize("value", ["1e3", "ten", "+-5", "10.", ".5", "1.234", "$", "NaN", "USD"])
def test_values_without_a_known_cause_keep_the_rule_in_their_reason(value: str) -> None:
    reason = reason_of(HEADER + f"1,7/15,{value}\n".encode())
    assert reason.endswith("(digits with an optional sign and at most two decimals)")
    assert "write it as" not in reason


@pytest.mark.parametrize("value", ["45/07/2024", "7/40", "13/13/2024", "2024-02-30", "tomorrow"])
def test_dates_without_a_known_fix_get_no_hint(value: str) -> None:
    assert "write it as" not in reason_of(HEADER + f"1,{value},1\n".encode())


def test_counts_are_plain_english() -> None:
    one = InvalidFileError("a.csv", (LineError(2, "x"),), 1)
    two = InvalidFileError("a.csv", (LineError(2, "x"), LineError(3, "y")), 2)
    many = InvalidFileError("a.csv", (LineError(2, "x"),), 1234)
    assert one.describe().splitlines()[0] == "a.csv: invalid file, 1 error"
    assert two.describe().splitlines()[0] == "a.csv: invalid file, 2 errors"
    assert many.describe().splitlines()[0] == "a.csv: invalid file, 1,234 errors (first 1 shown)"
    assert "(s)" not in one.describe() + two.describe()


def test_describe_shows_as_many_lines_as_asked() -> None:
    error = InvalidFileError("a.csv", tuple(LineError(i, f"r{i}") for i in range(2, 7)), 5)
    assert error.describe(2).splitlines() == [
        "a.csv: invalid file, 5 errors (first 2 shown)",
        "  line 2: r2",
        "  line 3: r3",
    ]
    assert error.describe(0) == "a.csv: invalid file, 5 errors"


# Properties: the hint's fix is what the value meant, and valid values never get one ------------

cents = st.integers(-(10**12), 10**12)


def canonical(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def mangled(value: int, mistake: str) -> str:
    """How a spreadsheet export writes ``value`` cents with one typical mistake."""
    sign = "-" if value < 0 else ""
    minus = "\u2212" if value < 0 else ""
    whole, frac = f"{abs(value) // 100:,}", f"{abs(value) % 100:02d}"
    return {
        "decimal comma": f"{sign}{whole.replace(',', '')},{frac}",
        "thousands": f"{sign}{whole}.{frac}",
        "european": f"{sign}{whole.replace(',', '.')},{frac}",
        "dollar": f"{sign}${whole.replace(',', '')}.{frac}",
        "euro after": f"{sign}{whole.replace(',', '')}.{frac} €",
        "unicode minus": f"{minus}{whole.replace(',', '')}.{frac}",
        "parentheses": f"({whole.replace(',', '')}.{frac})" if sign else f"{whole}.{frac}",
    }[mistake]


MANGLINGS = ["decimal comma", "thousands", "european", "dollar", "euro after", "unicode minus"]


@given(cents, st.sampled_from([*MANGLINGS, "parentheses"]))
def test_the_fix_is_the_amount_the_export_meant(value: int, mistake: str) -> None:
    # Given an amount written with a typical export mistake that the rule refuses
    text = mangled(value, mistake)
    # When the hint suggests a fix, Then that fix is the amount meant, to the cent
    fix = hints.amount_fix(text)
    if fix is None:  # the mistake left the text a valid amount (e.g. no thousands to separate)
        assert parse_amount(text) == value
        return
    assert parse_amount(fix.value) == value
    reason = reason_of(HEADER + b'1,7/15,"' + text.encode() + b'"\n')
    assert f"write it as {fix.value}" in reason


@given(st.from_regex(r"\A[+-]?[0-9]{1,15}(\.[0-9]{1,2})?\Z"))
def test_valid_amounts_never_get_a_fix(text: str) -> None:
    assert hints.amount_fix(text) is None


dates = st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31))


@given(dates, st.sampled_from(["M/D", "M/D/YYYY", "YYYY-MM-DD"]))
def test_valid_dates_never_get_a_fix(day: dt.date, form: str) -> None:
    text = {
        "M/D": f"{day.month}/{day.day}",
        "M/D/YYYY": f"{day.month}/{day.day}/{day.year}",
        "YYYY-MM-DD": day.isoformat(),
    }[form]
    assert hints.date_fix(text) is None


@given(dates.filter(lambda d: d.day > 12))
def test_a_day_first_date_gets_the_month_first_form(day: dt.date) -> None:
    # Given a real date written day first, which no month/day reading accepts
    reason = reason_of(HEADER + f"1,{day.day:02d}/{day.month:02d}/{day.year},1\n".encode())
    # Then the reason names the day and month, and the fix parses to that very date
    assert f"({day.day} {calendar.month_name[day.month]} {day.year})" in reason
    fixed = reason.split("write it as ")[1].split()[0]
    assert parse_date(fixed) == parse_date(f"{day.month}/{day.day}/{day.year}")


@given(
    st.lists(
        st.tuples(cents, st.sampled_from([None, "decimal comma", "dollar", "thousands"])),
        min_size=1,
        max_size=40,
    )
)
def test_hints_never_change_the_verdict_or_the_count(rows: list[tuple[int, str | None]]) -> None:
    # Given rows, some written with an export mistake (quoted, so each stays one field)
    body = b"".join(
        f'{i},7/15,"{canonical(v) if m is None else mangled(v, m)}"\n'.encode()
        for i, (v, m) in enumerate(rows)
    )
    bad = [i + 2 for i, (v, m) in enumerate(rows) if m is not None and "," in mangled(v, m)]
    bad += [i + 2 for i, (v, m) in enumerate(rows) if m == "dollar"]
    bad = sorted(set(bad))
    if not bad:
        # Then a file with no refused value is summarized, to the cent
        assert summarize_bytes(HEADER + body).totals.balance == sum(v for v, _ in rows)
        return
    # Then exactly the mangled lines are refused, each once, and each with its fix
    error = rejection(HEADER + body)
    assert error.error_count == len(bad)
    assert [e.line for e in error.errors] == bad[: len(error.errors)]
    assert all("write it as" in e.reason for e in error.errors)


def test_separator_needs_more_of_it_than_commas() -> None:
    assert hints.separator("Id;Date;Transaction") == "semicolon"
    assert hints.separator("Id\tDate\tTransaction") == "tab"
    assert hints.separator("Id,Date,Transaction;memo") is None
    assert hints.separator("a,b") is None


def test_utf16_detection_wants_nul_interleaved_ascii() -> None:
    assert hints.looks_utf16("Id,Date".encode("utf-16-le"))
    assert hints.looks_utf16("Id,Date".encode("utf-16-be"))
    assert not hints.looks_utf16(b"\x00\x01\x02\x89PNG")
    assert not hints.looks_utf16(b"Id,Date")


def test_long_values_are_not_cached_and_get_no_amount_hint() -> None:
    # Given amounts too long to be an export mistake (each up to a whole record in a real file)
    reasons._amount_reason.cache_clear()
    reasons._date_reason.cache_clear()
    long = "$" + "1" * 100
    # When their reasons are built, Then none is kept in a cache, and no fix is offered
    assert "write it as" not in reasons.amount_reason(long, 1)
    assert "write it as" not in reasons.date_reason("1/" * 50)
    assert reasons._amount_reason.cache_info().currsize == 0
    assert reasons._date_reason.cache_info().currsize == 0
    assert hints.amount_fix(long) is None
