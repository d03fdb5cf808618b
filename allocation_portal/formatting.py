"""How the portal writes numbers, one way on every page, in both languages: thousands separators,
and the same decimals for the same unit (GPUs and servers: none; GPU-hours: one, the precision
reports and plans are kept in; shares: one decimal of a percent, so 59.96% is never shown as the
60% threshold it is under)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

GPU_HOURS_DECIMALS = 1
PERCENT_DECIMALS = 1
EMPTY = "–"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def format_number(value, decimals: int = 0) -> str:
    """12345.67 -> '12,346' (or with `decimals` 1, '12,345.7'); None -> '–'."""
    number = _decimal(value)
    if number is None or not number.is_finite():
        return EMPTY
    rounded = number.quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)
    if rounded.is_zero():
        rounded = abs(rounded)  # never "-0"
    return f"{rounded:,.{int(decimals)}f}"


def format_percent(share, decimals: int = PERCENT_DECIMALS) -> str:
    """A share (0.2345) as a percent ('23.5%')."""
    number = _decimal(share)
    if number is None or not number.is_finite():
        return EMPTY
    return f"{format_number(number * 100, decimals)}%"
