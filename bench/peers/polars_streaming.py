"""Peer: polars lazy scan with Transaction as Decimal(18,2), streaming engine.

    python bench/peers/polars_streaming.py PATH   -> one JSON line (see bench/run.py)

``load()`` is what bench/peers/warm.py calls once after the import; each call of the function
it returns builds and collects the lazy query afresh.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl


def _average(total: Decimal, count: int) -> str | None:
    return None if count == 0 else str(total / count)


def answer(path: str) -> dict[str, Any]:
    amount = pl.col("Transaction")
    frame = (
        pl.scan_csv(path, schema_overrides={"Transaction": pl.Decimal(18, 2), "Date": pl.String})
        .with_columns(month=pl.col("Date").str.split_exact("/", 1).struct.field("field_0"))
        .with_columns(pl.col("month").cast(pl.Int32))
        .group_by("month")
        .agg(
            transactions=pl.len(),
            balance=amount.sum(),
            credits=(amount > 0).sum(),
            debits=(amount < 0).sum(),
            credit_sum=amount.filter(amount > 0).sum(),
            debit_sum=amount.filter(amount < 0).sum(),
        )
        .sort("month")
        .collect(engine="streaming")
    )
    rows = frame.to_dicts()
    zero = Decimal(0)
    return {
        "transactions": sum(int(r["transactions"]) for r in rows),
        "total_balance": str(sum((r["balance"] or zero for r in rows), zero)),
        "months": {str(r["month"]): int(r["transactions"]) for r in rows},
        "average_credit": _average(
            sum((r["credit_sum"] or zero for r in rows), zero), sum(r["credits"] for r in rows)
        ),
        "average_debit": _average(
            sum((r["debit_sum"] or zero for r in rows), zero), sum(r["debits"] for r in rows)
        ),
    }


def load() -> Callable[[str], dict[str, Any]]:
    return answer


if __name__ == "__main__":
    print(json.dumps(answer(sys.argv[1])))
