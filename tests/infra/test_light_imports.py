"""The stack imports the names it shares with the function from txsummary.contract, which must
not pull the function's heavy dependencies into `pulumi up`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "pyarrow", "numpy", "boto3", "botocore", "jinja2")


def test_the_program_s_modules_load_no_data_or_aws_library() -> None:
    # Given every module of the Pulumi program, imported in a fresh interpreter
    modules = sorted(p.stem for p in (ROOT / "infra").glob("tx_*.py"))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "lambda"), str(ROOT / "infra")])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    # Then none of the function's heavy dependencies came with them
    assert modules
    assert done.stdout.strip() == ""
