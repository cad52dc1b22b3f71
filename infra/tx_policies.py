"""IAM, bucket and ECR policy documents as plain functions of ARNs (pure, no resources)."""

from __future__ import annotations

import json

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


def function_policy(bucket_arn: str, log_group_arn: str, queue_arn: str) -> str:
    """Exactly what the function needs: read uploads, write its own logs, park failed events."""
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
