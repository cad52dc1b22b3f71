"""One test (or table of cases) per input rule in the specification."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest

from tests.unit.conftest import rejection, summarize_bytes
from txsummary.core.rules import RuleError, parse_amount, parse_date, resolve_header

HEADER = b"Id,Date,Transaction\n"


# Encoding -------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_utf8_with_or_without_bom_and_lf_or_crlf(bom: bytes, newline: bytes) -> None:
    # Given the challenge file in each accepted encoding form
    lines = [b"Id,Date,Transaction", b"0,7/15,+60.5", b"1,7/28,-10.3", b"2,8/2,-20.46"]
    data = bom + newline.join(lines) + newline
    # When it is summarized
    summary = summarize_bytes(data)
    # Then the result is the same in every form
    assert summary.totals.transactions == 3
    assert summary.totals.balance == 6050 - 1030 - 2046


def test_latin1_line_is_rejected_with_its_line_number() -> None:
    data = HEADER + b"0,7/15,+1\n1,7/16,+2\n2,7/17,+3 caf\xe9\n"
    error = rejection(data)
    assert [e.line for e in error.errors] == [4]
    assert "not valid UTF-8" in error.errors[0].reason


def test_binary_data_is_rejected() -> None:
    data = HEADER + b"0,7/15,+1\n\x00\x01\x02\x89PNG\n"
    error = rejection(data)
    assert [e.line for e in error.errors] == [3]
    assert "binary data" in error.errors[0].reason


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_is_rejected_clearly(bom: bytes) -> None:
    error = rejection(bom + "Id,Date,Transaction\n".encode("utf-16-le"))
    assert "UTF-16" in error.errors[0].reason


def test_binary_file_header_is_rejected() -> None:
    error = rejection(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert error.errors[0].line == 1


# Header ---------------------------------------------------------------------------------


def test_header_is_case_insensitive_trimmed_any_order_with_extra_columns() -> None:
    data = b"\n  \n Transaction ,memo,DATE,id\n+60.5,lunch,7/15,0\n-10.3,taxi,7/28,1\n"
    summary = summarize_bytes(data)
    assert summary.totals.balance == 5020
    assert summary.totals.transactions == 2


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (b"Id,Date,Amount\n", "column Transaction"),
        (b"Date,Transaction\n", "column Id"),
        (b"Identifier,Day,Transaction\n", "columns Id, Date"),
    ],
)
def test_missing_column_is_named(header: bytes, missing: str) -> None:
    error = rejection(header + b"0,7/15,+1\n")
    assert error.errors[0].line == 1
    assert f"missing {missing} (need" in error.errors[0].reason


def test_header_on_a_later_line_is_reported_there() -> None:
    error = rejection(b"\n\nId,When,Transaction\n")
    assert error.errors[0].line == 3


def test_duplicate_required_column_is_invalid() -> None:
    error = rejection(b"Id,Date,Transaction,date\n0,7/15,+1,7/16\n")
    assert "more than once" in error.errors[0].reason


@pytest.mark.parametrize("data", [b"", b"\n", b"  \n\r\n\t\n"])
def test_empty_file_is_invalid(data: bytes) -> None:
    error = rejection(data)
    assert "empty" in error.errors[0].reason


def test_header_without_rows_is_valid_with_zero_transactions() -> None:
    summary = summarize_bytes(HEADER)
    assert summary.totals.transactions == 0
    assert summary.months == ()
    assert summary.to_dict()["average_credit"] is None
    assert summary.to_dict()["total_balance"] == 0


# Rows -----------------------------------------------------------------------------------


def test_standard_quoting_is_accepted() -> None:
    data = b'Id,Date,Transaction,Memo\n"0","7/15","+60.5","lunch, with ""friends"""\n'
    data += b'1,7/16,-0.5,"two\nlines"\n2,7/17,+1,plain\n'
    summary = summarize_bytes(data)
    assert summary.totals.transactions == 3
    assert summary.totals.balance == 6050 - 50 + 100


def test_fields_are_trimmed_and_blank_lines_skipped() -> None:
    data = HEADER + b"  0 , 7/15 ,  +60.5 \n\n   \n\t\n1,7/16,-0.5\n"
    summary = summarize_bytes(data)
    assert summary.totals.transactions == 2
    assert summary.totals.balance == 6000


@pytest.mark.parametrize("row", [b"0,7/15", b"0,7/15,+1,extra", b"0"])
def test_wrong_field_count_is_invalid(row: bytes) -> None:
    error = rejection(HEADER + b"9,7/1,+1\n" + row + b"\n")
    assert [e.line for e in error.errors] == [3]
    assert "fields" in error.errors[0].reason


def test_malformed_quoting_is_invalid() -> None:
    error = rejection(HEADER + b'0,7/15,"+1"x\n1,7/16,+1\n')
    assert [e.line for e in error.errors] == [2]
    assert "malformed CSV" in error.errors[0].reason


def test_unterminated_quote_is_reported_on_its_line() -> None:
    error = rejection(HEADER + b'0,7/15,+1\n1,"7/16,+1\n2,7/17,+1\n')
    assert error.errors[0].line == 3


# Id -------------------------------------------------------------------------------------


def test_empty_id_is_invalid() -> None:
    error = rejection(HEADER + b"0,7/15,+1\n ,7/16,+1\n")
    assert [(e.line, e.reason) for e in error.errors] == [(3, "Id is empty")]


@pytest.mark.parametrize(
    "ids", [(b"7", b"7"), (b"tx-1", b"tx-1"), (b"123456789012345678901", b"123456789012345678901")]
)
def test_duplicate_id_is_invalid(ids: tuple[bytes, bytes]) -> None:
    data = HEADER + ids[0] + b",7/15,+1\n5,7/15,+1\n" + ids[1] + b",7/16,+1\n"
    error = rejection(data)
    assert [e.line for e in error.errors] == [4]
    assert "duplicate Id" in error.errors[0].reason


def test_ids_are_strings_so_007_and_7_differ() -> None:
    summary = summarize_bytes(HEADER + b"7,7/15,+1\n007,7/15,+1\n+7,7/15,+1\n")
    assert summary.totals.transactions == 3


def test_duplicate_across_chunks_is_found() -> None:
    rows = b"".join(b"%d,7/15,+1\n" % i for i in range(500))
    error = rejection(HEADER + rows + b"3,7/16,+1\n", chunk_size=256)
    assert [e.line for e in error.errors] == [502]


# Date -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "month"),
    [
        ("7/15", None, 7),
        ("2/29", None, 2),
        ("07/05", None, 7),
        ("12/31/2024", 2024, 12),
        ("2/29/2024", 2024, 2),
        ("2024-02-29", 2024, 2),
        ("1999-12-31", 1999, 12),
    ],
)
def test_valid_dates(text: str, year: int | None, month: int) -> None:
    parsed = parse_date(text)
    assert (parsed.year, parsed.month) == (year, month)


@pytest.mark.parametrize(
    "text",
    ["2/30", "2/29/2023", "2023-02-29", "13/1", "0/5", "4/31", "7/0", "7-15", "2024/07/15",
     "7/15/24", "2024-7-15", "July 15", "", "7/15/2024 10:00", "\u0667/\u0661\u0665"],
)  # fmt: skip
def test_invalid_dates(text: str) -> None:
    with pytest.raises(RuleError):
        parse_date(text)


def test_invalid_date_is_reported_with_line() -> None:
    error = rejection(HEADER + b"0,7/15,+1\n1,2/30,+1\n2,2/29,+1\n")
    assert [e.line for e in error.errors] == [3]
    assert "not a real calendar date" in error.errors[0].reason


def test_year_less_february_29_is_valid() -> None:
    assert summarize_bytes(HEADER + b"0,2/29,+1\n").months[0].month == 2


@pytest.mark.parametrize(
    ("first", "second"), [(b"7/15", b"7/16/2024"), (b"2024-07-15", b"7/16"), (b"7/15/2024", b"8/1")]
)
def test_dates_with_and_without_year_cannot_mix(first: bytes, second: bytes) -> None:
    error = rejection(HEADER + b"0," + first + b",+1\n1," + second + b",+1\n")
    assert [e.line for e in error.errors] == [3]
    assert "mixed" in error.errors[0].reason


def test_year_forms_may_mix_among_themselves() -> None:
    summary = summarize_bytes(HEADER + b"0,7/15/2024,+1\n1,2024-07-16,+1\n2,1/2/2025,+1\n")
    assert [(m.year, m.month, m.totals.transactions) for m in summary.months] == [
        (2024, 7, 2),
        (2025, 1, 1),
    ]


# Transaction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [("+60.5", 6050), ("-10.3", -1030), ("10", 1000), ("0.01", 1), ("-0.00", 0), ("+0", 0),
     ("007.10", 710), ("999999999999999.99", 99999999999999999), ("-000000000000001", -100)],
)  # fmt: skip
def test_valid_amounts(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    "text",
    ["1e3", "NaN", "nan", "inf", "-inf", "+-5", "10.", ".5", "$10", "1.234", "1,000", "", "+",
     "- 5", "\u0663", "\uff11", "0x10", "5-", "1234567890123456", "0000000000000000.5"],
)  # fmt: skip
def test_invalid_amounts(text: str) -> None:
    with pytest.raises(RuleError):
        parse_amount(text)


def test_every_bad_amount_is_listed_in_one_pass() -> None:
    bad = [b"1e3", b"NaN", b"inf", b"+-5", b"10.", b"$10", b"1.234", b'"1,000"']
    rows = b"".join(b"%d,7/15,%s\n" % (i, amount) for i, amount in enumerate(bad))
    error = rejection(HEADER + b"100,7/1,+1\n" + rows)
    assert [e.line for e in error.errors] == list(range(3, 3 + len(bad)))
    assert error.error_count == len(bad)


def test_huge_amounts_are_exact() -> None:
    data = HEADER + b"0,7/15,+999999999999999.99\n1,7/15,+0.01\n"
    summary = summarize_bytes(data)
    assert summary.totals.balance == 10**17
    assert summary.to_dict()["total_balance"] == Decimal("1000000000000000.00")


# Counting -------------------------------------------------------------------------------


def test_zero_counts_toward_transactions_and_balance_only() -> None:
    summary = summarize_bytes(HEADER + b"0,7/15,+0\n1,7/15,-0.00\n2,7/15,0\n3,7/15,+5\n")
    totals = summary.totals
    assert (totals.transactions, totals.credits, totals.debits) == (4, 1, 0)
    assert totals.average_credit == 500
    assert summary.to_dict()["average_debit"] is None


@pytest.mark.parametrize(
    ("amounts", "average"),
    [((b"0.01", b"0.02"), 2), ((b"-0.01", b"-0.02"), -2), ((b"0.01", b"0.01", b"0.02"), 1),
     ((b"-0.01", b"-0.01", b"-0.02"), -1), ((b"1", b"2", b"2"), 167)],
)  # fmt: skip
def test_averages_round_half_away_from_zero(amounts: tuple[bytes, ...], average: int) -> None:
    rows = b"".join(b"%d,7/15,%s\n" % (i, a) for i, a in enumerate(amounts))
    totals = summarize_bytes(HEADER + rows).totals
    assert (totals.average_credit if average > 0 else totals.average_debit) == average


def test_errors_list_first_twenty_and_count_all() -> None:
    rows = b"".join(b"%d,7/15,bad\n" % i for i in range(45))
    error = rejection(HEADER + rows, chunk_size=128)
    assert error.error_count == 45
    assert [e.line for e in error.errors] == list(range(2, 22))
    assert "first 20 shown" in error.describe()


def test_gzip_is_decompressed_on_the_fly() -> None:
    data = HEADER + b"".join(b"%d,8/%d,-1.5\n" % (i, i % 28 + 1) for i in range(2000))
    summary = summarize_bytes(gzip.compress(data), chunk_size=64)
    assert summary.totals.transactions == 2000
    assert summary.totals.debit_total == -300000


def test_multi_member_gzip() -> None:
    data = gzip.compress(HEADER + b"0,7/15,+1\n") + gzip.compress(b"1,7/16,+2\n")
    assert summarize_bytes(data).totals.balance == 300


def test_truncated_gzip_is_invalid() -> None:
    data = gzip.compress(HEADER + b"".join(b"%d,7/15,+1\n" % i for i in range(100)))
    error = rejection(data[:-12])
    assert "truncated" in error.errors[-1].reason


def test_resolve_header_reports_what_it_found() -> None:
    with pytest.raises(RuleError, match="found 'a', 'b'"):
        resolve_header(["a", "b"])


def test_bom_split_across_tiny_blocks_is_still_removed() -> None:
    data = b"\xef\xbb\xbf" + HEADER + b"0,7/15,+1\n"
    assert summarize_bytes(data, chunk_size=1).totals.balance == 100


def test_errors_are_listed_in_line_order_across_chunks_and_kinds() -> None:
    # Given a bad amount late in one chunk and a Latin-1 line early in the next ones
    rows = [b"%d,7/15,+1\n" % i for i in range(40)]
    rows[5] = b"5,7/15,1e3\n"
    rows[9] = b"9,7/15,caf\xe9\n"
    rows[30] = b"30,7/15,+1 caf\xe9\n"
    error = rejection(HEADER + b"".join(rows), chunk_size=64)
    # Then every error is listed, in the order of the file's lines
    assert [e.line for e in error.errors] == [7, 11, 32]


def test_ids_that_a_number_parser_would_equate_stay_distinct() -> None:
    # Arrow's integer parser reads 0x5F5E100 as 100000000; as Ids they are different texts.
    data = HEADER + b"100000000,7/15,+1\n0x5F5E100,7/15,+1\n-0,7/15,+1\n0,7/15,+1\n"
    assert summarize_bytes(data).totals.transactions == 4
