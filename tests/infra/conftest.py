"""Fixtures: the Pulumi program run once with defaults and once with every setting overridden."""

from __future__ import annotations

import pytest

from tests.infra.pulumi_harness import Program, run_program

# Every setting changed from its default (keys as in `pulumi config set <key> <value>`).
TUNED = {
    "memorySize": "4096",
    "timeout": "120",
    "logRetentionDays": "90",
    "noncurrentVersionExpirationDays": "7",
    "ecrKeepImages": "3",
    "maxEventAgeSeconds": "600",
    "reservedConcurrency": "5",
    "keyPrefix": "incoming/",
    "alarmEmail": "ops@example.com",
    "logLevel": "warning",
    "maxObjectBytes": "1048576",
    "metricsNamespace": "acme/txsummary",
    "forceDestroy": "true",
    "emailFrom": "reports@example.com",
    "emailTo": '["holder@example.com", "second@example.com"]',  # as `--path 'emailTo[0]'` stores it
    "emailAllowedDomains": "bank.example",
    "lakeEnabled": "false",
    "reconcileSchedule": "cron(15 * * * ? *)",
}
# E-mail and the lake together; the recipients as a comma-separated string.
FULL = {
    **{k: v for k, v in TUNED.items() if k != "lakeEnabled"},
    "emailTo": "holder@example.com, second@example.com",
}


@pytest.fixture(scope="session")
def default_program() -> Program:
    # Given a fresh stack with only aws:region set
    return run_program()


@pytest.fixture(scope="session")
def tuned_program() -> Program:
    # Given a stack with every txsummary setting overridden
    return run_program(TUNED)


@pytest.fixture(scope="session")
def full_program() -> Program:
    # Given a stack with the summary e-mail and the lake both on
    return run_program(FULL)
