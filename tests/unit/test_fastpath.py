"""The vectorized amount rule (rules.check_amounts) against a regular expression that states it
(the test's own oracle), value by value and in batches, and the fast path's quote proof."""

from __future__ import annotations

import itertools
import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.conftest import summarize_bytes
from txsummary.core.rules import AMOUNT_OK, AMOUNT_TOO_LONG, MAX_WHOLE_DIGITS, check_amounts

# The amount rule as docs/input-rules state it: ASCII digits only (Python's \d would also take
# other scripts' digits), an optional sign, at most two decimals.
RULE = re.compile(rf"[+-]?[0-9]{{1,{MAX_WHOLE_DIGITS}}}(?:\.[0-9]{{1,2}})?")


def _expected(text: str) -> int | None:
    """Cents by Python's own arithmetic, or None when the rule refuses the text."""
    if not RULE.fullmatch(text):
        return None
    whole, _, frac = text.lstrip("+-").partition(".")
    return (-1 if text.startswith("-") else 1) * (int(whole) * 100 + int(frac.ljust(2, "0")))


def _check(texts: list[str]) -> None:
    checked = check_amounts(pa.array([t.encode() for t in texts], pa.binary()))
    expected = [_expected(t) for t in texts]
    if checked.codes is None:
        assert None not in expected, texts
    else:
        assert [c == AMOUNT_OK for c in checked.codes] == [e is not None for e in expected]
    assert checked.cents.tolist() == [0 if e is None else e for e in expected]


def test_every_short_string_over_the_amount_alphabet() -> None:
    alphabet = "09.+-e"
    for size in range(1, 6):
        texts = ["".join(chars) for chars in itertools.product(alphabet, repeat=size)]
        for text in texts:
            _check([text])
        _check(texts)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.+-eE ,$\u0663", min_size=0, max_size=20)))
def test_batches_of_random_strings(texts: list[str]) -> None:
    _check(texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(RULE, fullmatch=True), min_size=1))
def test_valid_amounts_are_taken_and_exact(texts: list[str]) -> None:
    _check(texts)


def test_too_many_digits_has_its_own_reason_code() -> None:
    checked = check_amounts(pa.array(["1" * 16, "1" * 15, "9" * 5000, "1" * 16 + "x"]))
    assert checked.codes is not None
    assert checked.codes.tolist()[:3] == [AMOUNT_TOO_LONG, AMOUNT_OK, AMOUNT_TOO_LONG]
    assert checked.codes[3] not in (AMOUNT_OK, AMOUNT_TOO_LONG)


def test_slices_of_a_larger_array_are_read_at_their_offset() -> None:
    whole = pa.array([b"1e3", b"+60.5", b"-10.3", b"7", b".5"], pa.binary())
    checked = check_amounts(whole.slice(1, 3))
    assert checked.codes is None
    assert checked.cents.tolist() == [6050, -1030, 700]


@pytest.mark.parametrize(
    "data",
    [
        b'"Id","Date","Transaction"\n"0","7/15","+1"\n"1","7/16","-2"',
        b'Id,Date,Transaction,Memo\r\n0,"7/15",+1,""\r\n1,7/16,-2,"a, b"\r\n',
        b'Id,Date,Memo,Transaction\n"0",7/15,",",+1\n',
    ],
)
def test_whole_field_quotes_are_proven_and_taken_fast(data: bytes) -> None:
    # Given valid rows whose quotes wrap whole fields: the fast path alone must take them
    assert summarize_bytes(data, path="fast").totals.transactions >= 1
