"""The saved queries name fields the function's log record really has: a typo in a query would
show an empty column in Logs Insights, not an error."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest

from tests.challenge import CHALLENGE_CSV
from tests.infra.pulumi_harness import PROJECT_ROOT
from tx_views import REJECTED, SUMMARIZED, Field, queries
from txsummary.core.errors import LineError
from txsummary.core.summarize import summarize_stream

PACKAGE = PROJECT_ROOT / "lambda" / "txsummary"


def record_literals() -> set[str]:
    """Every string literal and keyword of the modules above the core (the reporter, the
    outcomes and the object version's fields live there, whichever module holds them)."""
    found: set[str] = set()
    for path in Path(PACKAGE).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
            elif isinstance(node, ast.keyword) and node.arg:  # fields passed as f(name=...)
                found.add(node.arg)
    return found


def nested_keys() -> dict[str, set[str]]:
    """The keys of the record's nested values, from the objects that make them."""
    summary = summarize_stream(io.BytesIO(CHALLENGE_CSV), "challenge.csv").to_dict()
    return {"summary": set(summary), "errors": set(LineError(2, "why").to_dict())}


FIELDS = sorted(
    {value for name, value in vars(Field).items() if name.isupper() and isinstance(value, str)}
    | set(Field.FIRST_ERRORS)
)


@pytest.mark.parametrize("field", FIELDS)
def test_each_field_is_one_the_record_has(field: str) -> None:
    top, *rest = field.split(".")
    assert top in record_literals(), f"the reporter writes no {top!r}"
    if rest:
        *index, leaf = rest
        assert all(i.isdigit() for i in index)  # list items, by position
        assert leaf in nested_keys()[top], f"{top} has no {leaf!r}"


def test_the_outcomes_filtered_on_are_the_reporters() -> None:
    assert {SUMMARIZED, REJECTED} <= record_literals()


def test_the_queries_use_only_the_declared_fields() -> None:
    # Given every identifier a query selects, filters or sorts on
    declared = set(FIELDS) | {"@timestamp", "desc", "asc", "in", "limit"}
    for name, text in queries().items():
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        body = re.sub(r'"[^"]*"', "", body)  # string literals are values, not fields
        words = set(re.findall(r"[@A-Za-z_][\w.]*", body))
        commands = {"fields", "filter", "sort"}
        # Then each is a field the record has (or a Logs Insights word)
        assert words - commands <= declared, (name, words - commands - declared)
