"""Stack settings: defaults, overrides, and clear failures for bad values (no resources)."""

from __future__ import annotations

import pulumi
import pytest

from tx_config import StackSettings
from txsummary import contract


def settings_from(values: dict[str, str]) -> StackSettings:
    pulumi.runtime.set_all_config({f"txsummary:{k}": v for k, v in values.items()})
    return StackSettings.from_config(pulumi.Config("txsummary"))


def test_fresh_stack_gets_the_documented_defaults() -> None:
    # Given no txsummary settings / When read / Then every default is the documented one
    s = settings_from({})
    assert s == StackSettings(
        memory_size=1769,
        timeout=300,
        log_retention_days=30,
        noncurrent_version_expiration_days=30,
        ecr_keep_images=10,
        max_event_age_seconds=3600,
        reserved_concurrency=None,
        key_prefix=None,
        alarm_email=None,
        log_level="INFO",
        max_object_bytes=4294967296,
        metrics_namespace="txsummary",
        force_destroy=False,
        email_from=None,
        email_to=(),
        email_allowed_domains=(),
        lake_enabled=True,
        reconcile_schedule="rate(1 hour)",
    )
    assert s.lambda_log_level == "INFO"
    assert s.mail_config() is None


def test_every_setting_can_be_overridden() -> None:
    from tests.infra.conftest import TUNED

    s = settings_from(TUNED)
    assert s == StackSettings(
        memory_size=4096,
        timeout=120,
        log_retention_days=90,
        noncurrent_version_expiration_days=7,
        ecr_keep_images=3,
        max_event_age_seconds=600,
        reserved_concurrency=5,
        key_prefix="incoming/",
        alarm_email="ops@example.com",
        log_level="WARNING",
        max_object_bytes=1048576,
        metrics_namespace="acme/txsummary",
        force_destroy=True,
        email_from="reports@example.com",
        email_to=("holder@example.com", "second@example.com"),
        email_allowed_domains=("bank.example",),
        lake_enabled=False,
        reconcile_schedule="cron(15 * * * ? *)",
    )


@pytest.mark.parametrize(
    ("level", "lambda_level"),
    [("debug", "DEBUG"), ("info", "INFO"), ("warning", "INFO"), ("error", "INFO"),
     ("critical", "INFO")],
)  # fmt: skip
def test_lambdas_log_filter_is_never_above_info(level: str, lambda_level: str) -> None:
    # Given any logLevel / Then Powertools follows it, and Lambda's filter stays at INFO (DEBUG
    # when asked), so the EMF metric lines, which carry no level, are never dropped
    s = settings_from({"logLevel": level})
    assert s.log_level == level.upper()
    assert s.lambda_log_level == lambda_level


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("memorySize", "64", "memorySize must be between 128 and 10240"),
        ("timeout", "901", "timeout must be between 1 and 900"),
        ("logRetentionDays", "31", "logRetentionDays must be one of"),
        ("maxEventAgeSeconds", "30", "maxEventAgeSeconds must be between 60 and 21600"),
        ("reservedConcurrency", "0", "reservedConcurrency must be at least 1"),
        ("logLevel", "verbose", "logLevel must be one of"),
        ("maxObjectBytes", "0", "maxObjectBytes must be at least 1"),
        ("ecrKeepImages", "0", "ecrKeepImages must be between 1 and 1000"),
        ("noncurrentVersionExpirationDays", "0", "must be at least 1"),
        ("reconcileSchedule", "hourly", "reconcileSchedule must be a rate"),
        ("reconcileSchedule", "at(2026-12-01T00:00:00)", "reconcileSchedule must be a rate"),
        ("reconcileSchedule", "rate()", "reconcileSchedule must be a rate"),
    ],
)
def test_bad_values_fail_with_the_setting_named(key: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_from({key: value})


def test_non_numeric_value_is_rejected() -> None:
    with pytest.raises(pulumi.ConfigTypeError):
        settings_from({"memorySize": "lots"})


def test_email_to_is_a_list_or_a_comma_separated_string() -> None:
    # Given the same recipients written both ways / Then they are read the same
    base = {"emailFrom": "reports@example.com"}
    listed = settings_from({**base, "emailTo": '["a@example.com", "b@example.com"]'})
    joined = settings_from({**base, "emailTo": " a@example.com , b@example.com,"})
    assert listed.email_to == joined.email_to == ("a@example.com", "b@example.com")


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"emailTo": "holder@example.com"}, "EMAIL_TO needs EMAIL_FROM"),
        ({"emailFrom": "reports", "emailTo": "a@example.com"}, "is not an e-mail address"),
        ({"emailFrom": "reports@example.com"}, "no e-mail could ever have a recipient"),
        ({"emailFrom": "r@example.com", "emailTo": "[1]"}, "list of strings"),
        ({"emailFrom": "r@example.com", "emailAllowedDomains": "a b"}, "list of domains"),
    ],
)
def test_bad_email_settings_fail_as_the_function_would(config: dict[str, str], says: str) -> None:
    # Given e-mail settings the function's own parser refuses / Then the program stops first
    with pytest.raises(ValueError, match=says):
        settings_from(config)


def test_nothing_is_staged_so_ephemeral_storage_is_lambdas_default() -> None:
    # Given the largest object allowed, the default or raised / Then /tmp stays at 512 MB: the
    # lake's Parquet goes to S3 as it is encoded
    assert settings_from({}).ephemeral_storage_mb == 512
    assert settings_from({"maxObjectBytes": str(8 * 1024**3)}).ephemeral_storage_mb == 512


def test_the_object_limit_defaults_to_the_decompression_limit() -> None:
    # The timeout allows more (see the derivation in contract.py); the 4 GiB of text the core
    # reads at most is the bound, so a larger plain CSV would be refused by it anyway
    assert (
        StackSettings().max_object_bytes == contract.DEFAULT_MAX_DECOMPRESSED_BYTES == 4 * 1024**3
    )
