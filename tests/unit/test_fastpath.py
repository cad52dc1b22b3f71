"""The fast path's vectorized amount check against the rule it implements (rules.AMOUNT_PATTERN).

The fast path may decline what the rule accepts (the careful path then takes the chunk), but it
must never accept what the rule refuses, and its cents must be the rule's cents.
"""

from __future__ import annotations

import itertools
import re

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from txsummary.core.fastpath import MAX_CENTS, _cents
from txsummary.core.rules import AMOUNT_PATTERN, parse_amount

RULE = re.compile(AMOUNT_PATTERN)


def _check(texts: list[str]) -> None:
    cents = _cents(pa.array([t.encode() for t in texts], pa.binary()))
    valid = all(RULE.match(t) for t in texts)
    if cents is None:
        # Declining is allowed only for an invalid value or one too large for the fast path.
        assert not valid or any(abs(parse_amount(t)) >= MAX_CENTS for t in texts), texts
    else:
        assert valid, texts
        assert cents.tolist() == [parse_amount(t) for t in texts]


def test_every_short_string_over_the_amount_alphabet() -> None:
    alphabet = "09.+-e"
    for size in range(1, 6):
        for chars in itertools.product(alphabet, repeat=size):
            _check(["".join(chars)])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.+-eE ,$\u0663", min_size=1, max_size=8), min_size=1))
def test_batches_of_random_strings(texts: list[str]) -> None:
    _check(texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(RULE, fullmatch=True).filter(lambda t: len(t) < 19), min_size=1))
def test_valid_amounts_are_taken_and_exact(texts: list[str]) -> None:
    _check(texts)


def test_slices_of_a_larger_array_are_read_at_their_offset() -> None:
    whole = pa.array([b"1e3", b"+60.5", b"-10.3", b"7", b".5"], pa.binary())
    cents = _cents(whole.slice(1, 3))
    assert cents is not None
    assert cents.tolist() == [6050, -1030, 700]
