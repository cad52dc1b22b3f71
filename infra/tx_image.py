"""The container image: an ECR repository, and the root Dockerfile built and pushed to it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

import tx_policies
from tx_config import StackSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ContainerImage:
    repository: aws.ecr.Repository
    image: docker_build.Image
    image_uri: pulumi.Output[str]
    """``<repository>@sha256:...``: pinned by digest, the only digest form Lambda accepts."""


def _relative(path: Path) -> str:
    # Relative to where `pulumi` runs, so the state does not hold one machine's absolute paths.
    return os.path.relpath(path, Path.cwd())


def pinned_uri(repository_url: str, digest: str) -> str:
    """``repo@sha256:...``. Lambda rejects ``repo:tag@sha256:...``, the form of Image ``ref``."""
    if not digest.startswith("sha256:"):
        raise ValueError(f"expected a sha256 digest, got {digest!r}")
    return f"{repository_url}@{digest}"


def container_image(name: str, settings: StackSettings) -> ContainerImage:
    repository = aws.ecr.Repository(
        name,
        image_scanning_configuration={"scan_on_push": True},
        image_tag_mutability="MUTABLE",
        # The images are build outputs of this repository, so `pulumi destroy` may delete them.
        force_delete=True,
    )
    aws.ecr.LifecyclePolicy(
        f"{name}-keep-last",
        repository=repository.name,
        policy=tx_policies.ecr_keep_last(settings.ecr_keep_images),
    )
    token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id)
    image = docker_build.Image(
        name,
        context={"location": _relative(PROJECT_ROOT)},
        dockerfile={"location": _relative(PROJECT_ROOT / "Dockerfile")},
        platforms=[docker_build.Platform.LINUX_AMD64],
        push=True,
        tags=[repository.repository_url.apply(lambda url: f"{url}:latest")],
        registries=[
            {
                "address": repository.repository_url,
                "username": token.user_name,
                "password": token.password,
            }
        ],
    )
    image_uri = pulumi.Output.all(repository.repository_url, image.digest).apply(
        lambda args: pinned_uri(args[0], args[1])
    )
    return ContainerImage(repository=repository, image=image, image_uri=image_uri)
