"""Rendering a Summary: exact at any size, in text and in JSON."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from txsummary.core import render
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
    assert text.splitlines()[0] == "Total balance is 1" + ",000" * 1666 + ".12"
    assert "Average debit amount: n/a" in text
    assert json.loads(render_json(summary), parse_float=Decimal)["average_credit"] == money(cents)


def test_empty_averages_are_null_and_n_a() -> None:
    summary = Summary(Totals(1, 500, 1, 500), (MonthSummary(None, 7, Totals(1, 500, 1, 500)),))
    document = json.loads(render_json(summary))
    assert document["average_debit"] is None
    assert document["average_credit"] == 5
    assert "Average debit amount: n/a" in render_text(summary)


def grouped(cents: int) -> str:
    """Oracle: the amount with a comma between each group of three digits, two decimals."""
    whole, fraction = divmod(abs(cents), 100)
    digits = str(whole)
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return f"{'-' if cents < 0 else ''}{','.join(groups)}.{fraction:02d}"


@given(st.integers(-(10**40), 10**40))
def test_money_groups_thousands_exactly(cents: int) -> None:
    assert render.money(cents) == grouped(cents)


def test_text_groups_money_and_counts_and_adds_the_period_and_sums() -> None:
    # Given two months with large sums and counts
    summary = summary_of([(40_066_394_376, -80_000_000_012), (12_345, -1)])
    # When rendered as text
    lines = render_text(summary).splitlines()
    # Then the challenge's lines come first, grouped, then the period and the two sums
    assert lines[:5] == [
        "Total balance is -399,335,932.92",
        "Number of transactions in January 2025: 2,000,000",
        "Number of transactions in February 2025: 2,000,000",
        "Average debit amount: -400.00",
        "Average credit amount: 200.33",
    ]
    assert lines[6:9] == [
        "Period: January 2025 to February 2025 (2 months)",
        "Total debits: -800,000,000.13 from 2,000,000 debits",
        "Total credits: 400,664,067.21 from 2,000,000 credits",
    ]
    # And the month table puts debits before credits, with the sums
    header, january = lines[11].split(), lines[12].split()
    assert lines[11].index("Debits") < lines[11].index("Credits")
    assert header[:3] == ["Month", "Transactions", "Debits"]
    assert january == [
        "January", "2025", "2,000,000", "1,000,000", "-800,000,000.12", "-800.00",
        "1,000,000", "400,663,943.76", "400.66", "-399,336,056.36",
    ]  # fmt: skip


def test_the_json_stays_ungrouped() -> None:
    # The JSON is a contract: plain number literals, no separators
    summary = summary_of([(40_066_394_376, -80_000_000_012)])
    assert '"total_balance":-399336056.36' in render_json(summary)
