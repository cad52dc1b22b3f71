"""What every part of the benchmark shares: paths, peers' names, the data files, answers,
running one process, and small formatting helpers.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / "peers"
RUNTIME_REQUIREMENTS = ROOT / "lambda" / "requirements.txt"
# Outside the tree: mypy and ruff must not see an installed site-packages.
SIZE_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "txsummary-bench"
NOTES = BENCH / "notes.md"  # appended to the report as written, when present
PATH = "{path}"  # placeholder in a peer's command line
DEFAULT_SEED = 20240715

TXSUMMARY = "txsummary"
DUCKDB = "duckdb"
POLARS = "polars"
LAKE = "lake"
DUCKDB_PARQUET = "duckdb-parquet"  # the lake's peer
NAIVE = "pandas"
# naive pandas holds the whole file as Python objects: 3.4 GB at 1e7 rows on a shared machine.
NAIVE_MAX_ROWS = 1_000_000

# Targets (issues 7 and 9). Ratios are txsummary's figure over the other's.
MAX_WHOLE_RATIO = 1.0  # whole process, largest file, against DuckDB and polars
MAX_WARM_RATIO = 1.0  # warm per file, largest file, against DuckDB and polars
MAX_RSS_MIB = 256
MAX_RSS_GROWTH = 1.10  # "flat": smallest to largest file
MAX_COLD_START_RATIO = 1.05  # import txsummary.handler over import pandas, boto3
MAX_QUOTED_RATIO = 1.3  # warm, fully quoted over unquoted
MAX_LAKE_RATIO = 1.3  # warm, lake on over summary alone, largest file
MAX_LAKE_PEER_RATIO = 1.0  # whole process, lake on over DuckDB's COPY to Parquet, largest file
MAX_INVALID_RATIO = 3.0  # time to a verdict, invalid-heavy file over a valid one of as many lines
FLAT_FROM_ROWS = 1_000_000  # "flat" peak RSS: from the smallest file of at least this many rows
VERSIONS = (
    "pandas",
    "pyarrow",
    "numpy",
    "boto3",
    "aws-lambda-powertools",
    "duckdb",
    "polars",
)
POWERTOOLS = "aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
T = TypeVar("T")


# ------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class DataFile:
    rows: int
    quoted: bool
    path: Path

    @property
    def label(self) -> str:
        return f"{self.rows:,} rows" + (", fully quoted" if self.quoted else "")


def generate(rows: int, seed: int, *, quoted: bool = False) -> DataFile:
    """bench/generate.py in its own process, so its memory never counts against the harness."""
    argv = [sys.executable, str(BENCH / "generate.py"), "--rows", str(rows), "--seed", str(seed)]
    if quoted:
        argv.append("--quoted")
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    path = Path(done.stdout.strip().splitlines()[-1])
    with path.open("rb") as f:  # into the page cache, so no peer pays for the disk
        while f.read(16 << 20):
            pass
    return DataFile(rows, quoted, path)


# ------------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Answer:
    """The comparable part of a peer's output."""

    transactions: int
    total_balance: Decimal
    months: dict[str, int]


def parse_answer(data: dict[str, Any]) -> Answer:
    """Peers print ``{"transactions", "total_balance", "months": {key: count}, ...}``."""
    months = {str(k): int(v) for k, v in data["months"].items()}
    return Answer(int(data["transactions"]), Decimal(str(data["total_balance"])), months)


def parse_cli_answer(stdout: str) -> Answer:
    """``txsummary summarize --format json``: months are a list of objects."""
    data: dict[str, Any] = json.loads(stdout, parse_float=Decimal)
    months = {
        (str(m["month"]) if m["year"] is None else f"{m['year']}-{m['month']}"): int(
            m["transactions"]
        )
        for m in data["months"]
    }
    return Answer(int(data["transactions"]), Decimal(str(data["total_balance"])), months)


@dataclass(frozen=True)
class Run:
    wall: float
    rss_kib: int
    returncode: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + system seconds of the child


def median(values: Iterable[float]) -> float:
    return statistics.median(values)


def run_process(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run one process to completion; wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall=wall,
            rss_kib=usage.ru_maxrss,  # KiB on Linux
            returncode=proc.returncode,
            stdout=out.read().decode(),
            stderr=err.read().decode(errors="replace"),
            cpu=usage.ru_utime + usage.ru_stime,
        )


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def runs_text(n: int, noun: str = "run") -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def ratio_text(ratio: float, limit: float | None = None) -> str:
    """``1.23x``; three decimals where two would round onto the limit and hide the verdict."""
    close = limit is not None and f"{ratio:.2f}" == f"{limit:.2f}" and ratio != limit
    return f"{ratio:.3f}x" if close else f"{ratio:.2f}x"


def met(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def span(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    return f"{min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f}"
