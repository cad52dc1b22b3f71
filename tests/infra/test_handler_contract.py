"""The stack and the function agree: the environment the program sets is what the handler reads,
and the stack's defaults are the handler's defaults."""

from __future__ import annotations

import pytest

from tests.infra.pulumi_harness import Program
from tx_config import LAMBDA_LOG_LEVELS, StackSettings
from txsummary.aws import settings as handler_settings

FUNCTION = "aws:lambda/function:Function"


@pytest.mark.parametrize("program_name", ["default_program", "tuned_program"])
def test_handler_reads_the_environment_the_stack_sets(
    request: pytest.FixtureRequest, program_name: str
) -> None:
    program: Program = request.getfixturevalue(program_name)
    function = program.one(FUNCTION)
    env = dict(function.inputs["environment"]["variables"])
    env["AWS_LAMBDA_FUNCTION_NAME"] = function.inputs["name"]  # set by Lambda itself

    # When the handler reads its settings at cold start
    read = handler_settings.Settings.from_env(env)

    # Then it sees exactly what the stack configured
    assert read.log_level == env["LOG_LEVEL"]
    assert read.max_object_bytes == int(env["MAX_OBJECT_BYTES"])
    assert read.metrics_namespace == env["METRICS_NAMESPACE"]
    assert read.function_name == function.inputs["name"]


def test_stack_defaults_are_the_handlers_defaults() -> None:
    stack = StackSettings()
    assert stack.log_level == handler_settings.DEFAULT_LOG_LEVEL
    assert stack.max_object_bytes == handler_settings.DEFAULT_MAX_OBJECT_BYTES
    assert stack.metrics_namespace == handler_settings.DEFAULT_METRICS_NAMESPACE


def test_stack_accepts_exactly_the_log_levels_the_handler_accepts() -> None:
    assert tuple(LAMBDA_LOG_LEVELS) == handler_settings.LOG_LEVELS
