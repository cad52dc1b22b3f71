"""Hostile input that once fooled or knocked over the core: each class, on every path.

Every test here failed on the code before issue 7 (a wrong summary with exit 0, or an exception
other than InvalidFileError, or a verdict that depended on the path).
"""

from __future__ import annotations

import pytest

from tests.unit.conftest import rejection, summarize_bytes
from txsummary.core.summarize import FastPathDeclined, Path

HEADER = b"Id,Date,Transaction\n"
ROWS = b"".join(b"%d,7/%d,+1.25\n" % (i, i % 28 + 1) for i in range(2000))
MIXED_PATHS = pytest.mark.parametrize("path", ["mixed", "careful"])


# Unclosed quotes -----------------------------------------------------------------------


@MIXED_PATHS
@pytest.mark.parametrize("chunk_size", [64, 1 << 20])
def test_unclosed_quote_in_the_last_column_is_rejected_naming_its_line(
    path: Path, chunk_size: int
) -> None:
    # Given valid rows, then a row whose last field opens a quote that never closes, then more
    data = HEADER + b'0,7/1,+1\n1,7/2,"+1\n' + ROWS.replace(b"0,7/1,", b"x,7/1,", 1)
    # When it is summarized
    error = rejection(data, path=path, chunk_size=chunk_size)
    # Then that line is named, and nothing is summarized
    assert [e.line for e in error.errors] == [3]
    assert "never closed" in error.errors[0].reason


@MIXED_PATHS
def test_unclosed_quote_in_the_header_is_rejected(path: Path) -> None:
    error = rejection(b'Id,Date,"Transaction\n' + ROWS, path=path)
    assert error.errors[0].line == 1
    assert "header" in error.errors[0].reason
    assert "never closed" in error.errors[0].reason


def test_unclosed_quote_longer_than_a_record_is_stopped_at_its_line() -> None:
    # Given an unclosed quote with more than max_record_bytes after it
    data = HEADER + b'0,7/1,"+1\n' + ROWS
    # When it is read with a small record limit
    error = rejection(data, max_record_bytes=4096, chunk_size=1024)
    # Then the record's first line is named
    assert [e.line for e in error.errors] == [2]


# CR line endings ----------------------------------------------------------------------


@MIXED_PATHS
def test_cr_only_line_endings_are_a_data_error_naming_the_cause(path: Path) -> None:
    error = rejection(HEADER.replace(b"\n", b"\r") + b"0,7/15,+1\r1,7/16,+2\r", path=path)
    assert error.errors[0].line == 1
    assert "CR-only line endings" in error.errors[0].reason


@MIXED_PATHS
def test_a_lone_cr_in_the_header_is_a_data_error(path: Path) -> None:
    error = rejection(b"Id,Da\rte,Transaction\n0,7/15,+1\n", path=path)
    assert error.errors[0].line == 1
    assert "CR-only line endings" in error.errors[0].reason


@MIXED_PATHS
def test_a_lone_cr_in_a_row_is_reported_on_its_line(path: Path) -> None:
    error = rejection(HEADER + b"0,7/15,+1\r\n1,7/16,+2\r3,7/1,+1\n2,7/17,+1\n", path=path)
    assert [e.line for e in error.errors] == [3]
    assert "CR-only" in error.errors[0].reason


@MIXED_PATHS
def test_cr_inside_quotes_is_data_and_lines_count_lf_only(path: Path) -> None:
    # Given a quoted memo holding a CR and a CRLF, before a bad row
    data = b'Id,Date,Transaction,Memo\n0,7/15,+1,"a\rb"\n1,7/16,+1,"c\r\nd"\n2,7/17,bad,x\n'
    # Then the bad row is named by its physical line, counted by LF
    error = rejection(data, path=path)
    assert [e.line for e in error.errors] == [5]


# Long fields ----------------------------------------------------------------------------


@MIXED_PATHS
def test_header_field_longer_than_the_csv_module_limit_is_just_a_column(path: Path) -> None:
    data = b"Id,Date,Transaction," + b"m" * 200_000 + b"\n0,7/15,+1,x\n"
    assert summarize_bytes(data, path=path).totals.transactions == 1


@MIXED_PATHS
def test_long_field_gets_the_same_verdict_whatever_else_is_in_the_file(path: Path) -> None:
    # Given a 200,000-character memo, and (elsewhere) a doubled quote that sends chunks the
    # careful way
    memo = b"a" * 200_000
    data = b"Id,Date,Transaction,Memo\n0,7/15,+1," + memo + b'\n1,7/16,+2,"say ""hi"""\n'
    # Then the file is valid on every path
    assert summarize_bytes(data, path=path).totals.transactions == 2


# Amounts --------------------------------------------------------------------------------


@MIXED_PATHS
def test_more_than_fifteen_digits_is_a_data_error_with_a_clear_reason(path: Path) -> None:
    data = HEADER + b"0,7/15,+1234567890123456\n1,7/15,+999999999999999.99\n"
    error = rejection(data, path=path)
    assert [e.line for e in error.errors] == [2]
    assert "more than 15 digits" in error.errors[0].reason


@MIXED_PATHS
def test_amounts_beyond_the_int_conversion_limit_are_data_errors(path: Path) -> None:
    huge = b"9" * 5000
    error = rejection(HEADER + b"0,7/15," + huge + b"\n1,7/15,-" + huge + b"\n", path=path)
    assert error.error_count == 2
    assert len(error.describe()) < 1000


@MIXED_PATHS
def test_sums_are_exact_beyond_int64(path: Path) -> None:
    # Given 200 amounts of 999,999,999,999,999.99: the balance is far beyond 2**63 cents
    rows = b"".join(b"%d,7/15,+999999999999999.99\n" % i for i in range(200))
    summary = summarize_bytes(HEADER + rows + b"200,7/15,-0.01\n", path=path, chunk_size=1024)
    assert summary.totals.credit_total == 200 * 99_999_999_999_999_999
    assert summary.totals.balance == 200 * 99_999_999_999_999_999 - 1


# Quoted files ---------------------------------------------------------------------------


def test_fully_quoted_files_take_the_fast_path() -> None:
    # Given every field quoted
    rows = b"".join(b'"%d","7/%d","+%d.5"\n' % (i, i % 28 + 1, i) for i in range(5000))
    data = b'"Id","Date","Transaction"\n' + rows
    # When only the fast path may read it (a decline raises FastPathDeclined)
    summary = summarize_bytes(data, path="fast", chunk_size=4096)
    # Then it read every chunk
    assert summary.totals.transactions == 5000


@pytest.mark.parametrize(
    "row",
    [b'"a,"b",7/15,+1', b'0,"7/15"x,+1', b'0,7/15,+1"', b'0,7"/15,+1', b'"0",7/15,"+1""'],
)
def test_quotes_the_strict_parser_refuses_are_refused_on_every_path(row: bytes) -> None:
    # Given a row with quotes out of place: a lenient reader would make a value of it
    data = HEADER + b"5,7/1,+1\n" + row + b"\n6,7/2,+1\n"
    # Then every path refuses the row (or the rest of the file, for an unclosed quote)
    for path in (None, "careful"):
        assert rejection(data, path=path).errors[0].line == 3
    with pytest.raises(FastPathDeclined):
        summarize_bytes(data, path="fast")


@pytest.mark.parametrize("chunk_size", [64, 1024, 1 << 20])
@MIXED_PATHS
def test_errors_past_the_first_twenty_are_counted_not_named(path: Path, chunk_size: int) -> None:
    # Given 300 rows: every third amount bad, every fifth Id repeated, one-field lines between
    rows, bad_lines = [], []
    for i in range(300):
        repeated = i % 5 == 0 and i > 0
        rows.append(f"{i - 1 if repeated else i},7/{i % 28 + 1},{'x1' if i % 3 == 0 else '+1'}\n")
        if i % 3 == 0 or repeated:
            bad_lines.append(len(rows) + 1)
        if i % 7 == 0:
            rows.append("junk\n")
            bad_lines.append(len(rows) + 1)
    # When it is read in chunks of any size
    error = rejection(HEADER + "".join(rows).encode(), path=path, chunk_size=chunk_size)
    # Then the first 20 offending lines are named, and every one is counted
    assert [e.line for e in error.errors] == bad_lines[:20]
    assert error.error_count == len(bad_lines)
