"""Invalid-heavy files against a valid one of as many lines: time to a verdict and peak RSS.

Each case is summarized in a fresh process (``summarize_stream``, default chunks and workers),
the cases interleaved round-robin ``--repeat`` times; the table gives medians and each case's
ratio to the valid file. Cases, all of ``--rows`` lines unless said:

- valid: ``bench/generate.py``'s file;
- all amounts invalid: each amount prefixed with ``x``;
- every other date invalid: each odd row's date is ``2/30``;
- all Ids repeated: every Id is ``1``;
- one-field lines (gzip): ``--gzip-lines`` lines of ``1`` (a 120 KB gzip at 6e7 lines), against
  the valid file's time scaled to as many lines (marked "scaled");
- unless ``--no-more``: generate.py's fully quoted file; every field quoted and each amount
  invalid; a stray quote in every row's amount (malformed CSV); a byte that is not UTF-8 in
  every row.

The target (checked in ``bench.run``'s report): any invalid-heavy file gets its verdict within
``MAX_INVALID_RATIO`` times the time of a valid file of as many lines, within ``MAX_RSS_MIB``.

    python -m bench.hostile [--rows 3000000] [--gzip-lines 60000000] [--repeat 3]   (alone)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import (
    DEFAULT_SEED,
    MAX_INVALID_RATIO,
    MAX_RSS_MIB,
    generate,
    met,
    ratio_text,
    runs_text,
)

HERE = Path(__file__).resolve().parent
VALID = "valid"

PROBE = """
import sys, time
from txsummary.core.errors import InvalidFileError
from txsummary.core.summarize import summarize_stream
start = time.perf_counter()
with open(sys.argv[1], "rb") as stream:
    try:
        summarize_stream(stream, sys.argv[1])
        verdict = "accepted"
    except InvalidFileError as exc:
        verdict = f"rejected, {exc.error_count} errors"
seconds = time.perf_counter() - start
with open("/proc/self/status") as status:  # the peak of this process alone (kB)
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
print(seconds, peak, verdict)
"""


def _rewrite(valid: Path, out: Path, change: Callable[[int, list[bytes]], None]) -> Path:
    """The valid file with ``change(row_index, fields)`` applied to every row."""
    if out.is_file():
        return out
    lines = valid.read_bytes().split(b"\n")
    body = []
    for i, line in enumerate(lines[1:]):
        if not line:
            continue
        fields = line.split(b",")
        change(i, fields)
        body.append(b",".join(fields))
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(lines[0] + b"\n" + b"\n".join(body) + b"\n")
    tmp.replace(out)
    return out


def _bad_amount(i: int, fields: list[bytes]) -> None:
    fields[2] = b"x" + fields[2]


def _bad_date(i: int, fields: list[bytes]) -> None:
    if i % 2:
        fields[1] = b"2/30"


def _same_id(i: int, fields: list[bytes]) -> None:
    fields[0] = b"1"


def _quoted_bad_amount(i: int, fields: list[bytes]) -> None:
    fields[:] = [b'"' + f + b'"' for f in fields]
    fields[2] = b'"x' + fields[2][1:]


def _stray_quote(i: int, fields: list[bytes]) -> None:
    fields[2] = b'1"' + fields[2]  # a quote inside an unquoted field: malformed


def _not_utf8(i: int, fields: list[bytes]) -> None:
    fields[2] = b"\xff" + fields[2]


def _one_field_gzip(out: Path, lines: int) -> Path:
    if out.is_file():
        return out
    block = b"1\n" * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    tmp = out.with_suffix(".tmp")
    with tmp.open("wb") as sink:
        sink.write(deflate.compress(b"Id,Date,Transaction\n"))
        left = lines
        while left:
            take = min(left, 1 << 20)
            sink.write(deflate.compress(block[: 2 * take]))
            left -= take
        sink.write(deflate.flush())
    tmp.replace(out)
    return out


def _run(path: Path) -> tuple[float, float, int, str]:
    """(wall seconds inside the process, CPU seconds of the whole process, peak RSS in bytes,
    verdict). The peak is the child's VmHWM: ru_maxrss would count the parent's before exec."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent / "lambda")])}
    child = subprocess.Popen(
        [sys.executable, "-c", PROBE, str(path)], stdout=subprocess.PIPE, env=env
    )
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise RuntimeError(f"{path}: exit status {status}")
    seconds, peak, verdict = output.split(" ", 2)
    return float(seconds), usage.ru_utime + usage.ru_stime, int(peak) * 1024, verdict.strip()


@dataclass(frozen=True)
class Case:
    name: str
    lines: int
    wall: float  # median, seconds inside the process
    cpu: float  # median, seconds of the whole process
    peak_mib: float  # the largest of the runs
    ratio: float  # wall over the valid file's, scaled to as many lines
    cpu_ratio: float
    scaled: bool  # the valid file's figures scaled to this case's lines
    verdict: str
    valid: bool  # a valid file: reported, not a case of the target


@dataclass(frozen=True)
class Hostile:
    rows: int
    repeat: int
    cases: list[Case]

    @property
    def base(self) -> Case:
        return next(c for c in self.cases if c.name == VALID)


def _cases(rows: int, gzip_lines: int, seed: int, out: Path, more: bool) -> dict[str, Path]:
    valid = generate(rows, seed).path
    stem = valid.stem
    cases = {
        VALID: valid,
        "all amounts invalid": _rewrite(valid, out / f"{stem}-bad-amounts.csv", _bad_amount),
        "every other date invalid": _rewrite(valid, out / f"{stem}-bad-dates.csv", _bad_date),
        "all Ids repeated": _rewrite(valid, out / f"{stem}-same-id.csv", _same_id),
    }
    if more:
        cases["valid, every field quoted"] = generate(rows, seed, quoted=True).path
        cases["quoted, amounts invalid"] = _rewrite(
            valid, out / f"{stem}-quoted-bad-amounts.csv", _quoted_bad_amount
        )
        cases["a stray quote in every row"] = _rewrite(
            valid, out / f"{stem}-stray-quote.csv", _stray_quote
        )
        cases["a byte not UTF-8 in every row"] = _rewrite(
            valid, out / f"{stem}-not-utf8.csv", _not_utf8
        )
    if gzip_lines:
        name = f"one-field-{gzip_lines}.csv.gz"
        cases["one-field lines (gzip)"] = _one_field_gzip(out / name, gzip_lines)
    return cases


def bench_hostile(
    rows: int,
    gzip_lines: int,
    repeat: int,
    *,
    seed: int = DEFAULT_SEED,
    more: bool = True,
    out_dir: Path = HERE / "data",
) -> Hostile:
    """Every case in a fresh process, ``repeat`` rounds, interleaved; medians."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = _cases(rows, gzip_lines, seed, out_dir, more)
    runs: dict[str, list[tuple[float, float, int, str]]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, path in cases.items():
            runs[name].append(_run(path))
            time.sleep(0.2)
    base = statistics.median(r[0] for r in runs[VALID])
    base_cpu = statistics.median(r[1] for r in runs[VALID])
    table = []
    for name, results in runs.items():
        wall = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        lines = gzip_lines if name.startswith("one-field") else rows
        scale = lines / rows
        table.append(
            Case(
                name=name,
                lines=lines,
                wall=wall,
                cpu=cpu,
                peak_mib=max(r[2] for r in results) / (1 << 20),
                ratio=wall / (base * scale),
                cpu_ratio=cpu / (base_cpu * scale),
                scaled=scale != 1,
                verdict=results[0][3],
                valid=name.startswith(VALID),
            )
        )
    return Hostile(rows, repeat, table)


def hostile_table(hostile: Hostile) -> list[str]:
    out = [
        "| Case | Lines | Median wall (s) | Median CPU (s) | Peak RSS (MiB) | Wall / valid "
        "| CPU / valid | Verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in hostile.cases:
        mark = " (scaled)" if c.scaled else ""
        out.append(
            f"| {c.name} | {c.lines:,} | {c.wall:.2f} | {c.cpu:.2f} | {c.peak_mib:.0f} "
            f"| {c.ratio:.2f}x{mark} | {c.cpu_ratio:.2f}x{mark} | {c.verdict} |"
        )
    return out


def hostile_section(hostile: Hostile | None, load: str) -> list[str]:
    if hostile is None:
        return []
    return [
        "## Invalid files: time to a verdict",
        "",
        f"The bound: any file gets its verdict within {MAX_INVALID_RATIO:.1f}x the time of a "
        f"valid file with the same number of lines, within {MAX_RSS_MIB} MiB peak. "
        f"`bench/hostile.py`: each case summarized in a fresh process (`summarize_stream`, the "
        f"default chunks and workers), {runs_text(hostile.repeat)} each, interleaved "
        "round-robin; medians. Wall is `perf_counter` inside the process, CPU the whole "
        "process's (`os.wait4`), peak RSS the child's `VmHWM` (the largest of the runs). The "
        f"files are `bench/generate.py`'s {hostile.rows:,} rows, rewritten: each amount "
        "prefixed with `x`; each odd row's date `2/30`; every Id `1`; every field quoted and "
        "each amount invalid; a stray quote in every row's amount (malformed CSV); a `0xff` "
        "byte in every row. The one-field lines are `1` per line, gzipped, against the "
        "valid file's time scaled to as many lines (marked scaled). The valid rows are "
        f"reported, not targets (load average when it started: {load}).",
        "",
        *hostile_table(hostile),
        "",
    ]


def hostile_target_rows(hostile: Hostile | None) -> list[str]:
    """One row per invalid-heavy case: both the time and the memory bound."""
    if hostile is None:
        return []
    base, out = hostile.base, []
    for c in hostile.cases:
        if c.valid:
            continue
        against = (
            f"{base.wall * c.lines / base.lines:.2f} s scaled"
            if c.scaled
            else (f"{base.wall:.2f} s")
        )
        fast, small = c.ratio <= MAX_INVALID_RATIO, c.peak_mib <= MAX_RSS_MIB
        verdict = met(fast and small)
        if not (fast and small):
            verdict += " (time)" if small else " (memory)" if fast else " (time, memory)"
        out.append(
            f"| invalid file, {c.name} ({c.lines:,} lines): verdict ≤ {MAX_INVALID_RATIO:.1f}x "
            f"valid, ≤ {MAX_RSS_MIB} MiB | {c.wall:.2f} s vs {against}: "
            f"{ratio_text(c.ratio, MAX_INVALID_RATIO)}, {c.peak_mib:.0f} MiB | {verdict} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--gzip-lines", type=int, default=60_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out-dir", type=Path, default=HERE / "data")
    parser.add_argument(
        "--no-more", action="store_true", help="skip the quoted, stray-quote and not-UTF-8 files"
    )
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()
    hostile = bench_hostile(
        args.rows,
        args.gzip_lines,
        args.repeat,
        seed=args.seed,
        more=not args.no_more,
        out_dir=args.out_dir,
    )
    print(f"{args.rows:,} rows, {runs_text(args.repeat)} each, interleaved; medians\n")
    print("\n".join(hostile_table(hostile)))
    if args.json:
        args.json.write_text(json.dumps([asdict(c) for c in hostile.cases], indent=2))


if __name__ == "__main__":
    main()
