"""The stack and the function agree: the environment the program sets is what the handler reads,
the stack's defaults are the handler's defaults, and both take the shared names from
`txsummary.contract`."""

from __future__ import annotations

import logging

import pytest

from tests.infra.pulumi_harness import Program
from tests.infra.resource_types import FUNCTION, NOTIFICATION
from tx_config import StackSettings
from txsummary import contract
from txsummary.aws.settings import Settings
from txsummary.contract import Env


@pytest.mark.parametrize("program_name", ["default_program", "tuned_program"])
def test_handler_reads_the_environment_the_stack_sets(
    request: pytest.FixtureRequest, program_name: str
) -> None:
    program: Program = request.getfixturevalue(program_name)
    function = program.one(FUNCTION)
    env = dict(function.inputs["environment"]["variables"])
    env[Env.FUNCTION_NAME] = function.inputs["name"]  # set by Lambda itself

    # When the handler reads its settings at cold start
    read = Settings.from_env(env)

    # Then it sees exactly what the stack configured, under the contract's names
    assert set(env) <= {name for attr, name in vars(Env).items() if not attr.startswith("_")}
    assert read.log_level == env[Env.LOG_LEVEL]
    assert read.max_object_bytes == int(env[Env.MAX_OBJECT_BYTES])
    assert read.metrics_namespace == env[Env.METRICS_NAMESPACE]
    assert read.function_name == function.inputs["name"]


def test_stack_defaults_are_the_handlers_defaults() -> None:
    stack, handler = StackSettings(), Settings()
    assert stack.log_level == handler.log_level == contract.DEFAULT_LOG_LEVEL
    assert stack.max_object_bytes == handler.max_object_bytes == contract.DEFAULT_MAX_OBJECT_BYTES
    assert stack.metrics_namespace == handler.metrics_namespace


@pytest.mark.parametrize("level", list(contract.LOG_LEVELS))
def test_stack_accepts_exactly_the_log_levels_the_handler_accepts(level: str) -> None:
    # Given a level the handler accepts, Then the stack accepts it, and Lambda's filter is that
    # level in Lambda's words, capped at INFO (the EMF lines carry no level)
    assert Settings.from_env({Env.LOG_LEVEL: level}).log_level == level
    capped = level if logging.getLevelName(level) <= logging.INFO else "INFO"
    assert StackSettings(log_level=level).lambda_log_level == contract.LOG_LEVELS[capped]


def test_the_notification_filters_are_the_contracts_suffixes(default_program: Program) -> None:
    rules = default_program.one(NOTIFICATION).inputs["lambdaFunctions"]
    assert tuple(rule["filterSuffix"] for rule in rules) == contract.UPLOAD_SUFFIXES
