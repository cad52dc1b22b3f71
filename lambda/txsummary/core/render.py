"""Human-readable and JSON renderings of a :class:`Summary`."""

from __future__ import annotations

from txsummary.core.jsonout import dumps
from txsummary.core.model import Summary
from txsummary.core.money import format_cents

_NONE = "n/a"


def _money(cents: int | None) -> str:
    return _NONE if cents is None else format_cents(cents)


def render_text(summary: Summary) -> str:
    """The challenge's lines first, exactly, then a per-month breakdown."""
    t = summary.totals
    lines = [f"Total balance is {format_cents(t.balance)}"]
    lines += [
        f"Number of transactions in {m.name}: {m.totals.transactions}" for m in summary.months
    ]
    lines.append(f"Average debit amount: {_money(t.average_debit)}")
    lines.append(f"Average credit amount: {_money(t.average_credit)}")
    if summary.months:
        lines += ["", "Per month:", *_table(summary)]
    return "\n".join(lines) + "\n"


def render_json(summary: Summary) -> str:
    return dumps(summary.to_dict()) + "\n"


def _table(summary: Summary) -> list[str]:
    header = ["Month", "Transactions", "Credits", "Debits", "Balance", "Avg debit", "Avg credit"]
    rows = [header] + [
        [
            m.name,
            str(m.totals.transactions),
            str(m.totals.credits),
            str(m.totals.debits),
            format_cents(m.totals.balance),
            _money(m.totals.average_debit),
            _money(m.totals.average_credit),
        ]
        for m in summary.months
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        out.append("  " + "  ".join(cells).rstrip())
    return out
