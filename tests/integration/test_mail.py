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
from botocore.stub import Stubber
from moto.ses.models import ses_backends

from tests.integration.conftest import REGION
from tests.integration.effects_support import SENDER, verify_sender
from txsummary.aws.mail import PERMANENT_ERRORS, MailConfig, MailConfigError, Mailer, sesv2_client
from txsummary.core.render import render_text
from txsummary.core.summarize import summarize_stream
from txsummary.effects import EMAIL_LEASE_SECONDS, MailRefused
from txsummary.objects import ObjectRef

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
    message = mailer.message(ObjectRef("uploads", "in/july.csv", "v1"), summary, recipients)
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


def test_a_refusal_no_retry_fixes_raises_mail_refused_with_ses_reason(sesv2: SESV2Client) -> None:
    # Given a sender that is not a verified identity (SES answers MessageRejected)
    config = MailConfig.from_values("unverified@example.com", "holder@example.com")
    assert config is not None
    mailer = Mailer(sesv2, config)
    summary = summarize_stream(io.BytesIO(SAMPLE), "july.csv")
    message = mailer.message(ObjectRef("b", "k.csv"), summary, ("holder@example.com",))
    # Then the refusal is MailRefused, carrying SES's code and message; nothing is sent
    with pytest.raises(MailRefused, match=r"^MessageRejected: .*unverified@example\.com"):
        mailer.send(message, ("holder@example.com",))
    assert sent_messages() == []


@pytest.mark.parametrize("code", sorted(PERMANENT_ERRORS))
def test_every_permanent_code_is_refused_and_throttling_and_5xx_still_raise(
    sesv2: SESV2Client, code: str
) -> None:
    # Given SES answering each code in turn
    config = MailConfig.from_values(SENDER, "holder@example.com")
    assert config is not None
    mailer = Mailer(sesv2, config)
    message = EmailMessage()
    answers = [(code, 400), ("TooManyRequestsException", 429), ("InternalFailure", 500)]
    with Stubber(sesv2) as stub:
        for answer, status in answers:
            stub.add_client_error("send_email", answer, "why", status)
        # Then the permanent one is MailRefused; the others are ClientErrors, so Lambda retries
        with pytest.raises(MailRefused, match=f"^{code}: why$"):
            mailer.send(message, ("holder@example.com",))
        for answer, _ in answers[1:]:
            with pytest.raises(ClientError, match=answer):
                mailer.send(message, ("holder@example.com",))


def test_the_ses_clients_whole_call_fits_in_the_email_claims_lease(aws: None) -> None:
    # Given the SES client the function builds
    client = sesv2_client()
    config: Any = client.meta.config  # botocore's Config sets its options dynamically
    attempts = config.retries["total_max_attempts"]
    # Then every attempt at its longest (connect and read timeouts) ends before the lease,
    # so no second delivery can take the claim over while this one may still be sending
    assert attempts * (config.connect_timeout + config.read_timeout) < EMAIL_LEASE_SECONDS
    assert attempts >= 2  # throttling is still retried
