"""The summary table, the SES identity, the lake bucket and its Glue table, under Pulumi mocks,
and the IAM statements scoped to their exact ARNs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockResourceArgs

import tx_policies
from tests.infra.pulumi_harness import (
    ACCOUNT,
    PROJECT,
    REGION,
    STACK,
    Program,
    RecordingMocks,
    RecordingMonitor,
)
from tests.infra.resource_types import (
    BUCKET,
    BUCKET_POLICY,
    DATABASE,
    ENCRYPTION,
    GLUE_TABLE,
    IDENTITY,
    LIFECYCLE,
    PUBLIC_ACCESS_BLOCK,
    TABLE,
    VERSIONING,
)
from tx_email import email_sender
from tx_lake import projection_parameters, transactions_lake
from tx_table import summary_table
from txsummary.contract import GLUE_COLUMNS, LAKE_PREFIX

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/summaries"
IDENTITY_ARN = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/txsummary@example.com"
LAKE_ARN = "arn:aws:s3:::lake-0a1b2c3"


class EffectsMocks(RecordingMocks):
    """The harness's mocks, plus what AWS computes for the table, the identity and Glue."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        physical, outputs = super().new_resource(args)
        extra: dict[str, Any] = {}
        if args.typ == TABLE:
            extra = {"arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{args.name}"}
        elif args.typ == IDENTITY:
            identity = args.inputs["emailIdentity"]
            extra = {"arn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{identity}"}
        if extra:
            outputs.update(extra)
            self.resources[-1].outputs.update(extra)
        return physical, outputs


def run_components(build: Callable[[], dict[str, pulumi.Output[Any]]]) -> Program:
    """Declare some components under fresh mocks; returns the registered resources and the
    resolved values of the outputs ``build`` returns."""
    pulumi.runtime.set_all_config({"aws:region": REGION})
    mocks = EffectsMocks()
    monitor = RecordingMonitor(mocks)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def execute() -> pulumi.Output[None]:
        outputs = build()
        return pulumi.Output.all(**outputs).apply(resolved.update)

    execute()
    return Program(resources=mocks.resources, exports=resolved, calls=mocks.calls)


def _all(force_destroy: bool, versioning: bool) -> Callable[[], dict[str, pulumi.Output[Any]]]:
    def build() -> dict[str, pulumi.Output[Any]]:
        table = summary_table("summaries", force_destroy=force_destroy)
        sender = email_sender("sender", "txsummary@example.com")
        lake = transactions_lake("lake", force_destroy=force_destroy, versioning=versioning)
        return {
            "table_arn": table.table.arn,
            "identity_arn": sender.identity.arn,
            "lake_arn": lake.bucket.arn,
            "lake_name": lake.bucket.bucket,
        }

    return build


@pytest.fixture(scope="module")
def protected() -> Program:
    # Given the components with default settings
    return run_components(_all(force_destroy=False, versioning=False))


@pytest.fixture(scope="module")
def disposable() -> Program:
    # Given a stack that may be destroyed with its data, with a versioned lake
    return run_components(_all(force_destroy=True, versioning=True))


def test_table_is_on_demand_recoverable_encrypted_and_protected(protected: Program) -> None:
    table = protected.one(TABLE).inputs
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert (table["hashKey"], table["rangeKey"]) == ("pk", "sk")
    assert sorted((a["name"], a["type"]) for a in table["attributes"]) == [
        ("pk", "S"),
        ("sk", "S"),
    ]
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True}
    assert table["deletionProtectionEnabled"] is True


def test_force_destroy_drops_deletion_protection(disposable: Program) -> None:
    assert disposable.one(TABLE).inputs["deletionProtectionEnabled"] is False
    assert disposable.one(BUCKET).inputs["forceDestroy"] is True


def test_the_sender_identity_is_the_email_from_address(protected: Program) -> None:
    assert protected.one(IDENTITY).inputs["emailIdentity"] == "txsummary@example.com"
    assert protected.exports["identity_arn"].endswith(":identity/txsummary@example.com")


def test_lake_bucket_is_private_encrypted_and_tls_only(protected: Program) -> None:
    block = protected.one(PUBLIC_ACCESS_BLOCK).inputs
    assert all(
        block[flag] is True
        for flag in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    (rule,) = protected.one(ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (statement,) = json.loads(protected.one(BUCKET_POLICY).inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [
        protected.exports["lake_arn"],
        f"{protected.exports['lake_arn']}/*",
    ]
    assert protected.one(BUCKET).inputs.get("forceDestroy") is False
    # versioning is optional and off by default
    assert protected.of_type(VERSIONING) == []
    (lifecycle,) = protected.one(LIFECYCLE).inputs["rules"]
    assert lifecycle["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}


def test_a_versioned_lake_expires_replaced_copies(disposable: Program) -> None:
    assert disposable.one(VERSIONING).inputs["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = disposable.one(LIFECYCLE).inputs["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 7}


def test_glue_table_is_parquet_over_the_lake_prefix_with_projection(protected: Program) -> None:
    database = protected.one(DATABASE).inputs
    table = protected.one(GLUE_TABLE).inputs
    lake = protected.exports["lake_name"]
    location = f"s3://{lake}/{LAKE_PREFIX}/"
    # Then the table lives in the stack's database, over the lake prefix, as Parquet
    assert database["name"] == "lake_dev"
    assert table["databaseName"] == "lake_dev"
    assert table["tableType"] == "EXTERNAL_TABLE"
    descriptor = table["storageDescriptor"]
    assert descriptor["location"] == location
    assert descriptor["inputFormat"].endswith("MapredParquetInputFormat")
    assert descriptor["outputFormat"].endswith("MapredParquetOutputFormat")
    assert descriptor["serDeInfo"]["serializationLibrary"].endswith("ParquetHiveSerDe")
    # And its columns are exactly the writer's
    assert [(c["name"], c["type"]) for c in descriptor["columns"]] == list(GLUE_COLUMNS)
    assert table["partitionKeys"] == [{"name": "upload_date", "type": "string"}]
    # And Athena projects the upload_date partitions with no crawler
    parameters = table["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.upload_date.type"] == "date"
    assert parameters["projection.upload_date.format"] == "yyyy-MM-dd"
    assert parameters["projection.upload_date.range"] == "2024-01-01,NOW"
    assert parameters["storage.location.template"] == f"{location}upload_date=${{upload_date}}/"


def test_projection_template_matches_the_writers_keys() -> None:
    # Given a lake key as the writer makes it
    from datetime import date

    from txsummary.aws.lake import lake_key

    key = lake_key("uploads", "in/a.csv", "v1", date(2026, 3, 14))
    # When the template is filled with that day
    template = projection_parameters("s3://lake/transactions/", "2024-01-01")
    folder = template["storage.location.template"].replace("${upload_date}", "2026-03-14")
    # Then the object sits directly in that folder
    assert f"s3://lake/{key}".rpartition("/")[0] + "/" == folder


# --- IAM ------------------------------------------------------------------------------------


def test_table_statement_is_get_put_update_and_batch_get_on_the_table_only() -> None:
    statement = tx_policies.summary_table_statement(TABLE_ARN)
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert statement["Resource"] == TABLE_ARN


def test_email_statement_is_send_on_the_identity_only() -> None:
    # SES v2 SendEmail is authorized as ses:SendEmail alone: no SendRawEmail
    statement = tx_policies.send_email_statement([IDENTITY_ARN])
    assert statement["Action"] == "ses:SendEmail"
    assert statement["Resource"] == [IDENTITY_ARN]


def test_lake_statement_is_put_and_abort_under_the_prefix_only() -> None:
    # a multipart upload's parts are PutObject; a rejected file's upload is aborted
    statement = tx_policies.lake_write_statement(LAKE_ARN)
    assert statement["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"]
    assert statement["Resource"] == f"{LAKE_ARN}/{LAKE_PREFIX}/*"


def test_statements_make_one_policy_document() -> None:
    doc = json.loads(
        tx_policies.policy_document(
            tx_policies.summary_table_statement(TABLE_ARN),
            tx_policies.lake_write_statement(LAKE_ARN),
        )
    )
    assert doc["Version"] == "2012-10-17"
    assert [s["Sid"] for s in doc["Statement"]] == ["SummaryRecord", "WriteLake"]
    assert all("*" not in s["Resource"].replace("/transactions/*", "") for s in doc["Statement"])


def test_policies_on_the_mocked_arns(protected: Program) -> None:
    # Given the ARNs the stack resolves, the statements name exactly them
    exports = protected.exports
    assert tx_policies.summary_table_statement(exports["table_arn"])["Resource"] == (
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/summaries"
    )
    assert tx_policies.lake_write_statement(exports["lake_arn"])["Resource"] == (
        f"{exports['lake_arn']}/transactions/*"
    )
