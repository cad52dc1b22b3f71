"""SES v2 raw sends on moto, and the e-mail settings' parsing."""

from __future__ import annotations

import email as stdlib_email
import io
from email import policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.ses.models import ses_backends

from tests.integration.conftest import REGION
from tests.integration.effects_support import SENDER, verify_sender
from txsummary.aws.mail import MailConfig, MailConfigError, Mailer
from txsummary.core.render import render_text
from txsummary.core.summarize import summarize_stream

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

MOTO_ACCOUNT = "123456789012"  # moto's default account
SAMPLE = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/28,-10.3\n2,8/2,-20.46\n3,8/13,+10\n"


@pytest.fixture
def sesv2(aws: None) -> SESV2Client:
    client: SESV2Client = boto3.client("sesv2", region_name=REGION)
    return client


def sent_messages() -> list[Any]:
    return list(ses_backends[MOTO_ACCOUNT][REGION].sent_messages)


def test_e_mail_is_off_without_a_sender() -> None:
    assert MailConfig.from_values(None) is None
    assert MailConfig.from_values("  ", " ", "") is None
    # recipients without a sender are a mistake, not "off"
    with pytest.raises(MailConfigError, match="EMAIL_TO needs EMAIL_FROM"):
        MailConfig.from_values("  ", "a@example.com")


def test_settings_are_parsed_and_normalized() -> None:
    config = MailConfig.from_values(
        " txsummary@example.com ", "a@example.com, b@example.com,", "Bank.Example, @corp.example"
    )
    assert config == MailConfig(
        sender="txsummary@example.com",
        recipients=("a@example.com", "b@example.com"),
        allowed_domains=frozenset({"bank.example", "corp.example"}),
    )


@pytest.mark.parametrize(
    ("email_from", "email_to", "domains", "message"),
    [
        ("not an address", "a@example.com", None, "EMAIL_FROM"),
        ("s@example.com", "a@example.com, nope", None, "EMAIL_TO"),
        ("s@example.com", None, None, "no e-mail could ever have a recipient"),
    ],
)
def test_bad_settings_fail_clearly(
    email_from: str, email_to: str | None, domains: str | None, message: str
) -> None:
    with pytest.raises(MailConfigError, match=message):
        MailConfig.from_values(email_from, email_to, domains)


def test_a_summary_is_sent_raw_with_its_mime_tree(sesv2: SESV2Client) -> None:
    # Given a verified sender and a summary
    verify_sender(sesv2)
    config = MailConfig.from_values(SENDER, "holder@example.com")
    assert config is not None
    mailer = Mailer(sesv2, config)
    summary = summarize_stream(io.BytesIO(SAMPLE), "july.csv")
    recipients = mailer.recipients({})
    # When the message is built and sent
    message = mailer.message(
        summary, bucket="uploads", key="in/july.csv", version_id="v1", recipients=recipients
    )
    message_id = mailer.send(message, recipients)
    # Then SES got one raw message, 7-bit, to the recipient, whose text is the log text
    (sent,) = sent_messages()
    assert message_id == sent.id
    assert sent.destinations[0] == "holder@example.com"
    raw = message.as_bytes()
    assert raw.isascii() and b"\r\n" in raw
    parsed = stdlib_email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text_part = next(parsed.iter_parts())
    assert isinstance(text_part, EmailMessage)
    assert text_part.get_content().replace("\r\n", "\n") == render_text(summary)


def test_metadata_picks_an_allowed_recipient(sesv2: SESV2Client) -> None:
    config = MailConfig.from_values(SENDER, "ops@example.com", "bank.example")
    assert config is not None
    mailer = Mailer(sesv2, config)
    assert mailer.recipients({"email": "holder@bank.example"}) == ("holder@bank.example",)
    assert mailer.recipients({"email": "holder@evil.example"}) == ("ops@example.com",)


def test_a_failed_send_raises(sesv2: SESV2Client) -> None:
    # Given a sender that is not a verified identity
    config = MailConfig.from_values("unverified@example.com", "holder@example.com")
    assert config is not None
    mailer = Mailer(sesv2, config)
    summary = summarize_stream(io.BytesIO(SAMPLE), "july.csv")
    message = mailer.message(
        summary, bucket="b", key="k.csv", version_id=None, recipients=("holder@example.com",)
    )
    # Then SES's refusal propagates (so Lambda retries) and nothing is sent
    with pytest.raises(ClientError, match="MessageRejected"):
        mailer.send(message, ("holder@example.com",))
    assert sent_messages() == []
