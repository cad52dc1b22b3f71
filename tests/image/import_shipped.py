"""Import every module under a task root, the way the image's Python would find them.

Run by the image venv's interpreter (not pytest's): ``python import_shipped.py TASK_ROOT``. It
prints one JSON object: the modules imported (and from where), those that failed (with the
traceback) and every attempt to import a development-only package, even one caught by a
``try: import moto / except ImportError``. Standard library only: it runs outside the project.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

FORBIDDEN = ("moto", "watchtower")


class ForbiddenFinder(importlib.abc.MetaPathFinder):
    """Refuses the development-only packages and records which module asked for them."""

    def __init__(self) -> None:
        self.attempts: list[dict[str, str]] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in FORBIDDEN:
            return None
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__", "").startswith("importlib"):
            frame = frame.f_back  # type: ignore[assignment]
        importer = frame.f_globals.get("__name__", "?") if frame is not None else "?"
        self.attempts.append({"module": fullname, "imported_by": importer})
        raise ModuleNotFoundError(f"{fullname} is development-only and not in the image")


def shipped_modules(task_root: Path) -> list[str]:
    """Every module below the task root, found on disk (not by importing): top-level ``*.py``
    files and every ``*.py`` inside a package whose directories all have ``__init__.py``."""
    names: list[str] = []
    for path in sorted(task_root.rglob("*.py")):
        parts = path.relative_to(task_root).with_suffix("").parts
        packages = [task_root.joinpath(*parts[:i]) for i in range(1, len(parts))]
        if all((package / "__init__.py").is_file() for package in packages):
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def main(argv: list[str]) -> int:
    task_root = Path(argv[1]).resolve()
    installed = [name for name in FORBIDDEN if importlib.util.find_spec(name) is not None]
    finder = ForbiddenFinder()
    sys.meta_path.insert(0, finder)
    imported: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name in shipped_modules(task_root):
        try:
            module = importlib.import_module(name)
        except BaseException:  # a SystemExit at import is a failure to report too
            failed[name] = traceback.format_exc()
        else:
            imported[name] = str(getattr(module, "__file__", ""))
    report = {
        "python": sys.version,
        "forbidden_installed": installed,
        "forbidden_attempts": finder.attempts,
        "imported": imported,
        "failed": failed,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
