"""Integer-cent arithmetic and formatting. No floats are ever accumulated."""

from __future__ import annotations

from decimal import Decimal


def average_cents(total: int, count: int) -> int | None:
    """Exact average of integer cents, rounded to the cent, half away from zero."""
    if count == 0:
        return None
    quotient, remainder = divmod(abs(total), count)
    if 2 * remainder >= count:
        quotient += 1
    return quotient if total >= 0 else -quotient


def format_cents(cents: int) -> str:
    """39.74, -15.38, 60.50, -0.05: always two decimals, sign only when negative."""
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{frac:02d}"


def json_money(cents: int | None) -> Decimal | None:
    """The money value as an exact Decimal (``cents`` scaled by 100), for JSON and DynamoDB.

    :func:`txsummary.core.jsonout.dumps` writes it as a number literal with every cent.
    """
    if cents is None:
        return None
    return Decimal(format_cents(cents))  # from text: exact at any size, whatever the context
