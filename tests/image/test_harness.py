"""The image test's own parts, checked against simple oracles: the telemetry frame reader and
the reading of the Dockerfile."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.image.dockerfile import (
    DockerfileError,
    handler_command,
    lay_out_task_root,
    runtime_python_version,
)
from tests.image.telemetry import HEADER, Frame, parse_frames

frames = st.lists(
    st.builds(
        Frame,
        frame_type=st.integers(0, 2**32 - 1),
        timestamp_us=st.integers(0, 2**64 - 1),
        message=st.text(),
    ),
    max_size=8,
)


def encode(items: list[Frame]) -> bytes:
    """The client's framing (awslambdaric's FramedTelemetryLogSink), written out plainly."""
    out = b""
    for frame in items:
        body = frame.message.encode("utf-8")
        out += HEADER.pack(frame.frame_type, len(body), frame.timestamp_us) + body
    return out


@given(frames)
def test_frames_read_back_as_written(items: list[Frame]) -> None:
    assert parse_frames(encode(items)) == items


@given(frames.filter(bool), st.data())
def test_a_cut_frame_is_reported(items: list[Frame], data: st.DataObject) -> None:
    # Given the bytes of some frames, cut short anywhere inside the last one (16-byte header)
    raw = encode(items)
    cut = data.draw(st.integers(len(encode(items[:-1])) + 1, len(raw) - 1))
    # Then reading them fails rather than losing or inventing a record
    with pytest.raises(ValueError, match="truncated"):
        parse_frames(raw[:cut])


DOCKERFILE = """\
FROM public.ecr.aws/lambda/python:3.12
COPY lambda/requirements.txt ${LAMBDA_TASK_ROOT}/requirements.txt
RUN pip install -r "${LAMBDA_TASK_ROOT}/requirements.txt" \\
    --target "${LAMBDA_TASK_ROOT}"
COPY lambda/pkg ${LAMBDA_TASK_ROOT}/pkg
CMD [ "pkg.handler.handler" ]
"""


def test_the_dockerfile_is_read_as_docker_reads_it(tmp_path: Path) -> None:
    # Given a build context with a package, its bytecode cache and a module left out of COPY
    context = tmp_path / "context"
    for name in ("lambda/pkg/__init__.py", "lambda/pkg/handler.py", "lambda/other/x.py"):
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text("")
    (context / "lambda/pkg/__pycache__").mkdir()
    (context / "lambda/pkg/__pycache__/handler.cpython-312.pyc").write_bytes(b"")
    (context / "lambda/requirements.txt").write_text("boto3==1\n")
    # When the task root is laid out
    task_root = tmp_path / "task"
    lay_out_task_root(DOCKERFILE, task_root, context)
    # Then it holds exactly the copied files, and CMD and the base's Python are read
    files = sorted(p.relative_to(task_root).as_posix() for p in task_root.rglob("*") if p.is_file())
    assert files == ["pkg/__init__.py", "pkg/handler.py", "requirements.txt"]
    assert handler_command(DOCKERFILE) == ["pkg.handler.handler"]
    assert runtime_python_version(DOCKERFILE) == "3.12"


def test_a_copy_outside_the_task_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("")
    with pytest.raises(DockerfileError, match="outside"):
        lay_out_task_root("COPY a /etc/a\n", tmp_path / "task", tmp_path)
