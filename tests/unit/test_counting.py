"""The vectorized count (core.counting) against the strict parser's, chunk by chunk."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_hostile_properties import hostile_files, invalid_heavy_files
from txsummary.core.counting import (
    ReadForCount,
    _read_piece,
    _unreadable_lines,
    count_read,
    is_utf8,
)
from txsummary.core.rules import Layout
from txsummary.core.state import FileChecks


def _count(
    data: bytes, layout: Layout, *, vectorized: bool, clean: bool | None = None
) -> tuple[int, bool | None, bool]:
    checks = FileChecks()
    if clean is None:
        clean = b"\x00" not in data and is_utf8(data)
    pieces = [_read_piece(data, layout, checks.dates, clean, vectorized=vectorized)]
    count_read(ReadForCount(pieces), checks)
    return checks.errors.count, checks.year_form.has_year, checks.ids.add("1")


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(invalid_heavy_files(), hostile_files()),
    st.integers(0, 40),
    st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([b"\xff", b"\x00", b"\xc3"]))),
)
def test_the_vectorized_count_is_the_strict_parsers(
    text: str, skip: int, unreadable: list[tuple[int, bytes]]
) -> None:
    # Given the rows of an invalid-heavy file (its header dropped), from any line on
    header, _, body = text.partition("\n")
    layout = Layout(4, 1, 2, 0) if "Memo" in header else Layout(3, 0, 1, 2)
    body = "".join(body.splitlines(keepends=True)[skip:])
    data = body.encode("utf-8")
    # And bytes that are not UTF-8 text here and there
    for where, byte in unreadable:
        at = where % (len(data) + 1)
        data = data[:at] + byte + data[at:]
    # When its errors are counted vectorized, and record by record
    # Then the counts agree, and so do the year form and the Ids recorded
    assert _count(data, layout, vectorized=True) == _count(data, layout, vectorized=False)


_bytes = st.lists(
    st.one_of(
        st.sampled_from([b"\n", b"\x00", b"a", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80"]),
        # Overlong forms, a surrogate, past U+10FFFF, and their valid neighbours
        st.sampled_from(
            [
                b"\xe0\x80\x80",
                b"\xe0\xa0\x80",
                b"\xed\xa0\x80",
                b"\xed\x9f\xbf",
                b"\xf0\x80\x80\x80",
                b"\xf0\x90\x80\x80",
                b"\xf4\x90\x80\x80",
                b"\xf4\x8f\xbf\xbf",
                b"\xc0\xaf",
            ]
        ),
        st.integers(0x80, 0xFF).map(lambda b: bytes([b])),
        st.text(max_size=3).map(str.encode),
    ),
    max_size=60,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(_bytes)
def test_unreadable_lines_are_those_python_cannot_decode(data: bytes) -> None:
    # Given any bytes, cut into lines at LF
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    # When each line is judged vectorized
    raw = np.frombuffer(data, dtype=np.uint8)
    bad = _unreadable_lines(raw, np.flatnonzero(raw == ord("\n")), len(lines))
    # Then a line is unreadable exactly when it holds a NUL or Python cannot decode it
    assert bad.tolist() == [b"\x00" in line or not is_utf8(line) for line in lines]


TRICKY = [
    b'"1"x,7/15,+1\n',  # a character after a closing quote
    b'"1" ,7/15,+1\n',
    b'"1"\r,7/15,+1\n',  # a bare CR after a closing quote
    b'1"x",7/15,+1\n',  # a quote inside an unquoted field
    b"1,7/15,+1\r2,7/16,+2\n",  # a bare CR between two rows
    b'"1\n",7/15,+1\n',  # a line break inside quotes: one record, valid
    b'"1,7/15,+1\n2,7/16,+2\n',  # a quote never closed
    b'"1""",7/15,+1\n',  # a doubled quote
    b'"",7/15,+1\n',
    b'""\n',  # a blank record
]


@pytest.mark.parametrize("record", TRICKY)
@pytest.mark.parametrize("clean", [True, False])
def test_records_only_the_strict_parser_reads_plainly_are_counted_as_it_does(
    record: bytes, clean: bool
) -> None:
    # Given a record whose misreading would look like a valid row, between valid rows
    data = b"5,7/1,+1\n" + record + b"6,7/2,+1\n"
    layout = Layout(3, 0, 1, 2)
    # Then the vectorized count is the strict parser's (read as if it might hold bad bytes too)
    expected = _count(data, layout, vectorized=False, clean=clean)
    assert _count(data, layout, vectorized=True, clean=clean) == expected
