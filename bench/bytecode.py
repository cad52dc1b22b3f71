"""Cold start on a read-only package, with and without precompiled bytecode; and what the
handler's import pulls in eagerly (``python -X importtime``).

Lambda's ``/var/task`` is read-only: without ``.pyc`` files in the image every cold start
compiles the package again. Two copies of ``lambda/txsummary`` are made read-only, one after
``python -m compileall -q --invalidation-mode unchecked-hash`` (what the Dockerfile runs), and a
cold start (the handler's import plus one small file) runs on each, interleaved, with
``PYTHONDONTWRITEBYTECODE`` unset. As root, the runs drop to ``nobody`` (setpriv), since root
writes to read-only directories. The interpreter is the runtime-client venv
(tests/image/runtime_venv.py, under .cache/image-venv) when it has been built, else this one.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, DataFile, median, run_process, span
from bench.startup import FIRST_FILE_CODE

PACKAGE = ROOT / "lambda" / "txsummary"
IMAGE_VENVS = ROOT / ".cache" / "image-venv"
# As root, read-only by permissions means nothing: a mount namespace with read-only bind mounts
# of the package copy and the interpreter's venv (so nothing is written to either), else
# the run as nobody.
READ_ONLY_MOUNTS = (
    'for p in "$@"; do [ "$p" = -- ] && break; mount --bind -o ro "$p" "$p" || exit 97; done; '
    'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
)
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
HEAVY = ("pandas", "numpy", "pyarrow", "boto3", "botocore", "aws_lambda_powertools", "jinja2")


@dataclass
class Bytecode:
    python: str
    data: DataFile
    how: str = "file permissions"  # how the copies were made read-only
    times: dict[str, list[float]] = field(default_factory=dict)  # variant -> walls
    cpu: dict[str, list[float]] = field(default_factory=dict)  # variant -> user + system
    failed: str | None = None
    wrote_bytecode: bool = False  # the read-only copy got a __pycache__: not read-only


def _python() -> str:
    for venv in sorted(IMAGE_VENVS.glob("*/.complete")):
        candidate = venv.parent / "bin" / "python"
        if candidate.is_file():
            return str(candidate)
    return sys.executable


def _read_only_copy(root: Path, compiled: bool, python: str) -> Path:
    target = root / ("pyc" if compiled else "source")
    shutil.copytree(PACKAGE, target / "txsummary", ignore=shutil.ignore_patterns("__pycache__"))
    if compiled:
        subprocess.run(
            [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", "."],
            cwd=target,
            check=True,
        )
    for path in [target, *target.rglob("*")]:
        mode = path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        path.chmod(mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        if path.is_dir():
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def _read_only(paths: list[Path]) -> tuple[list[str], str] | None:
    """A command prefix that runs its command with ``paths`` read-only, and how."""
    if os.geteuid() != 0:
        return [], "file permissions"
    if shutil.which("unshare"):
        prefix = ["unshare", "-m", "sh", "-c", READ_ONLY_MOUNTS, "sh", *map(str, paths), "--"]
        if subprocess.run([*prefix, "true"], capture_output=True, check=False).returncode == 0:
            return prefix, "read-only bind mounts in a mount namespace (as root)"
    if shutil.which("setpriv"):
        return NOBODY, "file permissions, run as nobody"
    return None


def bench_bytecode(data: DataFile, runs: int, python: str | None = None) -> Bytecode:
    python = python or _python()
    result = Bytecode(python, data)
    print(f"== bytecode: read-only package, with and without .pyc ({python})", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="txsummary-bench-pyc-"))
    scratch.chmod(0o755)
    try:
        roots = {
            "without .pyc": _read_only_copy(scratch, False, python),
            "with .pyc (unchecked-hash)": _read_only_copy(scratch, True, python),
        }
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        venv = Path(python).parent.parent
        shield = {label: _read_only([root, venv]) for label, root in roots.items()}
        if any(s is None for s in shield.values()):
            result.failed = "no way to make the copies read-only as root (unshare, setpriv)"
            return result
        result.how = next(s[1] for s in shield.values() if s is not None)
        for label in roots:
            result.times[label], result.cpu[label] = [], []
        for i in range(runs + 1):  # the first round untimed
            items = list(roots.items())
            for label, root in items[i % 2 :] + items[: i % 2]:
                prefix = shield[label]
                assert prefix is not None
                run = run_process(
                    [*prefix[0], python, "-c", FIRST_FILE_CODE, str(data.path.resolve())],
                    {**env, "PYTHONPATH": str(root)},
                )
                if run.returncode != 0:
                    result.failed = (run.stderr.strip().splitlines() or ["no output"])[-1]
                    return result
                if i:
                    result.times[label].append(run.wall)
                    result.cpu[label].append(run.cpu)
        result.wrote_bytecode = any((roots["without .pyc"] / "txsummary").rglob("*.pyc"))
    finally:
        for path in [scratch, *scratch.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(scratch, ignore_errors=True)
    for label, times in result.times.items():
        print(f"   {label}: median {median(times) * 1000:.0f} ms", flush=True)
    return result


def bytecode_section(result: Bytecode | None) -> list[str]:
    if result is None:
        return []
    lines = [
        "## Cold start on a read-only package: precompiled bytecode",
        "",
        f"`{os.path.relpath(result.python, ROOT)}`, `python -c` importing `txsummary.handler` "
        f"and summarizing the {result.data.label} file, the package on `PYTHONPATH` from a "
        f"read-only copy (as Lambda's `/var/task`; {result.how}), `PYTHONDONTWRITEBYTECODE` "
        "unset; interleaved "
        "after one untimed round. The `.pyc` copy was made by `python -m compileall -q "
        "--invalidation-mode unchecked-hash`, as in the Dockerfile.",
        "",
    ]
    if result.failed is not None:
        return [*lines, f"Failed: {result.failed}", ""]
    lines += [
        "| Package | Median wall (ms) | Min-max (ms) | Median CPU (ms) |",
        "|---|---:|---:|---:|",
    ]
    for label, times in result.times.items():
        lines.append(
            f"| {label} | {median(times) * 1000:.0f} | {span(times, 1000, 0)} "
            f"| {median(result.cpu[label]) * 1000:.0f} |"
        )
    plain, compiled = (median(t) for t in result.times.values())
    plain_cpu, compiled_cpu = (median(t) for t in result.cpu.values())
    caveat = " (The read-only copy was written to: not a valid run.)"
    lines += [
        "",
        f"Precompiled: {(plain - compiled) * 1000:.0f} ms less wall ({compiled / plain:.2f}x), "
        f"{(plain_cpu - compiled_cpu) * 1000:.0f} ms less CPU ({compiled_cpu / plain_cpu:.2f}x; "
        "CPU time is the steadier figure on a shared machine)."
        f"{caveat if result.wrote_bytecode else ''}",
        "",
    ]
    return lines


# ------------------------------------------------------------------ what the handler imports


@dataclass
class Node:
    name: str
    cumulative_us: int
    children: list[Node] = field(default_factory=list)


def import_tree(code: str, env: dict[str, str] | None = None) -> list[Node]:
    """The top-level imports of ``code`` as a tree, from ``-X importtime`` (one run)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    pending: dict[int, list[Node]] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split("|", 2)
        depth = (len(name) - len(name.lstrip())) // 2
        node = Node(name.strip(), int(cumulative), pending.pop(depth + 1, []))
        pending.setdefault(depth, []).append(node)
    return pending.get(0, [])


def eager_imports(roots: list[Node], threshold_ms: float = 5.0) -> list[tuple[str, str, float]]:
    """(our module, what it imports that is not ours, ms) for each first import of a heavy
    package or anything over ``threshold_ms``, in import order."""
    found: list[tuple[str, str, float]] = []

    def walk(node: Node) -> None:
        for child in node.children:
            if child.name.startswith("txsummary"):
                walk(child)
            elif child.cumulative_us >= threshold_ms * 1000 or child.name.split(".")[0] in HEAVY:
                found.append((node.name, child.name, child.cumulative_us / 1000))

    for root in roots:
        if root.name.startswith("txsummary"):
            walk(root)
    return found


def eager_section(code: str) -> list[str]:
    roots = import_tree(code)
    total = sum(r.cumulative_us for r in roots) / 1000
    rows = eager_imports(roots)
    lines = [
        f"### What `{code}` imports eagerly",
        "",
        f'One `python -X importtime -c "{code}"` run ({total:.0f} ms in all): each module of '
        "the package and what it imports that is not the package's, when that is one of "
        f"{', '.join(HEAVY)} or takes 5 ms or more (cumulative, with what it imports in turn; "
        "a package already imported costs nothing the second time).",
        "",
        "| Our module | Imports | ms |",
        "|---|---|---:|",
    ]
    lines += [f"| `{ours}` | `{theirs}` | {ms:.0f} |" for ours, theirs, ms in rows]
    return [*lines, ""]
