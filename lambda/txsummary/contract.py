"""The names and defaults that the function and the infrastructure share, defined once.

Pure constants: `infra/` imports this module to set the function's environment and the bucket's
notification filters, and the function reads the same names, so the two cannot drift apart.
No boto3 and no environment access here.
"""

from __future__ import annotations

from typing import Final

from txsummary.core.limits import MAX_DECOMPRESSED_BYTES

# The Powertools service name: the logger's name and the metrics' `service` dimension.
SERVICE: Final = "txsummary"


class Env:
    """Environment variables the function reads (set by infra/tx_function.py)."""

    LOG_LEVEL: Final = "LOG_LEVEL"
    MAX_OBJECT_BYTES: Final = "MAX_OBJECT_BYTES"
    MAX_DECOMPRESSED_BYTES: Final = "MAX_DECOMPRESSED_BYTES"
    METRICS_NAMESPACE: Final = "METRICS_NAMESPACE"
    # The side effects; each is off when unset. E-mail and the lake need SUMMARY_TABLE
    # (the record makes them happen once per object version); the stack always sets it.
    SUMMARY_TABLE: Final = "SUMMARY_TABLE"
    EMAIL_FROM: Final = "EMAIL_FROM"
    EMAIL_TO: Final = "EMAIL_TO"  # comma-separated addresses
    EMAIL_ALLOWED_DOMAINS: Final = "EMAIL_ALLOWED_DOMAINS"  # comma-separated domains
    LAKE_BUCKET: Final = "LAKE_BUCKET"
    # What the reconcile lists: the bucket and prefix the S3 trigger watches.
    UPLOAD_BUCKET: Final = "UPLOAD_BUCKET"
    KEY_PREFIX: Final = "KEY_PREFIX"
    # Set by Lambda itself, never by the stack.
    FUNCTION_NAME: Final = "AWS_LAMBDA_FUNCTION_NAME"


# -- Defaults ----------------------------------------------------------------------------------
DEFAULT_LOG_LEVEL: Final = "INFO"
# Larger objects are rejected unread. Nothing is staged in /tmp, so only the timeout bounds
# this: at the default memory and timeout the measured throughput allows well above
# 4 GiB (bench/notes.md), so the decompression limit is the bound, compressed or not.
DEFAULT_MAX_OBJECT_BYTES: Final = MAX_DECOMPRESSED_BYTES  # 4 GiB
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = MAX_DECOMPRESSED_BYTES  # the core's own limit, 4 GiB
DEFAULT_METRICS_NAMESPACE: Final = "txsummary"
LOCAL_FUNCTION_NAME: Final = "txsummary-local"  # outside Lambda (tests, the demo)

# -- Uploads -----------------------------------------------------------------------------------
# S3 notification filters match case-sensitively, so the stack has one rule per suffix as
# written here; the function matches them case-insensitively.
UPLOAD_SUFFIXES: Final = (".csv", ".csv.gz")

# -- Log levels: Python's name (LOG_LEVEL) -> Lambda's application log level -------------------
LOG_LEVELS: Final = {
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARNING": "WARN",
    "ERROR": "ERROR",
    "CRITICAL": "FATAL",
}
# Libraries whose INFO lines ("Found credentials...") would otherwise land in the function's log.
QUIET_LOGGERS: Final = ("boto3", "botocore", "s3transfer", "urllib3")


class Metric:
    """CloudWatch metrics (EMF) in the namespace METRICS_NAMESPACE."""

    FILES_SUMMARIZED: Final = "FilesSummarized"
    FILES_REJECTED: Final = "FilesRejected"
    TRANSACTIONS_SUMMARIZED: Final = "TransactionsSummarized"
    PROCESSING_TIME: Final = "ProcessingTime"
    DUPLICATES: Final = "Duplicates"
    EMAILS_SENT: Final = "EmailsSent"  # only when a delivery sent the e-mail
    EMAILS_FAILED: Final = "EmailsFailed"  # SES refused it for good (no retry can fix it)


METRIC_UNITS: Final = {
    Metric.FILES_SUMMARIZED: "Count",
    Metric.FILES_REJECTED: "Count",
    Metric.TRANSACTIONS_SUMMARIZED: "Count",
    Metric.PROCESSING_TIME: "Milliseconds",
    Metric.DUPLICATES: "Count",
    Metric.EMAILS_SENT: "Count",
    Metric.EMAILS_FAILED: "Count",
}
# The dimension that tells stacks apart (Powertools adds `service`).
FUNCTION_DIMENSION: Final = "function_name"

# -- Reconcile: the scheduled sweep that gives every object version without a record its verdict
# The event the schedule sends; "min_age_seconds" and "lookback_hours" may override the defaults.
RECONCILE_EVENT: Final = {"txsummary": "reconcile"}
DEFAULT_RECONCILE_MIN_AGE_SECONDS: Final = 900  # younger versions may still have an event coming
DEFAULT_RECONCILE_LOOKBACK_HOURS: Final = 24 * 7
DEFAULT_RECONCILE_SCHEDULE: Final = "rate(1 hour)"

# -- The lake: Parquet under LAKE_PREFIX/PARTITION=YYYY-MM-DD/ ---------------------------------
LAKE_PREFIX: Final = "transactions"
LAKE_PARTITION: Final = "upload_date"
# The columns, in order, with their Glue/Athena types: infra/tx_lake.py declares the table from
# this and the lake writer derives its Arrow schema from it, so the two cannot drift apart.
GLUE_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("source_bucket", "string"),
    ("source_key", "string"),
    ("source_version", "string"),
    ("line", "bigint"),
    ("id", "string"),
    ("date", "string"),  # the text as written
    ("year", "int"),  # null when the file's dates have no year
    ("month", "int"),
    ("day", "int"),
    ("amount", "decimal(18,2)"),
    ("amount_cents", "bigint"),
)
