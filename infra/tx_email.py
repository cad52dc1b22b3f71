"""The e-mail sender: an SES v2 identity for the ``emailFrom`` address.

SES e-mails the address a verification link; nothing is sent until it is clicked. In the SES
sandbox every recipient must be verified the same way (or request production access).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class EmailSender:
    identity: aws.sesv2.EmailIdentity


def email_sender(name: str, email_from: str) -> EmailSender:
    identity = aws.sesv2.EmailIdentity(name, email_identity=email_from)
    return EmailSender(identity=identity)
