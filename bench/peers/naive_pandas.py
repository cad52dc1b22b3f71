"""Peer: what a typical pandas user writes. Float amounts, dates split as strings.

    python bench/peers/naive_pandas.py PATH   -> one JSON line (see bench/run.py)

The total is the float sum as pandas gives it, unrounded, so the harness can report whether
it is exact.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pandas as pd


def answer(path: str) -> dict[str, Any]:
    df = pd.read_csv(path)
    df["Month"] = df["Date"].str.split("/").str[0].astype(int)
    amounts = df["Transaction"]
    credits = amounts[amounts > 0]
    debits = amounts[amounts < 0]
    by_month = df.groupby("Month")["Transaction"].agg(["count", "sum"])
    return {
        "transactions": len(df),
        "total_balance": repr(float(amounts.sum())),
        "months": {str(month): int(count) for month, count in by_month["count"].items()},
        "average_credit": float(credits.mean()),
        "average_debit": float(debits.mean()),
    }


def load() -> Callable[[str], dict[str, Any]]:
    return answer


if __name__ == "__main__":
    print(json.dumps(answer(sys.argv[1])))
