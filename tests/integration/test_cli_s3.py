"""`txsummary summarize s3://...` reads through the same streaming S3 adapter as the Lambda."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
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
