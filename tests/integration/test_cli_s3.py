"""`txsummary summarize s3://...` reads through the same streaming S3 adapter as the Lambda."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.challenge import CHALLENGE_CSV
from tests.integration.conftest import BUCKET
from tests.unit.streams import gzip_bomb
from txsummary import cli


def test_s3_object_is_summarized(
    put: Callable[[str, bytes], dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    put("incoming/july.csv.gz", gzip.compress(CHALLENGE_CSV))
    code = cli.main(["summarize", f"s3://{BUCKET}/incoming/july.csv.gz", "--format", "json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["total_balance"] == 39.74


def test_invalid_s3_object_exits_1(
    put: Callable[[str, bytes], dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    put("bad.csv", b"Id,Date,Transaction\n0,7/15,abc\n")
    assert cli.main(["summarize", f"s3://{BUCKET}/bad.csv"]) == cli.EXIT_INVALID
    err = capsys.readouterr().err
    assert f"s3://{BUCKET}/bad.csv" in err
    assert "line 2" in err


def test_missing_s3_object_is_a_failure_not_a_data_error(
    bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summarize", f"s3://{bucket}/missing.csv"]) == cli.EXIT_FAILURE
    assert "NoSuchKey" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (gzip_bomb(b"\0", 256 << 20), "line 1: record is longer than 1 MiB"),
        (iter([b"Id,Date,Transaction\n1,7/1," + b"9" * (3 << 20)]), "line 2: record is longer"),
        (iter([gzip.compress(b"Id,Date,Transaction\n" * 1000)[:-30]]), "gzip stream is truncated"),
    ],
    ids=["gzip-bomb", "over-long-line", "truncated-gzip"],
)
def test_unreadable_s3_objects_are_invalid_data(
    put: Callable[[str, bytes], dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    body: Iterator[bytes],
    reason: str,
) -> None:
    # Given an object whose bytes cannot be read on as a CSV
    put("hostile.csv.gz", b"".join(body))
    # When summarized through the streaming S3 adapter
    code = cli.main(["summarize", f"s3://{BUCKET}/hostile.csv.gz"])
    # Then it is invalid data (exit 1, never 3), with the reason on stderr
    out = capsys.readouterr()
    assert code == cli.EXIT_INVALID, out.err
    assert reason in out.err
    assert out.out == ""


def test_several_s3_objects_and_a_local_file_as_jsonl(
    put: Callable[[str, bytes], dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a valid object, an invalid one, a missing key and a local file
    put("ok.csv.gz", gzip.compress(CHALLENGE_CSV))
    put("bad.csv", b"Id,Date,Transaction\n0,7/15,$1\n")
    local = tmp_path / "local.csv"
    local.write_bytes(CHALLENGE_CSV)
    urls = [f"s3://{BUCKET}/{key}" for key in ("ok.csv.gz", "bad.csv", "missing.csv")]
    # When they are summarized in one call
    code = cli.main(["summarize", *urls, str(local), "--format", "jsonl"])
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # Then each has its outcome, in order; the missing key does not stop the local file
    assert [o["outcome"] for o in objects] == ["summarized", "rejected", "failed", "summarized"]
    assert objects[1]["errors"][0]["reason"].endswith("currency symbol ($), so write it as 1")
    assert "NoSuchKey" in objects[2]["error"]
    assert objects[3]["summary"]["total_balance"] == 39.74
    assert code == cli.EXIT_FAILURE
