"""The Lambda handler against moto's S3: every case of the event contract."""

from __future__ import annotations

import gzip
import io
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber

from tests.challenge import CHALLENGE_CSV, CHALLENGE_LINES
from tests.integration.conftest import (
    BUCKET,
    REGION,
    FakeContext,
    Records,
    emf_lines,
    load_event,
)
from txsummary import handler as lambda_handler
from txsummary.aws import s3 as s3io
from txsummary.core.jsonout import dumps
from txsummary.core.summarize import summarize_stream
from txsummary.objects import Duplicate, ObjectRef
from txsummary.report import report

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_s3 import S3Client

Put = Callable[[str, bytes], dict[str, Any]]
MakeEvent = Callable[..., dict[str, Any]]


def invoke(event: dict[str, Any]) -> dict[str, str]:
    return lambda_handler.handler(event, cast("LambdaContext", FakeContext()))


def only(records: Records, outcome: str) -> list[dict[str, Any]]:
    return [r for r in records if r.get("outcome") == outcome]


def test_valid_file_gives_one_info_record_with_the_exact_summary(
    put: Put, make_event: MakeEvent, records: Records
) -> None:
    # Given the challenge's file in a versioned bucket
    info = put("transactions.csv", CHALLENGE_CSV)

    # When S3's event for it arrives
    result = invoke(make_event(("transactions.csv", info)))

    # Then one INFO record carries the object's identity and the CLI's JSON summary
    assert result == {"transactions.csv": "summarized"}
    [record] = records
    assert record["level"] == "INFO"
    assert record["service"] == "txsummary"
    assert record["function_request_id"] == FakeContext.aws_request_id
    assert record["bucket"] == BUCKET
    assert record["key"] == "transactions.csv"
    assert record["version_id"] == info["versionId"]
    assert record["etag"] == info["eTag"]
    assert record["size"] == len(CHALLENGE_CSV)
    assert isinstance(record["duration_ms"], float)
    expected = json.loads(dumps(summarize_stream(io.BytesIO(CHALLENGE_CSV), "x").to_dict()))
    assert record["summary"] == expected
    assert record["summary"]["total_balance"] == 39.74
    assert record["summary"]["average_debit"] == -15.38
    assert record["summary"]["average_credit"] == 35.25
    # and its message is the CLI's text: the challenge's lines first
    assert record["message"].splitlines()[:5] == CHALLENGE_LINES


def test_multi_record_event_handles_every_record_and_decodes_every_key(
    put: Put, records: Records
) -> None:
    # Given AWS's encodings of keys with spaces, '+', '=', unicode and nested prefixes
    event = load_event("s3_multi_record.json")
    keys = [
        "statements/July 2024.csv",
        "a+b/1+1=2.csv",
        "résumé/€ dépenses.CSV",
        "2024/07/15/deep/nested/prefix/batch.csv.gz",
    ]
    for key in keys:
        body = gzip.compress(CHALLENGE_CSV) if key.endswith(".gz") else CHALLENGE_CSV
        put(key, body)

    # When the one event with four records arrives
    result = invoke(event)

    # Then each record was read under its decoded key and summarized
    assert result == dict.fromkeys(keys, "summarized")
    assert [r["key"] for r in only(records, "summarized")] == keys
    assert all(r["summary"]["transactions"] == 4 for r in records)


def test_s3_test_event_is_skipped_without_raising(aws: None, records: Records) -> None:
    assert invoke(load_event("s3_test_event.json")) == {}
    [record] = records
    assert record["outcome"] == "skipped"
    assert record["reason"] == "s3:TestEvent"


def test_non_csv_key_is_skipped_without_reading_s3(aws: None, records: Records) -> None:
    # Given a key that is not .csv/.csv.gz in a bucket that does not even exist
    # When its event arrives, Then it is skipped: S3 is never called (that would raise)
    assert invoke(load_event("s3_non_csv.json")) == {"notes/transactions.csv.bak": "skipped"}
    assert records[0]["key"] == "notes/transactions.csv.bak"
    assert records[0]["level"] == "INFO"


@pytest.mark.parametrize("key", ["UPPER.CSV", "Mixed.Csv.Gz", "plain.csv.GZ"])
def test_suffix_match_is_case_insensitive(put: Put, make_event: MakeEvent, key: str) -> None:
    body = gzip.compress(CHALLENGE_CSV) if key.lower().endswith(".gz") else CHALLENGE_CSV
    info = put(key, body)
    assert invoke(make_event((key, info))) == {key: "summarized"}


def test_deleted_object_is_skipped_at_warning(
    bucket: str, make_event: MakeEvent, records: Records
) -> None:
    # Given an event for a key that no longer exists (no versionId in the event)
    event = make_event(("gone.csv", {"versionId": None}))
    # When it is handled, Then it is skipped with a WARNING and nothing raises
    assert invoke(event) == {"gone.csv": "skipped"}
    [record] = records
    assert record["level"] == "WARNING"
    assert record["error_code"] == "NoSuchKey"


def test_missing_bucket_raises_after_logging_the_traceback(
    aws: None, make_event: MakeEvent, records: Records
) -> None:
    event = make_event(("transactions.csv", {"versionId": None}), bucket="no-such-bucket")
    with pytest.raises(ClientError) as raised:
        invoke(event)
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
    [record] = records
    assert record["level"] == "ERROR"
    assert record["exception_name"] == "NoSuchBucket"
    assert record["stack_trace"]["frames"]
    assert "NoSuchBucket" in record["exception"]
    assert record["bucket"] == "no-such-bucket"


def test_access_denied_raises(aws: None, make_event: MakeEvent, records: Records) -> None:
    # Given an S3 client that is refused GetObject (botocore's own Stubber)
    client = boto3.client("s3", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
    deps = replace(lambda_handler._deps(), s3=client)

    # When the event is handled, Then the error is logged and raised so Lambda retries
    with stubber, pytest.raises(ClientError, match="AccessDenied"):
        lambda_handler.process_event(make_event(("t.csv", {"versionId": None})), deps)
    assert records[-1]["exception_name"] == "AccessDenied"
    assert "AccessDenied" in records[-1]["exception"]


class _TimingOutBody(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise ReadTimeoutError(endpoint_url="https://s3.us-east-1.amazonaws.com/b/k")


def test_timeout_while_reading_raises(
    put: Put, make_event: MakeEvent, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = put("slow.csv", CHALLENGE_CSV)
    real_open = s3io.open_object

    def open_timing_out(*args: Any, **kwargs: Any) -> tuple[ObjectRef, BinaryIO]:
        read, _ = real_open(*args, **kwargs)
        return read, io.BufferedReader(_TimingOutBody())

    monkeypatch.setattr(s3io, "open_object", open_timing_out)
    with pytest.raises(ReadTimeoutError):
        invoke(make_event(("slow.csv", info)))
    assert records[-1]["level"] == "ERROR"
    assert records[-1]["exception_name"] == "ReadTimeoutError"


def test_other_records_are_still_handled_before_a_failure_is_raised(
    put: Put, make_event: MakeEvent, records: Records
) -> None:
    info = put("good.csv", CHALLENGE_CSV)
    event = make_event(("good.csv", info))
    event["Records"].insert(0, make_event(("x.csv", {}), bucket="no-such-bucket")["Records"][0])
    with pytest.raises(ClientError):
        invoke(event)
    assert [r["key"] for r in only(records, "summarized")] == ["good.csv"]


def test_invalid_file_gives_one_error_record_with_line_numbers_and_no_raise(
    put: Put, make_event: MakeEvent, records: Records
) -> None:
    # Given a file with two bad lines (lines 3 and 5 of the file, counting the header)
    body = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/40,-10.3\n2,8/2,-20.46\n3,8/13,ten\n"
    info = put("bad.csv", body)

    # When its event is handled, Then nothing raises and one ERROR record lists the lines
    assert invoke(make_event(("bad.csv", info))) == {"bad.csv": "rejected"}
    [record] = records
    assert record["level"] == "ERROR"
    assert record["bucket"] == BUCKET
    assert record["key"] == "bad.csv"
    assert record["version_id"] == info["versionId"]
    assert record["error_count"] == 2
    assert [e["line"] for e in record["errors"]] == [3, 5]
    assert all(e["reason"] for e in record["errors"])
    assert "summary" not in record


def test_invalid_file_reports_at_most_20_errors_but_counts_all(
    put: Put, make_event: MakeEvent, records: Records
) -> None:
    body = b"Id,Date,Transaction\n" + b"".join(b"%d,7/15,oops\n" % i for i in range(50))
    invoke(make_event(("many.csv", put("many.csv", body))))
    [record] = records
    assert record["error_count"] == 50
    assert len(record["errors"]) == 20
    assert record["errors"][0] == {"line": 2, "reason": record["errors"][0]["reason"]}


def test_gzipped_csv_is_summarized(put: Put, make_event: MakeEvent, records: Records) -> None:
    info = put("archive/2024.csv.gz", gzip.compress(CHALLENGE_CSV))
    assert invoke(make_event(("archive/2024.csv.gz", info))) == {
        "archive/2024.csv.gz": "summarized"
    }
    assert records[0]["message"].splitlines()[:5] == CHALLENGE_LINES


def test_too_large_object_is_rejected_without_being_read(
    put: Put, make_event: MakeEvent, records: Records, body_reads: list[int]
) -> None:
    # Given a 77-byte object, a 50-byte limit, and an event that does not state the size
    info = put("big.csv", CHALLENGE_CSV)
    deps = lambda_handler._deps()
    deps = replace(deps, settings=replace(deps.settings, max_object_bytes=50))
    reads = body_reads
    event = make_event(("big.csv", {**info, "size": None}))
    del event["Records"][0]["s3"]["object"]["size"]

    # When it is handled
    result = lambda_handler.process_event(event, deps)

    # Then it is rejected with a clear record, and no byte of the body was read
    assert result == {"big.csv": "rejected"}
    assert reads == []
    [record] = records
    assert record["level"] == "ERROR"
    assert record["size"] == len(CHALLENGE_CSV)
    assert record["max_object_bytes"] == 50
    assert record["error_count"] == 1
    assert "over the limit of 50 bytes" in record["errors"][0]["reason"]


def test_too_large_per_event_size_skips_getobject(
    aws: None, make_event: MakeEvent, records: Records
) -> None:
    # The event already says 5 GiB: no GetObject (the bucket does not exist, which would raise)
    deps = lambda_handler._deps()
    event = make_event(("huge.csv", {"size": 5 * 1024**3}), bucket="no-such-bucket")
    assert lambda_handler.process_event(event, deps) == {"huge.csv": "rejected"}
    assert records[0]["size"] == 5 * 1024**3
    assert records[0]["max_object_bytes"] == 4 * 1024**3


def test_duplicate_delivery_gives_the_same_record_twice(
    put: Put, make_event: MakeEvent, records: Records
) -> None:
    # Given one event, delivered twice (S3 delivers at least once)
    info = put("transactions.csv", CHALLENGE_CSV)
    event = make_event(("transactions.csv", info))

    # When both deliveries are handled
    assert invoke(event) == invoke(event) == {"transactions.csv": "summarized"}

    # Then the two records are identical but for time, and version_id/etag identify the pair
    first, second = records
    volatile = {"timestamp", "duration_ms", "cold_start"}
    assert {k: v for k, v in first.items() if k not in volatile} == {
        k: v for k, v in second.items() if k not in volatile
    }
    assert (first["version_id"], first["etag"]) == (info["versionId"], info["eTag"])


def test_a_new_version_of_the_same_key_is_told_apart(
    put: Put, make_event: MakeEvent, records: Records
) -> None:
    old = put("transactions.csv", CHALLENGE_CSV)
    new = put("transactions.csv", CHALLENGE_CSV + b"4,8/20,+1\n")
    invoke(make_event(("transactions.csv", old)))
    invoke(make_event(("transactions.csv", new)))
    assert [r["version_id"] for r in records] == [old["versionId"], new["versionId"]]
    assert [r["summary"]["transactions"] for r in records] == [4, 5]


def test_emf_records_have_cloudwatch_shape(
    put: Put, make_event: MakeEvent, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one valid and one invalid file
    good = put("good.csv", CHALLENGE_CSV)
    bad = put("bad.csv", b"Id,Date,Transaction\n0,7/15,x\n")

    # When both are handled in one event
    invoke(make_event(("good.csv", good), ("bad.csv", bad)))

    # Then stdout carries exactly one EMF record per file, in the namespace, per function
    summarized, rejected = emf_lines(capsys.readouterr().out)
    for record in (summarized, rejected):
        meta = record["_aws"]
        assert isinstance(meta["Timestamp"], int)
        [directive] = meta["CloudWatchMetrics"]
        assert directive["Namespace"] == "txsummary"
        assert [sorted(d) for d in directive["Dimensions"]] == [["function_name", "service"]]
        assert record["function_name"] == lambda_handler.SETTINGS.function_name
        assert record["service"] == "txsummary"
        names = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
        assert names == {
            "FilesSummarized": "Count",
            "FilesRejected": "Count",
            "TransactionsSummarized": "Count",
            "ProcessingTime": "Milliseconds",
        }
        # one value each: counted once per file
        assert all(len(record[name]) == 1 for name in names)
    assert (summarized["FilesSummarized"], summarized["FilesRejected"]) == ([1], [0])
    assert summarized["TransactionsSummarized"] == [4]
    assert (rejected["FilesSummarized"], rejected["FilesRejected"]) == ([0], [1])
    assert (summarized["key"], rejected["key"]) == ("good.csv", "bad.csv")


def test_skipped_objects_write_no_metrics(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(load_event("s3_non_csv.json"))
    invoke(load_event("s3_test_event.json"))
    assert emf_lines(capsys.readouterr().out) == []


def test_the_malformed_sample_event_still_summarizes_its_good_record(
    put: Put, records: Records
) -> None:
    # Given tests/events/s3_malformed_record.json: `"s3": "oops"`, then a record for good.csv
    put("good.csv", CHALLENGE_CSV)
    # When it is handled, Then the bad record is a WARNING and the good one is summarized
    assert invoke(load_event("s3_malformed_record.json")) == {"good.csv": "summarized"}
    assert [(r["level"], r["outcome"]) for r in records] == [
        ("WARNING", "skipped"),
        ("INFO", "summarized"),
    ]


@pytest.mark.parametrize(
    "malformed",
    [
        {"eventSource": "aws:s3", "s3": "oops"},
        {"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": 7}}},
        {"eventSource": "aws:s3", "s3": {"bucket": ["b"], "object": {"key": "k.csv"}}},
        {"eventSource": "aws:sqs", "body": "{}"},
        "not even a mapping",
    ],
)
def test_a_malformed_record_is_skipped_and_the_others_still_processed(
    put: Put, make_event: MakeEvent, records: Records, malformed: Any
) -> None:
    # Given an event whose first record is not an S3 object record, then a good one
    info = put("good.csv", CHALLENGE_CSV)
    event = make_event(("good.csv", info))
    event["Records"].insert(0, malformed)

    # When it is handled, Then nothing raises: a WARNING for the bad record, a summary for the good
    assert invoke(event) == {"good.csv": "summarized"}
    warning, summarized = records
    assert (warning["level"], warning["outcome"]) == ("WARNING", "skipped")
    assert warning["reason"] == "not an S3 object record"
    assert summarized["key"] == "good.csv"


def test_third_party_info_lines_stay_out_of_the_log(
    put: Put, make_event: MakeEvent, records: Records
) -> None:
    # Given botocore's own INFO lines ("Found credentials...") and a normal invocation
    info = put("t.csv", CHALLENGE_CSV)
    invoke(make_event(("t.csv", info)))
    # Then only the package's record is written, and botocore is held at WARNING
    assert [r["service"] for r in records] == ["txsummary"]
    assert not logging.getLogger("botocore").isEnabledFor(logging.INFO)


def test_a_duplicate_is_logged_and_counted_once(
    aws: None, records: Records, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the outcome the store gives for a version another delivery reported
    ref = ObjectRef(BUCKET, "t.csv", "v1", "e", 77)
    # When it is reported
    deps = lambda_handler._deps()
    report(Duplicate(ref, previous="summarized"), deps.logger, deps.metrics)
    # Then one INFO record names the object, and one EMF record counts one duplicate
    [record] = records
    assert (record["outcome"], record["previous"], record["version_id"]) == (
        "duplicate",
        "summarized",
        "v1",
    )
    [emf] = emf_lines(capsys.readouterr().out)
    assert emf["Duplicates"] == [1]
    assert "FilesSummarized" not in emf


@pytest.mark.slow
def test_million_row_object_is_streamed_in_bounded_reads(
    s3: S3Client,
    bucket: str,
    make_event: MakeEvent,
    records: Records,
    body_reads: list[int],
) -> None:
    # Given a 1e6-row object, larger than the summarizer's chunk size
    rows = 1_000_000
    lines = [b"Id,Date,Transaction\n"]
    lines += [b"%d,%d/%d,%s%d.%02d\n" % (i, i % 12 + 1, i % 28 + 1, b"-+"[i % 2 : i % 2 + 1],
              i % 997, i % 100) for i in range(rows)]  # fmt: skip
    body = b"".join(lines)
    del lines
    expected_balance = sum((1 if i % 2 else -1) * ((i % 997) * 100 + i % 100) for i in range(rows))
    info = s3.put_object(Bucket=bucket, Key="million.csv", Body=body)
    size = len(body)
    del body
    reads = body_reads

    # When its event is handled
    event = make_event(("million.csv", {"versionId": info["VersionId"], "size": size}))
    assert invoke(event) == {"million.csv": "summarized"}

    # Then the body was only ever read in bounded chunks, never whole, across several reads
    from txsummary.core.summarize import DEFAULT_CHUNK_SIZE

    assert size > DEFAULT_CHUNK_SIZE
    assert len(reads) >= 2
    assert all(0 < n <= DEFAULT_CHUNK_SIZE for n in reads)
    # and the totals are exact
    [record] = records
    assert record["summary"]["transactions"] == rows
    assert round(record["summary"]["total_balance"] * 100) == expected_balance
