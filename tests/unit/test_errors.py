"""A rejection is always small enough to read and to log, however hostile the data."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.conftest import rejection
from txsummary.core.errors import (
    MAX_REASON_CHARS,
    MAX_REPORTED_ERRORS,
    MAX_SHOWN_CHARS,
    InvalidFileError,
    LineError,
    shown,
)
from txsummary.core.jsonout import dumps

KB = 1000
CLOUDWATCH_EVENT_LIMIT = 256 * 1024


def rejection_record(error: InvalidFileError) -> str:
    """The rejection log record's fields, as the service writes them (CONTRACTS.md)."""
    return dumps(
        {
            "bucket": "uploads",
            "key": "incoming/" + "k" * 1000,  # S3 allows keys up to 1,024 bytes
            "version_id": "v" * 32,
            "etag": '"' + "e" * 32 + '"',
            "size": 10**9,
            "outcome": "rejected",
            "message": error.describe(),
            "errors": [e.to_dict() for e in error.errors],
            "error_count": error.error_count,
            "duration_ms": 1234.5,
        }
    )


def test_25_rows_with_huge_fields_give_a_small_rejection() -> None:
    # Given 25 bad rows whose Id, Date and amount are each 120,000 characters (the amount
    # ends in a letter: all-digit ones are the core's digit-limit rule, tested there)
    huge = "9" * 119_999 + "x"
    rows = "".join(f"{i}{'x' * 120_000},{huge},{huge}\n" for i in range(25))
    error = rejection(("Id,Date,Transaction\n" + rows).encode())
    # When it is described and logged
    text, record = error.describe(), rejection_record(error)
    # Then all 25 are counted, 20 are listed, and both texts are a few KB
    assert error.error_count == 25
    assert len(error.errors) == MAX_REPORTED_ERRORS
    assert len(text.encode()) < 8 * KB, len(text)
    assert len(record.encode()) < 16 * KB, len(record)
    assert "(120,000 characters)" in text
    assert json.loads(record)["error_count"] == 25


def test_a_header_of_huge_fields_gives_a_small_rejection() -> None:
    # Given a header of 12 fields of 80,000 characters each (no required column)
    header = ",".join(chr(ord("a") + i) * 80_000 for i in range(12))
    error = rejection((header + "\n1,7/1,+1\n").encode())
    # When it is described and logged, Then both texts are small
    assert error.errors[0].line == 1
    assert "header is missing columns" in error.errors[0].reason
    assert len(error.describe().encode()) < 2 * KB
    assert len(rejection_record(error).encode()) < 4 * KB


@given(
    st.lists(st.tuples(st.integers(0, 10**12), st.text(max_size=5000)), max_size=60),
    st.integers(0, 10**9),
)
def test_any_rejection_is_bounded(errors: list[tuple[int, str]], extra: int) -> None:
    # Given any errors at all, even reasons that quote whole values
    error = InvalidFileError("s3://b/k", tuple(LineError(*e) for e in errors), len(errors) + extra)
    # Then at most MAX_REPORTED_ERRORS are kept, each reason is cut, and the record is bounded
    assert len(error.errors) <= MAX_REPORTED_ERRORS
    assert all(len(e.reason) <= MAX_REASON_CHARS + 30 for e in error.errors)
    assert error.error_count >= len(error.errors)
    assert len(rejection_record(error).encode()) < CLOUDWATCH_EVENT_LIMIT // 2


def test_a_long_reason_is_cut_with_its_length() -> None:
    reason = "r" * (MAX_REASON_CHARS + 1)
    assert LineError(3, reason).reason == "r" * MAX_REASON_CHARS + f"… ({len(reason):,} characters)"
    assert LineError(3, "r" * MAX_REASON_CHARS).reason == "r" * MAX_REASON_CHARS


@given(st.text(max_size=300))
def test_shown_is_short_and_keeps_short_values_whole(text: str) -> None:
    out = shown(text)
    if not text:
        assert out == "empty"
    elif len(text) <= MAX_SHOWN_CHARS:
        assert out == repr(text)
    else:
        assert out.startswith(repr(text[:MAX_SHOWN_CHARS]))
        assert out.endswith(f"… ({len(text):,} characters)")
    assert "\n" not in out
