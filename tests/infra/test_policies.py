"""Policy documents, checked as data: exact actions on exact ARNs, nothing more."""

from __future__ import annotations

import json

import tx_policies

BUCKET = "arn:aws:s3:::uploads-abc"
LOGS = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/txsummary-dev"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:failures"


def test_function_policy_grants_exactly_three_things() -> None:
    doc = json.loads(tx_policies.function_policy(BUCKET, LOGS, QUEUE))
    grants = {
        (
            tuple(sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])),
            s["Resource"],
        )
        for s in doc["Statement"]
    }
    assert doc["Version"] == "2012-10-17"
    assert all(s["Effect"] == "Allow" for s in doc["Statement"])
    assert grants == {
        (("s3:GetObject", "s3:GetObjectVersion"), f"{BUCKET}/*"),
        (("logs:CreateLogStream", "logs:PutLogEvents"), f"{LOGS}:*"),
        (("sqs:SendMessage",), QUEUE),
    }
    assert set(doc["Statement"][0]) <= {"Sid", "Effect", "Action", "Resource"}  # no NotAction


def test_tls_only_policy_denies_plain_http_on_bucket_and_objects() -> None:
    (statement,) = json.loads(tx_policies.deny_insecure_transport(BUCKET))["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert statement["Resource"] == [BUCKET, f"{BUCKET}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_lambda_may_assume_the_role() -> None:
    (statement,) = json.loads(tx_policies.lambda_assume_role())["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }


def test_ecr_lifecycle_keeps_the_last_n_images() -> None:
    (rule,) = json.loads(tx_policies.ecr_keep_last(4))["rules"]
    assert rule["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 4,
    }
    assert rule["action"] == {"type": "expire"}
