"""Peer for the lake: DuckDB converting the CSV to Parquet, Transaction as exact DECIMAL(18,2).

    python bench/peers/duckdb_parquet.py PATH   -> {"transactions": N, "parquet_bytes": B}

What a user would run instead of txsummary's lake: one ``COPY (SELECT ... FROM read_csv(...))
TO 'x.parquet'``, default threads and DuckDB's default Parquet settings, the amounts exact
(DECIMAL(18,2) on INT64, as the lake stores them). It writes the file's three columns, not the
lake's eleven: the plain conversion is what a user would write, so the stricter peer. The
Parquet goes to a temporary directory and is deleted.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import duckdb

COPY = """
COPY (
    SELECT Id, Date, Transaction
    FROM read_csv(
        '{path}',
        header = true,
        columns = {{'Id': 'BIGINT', 'Date': 'VARCHAR', 'Transaction': 'DECIMAL(18,2)'}}
    )
) TO '{out}' (FORMAT parquet)
"""


def _literal(path: str) -> str:
    """A path as the text of a SQL string literal (COPY takes no parameters)."""
    return path.replace("'", "''")


def load() -> Callable[[str], dict[str, Any]]:
    connection = duckdb.connect()

    def answer(path: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="duckdb-parquet-") as workdir:
            out = os.path.join(workdir, "x.parquet")
            done = connection.execute(COPY.format(path=_literal(path), out=_literal(out)))
            row = done.fetchone()
            rows = int(row[0]) if row is not None else 0
            return {"transactions": rows, "parquet_bytes": os.path.getsize(out)}

    return answer


if __name__ == "__main__":
    print(json.dumps(load()(sys.argv[1])))
