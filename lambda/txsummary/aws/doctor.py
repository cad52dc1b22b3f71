"""``txsummary doctor``: is a deployed stack ready to process files and send e-mail?

Run with the operator's own credentials. The names come from ``pulumi stack output --json``
(unknown keys are ignored, so the stack may export more) or from flags, and the sender and
recipients, when not given, from the function's own environment. Each check says ok, warn or
FAIL, with the fix for anything not ok; the exit status is 1 when something blocks processing
or e-mail, and 0 otherwise (warnings do not block).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from txsummary.aws.checklist import FAIL, NOT_FOUND, OK, WARN, Check, error_code, render
from txsummary.aws.doctor_ses import ses_checks
from txsummary.aws.redrive import function_name_of
from txsummary.contract import Env

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True, slots=True)
class Targets:
    """What to check. Empty means unknown (that check says so instead of guessing)."""

    bucket: str | None = None
    function: str | None = None
    queue_url: str | None = None
    email_from: str | None = None  # the sender address (EMAIL_FROM)
    email_identity: str | None = None  # the SES identity the stack verifies (address or domain)
    email_to: tuple[str, ...] = ()
    alarm_names: tuple[str, ...] = ()
    alarm_prefix: str | None = None

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> Targets:
        """From ``pulumi stack output --json``; unknown keys are ignored."""

        def text(name: str) -> str | None:
            value = outputs.get(name)
            return str(value) if isinstance(value, str) and value else None

        alarms = outputs.get("alarm_names") or ()
        if isinstance(alarms, str):
            alarms = [a.strip() for a in alarms.split(",")]
        if isinstance(alarms, Mapping):  # {"errors": "name", ...}
            alarms = list(alarms.values())
        return cls(
            bucket=text("bucket_name"),
            function=text("function_name"),
            queue_url=text("failure_queue_url"),
            email_identity=text("email_identity"),
            alarm_names=tuple(str(a) for a in alarms if a),
            alarm_prefix=text("alarm_name_prefix") or text("alarm_prefix"),
        )


@dataclass(frozen=True, slots=True)
class Clients:
    s3: S3Client
    lambda_: LambdaClient
    sqs: SQSClient
    sesv2: SESV2Client
    cloudwatch: CloudWatchClient


@dataclass(slots=True)
class Doctor:
    targets: Targets
    clients: Clients
    checks: list[Check] = field(default_factory=list)

    def run(self) -> list[Check]:
        self._guard("function", self._function, blocking=True)
        self._guard("bucket notification", self._notification, blocking=True)
        self._guard("failure queue", self._queue, blocking=False)
        self._guard("SES", self._email, blocking=True)
        self._guard("alarms", self._alarms, blocking=False)
        return self.checks

    def _add(self, name: str, status: str, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, status, detail, fix))

    def _skip(self, name: str, missing: str, fix: str = "") -> None:
        self._add(name, WARN, f"not checked: no {missing}", fix or _NAMES_FIX)

    def _guard(self, name: str, check: Callable[[], None], *, blocking: bool) -> None:
        # A check that cannot run says why; when it guards processing or e-mail, it cannot pass.
        try:
            check()
        except (ClientError, BotoCoreError) as exc:
            self._add(
                name,
                FAIL if blocking else WARN,
                f"could not check: {exc}",
                "run with credentials that may read it (and the right --region)",
            )

    def _function(self) -> None:
        name = self.targets.function
        if name is None:
            self._skip("function", "function name")
            return
        try:
            function = self.clients.lambda_.get_function(FunctionName=name)
        except ClientError as exc:
            if error_code(exc) not in NOT_FOUND:
                raise
            self._add("function", FAIL, f"{name} does not exist", "deploy it: pulumi up")
            return
        config = function.get("Configuration", {})
        env = config.get("Environment", {}).get("Variables", {})
        self._take_mail_settings(env)
        state, update = config.get("State", "Active"), config.get("LastUpdateStatus", "Successful")
        reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or ""
        detail = f"{name} is {state}, last update {update}"
        if function.get("Concurrency", {}).get("ReservedConcurrentExecutions") == 0:
            self._add(
                "function",
                FAIL,
                f"{detail}, reserved concurrency 0: every invocation is throttled",
                "pulumi config rm reservedConcurrency (or set it above 0), then pulumi up",
            )
        elif state == "Active" and update == "Successful":
            self._add("function", OK, detail)
        elif state == "Pending" or update == "InProgress":
            self._add("function", WARN, detail, "wait a minute for the update to finish")
        else:
            fix = f"{reason} -- fix the cause, then pulumi up" if reason else "pulumi up"
            self._add("function", FAIL, detail, fix)

    def _take_mail_settings(self, env: Mapping[str, str]) -> None:
        t = self.targets
        self.targets = replace(
            t,
            email_from=t.email_from or env.get(Env.EMAIL_FROM) or None,
            email_to=t.email_to or _addresses(env.get(Env.EMAIL_TO, "")),
        )

    def _notification(self) -> None:
        bucket, function = self.targets.bucket, self.targets.function
        if bucket is None or function is None:
            self._skip("bucket notification", "bucket or function")
            return
        try:
            config = self.clients.s3.get_bucket_notification_configuration(Bucket=bucket)
        except ClientError as exc:
            if error_code(exc) not in NOT_FOUND:
                raise
            self._add("bucket notification", FAIL, f"bucket {bucket} does not exist", "pulumi up")
            return
        wanted = function_name_of(function)
        rules = [
            rule
            for rule in config.get("LambdaFunctionConfigurations", [])
            if function_name_of(rule["LambdaFunctionArn"]) == wanted
            and any(e.startswith("s3:ObjectCreated") for e in rule.get("Events", []))
        ]
        if rules:
            suffixes = sorted(_suffixes(rules))
            shown = f" (suffixes {', '.join(suffixes)})" if suffixes else ""
            self._add("bucket notification", OK, f"s3://{bucket} invokes {wanted}{shown}")
        else:
            self._add(
                "bucket notification",
                FAIL,
                f"uploads to s3://{bucket} do not invoke {wanted}",
                "pulumi up (restores the stack's BucketNotification; a bucket has one "
                "notification configuration, and another tool writing it replaces ours)",
            )

    def _queue(self) -> None:
        url = self.targets.queue_url
        if url is None:
            self._skip("failure queue", "queue URL")
            return
        attributes = self.clients.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        ).get("Attributes", {})
        # Not visible: received by someone (a redrive in progress) and not yet deleted.
        waiting = int(attributes.get("ApproximateNumberOfMessages", "0")) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", "0")
        )
        if waiting == 0:
            self._add("failure queue", OK, "empty")
            return
        function = self.targets.function or "NAME"
        self._add(
            "failure queue",
            WARN,
            f"{waiting} event(s) ran out of retries and wait there",
            "read a record's responsePayload for the cause, fix it, then "
            f"txsummary redrive {url} --function {function}",
        )

    def _email(self) -> None:
        t = self.targets
        self.checks += ses_checks(self.clients.sesv2, t.email_from or t.email_identity, t.email_to)

    def _alarms(self) -> None:
        names, prefix = self.targets.alarm_names, self.targets.alarm_prefix
        if not names and not prefix:
            self._skip("alarms", "alarm names", "pass alarm_names, --alarm NAME or --alarm-prefix")
            return
        found = list(self._describe_alarms(names, prefix))
        firing = [a for a in found if a.get("StateValue") == "ALARM"]
        missing = sorted(set(names) - {a["AlarmName"] for a in found})
        for alarm in firing:
            self._add(
                f"alarm {alarm['AlarmName']}",
                FAIL,
                f"in ALARM: {alarm.get('StateReason', '')}",
                "read the function's log records of that time (docs/operations.md); the alarm "
                "returns to OK by itself once the metric does",
            )
        if missing:
            self._add(
                "alarms", WARN, f"not found: {', '.join(missing)}", "check names and --region"
            )
        if not firing:
            self._add("alarms", OK, f"{len(found)} alarm(s), none in ALARM")

    def _describe_alarms(self, names: Sequence[str], prefix: str | None) -> Iterable[Any]:
        paginator = self.clients.cloudwatch.get_paginator("describe_alarms")
        if names:  # a stack has a handful; DescribeAlarms takes up to 100
            for page in paginator.paginate(AlarmNames=list(names[:100])):
                yield from page.get("MetricAlarms", [])
        if prefix:
            for page in paginator.paginate(AlarmNamePrefix=prefix):
                yield from (a for a in page.get("MetricAlarms", []) if a["AlarmName"] not in names)


_NAMES_FIX = "pass `pulumi stack output --json | txsummary doctor --stack-outputs -`, or the flags"


def targets_from_args(args: argparse.Namespace) -> Targets:
    """Flags over stack outputs; the outputs from a file, or standard input for ``-``."""
    targets = Targets()
    if args.stack_outputs:
        if args.stack_outputs == "-":
            text = sys.stdin.read()
        else:
            with open(args.stack_outputs, encoding="utf-8") as file:
                text = file.read()
        outputs = json.loads(text)
        if not isinstance(outputs, dict):
            raise ValueError("the stack outputs are not a JSON object")
        targets = Targets.from_outputs(outputs)
    flags = {
        "bucket": args.bucket,
        "function": args.function,
        "queue_url": args.queue_url,
        "email_from": args.email_from,
        "alarm_prefix": args.alarm_prefix,
        "email_to": tuple(a for v in args.email_to or () for a in _addresses(v)) or None,
        "alarm_names": tuple(args.alarms or ()) or None,
    }
    return replace(targets, **{k: v for k, v in flags.items() if v})


def run_cli(args: argparse.Namespace) -> int:
    """``txsummary doctor``: 0 ready, 1 something blocks, 2 bad arguments or outputs."""
    from txsummary.aws import clients  # noqa: PLC0415

    try:
        targets = targets_from_args(args)
    except (OSError, ValueError) as exc:
        print(f"txsummary doctor: cannot read the stack outputs: {exc}", file=sys.stderr)
        return 2
    if targets == Targets():
        print(f"txsummary doctor: nothing to check; {_NAMES_FIX}", file=sys.stderr)
        return 2
    region = args.region
    try:
        made = Clients(
            clients.s3(region),
            clients.lambda_(region),
            clients.sqs(region),
            clients.sesv2(region),
            clients.cloudwatch(region),
        )
    except BotoCoreError as exc:  # e.g. no region configured
        print(f"txsummary doctor: {exc}", file=sys.stderr)
        return 2
    checks = Doctor(targets, made).run()
    sys.stdout.write(render(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0


def _addresses(value: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in value.split(",") if a.strip())


def _suffixes(rules: Iterable[Any]) -> set[str]:
    found: set[str] = set()
    for rule in rules:
        for item in rule.get("Filter", {}).get("Key", {}).get("FilterRules", []):
            if item.get("Name", "").lower() == "suffix":
                found.add(item["Value"])
    return found
