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
- with ``--more``: generate.py's fully quoted file; every field quoted and each amount
  invalid; a stray quote in every row's amount (malformed CSV); a byte that is not UTF-8 in
  every row.

    python bench/hostile.py [--rows 3000000] [--gzip-lines 60000000] [--repeat 3]
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
from pathlib import Path

HERE = Path(__file__).resolve().parent

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


def _generate(rows: int, out_dir: Path, *, quoted: bool = False) -> Path:
    """bench/generate.py in its own process (it prints the file's path last)."""
    argv = [sys.executable, str(HERE / "generate.py"), "--rows", str(rows)]
    argv += ["--out-dir", str(out_dir), *(["--quoted"] if quoted else [])]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return Path(done.stdout.strip().splitlines()[-1])


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--gzip-lines", type=int, default=60_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out-dir", type=Path, default=HERE / "data")
    parser.add_argument(
        "--more", action="store_true", help="also quoted, stray-quote and not-UTF-8 files"
    )
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    valid = _generate(args.rows, out)
    stem = valid.stem
    cases = {
        "valid": valid,
        "all amounts invalid": _rewrite(valid, out / f"{stem}-bad-amounts.csv", _bad_amount),
        "every other date invalid": _rewrite(valid, out / f"{stem}-bad-dates.csv", _bad_date),
        "all Ids repeated": _rewrite(valid, out / f"{stem}-same-id.csv", _same_id),
    }
    if args.more:
        cases["valid, every field quoted"] = _generate(args.rows, out, quoted=True)
        cases["quoted, amounts invalid"] = _rewrite(
            valid, out / f"{stem}-quoted-bad-amounts.csv", _quoted_bad_amount
        )
        cases["a stray quote in every row"] = _rewrite(
            valid, out / f"{stem}-stray-quote.csv", _stray_quote
        )
        cases["a byte not UTF-8 in every row"] = _rewrite(
            valid, out / f"{stem}-not-utf8.csv", _not_utf8
        )
    if args.gzip_lines:
        name = f"one-field-{args.gzip_lines}.csv.gz"
        cases["one-field lines (gzip)"] = _one_field_gzip(out / name, args.gzip_lines)
    runs: dict[str, list[tuple[float, float, int, str]]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, path in cases.items():
            runs[name].append(_run(path))
            time.sleep(0.2)
    base = statistics.median(r[0] for r in runs["valid"])
    base_cpu = statistics.median(r[1] for r in runs["valid"])
    print(f"{args.rows:,} rows, {args.repeat} runs each, interleaved; medians\n")
    print(
        "| Case | Lines | Wall (s) | CPU (s) | Peak RSS (MiB) | Wall ratio | CPU ratio | Verdict |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    table = {}
    for name, results in runs.items():
        wall = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        peak = max(r[2] for r in results) / (1 << 20)
        lines = args.gzip_lines if name.startswith("one-field") else args.rows
        scale = lines / args.rows
        mark = " (scaled)" if scale != 1 else ""
        ratio, cpu_ratio = wall / (base * scale), cpu / (base_cpu * scale)
        table[name] = {"lines": lines, "wall": wall, "cpu": cpu, "peak_mib": peak,
                       "ratio": ratio, "cpu_ratio": cpu_ratio}  # fmt: skip
        print(f"| {name} | {lines:,} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | "
              f"{ratio:.2f}{mark} | {cpu_ratio:.2f}{mark} | {results[0][3]} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
