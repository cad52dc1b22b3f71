"""The CLI contract: exit codes, both formats, errors on stderr, no stdout when invalid."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from tests.challenge import CHALLENGE_CSV as CHALLENGE
from txsummary import cli


@pytest.fixture
def challenge(tmp_path: Path) -> Path:
    path = tmp_path / "transactions.csv"
    path.write_bytes(CHALLENGE)
    return path


def test_text_format_is_the_default(challenge: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summarize", str(challenge)]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0] == "Total balance is 39.74"
    assert "Per month:" in out.out
    assert out.err == ""


def test_json_format_is_one_object(challenge: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summarize", str(challenge), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document) == [
        "transactions", "credits", "debits", "total_balance", "average_credit", "average_debit",
        "months",
    ]  # fmt: skip
    assert document["total_balance"] == 39.74
    assert [m["name"] for m in document["months"]] == ["July", "August"]


def test_month_names_carry_the_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dated.csv"
    path.write_bytes(b"Id,Date,Transaction\n0,2025-01-02,+1\n1,12/31/2024,-2\n")
    assert cli.main(["summarize", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == [
        "Number of transactions in December 2024: 1",
        "Number of transactions in January 2025: 1",
    ]


def test_gzipped_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "transactions.csv.gz"
    path.write_bytes(gzip.compress(CHALLENGE))
    assert cli.main(["summarize", str(path)]) == 0
    assert capsys.readouterr().out.startswith("Total balance is 39.74\n")


def test_invalid_data_exits_1_with_lines_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Id,Date,Transaction\n0,7/15,+1\n1,2/30,+1\n2,7/16,1e3\n")
    assert cli.main(["summarize", str(path), "--format", "json"]) == cli.EXIT_INVALID
    out = capsys.readouterr()
    assert out.out == ""
    assert str(path) in out.err
    assert "line 3: Date '2/30' is not a real calendar date" in out.err
    assert "line 4: Transaction '1e3'" in out.err
    assert "2 error(s)" in out.err


@pytest.mark.parametrize(
    "argv",
    [[], ["summarize"], ["summarize", "x.csv", "--format", "xml"], ["bogus"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(argv)
    assert raised.value.code == cli.EXIT_USAGE
    assert capsys.readouterr().out == ""


def test_bad_s3_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summarize", "s3://bucket-only"]) == cli.EXIT_USAGE
    assert "not an s3://bucket/key URL" in capsys.readouterr().err


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summarize", str(tmp_path / "nope.csv")]) == cli.EXIT_USAGE
    assert "no such file" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_for_large_files(
    challenge: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 1)
    monkeypatch.setattr("sys.stderr", terminal)
    assert cli.main(["summarize", str(challenge)]) == 0
    # tqdm shows the file's size as the total, in bytes.
    assert f"/{len(CHALLENGE)}.0" in terminal.getvalue()
    assert "B/s" in terminal.getvalue()


def test_no_progress_bar_when_not_a_terminal(
    challenge: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 1)
    assert cli.main(["summarize", str(challenge)]) == 0
    assert capsys.readouterr().err == ""
