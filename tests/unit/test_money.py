"""Money is exact at any size: averages, text and JSON number literals, against Decimal."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, localcontext

from hypothesis import example, given
from hypothesis import strategies as st

from txsummary.core.jsonout import dumps
from txsummary.core.money import average_cents, decimal_cents, format_cents, json_money

# Far past int64 (about 9.2e18) and past the 4,300 digits Python will turn into text by str().
HUGE = st.integers(-(10**5000), 10**5000)


def exact(cents: int) -> Decimal:
    """The oracle: cents / 100 in a context wide enough to be exact."""
    with localcontext() as context:
        context.prec = 6000
        return Decimal(cents) / 100


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**6))
def test_average_matches_decimal_half_away_from_zero(total: int, count: int) -> None:
    # Decimal's ROUND_HALF_UP rounds ties away from zero, in both directions.
    with localcontext() as context:
        context.prec = 100
        expected = (Decimal(total) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert average_cents(total, count) == int(expected)


def test_average_of_nothing_is_none() -> None:
    assert average_cents(0, 0) is None


@given(HUGE | st.integers(-(10**25), 10**25))
@example(10**5000 + 7)
@example(-(10**25) - 1)
@example(-5)
@example(0)
def test_format_and_json_are_exact(cents: int) -> None:
    # Given any number of cents, however large
    # When formatted as text and written as JSON
    text = format_cents(cents)
    document = dumps({"v": json_money(cents)})
    # Then the text has two decimals and reads back exactly
    assert Decimal(text) == exact(cents)
    assert text.partition(".")[2].isdigit()
    assert len(text.partition(".")[2]) == 2
    assert text.startswith("-") == (cents < 0)
    # And the JSON holds a number literal (no quotes) that a decimal reader reads exactly
    assert document == '{"v":' + text + "}"
    value = json.loads(document, parse_float=Decimal, parse_int=Decimal)["v"]
    assert value == exact(cents)


def test_small_values_keep_their_familiar_form() -> None:
    assert [format_cents(c) for c in (3974, -1538, 6050, -5, 0, 100)] == [
        "39.74", "-15.38", "60.50", "-0.05", "0.00", "1.00",
    ]  # fmt: skip
    assert decimal_cents(1234) == Decimal("12.34")
    assert str(decimal_cents(100)) == "1.00"
    assert json_money(None) is None
