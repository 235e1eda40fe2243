"""Reading client order inputs (``on`` and ``ou`` payloads) into validated values.

Every check raises :class:`OrderRejected` with the text Bitfinex puts in the ``ERROR``
notification, and the order array the notification echoes.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from bitfinex.protocol.constants import ORDER_TYPES, OrderFlag
from bitfinex.testing.accounts import order_array
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.numbers import parse_decimal, quantize_amount, round_price, text, wire

PRICED_TYPES = ("LIMIT", "FOK", "IOC", "STOP", "STOP LIMIT")
"""Base order types that need ``price`` (for stops: the stop price)."""

STOP_TYPES = ("STOP", "STOP LIMIT", "TRAILING STOP")
"""Base order types that wait for the last price to reach a trigger."""

_SUPPORTED_FLAGS = OrderFlag.HIDDEN | OrderFlag.CLOSE | OrderFlag.REDUCE_ONLY | OrderFlag.POST_ONLY | OrderFlag.NO_VAR_RATES


class OrderRejected(Exception):
    """An order input the exchange refuses.

    :param text: the notification's TEXT, e.g. ``"Invalid order: minimum size for BTC/USD is 0.0002"``.
    :param echo: the order array the ``ERROR`` notification carries.
    """

    def __init__(self, text: str, echo: list[Any]) -> None:
        super().__init__(text)
        self.text = text
        self.echo = echo


@dataclass(frozen=True)
class NewOrder:
    """A validated ``on`` payload (prices rounded to 5 significant digits, amounts to 8 decimals)."""

    instrument: Instrument
    order_type: str
    amount: Decimal
    price: Optional[Decimal]
    price_aux_limit: Optional[Decimal]
    price_trailing: Optional[Decimal]
    flags: int
    gid: Optional[int]
    cid: Optional[int]
    mts_tif: Optional[int]
    meta: Optional[dict[str, Any]]

    @property
    def base_type(self) -> str:
        """The type without its ``EXCHANGE`` prefix."""
        return self.order_type.removeprefix("EXCHANGE ")


@dataclass(frozen=True)
class OrderChanges:
    """A validated ``ou`` payload: only the fields the client sent are set."""

    order_id: int
    amount: Optional[Decimal] = None
    delta: Optional[Decimal] = None
    price: Optional[Decimal] = None
    price_aux_limit: Optional[Decimal] = None
    price_trailing: Optional[Decimal] = None
    flags: Optional[int] = None
    gid: Optional[int] = None
    mts_tif: Optional[int] = None


def _integer(payload: Mapping[str, Any], name: str, echo: list[Any]) -> Optional[int]:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OrderRejected(f"{name}: invalid", echo)
    return value


def _price(payload: Mapping[str, Any], name: str, echo: list[Any], required: bool) -> Optional[Decimal]:
    raw = payload.get(name)
    if raw is None and not required:
        return None
    value = parse_decimal(raw)
    if value is None or value <= 0:
        raise OrderRejected(f"{name}: invalid", echo)
    return round_price(value)


def _tif(payload: Mapping[str, Any], echo: list[Any]) -> Optional[int]:
    raw = payload.get("tif")
    if raw is None:
        return None
    try:
        moment = datetime.datetime.strptime(str(raw), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise OrderRejected("tif: invalid", echo) from None
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def echo_array(payload: Mapping[str, Any]) -> list[Any]:
    """The order array an ``ERROR`` notification shows for a refused ``on`` payload."""
    amount = parse_decimal(payload.get("amount"))
    price = parse_decimal(payload.get("price"))
    flags = payload.get("flags")
    return order_array(
        gid=payload.get("gid") if isinstance(payload.get("gid"), int) else None,
        cid=payload.get("cid") if isinstance(payload.get("cid"), int) else None,
        symbol=payload.get("symbol") if isinstance(payload.get("symbol"), str) else None,
        amount=wire(amount),
        amount_orig=wire(amount),
        order_type=payload.get("type") if isinstance(payload.get("type"), str) else None,
        flags=flags if isinstance(flags, int) else None,
        price=wire(price),
    )


def read_new_order(payload: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> NewOrder:
    """Validate an ``on`` payload.

    :raises OrderRejected: for an unknown symbol or type, a zero or malformed amount, an amount
        under the symbol's minimum size, a missing price, unsupported flags (OCO) or a malformed
        gid, cid or tif.
    """
    echo = echo_array(payload)
    symbol = payload.get("symbol")
    instrument = instruments.get(symbol) if isinstance(symbol, str) else None
    if instrument is None or instrument.is_funding:
        raise OrderRejected("symbol: invalid", echo)
    order_type = payload.get("type")
    if order_type not in ORDER_TYPES:
        raise OrderRejected("type: invalid", echo)
    amount = parse_decimal(payload.get("amount"))
    amount = quantize_amount(amount) if amount is not None else None
    if not amount:
        raise OrderRejected("amount: invalid", echo)
    if abs(amount) < instrument.min_order_size:
        raise OrderRejected(
            f"Invalid order: minimum size for {instrument.display_pair} is {text(instrument.min_order_size)}",
            echo,
        )
    base_type = order_type.removeprefix("EXCHANGE ")
    flags = _integer(payload, "flags", echo) or 0
    if flags & ~_SUPPORTED_FLAGS:
        raise OrderRejected("flags: invalid (OCO is not supported by the local exchange)", echo)
    meta = payload.get("meta")
    return NewOrder(
        instrument=instrument,
        order_type=order_type,
        amount=amount,
        price=_price(payload, "price", echo, required=base_type in PRICED_TYPES),
        price_aux_limit=_price(payload, "price_aux_limit", echo, required=base_type == "STOP LIMIT"),
        price_trailing=_price(payload, "price_trailing", echo, required=base_type == "TRAILING STOP"),
        flags=flags,
        gid=_integer(payload, "gid", echo),
        cid=_integer(payload, "cid", echo),
        mts_tif=_tif(payload, echo),
        meta=meta if isinstance(meta, dict) else None,
    )


def read_order_changes(payload: Mapping[str, Any], current: list[Any]) -> OrderChanges:
    """Validate an ``ou`` payload.

    :param current: the order's array, echoed when the payload is refused.
    :raises OrderRejected: for a malformed id, amount, delta, price, flags, gid or tif.
    """
    order_id = _integer(payload, "id", current)
    if order_id is None:
        raise OrderRejected("id: invalid", current)
    amount = delta = None
    if payload.get("amount") is not None:
        amount = parse_decimal(payload.get("amount"))
        if not amount:
            raise OrderRejected("amount: invalid", current)
        amount = quantize_amount(amount)
    if payload.get("delta") is not None:
        delta = parse_decimal(payload.get("delta"))
        if delta is None:
            raise OrderRejected("delta: invalid", current)
        delta = quantize_amount(delta)
    return OrderChanges(
        order_id=order_id,
        amount=amount,
        delta=delta,
        price=_price(payload, "price", current, required=False),
        price_aux_limit=_price(payload, "price_aux_limit", current, required=False),
        price_trailing=_price(payload, "price_trailing", current, required=False),
        flags=_integer(payload, "flags", current),
        gid=_integer(payload, "gid", current),
        mts_tif=_tif(payload, current),
    )
