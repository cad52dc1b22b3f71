"""Totals: addition and the field names others lay out, all derived from the dataclass."""

from __future__ import annotations

from dataclasses import astuple

from hypothesis import given
from hypothesis import strategies as st

from txsummary.core.model import AVERAGE_FIELDS, CENTS_FIELDS, COUNT_FIELDS, FIELDS, Totals

totals = st.builds(Totals, *(st.integers(-(10**20), 10**20) for _ in FIELDS))


@given(totals, totals)
def test_totals_add_field_by_field(a: Totals, b: Totals) -> None:
    # Given two totals, when added, then every field is the sum of the two
    assert astuple(a + b) == tuple(x + y for x, y in zip(astuple(a), astuple(b), strict=True))


def test_the_field_names_split_into_counts_and_cents() -> None:
    # Then every field is a count or a sum of cents, in the dataclass's order
    assert COUNT_FIELDS == ("transactions", "credits", "debits")
    assert CENTS_FIELDS == ("balance", "credit_total", "debit_total")
    assert sorted(FIELDS) == sorted(COUNT_FIELDS + CENTS_FIELDS)
    # And the JSON form gives the counts, the balance and the averages in that order
    keys = list(Totals().to_dict())
    assert keys == [*COUNT_FIELDS, "balance", *AVERAGE_FIELDS]


def test_of_derives_the_count_and_the_balance() -> None:
    t = Totals.of(credits=2, credit_total=300, debits=1, debit_total=-50, zeros=4)
    assert (t.transactions, t.balance) == (7, 250)
