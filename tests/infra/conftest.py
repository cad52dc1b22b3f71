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
}


@pytest.fixture(scope="session")
def default_program() -> Program:
    # Given a fresh stack with only aws:region set
    return run_program()


@pytest.fixture(scope="session")
def tuned_program() -> Program:
    # Given a stack with every txsummary setting overridden
    return run_program(TUNED)
