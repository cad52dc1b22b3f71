"""The reconcile on moto, through the real service: object versions whose event never came get
their verdict, once; keys that are not uploads and versions too young are left alone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest

from tests.challenge import CHALLENGE_CSV
from tests.integration.conftest import BUCKET, REGION, Records
from tests.integration.effects_support import create_table
from txsummary import contract, reconcile
from txsummary import handler as lambda_handler
from txsummary.aws import listing, observability
from txsummary.aws.settings import Settings
from txsummary.reconcile import Ports, Window

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

INVALID_CSV = b"Id,Date,Transaction\n0,7/15,abc\n"


def real_ports(table: str, prefix: str = "") -> Ports:
    """The reconcile's ports wired to the real service, as the function wires them: the one
    place this test builds them (the service's signatures are the seam's to change)."""
    settings = Settings.from_env(
        {"SUMMARY_TABLE": table, "UPLOAD_BUCKET": BUCKET, "KEY_PREFIX": prefix}
    )
    metrics = observability.make_metrics(settings.metrics_namespace, settings.function_name)
    deps = lambda_handler.build_deps(settings, lambda_handler.logger, metrics)
    return reconcile.build_ports(deps)


@pytest.fixture
def dynamodb(aws: None) -> DynamoDBClient:
    client: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    return client


def items(dynamodb: DynamoDBClient, table: str) -> list[tuple[str, str, str]]:
    found = dynamodb.scan(TableName=table)["Items"]
    return sorted((i["pk"]["S"], i["sk"]["S"], i["outcome"]["S"]) for i in found)


def last_modified(s3: S3Client, key: str, version_id: str) -> datetime:
    head = s3.head_object(Bucket=BUCKET, Key=key, VersionId=version_id)
    return head["LastModified"].astimezone(UTC)


def test_versions_without_an_event_get_one_record_each_and_a_second_run_does_nothing(
    s3: S3Client, bucket: str, dynamodb: DynamoDBClient, records: Records
) -> None:
    # Given a versioned bucket where no event ever arrived: two versions of one key, a rejected
    # file, a deleted one (a delete marker over its version) and a key that is not an upload
    table = create_table(dynamodb)
    v1 = s3.put_object(Bucket=bucket, Key="in/a.csv", Body=CHALLENGE_CSV)["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="in/a.csv", Body=CHALLENGE_CSV + b"9,9/1,+1\n")
    bad = s3.put_object(Bucket=bucket, Key="in/bad.CSV", Body=INVALID_CSV)["VersionId"]
    gone = s3.put_object(Bucket=bucket, Key="in/gone.csv", Body=CHALLENGE_CSV)["VersionId"]
    s3.delete_object(Bucket=bucket, Key="in/gone.csv")
    s3.put_object(Bucket=bucket, Key="in/notes.txt", Body=b"not a CSV")
    # And, two seconds later (S3 dates are to the second), an object too young to be due
    time.sleep(2.1)
    young = s3.put_object(Bucket=bucket, Key="in/young.csv", Body=CHALLENGE_CSV)["VersionId"]
    now = last_modified(s3, "in/young.csv", young) + timedelta(seconds=1)
    window = Window(min_age_seconds=1.5, lookback_hours=1)
    ports = real_ports(table)

    # When the reconcile runs
    first = reconcile.run(window, ports, now=now, remaining_ms=lambda: 900_000)

    # Then every due version has exactly one record, and nothing else has one
    pk = f"s3://{bucket}/in/"
    assert items(dynamodb, table) == sorted(
        [
            (pk + "a.csv", v1, "summarized"),
            (pk + "a.csv", v2["VersionId"], "summarized"),
            (pk + "bad.CSV", bad, "rejected"),
            (pk + "gone.csv", gone, "summarized"),
        ]
    )
    assert (first.examined, first.due, first.missing, first.processed) == (5, 4, 4, 4)
    assert (first.failed, first.left, first.complete) == (0, 0, True)
    # And each was reported as the handler reports it, plus one reconciled record
    outcomes = [r["outcome"] for r in records]
    assert sorted(outcomes) == ["reconciled", "rejected", "summarized", "summarized", "summarized"]
    reconciled = records[-1]
    assert {k: reconciled[k] for k in ("examined", "missing", "processed", "left")} == {
        "examined": 5,
        "missing": 4,
        "processed": 4,
        "left": 0,
    }

    # When it runs again
    second = reconcile.run(window, ports, now=now, remaining_ms=lambda: 900_000)
    # Then nothing is processed: every due version has its record
    assert (second.due, second.missing, second.processed) == (4, 0, 0)
    assert len(items(dynamodb, table)) == 4
    assert [r["outcome"] for r in records][len(outcomes) :] == ["reconciled"]


def test_the_prefix_bounds_the_listing(s3: S3Client, bucket: str, dynamodb: DynamoDBClient) -> None:
    # Given uploads inside and outside the trigger's prefix
    table = create_table(dynamodb)
    s3.put_object(Bucket=bucket, Key="in/a.csv", Body=CHALLENGE_CSV)
    s3.put_object(Bucket=bucket, Key="other/b.csv", Body=CHALLENGE_CSV)
    # When reconciled with the prefix "in/", everything old enough
    future = datetime.now(UTC) + timedelta(hours=1)
    result = reconcile.run(
        Window(min_age_seconds=0, lookback_hours=2),
        real_ports(table, prefix="in/"),
        now=future,
        remaining_ms=lambda: 900_000,
    )
    # Then only the key under the prefix was looked at
    assert (result.examined, result.processed) == (1, 1)
    assert [pk for pk, _, _ in items(dynamodb, table)] == [f"s3://{bucket}/in/a.csv"]


def test_an_unversioned_bucket_is_keyed_by_etag(s3: S3Client, dynamodb: DynamoDBClient) -> None:
    # Given a bucket without versioning, whose listing says version "null"
    s3.create_bucket(Bucket=BUCKET)
    table = create_table(dynamodb)
    etag = s3.put_object(Bucket=BUCKET, Key="a.csv", Body=CHALLENGE_CSV)["ETag"].strip('"')
    # When listed / Then the ref has no version id and carries the ETag
    (ref,) = listing.list_versions(s3, BUCKET)
    assert (ref.version_id, ref.etag) == (None, etag)
    # And when reconciled twice, the one record is keyed by the ETag, made once
    for _ in range(2):
        reconcile.run(
            Window(min_age_seconds=0, lookback_hours=1),
            real_ports(table),
            now=datetime.now(UTC) + timedelta(minutes=1),
            remaining_ms=lambda: 900_000,
        )
    assert items(dynamodb, table) == [(f"s3://{BUCKET}/a.csv", etag, "summarized")]


def test_handle_runs_the_event_with_the_invocation_s_time(
    s3: S3Client, bucket: str, dynamodb: DynamoDBClient
) -> None:
    # Given a due upload without a record, the schedule's event with overrides, and a context
    # with plenty of time
    table = create_table(dynamodb)
    s3.put_object(Bucket=bucket, Key="a.csv", Body=CHALLENGE_CSV)
    event = {**contract.RECONCILE_EVENT, "min_age_seconds": 0}

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 600_000

    # When handled as the function's entry would / Then it processed the version
    result = reconcile.handle(event, real_ports(table), Context())
    assert (result["outcome"], result["processed"], result["left"]) == ("reconciled", 1, 0)
    assert len(items(dynamodb, table)) == 1


def test_an_overwritten_version_from_before_versioning_is_not_listed(s3: S3Client) -> None:
    # Given an object written before versioning was enabled, then overwritten
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="a.csv", Body=b"old")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    new = s3.put_object(Bucket=BUCKET, Key="a.csv", Body=b"new")["VersionId"]
    # When listed / Then only the new version comes: without a version id, GetObject would
    # read the new one in place of the old "null" version
    assert [r.version_id for r in listing.list_versions(s3, BUCKET)] == [new]


def test_the_listing_reads_every_page(s3: S3Client, bucket: str) -> None:
    # Given more versions than one page holds
    for i in range(7):
        s3.put_object(Bucket=bucket, Key=f"k{i % 3}.csv", Body=b"x")
    # When listed three to a page
    refs: list[Any] = list(listing.list_versions(s3, bucket, page_size=3))
    # Then every version comes once, with its size and date
    assert len(refs) == 7
    assert len({r.version_id for r in refs}) == 7
    assert all(r.size == 1 and r.last_modified is not None for r in refs)


def test_the_handler_sends_the_schedule_s_event_to_the_reconcile(
    s3: S3Client, bucket: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function's settings for the stack, and a due upload without a record
    table = create_table(dynamodb)
    s3.put_object(Bucket=bucket, Key="a.csv", Body=CHALLENGE_CSV)
    settings = Settings.from_env({"SUMMARY_TABLE": table, "UPLOAD_BUCKET": BUCKET})
    monkeypatch.setattr(lambda_handler, "SETTINGS", settings)
    lambda_handler._deps.cache_clear()

    class Context:
        aws_request_id = "req-1"
        function_name = "txsummary-test"
        memory_limit_in_mb = 2048
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:txsummary-test"

        def get_remaining_time_in_millis(self) -> int:
            return 600_000

    try:
        # When the entry point gets the schedule's event
        result = lambda_handler.handler(
            {**contract.RECONCILE_EVENT, "min_age_seconds": 0}, cast("LambdaContext", Context())
        )
    finally:
        lambda_handler._deps.cache_clear()
    # Then the reconcile ran, not the S3 event path
    assert (result["outcome"], result["processed"]) == ("reconciled", 1)
    assert len(items(dynamodb, table)) == 1
