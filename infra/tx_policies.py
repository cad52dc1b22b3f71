"""IAM, bucket and ECR policy documents as plain functions of ARNs (pure, no resources)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

IAM_VERSION = "2012-10-17"


def lambda_assume_role() -> str:
    return json.dumps(
        {
            "Version": IAM_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def function_policy(
    bucket_arn: str, log_group_arn: str, queue_arn: str, *extra: dict[str, Any]
) -> str:
    """Exactly what the function needs: read uploads, write its own logs, park failed events,
    and the side effects' ``extra`` statements (the table, the e-mail, the lake)."""
    return json.dumps(
        {
            "Version": IAM_VERSION,
            "Statement": [
                {
                    "Sid": "ReadUploads",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                    "Resource": f"{bucket_arn}/*",
                },
                {
                    "Sid": "WriteOwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    # The log group's ARN without ":*"; the suffix covers its log streams only.
                    "Resource": f"{log_group_arn}:*",
                },
                {
                    "Sid": "KeepFailedEvents",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                },
                *extra,
            ],
        }
    )


def deny_insecure_transport(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": IAM_VERSION,
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def ecr_keep_last(count: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Keep only the last {count} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": count,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


# --- the side effects: the summary table, the e-mail and the lake ----------------------------


def summary_table_statement(table_arn: str) -> dict[str, Any]:
    """Write, read back and update the summary record, and look records up by key in batches
    (the reconcile); no Scan, Query or Delete."""
    return {
        "Sid": "SummaryRecord",
        "Effect": "Allow",
        "Action": [
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ],
        "Resource": table_arn,
    }


def send_email_statement(identity_arns: Sequence[str]) -> dict[str, Any]:
    """Send as the sender identity. In the SES sandbox, SES also checks the verified recipients'
    identities, so their ARNs belong here until production access is granted. SES v2's
    SendEmail is authorized as ses:SendEmail alone, raw or not."""
    return {
        "Sid": "SendSummaryEmail",
        "Effect": "Allow",
        "Action": "ses:SendEmail",
        "Resource": list(identity_arns),
    }


def recipient_identity_arns(
    sender_arn: str, addresses: Sequence[str], domains: Sequence[str] = ()
) -> list[str]:
    """The SES identity ARNs of the recipients, next to the sender's.

    In the SES sandbox, SES authorizes a send against the verified recipient identities too;
    granting their exact ARNs lets the stack work there, and grants nothing more once the
    account has production access (a recipient identity only matters if it is verified). An
    allowed domain's recipient is verified either as the domain or as its own address, so a
    domain grants both ``identity/<domain>`` and ``identity/*@<domain>``."""
    prefix, marker, _ = sender_arn.partition(":identity/")
    if not marker:
        raise ValueError(f"not an SES identity ARN: {sender_arn}")
    identities = [*addresses, *(i for d in domains for i in (d, f"*@{d}"))]
    return [f"{prefix}:identity/{identity}" for identity in dict.fromkeys(identities)]


def lake_write_statement(lake_bucket_arn: str, prefix: str = "transactions") -> dict[str, Any]:
    """Put objects under the lake prefix only. A multipart upload's create, parts and complete
    are authorized as s3:PutObject; aborting one (a rejected file's, a failed upload's) is
    s3:AbortMultipartUpload; s3:GetObject lets a retried Complete that answers NoSuchUpload
    check (HeadObject) that the object at the key is the one these parts made."""
    return {
        "Sid": "WriteLake",
        "Effect": "Allow",
        "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"],
        "Resource": f"{lake_bucket_arn}/{prefix.strip('/')}/*",
    }


def list_uploads_statements(bucket_arn: str, key_prefix: str | None) -> list[dict[str, Any]]:
    """Bucket-level reads: the reconcile lists the upload versions under the trigger's prefix,
    and s3:ListBucket makes S3 answer 404, not 403, for a version deleted before it was read.

    ListBucket is left without a prefix condition: S3's 404-or-403 check for a GetObject is no
    list request, and AWS documents no s3:prefix for it, so a condition could bring the 403
    back. Unconditioned, it reveals only the names of objects the role may read already."""
    versions: dict[str, Any] = {
        "Sid": "ListUploadVersions",
        "Effect": "Allow",
        "Action": "s3:ListBucketVersions",
        "Resource": bucket_arn,
    }
    if key_prefix:
        versions["Condition"] = {"StringLike": {"s3:prefix": [f"{key_prefix}*"]}}
    return [
        {"Sid": "TellGoneFromForbidden", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": bucket_arn},
        versions,
    ]  # fmt: skip


# --- the reconcile's schedule ----------------------------------------------------------------


def scheduler_assume_role(account_id: str) -> str:
    """EventBridge Scheduler may assume the role, for schedules of this account only."""
    return json.dumps(
        {
            "Version": IAM_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "scheduler.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


def invoke_function_policy(function_arn: str) -> str:
    """Invoke this one function, nothing else."""
    return policy_document(
        {
            "Sid": "InvokeSummarizer",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn,
        }
    )


def policy_document(*statements: dict[str, Any]) -> str:
    """An IAM policy document of the given statements."""
    return json.dumps({"Version": IAM_VERSION, "Statement": list(statements)})
