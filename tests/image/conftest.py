"""Fixtures for the image test: the image venv, a task root laid out from the Dockerfile, moto's
server holding the uploaded object, and one run of the runtime interface client."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.image.dockerfile import (
    DOCKERFILE,
    PROJECT_ROOT,
    handler_command,
    lay_out_task_root,
    runtime_python_version,
)
from tests.image.harness import (
    BUCKET,
    KEY,
    MISSING_BUCKET,
    MISSING_KEY,
    REGION,
    ImageRuntime,
    RuntimeRun,
    Uploaded,
    lambda_environment,
    put_event,
    run_runtime_client,
)
from tests.image.runtime_venv import VenvBuildError, ensure_venv, interpreter, venv_python
from txsummary.contract import Env

FUNCTION = "aws:lambda/function:Function"


@pytest.fixture(scope="module")
def deployed_environment() -> dict[str, str]:
    """What Lambda puts in the function's environment, from the Pulumi program's Function (run
    under Pulumi's mocks): its variables, plus the log format and level of its logging config,
    its name and memory size. So the handler starts with what the stack really gives it."""
    from tests.infra.pulumi_harness import run_program

    inputs = run_program().one(FUNCTION).inputs
    logging_config = inputs.get("loggingConfig", {})
    env = {str(k): str(v) for k, v in inputs.get("environment", {}).get("variables", {}).items()}
    env["AWS_LAMBDA_LOG_FORMAT"] = str(logging_config.get("logFormat", "Text"))
    if "applicationLogLevel" in logging_config:
        env["AWS_LAMBDA_LOG_LEVEL"] = str(logging_config["applicationLogLevel"])
    env["AWS_LAMBDA_FUNCTION_NAME"] = str(inputs["name"])
    env["AWS_LAMBDA_LOG_GROUP_NAME"] = str(logging_config.get("logGroup", ""))
    if "memorySize" in inputs:
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(int(inputs["memorySize"]))
    return env


def _s3(endpoint: str) -> Any:
    return _client("s3", endpoint)


def _client(service: str, endpoint: str) -> Any:
    make: Any = boto3.client  # any service by name (the stubs want a literal)
    return make(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _empty(endpoint: str, names: dict[str, str]) -> None:
    dynamodb, s3 = _client("dynamodb", endpoint), _s3(endpoint)
    for item in dynamodb.scan(TableName=names["table"])["Items"]:
        dynamodb.delete_item(TableName=names["table"], Key={"pk": item["pk"], "sk": item["sk"]})
    for obj in s3.list_objects_v2(Bucket=names["lake"]).get("Contents", []):
        s3.delete_object(Bucket=names["lake"], Key=obj["Key"])


@pytest.fixture(scope="module")
def side_effects(moto_endpoint: str, deployed_environment: dict[str, str]) -> dict[str, str]:
    """The summary table and the lake bucket the stack names in the function's environment,
    created in moto's server; returns their names."""
    from tests.integration.effects_support import create_table

    names = {
        "table": deployed_environment[Env.SUMMARY_TABLE],
        "lake": deployed_environment[Env.LAKE_BUCKET],
    }
    create_table(_client("dynamodb", moto_endpoint), names["table"])
    _s3(moto_endpoint).create_bucket(Bucket=names["lake"])
    return names


@pytest.fixture(scope="session")
def image_runtime(tmp_path_factory: pytest.TempPathFactory) -> ImageRuntime:
    """The cached image venv (built on first use) and a fresh copy of what the Dockerfile copies."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    image_version = runtime_python_version(text)
    python, version = interpreter(image_version)
    try:
        venv = ensure_venv(python, version)
    except VenvBuildError as exc:
        pytest.fail(f"cannot build the image venv: {exc}", pytrace=False)
    if image_version is not None and version != image_version:
        warnings.warn(
            f"no Python {image_version} (the image's) on this machine: the image venv uses "
            f"Python {version}",
            stacklevel=1,
        )
    task_root = tmp_path_factory.mktemp("image") / "var-task"
    lay_out_task_root(text, task_root)
    return ImageRuntime(
        python=venv_python(venv),
        python_version=version,
        image_python_version=image_version,
        task_root=task_root,
        handler=handler_command(text),
    )


# Module scope: moto's server shares its backends with mock_aws, which other tests reset.
@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's server in this process, on a free port of 127.0.0.1."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def uploaded(moto_endpoint: str) -> Uploaded:
    """The repository's transactions.csv in a versioned bucket of moto's server."""
    s3 = _s3(moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    body = (PROJECT_ROOT / "transactions.csv").read_bytes()
    put = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    return Uploaded(BUCKET, KEY, put["VersionId"], put["ETag"].strip('"'), len(body))


# "telemetry-fd": as on Lambda, records go to the platform's log pipe as frames.
# "stdout": as under the runtime interface emulator (docker run of the image), they are printed.
@pytest.fixture(scope="module", params=["telemetry-fd", "stdout"])
def runtime_run(
    request: pytest.FixtureRequest,
    *,
    image_runtime: ImageRuntime,
    deployed_environment: dict[str, str],
    moto_endpoint: str,
    uploaded: Uploaded,
    side_effects: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> RuntimeRun:
    """One cold start, then three invocations: the uploaded object (summarized), a key that is
    not there (skipped), and an object in a bucket that does not exist (S3 refuses it: an
    unexpected failure)."""
    events = [
        put_event(
            uploaded.bucket,
            uploaded.key,
            version_id=uploaded.version_id,
            etag=uploaded.etag,
            size=uploaded.size,
        ),
        put_event(uploaded.bucket, MISSING_KEY, version_id=None, etag=uploaded.etag, size=1),
        put_event(MISSING_BUCKET, uploaded.key, version_id=None, etag=uploaded.etag, size=1),
    ]
    _empty(moto_endpoint, side_effects)  # each run starts as a first delivery
    env = lambda_environment(image_runtime, **deployed_environment, AWS_ENDPOINT_URL=moto_endpoint)
    workdir = tmp_path_factory.mktemp("runtime")
    telemetry = request.param == "telemetry-fd"
    return run_runtime_client(image_runtime, events, workdir, env, telemetry=telemetry)
