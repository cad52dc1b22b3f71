"""Typed summaries. A :class:`Partial` is mergeable, so chunks can be summarized separately."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, fields
from typing import Any

from txsummary.core.money import average_cents, json_money

# (year, month); year is None when the file's dates carry no year.
MonthKey = tuple[int | None, int]


_COUNT, _CENTS = {"kind": "count"}, {"kind": "cents"}


@dataclass(frozen=True, slots=True)
class Totals:
    """Counts and integer-cent sums over a set of transactions."""

    transactions: int = field(default=0, metadata=_COUNT)
    balance: int = field(default=0, metadata=_CENTS)
    credits: int = field(default=0, metadata=_COUNT)
    credit_total: int = field(default=0, metadata=_CENTS)
    debits: int = field(default=0, metadata=_COUNT)
    debit_total: int = field(default=0, metadata=_CENTS)

    @classmethod
    def of(
        cls, *, credits: int, credit_total: int, debits: int, debit_total: int, zeros: int
    ) -> Totals:
        """From the credits, the debits and the zero amounts (which count toward neither)."""
        return cls(
            transactions=credits + debits + zeros,
            balance=credit_total + debit_total,
            credits=credits,
            credit_total=credit_total,
            debits=debits,
            debit_total=debit_total,
        )

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, n) + getattr(other, n) for n in FIELDS))

    @property
    def average_credit(self) -> int | None:
        return average_cents(self.credit_total, self.credits)

    @property
    def average_debit(self) -> int | None:
        return average_cents(self.debit_total, self.debits)

    def to_dict(self, balance_key: str = "balance") -> dict[str, Any]:
        """The counts, then the balance and the averages as exact JSON money."""
        shown: dict[str, Any] = {name: getattr(self, name) for name in COUNT_FIELDS}
        shown[balance_key] = json_money(self.balance)
        shown.update({name: json_money(getattr(self, name)) for name in AVERAGE_FIELDS})
        return shown


# The field names, in order, for whoever lays Totals out (the store, the text, the DataFrame
# API): every field, the counts, the integer-cent sums, and the derived averages (cents or None).
FIELDS = tuple(f.name for f in fields(Totals))
COUNT_FIELDS = tuple(f.name for f in fields(Totals) if f.metadata == _COUNT)
CENTS_FIELDS = tuple(f.name for f in fields(Totals) if f.metadata == _CENTS)
AVERAGE_FIELDS = ("average_credit", "average_debit")


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
        return {"year": self.year, "month": self.month, "name": self.name, **self.totals.to_dict()}


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary of one whole, valid file. Months are in chronological order."""

    totals: Totals
    months: tuple[MonthSummary, ...]

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON object; money values are exact to the cent, empty averages are None."""
        return {
            **self.totals.to_dict(balance_key="total_balance"),
            "months": [m.to_dict() for m in self.months],
        }
