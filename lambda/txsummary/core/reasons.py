"""Why a value breaks a rule, in words a person can act on: the rule's own reason, and the
likely export mistake (core.hints) when fixing it gives a value the rule accepts. Built only for
the offending lines a file reports, never for the ones it only counts."""

from __future__ import annotations

import functools

import pyarrow as pa

from txsummary.core import hints
from txsummary.core.errors import shown
from txsummary.core.rules import (
    AMOUNT_TOO_LONG,
    MAX_WHOLE_DIGITS,
    Layout,
    RuleError,
    cached_date,
    check_amounts,
    parse_date,
)

# Reasons are pure functions of the text, computed for every offending row, so the short texts
# (dates repeat a lot) are cached; a cache of long ones (up to a record each) could hold gigabytes.
_CACHED_CHARS = 64


def date_reason(text: str) -> str:
    """Why a text is not a valid date (it must be one that :func:`parse_date` refuses), with
    the likely export mistake when its fix is a valid date."""
    return _date_reason(text) if len(text) <= _CACHED_CHARS else _date_reason.__wrapped__(text)


@functools.lru_cache(maxsize=4096)
def _date_reason(text: str) -> str:
    try:
        parse_date(text)
    except RuleError as exc:
        reason = str(exc)
    else:
        raise ValueError(f"{text!r} is a valid date")
    if not text:
        return f"the Date field is empty: expected a date like {hints.EXAMPLE_DATES}"
    fix = hints.date_fix(text)
    if fix is not None and cached_date(fix.value, {}) is not None:
        reason += f": it has {fix.text()}, so write it as {fix.value}"
        if fix.advice:
            reason += f" or, {fix.advice}"
    return reason


def amount_reason(text: str, code: int) -> str:
    if len(text) <= _CACHED_CHARS:
        return _amount_reason(text, code)
    return _amount_reason.__wrapped__(text, code)


@functools.lru_cache(maxsize=4096)
def _amount_reason(text: str, code: int) -> str:
    if code == AMOUNT_TOO_LONG:
        return f"Transaction {shown(text)} has more than {MAX_WHOLE_DIGITS} digits before the point"
    if not text:
        return f"the Transaction field is empty: expected an amount like {hints.EXAMPLE_AMOUNT}"
    if fix := _amount_fix(text):
        return (
            f"Transaction {shown(text)} is not an amount: it has {fix.text()}, "
            f"so write it as {fix.value}"
        )
    return (
        f"Transaction {shown(text)} is not an amount like 10, -10.3 or +60.25 "
        "(digits with an optional sign and at most two decimals)"
    )


def _amount_fix(text: str) -> hints.Fix | None:
    """The hint's fix, only when the amount rule itself accepts the fixed value (reasons are
    built for the reported errors only, so one small array per value costs little)."""
    fix = hints.amount_fix(text)
    if fix is None or check_amounts(pa.array([fix.value], pa.string())).codes is not None:
        return None
    return fix


def width_reason(fields: list[str], layout: Layout) -> str:
    """Why a record has the wrong number of fields: an unquoted decimal comma or thousands
    separator in the amount (one field more), or another separator than the comma."""
    reason = f"expected {layout.width} fields, found {len(fields)}"
    at = layout.amount
    if len(fields) == layout.width + 1 and at + 1 < len(fields):
        joined = f"{fields[at].strip()},{fields[at + 1].strip()}"
        if fix := _amount_fix(joined):
            return (
                f"{reason}: the Transaction {shown(joined)} seems to have {fix.text()}, "
                f"which split it in two, so write it as {fix.value}"
            )
    if len(fields) < layout.width and (sep := hints.separator(",".join(fields))):
        return f"{reason}: the line seems {sep}-separated; {hints.SAVE_AS_COMMAS}"
    return reason
