"""The program runs the way `pulumi up` runs it: the `main: infra/` directory, from the project
root, with neither `infra` nor `lambda` on the Python path beforehand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML comes with pulumi; no stubs pinned

from tests.infra.pulumi_harness import PROGRAM, PROJECT_ROOT

SCRIPT = """
import json
from tests.infra.pulumi_harness import run_program
program = run_program()
print(json.dumps(sorted(program.exports)))
"""


def test_pulumi_yaml_points_at_the_program_and_the_venv() -> None:
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "txsummary"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert (PROJECT_ROOT / project["main"]).resolve() == PROGRAM
    assert (PROGRAM / "__main__.py").is_file()


def test_dev_stack_example_needs_no_esc_and_holds_no_secrets() -> None:
    # ESC is an opt-in (docs/operations.md); the stack file deploys on any backend as written
    stack = yaml.safe_load((PROJECT_ROOT / "Pulumi.dev.yaml").read_text())
    assert "environment" not in stack
    assert set(stack["config"]) == {"aws:region"}
    assert "secure" not in (PROJECT_ROOT / "Pulumi.dev.yaml").read_text()


def test_program_runs_from_the_project_root_like_pulumi_does() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PULUMI_CONFIG")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert Path(PROJECT_ROOT / "infra").is_dir()
    assert result.stdout.strip().splitlines()[-1] == (
        '["alarm_names", "bucket_name", "dashboard_url", "failure_queue_url", "function_name", '
        '"glue_database", "glue_table", "image_ref", "lake_bucket_name", "log_group_name", '
        '"logs_command", "logs_insights_url", "reconcile_schedule_name", "saved_queries", '
        '"summary_table_name", "upload_command"]'
    )
