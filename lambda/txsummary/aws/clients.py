"""The one place boto3 clients are made: standard retries, so throttling and transient errors
are retried by botocore before any of our code sees them.

Callers take a client as an argument, so tests pass moto's or a Stubber's instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

MAX_ATTEMPTS = 5


def retry_config(max_attempts: int = MAX_ATTEMPTS, **options: Any) -> Config:
    """botocore's standard retry mode with ``max_attempts``; ``options`` go to Config as is
    (e.g. connect_timeout, read_timeout)."""
    from botocore.config import Config  # noqa: PLC0415 - keeps botocore off local-only imports

    return Config(retries={"mode": "standard", "max_attempts": max_attempts}, **options)


def s3(region: str | None = None) -> S3Client:
    import boto3  # noqa: PLC0415

    return boto3.client("s3", region_name=region, config=retry_config())


def sqs(region: str | None = None) -> SQSClient:
    import boto3  # noqa: PLC0415

    return boto3.client("sqs", region_name=region, config=retry_config())


def lambda_(region: str | None = None) -> LambdaClient:
    import boto3  # noqa: PLC0415

    return boto3.client("lambda", region_name=region, config=retry_config())


def sesv2(region: str | None = None) -> SESV2Client:
    import boto3  # noqa: PLC0415

    return boto3.client("sesv2", region_name=region, config=retry_config())


def cloudwatch(region: str | None = None) -> CloudWatchClient:
    import boto3  # noqa: PLC0415

    return boto3.client("cloudwatch", region_name=region, config=retry_config())


def dynamodb(region: str | None = None) -> DynamoDBClient:
    import boto3  # noqa: PLC0415

    return boto3.client("dynamodb", region_name=region, config=retry_config())
