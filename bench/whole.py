"""Whole process: each peer as its own process, round-robin."""

import json
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.common import (
    DUCKDB,
    DUCKDB_PARQUET,
    LAKE,
    NAIVE,
    NAIVE_MAX_ROWS,
    PATH,
    PEERS,
    POLARS,
    TXSUMMARY,
    Answer,
    DataFile,
    Run,
    median,
    parse_answer,
    parse_cli_answer,
    run_process,
)

# ------------------------------------------------------------------------ whole process


@dataclass(frozen=True)
class Peer:
    name: str
    label: str
    command: tuple[str, ...]
    max_rows: int | None = None  # not run on larger files (too slow or too big to be useful)
    summarizes: bool = True  # False: it only writes the rows; its count alone is compared

    def argv(self, path: Path) -> list[str]:
        return [str(path) if arg == PATH else arg for arg in self.command]


@dataclass
class WholeResult:
    peer: Peer
    runs: list[Run] = field(default_factory=list)
    unavailable: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.unavailable is None
            and bool(self.runs)
            and all(r.returncode == 0 for r in self.runs)
        )

    @property
    def wall(self) -> float:
        return median(r.wall for r in self.runs)

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def rss_mib(self) -> float:
        return median(r.rss_kib for r in self.runs) / 1024

    def answer(self) -> Answer | None:
        if not self.ok:
            return None
        outputs = {r.stdout for r in self.runs}
        if len(outputs) != 1:
            return None  # not even consistent with itself
        try:
            text = outputs.pop()
            if not self.peer.summarizes:
                return Answer(int(json.loads(text)["transactions"]), Decimal(0), {})
            if self.peer.name == TXSUMMARY:
                return parse_cli_answer(text)
            return parse_answer(json.loads(text))
        except (ValueError, KeyError, TypeError, ArithmeticError, AttributeError):
            return None  # printed something that is not the agreed JSON line


def whole_peers() -> list[Peer]:
    python = sys.executable
    cli = str(Path(python).parent / "txsummary")

    def script(name: str) -> tuple[str, ...]:
        return (python, str(PEERS / f"{name}.py"), PATH)

    return [
        Peer(TXSUMMARY, "txsummary (CLI)", (cli, "summarize", PATH, "--format", "json")),
        Peer(DUCKDB, "DuckDB, DECIMAL(18,2)", script("duckdb_exact")),
        Peer(POLARS, "polars streaming, Decimal(18,2)", script("polars_streaming")),
        Peer(NAIVE, "naive pandas (float)", script("naive_pandas"), max_rows=NAIVE_MAX_ROWS),
        Peer(
            LAKE,
            "txsummary, lake on (in-process script)",
            (python, str(PEERS / "txsummary_inproc.py"), "--lake", PATH),
        ),
        Peer(
            DUCKDB_PARQUET,
            "DuckDB COPY to Parquet, DECIMAL(18,2)",
            script("duckdb_parquet"),
            summarizes=False,
        ),
    ]


def _unavailable(run: Run) -> str | None:
    if run.returncode != 0:
        return None
    try:
        data = json.loads(run.stdout)
    except ValueError:
        return None
    return str(data["unavailable"]) if isinstance(data, dict) and "unavailable" in data else None


def bench_whole(data: DataFile, repeat: int, peers: list[Peer]) -> dict[str, WholeResult]:
    print(f"== whole process, {data.label}", flush=True)
    results = {p.name: WholeResult(p) for p in peers}
    for round_no in range(repeat):
        shift = round_no % len(peers)
        for peer in peers[shift:] + peers[:shift]:
            result = results[peer.name]
            if result.unavailable is not None:
                continue
            if peer.max_rows is not None and data.rows > peer.max_rows:
                result.unavailable = f"not run above {peer.max_rows:,} rows"
                continue
            run = run_process(peer.argv(data.path))
            result.unavailable = _unavailable(run)
            if result.unavailable is not None:
                print(f"   {peer.name}: not available ({result.unavailable})", flush=True)
                continue
            result.runs.append(run)
            status = "ok" if run.returncode == 0 else f"EXIT {run.returncode}"
            print(
                f"   round {round_no + 1}/{repeat} {peer.name:<10} {run.wall:7.2f} s "
                f"{run.rss_kib / 1024:8.1f} MiB  {status}",
                flush=True,
            )
            if run.returncode != 0:
                print(run.stderr.strip()[-2000:], file=sys.stderr)
    return results
