"""``make bench``: txsummary against its peers, on generated files, with the targets checked.

    python -m bench.run --write docs/BENCHMARKS.md     (what ``make bench`` runs, from the root)
    python -m bench.run --quick       (smoke test: 200,000 rows, one repeat, a minute or two)

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
6. Cold start on a read-only package with and without precompiled bytecode (bench/bytecode.py),
   and what the handler's import pulls in eagerly.
7. The CLI pinned to 1 and 2 CPUs, and a Lambda cost model from it (bench/scaling.py).
8. Invalid-heavy files against a valid one of as many lines: the time to a verdict and peak
   RSS (bench/hostile.py; ``--hostile-rows``, ``--hostile-gzip-lines``, ``--hostile-repeat``).
The lake variant (bench/peers/txsummary_inproc.py ``--lake`` / ``load_lake``) joins 1 and 2
when ``txsummary.aws.lake`` is importable, and is reported as not available otherwise.
bench/notes.md, when present, is appended to the report (analysis that survives a rerun).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from bench.bytecode import bench_bytecode
from bench.common import DEFAULT_SEED, RUNTIME_REQUIREMENTS, DataFile, T, generate, load_average
from bench.hostile import bench_hostile
from bench.inproc import bench_warm
from bench.report import report
from bench.results import Results
from bench.scaling import bench_scaling
from bench.size import installed_size
from bench.startup import cold_start
from bench.whole import bench_whole, whole_peers

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
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000, 10_000_000])
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
        "--scaling-runs", type=int, default=3, help="runs per case pinned to 1 and 2 CPUs (0: none)"
    )
    parser.add_argument(
        "--hostile-rows",
        type=int,
        default=3_000_000,
        help="lines of the invalid-heavy files and their valid file (0: none)",
    )
    parser.add_argument(
        "--hostile-gzip-lines", type=int, default=60_000_000, help="one-field lines (0: none)"
    )
    parser.add_argument("--hostile-repeat", type=int, default=3, help="runs per invalid file")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 200,000 rows (also quoted), 1 run each, 3 cold starts",
    )
    parser.add_argument("--write", type=Path, help="write the Markdown report here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.quoted_rows = [200_000], 200_000
        args.repeat, args.warm_runs, args.cold_runs, args.scaling_runs = 1, 1, 3, 1
        args.hostile_rows, args.hostile_gzip_lines, args.hostile_repeat = 200_000, 4_000_000, 1
    if min(args.repeat, args.warm_runs, args.cold_runs, args.hostile_repeat, *args.rows) < 1:
        parser.error(
            "--rows, --repeat, --warm-runs, --cold-runs, --hostile-repeat must be positive"
        )
    if min(args.quoted_rows, args.hostile_rows, args.hostile_gzip_lines) < 0:
        parser.error("--quoted-rows and the --hostile- sizes must not be negative")

    command = shlex.join(
        [os.path.relpath(sys.executable), "-m", "bench.run", *sys.argv[1:]]
        if argv is None
        else ["python", "-m", "bench.run", *argv]
    )
    load_start = load_average()
    files, quoted_pair = _files(args.rows, args.quoted_rows, args.seed)
    peers = whole_peers()
    plain = [d for d in files if not d.quoted]
    smallest = min(plain, key=lambda d: d.rows)
    largest = max(plain, key=lambda d: d.rows)
    loads: dict[str, str] = {}

    def noting_load(section: str, measure: Callable[[], T]) -> T:
        loads[section] = load_average()
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
        cold=noting_load("cold", lambda: cold_start(args.cold_runs, smallest.path)),
        size=None if args.no_size else installed_size(RUNTIME_REQUIREMENTS),
        quoted_pair=quoted_pair,
        loads=loads,
        bytecode=noting_load("bytecode", lambda: bench_bytecode(smallest, args.cold_runs)),
        scaling=None
        if not args.scaling_runs or smallest is largest
        else noting_load("scaling", lambda: bench_scaling(smallest, largest, args.scaling_runs)),
        hostile=None
        if not args.hostile_rows
        else noting_load(
            "hostile",
            lambda: bench_hostile(
                args.hostile_rows, args.hostile_gzip_lines, args.hostile_repeat, seed=args.seed
            ),
        ),
    )
    text = report(
        results,
        repeat=args.repeat,
        warm_runs=args.warm_runs,
        seed=args.seed,
        command=command,
        load=(load_start, load_average()),
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
