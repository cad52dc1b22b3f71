"""JSON text in which money is an exact number literal.

Money leaves the core as :class:`decimal.Decimal` (from integer cents). The standard encoder
can only write a float for a number, which loses cents from about 10**13 on, so Decimals are
written here as their own decimal text: a JSON number that readers which keep decimals
(``parse_float=Decimal``, BigDecimal, jq 1.7) read back to the cent.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_STRING = json.JSONEncoder(ensure_ascii=False)


def dumps(value: Any, *, default: Any = str) -> str:
    """Compact JSON of dicts, lists, tuples, str, int, bool, None and Decimal; other values go
    through ``default`` (as the standard encoder's ``default``) and are written as strings
    unless it returns one of the types above."""
    parts: list[str] = []
    _write(value, parts, default)
    return "".join(parts)


def _write(value: Any, out: list[str], default: Any) -> None:
    scalar = _scalar(value)
    if scalar is not None:
        out.append(scalar)
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + _STRING.encode(str(key)) + ":")
            _write(item, out, default)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, default)
        out.append("]")
    else:
        converted = default(value)
        if isinstance(converted, str | int | float | Decimal | dict | list | tuple | None):
            _write(converted, out, str)
        else:
            out.append(_STRING.encode(str(converted)))


def _scalar(value: Any) -> str | None:
    """The JSON text of a scalar, or None for anything else."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        return _STRING.encode(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return format(value, "f")  # plain digits, never an exponent: 1E+3 is 1000
    if isinstance(value, int):
        return format(Decimal(value), "f")  # str(int) refuses over 4,300 digits
    if isinstance(value, float):
        return json.dumps(value, allow_nan=False)
    return None
