"""Import cold start: ``python -c "import ..."``, interleaved."""

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.common import POWERTOOLS, median, run_process

# ---------------------------------------------------------------------------- cold start

COLD_TXSUMMARY = "import txsummary.handler"
COLD_BASELINE = "import pandas, boto3"
COLD_POWERTOOLS = f"import pandas, boto3, {POWERTOOLS}"
COLD_FEATURES = "import txsummary.handler, e-mail and lake on"
COLD_FIRST_FILE = "import txsummary.handler, then one small file"
FIRST_FILE_CODE = (
    "import sys, txsummary.handler\n"
    "from txsummary.core.summarize import summarize_stream\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    summarize_stream(f, sys.argv[1])\n"
)
# What the function's environment looks like with e-mail and the lake configured (issue 9).
FEATURE_ENV = {
    "SUMMARY_TABLE": "bench-summaries",
    "EMAIL_FROM": "bench@example.com",
    "EMAIL_TO": "someone@example.com",
    "EMAIL_ALLOWED_DOMAINS": "example.com",
    "LAKE_BUCKET": "bench-lake",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@dataclass(frozen=True)
class ColdCommand:
    label: str
    code: str
    env: dict[str, str] | None = None
    args: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        return [sys.executable, "-c", self.code, *self.args]


@dataclass
class ColdStart:
    times: dict[str, list[float]]
    failed: dict[str, str]
    skipped: dict[str, str]

    def median(self, label: str) -> float | None:
        times = self.times.get(label)
        return median(times) if times else None

    def ratio(self, label: str, baseline: str) -> float | None:
        ours, theirs = self.median(label), self.median(baseline)
        return None if ours is None or theirs is None else ours / theirs


def cold_commands(first_file: Path | None) -> tuple[list[ColdCommand], dict[str, str]]:
    commands = [
        ColdCommand(COLD_TXSUMMARY, COLD_TXSUMMARY),
        ColdCommand(COLD_BASELINE, COLD_BASELINE),
        ColdCommand(COLD_FEATURES, COLD_TXSUMMARY, {**os.environ, **FEATURE_ENV}),
    ]
    if first_file is not None:
        commands.append(ColdCommand(COLD_FIRST_FILE, FIRST_FILE_CODE, args=(str(first_file),)))
    skipped = {}
    if importlib.util.find_spec("aws_lambda_powertools") is None:
        skipped[COLD_POWERTOOLS] = "aws-lambda-powertools is not installed"
    else:
        commands.append(ColdCommand(COLD_POWERTOOLS, COLD_POWERTOOLS))
    return commands, skipped


def cold_start(runs: int, first_file: Path | None = None) -> ColdStart:
    print(f"== import cold start, {runs} runs each, interleaved", flush=True)
    commands, skipped = cold_commands(first_file)
    failed: dict[str, str] = {}
    for command in commands:  # one untimed run each, for the OS file cache; drop failures
        run = run_process(command.argv(), command.env)
        if run.returncode != 0:
            failed[command.label] = (run.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"   {command.label}: failed: {failed[command.label]}", file=sys.stderr)
    commands = [c for c in commands if c.label not in failed]
    times: dict[str, list[float]] = {c.label: [] for c in commands}
    for i in range(runs):
        shift = i % len(commands) if commands else 0
        for command in commands[shift:] + commands[:shift]:
            run = run_process(command.argv(), command.env)
            if run.returncode == 0:
                times[command.label].append(run.wall)
    result = ColdStart(times, failed, skipped)
    for label in times:
        print(f"   {label}: median {(result.median(label) or 0) * 1000:.0f} ms", flush=True)
    return result
