"""jsonout.dumps: standard JSON, except that Decimals (money) are exact number literals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txsummary.core.jsonout import dumps

plain_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(plain_json)
def test_plain_values_read_back_as_the_standard_encoder_writes_them(value: Any) -> None:
    # Given any JSON value without floats, When written, Then it reads back the same
    assert json.loads(dumps(value)) == value
    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**40), max_value=10**40
    )
)
def test_decimals_are_exact_number_literals(value: Decimal) -> None:
    text = dumps([value])
    assert '"' not in text
    assert "e" not in text.lower()  # plain digits, never an exponent
    assert json.loads(text, parse_float=Decimal, parse_int=Decimal) == [value]


def test_ints_past_the_str_digit_limit_are_written() -> None:
    # str() refuses ints over 4,300 digits; a count can never be that big, but dumps must not fail
    big = 10**5000 + 1
    assert dumps({"n": big}) == '{"n":1' + "0" * 4999 + "1}"


def test_exponent_decimals_are_written_in_full() -> None:
    assert dumps([Decimal("1E+3"), Decimal("1E-5"), Decimal("-0.00")]) == "[1000,0.00001,-0.00]"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused(value: Decimal) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        dumps({"v": value})


def test_other_types_go_through_default_as_strings() -> None:
    class Thing:
        def __str__(self) -> str:
            return 'a "thing"'

    assert json.loads(dumps({"t": Thing(), "k": (1, 2)})) == {"t": 'a "thing"', "k": [1, 2]}
    assert dumps({"t": Thing()}, default=lambda _: Decimal("1.50")) == '{"t":1.50}'
