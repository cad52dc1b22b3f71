"""Typed summaries. A :class:`Partial` is mergeable, so chunks can be summarized separately."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from typing import Any

from txsummary.core.money import average_cents, json_money

# (year, month); year is None when the file's dates carry no year.
MonthKey = tuple[int | None, int]


@dataclass(frozen=True, slots=True)
class Totals:
    """Counts and integer-cent sums over a set of transactions."""

    transactions: int = 0
    balance: int = 0
    credits: int = 0
    credit_total: int = 0
    debits: int = 0
    debit_total: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.transactions + other.transactions,
            self.balance + other.balance,
            self.credits + other.credits,
            self.credit_total + other.credit_total,
            self.debits + other.debits,
            self.debit_total + other.debit_total,
        )

    @property
    def average_credit(self) -> int | None:
        return average_cents(self.credit_total, self.credits)

    @property
    def average_debit(self) -> int | None:
        return average_cents(self.debit_total, self.debits)


@dataclass(slots=True)
class Partial:
    """A partial summary of some rows: per-month totals that merge by addition."""

    months: dict[MonthKey, Totals] = field(default_factory=dict)

    def add(self, key: MonthKey, totals: Totals) -> None:
        current = self.months.get(key)
        self.months[key] = totals if current is None else current + totals

    def merge(self, other: Partial) -> None:
        for key, totals in other.months.items():
            self.add(key, totals)

    def summary(self) -> Summary:
        ordered = sorted(self.months.items(), key=lambda item: (item[0][0] or 0, item[0][1]))
        overall = sum((t for _, t in ordered), Totals())
        months = tuple(MonthSummary(year, month, t) for (year, month), t in ordered)
        return Summary(overall, months)


@dataclass(frozen=True, slots=True)
class MonthSummary:
    year: int | None
    month: int
    totals: Totals

    @property
    def name(self) -> str:
        base = calendar.month_name[self.month]
        return base if self.year is None else f"{base} {self.year}"

    def to_dict(self) -> dict[str, Any]:
        t = self.totals
        return {
            "year": self.year,
            "month": self.month,
            "name": self.name,
            "transactions": t.transactions,
            "credits": t.credits,
            "debits": t.debits,
            "balance": json_money(t.balance),
            "average_credit": json_money(t.average_credit),
            "average_debit": json_money(t.average_debit),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary of one whole, valid file. Months are in chronological order."""

    totals: Totals
    months: tuple[MonthSummary, ...]

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON object; money values are exact to the cent, empty averages are None."""
        t = self.totals
        return {
            "transactions": t.transactions,
            "credits": t.credits,
            "debits": t.debits,
            "total_balance": json_money(t.balance),
            "average_credit": json_money(t.average_credit),
            "average_debit": json_money(t.average_debit),
            "months": [m.to_dict() for m in self.months],
        }
