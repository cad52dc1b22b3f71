"""What the root Dockerfile puts in the image, read from the Dockerfile itself: its COPY lines
(laid out again in a directory that stands in for ``LAMBDA_TASK_ROOT``), its CMD (the handler
the runtime client is started with) and the Python version of its base image."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
TASK_ROOT_VARIABLES = ("${LAMBDA_TASK_ROOT}", "$LAMBDA_TASK_ROOT")
# .dockerignore keeps these out of the build context, so COPY never brings them in.
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc")


class DockerfileError(ValueError):
    """The Dockerfile uses a form this reading does not understand."""


@dataclass(frozen=True, slots=True)
class Copy:
    sources: tuple[str, ...]  # relative to the build context (the project root)
    destination: str  # with ${LAMBDA_TASK_ROOT} still in it


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, comments dropped and continuation lines joined."""
    joined = re.sub(r"\\[ \t]*\n", " ", text)
    result: list[tuple[str, str]] = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _words(arguments: str) -> list[str]:
    """An instruction's arguments in exec form (a JSON array) or shell form."""
    if arguments.startswith("["):
        words = json.loads(arguments)
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise DockerfileError(f"not a JSON array of strings: {arguments}")
        return list(words)
    return shlex.split(arguments)


def copies(text: str) -> list[Copy]:
    result: list[Copy] = []
    for keyword, arguments in instructions(text):
        if keyword not in ("COPY", "ADD"):
            continue
        words = [w for w in _words(arguments) if not w.startswith("--")]
        if any(a.startswith("--from") for a in arguments.split()):
            raise DockerfileError(f"multi-stage COPY is not modelled: {arguments}")
        if keyword == "ADD" or len(words) < 2:
            raise DockerfileError(f"unsupported {keyword}: {arguments}")
        *sources, destination = words
        result.append(Copy(tuple(sources), destination))
    return result


def handler_command(text: str) -> list[str]:
    """The last CMD's words: what the base image's entry point passes to ``awslambdaric``."""
    commands = [_words(arguments) for keyword, arguments in instructions(text) if keyword == "CMD"]
    if not commands or not commands[-1]:
        raise DockerfileError("the Dockerfile has no CMD")
    return commands[-1]


def runtime_python_version(text: str) -> str | None:
    """The base image's Python ("3.12" for ``public.ecr.aws/lambda/python:3.12``), or None."""
    bases = [arguments.split()[0] for keyword, arguments in instructions(text) if keyword == "FROM"]
    if not bases:
        raise DockerfileError("the Dockerfile has no FROM")
    match = re.fullmatch(r"public\.ecr\.aws/lambda/python:(3\.\d+)(?:[.-].*)?", bases[-1])
    return match.group(1) if match else None


def lay_out_task_root(text: str, task_root: Path, context: Path = PROJECT_ROOT) -> list[Path]:
    """Copy what the Dockerfile's COPY lines copy, from ``context`` into ``task_root`` standing in
    for ``${LAMBDA_TASK_ROOT}``; return the destinations. Docker's rules: a directory source copies
    its contents, and a destination ending in "/" (or taking several sources) is a directory."""
    written: list[Path] = []
    for copy in copies(text):
        destination = copy.destination
        for variable in TASK_ROOT_VARIABLES:
            destination = destination.replace(variable, str(task_root))
        target = Path(destination)
        if not target.is_relative_to(task_root):
            raise DockerfileError(f"COPY outside LAMBDA_TASK_ROOT: {copy.destination}")
        into_directory = copy.destination.endswith("/") or len(copy.sources) > 1
        for source in copy.sources:
            origin = context / source
            if not origin.exists():
                raise DockerfileError(f"COPY source {source} does not exist")
            place = target / origin.name if into_directory and origin.is_file() else target
            if origin.is_dir():
                shutil.copytree(origin, place, ignore=NOT_COPIED, dirs_exist_ok=True)
            else:
                place.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, place)
            written.append(place)
    return written
