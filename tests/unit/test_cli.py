"""The CLI contract: exit codes, both formats, errors on stderr, no stdout when invalid,
and one line (not a traceback) when the output cannot be written."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.challenge import CHALLENGE_CSV as CHALLENGE
from tests.unit.streams import gzip_bomb
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


# Real processes: exit codes and what reaches stderr when the output or the data fails.


def run_cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "txsummary.cli", *args],
        stderr=subprocess.PIPE,
        check=False,
        timeout=120,
        **kwargs,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_full_disk_exits_3_with_one_line(challenge: Path, fmt: str) -> None:
    # Given standard output on a device that is always full
    with open("/dev/full", "wb") as full:
        # When a valid file is summarized
        done = run_cli("summarize", str(challenge), "--format", fmt, stdout=full)
    # Then it exits 3 (not 1, which means invalid data) with one line and no traceback
    assert done.returncode == cli.EXIT_FAILURE
    assert done.stderr.decode() == (
        "txsummary: cannot write to standard output: No space left on device\n"
    )


def test_a_closed_pipe_exits_141_quietly(challenge: Path) -> None:
    # Given a pipe whose reader is already gone (as with `| head -0`)
    reader, writer = os.pipe()
    os.close(reader)
    try:
        # When a valid file is summarized into it
        done = run_cli("summarize", str(challenge), stdout=writer)
    finally:
        os.close(writer)
    # Then it exits 128 + SIGPIPE and says nothing
    assert done.returncode == cli.EXIT_BROKEN_PIPE == 141
    assert done.stderr == b""


def test_a_reader_that_stops_early_gets_a_quiet_exit(challenge: Path) -> None:
    # Given a reader that takes one line and closes the pipe (`| head -1`)
    with subprocess.Popen(
        [sys.executable, "-m", "txsummary.cli", "summarize", str(challenge)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        first = child.stdout.readline()
        child.stdout.close()
        err = child.stderr.read()
    # Then the reader got its line, and the writer exits 0 or 141 without a traceback
    assert first == b"Total balance is 39.74\n"
    assert child.returncode in (0, cli.EXIT_BROKEN_PIPE)
    assert err == b""


def test_a_closed_stdout_exits_3_with_one_line(challenge: Path) -> None:
    # Given descriptor 1 closed before the program starts (`>&-`)
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m txsummary.cli summarize "$1" >&-', sys.executable, challenge],
        stderr=subprocess.PIPE,
        check=False,
        timeout=120,
    )
    # Then it exits 3 with one line
    assert done.returncode == cli.EXIT_FAILURE
    assert done.stderr == b"txsummary: cannot write to standard output: it is closed\n"


def hostile_files() -> dict[str, bytes]:
    header = b"Id,Date,Transaction\n"
    good = gzip.compress(header + b"".join(b"%d,7/1,+1\n" % i for i in range(50_000)))
    return {
        "over-long line": header + b"0,7/1," + b"9" * (2 << 20) + b"\n",
        "open quote": header + b'0,7/1,"+1\n' + b"1,7/1,+1\n" * 200_000,
        "cr-only": header.replace(b"\n", b"\r") + b"1,7/1,+1\r" * 200_000,
        "truncated gzip": good[: len(good) // 2],
        "corrupt gzip": good[:100] + bytes(200) + good[300:],
        "utf-16": "Id,Date,Transaction\n".encode("utf-16"),
        "gzip bomb": b"".join(gzip_bomb(b"\0", 1 << 30)),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", list(hostile_files()))
def test_data_errors_exit_1_never_3(tmp_path: Path, name: str) -> None:
    # Given a file whose bytes cannot be read on as a CSV
    path = tmp_path / "hostile.csv"
    path.write_bytes(hostile_files()[name])
    # When it is summarized in a real process
    done = run_cli("summarize", str(path), stdout=subprocess.PIPE)
    # Then it is invalid data: exit 1, the reasons on stderr, nothing on stdout, no traceback
    err = done.stderr.decode()
    assert done.returncode == cli.EXIT_INVALID, err
    assert done.stdout == b""
    assert err.startswith(f"{path}: invalid file")
    assert "Traceback" not in err
    assert len(err) < 4000
