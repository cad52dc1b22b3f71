"""Structured logs and metrics with Powertools for AWS Lambda (Python).

The Logger writes one JSON object per record to stdout, with every ``extra=`` field as a top-level
key, the same in Lambda, in the demo and in tests. Its serializer is the core's
:func:`~txsummary.core.jsonout.dumps`, so money in a record stays an exact number literal.
Metrics are CloudWatch Embedded Metric Format lines on stdout, which Lambda ships to the log
group, where CloudWatch extracts them.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics

from txsummary import contract
from txsummary.core.jsonout import dumps

# timestamp first, as in Lambda's own JSON records; the rest follows in insertion order.
_RECORD_ORDER = ["timestamp", "level", "message"]


def make_logger(level: str) -> Logger:
    """The package's Logger at ``level`` (a Python level name), with third-party loggers held at
    WARNING. Loggers of one service share a handler, so calling this again only sets the level."""
    logger = Logger(
        service=contract.SERVICE,
        level=level,
        json_serializer=dumps,
        log_record_order=_RECORD_ORDER,
        utc=True,
        use_rfc3339=True,
    )
    # A Logger built before (e.g. at import, at another level) keeps its first level otherwise,
    # and Powertools prefers Lambda's application log level (capped at INFO by the stack) to the
    # one given: set the standard logger's own level, so LOG_LEVEL=WARNING does hide INFO.
    logger.setLevel(level)
    logging.getLogger(logger.name).setLevel(level)
    for name in contract.QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return logger


def make_metrics(namespace: str, function_name: str) -> Metrics:
    """Metrics in ``namespace`` with the dimensions ``service`` and ``function_name``, so that
    two stacks in one account count apart."""
    metrics = Metrics(service=contract.SERVICE, namespace=namespace)
    metrics.set_default_dimensions(**{contract.FUNCTION_DIMENSION: function_name})
    return metrics
