"""The image test's harness: the Lambda environment, S3 events, and one run of the runtime
interface client against the fake Runtime API, with its output cut into what each phase (cold
start, each invocation) printed."""

from __future__ import annotations

import copy
import itertools
import json
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from tests.image.dockerfile import PROJECT_ROOT
from tests.image.runtime_api import FakeRuntimeApi, Invocation
from tests.image.telemetry import Frame, TelemetryPipe, parse_frames

EVENTS = PROJECT_ROOT / "tests" / "events"
IMPORT_SHIPPED = Path(__file__).with_name("import_shipped.py")
REGION = "us-east-1"
BUCKET = "txsummary-uploads-test"
MISSING_BUCKET = "txsummary-no-such-bucket"  # never created: S3 refuses it (NoSuchBucket)
MISSING_KEY = "incoming/deleted before it was read.csv"  # never uploaded (NoSuchKey)
KEY = "incoming/july 2024/transactions.csv"  # a space: the event carries it quote_plus-encoded
FUNCTION_NAME = "txsummary"
RUN_TIMEOUT_S = 45  # the client's cold start plus a few invocations; never waits longer
STOP_TIMEOUT_S = 5

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImageRuntime:
    """The venv that stands in for the image's Python, and its task root."""

    python: Path
    python_version: str
    image_python_version: str | None
    task_root: Path
    handler: list[str]  # the Dockerfile's CMD


@dataclass(frozen=True, slots=True)
class Output:
    """What the process wrote during one phase (cold start, or one invocation)."""

    stdout: str = ""
    stderr: str = ""
    frames: tuple[Frame, ...] = ()  # on the telemetry pipe, when it is given

    def events(self) -> list[str]:
        """The log events Lambda makes of it: one per frame, one per line of stdout/stderr."""
        lines = [line for text in (self.stdout, self.stderr) for line in text.splitlines() if line]
        return [frame.message.removesuffix("\n") for frame in self.frames] + lines

    def records(self) -> list[Record]:
        """Every event as a JSON object; money stays exact (Decimal)."""
        return [json.loads(event, parse_float=Decimal) for event in self.events()]


@dataclass(frozen=True, slots=True)
class RuntimeRun:
    invocations: list[Invocation]
    init: Output  # printed before the first event was handed out
    phases: list[Output]  # phases[i]: printed while invocation i ran
    after: Output  # printed after the last invocation (the client idling)
    api: FakeRuntimeApi
    reached_idle: bool
    returncode: int | None  # None: still running when stopped (the normal case)
    task_root_changes: list[str]  # files added, removed or changed under the task root

    def everything(self) -> Output:
        parts = [self.init, *self.phases, self.after]
        return Output(
            "".join(p.stdout for p in parts),
            "".join(p.stderr for p in parts),
            tuple(frame for p in parts for frame in p.frames),
        )


def lambda_environment(image: ImageRuntime, **extra: str) -> dict[str, str]:
    """The environment Lambda gives a function's process, with fake credentials, updated with
    ``extra``; nothing is inherited from the test run (no PYTHONPATH, profile or real
    credentials leak in)."""
    env = {
        "PATH": f"{image.python.parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        # /var/task is read-only in Lambda: no __pycache__ is written there.
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(image.task_root),
        "LAMBDA_TASK_ROOT": str(image.task_root),
        "LAMBDA_RUNTIME_DIR": str(image.python.parent.parent),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{image.image_python_version or '3.12'}",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]00000000000000000000000000000000",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        # The stack's log configuration (the run takes it from the Pulumi program): JSON, and
        # INFO (in JSON format, without a level the client drops INFO records).
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # Lambda hands the execution role's session credentials over in these three.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }
    env.update(extra)
    return env


@dataclass(frozen=True, slots=True)
class Uploaded:
    bucket: str
    key: str
    version_id: str
    etag: str
    size: int


def put_event(bucket: str, key: str, *, version_id: str | None, etag: str, size: int) -> Record:
    """tests/events/s3_put.json, pointed at another object (the key encoded as S3 encodes it)."""
    event: Record = json.loads((EVENTS / "s3_put.json").read_text(encoding="utf-8"))
    record = copy.deepcopy(event["Records"][0])
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    obj.update(key=quote_plus(key), eTag=etag, size=size)
    if version_id is None:
        obj.pop("versionId", None)
    else:
        obj["versionId"] = version_id
    return {"Records": [record]}


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


def _stop(process: subprocess.Popen[bytes]) -> int | None:
    """End the client's whole process group: SIGTERM, then SIGKILL. None if it was running."""
    returncode = process.poll()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
            break
        except subprocess.TimeoutExpired:
            continue
    return returncode


def run_runtime_client(
    image: ImageRuntime,
    events: Sequence[Mapping[str, Any]],
    workdir: Path,
    env: Mapping[str, str],
    *,
    telemetry: bool,
) -> RuntimeRun:
    """``python -m awslambdaric <CMD>`` against a fake Runtime API serving ``events`` in order;
    stopped once it asks for more (or after RUN_TIMEOUT_S). With ``telemetry``, the client gets
    a telemetry log pipe as on Lambda; without it, it prints its records on stdout (as under the
    runtime interface emulator)."""
    out_path, err_path = workdir / "stdout.log", workdir / "stderr.log"
    cuts: list[tuple[int, int, int]] = []
    before = _snapshot(image.task_root)

    with (
        out_path.open("wb") as out,
        err_path.open("wb") as err,
        TelemetryPipe() as pipe,
    ):

        def cut(_: int) -> None:
            # The client writes unbuffered and asks for the next event only when the previous
            # one is done: what has been written by now ends the previous phase.
            cuts.append((out_path.stat().st_size, err_path.stat().st_size, pipe.drain()))

        with FakeRuntimeApi(events, on_next=cut) as api:
            child_env = {**env, "AWS_LAMBDA_RUNTIME_API": api.address}
            if telemetry:
                child_env["_LAMBDA_TELEMETRY_LOG_FD"] = str(pipe.write_fd)
            process = subprocess.Popen(
                [str(image.python), "-m", "awslambdaric", *image.handler],
                cwd=image.task_root,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(pipe.write_fd,) if telemetry else (),
                start_new_session=True,  # its own process group, ended as a whole below
            )
            pipe.close_write_end()
            try:
                reached_idle = api.wait_idle(RUN_TIMEOUT_S, lambda: process.poll() is None)
            finally:
                returncode = _stop(process)
        pipe.drain()
        raw_frames = pipe.data()
    after_run = _snapshot(image.task_root)
    changes = sorted(
        name for name in before.keys() | after_run.keys() if before.get(name) != after_run.get(name)
    )
    raw_out, raw_err = out_path.read_bytes(), err_path.read_bytes()
    bounds = [(0, 0, 0), *cuts, (len(raw_out), len(raw_err), len(raw_frames))]
    phases = [
        Output(
            raw_out[start[0] : end[0]].decode("utf-8", errors="replace"),
            raw_err[start[1] : end[1]].decode("utf-8", errors="replace"),
            tuple(parse_frames(raw_frames[start[2] : end[2]])),
        )
        for start, end in itertools.pairwise(bounds)
    ]
    # phases: cold start, one per invocation handed out, then the idle tail.
    init, invocation_phases, after = phases[0], phases[1:-1], phases[-1]
    if len(cuts) <= len(events):  # stopped before idling: the last phase is an invocation's
        invocation_phases, after = phases[1:], Output()
    return RuntimeRun(
        invocations=api.invocations,
        init=init,
        phases=invocation_phases,
        after=after,
        api=api,
        reached_idle=reached_idle,
        returncode=returncode,
        task_root_changes=changes,
    )
