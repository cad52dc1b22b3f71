"""The transactions lake: a hardened bucket of Parquet files and the Glue table over it.

The table uses partition projection on ``upload_date``, so Athena finds every day's files with
no crawler and no partition to add. Its columns are the writer's (txsummary.aws.lake).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from tx_storage import hardened_bucket
from txsummary.contract import GLUE_COLUMNS, LAKE_PARTITION, LAKE_PREFIX

ABORT_INCOMPLETE_UPLOADS_DAYS = 1
NONCURRENT_VERSION_DAYS = 7
TABLE_NAME = "transactions"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@dataclass(frozen=True)
class TransactionsLake:
    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock
    policy: aws.s3.BucketPolicy
    database: aws.glue.CatalogDatabase
    table: aws.glue.CatalogTable


def glue_database_name(name: str, stack: str) -> str:
    """Glue names are lowercase letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]", "_", f"{name}_{stack}".lower())


def transactions_lake(
    name: str,
    *,
    force_destroy: bool = False,
    versioning: bool = False,
    projection_start: str = "2024-01-01",
) -> TransactionsLake:
    rule: aws.s3.BucketLifecycleConfigurationRuleArgsDict = {
        "id": "abort-incomplete-uploads",
        "status": "Enabled",
        "filter": {},
        "abort_incomplete_multipart_upload": {
            "days_after_initiation": ABORT_INCOMPLETE_UPLOADS_DAYS
        },
    }
    if versioning:
        # A redelivery overwrites a lake object; keep the replaced copy a short while only.
        rule["noncurrent_version_expiration"] = {"noncurrent_days": NONCURRENT_VERSION_DAYS}
    storage = hardened_bucket(
        name, force_destroy=force_destroy, versioned=versioning, lifecycle_rule=rule
    )
    bucket = storage.bucket

    database = aws.glue.CatalogDatabase(
        f"{name}-database", name=glue_database_name(name, pulumi.get_stack())
    )
    location = pulumi.Output.concat("s3://", bucket.bucket, f"/{LAKE_PREFIX}/")
    table = aws.glue.CatalogTable(
        f"{name}-table",
        name=TABLE_NAME,
        database_name=database.name,
        table_type="EXTERNAL_TABLE",
        parameters=location.apply(lambda loc: projection_parameters(loc, projection_start)),
        partition_keys=[{"name": LAKE_PARTITION, "type": "string"}],
        storage_descriptor={
            "location": location,
            "input_format": PARQUET_INPUT,
            "output_format": PARQUET_OUTPUT,
            "ser_de_info": {
                "serialization_library": PARQUET_SERDE,
                "parameters": {"serialization.format": "1"},
            },
            "columns": [{"name": n, "type": t} for n, t in GLUE_COLUMNS],
        },
        opts=pulumi.ResourceOptions(parent=database),
    )
    return TransactionsLake(
        bucket=bucket,
        public_access_block=storage.public_access_block,
        policy=storage.policy,
        database=database,
        table=table,
    )


def projection_parameters(location: str, start: str) -> dict[str, str]:
    """Athena partition projection: one ``upload_date=YYYY-MM-DD/`` folder per day, from
    ``start`` to today, found from the template with no partition registered."""
    return {
        "EXTERNAL": "TRUE",
        "classification": "parquet",
        "projection.enabled": "true",
        f"projection.{LAKE_PARTITION}.type": "date",
        f"projection.{LAKE_PARTITION}.format": "yyyy-MM-dd",
        f"projection.{LAKE_PARTITION}.range": f"{start},NOW",
        f"projection.{LAKE_PARTITION}.interval": "1",
        f"projection.{LAKE_PARTITION}.interval.unit": "DAYS",
        "storage.location.template": f"{location}{LAKE_PARTITION}=${{{LAKE_PARTITION}}}/",
    }
