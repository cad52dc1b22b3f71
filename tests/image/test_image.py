"""What the image holds, run the way Lambda runs it.

A venv with only lambda/requirements.txt and the runtime interface client stands in for the
image's Python; a copy of what the Dockerfile's COPY lines copy stands in for its task root.
First every shipped module is imported there (no moto, no watchtower). Then
``python -m awslambdaric <CMD>`` runs against a fake Runtime API and moto's server, with the
log configuration of the deployed function (JSON, INFO), and what it posts and prints is read.

Written against the handler's contract (docs: record fields at the top level of each JSON log
record; an unexpected failure is raised), not against one implementation of it.
"""

from __future__ import annotations

import io
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest

from tests.image.harness import (
    IMPORT_SHIPPED,
    MISSING_BUCKET,
    MISSING_KEY,
    ImageRuntime,
    Record,
    RuntimeRun,
    Uploaded,
    lambda_environment,
)

pytestmark = pytest.mark.image

IMPORT_TIMEOUT_S = 60
THIRD_PARTY = ("botocore", "boto3", "urllib3", "s3transfer")
SUMMARIZED, SKIPPED, FAILED = 0, 1, 2  # the invocations, in the order the events are served


def handler_records(records: list[Record]) -> list[Record]:
    """The records that the function's code wrote: all but the runtime client's own report of
    an uncaught exception, which has errorType and no message."""
    return [r for r in records if "message" in r or "errorType" not in r]


# --- what the image holds ---------------------------------------------------------------------


def test_every_shipped_module_imports_without_development_packages(
    image_runtime: ImageRuntime,
) -> None:
    # Given the task root laid out from the Dockerfile, in a venv without moto or watchtower
    # When every module under it is imported by the image venv's Python
    done = subprocess.run(
        [str(image_runtime.python), str(IMPORT_SHIPPED), str(image_runtime.task_root)],
        cwd=image_runtime.task_root,
        env=lambda_environment(image_runtime),
        capture_output=True,
        text=True,
        timeout=IMPORT_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])

    # Then the venv really lacks the development-only packages (else the check proves nothing)
    assert report["forbidden_installed"] == []
    # And no shipped module asks for them, not even behind a try/except ImportError
    assert report["forbidden_attempts"] == []
    # And every module imports, from the task root (not from some installed copy)
    assert report["failed"] == {}, "\n".join(report["failed"].values())
    handler_module = image_runtime.handler[0].rpartition(".")[0]
    assert handler_module in report["imported"]
    for name, file in report["imported"].items():
        assert Path(file).is_relative_to(image_runtime.task_root), (name, file)


def test_the_task_root_holds_only_what_the_dockerfile_copies(image_runtime: ImageRuntime) -> None:
    # Given the task root laid out from the Dockerfile's COPY lines
    top_level = {p.name for p in image_runtime.task_root.iterdir()}
    # Then the handler's package is there and the local emulation is not
    handler_package = image_runtime.handler[0].split(".")[0]
    assert handler_package in top_level
    assert "txsummary_local" not in top_level
    assert not list(image_runtime.task_root.rglob("__pycache__"))


# --- run by the runtime interface client -------------------------------------------------------


def test_the_stack_gives_the_function_json_logs_with_a_level(
    deployed_environment: dict[str, str],
) -> None:
    # Given the environment the Pulumi program's function gets
    # Then its records are JSON, and a level is set: without one, the client (4.2.2) drops
    # INFO records in JSON format, the summarized record among them
    assert deployed_environment["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert deployed_environment.get("AWS_LAMBDA_LOG_LEVEL") in ("DEBUG", "INFO", "TRACE")


def test_the_client_starts_and_handles_every_event(runtime_run: RuntimeRun) -> None:
    # Given one cold start and three events served by the fake Runtime API
    # Then the handler loaded (no init error), every event was answered, and the client went
    # back to asking for the next event
    assert runtime_run.api.init_errors == [], runtime_run.init.events()
    assert runtime_run.api.unexpected == []
    assert runtime_run.returncode is None, (
        f"the client exited by itself (status {runtime_run.returncode}): {runtime_run.everything()}"
    )
    assert all(i.finished.is_set() for i in runtime_run.invocations), runtime_run.everything()
    assert runtime_run.reached_idle
    # And nothing was written under the task root (read-only in Lambda)
    assert runtime_run.task_root_changes == []


def test_a_summarized_object_posts_a_json_response(runtime_run: RuntimeRun) -> None:
    # Given the invocation for the uploaded object
    summarized = runtime_run.invocations[SUMMARIZED]
    # Then the runtime client posted a response (not an error), and it is JSON
    assert summarized.error is None, summarized.error
    assert summarized.response is not None
    json.loads(summarized.response)


def test_every_log_event_is_one_json_object(runtime_run: RuntimeRun) -> None:
    # Given every log event the process made, from cold start to idle: each frame on the
    # telemetry pipe, each line of stdout and stderr
    events = runtime_run.everything().events()
    assert events, "the function logged nothing"
    # Then each is one JSON object (a multi-line message never splits a record)
    for event in events:
        assert isinstance(json.loads(event), dict), event


def test_the_summarized_record_has_the_object_and_summary_at_the_top_level(
    runtime_run: RuntimeRun, uploaded: Uploaded
) -> None:
    # Given the records printed while the uploaded object was handled
    records = runtime_run.phases[SUMMARIZED].records()
    # Then exactly one says it summarized, with the object's fields as top-level keys
    (record,) = [r for r in records if r.get("outcome") == "summarized"]
    assert record["bucket"] == uploaded.bucket
    assert record["key"] == uploaded.key  # decoded from the event's quote_plus form
    assert record["version_id"] == uploaded.version_id
    assert record["etag"] == uploaded.etag
    assert record["size"] == uploaded.size
    assert isinstance(record["duration_ms"], int | Decimal)
    assert isinstance(record["summary"], dict)
    assert record["summary"]["transactions"] == 4


def test_the_summarized_records_money_is_an_exact_number(runtime_run: RuntimeRun) -> None:
    # Given the summarized record, parsed with floats read as Decimal
    records = runtime_run.phases[SUMMARIZED].records()
    (record,) = [r for r in records if r.get("outcome") == "summarized"]
    # Then money is a JSON number, exact to the cent: 60.5 - 10.3 - 20.46 + 10
    assert record["summary"]["total_balance"] == Decimal("39.74")


def test_no_third_party_info_lines(runtime_run: RuntimeRun) -> None:
    # Given every record the process printed at INFO (the function's log level)
    records = runtime_run.everything().records()
    # Then none comes from the AWS SDK or its HTTP stack ("Found credentials...")
    noisy = [
        r
        for r in records
        if str(r.get("logger", "")).split(".")[0] in THIRD_PARTY
        or str(r.get("message", "")).startswith(("Found credentials", "Found endpoint"))
    ]
    assert noisy == []


def test_a_key_that_is_gone_is_skipped_with_its_fields(
    runtime_run: RuntimeRun, uploaded: Uploaded
) -> None:
    # Given the invocation for a key that is not in the bucket (deleted before it was read)
    gone = runtime_run.invocations[SKIPPED]
    # Then it is answered (a retry cannot bring the object back), not raised
    assert gone.error is None, gone.error
    assert gone.response is not None
    # And one record says it was skipped, with the object's bucket and key
    records = runtime_run.phases[SKIPPED].records()
    (record,) = [r for r in records if r.get("outcome") == "skipped"]
    assert record["bucket"] == uploaded.bucket
    assert record["key"] == MISSING_KEY


def test_a_refused_object_posts_an_error_and_its_records_keep_the_objects_fields(
    runtime_run: RuntimeRun, uploaded: Uploaded
) -> None:
    # Given the invocation for an object in a bucket that does not exist (S3 refuses it)
    failed = runtime_run.invocations[FAILED]
    # Then the runtime client posted to /error (so Lambda retries), not a response
    assert failed.response is None, failed.response
    error = failed.error_json()
    assert error["errorType"]
    # And the client logged its own report of the uncaught exception (on the pipe, when given)
    everything = runtime_run.phases[FAILED].records()
    records = handler_records(everything)
    assert len(records) < len(everything), everything
    # And the function's own error records for it carry the object's bucket and key
    errors = [r for r in records if r.get("level") in ("ERROR", "CRITICAL")]
    assert errors, records
    for record in errors:
        assert record.get("bucket") == MISSING_BUCKET, record
        assert record.get("key") == uploaded.key, record


def test_the_summarized_object_is_recorded_once_and_its_rows_are_in_the_lake(
    runtime_run: RuntimeRun, uploaded: Uploaded, side_effects: dict[str, str], moto_endpoint: str
) -> None:
    # Given the run with the environment the stack gives (SUMMARY_TABLE, LAKE_BUCKET)
    def client(service: str) -> Any:
        make: Any = boto3.client  # any service by name (the stubs want a literal)
        return make(
            service, endpoint_url=moto_endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip

    # Then the shipped package (with pyarrow) wrote one record for the version
    items = client("dynamodb").scan(TableName=side_effects["table"])["Items"]
    assert [(i["pk"]["S"], i["sk"]["S"], i["outcome"]["S"]) for i in items] == [
        (f"s3://{uploaded.bucket}/{uploaded.key}", uploaded.version_id, "summarized")
    ]
    assert items[0]["total_balance_cents"] == {"N": "3974"}
    # And one lake object holding the file's rows, named in the summarized record
    s3 = client("s3")
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=side_effects["lake"])["Contents"]]
    body = s3.get_object(Bucket=side_effects["lake"], Key=key)["Body"].read()
    frame = pd.read_parquet(io.BytesIO(body))
    assert frame["amount_cents"].tolist() == [6050, -1030, -2046, 1000]
    records = runtime_run.phases[SUMMARIZED].records()
    (record,) = [r for r in records if r.get("outcome") == "summarized"]
    assert record["lake_key"] == key
