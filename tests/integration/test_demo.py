"""End to end on the embedded emulation: upload -> S3 event -> queue -> handler -> log group."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import pytest

from tests.challenge import CHALLENGE_CSV, CHALLENGE_LINES
from txsummary_local.demo import BUCKET, emulation, run_demo


@pytest.fixture
def no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell holds, the demo must use only its own fake credentials."""
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_demo_prints_the_challenge_lines_read_back_from_the_log_group(
    tmp_path: Path, no_real_aws: None
) -> None:
    # Given the challenge's file
    (tmp_path / "transactions.csv").write_bytes(CHALLENGE_CSV)
    out = io.StringIO()

    # When the demo runs it through the emulated pipeline
    code = run_demo([tmp_path / "transactions.csv"], out, tmp_path / "out")

    # Then it succeeds and prints the five lines, after the log group was read back
    text = out.getvalue()
    assert code == 0, text
    tail = text.split("$ aws logs tail /aws/lambda/", 1)[1]
    lines = tail.splitlines()
    start = lines.index(CHALLENGE_LINES[0])
    assert lines[start : start + 5] == CHALLENGE_LINES
    assert "METRICS transactions.csv: FilesSummarized=1" in tail
    # and it left the environment as it found it
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert os.environ["AWS_PROFILE"] == "someone-real"


def test_demo_shows_bad_and_unmatched_files_and_exits_1(tmp_path: Path, no_real_aws: None) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Id,Date,Transaction\n0,7/15,+60.5\n1,2/30,-1\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a csv\n")
    out = io.StringIO()

    code = run_demo([bad, notes], out, tmp_path / "out")

    text = out.getvalue()
    assert code == 1
    assert "ERROR rejected s3://" in text
    assert "line 3:" in text
    assert "notes.txt: no notification" in text
    # and the rejection is recorded and mailed, with nothing in the lake
    assert "outcome: rejected" in text
    assert "e-mail sent to holder@example.com: 'Rejected: bad.csv" in text
    assert "(0 objects)" in text


def test_demo_reports_a_missing_file(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo([tmp_path / "nope.csv"], out, tmp_path / "out") == 2
    assert "no such file" in out.getvalue()


def test_log_group_holds_the_runtime_shaped_records(tmp_path: Path, no_real_aws: None) -> None:
    # Given the emulated stack and a gzipped upload under a key with a space and unicode
    path = tmp_path / "été 2024.csv.gz"
    path.write_bytes(gzip.compress(CHALLENGE_CSV))
    with emulation() as emu:
        emu.upload(path, key="uploads/été 2024.csv.gz")

        # When the runner delivers the real S3 event from the queue
        [invocation] = emu.deliver(expected=1)
        assert invocation.error is None
        assert invocation.result == {"uploads/été 2024.csv.gz": "summarized"}

        # Then the log group holds the INFO record and the EMF record, as JSON
        messages = [json.loads(m) for _, m in emu.tail()]
        version = emu.s3.head_object(Bucket=BUCKET, Key="uploads/été 2024.csv.gz")["VersionId"]
    [summary] = [m for m in messages if m.get("outcome") == "summarized"]
    assert summary["key"] == "uploads/été 2024.csv.gz"
    assert summary["version_id"] == version
    assert summary["function_request_id"] == invocation.request_id
    assert summary["service"] == "txsummary"
    assert summary["summary"]["total_balance"] == 39.74
    assert summary["message"].splitlines()[:5] == CHALLENGE_LINES
    [emf] = [m for m in messages if "_aws" in m]
    assert emf["TransactionsSummarized"] == [4]
    # and nothing else: one JSON object per line, the summary's several lines in one record
    assert len([m for m in messages if m.get("reason") != "s3:TestEvent"]) == 2


def test_a_failing_invocation_is_retried_twice(tmp_path: Path, no_real_aws: None) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(CHALLENGE_CSV)
    with emulation() as emu:
        emu.upload(path)
        # Given S3 failing for the function (the bucket vanishes after the upload)
        for version in emu.s3.list_object_versions(Bucket=BUCKET).get("Versions", []):
            emu.s3.delete_object(Bucket=BUCKET, Key=version["Key"], VersionId=version["VersionId"])
        emu.s3.delete_bucket(Bucket=BUCKET)
        # When the event is delivered
        [invocation] = emu.deliver(expected=1)
        messages = [json.loads(m) for _, m in emu.tail()]
    # Then the handler raised on every attempt, and each attempt logged its traceback
    assert invocation.attempts == 3
    assert invocation.error is not None
    assert "NoSuchBucket" in invocation.error
    failures = [m for m in messages if m.get("exception_name")]
    assert len(failures) == 3
    assert all(m["level"] == "ERROR" and m["stack_trace"]["frames"] for m in failures)
    assert all(m["key"] == "t.csv" for m in failures)


def test_demo_shows_the_record_the_email_and_the_lake_then_a_duplicate(
    tmp_path: Path, no_real_aws: None
) -> None:
    # Given the challenge's file
    (tmp_path / "transactions.csv").write_bytes(CHALLENGE_CSV)
    out = io.StringIO()
    # When the demo runs
    assert run_demo([tmp_path / "transactions.csv"], out, tmp_path / "out") == 0
    text = out.getvalue()
    effects = text.split("$ aws dynamodb scan", 1)[1]
    # Then the stored item is shown, with the balance in cents and the e-mail's status
    assert "(1 items)" in effects
    assert "  pk: s3://txsummary-uploads-local/transactions.csv\n" in effects
    assert "  total_balance_cents: 3974\n" in effects
    assert "  email_status: sent\n" in effects
    # And the e-mail, saved as .eml and as an .html whose logo is inline data
    assert "e-mail sent to holder@example.com: 'Summary of transactions.csv: balance 39.74'" in text
    eml = (tmp_path / "out" / "transactions.csv.eml").read_bytes()
    assert b"Content-ID: <logo@txsummary>" in eml
    html = (tmp_path / "out" / "transactions.csv.html").read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in html
    assert "cid:" not in html
    # And the Parquet read back, its rows and balance equal to the summary's
    assert "4 rows read back with pandas; their balance 39.74 is equal to the summary's 39.74" in (
        text
    )
    # And the second delivery of the same event is a duplicate, with no second e-mail
    again = text.split("delivering the same event again:", 1)[1]
    assert "{'transactions.csv': 'duplicate'}" in again
    assert "duplicate: this version was already summarized" in again
    assert (
        "e-mails sent by the second delivery: 0 (no second e-mail); items: 1; lake objects: 1"
        in (again)
    )
    # And an upload whose event was dropped gets its verdict from the reconcile
    swept = text.split("its event dropped", 1)[1]
    assert "INFO summarized s3://txsummary-uploads-local/no-event/transactions.csv" in swept
    assert "reconciled: 1 of 1 missing versions processed, 0 left" in swept
    assert "items: 2; lake objects: 2" in swept
