"""The side effects' AWS resources on moto, shaped as infra/ declares them, and what they hold.

Used by the demo and by the tests that run on moto (tx_table.py's table; the lake's objects).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client


def create_summary_table(client: DynamoDBClient, name: str) -> str:
    """The table as infra/tx_table.py declares it: pk/sk strings, on demand; returns its name."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    return name


def lake_objects(s3: S3Client, bucket: str) -> list[str]:
    """The keys in the lake bucket (up to 1,000: a test's or the demo's handful)."""
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def lake_frame(s3: S3Client, bucket: str, key: str) -> pd.DataFrame:
    """One lake object's Parquet, read back."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return pd.read_parquet(io.BytesIO(body))
