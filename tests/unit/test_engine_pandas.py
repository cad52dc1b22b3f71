"""pandas is the engine: both paths aggregate through core.aggregate.aggregate, and on_rows gets
each chunk's valid rows as a DataFrame."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.unit.conftest import rejection, summarize_bytes
from txsummary.core import aggregate as engine
from txsummary.core.model import Partial
from txsummary.core.rules import DateCache
from txsummary.core.summarize import Path

HEADER = b"Id,Date,Transaction\n"


class AggregationSpy:
    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []
        self.real = engine.aggregate

    def __call__(self, rows: pd.DataFrame, cache: DateCache) -> Partial:
        self.frames.append(rows)
        return self.real(rows, cache)


@pytest.mark.parametrize("path", ["fast", "careful"])
def test_both_paths_aggregate_with_pandas(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a spy on the one aggregation function
    spy = AggregationSpy()
    monkeypatch.setattr(engine, "aggregate", spy)
    rows = b"".join(b"%d,7/%d,%+d.25\n" % (i, i % 28 + 1, i - 50) for i in range(100))
    # When a file is read on one path only
    summary = summarize_bytes(HEADER + rows, path=path, chunk_size=512)
    # Then every row went through it, as pandas DataFrames of the same shape
    assert sum(len(f) for f in spy.frames) == summary.totals.transactions == 100
    for frame in spy.frames:
        assert isinstance(frame, pd.DataFrame)
        assert list(frame.columns) == ["date", "amount_cents"]
        assert isinstance(frame["date"].dtype, pd.CategoricalDtype)


def _collect(data: bytes, **kwargs: Any) -> list[pd.DataFrame]:
    frames: list[pd.DataFrame] = []
    summarize_bytes(data, on_rows=frames.append, **kwargs)
    return frames


@pytest.mark.parametrize("path", ["mixed", "fast", "careful"])
def test_on_rows_gets_the_valid_rows_with_their_lines(path: Path) -> None:
    # Given a file with a blank line and dates with a year
    data = HEADER + b"0,7/15/2024,+60.5\n\n1,2024-07-28,-10.3\n2,8/2/2024,-20.46\n"
    if path == "fast":
        data = data.replace(b"\n\n", b"\n")
    # When it is summarized with a rows hook
    frames = _collect(data, path=path)
    rows = pd.concat(frames, ignore_index=True)
    # Then the hook saw each valid row once, with the contract's columns and values
    assert list(rows.columns) == list(engine.ROW_COLUMNS)
    lines = [2, 3, 4] if path == "fast" else [2, 4, 5]
    assert rows["line"].tolist() == lines
    assert rows["id"].tolist() == ["0", "1", "2"]
    assert rows["date"].tolist() == ["7/15/2024", "2024-07-28", "8/2/2024"]
    assert rows["year"].tolist() == [2024, 2024, 2024]
    assert rows["month"].tolist() == [7, 7, 8]
    assert rows["day"].tolist() == [15, 28, 2]
    assert rows["amount_cents"].tolist() == [6050, -1030, -2046]


def test_on_rows_year_is_missing_for_year_less_dates_and_rows_are_trimmed() -> None:
    frames = _collect(HEADER + b" 0 , 7/15 , +1 \n1,2/29,-2\n")
    rows = pd.concat(frames, ignore_index=True)
    assert rows["year"].isna().all()
    assert rows["date"].tolist() == ["7/15", "2/29"]
    assert rows["id"].tolist() == ["0", "1"]


def test_on_rows_leaves_out_invalid_rows_and_the_file_is_still_rejected() -> None:
    frames: list[pd.DataFrame] = []
    error = rejection(HEADER + b"0,7/15,+1\n1,7/16,bad\n2,7/17,+2\n", on_rows=frames.append)
    assert [e.line for e in error.errors] == [3]
    assert pd.concat(frames)["line"].tolist() == [2, 4]


def test_rows_frames_are_not_built_without_a_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a rows-frame builder that must not be called
    def forbidden(*args: object) -> pd.DataFrame:
        raise AssertionError("rows frame built without on_rows")

    monkeypatch.setattr(engine, "rows_frame", forbidden)
    # Then both paths summarize without building one
    data = HEADER + b"0,7/15,+1\n1,7/16, +2\n"
    assert summarize_bytes(data).totals.transactions == 2
    assert summarize_bytes(data, path="careful").totals.transactions == 2
