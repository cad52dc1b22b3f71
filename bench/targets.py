"""The targets table: each goal, what this run measured, and the verdict."""

from bench.common import (
    DUCKDB,
    DUCKDB_PARQUET,
    FLAT_FROM_ROWS,
    LAKE,
    MAX_COLD_START_RATIO,
    MAX_LAKE_PEER_RATIO,
    MAX_LAKE_RATIO,
    MAX_QUOTED_RATIO,
    MAX_RSS_GROWTH,
    MAX_RSS_MIB,
    MAX_WARM_RATIO,
    MAX_WHOLE_RATIO,
    POLARS,
    ROOT,
    TXSUMMARY,
    DataFile,
    met,
    ratio_text,
)
from bench.hostile import hostile_target_rows
from bench.inproc import WarmResult
from bench.results import Results, quoted_ratio
from bench.startup import (
    COLD_BASELINE,
    COLD_FEATURES,
    COLD_FIRST_FILE,
    COLD_TXSUMMARY,
    ColdStart,
)
from bench.whole import WholeResult


def row(target: str, measured: str, verdict: str) -> str:
    return f"| {target} | {measured} | {verdict} |"


def _whole_rows(whole: dict[str, WholeResult], rows: str, is_target: bool = True) -> list[str]:
    """Whole process against DuckDB and polars (targets on the largest file, else reported)."""
    txs = whole[TXSUMMARY]
    out = []
    for name, display in ((DUCKDB, "DuckDB"), (POLARS, "polars")):
        peer = whole[name]
        target = f"whole process ≤ {MAX_WHOLE_RATIO:.1f}x {display} ({rows})"
        if not is_target:
            target = f"whole process vs {display} ({rows}, reported, no target)"
        if not (txs.ok and peer.ok):
            out.append(row(target, "failed", "**NOT met**" if is_target else "n/a"))
            continue
        ratio = txs.wall / peer.wall
        measured = f"{txs.wall:.2f} s vs {peer.wall:.2f} s: {ratio_text(ratio, MAX_WHOLE_RATIO)}"
        out.append(row(target, measured, met(ratio <= MAX_WHOLE_RATIO) if is_target else "n/a"))
    return out


def _warm_rows(warm: dict[str, WarmResult], rows: str) -> list[str]:
    """Warm per file, against DuckDB and polars (both targets)."""
    out = []
    for name, display in ((DUCKDB, "DuckDB"), (POLARS, "polars")):
        target = f"warm per file ≤ {MAX_WARM_RATIO:.1f}x {display} ({rows})"
        ours, theirs = warm[TXSUMMARY], warm[name]
        if not (ours.ok and theirs.ok):
            out.append(row(target, "failed", "**NOT met**"))
            continue
        ratio = ours.median / theirs.median
        measured = (
            f"{ours.median * 1000:.0f} ms vs {theirs.median * 1000:.0f} ms: "
            f"{ratio_text(ratio, MAX_WARM_RATIO)}"
        )
        out.append(row(target, measured, met(ratio <= MAX_WARM_RATIO)))
    return out


def _rss_rows(results: Results, smallest: DataFile, largest: DataFile, rows: str) -> list[str]:
    """Peak RSS on the largest file, and flat from the smallest to the largest."""
    txs = results.whole[largest][TXSUMMARY]
    if not txs.ok:
        return [row(f"peak RSS ≤ {MAX_RSS_MIB} MiB ({rows})", "txsummary failed", "**NOT met**")]
    out = [
        row(
            f"peak RSS ≤ {MAX_RSS_MIB} MiB ({rows}, whole process)",
            f"{txs.rss_mib:.0f} MiB",
            met(txs.rss_mib <= MAX_RSS_MIB),
        )
    ]
    small = results.whole[smallest][TXSUMMARY]
    if smallest is not largest and small.ok:
        growth = txs.rss_mib / small.rss_mib
        out.append(
            row(
                f"peak RSS flat (≤ {MAX_RSS_GROWTH:.2f}x) from {smallest.rows:,} to {rows}",
                f"{small.rss_mib:.0f} → {txs.rss_mib:.0f} MiB "
                f"({ratio_text(growth, MAX_RSS_GROWTH)})",
                met(growth <= MAX_RSS_GROWTH),
            )
        )
    return out


def _cold_row(cold: ColdStart) -> str:
    ratio = cold.ratio(COLD_TXSUMMARY, COLD_BASELINE)
    return row(
        f"cold start ≤ {MAX_COLD_START_RATIO:.2f}x `{COLD_BASELINE}`",
        "failed" if ratio is None else ratio_text(ratio, MAX_COLD_START_RATIO),
        "**NOT met**" if ratio is None else met(ratio <= MAX_COLD_START_RATIO),
    )


def _quoted_rows(results: Results) -> list[str]:
    """Warm, fully quoted over unquoted; no row without a quoted pair."""
    if results.quoted_pair is None:
        return []
    plain_file, quoted_file = results.quoted_pair
    a, b = results.warm[plain_file][TXSUMMARY], results.warm[quoted_file][TXSUMMARY]
    target = f"fully quoted ≤ {MAX_QUOTED_RATIO:.1f}x unquoted ({plain_file.rows:,} rows, warm)"
    if not (a.ok and b.ok):
        return [row(target, "failed", "**NOT met**")]
    ratio = b.median / a.median
    return [
        row(
            target,
            quoted_ratio(results, TXSUMMARY, warm=True, limit=MAX_QUOTED_RATIO),
            met(ratio <= MAX_QUOTED_RATIO),
        )
    ]


def _lake_warm_row(warm: dict[str, WarmResult], rows: str) -> str:
    """The lake (issue 9), warm: lake on over summary alone."""
    lake, txs = warm[LAKE], warm[TXSUMMARY]
    target = f"lake on ≤ {MAX_LAKE_RATIO:.1f}x summary alone ({rows}, warm)"
    if lake.unavailable is not None:
        return row(target, f"not available: {lake.unavailable}", "not measured")
    if not (lake.ok and txs.ok):
        return row(target, "failed", "**NOT met**")
    ratio = lake.median / txs.median
    measured = (
        f"{lake.median * 1000:.0f} ms vs {txs.median * 1000:.0f} ms: "
        f"{ratio_text(ratio, MAX_LAKE_RATIO)}"
    )
    return row(target, measured, met(ratio <= MAX_LAKE_RATIO))


def _lake_rss_row(whole: dict[str, WholeResult], rows: str) -> str:
    """The lake (issue 9), whole process: peak RSS with the lake on."""
    lake = whole[LAKE]
    target = f"lake on: peak RSS ≤ {MAX_RSS_MIB} MiB ({rows}, whole process)"
    if lake.unavailable is not None:
        return row(target, "not available", "not measured")
    if not lake.ok:
        return row(target, "failed", "**NOT met**")
    return row(target, f"{lake.rss_mib:.0f} MiB", met(lake.rss_mib <= MAX_RSS_MIB))


def _lake_peer_row(whole: dict[str, WholeResult], rows: str) -> str:
    """The lake against what a user would pick instead: DuckDB's COPY to Parquet."""
    lake, peer = whole[LAKE], whole.get(DUCKDB_PARQUET)
    target = f"lake on ≤ {MAX_LAKE_PEER_RATIO:.1f}x DuckDB COPY to Parquet ({rows}, whole process)"
    if peer is None or lake.unavailable is not None or peer.unavailable is not None:
        return row(target, "not available", "not measured")
    if not (lake.ok and peer.ok):
        return row(target, "failed", "**NOT met**")
    ratio = lake.wall / peer.wall
    measured = f"{lake.wall:.2f} s vs {peer.wall:.2f} s: {ratio_text(ratio, MAX_LAKE_PEER_RATIO)}"
    return row(target, measured, met(ratio <= MAX_LAKE_PEER_RATIO))


def _reported_rows(results: Results) -> list[str]:
    """Reported only, no target: cold start with features on, installed size."""
    features = results.cold.median(COLD_FEATURES)
    out = [
        row(
            "cold start with e-mail and lake on (reported)",
            "failed" if features is None else f"{features * 1000:.0f} ms",
            "n/a",
        )
    ]
    first = results.cold.ratio(COLD_FIRST_FILE, COLD_BASELINE)
    if first is not None:
        out.append(
            row(
                f"`{COLD_FIRST_FILE}` / `{COLD_BASELINE}` (reported)",
                f"{(results.cold.median(COLD_FIRST_FILE) or 0) * 1000:.0f} ms: {first:.2f}x",
                "n/a",
            )
        )
    if results.size is not None:
        out.append(
            row(
                f"installed size of `{results.size.requirements.relative_to(ROOT)}` (reported)",
                f"{results.size.total_bytes / 1e6:.0f} MB",
                "n/a",
            )
        )
    return out


def targets_section(results: Results) -> list[str]:
    plain = [d for d in results.files if not d.quoted]
    largest = max(plain, key=lambda d: d.rows)
    smallest = min(
        (d for d in plain if d.rows >= FLAT_FROM_ROWS), key=lambda d: d.rows, default=largest
    )
    rows = f"{largest.rows:,} rows"
    whole, warm = results.whole[largest], results.warm[largest]
    smaller = [
        line
        for d in sorted(plain, key=lambda d: -d.rows)
        if d is not largest
        for line in _whole_rows(results.whole[d], f"{d.rows:,} rows", is_target=False)
    ]
    return [
        "## Targets",
        "",
        "The project's speed and memory goals, as measured in this run.",
        "",
        "| Target | Measured | Verdict |",
        "|---|---|---|",
        *_whole_rows(whole, rows),
        *smaller,
        *_warm_rows(warm, rows),
        *_rss_rows(results, smallest, largest, rows),
        _cold_row(results.cold),
        *_quoted_rows(results),
        _lake_warm_row(warm, rows),
        _lake_rss_row(whole, rows),
        _lake_peer_row(whole, rows),
        *hostile_target_rows(results.hostile),
        *_reported_rows(results),
        "",
    ]
