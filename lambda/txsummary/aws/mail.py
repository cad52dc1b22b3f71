"""SES v2 adapter (the Mail port): who gets an object's e-mail, and sending the built MIME
message as a raw e-mail. Rendering is in core/email.py.

E-mail is on when ``EMAIL_FROM`` is set. ``EMAIL_TO`` is a comma-separated list of recipients;
an object's metadata ``email`` picks the recipient instead, only when its domain is one of
``EMAIL_ALLOWED_DOMAINS`` (comma-separated). In the SES sandbox every recipient must be a
verified identity too.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import TYPE_CHECKING, Final

from txsummary.contract import Env

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

    from txsummary.effects import Result
    from txsummary.objects import ObjectRef

# The SES client's whole call, every attempt at its longest, stays inside the e-mail claim's
# lease (effects.EMAIL_LEASE_SECONDS), so no second delivery can take the claim over mid-send.
TOTAL_ATTEMPTS = 3  # the first and two retries
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 8
# SES v2 SendEmail errors that no retry fixes: the operator must act (verify an identity, lift
# a pause), then `txsummary resend`.
PERMANENT_ERRORS: Final = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "SendingPausedException",
        "AccountSuspendedException",
    }
)
METADATA_EMAIL: Final = "email"  # the user metadata key (x-amz-meta-email) that may pick one
_DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z0-9-]+")


class MailConfigError(ValueError):
    """The e-mail settings cannot work: a malformed address, or no way to pick a recipient."""


@dataclass(frozen=True, slots=True)
class MailConfig:
    """Who sends, to whom by default, and which metadata domains may pick the recipient."""

    sender: str
    recipients: tuple[str, ...] = ()
    allowed_domains: frozenset[str] = frozenset()

    @classmethod
    def from_values(
        cls, email_from: str | None, email_to: str | None = None, allowed_domains: str | None = None
    ) -> MailConfig | None:
        """Parse the three settings as the function reads them (``EMAIL_FROM``, ``EMAIL_TO``,
        ``EMAIL_ALLOWED_DOMAINS``; the last two comma-separated). The one parser of these values:
        ``Settings.from_env`` and the stack's settings both call it. None when all three are
        empty: e-mail is off."""
        sender = (email_from or "").strip()
        recipients = _items(email_to)
        domains = tuple(d.lower().lstrip("@") for d in _items(allowed_domains))
        if not sender:
            if recipients or domains:
                name = Env.EMAIL_TO if recipients else Env.EMAIL_ALLOWED_DOMAINS
                raise MailConfigError(f"{name} needs {Env.EMAIL_FROM}, the sender, to be set too")
            return None
        if single_address(sender) is None:
            raise MailConfigError(f"{Env.EMAIL_FROM}={email_from!r} is not an e-mail address")
        bad = [r for r in recipients if single_address(r) is None]
        if bad:
            raise MailConfigError(
                f"{Env.EMAIL_TO}={email_to!r} is not a comma-separated list of e-mail addresses "
                f"(not addresses: {bad!r})"
            )
        if any(not _DOMAIN.fullmatch(d) for d in domains):
            raise MailConfigError(
                f"{Env.EMAIL_ALLOWED_DOMAINS}={allowed_domains!r} is not a comma-separated list "
                "of domains"
            )
        if not recipients and not domains:
            raise MailConfigError(
                f"{Env.EMAIL_FROM} is set but {Env.EMAIL_TO} and {Env.EMAIL_ALLOWED_DOMAINS} are "
                "empty: no e-mail could ever have a recipient"
            )
        return cls(sender=sender, recipients=recipients, allowed_domains=frozenset(domains))


def _items(text: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (text or "").split(",") if item.strip())


def choose_recipients(
    default: Sequence[str], metadata: Mapping[str, str], allowed_domains: Collection[str]
) -> tuple[str, ...]:
    """The object's ``email`` metadata when it is one plain address in an allowed domain,
    otherwise ``default``. The allow-list keeps an uploader from making the function mail
    anyone; domains match exactly, case-insensitively."""
    wanted = single_address(metadata.get(METADATA_EMAIL, ""))
    allowed = {d.strip().lower() for d in allowed_domains if d.strip()}
    if wanted is not None and wanted.rpartition("@")[2].lower() in allowed:
        return (wanted,)
    return tuple(default)


def single_address(text: str) -> str | None:
    """``text`` when it is exactly one bare address (local@domain), else None."""
    text = text.strip()
    if not text or any(ch.isspace() or ch in ",;<>\"'()[]\\" for ch in text):
        return None
    _, address = parseaddr(text)
    local, at, domain = address.partition("@")
    if address != text or not (local and at and domain) or "@" in domain or "." not in domain:
        return None
    return address


def sesv2_client() -> SESV2Client:
    """A client with standard retries (throttling and transient errors are retried) and
    timeouts bounded so that its whole call fits in the e-mail claim's lease."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        retries={"mode": "standard", "total_max_attempts": TOTAL_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )
    return boto3.client("sesv2", config=config)


class Mailer:
    """Builds and sends the summary (or rejection) e-mail for one object version."""

    def __init__(self, client: SESV2Client, config: MailConfig) -> None:
        self.config = config
        self._client = client

    def recipients(self, metadata: Mapping[str, str]) -> tuple[str, ...]:
        """Who gets this object's e-mail; empty when nobody can."""
        return choose_recipients(self.config.recipients, metadata, self.config.allowed_domains)

    def message(self, ref: ObjectRef, result: Result, recipients: tuple[str, ...]) -> EmailMessage:
        """The MIME message for a summary or a rejection."""
        from txsummary.core import email  # noqa: PLC0415 - jinja2 with e-mail on only
        from txsummary.core.errors import InvalidFileError  # noqa: PLC0415

        bucket, key, version_id = ref.bucket, ref.key, ref.version_id
        if isinstance(result, InvalidFileError):
            rendered = email.render_rejection(result, bucket=bucket, key=key, version_id=version_id)
        else:
            rendered = email.render_summary(result, bucket=bucket, key=key, version_id=version_id)
        return email.build_message(
            rendered,
            sender=self.config.sender,
            recipients=recipients,
            date=datetime.now(UTC),
        )

    def send(self, message: EmailMessage, recipients: tuple[str, ...]) -> str:
        """SendEmail with the raw MIME bytes; returns SES's MessageId. A refusal no retry fixes
        raises :class:`~txsummary.effects.MailRefused` with SES's reason; other errors
        (throttling, 5xx, the network) propagate, so that Lambda retries."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        from txsummary.effects import MailRefused  # noqa: PLC0415

        try:
            response = self._client.send_email(
                FromEmailAddress=self.config.sender,
                Destination={"ToAddresses": list(recipients)},
                Content={"Raw": {"Data": message.as_bytes()}},  # the message's own 7-bit policy
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code in PERMANENT_ERRORS:
                raise MailRefused(f"{code}: {error.get('Message', '')}".rstrip(": ")) from exc
            raise
        return response["MessageId"]
