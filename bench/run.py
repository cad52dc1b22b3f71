"""``make bench``: txsummary against three peers, as whole processes, on generated files.

    python bench/run.py --rows 1000000 10000000 --write docs/BENCHMARKS.md [--repeat 3]

For each size: generate (or reuse) the file, read it once so it is in the page cache, then run
every peer ``--repeat`` times round-robin, starting each round with the next peer, so that
noise from other work on the machine spreads evenly. Each run is a separate process: wall time
is ``time.perf_counter`` around spawn and reap, peak RSS is the child's ``ru_maxrss`` from
``os.wait4``. Every peer prints one JSON line, which is checked against txsummary's answer.
Also times the import cold start of ``txsummary.handler`` against ``pandas, boto3``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / "peers"
PATH = "{path}"  # placeholder in a peer's command line

TXSUMMARY = "txsummary"
# Targets (see docs/BENCHMARKS.md).
MAX_RSS_MIB = 256
MAX_RSS_GROWTH = 1.10
MAX_COLD_START_RATIO = 1.15
PACKAGES = ("pandas", "pyarrow", "numpy", "duckdb", "polars")


@dataclass(frozen=True)
class Peer:
    name: str
    label: str
    command: tuple[str, ...]

    def argv(self, path: Path) -> list[str]:
        return [str(path) if arg == PATH else arg for arg in self.command]


@dataclass(frozen=True)
class Run:
    wall: float
    rss_kib: int
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Answer:
    """The comparable part of a peer's output."""

    transactions: int
    total_balance: Decimal
    months: dict[str, int]


@dataclass
class PeerResult:
    peer: Peer
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.returncode == 0 for r in self.runs)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss_mib(self) -> float:
        return statistics.median(r.rss_kib for r in self.runs) / 1024

    def answer(self) -> Answer | None:
        if not self.ok:
            return None
        outputs = {r.stdout for r in self.runs}
        if len(outputs) != 1:
            return None  # not even consistent with itself
        try:
            return parse_answer(self.peer.name, outputs.pop())
        except (ValueError, KeyError, TypeError, ArithmeticError):
            return None  # printed something that is not the agreed JSON line


@dataclass(frozen=True)
class SizeResult:
    rows: int
    path: Path
    results: dict[str, PeerResult]


def peers() -> list[Peer]:
    python = sys.executable
    bin_dir = Path(python).parent
    return [
        Peer(
            TXSUMMARY,
            "txsummary",
            (str(bin_dir / "txsummary"), "summarize", PATH, "--format", "json"),
        ),
        Peer("duckdb", "DuckDB, DECIMAL(18,2)", (python, str(PEERS / "duckdb_exact.py"), PATH)),
        Peer(
            "polars",
            "polars streaming, Decimal(18,2)",
            (python, str(PEERS / "polars_streaming.py"), PATH),
        ),
        Peer("pandas", "naive pandas (float)", (python, str(PEERS / "naive_pandas.py"), PATH)),
    ]


def run_process(argv: list[str]) -> Run:
    """Run one process to completion; wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
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
        )


def parse_answer(name: str, stdout: str) -> Answer:
    data: dict[str, Any] = json.loads(stdout, parse_float=Decimal)
    if name == TXSUMMARY:
        months = {
            (str(m["month"]) if m["year"] is None else f"{m['year']}-{m['month']}"): int(
                m["transactions"]
            )
            for m in data["months"]
        }
    else:
        months = {str(k): int(v) for k, v in data["months"].items()}
    return Answer(int(data["transactions"]), Decimal(str(data["total_balance"])), months)


def generate(rows: int, seed: int) -> Path:
    """bench/generate.py in its own process, so its memory never counts against the harness."""
    argv = [sys.executable, str(BENCH / "generate.py"), "--rows", str(rows), "--seed", str(seed)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return Path(done.stdout.strip().splitlines()[-1])


def warm_page_cache(path: Path) -> None:
    with path.open("rb") as f:
        while f.read(16 << 20):
            pass


def bench_size(rows: int, seed: int, repeat: int, all_peers: list[Peer]) -> SizeResult:
    print(f"== {rows:,} rows: generating", flush=True)
    path = generate(rows, seed)
    warm_page_cache(path)
    results = {p.name: PeerResult(p) for p in all_peers}
    for round_no in range(repeat):
        shift = round_no % len(all_peers)
        for peer in all_peers[shift:] + all_peers[:shift]:
            run = run_process(peer.argv(path))
            results[peer.name].runs.append(run)
            status = "ok" if run.returncode == 0 else f"EXIT {run.returncode}"
            print(
                f"   round {round_no + 1}/{repeat} {peer.name:<10} {run.wall:7.2f} s "
                f"{run.rss_kib / 1024:8.1f} MiB  {status}",
                flush=True,
            )
            if run.returncode != 0:
                print(run.stderr.strip()[-2000:], file=sys.stderr)
    return SizeResult(rows, path, results)


@dataclass(frozen=True)
class ColdStart:
    txsummary: list[float]
    baseline: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.txsummary) / statistics.median(self.baseline)


COLD_TXSUMMARY = "import txsummary.handler"
COLD_BASELINE = "import pandas, boto3"


def cold_start(runs: int) -> ColdStart:
    print(f"== import cold start, {runs} runs each, interleaved", flush=True)
    commands = {COLD_TXSUMMARY: [sys.executable, "-c", COLD_TXSUMMARY]}
    commands[COLD_BASELINE] = [sys.executable, "-c", COLD_BASELINE]
    for argv in commands.values():  # one untimed run each, for the OS file cache
        _checked(run_process(argv), argv)
    times: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands)
    for i in range(runs):
        for name in order if i % 2 == 0 else order[::-1]:
            times[name].append(_checked(run_process(commands[name]), commands[name]).wall)
    result = ColdStart(times[COLD_TXSUMMARY], times[COLD_BASELINE])
    print(f"   ratio {result.ratio:.2f}", flush=True)
    return result


def _checked(run: Run, argv: list[str]) -> Run:
    if run.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed ({run.returncode}):\n{run.stderr}")
    return run


# ---------------------------------------------------------------------------------- report


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _met(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def _answer_check(answer: Answer | None, reference: Answer) -> tuple[str, str, str]:
    if answer is None:
        return ("failed", "failed", "failed")
    count = (
        "yes" if answer.transactions == reference.transactions else f"no ({answer.transactions})"
    )
    if answer.total_balance == reference.total_balance:
        total = "yes"
    else:
        off = answer.total_balance - reference.total_balance
        total = f"no: {answer.total_balance} (off by {off:f})"
    months = "yes" if answer.months == reference.months else "no"
    return (count, total, months)


def report(
    sizes: list[SizeResult],
    cold: ColdStart,
    *,
    repeat: int,
    seed: int,
    command: str,
    load: tuple[str, str],
) -> str:
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(_git("status", "--porcelain", "--", "lambda"))
    lines = [
        "# Benchmarks",
        "",
        "Reproduce with `make bench`. This report was written by:",
        "",
        "```",
        command,
        "```",
        "",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Code: txsummary {_version('txsummary')} at commit `{head}`"
        + (" (with uncommitted changes under `lambda/`)" if dirty else ""),
        f"- Machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {_cpu_model()}, "
        f"{_mem_total_gib()} RAM, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; "
        + ", ".join(f"{p} {_version(p)}" for p in PACKAGES),
        f"- Load average (1/5/15 min) at start: {load[0]}; at end: {load[1]}",
        "",
        "These are whole-process figures (interpreter start, imports, reading the file, "
        "output) from one shared 2-core machine, where other work may run at the same time "
        "(see the load averages). Absolute times are noisy, so the comparisons are same-run "
        f"ratios: every peer ran {repeat} times per file as its own process, round-robin, and "
        "the tables show medians. A ratio above 1.00x means the peer took longer, or used "
        "more memory, than txsummary. Peak RSS is the child process's `ru_maxrss` from "
        "`os.wait4`.",
        "",
        f"- Data: `bench/generate.py`, seed {seed}: Ids 0..N-1, year-less `M/D` dates over "
        "a leap year (so `2/29` occurs), signed amounts with 0, 1 or 2 decimals, some `+0`.",
        "- txsummary: `.venv/bin/txsummary summarize PATH --format json`.",
        "- Peers: `bench/peers/duckdb_exact.py`, `bench/peers/polars_streaming.py`, "
        "`bench/peers/naive_pandas.py`, each run as `python SCRIPT PATH`.",
        "",
    ]
    for size in sizes:
        ref = size.results[TXSUMMARY]
        lines += [
            f"## {size.rows:,} rows ({size.path.stat().st_size / 1e6:.1f} MB, `{size.path.name}`)",
            "",
            "| Peer | Median wall (s) | Min-max (s) | Time / txsummary time "
            "| Median peak RSS (MiB) | RSS / txsummary RSS |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for result in size.results.values():
            if not (result.ok and ref.ok):
                lines.append(f"| {result.peer.label} | failed | | | | |")
                continue
            walls = [r.wall for r in result.runs]
            lines.append(
                f"| {result.peer.label} | {result.wall:.2f} | {min(walls):.2f}-{max(walls):.2f} "
                f"| {result.wall / ref.wall:.2f}x | {result.rss_mib:.0f} "
                f"| {result.rss_mib / ref.rss_mib:.2f}x |"
            )
        lines.append("")
    lines += [
        "## Same answer as txsummary?",
        "",
        "Each peer's transaction count, total balance and per-month counts compared with "
        "txsummary's, exactly (the total as a decimal number).",
        "",
        "| Rows | Peer | Transactions | Total balance | Per-month counts |",
        "|---:|---|---|---|---|",
    ]
    for size in sizes:
        reference = size.results[TXSUMMARY].answer()
        if reference is None:
            lines.append(f"| {size.rows:,} | (txsummary failed) | | | |")
            continue
        for name, result in size.results.items():
            if name == TXSUMMARY:
                continue
            count, total, months = _answer_check(result.answer(), reference)
            lines.append(f"| {size.rows:,} | {result.peer.label} | {count} | {total} | {months} |")
        lines.append(
            f"| {size.rows:,} | (txsummary's total) | {reference.transactions:,} "
            f"| {reference.total_balance} | {len(reference.months)} months |"
        )
    lines += [
        "",
        "## Import cold start",
        "",
        f'`python -c "..."`, {len(cold.txsummary)} runs each, interleaved, after one untimed '
        "run each.",
        "",
        "| Command | Median (ms) | Min-max (ms) |",
        "|---|---:|---:|",
    ]
    for name, times in ((COLD_TXSUMMARY, cold.txsummary), (COLD_BASELINE, cold.baseline)):
        lines.append(
            f"| `{name}` | {statistics.median(times) * 1000:.0f} "
            f"| {min(times) * 1000:.0f}-{max(times) * 1000:.0f} |"
        )
    lines += ["", f"Ratio: {cold.ratio:.2f}x.", ""]
    lines += _targets(sizes, cold)
    return "\n".join(lines) + "\n"


def _targets(sizes: list[SizeResult], cold: ColdStart) -> list[str]:
    lines = ["## Targets", "", "| Target | Measured | Verdict |", "|---|---|---|"]
    largest = max(sizes, key=lambda s: s.rows)
    smallest = min(sizes, key=lambda s: s.rows)
    txs = largest.results[TXSUMMARY]
    if not txs.ok:
        return [*lines, "| all | txsummary failed | **NOT met** |", ""]
    rows = f"{largest.rows:,} rows"
    for name, display, possessive in (
        ("duckdb", "DuckDB", "DuckDB's"),
        ("polars", "polars", "polars'"),
    ):
        peer = largest.results[name]
        if not peer.ok:
            lines.append(f"| txsummary time ≤ {possessive} ({rows}) | peer failed | n/a |")
            continue
        lines.append(
            f"| txsummary time ≤ {possessive} ({rows}) | {txs.wall:.2f} s vs {peer.wall:.2f} s "
            f"({display} time / txsummary time {peer.wall / txs.wall:.2f}x) "
            f"| {_met(txs.wall <= peer.wall)} |"
        )
    lines.append(
        f"| txsummary peak RSS ≤ {MAX_RSS_MIB} MiB ({rows}) | {txs.rss_mib:.0f} MiB "
        f"| {_met(txs.rss_mib <= MAX_RSS_MIB)} |"
    )
    small = smallest.results[TXSUMMARY]
    if smallest is not largest and small.ok:
        growth = txs.rss_mib / small.rss_mib
        lines.append(
            f"| txsummary peak RSS within {MAX_RSS_GROWTH - 1:.0%} from {smallest.rows:,} to "
            f"{largest.rows:,} rows | {small.rss_mib:.0f} → {txs.rss_mib:.0f} MiB "
            f"({growth:.2f}x) | {_met(growth <= MAX_RSS_GROWTH)} |"
        )
    lines.append(
        f"| import cold start ≤ {MAX_COLD_START_RATIO:.2f}x `{COLD_BASELINE}` "
        f"| {cold.ratio:.2f}x | {_met(cold.ratio <= MAX_COLD_START_RATIO)} |"
    )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark txsummary against peers.")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20240715)
    parser.add_argument("--write", type=Path, help="write the Markdown report here")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.cold_runs < 1 or min(args.rows) < 1:
        parser.error("--rows, --repeat and --cold-runs must be positive")

    command = shlex.join(
        [os.path.relpath(sys.executable), os.path.relpath(__file__), *sys.argv[1:]]
        if argv is None
        else ["python", "bench/run.py", *argv]
    )
    load_start = _load()
    all_peers = peers()
    sizes = [bench_size(rows, args.seed, args.repeat, all_peers) for rows in sorted(args.rows)]
    cold = cold_start(args.cold_runs)
    text = report(
        sizes,
        cold,
        repeat=args.repeat,
        seed=args.seed,
        command=command,
        load=(load_start, _load()),
    )
    print()
    print(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
        print(f"wrote {args.write}")
    failed = [r.peer.name for s in sizes for r in s.results.values() if not r.ok]
    if failed:
        print(f"failed runs: {', '.join(sorted(set(failed)))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
