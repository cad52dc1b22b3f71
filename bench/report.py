"""The Markdown report: the header and one section per measurement."""

import datetime as dt
import os
import platform
from importlib import metadata
from pathlib import Path

from bench.bytecode import bytecode_section, eager_section
from bench.common import (
    DUCKDB,
    LAKE,
    NAIVE,
    NAIVE_MAX_ROWS,
    NOTES,
    POLARS,
    ROOT,
    TXSUMMARY,
    VERSIONS,
    Answer,
    git,
    median,
    runs_text,
    span,
)
from bench.hostile import hostile_section
from bench.inproc import WARM_PEERS
from bench.results import Results, quoted_ratio
from bench.scaling import scaling_section
from bench.size import InstalledSize
from bench.startup import COLD_BASELINE, COLD_FIRST_FILE, COLD_POWERTOOLS, COLD_TXSUMMARY, ColdStart
from bench.targets import targets_section
from bench.whole import whole_peers

# ---------------------------------------------------------------------------------- report


def version_of(package: str) -> str:
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
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--", "lambda"))
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
        f"- Code: txsummary {version_of('txsummary')} at commit `{head}`"
        + (" (with uncommitted changes under `lambda/`)" if dirty else ""),
        f"- Machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {_cpu_model()}, "
        f"{_mem_total_gib()} RAM, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; "
        + ", ".join(f"{p} {version_of(p)}" for p in VERSIONS),
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
        f"{runs_text(repeat)} per file, round-robin with a rotating start. Peak RSS is the child's "
        "`ru_maxrss` from `os.wait4`. txsummary is `.venv/bin/txsummary summarize PATH "
        "--format json`; the others are `python bench/peers/SCRIPT.py PATH`, the lake "
        "variant `python bench/peers/txsummary_inproc.py --lake PATH` (a `LakeWriter` whose "
        "Parquet is written and committed to a client that uploads nothing), and its peer "
        "`bench/peers/duckdb_parquet.py`, DuckDB's `COPY (SELECT ... FROM read_csv(...)) TO "
        "'x.parquet'` of the file's three columns, the amounts exact DECIMAL(18,2). "
        "Naive pandas is not run above "
        f"{NAIVE_MAX_ROWS:,} rows.",
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
                lines.append(f"| {result.peer.label} | {result.unavailable} | | | | |")
            elif not (result.ok and ref.ok):
                lines.append(f"| {result.peer.label} | failed | | | | |")
            else:
                lines.append(
                    f"| {result.peer.label} | {result.wall:.2f} | {span(result.walls)} "
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
        f"{runs_text(runs, 'timed run')}, round-robin across workers; each run is a fresh "
        "query on the file. Time is `perf_counter` around the call in the worker. txsummary is "
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
                    f"| {span(result.seconds, 1000, 0)} | {ref.median / result.median:.2f}x "
                    f"| {result.import_s * 1000:.0f} | {result.rss_kib / 1024:.0f} |"
                )
        lines.append("")
    return lines


def _answers_section(results: Results) -> list[str]:
    lines = [
        "## Same answer as txsummary's CLI?",
        "",
        "Each peer's transaction count, total balance and per-month counts compared with "
        "`txsummary summarize`'s, exactly (the total as a decimal number); for the Parquet "
        "converter, the rows it wrote. Whole-process and "
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
        checked: list[tuple[str, Answer | None, bool]] = [
            (r.peer.label, r.answer(), r.peer.summarizes)
            for r in results.whole[data].values()
            if r.peer.name != TXSUMMARY and r.unavailable is None
        ]
        checked += [
            (f"{r.peer.label}, warm", r.answer(), True)
            for r in results.warm[data].values()
            if r.unavailable is None
        ]
        for label, answer, summarizes in checked:
            count, total, months = _answer_check(answer, reference)
            if not summarizes:  # it writes rows: only their count is comparable
                total, months = "n/a", "n/a"
            lines.append(f"| {data.label} | {label} | {count} | {total} | {months} |")
        lines.append(
            f"| {data.label} | (txsummary's figures) | {reference.transactions:,} "
            f"| {reference.total_balance} | {len(reference.months)} months |"
        )
    return [*lines, ""]


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
    for name in (TXSUMMARY, DUCKDB, POLARS, NAIVE, LAKE):
        lines.append(
            f"| {labels[name]} | {quoted_ratio(results, name, warm=True)} "
            f"| {quoted_ratio(results, name, warm=False)} |"
        )
    return [*lines, ""]


def _cold_section(cold: ColdStart, cold_load: str) -> list[str]:
    runs = max((len(t) for t in cold.times.values()), default=0)
    lines = [
        "## Import cold start",
        "",
        f'`python -c "..."`, {runs_text(runs)} each, interleaved, after one untimed run each '
        f"(load average when it started: {cold_load}). "
        f"The `{COLD_FIRST_FILE}` row also summarizes the smallest file in the same "
        "process (pandas is imported when the first file starts). "
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
            f"| {_code(label)} | {median(times) * 1000:.0f} | {span(times, 1000, 0)} "
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
    lines += targets_section(results)
    lines += _whole_section(results, repeat)
    lines += _warm_section(results, warm_runs)
    lines += _quoted_section(results)
    lines += _answers_section(results)
    lines += _cold_section(results.cold, results.loads.get("cold", "?"))
    lines += eager_section(COLD_TXSUMMARY)
    lines += bytecode_section(results.bytecode)
    lines += scaling_section(results.scaling)
    lines += hostile_section(results.hostile, results.loads.get("hostile", "?"))
    lines += _size_section(results.size)
    if NOTES.is_file():  # hand-written analysis that survives regenerating this report
        lines += [NOTES.read_text().strip(), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
