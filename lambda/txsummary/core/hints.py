"""The likely export mistake behind a refused value, header or encoding, and its fix.

Pure text heuristics, and only suggestions: each returns what a value probably meant, and the
caller (core.rules) gives the hint only when its own rule accepts that value. A hint never
changes a verdict; it only makes the reason say what to do.
"""

from __future__ import annotations

import calendar
import functools
import operator
import re
import unicodedata
from typing import NamedTuple

# How to save a spreadsheet as the file the rules want. Reasons of one row are joined with "; ",
# so a hint never holds one.
HOW_UTF8 = (
    "in Excel: File > Save As > CSV UTF-8 (Comma delimited), "
    "or in LibreOffice: Save As > Text CSV with character set Unicode (UTF-8)"
)
SAVE_AS_COMMAS = (
    "save it with commas between fields (in Excel: File > Save As > CSV UTF-8 "
    "(Comma delimited), or in LibreOffice: Save As > Text CSV with field delimiter ',')"
)
# Longer values get no hint: no export mistake makes an amount this long, and the cache of
# shapes stays small.
MAX_HINTED_CHARS = 64
EXAMPLE_AMOUNT = "-12.50"
EXAMPLE_DATES = "7/15, 7/15/2024 or 2024-07-15"

_SYMBOLS = "$€£¥₹₩₽₺₪"
# A currency symbol, or a three-letter code (USD, EUR...), before or after the number.
_CURRENCY = re.compile(
    rf"^(?P<sign>[-+\u2212\u2013\u2014]?)\s*(?P<pre>[{_SYMBOLS}]|[A-Z]{{3}}|[A-Z]{{1,2}}\$)?\s*"
    rf"(?P<number>.*?)\s*(?P<post>[{_SYMBOLS}]|[A-Z]{{3}})?$"
)
# Dashes that spreadsheets and word processors put where a minus sign should be.
_DASHES = "\u2212\u2013\u2014\ufe63\uff0d"
_AS_ZERO = str.maketrans("123456789", "000000000")
_DIGIT = re.compile("[0-9]")
# Every character a hint can explain; any other (a letter, 'e') means there is no hint.
_HINTABLE = re.compile(rf"[0-9+\-.,()\s'A-Z{_SYMBOLS}{_DASHES}]*")
_MARK = re.compile(rf"[A-Z{_SYMBOLS}]")
_SEPARATORS = re.compile(r"[, '\u00a0\u202f]")
_DECIMAL_COMMA = re.compile(r"^[+-]?[0-9]+,[0-9]{1,2}$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?$")
_THOUSANDS_DOT = re.compile(r"^[+-]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]{1,2}$")
_THOUSANDS_SPACE = re.compile(r"^[+-]?[0-9]{1,3}(?:[ '\u00a0\u202f][0-9]{3})+(?:[.,][0-9]{1,2})?$")
_PARENTHESES = re.compile(r"^\((?P<number>[^()]+)\)$")
_TRAILING_MINUS = re.compile(r"^(?P<number>[0-9][0-9.,]*)-$")

_DAY_MONTH = re.compile(r"^([0-9]{1,2})([/.-])([0-9]{1,2})(?:\2([0-9]{4}))?$")
_YEAR_SLASH = re.compile(r"^([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})$")
_WITH_TIME = re.compile(
    r"^(?P<date>\S+)(?:\s+|T)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?\S*$"
)


class Fix(NamedTuple):
    """What a refused value probably meant: the mistakes found, and the value without them.
    (A NamedTuple: a file may have millions of refused values.)"""

    causes: tuple[str, ...]
    value: str
    advice: str = ""  # what else to do, beyond this one value

    def text(self) -> str:
        """'a, b and c'."""
        causes = self.causes
        return causes[0] if len(causes) == 1 else f"{', '.join(causes[:-1])} and {causes[-1]}"


def amount_fix(text: str) -> Fix | None:
    """'$12.50' -> 12.50 (a currency symbol), '12,50' -> 12.50 (a decimal comma),
    '"1,234.50"' -> 1234.50, '\u22122.00' -> -2.00 (a Unicode minus), '(5.00)' -> -5.00.

    A fix keeps the digits in order and changes only what is around them, so it is worked out
    once per shape (the text with every digit read as 0: '$00.00'), then given the digits back:
    an export with a decimal comma in every row has few shapes and millions of values."""
    if len(text) > MAX_HINTED_CHARS:
        return None
    fix = _shape_fix(text.translate(_AS_ZERO))
    if fix is None:
        return None
    digits = _DIGIT.findall(text)
    parts = fix.value.split("0")
    if len(parts) != len(digits) + 1:  # cannot happen: no step adds or drops a digit
        return None
    value = "".join(map(operator.add, parts, digits)) + parts[-1]
    return Fix(fix.causes, value, fix.advice)


@functools.lru_cache(maxsize=1024)
def _shape_fix(text: str) -> Fix | None:
    value = text.strip()
    if not _HINTABLE.fullmatch(value):  # most refused values: cheap, and no hint anyway
        return None
    causes: list[str] = []
    value = _signs(_currency(value, causes), causes)
    if _SEPARATORS.search(value):
        value = _separators(value, causes)
    return Fix(tuple(causes), value) if causes else None


def _currency(value: str, causes: list[str]) -> str:
    if value.startswith("(") and (m := _PARENTHESES.fullmatch(value)):
        causes.append("parentheses for a negative amount")
        value = "-" + m["number"].strip()
    if _MARK.search(value) and (m := _CURRENCY.fullmatch(value)):
        mark = m["pre"] or m["post"]
        if mark and not (m["pre"] and m["post"]):
            kind = "symbol" if len(mark) == 1 else "code"
            causes.append(f"a currency {kind} ({mark})")
            value = m["sign"] + m["number"]
    return value


def _signs(value: str, causes: list[str]) -> str:
    if value and value[0] in _DASHES:
        name = unicodedata.name(value[0]).lower()
        causes.append(f"the character U+{ord(value[0]):04X} ({name}) in place of '-'")
        value = "-" + value[1:]
    if value.endswith("-") and (m := _TRAILING_MINUS.fullmatch(value)):
        causes.append("a trailing minus sign")
        value = "-" + m["number"]
    return value


def _separators(value: str, causes: list[str]) -> str:
    if _DECIMAL_COMMA.fullmatch(value):
        causes.append("a decimal comma")
        return value.replace(",", ".")
    if _THOUSANDS_COMMA.fullmatch(value):
        causes.append("thousands separators")
        return value.replace(",", "")
    if _THOUSANDS_DOT.fullmatch(value):
        causes += ["thousands separators", "a decimal comma"]
        return value.replace(".", "").replace(",", ".")
    if _THOUSANDS_SPACE.fullmatch(value):
        causes.append("thousands separators")
        return re.sub(r"[ '\u00a0\u202f]", "", value).replace(",", ".")
    return value


def date_fix(text: str) -> Fix | None:
    """'15/07/2024' -> 7/15/2024 (day/month), '2024/07/15' -> 2024-07-15, and a date with a
    time of day -> the date alone. The caller checks that the value is a real date."""
    causes: list[str] = []
    value = text.strip()
    advice = ""
    if m := _WITH_TIME.fullmatch(value):
        causes.append("a time of day")
        value = m["date"]
    if m := _DAY_MONTH.fullmatch(value):
        day, sep, month, year = int(m[1]), m[2], int(m[3]), m[4]
        if sep == "/" and day <= 12:
            return Fix(tuple(causes), value) if causes else None
        if not 1 <= month <= 12:
            return None
        written = f"{day} {calendar.month_name[month]}" + (f" {year}" if year else "")
        order = {"/": "day/month", ".": "day.month", "-": "day-month"}[sep]
        causes.append(f"a {order} date ({written}) where month/day is expected")
        value = f"{month}/{day}" + (f"/{year}" if year else "")
        advice = "if the file's dates are all day first, export them as YYYY-MM-DD"
    elif m := _YEAR_SLASH.fullmatch(value):
        causes.append("slashes in a year-first date")
        value = f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"
    return Fix(tuple(causes), value, advice) if causes else None


def separator(text: str) -> str | None:
    """'semicolon' or 'tab' when a record meant to be comma-separated reads as separated by
    one of those instead (a European or a tab-delimited export)."""
    commas = text.count(",")
    for char, name in ((";", "semicolon"), ("\t", "tab")):
        if text.count(char) > commas:
            return name
    return None


def looks_utf16(raw: bytes) -> bool:
    """ASCII text with a NUL after (or before) every character: UTF-16 without a BOM."""
    if len(raw) < 4:
        return False
    for nuls, chars in ((raw[1::2], raw[0::2]), (raw[0::2], raw[1::2])):
        if nuls.count(0) >= len(nuls) - 1 and chars.count(0) <= 1 and chars.isascii():
            return True
    return False


def plural(count: int, noun: str) -> str:
    """'1 error', '2 errors', '1,234 errors'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
