"""Cores, and what a file costs: the CLI pinned to 1 and then 2 CPUs (``taskset``), and a
Lambda cost model built from those local figures.

The fast path takes its worker count from the CPUs the process may use, so pinning the process
is all it takes to measure 1 against 2 workers. The smallest file gives the start-up (the
interpreter, the imports, a file of negligible work); the largest, the rate per row.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import DataFile, Run, load_average, median, run_process

# AWS Lambda, x86, on-demand (us-east-1 public price list).
PRICE_PER_GB_SECOND = 0.0000166667
PRICE_PER_REQUEST = 0.20 / 1_000_000
MB_PER_VCPU = 1769  # Lambda: a full vCPU at 1,769 MB, CPU share in proportion to memory
MEMORY_SIZES_MB = (1024, 1536, 1769, 2048, 3008, 4096, 5120, 6144, 7168, 8192, 9216, 10240)
MODEL_ROWS = (1_000_000, 100_000_000)
MAX_VCPUS = 6


@dataclass
class Scaling:
    small: DataFile
    large: DataFile
    runs: dict[tuple[int, int], list[Run]] = field(default_factory=dict)  # (cpus, rows) -> runs
    skipped: str | None = None
    load: str = "?"  # when it started

    def wall(self, cpus: int, data: DataFile) -> float | None:
        runs = self.runs.get((cpus, data.rows))
        return (
            median(r.wall for r in runs) if runs and all(r.returncode == 0 for r in runs) else None
        )

    def cpu(self, cpus: int, data: DataFile) -> float | None:
        runs = self.runs.get((cpus, data.rows))
        return median(r.cpu for r in runs) if runs else None


@dataclass(frozen=True)
class Model:
    """time(rows, vCPUs) = start-up + rows / (rate * gain(vCPUs)), fitted on this machine.

    From CPU time (user + system), which other work on a shared machine inflates far less than
    wall time: the start-up is the smallest file's CPU time, the rate the rows per CPU-second
    between the two files. Only the gain of a second CPU needs wall time."""

    startup_s: float  # CPU seconds of the smallest file on 1 CPU
    rows_per_cpu_s: float  # rows per CPU-second, start-up taken off
    measured_speedup_2: float  # wall time of the work on 1 CPU over that on 2
    speedup_2: float  # the same, held within [1, 2] for the model

    def gain(self, vcpus: float) -> float:
        """Throughput against one vCPU: in proportion below one; above, each further vCPU adds
        what the second did here (measured up to 2; beyond, an upper bound)."""
        if vcpus <= 1:
            return vcpus
        return 1 + (min(vcpus, MAX_VCPUS) - 1) * (self.speedup_2 - 1)

    def seconds(self, rows: int, memory_mb: int) -> float:
        vcpus = memory_mb / MB_PER_VCPU
        return self.startup_s / min(vcpus, 1.0) + rows / (self.rows_per_cpu_s * self.gain(vcpus))

    def cost(self, rows: int, memory_mb: int) -> float:
        gb = memory_mb / 1024
        return gb * self.seconds(rows, memory_mb) * PRICE_PER_GB_SECOND + PRICE_PER_REQUEST


def _pinned(cpus: list[int]) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, cpus))]


def bench_scaling(small: DataFile, large: DataFile, repeat: int) -> Scaling:
    result = Scaling(small, large)
    allowed = sorted(os.sched_getaffinity(0))
    if shutil.which("taskset") is None or len(allowed) < 2:
        result.skipped = "needs taskset and 2 CPUs"
        return result
    cli = str(Path(sys.executable).parent / "txsummary")
    print(f"== scaling: 1 and 2 CPUs (taskset), {small.label} and {large.label}", flush=True)
    result.load = load_average()
    cases = [(n, data) for data in (small, large) for n in (1, 2)]
    for round_no in range(repeat):
        shift = round_no % len(cases)
        for cpus, data in cases[shift:] + cases[:shift]:
            argv = [*_pinned(allowed[:cpus]), cli, "summarize", str(data.path), "--format", "json"]
            run = run_process(argv)
            result.runs.setdefault((cpus, data.rows), []).append(run)
            print(
                f"   {cpus} CPU {data.rows:>11,} rows {run.wall:7.2f} s wall {run.cpu:6.2f} s CPU",
                flush=True,
            )
    return result


def model_of(scaling: Scaling) -> Model | None:
    small, large = scaling.small, scaling.large
    walls = [scaling.wall(c, d) for c in (1, 2) for d in (small, large)]
    if scaling.skipped is not None or any(w is None for w in walls) or large.rows <= small.rows:
        return None
    small_1, large_1, small_2, large_2 = (w or 0.0 for w in walls)
    work_1, work_2 = large_1 - small_1, large_2 - small_2
    cpu_small, cpu_large = scaling.cpu(1, small) or 0.0, scaling.cpu(1, large) or 0.0
    if work_1 <= 0 or work_2 <= 0 or cpu_large <= cpu_small:
        return None
    measured = work_1 / work_2
    rate = (large.rows - small.rows) / (cpu_large - cpu_small)
    return Model(cpu_small, rate, measured, min(max(measured, 1.0), 2.0))


def scaling_section(scaling: Scaling | None) -> list[str]:
    if scaling is None:
        return []
    lines = ["## Cores, and what a file costs", ""]
    if scaling.skipped is not None:
        return [*lines, f"Not measured: {scaling.skipped}.", ""]
    lines += [
        "`taskset -c 0` and `taskset -c 0,1` around `txsummary summarize PATH --format json`: "
        "the fast path takes one worker per CPU the process may use, so this is 1 against 2 "
        f"workers. Medians, interleaved (load average when it started: {scaling.load}).",
        "",
        "| CPUs | File | Wall (s) | CPU (s) |",
        "|---:|---|---:|---:|",
    ]
    for data in (scaling.small, scaling.large):
        for cpus in (1, 2):
            wall, cpu = scaling.wall(cpus, data), scaling.cpu(cpus, data)
            shown = "failed" if wall is None else f"{wall:.2f}"
            lines.append(f"| {cpus} | {data.label} | {shown} | {cpu or 0:.2f} |")
    model = model_of(scaling)
    if model is None:
        return [*lines, "", "No model: a run failed or the files are too close in size.", ""]
    lines += [
        "",
        f"Start-up (CPU time on 1 CPU, {scaling.small.label}): **{model.startup_s:.2f} s**. "
        f"Rate, start-up taken off: **{model.rows_per_cpu_s / 1e6:.2f} million rows per "
        f"vCPU-second** (rows over CPU time on 1 CPU). 2 CPUs against 1 on the work, wall "
        f"time: **{model.measured_speedup_2:.2f}x**"
        + (
            ""
            if model.speedup_2 == model.measured_speedup_2
            else f", taken as {model.speedup_2:.2f}x in the model (the second CPU was not "
            "free in this run: see the load average)"
        )
        + ".",
        "",
        "**A model built from these local measurements, not measured on Lambda.** Lambda gives "
        f"a full vCPU at {MB_PER_VCPU:,} MB and CPU in proportion to memory, up to "
        f"{MAX_VCPUS} vCPUs at 10,240 MB. Time = start-up / min(vCPUs, 1) + rows / (rate x "
        "gain), gain = vCPUs below one, and above one each further vCPU adding what the second "
        "did here (beyond 2 vCPUs that is an upper bound: not measured, and the reading and "
        "in-order settling on one thread limit it). Not modelled: the S3 read, Lambda's own "
        "init, the store, the e-mail. Cost = GB x seconds x "
        f"${PRICE_PER_GB_SECOND} + ${PRICE_PER_REQUEST:.7f} a request (x86).",
        "",
        "| Memory (MB) | vCPUs | "
        + " | ".join(f"{rows:,} rows: time (s) | cost ($)" for rows in MODEL_ROWS)
        + " |",
        "|---:|---:|" + "---:|---:|" * len(MODEL_ROWS),
    ]
    for memory in MEMORY_SIZES_MB:
        cells = [
            f"{model.seconds(rows, memory):.2f} | {model.cost(rows, memory):.7f}"
            for rows in MODEL_ROWS
        ]
        lines.append(f"| {memory:,} | {memory / MB_PER_VCPU:.2f} | " + " | ".join(cells) + " |")
    for rows in MODEL_ROWS:
        least = min(model.cost(rows, m) for m in MEMORY_SIZES_MB)
        # Below one vCPU the cost is flat (CPU-bound): of the sizes as cheap, the fastest.
        cheapest = max(m for m in MEMORY_SIZES_MB if model.cost(rows, m) <= least * 1.005)
        lines.append("")
        lines.append(
            f"Cheapest for {rows:,} rows (the fastest of those within 0.5%): {cheapest:,} MB "
            f"({model.seconds(rows, cheapest):.2f} s, ${model.cost(rows, cheapest):.7f})."
        )
    return [*lines, ""]
