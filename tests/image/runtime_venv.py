"""A virtualenv that holds what the image's Python holds: ``lambda/requirements.lock``, installed
as the Dockerfile installs it (every package pinned and hash-checked), plus the runtime interface
client (``awslambdaric``, the bootstrap of the public.ecr.aws/lambda/python images), and nothing
from the development requirements (no moto, no watchtower).

Built once per content of the lock, interpreter version and client pin, under
``.cache/image-venv/<key>/`` (gitignored); later runs reuse it. Building needs PyPI.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.image.dockerfile import PROJECT_ROOT

AWSLAMBDARIC = "awslambdaric==4.2.2"
# The lock the Dockerfile installs; its hashes cover the cp311 and cp312 manylinux wheels, so this
# venv may run on a 3.11 when no 3.12 is at hand.
REQUIREMENTS = PROJECT_ROOT / "lambda" / "requirements.lock"
# The Dockerfile's own pip options: hash-checked wheels, nothing outside the lock.
LOCKED_INSTALL = ("--require-hashes", "--only-binary=:all:", "--no-deps")
CACHE = PROJECT_ROOT / ".cache" / "image-venv"
COMPLETE = ".complete"  # written last: a venv without it was cut short and is rebuilt
BUILD_TIMEOUT_S = 900
PROBE_TIMEOUT_S = 20


class VenvBuildError(RuntimeError):
    """The image venv could not be built (most often: PyPI could not be reached)."""


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def interpreter(version: str | None) -> tuple[str, str]:
    """(path, "X.Y") of a Python of the image's version when this machine has one (on PATH or
    under pyenv), else this test run's own interpreter."""
    if version is not None:
        pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
        candidates = [shutil.which(f"python{version}")]
        candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
        for candidate in candidates:
            if candidate and _version_of(candidate) == version:
                return candidate, version
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    return sys.executable, own


def cache_key(requirements: bytes, python_version: str) -> str:
    digest = hashlib.sha256()
    for part in (
        requirements,
        AWSLAMBDARIC.encode(),
        python_version.encode(),
        sys.platform.encode(),
    ):
        digest.update(part + b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time (two pytest runs in the same tree share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise VenvBuildError(
            f"{what} took over {BUILD_TIMEOUT_S} s (is PyPI reachable?): {' '.join(command)}"
        ) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise VenvBuildError(
            f"{what} failed (exit {done.returncode}); building the image venv needs PyPI.\n"
            f"command: {' '.join(command)}\n{tail}"
        )


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(python: str, python_version: str) -> Path:
    """The cached venv for the current requirements, built now if it is missing."""
    key = cache_key(REQUIREMENTS.read_bytes(), python_version)
    venv = CACHE / key
    with _locked(CACHE / ".lock"):
        if not (venv / COMPLETE).is_file():
            shutil.rmtree(venv, ignore_errors=True)
            _run([python, "-m", "venv", str(venv)], "creating the image venv")
            # pip's own cache is used (no --no-cache-dir): a rebuild after a requirements change
            # downloads only what changed.
            pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet",
                   "--disable-pip-version-check"]  # fmt: skip
            _run([*pip, *LOCKED_INSTALL, "-r", str(REQUIREMENTS)], "pip install of the lock")
            # The base image brings the client itself; it is not in the lock, so apart.
            _run([*pip, AWSLAMBDARIC], "pip install of " + AWSLAMBDARIC)
            (venv / COMPLETE).write_text(f"{AWSLAMBDARIC}\n{python_version}\n")
            # Venvs of older requirements are ~300 MB each; keep only the current one.
            for stale in CACHE.iterdir():
                if stale.is_dir() and stale.name != key:
                    shutil.rmtree(stale, ignore_errors=True)
    return venv
