"""The fault matrix: every AWS call of a full run x every fault kind, then Lambda's retries.

Each case runs on a fresh moto account: one upload, the stack's side effects on (table, SES,
lake). The first delivery meets the fault; Lambda retries a failed one up to twice (a minute,
then two, later: the e-mail claim's lease has run out by then), and S3 then delivers the event
once more. Whatever happened, there must be one record, one e-mail, one lake object, the summary
logged and counted once, a final duplicate, and the upload untouched. The cases that cannot
hold are the windows docs/design.md names; the test asserts that exactly those fail.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from moto.ses.models import ses_backends

from tests.challenge import CHALLENGE_CSV
from tests.integration.conftest import BUCKET, REGION, Records, emf_lines
from tests.integration.effects_support import LAKE_BUCKET, SENDER, create_table, verify_sender
from tests.integration.faults import (
    DIES_AFTER,
    DIES_BEFORE,
    KINDS,
    LOST,
    LOST_RETRIED,
    Calls,
    EnvironmentDied,
    Fault,
)
from txsummary import effects
from txsummary import handler as lambda_handler
from txsummary.aws import observability
from txsummary.aws.settings import Settings
from txsummary.service import Deps
from txsummary_local import resources

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

MOTO_ACCOUNT = "123456789012"
KEY = "in/transactions.csv"
RECIPIENT = "holder@example.com"
T0 = 1_800_000_000.0
LAMBDA_RETRIES = (60.0, 180.0)  # after the first failure, a minute; after the second, two more
SEND, MARK_SENT, REPORT = (
    ("sesv2.SendEmail", 0),
    ("dynamodb.UpdateItem", 1),
    ("dynamodb.UpdateItem", 2),
)
# The windows docs/design.md states. SES takes no idempotency key: once it accepted a message
# whose acceptance is lost (the response, or the environment, before the mark), a retry after
# the lease sends it again. And the log line follows the write that claims the report: an
# environment that dies between the two leaves the file unreported.
WINDOWS = {
    (*SEND, LOST): "a second e-mail",
    (*SEND, LOST_RETRIED): "a second e-mail",
    (*SEND, DIES_AFTER): "a second e-mail",
    (*MARK_SENT, DIES_BEFORE): "a second e-mail",
    (*REPORT, DIES_AFTER): "the summary never logged",
}
# With e-mail off (the stack's default) the report's claim is the only UpdateItem.
WINDOWS_EMAIL_OFF = {("dynamodb.UpdateItem", 0, DIES_AFTER): "the summary never logged"}


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Run:
    """One case's world, and what it observed."""

    s3: S3Client
    dynamodb: DynamoDBClient
    deps: Deps
    clock: Clock
    event: dict[str, Any]
    version: str
    stream: io.StringIO = field(default_factory=io.StringIO)

    def clients(self) -> list[Any]:
        store, mail = self.deps.store, self.deps.mail
        mailer = [] if mail is None else [mail._client]  # type: ignore[attr-defined]
        return [self.deps.s3, store._client, *mailer]  # type: ignore[union-attr]

    def deliver(self, n: int) -> dict[str, str]:
        token = effects.new_token(f"request-{n}")
        return lambda_handler.process_event(self.event, self.deps, token=token)

    def problems(self, stdout: str) -> list[str]:
        """What broke the promise (empty: the case held)."""
        found = []
        items = self.dynamodb.scan(TableName=self.deps.settings.summary_table or "")["Items"]
        sent = ses_backends[MOTO_ACCOUNT][REGION].sent_messages
        lake = resources.lake_objects(self.s3, LAKE_BUCKET)
        logs = Records(self.stream)
        summarized = [r for r in logs if r.get("outcome") == "summarized"]
        counted = sum(int(sum(r.get("FilesSummarized", [0]))) for r in emf_lines(stdout))
        for what, n in (
            ("records", len(items)),
            ("e-mails", len(sent) + (self.deps.mail is None)),
            ("lake objects", len(lake)),
        ):
            if n != 1:
                found.append(f"{n} {what}")
        if len(summarized) != 1 or counted != 1:
            found.append(f"summary logged {len(summarized)}x, counted {counted}x")
        elif lake and summarized[0].get("lake_key") != lake[0]:
            found.append("the reported lake_key is not the lake object")
        if items and items[0].get("lake_key", {}).get("S") not in lake:
            found.append("the record's lake_key is not the lake object")
        versions = self.s3.list_object_versions(Bucket=BUCKET)["Versions"]
        body = self.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
        if [v["VersionId"] for v in versions] != [self.version] or body != CHALLENGE_CSV:
            found.append("the upload changed")
        return found


@pytest.fixture
def fresh(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A factory of fresh moto worlds, one per case."""

    @contextlib.contextmanager
    def make(*, email: bool = True) -> Iterator[Run]:
        handler = lambda_handler.logger.logger_handler
        assert isinstance(handler, logging.StreamHandler)
        with mock_aws():
            run = _world(email=email)
            saved = handler.setStream(run.stream)
            try:
                yield run
            finally:
                handler.setStream(saved)

    yield make
    lambda_handler._deps.cache_clear()


def _world(*, email: bool) -> Run:
    s3: S3Client = boto3.client("s3", region_name=REGION)
    dynamodb: DynamoDBClient = boto3.client("dynamodb", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=LAKE_BUCKET)
    verify_sender(boto3.client("sesv2", region_name=REGION))
    ses_backends[MOTO_ACCOUNT][REGION].sent_messages.clear()
    table = create_table(dynamodb)
    put = s3.put_object(Bucket=BUCKET, Key=KEY, Body=CHALLENGE_CSV)
    mail = {"EMAIL_FROM": SENDER, "EMAIL_TO": RECIPIENT} if email else {}
    settings = Settings.from_env({"SUMMARY_TABLE": table, "LAKE_BUCKET": LAKE_BUCKET, **mail})
    metrics = observability.make_metrics(settings.metrics_namespace, settings.function_name)
    clock = Clock()
    deps = replace(lambda_handler.build_deps(settings, lambda_handler.logger, metrics), clock=clock)
    record = {
        "eventSource": "aws:s3",
        "s3": {
            "bucket": {"name": BUCKET},
            "object": {
                "key": KEY,
                "versionId": put["VersionId"],
                "eTag": put["ETag"].strip('"'),
                "size": len(CHALLENGE_CSV),
            },
        },
    }
    return Run(s3, dynamodb, deps, clock, {"Records": [record]}, put["VersionId"])


def _run_case(run: Run, fault: Fault | None) -> None:
    """The first delivery (meeting the fault), Lambda's retries of a failure, then S3's
    redelivery of the event, which must be a duplicate."""
    if fault is not None:
        fault.install(run.clients())
    for n, delay in enumerate((0.0, *LAMBDA_RETRIES)):
        run.clock.now = T0 + delay
        try:
            run.deliver(n)
            break
        except (Exception, EnvironmentDied):
            if fault is not None:
                fault.dead = False  # Lambda's retry runs in a new environment
            continue
    run.clock.now = T0 + 3600
    again = run.deliver(9)
    assert again == {KEY: "duplicate"}, again


@pytest.mark.parametrize("email", [True, False], ids=["email on", "email off"])
def test_the_fault_matrix_holds_outside_the_stated_windows(
    fresh: Any, capsys: pytest.CaptureFixture[str], email: bool
) -> None:
    # Given the calls a clean full run makes (the lake's, whatever the writer uses)
    windows = WINDOWS if email else WINDOWS_EMAIL_OFF
    calls = Calls()
    with fresh(email=email) as run:
        calls.install(run.clients())
        assert run.deliver(0) == {KEY: "summarized"}
        positions = calls.positions()
        assert run.deliver(1) == {KEY: "duplicate"}
        capsys.readouterr()
    assert {(op, nth) for op, nth, _ in windows} <= set(positions)
    # When each call meets each fault, followed by Lambda's retries and S3's redelivery
    failed: dict[tuple[str, int, str], list[str]] = {}
    for op, nth in positions:
        for kind in KINDS:
            fault = Fault(op, nth, kind)
            with fresh(email=email) as run:
                try:
                    _run_case(run, fault)
                    problems = run.problems(capsys.readouterr().out)
                except AssertionError as exc:
                    problems = [f"redelivery: {exc}"]
            assert fault.fired, (op, nth, kind)
            if problems:
                failed[(op, nth, kind)] = problems
    total = len(positions) * len(KINDS)
    held = total - len(failed)
    with capsys.disabled():
        on = "on" if email else "off"
        print(f"\nfault matrix, e-mail {on}: {held} of {total} held; positions {positions}")
        for case, problems in sorted(failed.items()):
            print(f"  window {case}: {problems}")
    # Then every case holds but the stated windows, and those fail only as stated
    assert set(failed) == set(windows), failed
    for case, problems in failed.items():
        expected = "2 e-mails" if windows[case] == "a second e-mail" else "summary logged 0x"
        assert all(p.startswith(expected) for p in problems), (case, problems)


class _During:
    """Runs ``then`` once, as ``op`` is called (``before-call``) or returns (``after-call``)."""

    def __init__(self, run: Run, op: str, when: str, then: Any) -> None:
        self.op, self.then, self.done = op, then, False
        for client in run.clients():
            client.meta.events.register_first(when, self._hook)

    def _hook(self, event_name: str, **_: Any) -> None:
        if not self.done and ".".join(event_name.split(".")[1:3]) == self.op:
            self.done = True
            self.then()


def test_a_delivery_between_the_record_put_and_the_email_claim_is_reported_once(
    fresh: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a second delivery that runs right after the first's record put took effect, before
    # the first claims the e-mail
    with fresh() as run:
        second: list[dict[str, str]] = []
        _During(run, "dynamodb.PutItem", "after-call", lambda: second.append(run.deliver(1)))
        # When the first delivery goes on
        first = run.deliver(0)
        # Then one of them reports the file, the other is a duplicate; one of each effect
        assert sorted([first[KEY], second[0][KEY]]) == ["duplicate", "summarized"]
        run.clock.now += 3600
        assert run.deliver(2) == {KEY: "duplicate"}
        assert run.problems(capsys.readouterr().out) == []


def test_a_slow_send_keeps_its_claim_against_a_duplicate_delivery(
    fresh: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a send that takes the SES client's longest call (every attempt timing out but the
    # last), and a duplicate delivery arriving just as it ends
    with fresh() as run:
        config: Any = run.clients()[2].meta.config
        longest = config.retries["total_max_attempts"] * (
            config.connect_timeout + config.read_timeout
        )
        second: list[dict[str, str]] = []

        def slow_send_then_duplicate() -> None:
            run.clock.now += longest
            second.append(run.deliver(1))

        _During(run, "sesv2.SendEmail", "before-call", slow_send_then_duplicate)
        # When the first delivery sends
        first = run.deliver(0)
        # Then the duplicate found the claim still held and sent nothing: one e-mail, one report
        assert (first[KEY], second[0][KEY]) == ("summarized", "duplicate")
        assert longest < effects.EMAIL_LEASE_SECONDS
        assert run.problems(capsys.readouterr().out) == []
