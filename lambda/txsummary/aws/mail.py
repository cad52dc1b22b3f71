"""SES v2 adapter: send a built MIME message as a raw e-mail. Rendering is in core/email.py.

E-mail is on when ``EMAIL_FROM`` is set. ``EMAIL_TO`` is a comma-separated list of recipients;
an object's metadata ``email`` picks the recipient instead, only when its domain is one of
``EMAIL_ALLOWED_DOMAINS`` (comma-separated). In the SES sandbox every recipient must be a
verified identity too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

from txsummary.contract import Env

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

    from txsummary.core.errors import InvalidFileError
    from txsummary.core.model import Summary

MAX_ATTEMPTS = 5
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
        from txsummary.core.email import single_address  # noqa: PLC0415 - e-mail on only

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


def sesv2_client() -> SESV2Client:
    """A client with standard retries (throttling and transient errors are retried)."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    retries = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS})
    return boto3.client("sesv2", config=retries)


class Mailer:
    """Builds and sends the summary (or rejection) e-mail for one object version."""

    def __init__(self, client: SESV2Client, config: MailConfig) -> None:
        self.config = config
        self._client = client

    def recipients(self, metadata: Mapping[str, str]) -> tuple[str, ...]:
        """Who gets this object's e-mail; empty when nobody can."""
        from txsummary.core.email import choose_recipients  # noqa: PLC0415

        return choose_recipients(self.config.recipients, metadata, self.config.allowed_domains)

    def message(
        self,
        result: Summary | InvalidFileError,
        *,
        bucket: str,
        key: str,
        version_id: str | None,
        recipients: tuple[str, ...],
    ) -> EmailMessage:
        """The MIME message for a summary or a rejection."""
        from txsummary.core import email  # noqa: PLC0415
        from txsummary.core.errors import InvalidFileError  # noqa: PLC0415

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
        """SendEmail with the raw MIME bytes; returns SES's MessageId. Errors propagate."""
        response = self._client.send_email(
            FromEmailAddress=self.config.sender,
            Destination={"ToAddresses": list(recipients)},
            Content={"Raw": {"Data": message.as_bytes()}},  # the message's own 7-bit policy
        )
        return response["MessageId"]
