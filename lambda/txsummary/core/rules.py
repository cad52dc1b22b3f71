"""The input rules, one pure function each. Both the fast and the careful path use these."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from txsummary.core.errors import shown

REQUIRED_COLUMNS = ("Id", "Date", "Transaction")

# ASCII digits only: Python's \d would also accept other scripts' digits.
AMOUNT_PATTERN = r"^[+-]?[0-9]+(?:\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
_MONTH_DAY = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})$")
_MONTH_DAY_YEAR = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
_ISO = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
# Ids that are canonical decimal integers get a compact bitmap instead of a set of strings.
_CANONICAL_INT = re.compile(r"^(?:0|[1-9][0-9]{0,17})$")

# A leap year, so that a year-less 2/29 is a real date.
_LEAP_YEAR = 2000


class RuleError(ValueError):
    """A value breaks an input rule; the message is the reason shown to the user."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the required columns are, and how many fields every row must have."""

    width: int
    id: int
    date: int
    amount: int


@dataclass(frozen=True, slots=True)
class ParsedDate:
    year: int | None
    month: int


def resolve_header(fields: list[str]) -> Layout:
    """Find the required columns: trimmed, case-insensitive, any order, extra columns ignored."""
    names = [f.strip().casefold() for f in fields]
    positions: dict[str, int] = {}
    for column in REQUIRED_COLUMNS:
        found = [i for i, name in enumerate(names) if name == column.casefold()]
        if len(found) > 1:
            raise RuleError(f"header has column {column} more than once")
        if found:
            positions[column] = found[0]
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        seen = ", ".join(shown(f, "<empty>") for f in fields[:10])
        raise RuleError(
            f"header is missing column(s) {', '.join(missing)} "
            f"(need {', '.join(REQUIRED_COLUMNS)}; found {seen})"
        )
    return Layout(len(fields), positions["Id"], positions["Date"], positions["Transaction"])


def parse_amount(text: str) -> int:
    """'+60.5' -> 6050 cents. Exact: integer arithmetic on the digits, never a float."""
    if not _AMOUNT.fullmatch(text):
        raise RuleError(
            f"Transaction {shown(text)} is not an amount like 10, -10.3 or +60.25 "
            "(digits with an optional sign and at most two decimals)"
        )
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("+-").partition(".")
    return sign * (int(whole) * 100 + int(frac.ljust(2, "0")))


def parse_date(text: str) -> ParsedDate:
    """M/D (no year), M/D/YYYY or YYYY-MM-DD, and a real calendar date."""
    year: int | None
    if m := _MONTH_DAY.fullmatch(text):
        year, month, day = None, int(m[1]), int(m[2])
    elif m := _MONTH_DAY_YEAR.fullmatch(text):
        year, month, day = int(m[3]), int(m[1]), int(m[2])
    elif m := _ISO.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    else:
        raise RuleError(f"Date {shown(text)} is not M/D, M/D/YYYY or YYYY-MM-DD")
    check_year = _LEAP_YEAR if year is None else year
    if not (1 <= month <= 12 and check_year >= 1 and day >= 1):
        raise RuleError(f"Date {shown(text)} is not a real calendar date")
    if day > calendar.monthrange(check_year, month)[1]:
        raise RuleError(f"Date {shown(text)} is not a real calendar date")
    return ParsedDate(year, month)


def is_canonical_int(text: str) -> bool:
    return _CANONICAL_INT.fullmatch(text) is not None
