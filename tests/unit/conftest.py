"""Unit tests are pure: no AWS, no network, no environment."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable

import pandas as pd
import pytest

from txsummary.core.errors import InvalidFileError
from txsummary.core.model import Summary
from txsummary.core.summarize import Path, summarize_path

# The ways a file can be read: the normal mix, and each path alone.
PATHS: tuple[Path, ...] = ("mixed", "fast", "careful")


def summarize_bytes(
    data: bytes,
    *,
    chunk_size: int = 1 << 20,
    workers: int = 2,
    path: Path = "mixed",
    max_record_bytes: int = 1 << 20,
    on_rows: Callable[[pd.DataFrame], None] | None = None,
) -> Summary:
    return summarize_path(
        io.BytesIO(data),
        "test.csv",
        path,
        chunk_size=chunk_size,
        workers=workers,
        max_record_bytes=max_record_bytes,
        on_rows=on_rows,
    )


def rejection(data: bytes, **kwargs: object) -> InvalidFileError:
    with pytest.raises(InvalidFileError) as caught:
        summarize_bytes(data, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests reach nothing: a connection attempt fails the test at once."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a unit test tried to open a network connection: {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
