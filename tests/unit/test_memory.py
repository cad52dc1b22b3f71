"""Memory does not grow with the file: only with the chunk size (and the seen-Id bitmap).

Each size runs in a fresh process, so pyarrow's peak pool usage belongs to that run alone.
The rows are generated while they are read, so the test's own data never sits in memory.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import io, json, sys, tracemalloc
import pyarrow as pa
from txsummary.core.summarize import summarize_stream

class Rows(io.RawIOBase):
    def __init__(self, count):
        row = b"%d,%d/%d,%+d.%02d\\n"
        self.lines = (row % (i, i % 12 + 1, i % 28 + 1, i % 9973 - 5000, i % 100)
                      for i in range(count))
        self.pending = b"Id,Date,Transaction\\n"
    def readable(self):
        return True
    def readinto(self, buffer):
        while len(self.pending) < len(buffer):
            chunk = b"".join(line for _, line in zip(range(4096), self.lines))
            if not chunk:
                break
            self.pending += chunk
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size

tracemalloc.start()
summary = summarize_stream(io.BufferedReader(Rows(int(sys.argv[1]))), "generated.csv",
                           chunk_size=1 << 20)
print(json.dumps({"rows": summary.totals.transactions,
                  "python_peak": tracemalloc.get_traced_memory()[1],
                  "arrow_peak": pa.default_memory_pool().max_memory()}))
"""


def _peak(rows: int) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(rows)], capture_output=True, text=True, check=True
    )
    result: dict[str, int] = json.loads(done.stdout)
    assert result["rows"] == rows
    return result


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_rows() -> None:
    # Given the same chunk size, a file ten times longer
    small, large = _peak(100_000), _peak(1_000_000)
    # Then neither Python's nor pyarrow's peak grows with it (the Id bitmap adds 1 bit a row)
    for kind in ("python_peak", "arrow_peak"):
        assert large[kind] < small[kind] * 1.25 + (1 << 20), (kind, small, large)
    # And both stay within a few chunks of 1 MiB
    assert large["python_peak"] + large["arrow_peak"] < 32 << 20, large


def test_summarizing_never_imports_pandas() -> None:
    # pyarrow imports pandas lazily for some conversions; that would add about a third of a
    # second to every cold start, so the runtime path must avoid them.
    probe = (
        "import io, sys\n"
        "from txsummary.core.summarize import summarize_stream\n"
        "rows = b''.join(b'%d,7/%d,+1.5\\n' % (i, i % 28 + 1) for i in range(5000))\n"
        "summarize_stream(io.BytesIO(b'Id,Date,Transaction\\n' + rows), 'x.csv')\n"
        "summarize_stream(io.BytesIO(b'Id,Date,Transaction\\ntx-1,7/15,2\\n'), 'y.csv')\n"
        "print(sorted(m for m in sys.modules if m.startswith('pandas')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
