"""Structured logs with the shape of the Lambda runtime's JSON log format, everywhere.

In Lambda (log format JSON) the runtime's own formatter on the root logger writes each record as
``{"timestamp", "level", "message", "logger", ...}`` plus every ``extra=`` field as a top-level
key, and drops keys whose value is None. :class:`JsonFormatter` reproduces that shape for local
runs and tests, so a record reads the same in CloudWatch, in the demo and in assertions.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

from txsummary.core.jsonout import dumps

LOGGER_NAME = "txsummary"

# LogRecord attributes that are not fields (as in the runtime's formatter).
_RESERVED = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "aws_request_id",
        "tenant_id",
        "_frame_type",
    }
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, message, logger, error fields, extras."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info
        result: dict[str, Any] = {
            "timestamp": self.formatTime(record),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc and exc[0] else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        result.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _RESERVED and key not in result
        )
        return dumps({k: v for k, v in result.items() if v is not None})


def configure(level: str, stream: TextIO | None = None) -> logging.Logger:
    """Set the package logger's level. When nothing has configured logging (a local run, not the
    Lambda runtime, which installs its JSON handler on the root logger before importing us), add
    a JSON handler on the root logger so local output has the same shape."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    return logger
