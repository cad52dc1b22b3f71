"""Shared by the effects' integration tests: the moto table, lake bucket and SES identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from txsummary_local.resources import create_summary_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sesv2 import SESV2Client

TABLE = "txsummary-summaries-test"
LAKE_BUCKET = "txsummary-lake-test"
SENDER = "txsummary@example.com"


def create_table(client: DynamoDBClient, name: str = TABLE) -> str:
    return create_summary_table(client, name)


def verify_sender(client: SESV2Client, address: str = SENDER) -> str:
    client.create_email_identity(EmailIdentity=address)
    return address
