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
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from txsummary.aws.redrive import function_name_of
from txsummary.contract import Env

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

OK: Final = "ok"
WARN: Final = "warn"
FAIL: Final = "FAIL"
_NOT_FOUND = frozenset({"NotFoundException", "ResourceNotFoundException", "NoSuchBucket"})


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def text(self) -> str:
        line = f"  {self.status:<5} {self.name}: {self.detail}"
        return f"{line}\n        fix: {self.fix}" if self.fix and self.status != OK else line


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
    function_arn: str | None = None

    def run(self) -> list[Check]:
        self._guard("function", self._function, blocking=True)
        self._guard("bucket notification", self._notification, blocking=True)
        self._guard("failure queue", self._queue, blocking=False)
        self._guard("SES", self._email, blocking=True)
        self._guard("alarms", self._alarms, blocking=False)
        return self.checks

    def _add(self, name: str, status: str, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, status, detail, fix))

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
            self._add("function", WARN, "not checked: no function name", _NAMES_FIX)
            return
        try:
            config = self.clients.lambda_.get_function_configuration(FunctionName=name)
        except ClientError as exc:
            if _code(exc) not in _NOT_FOUND:
                raise
            self._add("function", FAIL, f"{name} does not exist", "deploy it: pulumi up")
            return
        self.function_arn = config.get("FunctionArn")
        env = config.get("Environment", {}).get("Variables", {})
        self._take_mail_settings(env)
        state, update = config.get("State", "Active"), config.get("LastUpdateStatus", "Successful")
        reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or ""
        detail = f"{name} is {state}, last update {update}"
        if state == "Active" and update == "Successful":
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
            self._add("bucket notification", WARN, "not checked: no bucket or function", _NAMES_FIX)
            return
        try:
            config = self.clients.s3.get_bucket_notification_configuration(Bucket=bucket)
        except ClientError as exc:
            if _code(exc) not in _NOT_FOUND:
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
            self._add("failure queue", WARN, "not checked: no queue URL", _NAMES_FIX)
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
        sender = self.targets.email_from or self.targets.email_identity
        if sender is None:
            self._add("SES", OK, f"e-mail is off ({Env.EMAIL_FROM} is not set)")
            return
        account = self.clients.sesv2.get_account()
        production = bool(account.get("ProductionAccessEnabled"))
        enforcement = account.get("EnforcementStatus", "HEALTHY")
        if not account.get("SendingEnabled", True) or enforcement == "SHUTDOWN":
            self._add(
                "SES account",
                FAIL,
                f"sending is disabled (enforcement status {enforcement})",
                "see the SES console's account dashboard; resume sending once the cause is fixed",
            )
        else:
            mode = "production access" if production else "sandbox"
            status = WARN if enforcement == "PROBATION" else OK
            self._add(
                "SES account",
                status,
                f"{mode}, sending enabled, enforcement {enforcement}",
                "lower the bounce and complaint rates (SES console: reputation metrics)",
            )
        self._identity("SES sender", self.targets.email_from or sender)
        recipients = self.targets.email_to
        if production:
            return
        if not recipients:
            self._add(
                "SES recipients",
                WARN,
                f"no {Env.EMAIL_TO}: in the sandbox every metadata recipient must be verified",
                _SANDBOX_FIX,
            )
        for address in recipients:
            self._identity("SES recipient", address, sandbox=True)

    def _identity(self, name: str, address: str, *, sandbox: bool = False) -> None:
        """Verified as itself, or through its domain's identity."""
        candidates = [address] + ([address.rpartition("@")[2]] if "@" in address else [])
        for identity in candidates:
            try:
                found = self.clients.sesv2.get_email_identity(EmailIdentity=identity)
            except ClientError as exc:
                if _code(exc) not in _NOT_FOUND:
                    raise
                continue
            status = found.get("VerificationStatus", "PENDING")
            if found.get("VerifiedForSendingStatus") or status == "SUCCESS":
                via = "" if identity == address else f" (through {identity})"
                self._add(f"{name} {address}", OK, f"verified{via}")
                return
            self._add(
                f"{name} {address}",
                FAIL,
                f"identity {identity} is {status}",
                "click the link in the e-mail SES sent it (or publish the DNS records for a "
                f"domain); aws sesv2 get-email-identity --email-identity {identity}",
            )
            return
        fix = f"aws sesv2 create-email-identity --email-identity {address}, then click the link"
        if sandbox:
            fix += "; or request SES production access"
        self._add(f"{name} {address}", FAIL, "not a verified identity", fix)

    def _alarms(self) -> None:
        names, prefix = self.targets.alarm_names, self.targets.alarm_prefix
        if not names and not prefix:
            self._add(
                "alarms",
                WARN,
                "not checked: no alarm names",
                "pass the stack outputs (alarm_names), --alarm NAME or --alarm-prefix",
            )
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
                "alarms", WARN, f"not found: {', '.join(missing)}", "check the names and --region"
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
_SANDBOX_FIX = (
    f"set {Env.EMAIL_TO} (config emailTo) to verified addresses, or request SES production access"
)


def render(checks: Sequence[Check]) -> str:
    lines = ["txsummary doctor", *(c.text() for c in checks)]
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    verdict = "processing or e-mail is blocked" if failed else "ready"
    lines.append(f"{failed} FAIL, {warned} warn, {len(checks) - failed - warned} ok: {verdict}")
    return "\n".join(lines) + "\n"


def targets_from_args(args: argparse.Namespace, stdin: Any = None) -> Targets:
    """Flags over stack outputs; the outputs from a file, or standard input for ``-``."""
    targets = Targets()
    if args.stack_outputs:
        source = stdin or sys.stdin
        if args.stack_outputs == "-":
            text = source.read()
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
    made = Clients(
        clients.s3(region),
        clients.lambda_(region),
        clients.sqs(region),
        clients.sesv2(region),
        clients.cloudwatch(region),
    )
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


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
