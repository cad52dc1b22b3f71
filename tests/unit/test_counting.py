"""The vectorized count (core.counting) against the strict parser's, chunk by chunk."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_hostile_properties import invalid_heavy_files
from txsummary.core.counting import ReadForCount, _read_piece, count_read, is_utf8
from txsummary.core.rules import Layout
from txsummary.core.state import FileChecks


def _count(data: bytes, layout: Layout, *, vectorized: bool) -> tuple[int, bool | None, bool]:
    checks = FileChecks()
    clean = b"\x00" not in data and is_utf8(data)
    pieces = [_read_piece(data, layout, checks.dates, clean, vectorized=vectorized)]
    count_read(ReadForCount(pieces), checks)
    return checks.errors.count, checks.year_form.has_year, checks.ids.add("1")


@settings(max_examples=200, deadline=None)
@given(
    invalid_heavy_files(),
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
