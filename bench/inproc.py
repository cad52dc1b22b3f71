"""Warm, per file: each in-process peer in a long-lived worker (bench/peers/warm.py)."""

import contextlib
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.common import (
    DUCKDB,
    LAKE,
    PEERS,
    POLARS,
    TXSUMMARY,
    Answer,
    DataFile,
    median,
    parse_answer,
)

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
        return median(self.seconds)

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
