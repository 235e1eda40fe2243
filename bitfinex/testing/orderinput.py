"""Reading client order inputs (``on``, ``ou``, ``oc``, ``oc_multi``, ``ox_multi`` payloads).

Every check raises :class:`OrderRejected` with the TEXT of the ``ERROR`` notification and the
order array it echoes, so no malformed input reaches the order desk and nothing raises past it:
numbers are read by :func:`read_number` (bounded, finite, decimal text or JSON numbers only) and
integers by :func:`read_integer` (bounded), never by ``Decimal(...)`` on raw client data.

This module is the one place that says how the exchange treats each order flag and option:
:data:`ORDER_FLAGS` (every documented flag: what it does here, and the source) and
:data:`ORDER_OPTIONS` (``gid``, ``cid``, ``meta`` keys, ``lev``, ``tif``, ``price_oco_stop``).
:data:`ORDER_STATUSES` and :data:`REJECTION_TEXTS` list the status strings and ``ERROR`` texts the
order desk uses, each with its source (or "chosen" where no source gives Bitfinex's).

Text style: Bitfinex refuses a malformed field with ``"FIELD: invalid"`` (live:
``"price_oco_stop: invalid"``, bitfinex-api-node issues 186, 257, 471); where the local exchange
adds why, it does so in parentheses after that text, so a bot that reads the head of the text
reads what Bitfinex sends.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Optional

from bitfinex.protocol.constants import MAX_OPS_PER_MULTI, ORDER_INPUTS, ORDER_TYPES, OrderFlag
from bitfinex.testing.accounts import Order, order_array
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.numbers import ZERO, quantize_amount, text, wire

# -- flags and options: what the exchange does with each ---------------------------------------


@dataclass(frozen=True)
class FlagRule:
    """How the local exchange handles one order flag.

    :param name: the flag's name (:class:`~bitfinex.protocol.constants.OrderFlag`).
    :param value: its bit.
    :param handling: ``"emulated"`` (Bitfinex's documented effect), ``"partly"`` (emulated where
        it applies, refused where the local exchange cannot emulate it) or ``"refused"``.
    :param behaviour: what it does here, and what happens when it cannot apply.
    :param source: where the behaviour comes from.
    """

    name: str
    value: int
    handling: str
    behaviour: str
    source: str


ORDER_FLAGS: tuple[FlagRule, ...] = (
    FlagRule(
        "HIDDEN",
        OrderFlag.HIDDEN,
        "emulated",
        "The order matches but never shows in public books (R0 or P0..P4); HIDDEN (24) is 1 in its "
        "array and it pays the taker fee when hit. With meta {make_visible: 1} it shows in the "
        "book once it has been hit ('visible on hit').",
        "docs flag-values (Hidden, make_visible); the taker fee of hidden orders: kept from "
        "accounts.TAKER_FEE (Bitfinex's fee schedule charges hidden orders as takers)",
    ),
    FlagRule(
        "CLOSE",
        OrderFlag.CLOSE,
        "emulated",
        "Margin orders: the amount becomes the whole position, opposite sign (the sent amount "
        "only has to be valid); the order then never increases or flips the position (guarded "
        "like REDUCE_ONLY) and its full execution reads 'EXECUTED @ P(A) was ACTIVE "
        "(note:POSCLOSE)'. No position (and every EXCHANGE order, which has none): on-req "
        "SUCCESS, then oc 'RSN_POS_NOTFOUND'.",
        "docs flag-values ('Close position if position present'); status: docs "
        "abbreviations-glossary (Order Status: POSCLOSE, RSN_POS_NOTFOUND); cancelling without a "
        "position: chosen (no source says what Bitfinex does)",
    ),
    FlagRule(
        "REDUCE_ONLY",
        OrderFlag.REDUCE_ONLY,
        "emulated",
        "Checked whenever the order would execute (on entry, when a stop triggers, when an update "
        "re-queues it, and before each fill as a maker): no position -> 'RSN_POS_NOTFOUND'; same "
        "direction as the position -> 'RSN_POS_REDUCE_INCR'; larger than the position -> "
        "'RSN_POS_REDUCE_FLIP'. The order is then cancelled (on-req SUCCESS, oc with that "
        "status), never cut. EXCHANGE orders have no position: 'RSN_POS_NOTFOUND'.",
        "docs flag-values ('does not flip the opened position'); statuses and their meaning: docs "
        "abbreviations-glossary (Order Status); EXCHANGE orders: chosen",
    ),
    FlagRule(
        "POST_ONLY",
        OrderFlag.POST_ONLY,
        "emulated",
        "An order that would match a visible resting order is cancelled with 'POSTONLY CANCELED' "
        "(on-req SUCCESS, oc); it may match hidden orders. Applies to every type (a MARKET order "
        "always would match).",
        "docs flag-values ('unless the pre-existing order is a hidden order'); status: docs "
        "abbreviations-glossary; non-LIMIT types: chosen",
    ),
    FlagRule(
        "OCO",
        OrderFlag.OCO,
        "emulated",
        "A LIMIT (or EXCHANGE LIMIT) order with price_oco_stop places a second order, a STOP (or "
        "EXCHANGE STOP) of the same amount at price_oco_stop, whose PLACED_ID (25) is the limit "
        "order's id; both carry the OCO flag. A fill (full or partial) of one leg, the stop's "
        "trigger, or a cancel of one leg cancels the other ('CANCELED'). If the limit order fills "
        "on entry the stop leg is never placed. Without price_oco_stop: 'price_oco_stop: invalid'; "
        "on another type: 'flags: invalid'.",
        "docs flag-values (OCO); two orders and PLACED_ID: docs rest-auth-submit-order (PLACED_ID) "
        "and v1 docs rest-auth-new-order ('an additional STOP OCO order'); error text: live, "
        "bitfinex-api-node issues 186/257/471; sibling status 'CANCELED': chosen (the glossary's "
        "status list has no OCO status); non-LIMIT types refused: chosen",
    ),
    FlagRule(
        "NO_VAR_RATES",
        OrderFlag.NO_VAR_RATES,
        "partly",
        "EXCHANGE orders: accepted, no effect, as documented ('if on margin'). Margin orders: "
        "refused with 'flags: invalid (...)', since the local exchange does not fund positions "
        "with funding offers and so cannot exclude variable-rate ones.",
        "docs flag-values (No Var Rates); refusal: local",
    ),
)
"""Every order flag Bitfinex documents (docs flag-values), and what the local exchange does with
it. A bit not in this table is refused with ``"flags: invalid (...)"`` (docs flag-values lists
every order flag; the text follows Bitfinex's ``FIELD: invalid`` style, chosen)."""

DOCUMENTED_FLAGS = sum(rule.value for rule in ORDER_FLAGS)
"""The bits an order's ``flags`` may hold (16384 + 4096 + 1024 + 512 + 64 + 524288)."""


@dataclass(frozen=True)
class OptionRule:
    """How the local exchange handles one order field or ``meta`` key (see :data:`ORDER_FLAGS`)."""

    name: str
    behaviour: str
    source: str


ORDER_OPTIONS: tuple[OptionRule, ...] = (
    OptionRule(
        "gid",
        "An integer 0..2^31-1; stored, echoed at index 1, changed by ou, and oc_multi {gid: [...]} "
        "cancels by it. Anything else: 'gid: invalid'.",
        "docs ws-auth-input-order-new (gid int32), ws-auth-input-order-cancel-multi",
    ),
    OptionRule(
        "cid",
        "An integer 0..2^45-1; echoed at index 2; with cid_date (the order's UTC creation date, "
        "YYYY-MM-DD) it identifies the order for oc, oc_multi and ou. Anything else: 'cid: invalid'.",
        "docs ws-auth-input-order-new (cid int45), ws-auth-input-order-cancel",
    ),
    OptionRule(
        "meta",
        "An object, echoed at index 31 (ou merges its keys in). aff_code: no effect on the trader "
        "(rebates go to the code's owner). make_visible: see HIDDEN. protect_selfmatch: refused "
        "('meta: invalid (...)'), not emulated. Anything but an object: 'meta: invalid'.",
        "docs rest-auth-submit-order (meta aff_code, protect_selfmatch), flag-values "
        "(make_visible); refusal: local",
    ),
    OptionRule(
        "lev",
        "Derivative orders (tBTCF0:USTF0): an integer 1..100, DEFAULT_LEVERAGE (10) when omitted; "
        "the position takes notional / lev of collateral from the margin wallet of the quote "
        "currency (USTF0), and the order array's META shows {lev, $F33}. ou may change it. On a "
        "spot order: 'lev: invalid (derivative orders only)'. Anything else: 'lev: invalid'.",
        "docs ws-auth-input-order-new ('supported by derivative symbol orders only ... between 1 "
        "and 100 inclusive ... if omitted the default leverage value of 10 will be used'); META: "
        "live, leehillz/bfxqa-ws Auth/DerivativesOrder.js; the refusal's text: chosen in the "
        "'FIELD: invalid' style (no live answer to lev on a spot order is known)",
    ),
    OptionRule(
        "tif",
        "'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD' (UTC); the order is cancelled ('CANCELED') once "
        "it passes. Anything else: 'tif: invalid'.",
        "docs changelog v2018-06-08 (datetime format), ws-auth-input-order-update (date-only example)",
    ),
    OptionRule(
        "price_oco_stop",
        "Read only with the OCO flag (see OCO); without it the field is ignored, as Bitfinex does.",
        "live: bitfinex-api-py issue 251 (price_oco_stop without the flag: only the limit order "
        "was placed)",
    ),
    OptionRule(
        "price, price_aux_limit, price_trailing",
        "Read only where the type uses them (price: every type but MARKET and TRAILING STOP). "
        "Truncated to 5 significant digits and 8 decimals; zero, negative, non-finite, beyond "
        "1e15, or not a decimal number/text: 'FIELD: invalid'.",
        "docs v1 readme ('API will truncate price with precision > 5'); price not required for "
        "MARKET: docs ws-auth-input-order-new; bounds: chosen",
    ),
    OptionRule(
        "amount, delta",
        "Rounded to 8 decimals; zero after rounding, non-finite, beyond 1e15, or not a decimal "
        "number/text: 'amount: invalid' / 'delta: invalid'.",
        "docs ws-auth-input-order-new (amount: decimal string); bounds: chosen",
    ),
)
"""Order fields and ``meta`` keys beyond the flags, and what the local exchange does with them."""


@dataclass(frozen=True)
class TextRule:
    """A status string or ``ERROR`` text the order desk uses, and its source."""

    text: str
    when: str
    source: str


ORDER_STATUSES: tuple[TextRule, ...] = (
    TextRule("ACTIVE", "resting or waiting (stops)", "docs abbreviations-glossary"),
    TextRule("PARTIALLY FILLED @ P(A)", "after a fill that leaves an amount", "docs abbreviations-glossary"),
    TextRule("EXECUTED @ P(A)", "fully filled (': was ...' after earlier fills)", "docs abbreviations-glossary"),
    TextRule("EXECUTED @ P(A) was ACTIVE (note:POSCLOSE)", "a CLOSE order fully filled", "docs abbreviations-glossary"),
    TextRule("CANCELED", "cancelled (oc, oc_multi, tif, DMS, the other OCO leg)", "docs abbreviations-glossary"),
    TextRule("POSTONLY CANCELED", "POST_ONLY that would match a visible order", "docs abbreviations-glossary"),
    TextRule("FILLORKILL CANCELED", "FOK that cannot fill entirely", "docs abbreviations-glossary"),
    TextRule("IOC CANCELED", "IOC remainder", "docs abbreviations-glossary"),
    TextRule("RSN_POS_NOTFOUND", "REDUCE_ONLY / CLOSE without a position", "docs abbreviations-glossary"),
    TextRule("RSN_POS_REDUCE_INCR", "REDUCE_ONLY / CLOSE that would increase the position", "docs abbreviations-glossary"),
    TextRule("RSN_POS_REDUCE_FLIP", "REDUCE_ONLY / CLOSE that would flip the position", "docs abbreviations-glossary"),
)
"""The order statuses (index 13) the order desk sets. A status after fills reads
``"{REASON} was: {previous status}"``."""

REJECTION_TEXTS: tuple[TextRule, ...] = (
    TextRule("FIELD: invalid", "a malformed field (symbol, type, amount, price...)", "live style: bitfinex-api-node issue 186"),
    TextRule(
        "Invalid order: minimum size for BTC/USD is 0.0002",
        "amount under the minimum",
        "live: bitfinex-api-node issue 299 ('Invalid order: minimum size for ETC/USD is 0.8')",
    ),
    TextRule("Invalid order: not enough exchange balance for A PAIR at P", "exchange wallet short", "kept; issue 299 style"),
    TextRule("Invalid order: not enough tradable balance for A PAIR at P", "margin wallet short", "kept; issue 299 style"),
    TextRule("Order not found.", "oc / ou of an unknown order", "existing rule"),
    TextRule("Orders not found.", "oc_multi that selects nothing", "chosen"),
    TextRule("ops: invalid (...)", "ox_multi that is not 1..75 [op, {...}] pairs", "chosen"),
    TextRule("request failed", "a bug in the desk (logged with its traceback)", "chosen"),
)
"""``ERROR`` notification texts (index 7) the order desk sends."""


# -- numbers -----------------------------------------------------------------------------------

MAX_MAGNITUDE = Decimal(10) ** 15
"""The largest amount or price accepted (chosen: past it a JavaScript number, which Bitfinex's
engine reads inputs as, no longer holds every unit with its eight decimals' worth of meaning;
``1e30``, ``10**100``, ``1e400`` are refused as invalid)."""

MAX_NUMBER_TEXT = 64
"""The longest decimal text accepted for a number (chosen)."""

PRICE_DIGITS = 5
"""Significant digits a price keeps; more are cut (docs v1 readme: 'API will truncate price with
precision > 5')."""

PRICE_STEP = Decimal("1e-8")
"""Prices carry at most eight decimals (support article 'How is precision calculated': five
significant digits; the smallest example, 0.00012340, has eight decimals)."""

MAX_GID = 2**31 - 1
"""A gid is an int32 (docs ws-auth-input-order-new)."""

MAX_CID = 2**45 - 1
"""A cid is an int45 (docs ws-auth-input-order-new)."""

MAX_ORDER_ID = 2**53 - 1
"""Order ids are JavaScript safe integers (the largest integer a JSON number carries exactly)."""

MAX_FLAGS = 2**53 - 1
"""Flags beyond a safe integer cannot be a sum of flags Bitfinex reads exactly."""

MIN_LEVERAGE, MAX_LEVERAGE = 1, 100
"""``lev`` runs from 1 to 100 (docs rest-auth-submit-order)."""

DEFAULT_LEVERAGE = 10
"""The leverage of a derivative order sent without ``lev`` (docs ws-auth-input-order-new; live
derivative orders without ``lev`` show ``{"lev": 10}``, leehillz/bfxqa-ws)."""

SPOT_LEVERAGE = "lev: invalid (derivative orders only)"
"""The refusal of ``lev`` on a spot pair's order (chosen text, see :data:`ORDER_OPTIONS`)."""

_DECIMAL_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_UNDERFLOW_EXPONENT = -30
"""Numbers smaller than 1e-30 read as zero (they round to zero as amounts and prices anyway)."""


def read_number(value: Any) -> Optional[Decimal]:
    """Read a client number: a decimal string (``"0.5"``, ``"1e3"``), a JSON number, or a
    Decimal; finite, at most :data:`MAX_MAGNITUDE`, strings at most :data:`MAX_NUMBER_TEXT` long.

    :returns: the value (tiny values as zero), or ``None`` for anything else (bools, lists,
        ``"abc"``, ``"NaN"``, ``"1_000"``, ``1e400``, ``10**100``).
    """
    number: Decimal
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT or not _DECIMAL_TEXT.match(value):
            return None
        try:
            number = Decimal(value.strip())
        except ArithmeticError:  # InvalidOperation, Overflow: exponents past Decimal's range
            return None
    elif isinstance(value, int):
        if abs(value) > MAX_MAGNITUDE:
            return None
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        return None
    if not number.is_finite() or number.copy_abs() > MAX_MAGNITUDE:  # copy_abs: no context, no Overflow
        return None
    if number and number.adjusted() < _UNDERFLOW_EXPONENT:
        return ZERO
    return number


def read_integer(value: Any, minimum: int, maximum: int) -> Optional[int]:
    """Read a client integer (a JSON integer, or a float with no fraction as JavaScript reads
    ``5.0``) within ``[minimum, maximum]``; ``None`` for anything else (bools and strings too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer() or abs(value) > 2**53:
            return None
        value = int(value)
    if not isinstance(value, int) or not minimum <= value <= maximum:
        return None
    return value


def read_date(value: Any) -> Optional[str]:
    """Read a ``cid_date``: a real date written ``YYYY-MM-DD``; ``None`` otherwise."""
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return None
    return value


def truncate_price(value: Decimal) -> Decimal:
    """Cut a positive price to five significant digits and eight decimals (toward zero)."""
    step = max(Decimal(1).scaleb(value.adjusted() - PRICE_DIGITS + 1), PRICE_STEP)
    return value.quantize(step, rounding=ROUND_DOWN).normalize()


# -- rejections and echoes ---------------------------------------------------------------------


class OrderRejected(Exception):
    """An order input the exchange refuses.

    :param text: the notification's TEXT, e.g. ``"Invalid order: minimum size for BTC/USD is 0.0002"``.
    :param echo: the order array the ``ERROR`` notification carries.
    """

    def __init__(self, text: str, echo: list[Any]) -> None:
        super().__init__(text)
        self.text = text
        self.echo = echo


def echo_text(value: Any) -> Optional[str]:
    """A client string fit to echo (at most 64 characters), else ``None``."""
    return value if isinstance(value, str) and len(value) <= 64 else None


def echo_meta(value: Any) -> Optional[dict[str, Any]]:
    """A client ``meta`` fit to echo at index 31 (an object of JSON-safe values), else ``None``."""
    return value if isinstance(value, dict) and json_safe(value) else None


def json_safe(value: Any) -> bool:
    """Whether ``value`` holds only what JSON carries back exactly (no NaN or infinities, string
    keys, integers a JavaScript number holds). The session refuses inputs nesting more than 16
    levels, so this walk is short; it is iterative all the same."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, int) and not isinstance(item, bool):
            if abs(item) > 2**53:
                return False
        elif not (item is None or isinstance(item, (str, bool, Decimal))):
            return False
    return True


def echo_array(payload: Mapping[str, Any]) -> list[Any]:
    """The order array an ``ERROR`` notification shows for a refused ``on`` payload: the fields
    the client sent that can be echoed (numbers within bounds, short strings, safe meta)."""
    amount = read_number(payload.get("amount"))
    price = read_number(payload.get("price"))
    return order_array(
        gid=read_integer(payload.get("gid"), 0, MAX_GID),
        cid=read_integer(payload.get("cid"), 0, MAX_CID),
        symbol=echo_text(payload.get("symbol")),
        amount=wire(amount),
        amount_orig=wire(amount),
        order_type=echo_text(payload.get("type")),
        flags=read_integer(payload.get("flags"), 0, MAX_FLAGS),
        price=wire(price),
        meta=echo_meta(payload.get("meta")),
    )


def echo_identifiers(payload: Mapping[str, Any]) -> list[Any]:
    """The order array an ``oc``/``ou`` ``ERROR`` shows: the id and cid the client sent."""
    return order_array(
        order_id=read_integer(payload.get("id"), 1, MAX_ORDER_ID),
        cid=read_integer(payload.get("cid"), 0, MAX_CID),
    )


# -- on ----------------------------------------------------------------------------------------

PRICED_TYPES = ("LIMIT", "FOK", "IOC", "STOP", "STOP LIMIT")
"""Base order types that need ``price`` (for stops: the stop price)."""

STOP_TYPES = ("STOP", "STOP LIMIT", "TRAILING STOP")
"""Base order types that wait for the last price to reach a trigger."""

POSITION_FLAGS = OrderFlag.REDUCE_ONLY | OrderFlag.CLOSE
"""Flags that make an order depend on the account's position."""

STOP_LEG_FLAGS = OrderFlag.OCO | OrderFlag.REDUCE_ONLY | OrderFlag.CLOSE | OrderFlag.NO_VAR_RATES
"""The flags an OCO order's stop leg takes from the limit order (HIDDEN and POST_ONLY do not
apply to an order that waits off the book and executes as a market order; chosen)."""


@dataclass(frozen=True)
class NewOrder:
    """A validated ``on`` payload (prices cut to 5 significant digits, amounts to 8 decimals)."""

    instrument: Instrument
    order_type: str
    amount: Decimal
    price: Optional[Decimal]
    price_aux_limit: Optional[Decimal]
    price_trailing: Optional[Decimal]
    price_oco_stop: Optional[Decimal]
    flags: int
    gid: Optional[int]
    cid: Optional[int]
    mts_tif: Optional[int]
    meta: Optional[dict[str, Any]]
    lev: Optional[int]

    @property
    def base_type(self) -> str:
        """The type without its ``EXCHANGE`` prefix."""
        return self.order_type.removeprefix("EXCHANGE ")

    @property
    def is_exchange(self) -> bool:
        """Whether the order trades the exchange wallet."""
        return self.order_type.startswith("EXCHANGE ")


def _optional_integer(payload: Mapping[str, Any], name: str, maximum: int, echo: list[Any], minimum: int = 0) -> Optional[int]:
    value = payload.get(name)
    if value is None:
        return None
    number = read_integer(value, minimum, maximum)
    if number is None:
        raise OrderRejected(f"{name}: invalid", echo)
    return number


def _price(payload: Mapping[str, Any], name: str, echo: list[Any], required: bool) -> Optional[Decimal]:
    raw = payload.get(name)
    if raw is None and not required:
        return None
    value = read_number(raw)
    if value is None or value <= 0:
        raise OrderRejected(f"{name}: invalid", echo)
    price = truncate_price(value)
    if price <= 0:
        raise OrderRejected(f"{name}: invalid", echo)
    return price


def _amount(payload: Mapping[str, Any], name: str, echo: list[Any]) -> Optional[Decimal]:
    raw = payload.get(name)
    if raw is None:
        return None
    value = read_number(raw)
    if value is None:
        raise OrderRejected(f"{name}: invalid", echo)
    return quantize_amount(value)


def _tif(payload: Mapping[str, Any], echo: list[Any]) -> Optional[int]:
    raw = payload.get("tif")
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > 19:
        raise OrderRejected("tif: invalid", echo)
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            moment = datetime.datetime.strptime(raw, layout)
        except ValueError:
            continue
        return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    raise OrderRejected("tif: invalid", echo)


def _meta(payload: Mapping[str, Any], echo: list[Any]) -> Optional[dict[str, Any]]:
    meta = payload.get("meta")
    if meta is None:
        return None
    if not isinstance(meta, dict) or not json_safe(meta):
        raise OrderRejected("meta: invalid", echo)
    if meta.get("protect_selfmatch"):
        raise OrderRejected("meta: invalid (protect_selfmatch is not supported by the local exchange)", echo)
    return dict(meta)


def _flags(value: Any, echo: list[Any], is_exchange: bool) -> int:
    """Validate ``flags`` against :data:`ORDER_FLAGS`."""
    if value is None:
        return 0
    flags = read_integer(value, 0, MAX_FLAGS)
    if flags is None:
        raise OrderRejected("flags: invalid", echo)
    unknown = flags & ~DOCUMENTED_FLAGS
    if unknown:
        raise OrderRejected(f"flags: invalid (bits {unknown} are no order flag of docs flag-values)", echo)
    if flags & OrderFlag.NO_VAR_RATES and not is_exchange:
        raise OrderRejected(
            "flags: invalid (NO_VAR_RATES on a margin order is not supported by the local exchange, "
            "which funds no position with funding offers)",
            echo,
        )
    return flags


def read_new_order(payload: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> NewOrder:
    """Validate an ``on`` payload.

    :raises OrderRejected: for an unknown symbol or type, a malformed or out-of-range field, an
        amount under the symbol's minimum size, a missing price, a flag :data:`ORDER_FLAGS`
        refuses, ``lev`` on a spot pair, or an ``EXCHANGE`` type on a derivative.
    """
    echo = echo_array(payload)
    symbol = payload.get("symbol")
    instrument = instruments.get(symbol) if isinstance(symbol, str) else None
    if instrument is None or instrument.is_funding:
        raise OrderRejected("symbol: invalid", echo)
    order_type = payload.get("type")
    if not isinstance(order_type, str) or order_type not in ORDER_TYPES:
        raise OrderRejected("type: invalid", echo)
    amount = _amount(payload, "amount", echo)
    if not amount:
        raise OrderRejected("amount: invalid", echo)
    if abs(amount) < instrument.min_order_size:
        raise OrderRejected(
            f"Invalid order: minimum size for {instrument.display_pair} is {text(instrument.min_order_size)}",
            echo,
        )
    base_type = order_type.removeprefix("EXCHANGE ")
    is_exchange = order_type.startswith("EXCHANGE ")
    if is_exchange and instrument.is_derivative:  # derivatives trade on collateral, not the exchange wallet
        raise OrderRejected("type: invalid (derivatives take margin order types: LIMIT, MARKET, STOP...)", echo)
    lev = _optional_integer(payload, "lev", MAX_LEVERAGE, echo, minimum=MIN_LEVERAGE)
    if lev is not None and not instrument.is_derivative:
        raise OrderRejected(SPOT_LEVERAGE, echo)
    flags = _flags(payload.get("flags"), echo, is_exchange)
    price_oco_stop = None
    if flags & OrderFlag.OCO:
        if base_type != "LIMIT":
            raise OrderRejected("flags: invalid (OCO needs a LIMIT or EXCHANGE LIMIT order)", echo)
        price_oco_stop = _price(payload, "price_oco_stop", echo, required=True)
    return NewOrder(
        instrument=instrument,
        order_type=order_type,
        amount=amount,
        price=_price(payload, "price", echo, required=True) if base_type in PRICED_TYPES else None,
        price_aux_limit=_price(payload, "price_aux_limit", echo, required=True) if base_type == "STOP LIMIT" else None,
        price_trailing=_price(payload, "price_trailing", echo, required=True) if base_type == "TRAILING STOP" else None,
        price_oco_stop=price_oco_stop,
        flags=flags,
        gid=_optional_integer(payload, "gid", MAX_GID, echo),
        cid=_optional_integer(payload, "cid", MAX_CID, echo),
        mts_tif=_tif(payload, echo),
        meta=_meta(payload, echo),
        lev=lev,
    )


# -- ou ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderChanges:
    """A validated ``ou`` payload: only the fields the client sent are set."""

    amount: Optional[Decimal] = None
    delta: Optional[Decimal] = None
    price: Optional[Decimal] = None
    price_aux_limit: Optional[Decimal] = None
    price_trailing: Optional[Decimal] = None
    flags: Optional[int] = None
    gid: Optional[int] = None
    mts_tif: Optional[int] = None
    meta: Optional[dict[str, Any]] = None
    lev: Optional[int] = None


def read_order_changes(payload: Mapping[str, Any], order: Order) -> OrderChanges:
    """Validate an ``ou`` payload for ``order`` (docs ws-auth-input-order-update: amount or
    delta, price, price_aux_limit, price_trailing, flags, gid, tif, lev, meta).

    :raises OrderRejected: for a malformed field, a zero amount, ``lev`` on a spot order, or
        flags that :data:`ORDER_FLAGS` refuses or that would add or remove OCO (an update cannot
        place or remove the stop leg; chosen).
    """
    echo = order.wire()
    amount = _amount(payload, "amount", echo)
    if amount is not None and not amount:
        raise OrderRejected("amount: invalid", echo)
    flags = None
    if payload.get("flags") is not None:
        flags = _flags(payload.get("flags"), echo, order.is_exchange)
        if (flags ^ order.flags) & OrderFlag.OCO:
            raise OrderRejected("flags: invalid (an update cannot set or clear OCO)", echo)
    meta = _meta(payload, echo)
    lev = _optional_integer(payload, "lev", MAX_LEVERAGE, echo, minimum=MIN_LEVERAGE)
    if lev is not None and order.lev is None:
        raise OrderRejected(SPOT_LEVERAGE, echo)
    return OrderChanges(
        amount=amount,
        delta=_amount(payload, "delta", echo),
        price=_price(payload, "price", echo, required=False) if order.base_type != "MARKET" else None,
        price_aux_limit=_price(payload, "price_aux_limit", echo, required=False),
        price_trailing=_price(payload, "price_trailing", echo, required=False),
        flags=flags,
        gid=_optional_integer(payload, "gid", MAX_GID, echo),
        mts_tif=_tif(payload, echo),
        meta=meta,
        lev=lev,
    )


# -- oc, oc_multi, ox_multi --------------------------------------------------------------------


@dataclass(frozen=True)
class OrderKey:
    """How an ``oc``/``ou`` names its order: by ``order_id``, or by ``cid`` and ``cid_date``
    (docs ws-auth-input-order-cancel)."""

    order_id: Optional[int] = None
    cid: Optional[int] = None
    cid_date: Optional[str] = None


def read_order_key(payload: Mapping[str, Any]) -> OrderKey:
    """Read the ``id`` or ``cid`` + ``cid_date`` of an ``oc``/``ou`` payload.

    :raises OrderRejected: ``"id: invalid"``, ``"cid: invalid"`` or ``"cid_date: invalid"`` for
        a field that is present but malformed or out of range.
    """
    echo = echo_identifiers(payload)
    order_id = _optional_integer(payload, "id", MAX_ORDER_ID, echo, minimum=1)
    cid = _optional_integer(payload, "cid", MAX_CID, echo)
    cid_date = None
    if payload.get("cid_date") is not None:
        cid_date = read_date(payload.get("cid_date"))
        if cid_date is None:
            raise OrderRejected("cid_date: invalid", echo)
    return OrderKey(order_id, cid, cid_date)


@dataclass(frozen=True)
class CancelSelection:
    """A validated ``oc_multi`` payload (docs ws-auth-input-order-cancel-multi)."""

    ids: tuple[int, ...] = ()
    cids: tuple[tuple[int, str], ...] = ()
    gids: tuple[int, ...] = ()
    every: bool = False


def read_cancel_selection(payload: Mapping[str, Any]) -> CancelSelection:
    """Validate an ``oc_multi`` payload: ``id``, ``cid`` (``[cid, cid_date]`` pairs) and ``gid``
    lists, or ``all: 1``.

    :raises OrderRejected: ``"FIELD: invalid"`` for a list that is not a list of valid
        entries (echo ``[]``), or ``"oc_multi: invalid"`` when nothing is selected.
    """
    ids, cids, gids = payload.get("id"), payload.get("cid"), payload.get("gid")
    every = payload.get("all")
    checked_ids: list[int] = []
    checked_gids: list[int] = []
    checked_cids: list[tuple[int, str]] = []
    for name, raw, maximum, target in (("id", ids, MAX_ORDER_ID, checked_ids), ("gid", gids, MAX_GID, checked_gids)):
        if raw is None:
            continue
        if not isinstance(raw, list) or len(raw) > 1000:
            raise OrderRejected(f"{name}: invalid", [])
        for item in raw:
            number = read_integer(item, 1 if name == "id" else 0, maximum)
            if number is None:
                raise OrderRejected(f"{name}: invalid", [])
            target.append(number)
    if cids is not None:
        if not isinstance(cids, list) or len(cids) > 1000:
            raise OrderRejected("cid: invalid", [])
        for pair in cids:
            cid = read_integer(pair[0], 0, MAX_CID) if isinstance(pair, list) and len(pair) == 2 else None
            date = read_date(pair[1]) if cid is not None else None
            if cid is None or date is None:
                raise OrderRejected("cid: invalid", [])
            checked_cids.append((cid, date))
    if every is not None and every not in (0, 1):
        raise OrderRejected("all: invalid", [])
    selection = CancelSelection(tuple(checked_ids), tuple(checked_cids), tuple(checked_gids), every == 1)
    if not (selection.ids or selection.cids or selection.gids or selection.every):
        raise OrderRejected("oc_multi: invalid", [])
    return selection


def read_operations(operations: Any) -> list[tuple[str, dict[str, Any]]]:
    """Validate an ``ox_multi`` payload: 1 to 75 ``[op, {...}]`` pairs, ``op`` one of ``on``,
    ``oc``, ``oc_multi``, ``ou`` (docs ws-auth-input-order-multi-op).

    :raises OrderRejected: ``"ops: invalid (...)"``; the echo lists the order array of each
        operation that names one (cid at index 2), so a client can report every cid.
    """
    if not isinstance(operations, list) or not 1 <= len(operations) <= MAX_OPS_PER_MULTI:
        raise OrderRejected(
            f"ops: invalid (1 to {MAX_OPS_PER_MULTI} operations)", _operation_echoes(operations)
        )
    checked: list[tuple[str, dict[str, Any]]] = []
    for index, operation in enumerate(operations):
        valid = (
            isinstance(operation, list)
            and len(operation) == 2
            and isinstance(operation[0], str)
            and operation[0] in ORDER_INPUTS
            and isinstance(operation[1], dict)
        )
        if not valid:
            raise OrderRejected(
                f"ops: invalid (operation {index} is not [on|oc|oc_multi|ou, {{...}}])", _operation_echoes(operations)
            )
        checked.append((operation[0], operation[1]))
    return checked


def _operation_echoes(operations: Any) -> list[list[Any]]:
    if not isinstance(operations, list):
        return []
    echoes = []
    for operation in operations[: MAX_OPS_PER_MULTI * 2]:
        if isinstance(operation, list) and len(operation) == 2 and isinstance(operation[1], dict):
            if operation[0] == "on":
                echoes.append(echo_array(operation[1]))
            elif operation[0] in ("oc", "ou"):
                echoes.append(echo_identifiers(operation[1]))
    return echoes
