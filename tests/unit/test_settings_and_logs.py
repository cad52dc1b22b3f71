"""Settings validation and the local JSON log shape: pure, no AWS."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from txsummary.aws.logs import JsonFormatter
from txsummary.aws.settings import Settings, SettingsError


def test_defaults_when_unset() -> None:
    assert Settings.from_env({}) == Settings(
        log_level="INFO",
        max_object_bytes=2147483648,
        metrics_namespace="txsummary",
        function_name="txsummary-local",
    )


def test_values_are_read() -> None:
    env = {
        "LOG_LEVEL": "debug",
        "MAX_OBJECT_BYTES": "1048576",
        "METRICS_NAMESPACE": "acme/txsummary",
        "AWS_LAMBDA_FUNCTION_NAME": "txsummary-prod",
    }
    assert Settings.from_env(env) == Settings("DEBUG", 1048576, "acme/txsummary", "txsummary-prod")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' is not one of"),
        ("MAX_OBJECT_BYTES", "2GB", "MAX_OBJECT_BYTES='2GB' is not a whole number"),
        ("MAX_OBJECT_BYTES", "0", "must be a positive"),
        ("MAX_OBJECT_BYTES", "-5", "must be a positive"),
    ],
)
def test_bad_values_fail_clearly(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env({name: value})


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("txsummary", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.__dict__.update(extra)
    return record


def test_json_shape_matches_the_lambda_runtime() -> None:
    # extras become top-level keys; None values are dropped, as the runtime's formatter does
    line = JsonFormatter().format(_record(bucket="b", key="k", version_id=None, size=3))
    record = json.loads(line)
    assert list(record)[:4] == ["timestamp", "level", "message", "logger"]
    assert record["message"] == "hello you"
    assert record["level"] == "INFO"
    assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 24
    assert {k: record[k] for k in ("bucket", "key", "size")} == {
        "bucket": "b",
        "key": "k",
        "size": 3,
    }
    assert "version_id" not in record
    assert "errorType" not in record


def test_exception_fields() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("txsummary", logging.ERROR, __file__, 7, "failed", (), exc_info)
    out = json.loads(JsonFormatter().format(record))
    assert out["errorType"] == "RuntimeError"
    assert out["errorMessage"] == "boom"
    assert out["stackTrace"] and out["location"].endswith(":7")
