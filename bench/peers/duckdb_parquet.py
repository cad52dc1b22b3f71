"""Peer for the lake: DuckDB converting the file to Parquet with exact decimals, as a user would
instead of txsummary's lake. Default threads.

    python bench/peers/duckdb_parquet.py PATH   -> {"transactions": rows written, "parquet_bytes"}

The lake's columns (txsummary.contract.GLUE_COLUMNS) but ``line``, which DuckDB's CSV reader does
not give without a window over the whole file; ``amount`` is DECIMAL(18,2) and ``amount_cents``
its integer, zstd-compressed as the lake writes them. Nothing is validated beyond what the reader
and the casts refuse. The Parquet file goes to a temporary directory and is removed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb

QUERY = """
COPY (
    SELECT
        'bench' AS source_bucket,
        {key} AS source_key,
        'v1' AS source_version,
        Id AS id,
        Date AS date,
        CAST(NULL AS INTEGER) AS year,
        CAST(split_part(Date, '/', 1) AS INTEGER) AS month,
        CAST(split_part(Date, '/', 2) AS INTEGER) AS day,
        Transaction AS amount,
        CAST(Transaction * 100 AS BIGINT) AS amount_cents
    FROM read_csv(
        {path},
        header = true,
        columns = {{'Id': 'VARCHAR', 'Date': 'VARCHAR', 'Transaction': 'DECIMAL(18,2)'}}
    )
) TO {out} (FORMAT parquet, COMPRESSION zstd)
"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def answer(path: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="duckdb-parquet-") as workdir:
        out = Path(workdir) / "x.parquet"
        query = QUERY.format(
            key=_literal(Path(path).name), path=_literal(path), out=_literal(str(out))
        )
        written = duckdb.connect().execute(query).fetchone()
        return {
            "transactions": int(written[0]) if written else 0,
            "parquet_bytes": out.stat().st_size,
        }


if __name__ == "__main__":
    print(json.dumps(answer(sys.argv[1])))
