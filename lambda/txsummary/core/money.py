"""Integer-cent arithmetic and formatting. No floats are ever accumulated."""

from __future__ import annotations

# Below this magnitude a float's shortest repr is exactly the cent value's decimal text.
_EXACT_FLOAT_LIMIT = 10**15


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


def json_money(cents: int | None) -> float | str | None:
    """A JSON-ready money value whose text is exact to the cent.

    ``cents / 100`` is the correctly rounded double of the decimal value, and for fewer than
    16 significant digits its shortest repr (what json writes) is that decimal. Larger values
    cannot be exact as a JSON float, so they are written as a decimal string instead.
    """
    if cents is None:
        return None
    if abs(cents) < _EXACT_FLOAT_LIMIT:
        return cents / 100
    return format_cents(cents)
