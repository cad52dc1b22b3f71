"""Everything one run measured, handed to the report."""

from __future__ import annotations

from dataclasses import dataclass

from bench.bytecode import Bytecode
from bench.common import DataFile, ratio_text
from bench.hostile import Hostile
from bench.inproc import WarmResult
from bench.scaling import Scaling
from bench.size import InstalledSize
from bench.startup import ColdStart
from bench.whole import WholeResult


@dataclass
class Results:
    files: list[DataFile]
    whole: dict[DataFile, dict[str, WholeResult]]
    warm: dict[DataFile, dict[str, WarmResult]]
    cold: ColdStart
    size: InstalledSize | None
    quoted_pair: tuple[DataFile, DataFile] | None  # (unquoted, quoted) of the same rows
    loads: dict[str, str]  # load averages when each section started, by section
    scaling: Scaling | None = None
    bytecode: Bytecode | None = None
    hostile: Hostile | None = None  # invalid-heavy files: time to a verdict


def quoted_ratio(results: Results, name: str, *, warm: bool, limit: float | None = None) -> str:
    if results.quoted_pair is None:
        return "n/a"
    plain, quoted = results.quoted_pair
    if warm:
        a, b = results.warm[plain].get(name), results.warm[quoted].get(name)
        if a is None or b is None or not (a.ok and b.ok):
            return "n/a"
        ratio = ratio_text(b.median / a.median, limit)
        return f"{a.median * 1000:.0f} → {b.median * 1000:.0f} ms ({ratio})"
    c, d = results.whole[plain].get(name), results.whole[quoted].get(name)
    if c is None or d is None or not (c.ok and d.ok):
        return "n/a"
    return f"{c.wall:.2f} → {d.wall:.2f} s ({ratio_text(d.wall / c.wall, limit)})"
