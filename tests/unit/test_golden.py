"""The challenge example, end to end through both renderings."""

from __future__ import annotations

import json
from pathlib import Path

from tests.challenge import CHALLENGE_LINES
from txsummary.core.render import render_json, render_text
from txsummary.core.summarize import summarize_stream

ROOT = Path(__file__).resolve().parents[2]


def test_challenge_text_starts_with_exactly_the_challenge_lines() -> None:
    with (ROOT / "transactions.csv").open("rb") as stream:
        summary = summarize_stream(stream, "transactions.csv")
    assert render_text(summary).splitlines()[:5] == CHALLENGE_LINES


def test_challenge_json() -> None:
    with (ROOT / "transactions.csv").open("rb") as stream:
        document = json.loads(render_json(summarize_stream(stream, "transactions.csv")))
    assert document == {
        "transactions": 4,
        "credits": 2,
        "debits": 2,
        "total_balance": 39.74,
        "average_credit": 35.25,
        "average_debit": -15.38,
        "months": [
            {"year": None, "month": 7, "name": "July", "transactions": 2, "credits": 1,
             "debits": 1, "balance": 50.2, "average_credit": 60.5, "average_debit": -10.3},
            {"year": None, "month": 8, "name": "August", "transactions": 2, "credits": 1,
             "debits": 1, "balance": -10.46, "average_credit": 10.0, "average_debit": -20.46},
        ],
    }  # fmt: skip
