"""Rendering a Summary: exact at any size, in text and in JSON."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from txsummary.core.model import MonthSummary, Summary, Totals
from txsummary.core.render import render_json, render_text


def summary_of(totals: list[tuple[int, int]]) -> Summary:
    """A summary with one month per (credits, debits) pair of totals, a million of each."""
    months = tuple(
        MonthSummary(2025, month, Totals(2_000_000, credit + debit, 10**6, credit, 10**6, debit))
        for month, (credit, debit) in enumerate(totals, start=1)
    )
    overall = sum((m.totals for m in months), Totals())
    return Summary(overall, months)


def money(cents: int) -> Decimal:
    with localcontext() as context:
        context.prec = 6000
        return Decimal(cents) / 100


huge = st.integers(10**25, 10**60)


@given(st.lists(st.tuples(huge, huge.map(lambda v: -v)), min_size=1, max_size=12))
def test_json_money_is_exact_number_literals_at_any_size(totals: list[tuple[int, int]]) -> None:
    # Given months whose totals are far past int64 and past a double's 15-17 digits
    summary = summary_of(totals)
    # When rendered as JSON
    text = render_json(summary)
    document = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    # Then every money value is a number, exact to the cent, averages included
    t = summary.totals
    assert document["total_balance"] == money(t.balance)
    assert document["average_credit"] == money(t.average_credit or 0)
    assert document["average_debit"] == money(t.average_debit or 0)
    for month, rendered in zip(summary.months, document["months"], strict=True):
        assert rendered["balance"] == money(month.totals.balance)
        assert rendered["average_credit"] == money(month.totals.average_credit or 0)
        assert rendered["average_debit"] == money(month.totals.average_debit or 0)
    assert '"total_balance":' + format(money(t.balance), "f") in text
    assert text.endswith("}\n")


def test_text_shows_huge_values_whole() -> None:
    # Given a balance of 10**5000 cents (past the digits str() will convert)
    cents = 10**5000 + 12
    summary = Summary(
        Totals(1, cents, 1, cents), (MonthSummary(None, 7, Totals(1, cents, 1, cents)),)
    )
    # When rendered as text and JSON, Then nothing fails and every digit is there
    text = render_text(summary)
    assert text.splitlines()[0] == "Total balance is 1" + "0" * 4998 + ".12"
    assert "Average debit amount: n/a" in text
    assert json.loads(render_json(summary), parse_float=Decimal)["average_credit"] == money(cents)


def test_empty_averages_are_null_and_n_a() -> None:
    summary = Summary(Totals(1, 500, 1, 500), (MonthSummary(None, 7, Totals(1, 500, 1, 500)),))
    document = json.loads(render_json(summary))
    assert document["average_debit"] is None
    assert document["average_credit"] == 5
    assert "Average debit amount: n/a" in render_text(summary)
