"""Stack settings: every value read once from ``pulumi.Config()``, each with a default.

A fresh stack needs only ``aws:region``. Set anything else with, e.g.,
``pulumi config set memorySize 4096``. E-mail is on when ``emailFrom`` is set:
``pulumi config set emailFrom reports@example.com`` and
``pulumi config set --path 'emailTo[0]' holder@example.com`` (or ``emailTo`` as
``a@example.com,b@example.com``); ``emailAllowedDomains`` likewise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi

from txsummary import contract
from txsummary.aws.mail import MailConfig, MailConfigError

# Lambda's default /tmp: nothing is staged there (the lake streams to S3 from memory).
EPHEMERAL_MB = 512

# EventBridge Scheduler's recurring forms; a one-time at(...) would reconcile once only.
SCHEDULE_EXPRESSION = re.compile(r"(rate|cron)\(\S.*\)")

# Retention periods CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StackSettings:
    # One full vCPU, the cheapest size that gives the start-up a whole one; the cost per file is
    # flat below it and grows above it (docs/BENCHMARKS.md, the memory size).
    memory_size: int = 1769
    timeout: int = 300
    log_retention_days: int = 30
    noncurrent_version_expiration_days: int = 30
    ecr_keep_images: int = 10
    max_event_age_seconds: int = 3600
    reserved_concurrency: int | None = None
    key_prefix: str | None = None
    alarm_email: str | None = None
    log_level: str = contract.DEFAULT_LOG_LEVEL
    max_object_bytes: int = contract.DEFAULT_MAX_OBJECT_BYTES
    metrics_namespace: str = contract.DEFAULT_METRICS_NAMESPACE
    force_destroy: bool = False
    # E-mail (on when email_from is set) and the lake.
    email_from: str | None = None
    email_to: tuple[str, ...] = ()
    email_allowed_domains: tuple[str, ...] = ()
    lake_enabled: bool = True
    reconcile_schedule: str = contract.DEFAULT_RECONCILE_SCHEDULE

    def __post_init__(self) -> None:
        _check_range("memorySize", self.memory_size, 128, 10240)
        _check_range("timeout", self.timeout, 1, 900)
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS))
            raise ValueError(f"logRetentionDays must be one of {allowed}")
        _check_range("noncurrentVersionExpirationDays", self.noncurrent_version_expiration_days, 1)
        _check_range("ecrKeepImages", self.ecr_keep_images, 1, 1000)
        _check_range("maxEventAgeSeconds", self.max_event_age_seconds, 60, 21600)
        if self.reserved_concurrency is not None:
            _check_range("reservedConcurrency", self.reserved_concurrency, 1)
        if self.log_level not in contract.LOG_LEVELS:
            raise ValueError(f"logLevel must be one of {', '.join(contract.LOG_LEVELS)}")
        _check_range("maxObjectBytes", self.max_object_bytes, 1)
        if not self.metrics_namespace:
            raise ValueError("metricsNamespace must not be empty")
        if not SCHEDULE_EXPRESSION.fullmatch(self.reconcile_schedule):
            raise ValueError(
                "reconcileSchedule must be a rate(...) or cron(...) expression, e.g. "
                f"{contract.DEFAULT_RECONCILE_SCHEDULE!r}, got {self.reconcile_schedule!r}"
            )
        try:  # the function's own parser: the stack refuses what the function would
            self.mail_config()
        except MailConfigError as exc:
            raise ValueError(f"emailFrom, emailTo, emailAllowedDomains: {exc}") from None

    def mail_config(self) -> MailConfig | None:
        return MailConfig.from_values(
            self.email_from, ",".join(self.email_to), ",".join(self.email_allowed_domains)
        )

    @property
    def ephemeral_storage_mb(self) -> int:
        """Lambda's default: the lake's Parquet goes to S3 as it is encoded, not to /tmp."""
        return EPHEMERAL_MB

    @property
    def lambda_log_level(self) -> str:
        """Lambda's application log filter: INFO, or DEBUG when logLevel is DEBUG; never above.

        The metrics' EMF lines carry no level, and Lambda drops them under a filter above INFO,
        so only the function's own LOG_LEVEL follows a higher logLevel."""
        return contract.LOG_LEVELS["DEBUG" if self.log_level == "DEBUG" else "INFO"]

    @classmethod
    def from_config(cls, config: pulumi.Config | None = None) -> StackSettings:
        cfg = config if config is not None else pulumi.Config()
        d = cls()

        def integer(key: str, default: int) -> int:
            value = cfg.get_int(key)
            return default if value is None else value

        return cls(
            memory_size=integer("memorySize", d.memory_size),
            timeout=integer("timeout", d.timeout),
            log_retention_days=integer("logRetentionDays", d.log_retention_days),
            noncurrent_version_expiration_days=integer(
                "noncurrentVersionExpirationDays", d.noncurrent_version_expiration_days
            ),
            ecr_keep_images=integer("ecrKeepImages", d.ecr_keep_images),
            max_event_age_seconds=integer("maxEventAgeSeconds", d.max_event_age_seconds),
            reserved_concurrency=cfg.get_int("reservedConcurrency"),
            key_prefix=cfg.get("keyPrefix") or None,
            alarm_email=cfg.get("alarmEmail") or None,
            log_level=(cfg.get("logLevel") or d.log_level).upper(),
            max_object_bytes=integer("maxObjectBytes", d.max_object_bytes),
            metrics_namespace=cfg.get("metricsNamespace") or d.metrics_namespace,
            force_destroy=cfg.get_bool("forceDestroy") or d.force_destroy,
            email_from=(cfg.get("emailFrom") or "").strip() or None,
            email_to=_strings(cfg, "emailTo"),
            email_allowed_domains=_strings(cfg, "emailAllowedDomains"),
            lake_enabled=_boolean(cfg, "lakeEnabled", d.lake_enabled),
            reconcile_schedule=(cfg.get("reconcileSchedule") or d.reconcile_schedule).strip(),
        )


def _strings(cfg: pulumi.Config, key: str) -> tuple[str, ...]:
    """A list setting: a YAML/JSON list of strings (``--path 'key[0]'``) or a comma-separated
    string."""
    raw = cfg.get(key)
    if not raw:
        return ()
    try:
        value: object = json.loads(raw)
    except ValueError:
        value = raw
    if isinstance(value, str):
        items: list[str] = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        raise ValueError(f"{key} must be a list of strings or a comma-separated string")
    return tuple(item.strip() for item in items if item.strip())


def _boolean(cfg: pulumi.Config, key: str, default: bool) -> bool:
    value = cfg.get_bool(key)
    return default if value is None else value


def _check_range(name: str, value: int, low: int, high: int | None = None) -> None:
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
