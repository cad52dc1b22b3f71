"""The summary table: one item per object version (pk = s3://bucket/key, sk = version id)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws

PARTITION_KEY = "pk"
SORT_KEY = "sk"


@dataclass(frozen=True)
class SummaryTable:
    table: aws.dynamodb.Table


def summary_table(name: str, *, force_destroy: bool = False) -> SummaryTable:
    """On-demand, point-in-time recovery, encrypted with the AWS managed key; deletion
    protection on unless the stack may be destroyed with its data (``forceDestroy``)."""
    table = aws.dynamodb.Table(
        name,
        billing_mode="PAY_PER_REQUEST",
        hash_key=PARTITION_KEY,
        range_key=SORT_KEY,
        attributes=[
            {"name": PARTITION_KEY, "type": "S"},
            {"name": SORT_KEY, "type": "S"},
        ],
        point_in_time_recovery={"enabled": True},
        server_side_encryption={"enabled": True},
        deletion_protection_enabled=not force_destroy,
    )
    return SummaryTable(table=table)
