"""``make bench``: txsummary against its peers, on generated files, with the targets checked.

    python bench/run.py --rows 1000000 10000000 --quoted-rows 1000000 --write docs/BENCHMARKS.md
    python bench/run.py --quick            (smoke test: 200,000 rows, one repeat, under a minute)

What it measures, every comparison between peers in the same run (the machine is shared):
1. Whole process: each peer as its own process (interpreter start, imports, reading the file,
   output), ``--repeat`` rounds, round-robin with a rotating start. Wall time is
   ``perf_counter`` around spawn and reap; peak RSS is the child's ``ru_maxrss`` from
   ``os.wait4``. Every answer is checked against txsummary's, exactly.
2. Warm, per file: each in-process peer in its own long-lived worker (bench/peers/warm.py)
   that imports once, runs the file once untimed, then ``--warm-runs`` timed runs, round-robin.
3. Fully quoted vs unquoted files of the same rows (``--quoted-rows``), in both of the above.
4. Import cold start: ``python -c "import ..."``, ``--cold-runs`` runs each, interleaved.
5. Installed size of lambda/requirements.txt, ``pip install --target`` into a cached directory.
The lake variant (bench/peers/txsummary_inproc.py ``--lake`` / ``load_lake``) joins 1 and 2
when ``txsummary.aws.lake`` is importable, and is reported as not available otherwise.
bench/notes.md, when present, is appended to the report (analysis that survives a rerun).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import IO, Any, TypeVar

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

# Targets (issues 7 and 9). Ratios are txsummary's figure over the other's.
MAX_WHOLE_RATIO = 1.0  # whole process, largest file, against DuckDB
MAX_WARM_RATIO = 1.0  # warm per file, largest file, against DuckDB and polars
MAX_RSS_MIB = 256
MAX_RSS_GROWTH = 1.10  # "flat": smallest to largest file
MAX_COLD_START_RATIO = 1.15
MAX_QUOTED_RATIO = 1.3  # warm, fully quoted over unquoted
MAX_LAKE_RATIO = 1.5  # warm, lake on over summary alone, largest file
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


# ------------------------------------------------------------------------ whole process


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


def _median(values: Iterable[float]) -> float:
    return statistics.median(values)


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
        return _median(r.wall for r in self.runs)

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def rss_mib(self) -> float:
        return _median(r.rss_kib for r in self.runs) / 1024

    def answer(self) -> Answer | None:
        if not self.ok:
            return None
        outputs = {r.stdout for r in self.runs}
        if len(outputs) != 1:
            return None  # not even consistent with itself
        try:
            text = outputs.pop()
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
        Peer("pandas", "naive pandas (float)", script("naive_pandas")),
        Peer(
            LAKE,
            "txsummary, lake on (in-process script)",
            (python, str(PEERS / "txsummary_inproc.py"), "--lake", PATH),
        ),
    ]


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
        )


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


# ---------------------------------------------------------------------------------- warm


@dataclass(frozen=True)
class WarmPeer:
    name: str
    label: str
    module: str  # MODULE[:LOADER] in bench/peers, driven by bench/peers/warm.py


WARM_PEERS = (
    WarmPeer(TXSUMMARY, "txsummary (summarize_stream)", "txsummary_inproc"),
    WarmPeer(DUCKDB, "DuckDB, DECIMAL(18,2)", "duckdb_exact"),
    WarmPeer(POLARS, "polars streaming, Decimal(18,2)", "polars_streaming"),
    WarmPeer(LAKE, "txsummary, lake on (on_rows=LakeWriter)", "txsummary_inproc:load_lake"),
)


@dataclass
class WarmResult:
    peer: WarmPeer
    seconds: list[float] = field(default_factory=list)
    rss_kib: int = 0
    import_s: float = 0.0
    answers: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    unavailable: str | None = None

    @property
    def ok(self) -> bool:
        return self.unavailable is None and self.error is None and bool(self.seconds)

    @property
    def median(self) -> float:
        return _median(self.seconds)

    def answer(self) -> Answer | None:
        if not self.ok or any(a != self.answers[0] for a in self.answers):
            return None
        try:
            return parse_answer(self.answers[0])
        except (ValueError, KeyError, TypeError, ArithmeticError, AttributeError):
            return None


class Worker:
    """One bench/peers/warm.py process: one JSON line out per path in."""

    def __init__(self, peer: WarmPeer, result: WarmResult) -> None:
        self.peer = peer
        self.result = result
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._proc = subprocess.Popen(
            [sys.executable, str(PEERS / "warm.py"), peer.module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        hello = self._read()
        if "unavailable" in hello:
            result.unavailable = str(hello["unavailable"])
        elif "ready" in hello:
            result.import_s = float(hello["import_s"])
        else:
            result.error = str(hello.get("error", hello))

    @property
    def alive(self) -> bool:
        return self.result.unavailable is None and self.result.error is None

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            tail = self._stderr.read().decode(errors="replace").strip()[-2000:]
            return {"error": f"worker exited ({self._proc.wait()}): {tail}"}
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError:
            return {"error": f"not a reply: {line[:200]!r}"}
        return reply

    def run(self, path: Path, *, timed: bool) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(f"{path}\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass  # the worker died; _read says why
        reply = self._read()
        if "error" in reply:
            self.result.error = str(reply["error"])
            print(f"   {self.peer.name}: {self.result.error}", file=sys.stderr)
            return
        self.result.answers.append(reply["answer"])
        self.result.rss_kib = int(reply["rss_kib"])
        if timed:
            self.result.seconds.append(float(reply["seconds"]))
        print(
            f"   {'timed ' if timed else 'warmup'} {self.peer.name:<10} "
            f"{reply['seconds'] * 1000:8.1f} ms {self.result.rss_kib / 1024:8.1f} MiB",
            flush=True,
        )

    def close(self) -> None:
        if self._proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()


def bench_warm(data: DataFile, runs: int) -> dict[str, WarmResult]:
    """Fresh workers for this file; one untimed run each, then ``runs`` timed, round-robin."""
    print(f"== warm, in-process, {data.label}", flush=True)
    results = {p.name: WarmResult(p) for p in WARM_PEERS}
    workers = [Worker(p, results[p.name]) for p in WARM_PEERS]
    try:
        for worker in workers:
            if worker.result.unavailable is not None:
                print(f"   {worker.peer.name}: not available ({worker.result.unavailable})")
            elif worker.alive:
                worker.run(data.path, timed=False)
        for round_no in range(runs):
            shift = round_no % len(workers)
            for worker in workers[shift:] + workers[:shift]:
                if worker.alive:
                    worker.run(data.path, timed=True)
    finally:
        for worker in workers:
            worker.close()
    return results


# ---------------------------------------------------------------------------- cold start

COLD_TXSUMMARY = "import txsummary.handler"
COLD_BASELINE = "import pandas, boto3"
COLD_POWERTOOLS = f"import pandas, boto3, {POWERTOOLS}"
COLD_FEATURES = "import txsummary.handler, e-mail and lake on"
# What the function's environment looks like with e-mail and the lake configured (issue 9).
FEATURE_ENV = {
    "SUMMARY_TABLE": "bench-summaries",
    "EMAIL_FROM": "bench@example.com",
    "EMAIL_TO": "someone@example.com",
    "EMAIL_ALLOWED_DOMAINS": "example.com",
    "LAKE_BUCKET": "bench-lake",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@dataclass(frozen=True)
class ColdCommand:
    label: str
    code: str
    env: dict[str, str] | None = None


@dataclass
class ColdStart:
    times: dict[str, list[float]]
    failed: dict[str, str]
    skipped: dict[str, str]

    def median(self, label: str) -> float | None:
        times = self.times.get(label)
        return _median(times) if times else None

    def ratio(self, label: str, baseline: str) -> float | None:
        ours, theirs = self.median(label), self.median(baseline)
        return None if ours is None or theirs is None else ours / theirs


def cold_commands() -> tuple[list[ColdCommand], dict[str, str]]:
    commands = [
        ColdCommand(COLD_TXSUMMARY, COLD_TXSUMMARY),
        ColdCommand(COLD_BASELINE, COLD_BASELINE),
        ColdCommand(COLD_FEATURES, COLD_TXSUMMARY, {**os.environ, **FEATURE_ENV}),
    ]
    skipped = {}
    if importlib.util.find_spec("aws_lambda_powertools") is None:
        skipped[COLD_POWERTOOLS] = "aws-lambda-powertools is not installed"
    else:
        commands.append(ColdCommand(COLD_POWERTOOLS, COLD_POWERTOOLS))
    return commands, skipped


def cold_start(runs: int) -> ColdStart:
    print(f"== import cold start, {runs} runs each, interleaved", flush=True)
    commands, skipped = cold_commands()
    failed: dict[str, str] = {}
    for command in commands:  # one untimed run each, for the OS file cache; drop failures
        run = run_process([sys.executable, "-c", command.code], command.env)
        if run.returncode != 0:
            failed[command.label] = (run.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"   {command.label}: failed: {failed[command.label]}", file=sys.stderr)
    commands = [c for c in commands if c.label not in failed]
    times: dict[str, list[float]] = {c.label: [] for c in commands}
    for i in range(runs):
        shift = i % len(commands) if commands else 0
        for command in commands[shift:] + commands[:shift]:
            run = run_process([sys.executable, "-c", command.code], command.env)
            if run.returncode == 0:
                times[command.label].append(run.wall)
    result = ColdStart(times, failed, skipped)
    for label in times:
        print(f"   {label}: median {(result.median(label) or 0) * 1000:.0f} ms", flush=True)
    return result


# ------------------------------------------------------------------------ installed size


@dataclass(frozen=True)
class InstalledSize:
    requirements: Path
    directory: Path
    total_bytes: int
    by_distribution: dict[str, int]  # name -> bytes of the files its RECORD lists
    direct: frozenset[str]  # names listed in the requirements file
    cached: bool


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _requirement_names(requirements: Path) -> frozenset[str]:
    names = set()
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            for stop in "=<>!~[; ":
                line = line.split(stop, 1)[0]
            names.add(_normalize(line))
    return frozenset(names)


def installed_size(requirements: Path) -> InstalledSize:
    """``pip install --target`` into SIZE_CACHE, keyed by the file's content and the Python."""
    key = hashlib.sha256(
        requirements.read_bytes() + f"{sys.version}/{platform.machine()}".encode()
    ).hexdigest()[:12]
    target = SIZE_CACHE / f"site-{key}"
    done_marker = target / ".bench-complete"
    cached = done_marker.is_file()
    if not cached:
        print(f"== installed size: pip install --target {target}", flush=True)
        shutil.rmtree(target, ignore_errors=True)
        argv = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        argv += ["--no-warn-script-location", "--target", str(target), "-r", str(requirements)]
        subprocess.run(argv, check=True)
        done_marker.touch()
    by_distribution: dict[str, int] = {}
    for record in target.glob("*.dist-info/RECORD"):
        name = _dist_name(record.parent)
        total = 0
        for line in record.read_text().splitlines():
            file = (target / line.split(",", 1)[0]).resolve()
            if file.is_relative_to(target.resolve()) and file.is_file():
                total += file.stat().st_size
        by_distribution[name] = total
    total_bytes = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    return InstalledSize(
        requirements,
        target,
        total_bytes - done_marker.stat().st_size,
        by_distribution,
        _requirement_names(requirements),
        cached,
    )


def _dist_name(dist_info: Path) -> str:
    for line in (dist_info / "METADATA").read_text(errors="replace").splitlines():
        if line.startswith("Name:"):
            return _normalize(line.split(":", 1)[1].strip())
    return _normalize(dist_info.name.split("-", 1)[0])


# ---------------------------------------------------------------------------------- report


@dataclass
class Results:
    files: list[DataFile]
    whole: dict[DataFile, dict[str, WholeResult]]
    warm: dict[DataFile, dict[str, WarmResult]]
    cold: ColdStart
    size: InstalledSize | None
    quoted_pair: tuple[DataFile, DataFile] | None  # (unquoted, quoted) of the same rows
    loads: dict[str, str]  # load averages when each section started, by section


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


def _runs(n: int, noun: str = "run") -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _met(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def _range(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    return f"{min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f}"


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


def _header(results: Results, *, command: str, seed: int, load: tuple[str, str]) -> list[str]:
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(_git("status", "--porcelain", "--", "lambda"))
    return [
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
        + ", ".join(f"{p} {_version(p)}" for p in VERSIONS),
        f"- Load average (1/5/15 min) at start: {load[0]}; at end: {load[1]}",
        f"- Data: `bench/generate.py`, seed {seed}: Ids 0..N-1, year-less `M/D` dates over a "
        "leap year (so `2/29` occurs), signed amounts with 0, 1 or 2 decimals, some `+0`; "
        "`--quoted` writes the same values with every field in double quotes.",
        "",
        "One shared 2-core machine, where other work may run at the same time (see the load "
        "averages). Absolute times are noisy, so the comparisons are same-run ratios of "
        "medians, with the min-max range shown. **Ratios are txsummary's figure divided by "
        "the other's**: below 1.00x txsummary is faster or smaller.",
        "",
    ]


def _whole_section(results: Results, repeat: int) -> list[str]:
    lines = [
        "## Whole process",
        "",
        f"Each peer as its own process (interpreter start, imports, reading the file, output), "
        f"{_runs(repeat)} per file, round-robin with a rotating start. Peak RSS is the child's "
        "`ru_maxrss` from `os.wait4`. txsummary is `.venv/bin/txsummary summarize PATH "
        "--format json`; the others are `python bench/peers/SCRIPT.py PATH`, the lake "
        "variant `python bench/peers/txsummary_inproc.py --lake PATH`.",
        "",
    ]
    for data in results.files:
        whole = results.whole[data]
        ref = whole[TXSUMMARY]
        lines += [
            f"### {data.label} ({data.path.stat().st_size / 1e6:.1f} MB, `{data.path.name}`)",
            "",
            f"Load average when it started: {results.loads.get(f'whole {data.label}', '?')}.",
            "",
            "| Peer | Median wall (s) | Min-max (s) | txsummary / peer, time "
            "| Median peak RSS (MiB) | txsummary / peer, RSS |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for result in whole.values():
            if result.unavailable is not None:
                lines.append(f"| {result.peer.label} | not available | | | | |")
            elif not (result.ok and ref.ok):
                lines.append(f"| {result.peer.label} | failed | | | | |")
            else:
                lines.append(
                    f"| {result.peer.label} | {result.wall:.2f} | {_range(result.walls)} "
                    f"| {ref.wall / result.wall:.2f}x | {result.rss_mib:.0f} "
                    f"| {ref.rss_mib / result.rss_mib:.2f}x |"
                )
        lines.append("")
    return lines


def _warm_section(results: Results, runs: int) -> list[str]:
    lines = [
        "## Warm, per file (what a warm Lambda pays)",
        "",
        "Each peer in its own long-lived worker (`bench/peers/warm.py MODULE`) that imports "
        "once, sets up (DuckDB: one connection), runs the file once untimed, then "
        f"{_runs(runs, 'timed run')}, round-robin across workers; each run is a fresh query on the "
        "file. Time is `perf_counter` around the call in the worker. txsummary is "
        "`summarize_stream(open(path, 'rb'), path)`. Worker RSS is the worker's peak "
        "(`ru_maxrss`), imports included.",
        "",
    ]
    for data in results.files:
        warm = results.warm[data]
        ref = warm[TXSUMMARY]
        lines += [
            f"### {data.label}",
            "",
            f"Load average when it started: {results.loads.get(f'warm {data.label}', '?')}.",
            "",
            "| Peer | Median (ms) | Min-max (ms) | txsummary / peer | Import + setup (ms) "
            "| Worker peak RSS (MiB) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for result in warm.values():
            if result.unavailable is not None:
                lines.append(f"| {result.peer.label} | not available | | | | |")
            elif not (result.ok and ref.ok):
                lines.append(f"| {result.peer.label} | failed: {result.error or ''} | | | | |")
            else:
                lines.append(
                    f"| {result.peer.label} | {result.median * 1000:.0f} "
                    f"| {_range(result.seconds, 1000, 0)} | {ref.median / result.median:.2f}x "
                    f"| {result.import_s * 1000:.0f} | {result.rss_kib / 1024:.0f} |"
                )
        lines.append("")
    return lines


def _answers_section(results: Results) -> list[str]:
    lines = [
        "## Same answer as txsummary's CLI?",
        "",
        "Each peer's transaction count, total balance and per-month counts compared with "
        "`txsummary summarize`'s, exactly (the total as a decimal number). Whole-process and "
        "warm runs are both checked; every run of a peer must print the same answer.",
        "",
        "| File | Peer | Transactions | Total balance | Per-month counts |",
        "|---|---|---|---|---|",
    ]
    for data in results.files:
        reference = results.whole[data][TXSUMMARY].answer()
        if reference is None:
            lines.append(f"| {data.label} | (txsummary failed) | | | |")
            continue
        checked: list[tuple[str, Answer | None]] = [
            (r.peer.label, r.answer())
            for r in results.whole[data].values()
            if r.peer.name != TXSUMMARY and r.unavailable is None
        ]
        checked += [
            (f"{r.peer.label}, warm", r.answer())
            for r in results.warm[data].values()
            if r.unavailable is None
        ]
        for label, answer in checked:
            count, total, months = _answer_check(answer, reference)
            lines.append(f"| {data.label} | {label} | {count} | {total} | {months} |")
        lines.append(
            f"| {data.label} | (txsummary's figures) | {reference.transactions:,} "
            f"| {reference.total_balance} | {len(reference.months)} months |"
        )
    return [*lines, ""]


def _quoted_ratio(results: Results, name: str, *, warm: bool) -> str:
    if results.quoted_pair is None:
        return "n/a"
    plain, quoted = results.quoted_pair
    if warm:
        a, b = results.warm[plain].get(name), results.warm[quoted].get(name)
        if a is None or b is None or not (a.ok and b.ok):
            return "n/a"
        return f"{a.median * 1000:.0f} → {b.median * 1000:.0f} ms ({b.median / a.median:.2f}x)"
    c, d = results.whole[plain].get(name), results.whole[quoted].get(name)
    if c is None or d is None or not (c.ok and d.ok):
        return "n/a"
    return f"{c.wall:.2f} → {d.wall:.2f} s ({d.wall / c.wall:.2f}x)"


def _quoted_section(results: Results) -> list[str]:
    if results.quoted_pair is None:
        return []
    plain, _ = results.quoted_pair
    lines = [
        f"## Fully quoted vs unquoted, {plain.rows:,} rows",
        "",
        "The same values with every field in double quotes. Ratio: quoted time / unquoted "
        "time, for each peer against itself (medians from the tables above).",
        "",
        "| Peer | Warm, per file | Whole process |",
        "|---|---|---|",
    ]
    labels = {p.name: p.label for p in whole_peers()} | {p.name: p.label for p in WARM_PEERS}
    for name in (TXSUMMARY, DUCKDB, POLARS, "pandas", LAKE):
        lines.append(
            f"| {labels[name]} | {_quoted_ratio(results, name, warm=True)} "
            f"| {_quoted_ratio(results, name, warm=False)} |"
        )
    return [*lines, ""]


def _cold_section(cold: ColdStart, cold_load: str) -> list[str]:
    runs = max((len(t) for t in cold.times.values()), default=0)
    lines = [
        "## Import cold start",
        "",
        f'`python -c "..."`, {_runs(runs)} each, interleaved, after one untimed run each '
        f"(load average when it started: {cold_load}). "
        "The e-mail-and-lake row imports the handler with `SUMMARY_TABLE`, `EMAIL_FROM`, "
        "`EMAIL_TO`, `EMAIL_ALLOWED_DOMAINS` and `LAKE_BUCKET` set (and fake AWS "
        "credentials); it costs more only if the handler does more at import when they are.",
        "",
        f"| Command | Median (ms) | Min-max (ms) | / `{COLD_BASELINE}` |",
        "|---|---:|---:|---:|",
    ]
    for label, times in cold.times.items():
        ratio = cold.ratio(label, COLD_BASELINE)
        lines.append(
            f"| {_code(label)} | {_median(times) * 1000:.0f} | {_range(times, 1000, 0)} "
            f"| {'n/a' if ratio is None else f'{ratio:.2f}x'} |"
        )
    for label, why in {**cold.failed, **cold.skipped}.items():
        verb = "failed" if label in cold.failed else "skipped"
        lines.append(f"| {_code(label)} | {verb}: {why} | | |")
    powertools = cold.ratio(COLD_TXSUMMARY, COLD_POWERTOOLS)
    if powertools is not None:
        lines += ["", f"`{COLD_TXSUMMARY}` / `{COLD_POWERTOOLS}`: {powertools:.2f}x."]
    return [*lines, ""]


def _home(path: Path) -> str:
    try:
        return f"~/{path.relative_to(Path.home())}"
    except ValueError:
        return str(path)


def _code(label: str) -> str:
    """``import x, with y`` -> ```import x`, with y``: the Python part as code."""
    code, sep, rest = label.partition(", e-mail")
    return f"`{code}`{sep}{rest}"


def _size_section(size: InstalledSize | None) -> list[str]:
    if size is None:
        return []
    rel = size.requirements.relative_to(ROOT)
    lines = [
        "## Installed size of the runtime requirements",
        "",
        f"`pip install --target DIR -r {rel}` for this Python and platform (bytecode as pip "
        "writes it), measured from each distribution's `RECORD`; MB = 10^6 bytes. "
        f"Cached in `{_home(size.directory)}`"
        + (" (reused)." if size.cached else " (installed by this run)."),
        "",
        "| Distribution | Listed in the requirements | Installed (MB) | Share |",
        "|---|---|---:|---:|",
    ]
    for name, nbytes in sorted(size.by_distribution.items(), key=lambda kv: -kv[1]):
        lines.append(
            f"| {name} | {'yes' if name in size.direct else 'dependency'} "
            f"| {nbytes / 1e6:.1f} | {nbytes / size.total_bytes:.1%} |"
        )
    unlisted = size.total_bytes - sum(size.by_distribution.values())
    if unlisted >= 50_000:
        lines.append(
            f"| (files in no RECORD) | | {unlisted / 1e6:.1f} | {unlisted / size.total_bytes:.1%} |"
        )
    lines.append(f"| **total** | | **{size.total_bytes / 1e6:.1f}** | 100% |")
    return [*lines, ""]


def _row(target: str, measured: str, verdict: str) -> str:
    return f"| {target} | {measured} | {verdict} |"


def _whole_rows(whole: dict[str, WholeResult], rows: str) -> list[str]:
    """Whole process against DuckDB (the target) and polars (reported)."""
    txs = whole[TXSUMMARY]
    out = []
    for name, display, is_target in ((DUCKDB, "DuckDB", True), (POLARS, "polars", False)):
        peer = whole[name]
        target = f"whole process ≤ {MAX_WHOLE_RATIO:.1f}x {display} ({rows})"
        if not is_target:
            target = f"whole process vs {display} ({rows}, reported, no target)"
        if not (txs.ok and peer.ok):
            out.append(_row(target, "failed", "**NOT met**" if is_target else "n/a"))
            continue
        ratio = txs.wall / peer.wall
        measured = f"{txs.wall:.2f} s vs {peer.wall:.2f} s: {ratio:.2f}x"
        out.append(_row(target, measured, _met(ratio <= MAX_WHOLE_RATIO) if is_target else "n/a"))
    return out


def _warm_rows(warm: dict[str, WarmResult], rows: str) -> list[str]:
    """Warm per file, against DuckDB and polars (both targets)."""
    out = []
    for name, display in ((DUCKDB, "DuckDB"), (POLARS, "polars")):
        target = f"warm per file ≤ {MAX_WARM_RATIO:.1f}x {display} ({rows})"
        ours, theirs = warm[TXSUMMARY], warm[name]
        if not (ours.ok and theirs.ok):
            out.append(_row(target, "failed", "**NOT met**"))
            continue
        ratio = ours.median / theirs.median
        measured = f"{ours.median * 1000:.0f} ms vs {theirs.median * 1000:.0f} ms: {ratio:.2f}x"
        out.append(_row(target, measured, _met(ratio <= MAX_WARM_RATIO)))
    return out


def _rss_rows(results: Results, smallest: DataFile, largest: DataFile, rows: str) -> list[str]:
    """Peak RSS on the largest file, and flat from the smallest to the largest."""
    txs = results.whole[largest][TXSUMMARY]
    if not txs.ok:
        return [_row(f"peak RSS ≤ {MAX_RSS_MIB} MiB ({rows})", "txsummary failed", "**NOT met**")]
    out = [
        _row(
            f"peak RSS ≤ {MAX_RSS_MIB} MiB ({rows}, whole process)",
            f"{txs.rss_mib:.0f} MiB",
            _met(txs.rss_mib <= MAX_RSS_MIB),
        )
    ]
    small = results.whole[smallest][TXSUMMARY]
    if smallest is not largest and small.ok:
        growth = txs.rss_mib / small.rss_mib
        out.append(
            _row(
                f"peak RSS flat (≤ {MAX_RSS_GROWTH:.2f}x) from {smallest.rows:,} to {rows}",
                f"{small.rss_mib:.0f} → {txs.rss_mib:.0f} MiB ({growth:.2f}x)",
                _met(growth <= MAX_RSS_GROWTH),
            )
        )
    return out


def _cold_row(cold: ColdStart) -> str:
    ratio = cold.ratio(COLD_TXSUMMARY, COLD_BASELINE)
    return _row(
        f"cold start ≤ {MAX_COLD_START_RATIO:.2f}x `{COLD_BASELINE}`",
        "failed" if ratio is None else f"{ratio:.2f}x",
        "**NOT met**" if ratio is None else _met(ratio <= MAX_COLD_START_RATIO),
    )


def _quoted_rows(results: Results) -> list[str]:
    """Warm, fully quoted over unquoted; no row without a quoted pair."""
    if results.quoted_pair is None:
        return []
    plain_file, quoted_file = results.quoted_pair
    a, b = results.warm[plain_file][TXSUMMARY], results.warm[quoted_file][TXSUMMARY]
    target = f"fully quoted ≤ {MAX_QUOTED_RATIO:.1f}x unquoted ({plain_file.rows:,} rows, warm)"
    if not (a.ok and b.ok):
        return [_row(target, "failed", "**NOT met**")]
    ratio = b.median / a.median
    return [
        _row(
            target,
            _quoted_ratio(results, TXSUMMARY, warm=True),
            _met(ratio <= MAX_QUOTED_RATIO),
        )
    ]


def _lake_warm_row(warm: dict[str, WarmResult], rows: str) -> str:
    """The lake (issue 9), warm: lake on over summary alone."""
    lake, txs = warm[LAKE], warm[TXSUMMARY]
    target = f"lake on ≤ {MAX_LAKE_RATIO:.1f}x summary alone ({rows}, warm)"
    if lake.unavailable is not None:
        return _row(target, f"not available: {lake.unavailable}", "not measured")
    if not (lake.ok and txs.ok):
        return _row(target, "failed", "**NOT met**")
    ratio = lake.median / txs.median
    measured = f"{lake.median * 1000:.0f} ms vs {txs.median * 1000:.0f} ms: {ratio:.2f}x"
    return _row(target, measured, _met(ratio <= MAX_LAKE_RATIO))


def _lake_rss_row(whole: dict[str, WholeResult], rows: str) -> str:
    """The lake (issue 9), whole process: peak RSS with the lake on."""
    lake = whole[LAKE]
    target = f"lake on: peak RSS ≤ {MAX_RSS_MIB} MiB ({rows}, whole process)"
    if lake.unavailable is not None:
        return _row(target, "not available", "not measured")
    if not lake.ok:
        return _row(target, "failed", "**NOT met**")
    return _row(target, f"{lake.rss_mib:.0f} MiB", _met(lake.rss_mib <= MAX_RSS_MIB))


def _reported_rows(results: Results) -> list[str]:
    """Reported only, no target: cold start with features on, installed size."""
    features = results.cold.median(COLD_FEATURES)
    out = [
        _row(
            "cold start with e-mail and lake on (reported)",
            "failed" if features is None else f"{features * 1000:.0f} ms",
            "n/a",
        )
    ]
    if results.size is not None:
        out.append(
            _row(
                f"installed size of `{results.size.requirements.relative_to(ROOT)}` (reported)",
                f"{results.size.total_bytes / 1e6:.0f} MB",
                "n/a",
            )
        )
    return out


def _targets(results: Results) -> list[str]:
    plain = [d for d in results.files if not d.quoted]
    largest = max(plain, key=lambda d: d.rows)
    smallest = min(plain, key=lambda d: d.rows)
    rows = f"{largest.rows:,} rows"
    whole, warm = results.whole[largest], results.warm[largest]
    return [
        "## Targets",
        "",
        "From issue 7 (the pandas core) and issue 9 (the lake), as measured in this run.",
        "",
        "| Target | Measured | Verdict |",
        "|---|---|---|",
        *_whole_rows(whole, rows),
        *_warm_rows(warm, rows),
        *_rss_rows(results, smallest, largest, rows),
        _cold_row(results.cold),
        *_quoted_rows(results),
        _lake_warm_row(warm, rows),
        _lake_rss_row(whole, rows),
        *_reported_rows(results),
        "",
    ]


def report(
    results: Results,
    *,
    repeat: int,
    warm_runs: int,
    seed: int,
    command: str,
    load: tuple[str, str],
    quick: bool,
) -> str:
    lines = _header(results, command=command, seed=seed, load=load)
    if quick:
        lines += [
            "**Quick mode (smoke test)**: small files and one run each; the verdicts below "
            "are not measurements of the targets.",
            "",
        ]
    lines += _targets(results)
    lines += _whole_section(results, repeat)
    lines += _warm_section(results, warm_runs)
    lines += _quoted_section(results)
    lines += _answers_section(results)
    lines += _cold_section(results.cold, results.loads.get("cold", "?"))
    lines += _size_section(results.size)
    if NOTES.is_file():  # hand-written analysis that survives regenerating this report
        lines += [NOTES.read_text().strip(), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# ------------------------------------------------------------------------------------ main


def _files(
    rows: list[int], quoted_rows: int, seed: int
) -> tuple[list[DataFile], tuple[DataFile, DataFile] | None]:
    files = [generate(n, seed) for n in sorted(set(rows) | ({quoted_rows} - {0}))]
    if not quoted_rows:
        return files, None
    plain = next(f for f in files if f.rows == quoted_rows)
    quoted = generate(quoted_rows, seed, quoted=True)
    files.insert(files.index(plain) + 1, quoted)
    return files, (plain, quoted)


def _each(files: list[DataFile], measure: Callable[[DataFile], T]) -> dict[DataFile, T]:
    return {data: measure(data) for data in files}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark txsummary against its peers and check the targets."
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--quoted-rows",
        type=int,
        default=1_000_000,
        help="rows of the fully quoted file, also measured unquoted (0: none)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="whole-process runs per peer")
    parser.add_argument("--warm-runs", type=int, default=5, help="timed warm runs per peer")
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-size", action="store_true", help="skip the installed size")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 200,000 rows (also quoted), 1 run each, 3 cold starts",
    )
    parser.add_argument("--write", type=Path, help="write the Markdown report here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.quoted_rows = [200_000], 200_000
        args.repeat, args.warm_runs, args.cold_runs = 1, 1, 3
    if min(args.repeat, args.warm_runs, args.cold_runs, *args.rows) < 1 or args.quoted_rows < 0:
        parser.error("--rows, --repeat, --warm-runs and --cold-runs must be positive")

    command = shlex.join(
        [os.path.relpath(sys.executable), os.path.relpath(__file__), *sys.argv[1:]]
        if argv is None
        else ["python", "bench/run.py", *argv]
    )
    load_start = _load()
    files, quoted_pair = _files(args.rows, args.quoted_rows, args.seed)
    peers = whole_peers()
    loads: dict[str, str] = {}

    def noting_load(section: str, measure: Callable[[], T]) -> T:
        loads[section] = _load()
        return measure()

    results = Results(
        files=files,
        whole=_each(
            files,
            lambda d: noting_load(f"whole {d.label}", lambda: bench_whole(d, args.repeat, peers)),
        ),
        warm=_each(
            files, lambda d: noting_load(f"warm {d.label}", lambda: bench_warm(d, args.warm_runs))
        ),
        cold=noting_load("cold", lambda: cold_start(args.cold_runs)),
        size=None if args.no_size else installed_size(RUNTIME_REQUIREMENTS),
        quoted_pair=quoted_pair,
        loads=loads,
    )
    text = report(
        results,
        repeat=args.repeat,
        warm_runs=args.warm_runs,
        seed=args.seed,
        command=command,
        load=(load_start, _load()),
        quick=args.quick,
    )
    print()
    print(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
        print(f"wrote {args.write}")
    failed = sorted(
        {r.peer.name for d in files for r in results.whole[d].values() if r.runs and not r.ok}
        | {r.peer.name for d in files for r in results.warm[d].values() if r.error}
    )
    if failed:
        print(f"failed runs: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
