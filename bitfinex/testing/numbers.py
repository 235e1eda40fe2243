"""Decimal arithmetic for the local exchange: parsing client numbers, rounding, printing.

The exchange keeps every price and amount as a :class:`~decimal.Decimal`, so sums of order sizes
are exact; frames carry them as JSON numbers (floats), printed by
:func:`bitfinex.protocol.codec.dumps_js` exactly as Bitfinex's JavaScript prints them.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any, Optional

from bitfinex.protocol.jsnum import js_number_text
from bitfinex.protocol.numbers import to_decimal

PRICE_SIGNIFICANT_DIGITS = 5
"""Bitfinex prices carry at most five significant digits."""

AMOUNT_STEP = Decimal("1e-8")
"""Smallest amount increment (one satoshi)."""

ZERO = Decimal(0)


def parse_decimal(value: Any) -> Optional[Decimal]:
    """Read a client number (decimal string, int or float) as a finite Decimal.

    :returns: the value, or ``None`` if it is missing or not a finite number (what
        :func:`bitfinex.protocol.numbers.to_decimal` refuses).
    """
    try:
        return to_decimal(value, "value")
    except (TypeError, ValueError):
        return None


def significant_step(value: Decimal, digits: int) -> Decimal:
    """Return the unit of the ``digits``-th significant digit of ``value`` (non-zero value)."""
    return Decimal((0, (1,), value.adjusted() - digits + 1))


def round_significant(value: Decimal, digits: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``value`` to ``digits`` significant digits.

    :param rounding: a :mod:`decimal` rounding mode; half-even by default.
    """
    if value == 0:
        return ZERO
    return value.quantize(Decimal((0, (1,), value.adjusted() - digits + 1)), rounding).normalize()


def round_price(value: Decimal) -> Decimal:
    """Round a price to Bitfinex's five significant digits."""
    return round_significant(value, PRICE_SIGNIFICANT_DIGITS)


@lru_cache(maxsize=1 << 16)
def aggregate_price(price: Decimal, digits: int, is_bid: bool) -> Decimal:
    """Return the level an aggregated book (``P0``..``P4``) shows ``price`` in.

    Bids round down and asks round up, so an aggregated book is never crossed or locked when the
    raw book is not.

    :param digits: significant digits the precision keeps (``P0`` 5 ... ``P4`` 1).
    """
    return round_significant(price, digits, ROUND_FLOOR if is_bid else ROUND_CEILING)


def quantize_amount(value: Decimal) -> Decimal:
    """Round an amount to eight decimals (half-even)."""
    return value.quantize(AMOUNT_STEP, rounding=ROUND_HALF_EVEN).normalize()


def wire(value: Optional[Decimal]) -> Optional[float]:
    """Return a Decimal as the float a frame carries (``None`` stays ``None``)."""
    return None if value is None else float(value)


def text(value: Decimal) -> str:
    """Return ``value`` as the exchange prints it in human-readable messages (``"30000"``, ``"0.5"``)."""
    return js_number_text(float(value))
