"""Peer: DuckDB reading Transaction as exact DECIMAL(18,2), grouping by month. Default threads.

    python bench/peers/duckdb_exact.py PATH   -> one JSON line (see bench/run.py)

``load()`` is what bench/peers/warm.py calls once after the import: it opens the connection,
and each call of the function it returns runs the query afresh on the file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import duckdb

QUERY = """
SELECT
    CAST(split_part(Date, '/', 1) AS INTEGER) AS month,
    count(*) AS transactions,
    sum(Transaction) AS balance,
    count(*) FILTER (WHERE Transaction > 0) AS credits,
    count(*) FILTER (WHERE Transaction < 0) AS debits,
    sum(Transaction) FILTER (WHERE Transaction > 0) AS credit_sum,
    sum(Transaction) FILTER (WHERE Transaction < 0) AS debit_sum
FROM read_csv(
    ?,
    header = true,
    columns = {'Id': 'BIGINT', 'Date': 'VARCHAR', 'Transaction': 'DECIMAL(18,2)'}
)
GROUP BY month
ORDER BY month
"""


def _average(total: Decimal, count: int) -> str | None:
    return None if count == 0 else str(total / count)


def load() -> Callable[[str], dict[str, Any]]:
    connection = duckdb.connect()

    def answer(path: str) -> dict[str, Any]:
        rows = connection.execute(QUERY, [path]).fetchall()
        zero = Decimal(0)
        credits = sum((r[3] for r in rows), 0)
        debits = sum((r[4] for r in rows), 0)
        return {
            "transactions": sum((r[1] for r in rows), 0),
            "total_balance": str(sum((r[2] or zero for r in rows), zero)),
            "months": {str(r[0]): r[1] for r in rows},
            "average_credit": _average(sum((r[5] or zero for r in rows), zero), credits),
            "average_debit": _average(sum((r[6] or zero for r in rows), zero), debits),
        }

    return answer


if __name__ == "__main__":
    print(json.dumps(load()(sys.argv[1])))
