"""The transactions lake on moto's S3: Parquet exact to the cent, deterministic keys, nothing
from a rejected file."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.conftest import REGION
from tests.integration.effects_support import LAKE_BUCKET
from txsummary.aws import lake as lake_module
from txsummary.aws.lake import SCHEMA, LakeWriter, lake_key
from txsummary.contract import GLUE_COLUMNS
from txsummary.core.errors import InvalidFileError
from txsummary.core.summarize import summarize_stream
from txsummary_local import resources

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DAY = date(2026, 3, 14)
MAX_CENTS = 10**18 - 1  # decimal(18,2)'s range


@pytest.fixture
def lake_s3(aws: None) -> S3Client:
    client: S3Client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=LAKE_BUCKET)
    return client


def lake_objects(client: S3Client) -> list[str]:
    return resources.lake_objects(client, LAKE_BUCKET)


def frame(cents: list[int], *, first_line: int = 2, year: int | None = 2025) -> pd.DataFrame:
    """A frame shaped like summarize_stream's on_rows frames (CONTRACTS.md)."""
    n = len(cents)
    return pd.DataFrame(
        {
            "line": np.arange(first_line, first_line + n, dtype=np.int64),
            "id": [str(i) for i in range(first_line, first_line + n)],
            "date": ["3/1/2025" if year else "3/1"] * n,
            "year": pd.array([year] * n, dtype="Int64"),
            "month": np.full(n, 3, dtype=np.int8),
            "day": np.full(n, 1, dtype=np.int8),
            "amount_cents": np.array(cents, dtype=np.int64),
        }
    )


def writer(
    client: S3Client, tmp_path: Path, version: str = "v1", *, background: bool = False
) -> LakeWriter:
    return LakeWriter(
        client,
        LAKE_BUCKET,
        source_bucket="uploads",
        source_key="in/march.csv",
        source_version=version,
        upload_date=DAY,
        directory=tmp_path,
        background=background,
    )


def read_back(client: S3Client, key: str) -> tuple[pd.DataFrame, pq.ParquetFile]:
    body = client.get_object(Bucket=LAKE_BUCKET, Key=key)["Body"].read()
    return pd.read_parquet(io.BytesIO(body)), pq.ParquetFile(io.BytesIO(body))


def test_rows_round_trip_exactly_one_row_group_per_chunk(lake_s3: S3Client, tmp_path: Path) -> None:
    # Given two chunks of rows, with extreme amounts
    chunks = [[6050, -1030, MAX_CENTS], [-MAX_CENTS, 1, -1, 0]]
    with writer(lake_s3, tmp_path) as lake:
        first = frame(chunks[0])
        lake(first)
        lake(frame(chunks[1], first_line=5))
        # When it is committed
        key = lake.commit()
    # Then one object holds every row, a row group per chunk, to the cent
    assert lake_objects(lake_s3) == [key]
    assert key.startswith("transactions/upload_date=2026-03-14/")
    df, parquet = read_back(lake_s3, key)
    assert parquet.metadata.num_row_groups == 2
    every = chunks[0] + chunks[1]
    assert df["amount_cents"].tolist() == every
    assert df["amount"].tolist() == [Decimal(c).scaleb(-2) for c in every]
    assert int(df["amount_cents"].sum()) == sum(every)
    assert df["line"].tolist() == list(range(2, 9))
    assert df["id"].tolist() == [str(i) for i in range(2, 9)]
    assert set(df["source_bucket"]) == {"uploads"}
    assert set(df["source_key"]) == {"in/march.csv"}
    assert set(df["source_version"]) == {"v1"}
    assert df["year"].tolist() == [2025] * 7
    assert df["date"].iloc[0] == "3/1/2025"
    # And the file's schema is the declared one, decimal(18,2) stored as an integer
    assert parquet.schema_arrow.equals(SCHEMA)
    column = parquet.metadata.row_group(0).column(list(SCHEMA.names).index("amount"))
    assert column.physical_type == "INT64"
    assert not any(tmp_path.iterdir())  # the temporary file is gone


def test_a_file_without_years_stores_null_years(lake_s3: S3Client, tmp_path: Path) -> None:
    with writer(lake_s3, tmp_path) as lake:
        lake(frame([1, 2], year=None))
        key = lake.commit()
    df, _ = read_back(lake_s3, key)
    assert df["year"].isna().all()
    assert df["date"].tolist() == ["3/1", "3/1"]


def test_arrow_backed_frames_are_taken_as_they_are(lake_s3: S3Client, tmp_path: Path) -> None:
    # Given a frame whose columns are Arrow-backed (the contract allows it)
    plain = frame([5, -7, 300])
    arrow = plain.astype(
        {
            "line": "int64[pyarrow]",
            "id": "string[pyarrow]",
            "date": "string[pyarrow]",
            "year": "int64[pyarrow]",
            "month": "int8[pyarrow]",
            "day": "int8[pyarrow]",
            "amount_cents": "int64[pyarrow]",
        }
    )
    with writer(lake_s3, tmp_path) as lake:
        lake(arrow)
        key = lake.commit()
    df, _ = read_back(lake_s3, key)
    assert df["amount_cents"].tolist() == [5, -7, 300]
    assert df["id"].tolist() == plain["id"].tolist()


def test_discard_writes_nothing(lake_s3: S3Client, tmp_path: Path) -> None:
    # Given rows written, then the file rejected
    with writer(lake_s3, tmp_path) as lake:
        lake(frame([1, 2, 3]))
        lake.discard()
    # Then no object exists and no temporary file is left
    assert lake_objects(lake_s3) == []
    assert not any(tmp_path.iterdir())


def test_an_exception_inside_the_block_discards(lake_s3: S3Client, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), writer(lake_s3, tmp_path) as lake:
        lake(frame([1]))
        raise RuntimeError("boom")
    assert lake_objects(lake_s3) == []
    assert not any(tmp_path.iterdir())


def test_a_redelivery_overwrites_the_same_object(lake_s3: S3Client, tmp_path: Path) -> None:
    # Given the same object version written twice (a redelivered event)
    keys = []
    for _ in range(2):
        with writer(lake_s3, tmp_path) as lake:
            lake(frame([1, 2]))
            keys.append(lake.commit())
    # Then there is one object; another version gets another one
    assert keys[0] == keys[1]
    assert lake_objects(lake_s3) == [keys[0]]
    with writer(lake_s3, tmp_path, "v2") as lake:
        lake(frame([1, 2]))
        lake.commit()
    assert len(lake_objects(lake_s3)) == 2


def test_a_valid_file_with_no_rows_still_gets_its_one_empty_object(
    lake_s3: S3Client, tmp_path: Path
) -> None:
    with writer(lake_s3, tmp_path) as lake:
        key = lake.commit()
    df, parquet = read_back(lake_s3, key)
    assert len(df) == 0
    assert parquet.schema_arrow.equals(SCHEMA)


def test_written_after_commit_is_refused(lake_s3: S3Client, tmp_path: Path) -> None:
    with writer(lake_s3, tmp_path) as lake:
        lake.commit()
        with pytest.raises(RuntimeError, match="already committed"):
            lake(frame([1]))


@given(st.text(max_size=200), st.text(max_size=200), st.text(min_size=1, max_size=60))
def test_lake_keys_are_deterministic_safe_and_distinct(bucket: str, key: str, version: str) -> None:
    # Given any source bucket, key and version
    made = lake_key(bucket, key, version, DAY)
    # Then the key is the same each time, under the day's partition, in safe characters
    assert made == lake_key(bucket, key, version, DAY)
    assert made.startswith("transactions/upload_date=2026-03-14/")
    assert made.endswith(".parquet")
    assert made.isascii() and len(made) < 200
    # And another version (or key) gives another object
    assert made != lake_key(bucket, key, version + "x", DAY)
    assert made != lake_key(bucket, key + "x", version, DAY)


@given(st.lists(st.integers(-MAX_CENTS, MAX_CENTS), max_size=50))
def test_the_decimal_column_is_the_cents_scaled_exactly(cents: list[int]) -> None:
    # Oracle: Python's Decimal of each integer, scaled by 10**-2
    source = pa.array([0, *cents], type=pa.int64()).slice(1)  # an offset, as a slice has
    array = lake_module._decimal64_from_cents(source)
    array.validate(full=True)
    assert array.type == pa.decimal64(18, 2)
    assert array.to_pylist() == [Decimal(c).scaleb(-2) for c in cents]


def test_the_glue_columns_and_the_parquet_schema_agree() -> None:
    assert [name for name, _ in GLUE_COLUMNS] == SCHEMA.names
    kinds = dict(GLUE_COLUMNS)
    assert kinds["amount"] == "decimal(18,2)" and SCHEMA.field("amount").type == pa.decimal128(
        18, 2
    )
    assert kinds["amount_cents"] == "bigint" and SCHEMA.field("amount_cents").type == pa.int64()


_ON_ROWS = "on_rows" in inspect.signature(summarize_stream).parameters
needs_on_rows = pytest.mark.skipif(not _ON_ROWS, reason="summarize_stream has no on_rows yet")


def _summarize(data: bytes, on_rows: Callable[[pd.DataFrame], None]) -> Any:
    run: Any = summarize_stream
    return run(io.BytesIO(data), "t.csv", chunk_size=64, on_rows=on_rows)


@needs_on_rows
def test_the_lake_holds_the_summary_balance_to_the_cent(lake_s3: S3Client, tmp_path: Path) -> None:
    # Given a file summarized with the lake consuming its rows, in small chunks
    rows = [
        f"{i},{1 + i % 12}/{1 + i % 28}/2025,{'-' if i % 3 else '+'}{i}.{i % 100:02d}"
        for i in range(300)
    ]
    data = ("Id,Date,Transaction\n" + "\n".join(rows) + "\n").encode()
    with writer(lake_s3, tmp_path) as lake:
        summary = _summarize(data, lake)
        key = lake.commit()
    # Then the lake's rows and cents add up to the summary
    df, parquet = read_back(lake_s3, key)
    assert len(df) == summary.totals.transactions == 300
    assert int(df["amount_cents"].sum()) == summary.totals.balance
    assert sum(df["amount"]) == Decimal(summary.totals.balance).scaleb(-2)
    assert parquet.metadata.num_row_groups > 1


@needs_on_rows
def test_a_rejected_file_writes_no_lake_object(lake_s3: S3Client, tmp_path: Path) -> None:
    # Given a file whose last line is bad, after many good chunks
    rows = [f"{i},1/{1 + i % 28}/2025,+1.00" for i in range(200)] + ["x,bad,row"]
    data = ("Id,Date,Transaction\n" + "\n".join(rows) + "\n").encode()
    with writer(lake_s3, tmp_path) as lake:
        with pytest.raises(InvalidFileError):
            _summarize(data, lake)
        lake.discard()
    # Then nothing reached the lake (whatever rows were handed over before the rejection)
    assert lake_objects(lake_s3) == []


def test_the_writer_thread_and_the_inline_writer_give_the_same_rows(
    lake_s3: S3Client, tmp_path: Path
) -> None:
    # Given the same chunks written on a writer thread and inline
    chunks = [list(range(-50, 50)), [7] * 30, list(range(1000, 1200))]
    tables = []
    for background in (True, False):
        lake = LakeWriter(
            lake_s3,
            LAKE_BUCKET,
            source_bucket="uploads",
            source_key="in/march.csv",
            source_version=f"bg-{background}",
            upload_date=DAY,
            directory=tmp_path,
            background=background,
        )
        with lake:
            line = 2
            for cents in chunks:
                lake(frame(cents, first_line=line))
                line += len(cents)
            df, parquet = read_back(lake_s3, lake.commit())
        tables.append((df.drop(columns="source_version"), parquet.metadata.num_row_groups))
    # Then the rows, in order, and the row groups are the same
    pd.testing.assert_frame_equal(tables[0][0], tables[1][0])
    assert tables[0][1] == tables[1][1] == len(chunks)


def test_a_failure_on_the_writer_thread_is_raised_and_nothing_is_uploaded(
    lake_s3: S3Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a writer whose Parquet output fails on the writer thread
    lake = writer(lake_s3, tmp_path, background=True)

    def broken() -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(lake, "_open", broken)
    with lake:
        lake(frame([1, 2]))
        # When the file is committed
        with pytest.raises(RuntimeError, match="writing the lake file failed") as caught:
            lake.commit()
    # Then the thread's error is the cause, and the lake is empty
    assert isinstance(caught.value.__cause__, OSError)
    assert lake_objects(lake_s3) == []
    assert not any(tmp_path.iterdir())
