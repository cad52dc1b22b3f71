"""The doctor's SES checks: can the account send, is the sender verified, and, in the sandbox,
is every configured recipient verified (SES refuses the others there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from txsummary.aws.checklist import FAIL, NOT_FOUND, OK, WARN, Check, error_code
from txsummary.contract import Env

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

_SANDBOX_FIX = (
    f"set {Env.EMAIL_TO} (config emailTo) to verified addresses, or request SES production access"
)


def ses_checks(sesv2: SESV2Client, sender: str | None, recipients: Sequence[str]) -> list[Check]:
    """The account, then the sender, then (in the sandbox) each recipient. No sender: e-mail is
    off, and there is nothing to check."""
    if sender is None:
        return [Check("SES", OK, f"e-mail is off ({Env.EMAIL_FROM} is not set)")]
    account = sesv2.get_account()
    production = bool(account.get("ProductionAccessEnabled"))
    enforcement = account.get("EnforcementStatus", "HEALTHY")
    checks: list[Check] = []
    if not account.get("SendingEnabled", True) or enforcement == "SHUTDOWN":
        checks.append(
            Check(
                "SES account",
                FAIL,
                f"sending is disabled (enforcement status {enforcement})",
                "see the SES console's account dashboard; resume sending once the cause is fixed",
            )
        )
    else:
        mode = "production access" if production else "sandbox"
        checks.append(
            Check(
                "SES account",
                WARN if enforcement == "PROBATION" else OK,
                f"{mode}, sending enabled, enforcement {enforcement}",
                "lower the bounce and complaint rates (SES console: reputation metrics)",
            )
        )
    checks.append(identity_check(sesv2, "SES sender", sender))
    if production:
        return checks
    if not recipients:
        checks.append(
            Check(
                "SES recipients",
                WARN,
                f"no {Env.EMAIL_TO}: in the sandbox every metadata recipient must be verified",
                _SANDBOX_FIX,
            )
        )
    checks += [identity_check(sesv2, "SES recipient", a, sandbox=True) for a in recipients]
    return checks


def identity_check(sesv2: SESV2Client, name: str, address: str, *, sandbox: bool = False) -> Check:
    """Verified as itself, or through its domain's identity."""
    label = f"{name} {address}"
    candidates = [address] + ([address.rpartition("@")[2]] if "@" in address else [])
    for identity in candidates:
        try:
            found = sesv2.get_email_identity(EmailIdentity=identity)
        except ClientError as exc:
            if error_code(exc) not in NOT_FOUND:
                raise
            continue
        status = found.get("VerificationStatus", "PENDING")
        if found.get("VerifiedForSendingStatus") or status == "SUCCESS":
            via = "" if identity == address else f" (through {identity})"
            return Check(label, OK, f"verified{via}")
        return Check(
            label,
            FAIL,
            f"identity {identity} is {status}",
            "click the link in the e-mail SES sent it (or publish the DNS records for a "
            f"domain); aws sesv2 get-email-identity --email-identity {identity}",
        )
    fix = f"aws sesv2 create-email-identity --email-identity {address}, then click the link"
    if sandbox:
        fix += "; or request SES production access"
    return Check(label, FAIL, "not a verified identity", fix)
