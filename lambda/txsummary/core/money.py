"""Integer-cent arithmetic and formatting. No floats are ever accumulated.

Python ints have no size limit, but turning one of more than 4,300 digits into text raises
ValueError (``sys.int_info.str_digits_check_threshold``). Money is turned into text through
Decimal, which has no such limit, so formatting never fails whatever the sums.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal

# Enough precision for any int: scaling by a power of ten is then exact, never rounded.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def average_cents(total: int, count: int) -> int | None:
    """Exact average of integer cents, rounded to the cent, half away from zero."""
    if count == 0:
        return None
    quotient, remainder = divmod(abs(total), count)
    if 2 * remainder >= count:
        quotient += 1
    return quotient if total >= 0 else -quotient


def decimal_cents(cents: int) -> Decimal:
    """``cents`` scaled by 100 as an exact Decimal with two places: 1234 -> Decimal('12.34')."""
    return Decimal(cents).scaleb(-2, _EXACT)  # Decimal(int) is exact; so is scaleb here


def format_cents(cents: int) -> str:
    """39.74, -15.38, 60.50, -0.05: always two decimals, sign only when negative."""
    return format(decimal_cents(cents), "f")


def json_money(cents: int | None) -> Decimal | None:
    """The money value as an exact Decimal (``cents`` scaled by 100), for JSON and DynamoDB.

    :func:`txsummary.core.jsonout.dumps` writes it as a number literal with every cent.
    """
    return None if cents is None else decimal_cents(cents)
