"""Funding inputs: validated payloads for ``fon`` (a new funding offer) and ``foc`` (cancel one).

A funding offer lends (positive amount) or borrows (negative amount) a currency for a number of
days at a daily rate (docs ws-auth-input-offer-new, rest-auth-submit-funding-offer). Every
builder checks its input and raises :class:`ValueError` or :class:`TypeError` naming the
argument, so nothing malformed reaches the socket. The WebSocket API has no input to cancel all
funding offers (only REST's ``funding/offer/cancel/all``), so none is offered here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from bitfinex.protocol.constants import FUNDING_OFFER_TYPES, OrderFlag
from bitfinex.protocol.fields import funding_offer_array
from bitfinex.protocol.numbers import decimal_string, integer, nonzero_decimal_string, to_decimal
from bitfinex.protocol.orders import order_flags
from bitfinex.protocol.symbols import normalize_symbol

MIN_PERIOD = 2
MAX_PERIOD = 120
"""Days a funding offer may run (docs rest-auth-submit-funding-offer: 2 to 120)."""

OFFER_FLAGS = int(OrderFlag.HIDDEN)
"""The flags an offer may carry (docs flag-values: HIDDEN, 64, for offers)."""


def funding_symbol(symbol: object, name: str = "symbol") -> str:
    """Return the funding symbol for ``symbol`` (``"USD"`` and ``"fUSD"`` mean ``"fUSD"``).

    :raises ValueError: for a trading pair, or what :func:`~bitfinex.protocol.symbols.normalize_symbol` refuses.
    """
    normalized = normalize_symbol(symbol, name)
    if not normalized.startswith("f"):
        raise ValueError(f"{name} must be a funding currency such as 'fUSD' or 'USD', got {symbol!r}")
    return normalized


def offer_type(value: object) -> str:
    """Check a funding offer type: ``LIMIT``, ``FRRDELTAVAR`` or ``FRRDELTAFIX`` (any case).

    :raises ValueError, TypeError: naming ``offer_type``.
    """
    if not isinstance(value, str):
        raise TypeError(f"offer_type must be a str such as 'LIMIT', not {type(value).__name__}")
    canonical = value.strip().upper()
    if canonical not in FUNDING_OFFER_TYPES:
        raise ValueError(f"offer_type {value!r} is not one of {', '.join(FUNDING_OFFER_TYPES)}")
    return canonical


def offer_rate(value: object, kind: str) -> str:
    """Check a rate for an offer of type ``kind``, and return it as a decimal string.

    ``LIMIT`` takes the daily rate itself, above 0; ``FRRDELTAVAR`` an offset from the Flash
    Return Rate of 0 or more (0 places an FRR offer); ``FRRDELTAFIX`` an offset of either sign
    (docs rest-auth-submit-funding-offer).

    :raises ValueError, TypeError: naming ``rate``.
    """
    text = decimal_string(value, "rate")
    rate = to_decimal(text, "rate")
    if kind == "LIMIT" and rate <= 0:
        raise ValueError(f"rate of a LIMIT offer must be above 0, got {value!r}")
    if kind == "FRRDELTAVAR" and rate < 0:
        raise ValueError(f"rate of a FRRDELTAVAR offer is an offset from the FRR of 0 or more, got {value!r}")
    return text


def funding_offer_payload(
    kind: object, symbol: object, amount: object, rate: object, period: object,
    flags: Optional[Iterable[int] | int] = None,
) -> dict[str, Any]:
    """Build the payload of a ``fon`` (new funding offer) input.

    :param kind: ``"LIMIT"``, ``"FRRDELTAVAR"`` or ``"FRRDELTAFIX"``.
    :param symbol: the funding currency, ``"fUSD"`` (``"USD"`` means the same).
    :param amount: non-zero; positive lends, negative borrows.
    :param rate: the daily rate (LIMIT), or the offset from the FRR (see :func:`offer_rate`).
    :param period: days, 2 to 120.
    :param flags: offer flags: only HIDDEN (64).
    :raises ValueError, TypeError: naming the offending argument.
    """
    checked = offer_type(kind)
    combined = order_flags(flags)
    if combined & ~OFFER_FLAGS:
        raise ValueError(f"flags: a funding offer takes only HIDDEN ({OFFER_FLAGS}), got {combined}")
    return {
        "type": checked,
        "symbol": funding_symbol(symbol),
        "amount": nonzero_decimal_string(amount, "amount"),
        "rate": offer_rate(rate, checked),
        "period": integer(period, "period", minimum=MIN_PERIOD, maximum=MAX_PERIOD),
        "flags": combined,
    }


def cancel_offer_payload(offer_id: object) -> dict[str, Any]:
    """Build the payload of a ``foc`` (cancel funding offer) input: ``{"id": offer_id}``.

    :raises ValueError, TypeError: naming ``offer_id``.
    """
    return {"id": integer(offer_id, "offer_id", minimum=1)}


def echo_offer(payload: dict[str, Any]) -> list[Any]:
    """The funding offer array a Bitfinex ``fon-req``/``foc-req`` notification carries for
    ``payload`` (amount and rate as numbers)."""
    fields: dict[str, Any] = {name: payload[name] for name in ("id", "symbol", "type", "period", "flags") if name in payload}
    for name in ("amount", "rate"):
        if name in payload:
            fields[name] = float(payload[name])
    if "amount" in fields:
        fields["amount_orig"] = fields["amount"]
    return funding_offer_array(fields)
