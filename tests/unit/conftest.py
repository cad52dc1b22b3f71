"""Unit tests are pure: no AWS, no network, no environment."""

from __future__ import annotations

import io

import pytest

from txsummary.core.errors import InvalidFileError
from txsummary.core.model import Summary
from txsummary.core.summarize import summarize_stream


def summarize_bytes(data: bytes, *, chunk_size: int = 1 << 20, workers: int = 2) -> Summary:
    return summarize_stream(io.BytesIO(data), "test.csv", chunk_size=chunk_size, workers=workers)


def rejection(data: bytes, **kwargs: int) -> InvalidFileError:
    with pytest.raises(InvalidFileError) as caught:
        summarize_bytes(data, **kwargs)
    return caught.value
