"""The CLI contract: exit codes, both formats, errors on stderr, no stdout when invalid,
and one line (not a traceback) when the output cannot be written."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.challenge import CHALLENGE_CSV as CHALLENGE
from tests.unit.streams import gzip_bomb
from txsummary import __version__, cli


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
    assert "2 errors" in out.err


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


def test_missing_file_is_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A file that cannot be read fails like an S3 key that cannot: exit 3, not a usage error
    assert cli.main(["summarize", str(tmp_path / "nope.csv")]) == cli.EXIT_FAILURE
    assert capsys.readouterr().err == f"txsummary: {tmp_path / 'nope.csv'}: no such file\n"


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


# Scripting: standard input, several files, jsonl, exit statuses, --version, --max-errors.

# The one-file JSON document is a contract: these bytes, exactly. The text is checked to the
# byte too, so that a change to it is a decision.
GOLDEN_JSON = (
    '{"transactions":4,"credits":2,"debits":2,"total_balance":39.74,"average_credit":35.25,'
    '"average_debit":-15.38,"months":[{"year":null,"month":7,"name":"July","transactions":2,'
    '"credits":1,"debits":1,"balance":50.20,"average_credit":60.50,"average_debit":-10.30},'
    '{"year":null,"month":8,"name":"August","transactions":2,"credits":1,"debits":1,'
    '"balance":-10.46,"average_credit":10.00,"average_debit":-20.46}]}\n'
)
GOLDEN_TEXT = """Total balance is 39.74
Number of transactions in July: 2
Number of transactions in August: 2
Average debit amount: -15.38
Average credit amount: 35.25

Period: July to August (2 months)
Total debits: -30.76 from 2 debits
Total credits: 70.50 from 2 credits

Per month:
  Month   Transactions  Debits  Debit total  Avg debit  Credits  Credit total  Avg credit  Balance
  July               2       1       -10.30     -10.30        1         60.50       60.50    50.20
  August             2       1       -20.46     -20.46        1         10.00       10.00   -10.46
"""
BAD = b"Id,Date,Transaction\n0,7/15,+1\n1,2/30,+1\n2,7/16,$3\n3,7/17,\n"


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD)
    return path


@pytest.mark.parametrize(("fmt", "golden"), [("json", GOLDEN_JSON), ("text", GOLDEN_TEXT)])
def test_one_file_output_is_byte_for_byte_the_contract(
    challenge: Path, fmt: str, golden: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summarize", str(challenge), "--format", fmt]) == 0
    assert capsys.readouterr().out == golden


def stdin_of(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize("data", [CHALLENGE, gzip.compress(CHALLENGE)], ids=["csv", "gzip"])
def test_dash_reads_standard_input(
    data: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the challenge file (plain or gzipped) on standard input
    stdin_of(monkeypatch, data)
    # When `-` is summarized, Then it reads exactly what a file would give
    assert cli.main(["summarize", "-", "--format", "json"]) == 0
    assert capsys.readouterr().out == GOLDEN_JSON


def test_standard_input_in_a_real_process(challenge: Path) -> None:
    done = run_cli("summarize", "-", input=gzip.compress(CHALLENGE), stdout=subprocess.PIPE)
    assert done.returncode == 0
    assert done.stdout.decode() == GOLDEN_TEXT


def test_a_rejection_on_standard_input_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin_of(monkeypatch, BAD)
    assert cli.main(["summarize", "-"]) == cli.EXIT_INVALID
    assert capsys.readouterr().err.startswith("standard input: invalid file, 3 errors\n")


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines()]


def test_jsonl_is_one_object_per_file_in_order(
    challenge: Path,
    bad: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a valid file, an invalid one, a missing one and standard input
    stdin_of(monkeypatch, CHALLENGE)
    missing = tmp_path / "missing.csv"
    paths = [str(challenge), str(bad), str(missing), "-"]
    # When they are summarized in one call as jsonl
    code = cli.main(["summarize", *paths, "--format", "jsonl"])
    out = capsys.readouterr()
    objects = jsonl(out.out)
    # Then each has its object, in order, named as given
    assert [o["source"] for o in objects] == paths
    assert [o["outcome"] for o in objects] == ["summarized", "rejected", "failed", "summarized"]
    # A summary is the very object --format json prints
    assert objects[0]["summary"] == json.loads(GOLDEN_JSON, parse_float=Decimal)
    assert list(objects[0]) == ["source", "outcome", "summary"]
    # A rejection counts: its lines with their reasons, and the exact count
    assert list(objects[1]) == ["source", "outcome", "errors", "error_count"]
    assert objects[1]["error_count"] == 3
    assert [e["line"] for e in objects[1]["errors"]] == [3, 4, 5]
    assert objects[2] == {"source": str(missing), "outcome": "failed", "error": "no such file"}
    # And the failure is also told on stderr, and wins the exit status over the rejection
    assert out.err == f"txsummary: {missing}: no such file\n"
    assert code == cli.EXIT_FAILURE


def test_jsonl_money_is_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"Id,Date,Transaction\n0,7/15,999999999999999.99\n1,7/16,0.01\n")
    assert cli.main(["summarize", str(path), "--format", "jsonl"]) == 0
    (document,) = jsonl(capsys.readouterr().out)
    assert document["summary"]["total_balance"] == Decimal("1000000000000000.00")


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        ("ok", 0),
        ("ok ok", 0),
        ("bad", cli.EXIT_INVALID),
        ("ok bad ok", cli.EXIT_INVALID),
        ("missing", cli.EXIT_FAILURE),
        ("bad missing ok", cli.EXIT_FAILURE),
        ("missing bad", cli.EXIT_FAILURE),
    ],
)
@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_exit_status_is_the_worst_outcome(
    challenge: Path, bad: Path, tmp_path: Path, *, outcomes: str, status: int, fmt: str
) -> None:
    paths = {"ok": str(challenge), "bad": str(bad), "missing": str(tmp_path / "nope.csv")}
    argv = ["summarize", *(paths[o] for o in outcomes.split()), "--format", fmt]
    assert cli.main(argv) == status


def test_several_files_in_text_each_under_its_name(
    challenge: Path, bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a valid file, an invalid one and the valid one again
    assert cli.main(["summarize", str(challenge), str(bad), str(challenge)]) == cli.EXIT_INVALID
    out = capsys.readouterr()
    # Then stdout holds the summaries, each under its name, like head(1) does
    heading = f"==> {challenge} <==\n"
    assert out.out == heading + GOLDEN_TEXT + "\n" + heading + GOLDEN_TEXT
    # And the rejection is on stderr, as for one file
    assert out.err.startswith(f"{bad}: invalid file, 3 errors\n")


def test_a_rejected_first_file_leaves_no_gap(
    challenge: Path, bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summarize", str(bad), str(challenge)]) == cli.EXIT_INVALID
    assert capsys.readouterr().out == f"==> {challenge} <==\n" + GOLDEN_TEXT


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a.csv", "b.csv", "--format", "json"], "--format json takes one file"),
        (["-", "-"], "standard input (-) can be read only once"),
        (["x.csv", "s3://bucket-only"], "not an s3://bucket/key URL"),
    ],
)
def test_unusable_calls_exit_2_before_reading_anything(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summarize", *argv]) == cli.EXIT_USAGE
    out = capsys.readouterr()
    assert out.out == ""
    assert message in out.err
    assert "no such file" not in out.err  # x.csv was never opened


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out == f"txsummary {__version__}\n"


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 20])
def test_max_errors_limits_the_lines_shown_not_the_count(
    tmp_path: Path, limit: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file with 30 offending lines
    path = tmp_path / "many.csv"
    path.write_bytes(b"Id,Date,Transaction\n" + b"".join(b"%d,7/1,x\n" % i for i in range(30)))
    # When it is summarized with --max-errors, as text and as jsonl
    args = ["summarize", str(path), "--max-errors", str(limit)]
    assert cli.main(args) == cli.EXIT_INVALID
    text = capsys.readouterr().err.splitlines()
    assert cli.main([*args, "--format", "jsonl"]) == cli.EXIT_INVALID
    (document,) = jsonl(capsys.readouterr().out)
    # Then both show the first `limit` lines, and both count all 30
    assert text[0].startswith(f"{path}: invalid file, 30 errors")
    assert [line.split(":")[0].strip() for line in text[1:]] == [
        f"line {n}" for n in range(2, 2 + limit)
    ]
    assert [e["line"] for e in document["errors"]] == list(range(2, 2 + limit))
    assert document["error_count"] == 30


@pytest.mark.parametrize("value", ["-1", "21", "many"])
def test_max_errors_out_of_range_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["summarize", "x.csv", "--max-errors", value])
    assert raised.value.code == cli.EXIT_USAGE


def test_a_pipe_of_a_file_is_read(challenge: Path) -> None:
    # Given a file given as a pipe (as `<(zcat x.csv.gz)` does), not a regular file
    done = subprocess.run(
        ["bash", "-c", '"$0" -m txsummary.cli summarize <(cat "$1")', sys.executable, challenge],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == GOLDEN_TEXT
