"""Human-readable and JSON renderings of a :class:`Summary`.

The text and the e-mail share the helpers here, so both print money and counts the same way:
thousands separators, two decimals, debits before credits (the order of the challenge's own
"Average debit" then "Average credit" lines). The JSON is a contract and takes none of this.
"""

from __future__ import annotations

from txsummary.core.jsonout import dumps
from txsummary.core.model import Summary
from txsummary.core.money import decimal_cents

NONE = "n/a"


def money(cents: int | None) -> str:
    """1,234.50, -400,663,943.76, -0.05; n/a for an empty average. Exact at any size."""
    return NONE if cents is None else format(decimal_cents(cents), ",f")


def count(n: int) -> str:
    return f"{n:,}"


def plural(n: int, noun: str) -> str:
    """``1 debit``, ``2 debits``, ``10,000 credits``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def period(summary: Summary) -> str:
    """The months covered, first to last: ``July 2024 to June 2026``, ``July``, or ``none``."""
    if not summary.months:
        return "none"
    first, last = summary.months[0].name, summary.months[-1].name
    return first if first == last else f"{first} to {last}"


def render_text(summary: Summary) -> str:
    """The challenge's lines first, exactly, then the period, the sums and a per-month table."""
    t = summary.totals
    lines = [f"Total balance is {money(t.balance)}"]
    lines += [
        f"Number of transactions in {m.name}: {count(m.totals.transactions)}"
        for m in summary.months
    ]
    lines.append(f"Average debit amount: {money(t.average_debit)}")
    lines.append(f"Average credit amount: {money(t.average_credit)}")
    lines += [
        "",
        f"Period: {period(summary)} ({plural(len(summary.months), 'month')})",
        f"Total debits: {money(t.debit_total)} from {plural(t.debits, 'debit')}",
        f"Total credits: {money(t.credit_total)} from {plural(t.credits, 'credit')}",
    ]
    if summary.months:
        lines += ["", "Per month:", *_table(summary)]
    return "\n".join(lines) + "\n"


def render_json(summary: Summary) -> str:
    return dumps(summary.to_dict()) + "\n"


_HEADER = (
    "Month",
    "Transactions",
    "Debits",
    "Debit total",
    "Avg debit",
    "Credits",
    "Credit total",
    "Avg credit",
    "Balance",
)


def _table(summary: Summary) -> list[str]:
    rows = [list(_HEADER)] + [
        [
            m.name,
            count(m.totals.transactions),
            count(m.totals.debits),
            money(m.totals.debit_total),
            money(m.totals.average_debit),
            count(m.totals.credits),
            money(m.totals.credit_total),
            money(m.totals.average_credit),
            money(m.totals.balance),
        ]
        for m in summary.months
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    out = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        out.append("  " + "  ".join(cells).rstrip())
    return out
