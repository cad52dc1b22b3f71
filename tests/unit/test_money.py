from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from txsummary.core.jsonout import dumps
from txsummary.core.money import average_cents, format_cents, json_money


@given(st.integers(-(10**20), 10**20), st.integers(1, 10**6))
def test_average_matches_decimal_half_away_from_zero(total: int, count: int) -> None:
    # Decimal's ROUND_HALF_UP rounds ties away from zero, in both directions.
    expected = (Decimal(total) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert average_cents(total, count) == int(expected)


def test_average_of_nothing_is_none() -> None:
    assert average_cents(0, 0) is None


@given(st.integers(-(10**25), 10**25))
def test_format_and_json_are_exact(cents: int) -> None:
    exact = Decimal(cents) / 100
    assert Decimal(format_cents(cents)) == exact
    # The JSON text is a number literal at any size, read back exactly by a decimal reader.
    text = dumps({"v": json_money(cents)})
    value = json.loads(text, parse_float=Decimal, parse_int=Decimal)["v"]
    assert isinstance(value, Decimal)
    assert value == exact
    assert '"' not in text.removeprefix('{"v"')
