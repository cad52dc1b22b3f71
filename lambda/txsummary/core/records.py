"""The strict CSV record parser of the careful path (and of the header).

RFC 4180 with LF or CRLF line ends: a field is either unquoted (no quote, comma, CR or LF in it)
or wholly quoted, where a doubled quote stands for one quote and commas, CR and LF are data.
Anything else is a malformed record: a quote inside an unquoted field, a character after a
closing quote, a quote never closed, or a CR not followed by LF outside quotes (the line ends
of old Mac exports). No field size limit, unlike Python's csv module.

After a malformed record, reading resumes after the next LF at which the count of quotes since
the record's start is even. Chunks are cut at exactly such LFs (core.chunks), so a file reads
the same records whichever way it was cut into chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

BARE_CR = (
    "a CR (carriage return) not followed by LF outside quotes: CR-only line endings, as in "
    "old Mac exports, are not supported; save the file with LF or CRLF line endings"
)
UNCLOSED_QUOTE = "malformed CSV (a quoted field is never closed)"
QUOTE_IN_FIELD = "malformed CSV (a quote inside an unquoted field)"
AFTER_QUOTE = "malformed CSV (a character after a closing quote; expected a comma or line end)"

_PLAIN = re.compile(r'[^",\r\n]*')


class Record(NamedTuple):
    """One record: ``lf`` is how many LFs come before it in the text (its line offset),
    ``start``/``end`` its span; ``fields`` are its fields, or None with ``error`` set."""

    lf: int
    start: int
    end: int
    fields: list[str] | None
    error: str = ""


def records(text: str) -> Iterator[Record]:
    """Every record of ``text`` (whole records, as cut by core.chunks), in order."""
    n = len(text)
    pos = 0
    lf = 0
    while pos < n:
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if '"' in line:
            fields, error, nxt = _quoted_record(text, pos)
            yield Record(lf, pos, nxt, fields, error)
            lf += text.count("\n", pos, nxt)
            pos = nxt
            continue
        if end >= 0 and line.endswith("\r"):
            line = line[:-1]
        if "\r" in line:
            yield Record(lf, pos, n if end < 0 else end + 1, None, BARE_CR)
        else:
            yield Record(lf, pos, n if end < 0 else end + 1, line.split(","))
        if end < 0:
            return
        lf += 1
        pos = end + 1


def _quoted_record(text: str, pos: int) -> tuple[list[str] | None, str, int]:
    """Parse one record with quotes from ``pos``: (fields, "", next) or (None, reason, next)."""
    n = len(text)
    fields: list[str] = []
    p = pos
    while True:
        if p < n and text[p] == '"':
            close = text.find('"', p + 1)
            while close >= 0 and text.startswith('"', close + 1):
                close = text.find('"', close + 2)
            if close < 0:
                return None, UNCLOSED_QUOTE, _resume(text, pos, p)
            fields.append(text[p + 1 : close].replace('""', '"'))
            p = close + 1
            after_quote = True
        else:
            match = _PLAIN.match(text, p)
            assert match is not None  # the pattern matches the empty string
            fields.append(match[0])
            p = match.end()
            after_quote = False
        if p >= n:
            return fields, "", n
        c = text[p]
        if c == ",":
            p += 1
        elif c == "\n":
            return fields, "", p + 1
        elif c == "\r" and text.startswith("\n", p + 1):
            return fields, "", p + 2
        elif c == "\r":
            return None, BARE_CR, _resume(text, pos, p)
        else:
            return None, AFTER_QUOTE if after_quote else QUOTE_IN_FIELD, _resume(text, pos, p)


def _resume(text: str, start: int, at: int) -> int:
    """Just after the first LF at or after ``at`` with an even count of quotes since ``start``."""
    odd = text.count('"', start, at) & 1
    while True:
        lf = text.find("\n", at)
        if lf < 0:
            return len(text)
        odd ^= text.count('"', at, lf) & 1
        if not odd:
            return lf + 1
        at = lf + 1
