"""Settings validation and the shape of the Powertools log records: pure, no AWS."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txsummary import contract
from txsummary.aws import observability
from txsummary.aws.mail import MailConfig
from txsummary.aws.settings import Settings, SettingsError
from txsummary.contract import Env

# --- settings ----------------------------------------------------------------------------------


def test_defaults_when_unset() -> None:
    # Given an empty environment / When read / Then every default is the contract's
    assert Settings.from_env({}) == Settings(
        log_level="INFO",
        max_object_bytes=4294967296,
        metrics_namespace="txsummary",
        function_name="txsummary-local",
        max_decompressed_bytes=4 << 30,
        summary_table=None,
        mail=None,
        lake_bucket=None,
    )
    assert not Settings().email_enabled


def test_values_are_read() -> None:
    env = {
        "LOG_LEVEL": "debug",
        "MAX_OBJECT_BYTES": "1048576",
        "MAX_DECOMPRESSED_BYTES": "2048",
        "METRICS_NAMESPACE": "acme/txsummary",
        "AWS_LAMBDA_FUNCTION_NAME": "txsummary-prod",
        "SUMMARY_TABLE": "txsummary-summaries",
        "EMAIL_FROM": "reports@example.com",
        "EMAIL_TO": " a@example.com, b@example.org ,",
        "EMAIL_ALLOWED_DOMAINS": "Example.COM,example.org",
        "LAKE_BUCKET": "txsummary-lake",
    }
    assert Settings.from_env(env) == Settings(
        log_level="DEBUG",
        max_object_bytes=1048576,
        metrics_namespace="acme/txsummary",
        function_name="txsummary-prod",
        max_decompressed_bytes=2048,
        summary_table="txsummary-summaries",
        mail=MailConfig(
            sender="reports@example.com",
            recipients=("a@example.com", "b@example.org"),
            allowed_domains=frozenset({"example.com", "example.org"}),
        ),
        lake_bucket="txsummary-lake",
    )
    assert Settings.from_env(env).email_enabled


def test_every_variable_read_is_named_in_the_contract() -> None:
    # Given an environment that sets a value under each contract name
    seen: list[str] = []

    class Spy(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            seen.append(key)
            return super().get(key, default)

    Settings.from_env(Spy())
    # Then nothing outside the contract is read, and every contract name is read
    assert set(seen) == set(_names(Env))


def _names(namespace: type) -> list[str]:
    return [v for k, v in vars(namespace).items() if not k.startswith("_")]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' is not one of"),
        ("MAX_OBJECT_BYTES", "2GB", "MAX_OBJECT_BYTES='2GB' is not a whole number"),
        ("MAX_OBJECT_BYTES", "0", "must be a positive"),
        ("MAX_OBJECT_BYTES", "-5", "must be a positive"),
        ("MAX_DECOMPRESSED_BYTES", "lots", "MAX_DECOMPRESSED_BYTES='lots' is not a whole"),
        ("EMAIL_FROM", "reports", "EMAIL_FROM='reports' is not an e-mail address"),
        ("EMAIL_TO", "a@example.com;b@example.com", "EMAIL_TO=.* is not a comma-separated"),
        ("EMAIL_ALLOWED_DOMAINS", "exa mple.com", "is not a comma-separated list of domains"),
        ("EMAIL_TO", "", "no e-mail could ever have a recipient"),
    ],
)
def test_bad_values_fail_clearly(name: str, value: str, says: str) -> None:
    # (a sender, a recipient and the table are set, so that each value is checked for itself)
    env = {
        "SUMMARY_TABLE": "t",
        "EMAIL_FROM": "reports@example.com",
        "EMAIL_TO": "a@example.com",
        name: value,
    }
    with pytest.raises(SettingsError, match=says):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"EMAIL_TO": "a@example.com"}, "EMAIL_TO needs EMAIL_FROM"),
        ({"EMAIL_ALLOWED_DOMAINS": "example.com"}, "EMAIL_ALLOWED_DOMAINS needs EMAIL_FROM"),
        ({"EMAIL_FROM": "r@example.com", "EMAIL_TO": "a@example.com"}, "needs SUMMARY_TABLE"),
        ({"LAKE_BUCKET": "lake"}, "LAKE_BUCKET needs SUMMARY_TABLE"),
    ],
)
def test_a_side_effect_without_what_it_needs_fails(env: dict[str, str], says: str) -> None:
    # Given recipients without a sender, or e-mail or the lake without the record that makes
    # them happen once / Then the cold start fails, naming what is missing
    with pytest.raises(SettingsError, match=says):
        Settings.from_env(env)


_LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=12)
_ADDRESSES = st.lists(
    st.builds(
        lambda local, host: f"{local}@{host}.example",
        _LOCAL,
        st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    ),
    max_size=5,
)


@given(addresses=_ADDRESSES, pad=st.sampled_from(["", " ", "  "]))
def test_email_to_is_the_comma_separated_list_as_written(addresses: list[str], pad: str) -> None:
    # Given any recipients, joined with commas and optional spaces / Then they are read back
    raw = ",".join(f"{pad}{a}{pad}" for a in addresses)
    env = {"SUMMARY_TABLE": "t", "EMAIL_FROM": "reports@example.com", "EMAIL_TO": raw}
    if not addresses:  # then nobody could ever be mailed
        with pytest.raises(SettingsError, match="no e-mail could ever have a recipient"):
            Settings.from_env(env)
        return
    mail = Settings.from_env(env).mail
    assert mail is not None
    assert mail.recipients == tuple(addresses)


# --- log records -------------------------------------------------------------------------------


@pytest.fixture
def written() -> Iterator[Callable[[], list[str]]]:
    """The lines the package's Logger writes, read back; its stream and level are restored."""
    logger = observability.make_logger("INFO")
    handler = logger.logger_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    saved_stream, saved_level = handler.setStream(stream), logger.log_level
    yield lambda: stream.getvalue().splitlines()
    handler.setStream(saved_stream)
    logger.setLevel(saved_level)


def test_a_record_is_one_json_line_with_the_fields_at_the_top(
    written: Callable[[], list[str]],
) -> None:
    # Given a multi-line message and fields, one of them None
    logger = observability.make_logger("INFO")
    logger.info("Total balance is 39.74\nPer month:", extra={"bucket": "b", "version_id": None})

    # Then one line holds one JSON object: timestamp, level, message first, fields at the top
    [line] = written()
    record = json.loads(line)
    assert list(record)[:3] == ["timestamp", "level", "message"]
    assert record["message"] == "Total balance is 39.74\nPer month:"
    assert record["level"] == "INFO"
    assert record["service"] == contract.SERVICE
    assert record["timestamp"].endswith("+00:00")
    assert record["bucket"] == "b"
    assert "version_id" not in record


@given(cents=st.integers(min_value=-(10**20), max_value=10**20))
def test_money_is_written_as_an_exact_number_literal(cents: int) -> None:
    # Given any amount of cents as the Decimal the core hands out
    amount = Decimal(cents).scaleb(-2)
    stream = io.StringIO()
    logger = observability.make_logger("INFO")
    handler = logger.logger_handler
    assert isinstance(handler, logging.StreamHandler)
    saved = handler.setStream(stream)
    try:
        logger.info("summary", extra={"summary": {"total_balance": amount}})
    finally:
        handler.setStream(saved)
    # Then the JSON number reads back to the same cent, however large
    record = json.loads(stream.getvalue(), parse_float=Decimal)
    assert record["summary"]["total_balance"] == amount


def test_the_level_comes_from_log_level(written: Callable[[], list[str]]) -> None:
    logger = observability.make_logger("WARNING")
    logger.info("hidden")
    logger.warning("shown")
    assert [json.loads(line)["message"] for line in written()] == ["shown"]


def test_log_level_wins_over_lambda_s_application_log_level(
    written: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Lambda's log filter at INFO, as the stack sets it whatever logLevel is
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "INFO")
    # When the function's own level is WARNING
    logger = observability.make_logger("WARNING")
    logger.info("hidden")
    logger.warning("shown")
    # Then INFO records are not written
    assert [json.loads(line)["message"] for line in written()] == ["shown"]


def test_an_exception_record_carries_its_type_and_trace(written: Callable[[], list[str]]) -> None:
    logger = observability.make_logger("INFO")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed", extra={"key": "k.csv"})
    [record] = [json.loads(line) for line in written()]
    assert record["level"] == "ERROR"
    assert record["exception_name"] == "RuntimeError"
    assert record["exception"].rstrip().endswith("RuntimeError: boom")
    assert record["stack_trace"]["frames"]
    assert record["key"] == "k.csv"


@pytest.mark.parametrize("name", contract.QUIET_LOGGERS)
def test_third_party_loggers_are_held_at_warning(name: str) -> None:
    # Given a debug level for the package, Then boto3 and friends still say only warnings
    logger = observability.make_logger("DEBUG")
    try:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
        assert logging.getLogger(name).isEnabledFor(logging.WARNING)
    finally:
        logger.setLevel("INFO")
