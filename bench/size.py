"""Installed size of the runtime requirements, from each distribution's RECORD."""

import hashlib
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.common import SIZE_CACHE

# ------------------------------------------------------------------------ installed size


@dataclass(frozen=True)
class InstalledSize:
    requirements: Path
    directory: Path
    total_bytes: int
    by_distribution: dict[str, int]  # name -> bytes of the files its RECORD lists
    direct: frozenset[str]  # names listed in the requirements file
    cached: bool


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _requirement_names(requirements: Path) -> frozenset[str]:
    names = set()
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            for stop in "=<>!~[; ":
                line = line.split(stop, 1)[0]
            names.add(_normalize(line))
    return frozenset(names)


def installed_size(requirements: Path) -> InstalledSize:
    """``pip install --target`` into SIZE_CACHE, keyed by the file's content and the Python."""
    key = hashlib.sha256(
        requirements.read_bytes() + f"{sys.version}/{platform.machine()}".encode()
    ).hexdigest()[:12]
    target = SIZE_CACHE / f"site-{key}"
    done_marker = target / ".bench-complete"
    cached = done_marker.is_file()
    if not cached:
        print(f"== installed size: pip install --target {target}", flush=True)
        shutil.rmtree(target, ignore_errors=True)
        argv = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        argv += ["--no-warn-script-location", "--target", str(target), "-r", str(requirements)]
        subprocess.run(argv, check=True)
        done_marker.touch()
    by_distribution: dict[str, int] = {}
    for record in target.glob("*.dist-info/RECORD"):
        name = _dist_name(record.parent)
        total = 0
        for line in record.read_text().splitlines():
            file = (target / line.split(",", 1)[0]).resolve()
            if file.is_relative_to(target.resolve()) and file.is_file():
                total += file.stat().st_size
        by_distribution[name] = total
    total_bytes = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    return InstalledSize(
        requirements,
        target,
        total_bytes - done_marker.stat().st_size,
        by_distribution,
        _requirement_names(requirements),
        cached,
    )


def _dist_name(dist_info: Path) -> str:
    for line in (dist_info / "METADATA").read_text(errors="replace").splitlines():
        if line.startswith("Name:"):
            return _normalize(line.split(":", 1)[1].strip())
    return _normalize(dist_info.name.split("-", 1)[0])
