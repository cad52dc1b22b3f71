"""Start-up: pandas is imported when the first file starts, on a thread, and the worker count
follows the CPUs the process may use."""

from __future__ import annotations

import os

import pytest

from tests.unit.streams import measure
from txsummary.core import summarize

FIRST_FILE_PROBE = """
import io, json, sys
from txsummary.core.summarize import summarize_stream
before = "pandas" in sys.modules
rows = b"Id,Date,Transaction\\n" + b"".join(
    b"%d,%d/%d,%+d.%02d\\n" % (i, i % 12 + 1, i % 28 + 1, i % 97 - 48, i % 100)
    for i in range(CHUNKS * 12_000)
)
summary = summarize_stream(io.BytesIO(rows), "first.csv", chunk_size=1 << 17)
print(json.dumps({"pandas_before": before, "transactions": summary.totals.transactions,
                  "balance": summary.totals.balance}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("chunks", [1, 12])
def test_first_file_imports_pandas_on_the_way(chunks: int) -> None:
    # Given a fresh interpreter that imported only the summarizer
    result = measure(FIRST_FILE_PROBE.replace("CHUNKS", str(chunks)))
    # Then pandas was not yet imported by that
    assert result["pandas_before"] is False
    # And the first file, one chunk or several read while pandas loads, has the oracle's sums
    rows = range(chunks * 12_000)
    assert result["transactions"] == len(rows)
    assert result["balance"] == sum(
        (i % 97 - 48) * 100 + (i % 100 if i % 97 >= 48 else -(i % 100)) for i in rows
    )


@pytest.mark.parametrize(("cpus", "workers"), [(1, 1), (2, 2), (6, 6), (64, 6)])
def test_workers_follow_the_cpus_the_process_may_use(
    monkeypatch: pytest.MonkeyPatch, cpus: int, workers: int
) -> None:
    # Given a process allowed to run on `cpus` CPUs
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cpus)))
    # Then one worker per CPU, at most MAX_WORKERS
    assert summarize.default_workers() == workers
    assert summarize.MAX_WORKERS == 6
