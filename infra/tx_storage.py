"""Hardened S3 buckets: private, encrypted, TLS-only, with a lifecycle rule; and the upload
bucket, one of them, versioned with old versions expiring."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import tx_policies
from tx_config import StackSettings

ABORT_INCOMPLETE_UPLOADS_DAYS = 7


@dataclass(frozen=True)
class HardenedBucket:
    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock
    versioning: aws.s3.BucketVersioning | None
    policy: aws.s3.BucketPolicy


def hardened_bucket(
    name: str,
    *,
    force_destroy: bool,
    versioned: bool,
    lifecycle_rule: aws.s3.BucketLifecycleConfigurationRuleArgsDict,
) -> HardenedBucket:
    """A bucket no one can make public, encrypted with SSE-S3, reachable over TLS only, with
    ``lifecycle_rule`` (applied after versioning when ``versioned``)."""
    bucket = aws.s3.Bucket(name, force_destroy=force_destroy)
    child = pulumi.ResourceOptions(parent=bucket)

    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        # SSE-S3: encrypted at rest with no KMS key for the function's role to be granted.
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=child,
    )
    versioning = (
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        if versioned
        else None
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[lifecycle_rule],
        opts=pulumi.ResourceOptions(
            parent=bucket, depends_on=[versioning] if versioning is not None else []
        ),
    )
    policy = aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(tx_policies.deny_insecure_transport),
        # S3 rejects concurrent policy and public-access-block changes on one bucket.
        opts=pulumi.ResourceOptions(parent=bucket, depends_on=[public_access_block]),
    )
    return HardenedBucket(
        bucket=bucket,
        public_access_block=public_access_block,
        versioning=versioning,
        policy=policy,
    )


def upload_bucket(name: str, settings: StackSettings) -> HardenedBucket:
    return hardened_bucket(
        name,
        force_destroy=settings.force_destroy,
        versioned=True,
        lifecycle_rule={
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {
                "noncurrent_days": settings.noncurrent_version_expiration_days
            },
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": ABORT_INCOMPLETE_UPLOADS_DAYS
            },
        },
    )
