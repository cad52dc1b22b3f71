"""The transactions lake on moto's S3: Parquet exact to the cent, deterministic keys, nothing
from a rejected file."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from moto.s3 import models as moto_s3_models

from tests.integration.conftest import REGION
from tests.integration.effects_support import LAKE_BUCKET
from txsummary.aws import lake as lake_module
from txsummary.aws.lake import SCHEMA, LakeWriter, lake_key
from txsummary.aws.multipart import MIN_PART_BYTES, PART_BYTES
from txsummary.contract import GLUE_COLUMNS
from txsummary.core.errors import InvalidFileError
from txsummary.core.summarize import summarize_stream
from txsummary_local import resources

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DAY = date(2026, 3, 14)
MAX_CENTS = 10**18 - 1  # decimal(18,2)'s range
MIB = 1024**2


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
    client: Any,
    version: str = "v1",
    *,
    background: bool = False,
    part_bytes: int = PART_BYTES,
) -> LakeWriter:
    return LakeWriter(
        client,
        LAKE_BUCKET,
        source_bucket="uploads",
        source_key="in/march.csv",
        source_version=version,
        upload_date=DAY,
        background=background,
        part_bytes=part_bytes,
    )


def pending_uploads(client: S3Client) -> list[str]:
    listed = client.list_multipart_uploads(Bucket=LAKE_BUCKET)
    return [u["Key"] for u in listed.get("Uploads", [])]


def read_back(client: S3Client, key: str) -> tuple[pd.DataFrame, pq.ParquetFile]:
    body = client.get_object(Bucket=LAKE_BUCKET, Key=key)["Body"].read()
    return pd.read_parquet(io.BytesIO(body)), pq.ParquetFile(io.BytesIO(body))


def test_rows_round_trip_exactly_one_row_group_per_chunk(lake_s3: S3Client) -> None:
    # Given two chunks of rows, with extreme amounts
    chunks = [[6050, -1030, MAX_CENTS], [-MAX_CENTS, 1, -1, 0]]
    with writer(lake_s3) as lake:
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


def test_a_file_without_years_stores_null_years(lake_s3: S3Client) -> None:
    with writer(lake_s3) as lake:
        lake(frame([1, 2], year=None))
        key = lake.commit()
    df, _ = read_back(lake_s3, key)
    assert df["year"].isna().all()
    assert df["date"].tolist() == ["3/1", "3/1"]


def test_arrow_backed_frames_are_taken_as_they_are(lake_s3: S3Client) -> None:
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
    with writer(lake_s3) as lake:
        lake(arrow)
        key = lake.commit()
    df, _ = read_back(lake_s3, key)
    assert df["amount_cents"].tolist() == [5, -7, 300]
    assert df["id"].tolist() == plain["id"].tolist()


def test_discard_writes_nothing(lake_s3: S3Client) -> None:
    # Given rows written, then the file rejected
    with writer(lake_s3) as lake:
        lake(frame([1, 2, 3]))
        lake.discard()
    # Then no object exists and no upload is left open
    assert lake_objects(lake_s3) == []
    assert pending_uploads(lake_s3) == []


def test_an_exception_inside_the_block_discards(lake_s3: S3Client) -> None:
    with pytest.raises(RuntimeError, match="boom"), writer(lake_s3) as lake:
        lake(frame([1]))
        raise RuntimeError("boom")
    assert lake_objects(lake_s3) == []
    assert pending_uploads(lake_s3) == []


def test_a_redelivery_overwrites_the_same_object(lake_s3: S3Client) -> None:
    # Given the same object version written twice (a redelivered event)
    keys = []
    for _ in range(2):
        with writer(lake_s3) as lake:
            lake(frame([1, 2]))
            keys.append(lake.commit())
    # Then there is one object; another version gets another one
    assert keys[0] == keys[1]
    assert lake_objects(lake_s3) == [keys[0]]
    with writer(lake_s3, "v2") as lake:
        lake(frame([1, 2]))
        lake.commit()
    assert len(lake_objects(lake_s3)) == 2


def test_a_valid_file_with_no_rows_still_gets_its_one_empty_object(lake_s3: S3Client) -> None:
    with writer(lake_s3) as lake:
        key = lake.commit()
    df, parquet = read_back(lake_s3, key)
    assert len(df) == 0
    assert parquet.schema_arrow.equals(SCHEMA)


def test_written_after_commit_is_refused_and_commit_again_is_the_same_object(
    lake_s3: S3Client,
) -> None:
    with writer(lake_s3) as lake:
        lake(frame([1, 2]))
        key = lake.commit()
        with pytest.raises(RuntimeError, match="already committed"):
            lake(frame([1]))
        with pytest.raises(RuntimeError, match="already committed"):
            lake.discard()
        assert lake.commit() == key
    assert lake_objects(lake_s3) == [key]
    assert read_back(lake_s3, key)[0]["amount_cents"].tolist() == [1, 2]


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
def test_the_lake_holds_the_summary_balance_to_the_cent(lake_s3: S3Client) -> None:
    # Given a file summarized with the lake consuming its rows, in small chunks
    rows = [
        f"{i},{1 + i % 12}/{1 + i % 28}/2025,{'-' if i % 3 else '+'}{i}.{i % 100:02d}"
        for i in range(300)
    ]
    data = ("Id,Date,Transaction\n" + "\n".join(rows) + "\n").encode()
    with writer(lake_s3) as lake:
        summary = _summarize(data, lake)
        key = lake.commit()
    # Then the lake's rows and cents add up to the summary
    df, parquet = read_back(lake_s3, key)
    assert len(df) == summary.totals.transactions == 300
    assert int(df["amount_cents"].sum()) == summary.totals.balance
    assert sum(df["amount"]) == Decimal(summary.totals.balance).scaleb(-2)
    assert parquet.metadata.num_row_groups > 1


@needs_on_rows
def test_a_rejected_file_writes_no_lake_object(lake_s3: S3Client) -> None:
    # Given a file whose last line is bad, after many good chunks
    rows = [f"{i},1/{1 + i % 28}/2025,+1.00" for i in range(200)] + ["x,bad,row"]
    data = ("Id,Date,Transaction\n" + "\n".join(rows) + "\n").encode()
    with writer(lake_s3) as lake:
        with pytest.raises(InvalidFileError):
            _summarize(data, lake)
        lake.discard()
    # Then nothing reached the lake (whatever rows were handed over before the rejection)
    assert lake_objects(lake_s3) == []


def test_the_writer_thread_and_the_inline_writer_give_the_same_rows(lake_s3: S3Client) -> None:
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
    lake_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a writer whose Parquet output fails on the writer thread
    lake = writer(lake_s3, background=True)

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
    assert pending_uploads(lake_s3) == []


# -- Streaming: the Parquet as multipart parts ---------------------------------------------------
SMALL_PART = 4096


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """moto accepts parts this small (S3 wants 5 MiB), so a small file spans many parts."""
    monkeypatch.setattr(moto_s3_models, "S3_UPLOAD_PART_MIN_SIZE", SMALL_PART)
    return SMALL_PART


def spread(n: int, seed: int, first_line: int = 2) -> pd.DataFrame:
    """n rows with varied Ids and amounts, which compress little."""
    rng = np.random.default_rng(seed)
    rows = frame(rng.integers(-MAX_CENTS, MAX_CENTS, n).tolist(), first_line=first_line)
    rows["id"] = rng.integers(0, 2**62, n).astype(str)
    return rows


def test_a_file_larger_than_a_part_is_one_multipart_object_exact_to_the_cent(
    lake_s3: S3Client, small_parts: int
) -> None:
    # Given chunks whose Parquet spans many parts, written on the writer thread
    chunks = [spread(n, seed) for seed, n in enumerate((700, 1, 1500, 300))]
    line = 2
    for chunk in chunks:
        chunk["line"] = np.arange(line, line + len(chunk))
        line += len(chunk)
    with writer(lake_s3, background=True, part_bytes=small_parts) as lake:
        for chunk in chunks:
            lake(chunk)
        assert lake.upload_id is not None  # parts were sent while the rows streamed
        assert lake_objects(lake_s3) == []  # and nothing is visible yet
        key = lake.commit()
    # Then one object, assembled from several parts, holds every row in order, to the cent
    assert lake_objects(lake_s3) == [key]
    assert pending_uploads(lake_s3) == []
    parts = int(lake_s3.head_object(Bucket=LAKE_BUCKET, Key=key)["ETag"].strip('"').split("-")[1])
    assert parts == lake.parts > 3
    df, parquet = read_back(lake_s3, key)
    every = pd.concat(chunks, ignore_index=True)
    assert df["amount_cents"].tolist() == every["amount_cents"].tolist()
    assert df["amount"].tolist() == [Decimal(int(c)).scaleb(-2) for c in every["amount_cents"]]
    assert df["id"].tolist() == every["id"].tolist()
    assert df["line"].tolist() == list(range(2, line))
    assert parquet.metadata.num_row_groups == len(chunks)
    assert parquet.schema_arrow.equals(SCHEMA)


def test_parts_meet_the_real_s3_minimum(lake_s3: S3Client) -> None:
    # Given more than 5 MiB of Parquet, with moto's own (S3's) minimum part size
    with writer(lake_s3, part_bytes=MIN_PART_BYTES) as lake:
        lake(spread(300_000, 1))
        lake(spread(300_000, 2, first_line=300_002))
        key = lake.commit()
    # Then S3 accepted the parts (each but the last at least 5 MiB) as one object
    head = lake_s3.head_object(Bucket=LAKE_BUCKET, Key=key)
    assert head["ContentLength"] > MIN_PART_BYTES
    assert head["ETag"].endswith(f'-{lake.parts}"') and lake.parts >= 2
    assert len(read_back(lake_s3, key)[0]) == 600_000


def test_a_rejected_file_aborts_its_upload(lake_s3: S3Client, small_parts: int) -> None:
    # Given parts already sent for a file that is then rejected
    with writer(lake_s3, background=True, part_bytes=small_parts) as lake:
        lake(spread(2000, 3))
        lake(spread(2000, 4))
        lake._join()  # the writer thread has sent its parts
        assert pending_uploads(lake_s3) == [lake.key]
        # When it is discarded
        lake.discard()
    # Then nothing is visible and no upload is left to pay for
    assert lake_objects(lake_s3) == []
    assert pending_uploads(lake_s3) == []


def test_an_error_mid_file_aborts_the_upload(lake_s3: S3Client, small_parts: int) -> None:
    with (
        pytest.raises(OSError, match="stream broke"),
        writer(lake_s3, part_bytes=small_parts) as lake,
    ):
        lake(spread(2000, 5))
        assert pending_uploads(lake_s3) == [lake.key]
        raise OSError("stream broke")
    assert lake_objects(lake_s3) == []
    assert pending_uploads(lake_s3) == []


def hook_first(client: S3Client, event: str, handler: Callable[..., object]) -> None:
    """Register a botocore hook ahead of moto's (the stubs type every hook as returning None;
    these events act on the value returned)."""
    client.meta.events.register_first(event, cast("Any", handler))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def answer_no_such_upload(sends: list[int]) -> Callable[..., AWSResponse | None]:
    """A before-send hook: S3's answer to a Complete whose upload is gone, from the second
    send on (moto completes a completed upload again instead)."""

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        sends.append(1)
        if len(sends) == 1:
            return None  # moto answers
        body = b"<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>"
        return AWSResponse(request.url, 404, HTTPHeaders(), _Raw(body))

    return hook


def test_a_lost_complete_response_is_taken_as_done(lake_s3: S3Client, small_parts: int) -> None:
    # Given a Complete that S3 carries out but whose response is lost, so botocore retries it
    # and the retry answers NoSuchUpload
    calls: list[int] = []
    sends: list[int] = []

    def lose_the_first_response(attempts: int, **_: Any) -> int | None:
        calls.append(attempts)
        return 0 if attempts == 1 else None  # 0: retry at once

    hook_first(lake_s3, "needs-retry.s3.CompleteMultipartUpload", lose_the_first_response)
    hook_first(lake_s3, "before-send.s3.CompleteMultipartUpload", answer_no_such_upload(sends))
    with writer(lake_s3, part_bytes=small_parts) as lake:
        lake(spread(1000, 6))
        # When it is committed
        key = lake.commit()
    # Then the commit succeeds, with the one object, whole
    assert calls == [1, 2] and len(sends) == 2
    assert lake_objects(lake_s3) == [key]
    assert pending_uploads(lake_s3) == []
    assert len(read_back(lake_s3, key)[0]) == 1000


def test_no_such_upload_with_another_object_at_the_key_is_raised(lake_s3: S3Client) -> None:
    # Given an upload that is gone when its Complete arrives, and another object at the key
    sends = [1]  # every send answers NoSuchUpload
    hook_first(lake_s3, "before-send.s3.CompleteMultipartUpload", answer_no_such_upload(sends))
    with writer(lake_s3, part_bytes=SMALL_PART) as lake:
        lake_s3.put_object(Bucket=LAKE_BUCKET, Key=lake.key, Body=b"someone else's")
        lake(spread(1000, 7))
        # When it is committed, Then the error is raised (Lambda retries the file)
        with pytest.raises(ClientError, match="NoSuchUpload"):
            lake.commit()
    assert lake_s3.get_object(Bucket=LAKE_BUCKET, Key=lake.key)["Body"].read() == b"someone else's"


def test_a_failed_part_upload_surfaces_and_leaves_no_upload(
    lake_s3: S3Client, small_parts: int
) -> None:
    # Given S3 refusing a part, on the writer thread
    def refuse(**_: Any) -> None:
        raise ConnectionError("S3 unreachable")

    lake_s3.meta.events.register_first("before-send.s3.UploadPart", refuse)
    with writer(lake_s3, background=True, part_bytes=small_parts) as lake:
        lake(spread(2000, 8))
        # When the file is committed
        with pytest.raises(RuntimeError, match="writing the lake file failed") as caught:
            lake.commit()
    # Then the upload's error is the cause, and nothing is left behind
    cause = caught.value.__cause__
    assert cause is not None and "S3 unreachable" in repr(cause) + repr(cause.__cause__)
    assert lake_objects(lake_s3) == []
    assert pending_uploads(lake_s3) == []


_STREAMED = """
import resource, sys
from datetime import date
import numpy as np, pandas as pd
sys.path.insert(0, {bench!r})
from txsummary_inproc import NoUpload
from txsummary.aws.lake import LakeWriter

def peak_mib():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024

n = 200_000
rng = np.random.default_rng(0)
rows = pd.DataFrame({{
    "line": np.arange(2, n + 2, dtype=np.int64),
    "id": rng.integers(0, 2**62, n).astype(str),
    "date": ["3/1/2025"] * n,
    "year": pd.array([2025] * n, dtype="Int64"),
    "month": np.full(n, 3, dtype=np.int8),
    "day": np.full(n, 1, dtype=np.int8),
    "amount_cents": rng.integers(-10**17, 10**17, n),
}})
client = NoUpload()
with LakeWriter(client, "lake", source_bucket="b", source_key="k", source_version="v",
                upload_date=date(2026, 1, 1)) as lake:
    lake(rows)
    lake._join()
    before = peak_mib()
    for _ in range({groups}):
        lake(rows)
    lake.commit()
print(client.sent, before, peak_mib())
"""


def test_a_large_file_streams_in_bounded_memory() -> None:
    # Given a file whose Parquet is several times the memory bound, written to a client that
    # drops the bytes, in a fresh process (so the peak is this file's)
    bench = str(Path(__file__).resolve().parents[2] / "bench" / "peers")
    script = _STREAMED.format(bench=bench, groups=48)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    sent, before, after = (float(v) for v in done.stdout.split())
    # Then the peak grows by less than a bound far below the object's size
    assert sent > 200 * MIB, sent
    assert after - before < 48, (before, after)
