"""The documented shape of every channel's frames, checked before a frame reaches a callback.

A *validator* takes one decoded data frame ``msg`` (a list whose ``msg[0]`` is the int chanId,
after :class:`~bitfinex.protocol.sequence.SequenceChecker` stripped any ``SEQ_ALL`` numbers).
If the frame has its channel's shape it says what the frame is: ``True`` for data (what a raw
callback gets), ``False`` for a heartbeat or a ``cs`` checksum frame (which a raw callback
never gets; a maintained book reads the checksums). If not, it raises
:exc:`FrameShapeError` (a :exc:`ValueError`) with a short reason; the connection drops and logs
such a frame like any malformed one, and no callback sees it.

Get the validator of a subscription once, with :func:`validator_for` (or
:func:`channel_validator`), and call it per frame; the authenticated channel's is
:func:`validate_account`. Validators keep no state and are safe to share.

The shapes (protocol reference, sections 4 and 7). A *number* is an ``int`` or a ``float``,
never a ``bool`` (the decoders of :mod:`bitfinex.protocol.codec` never produce NaN or
infinities). Elements after the documented ones (a frame's trailing fields, fields Bitfinex
appends to an entry) are not checked unless the table says *exactly*:

==================  ==========================================================================
channel             frames
==================  ==========================================================================
every channel       ``[CHAN_ID, "hb"]`` (heartbeat)
ticker, trading     ``[CHAN_ID, [BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE,
                    DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW]]``: at least 10
                    fields, the first 10 numbers
ticker, funding     ``[CHAN_ID, [FRR, BID, BID_PERIOD, BID_SIZE, ASK, ASK_PERIOD, ASK_SIZE,
                    DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW, _, _,
                    FRR_AMOUNT_AVAILABLE]]``: at least the 13 numbers up to LOW (the 2017
                    layout stops there); the two placeholders and FRR_AMOUNT_AVAILABLE, when
                    present, are numbers or null
trades, trading     snapshot ``[CHAN_ID, [[ID, MTS, AMOUNT, PRICE], ...]]`` (may be empty);
                    update ``[CHAN_ID, "te"|"tu", [ID, MTS, AMOUNT, PRICE]]``; a trade has at
                    least 4 fields, the first 4 numbers
trades, funding     the same with ``[ID, MTS, AMOUNT, RATE, PERIOD]`` (at least 5, the first
                    5 numbers) and ``"fte"|"ftu"``
book P0-P4          entry ``[PRICE, COUNT, AMOUNT]`` (trading) or ``[RATE, PERIOD, COUNT,
                    AMOUNT]`` (funding): *exactly* 3 or 4 numbers
book R0             entry ``[ORDER_ID, PRICE, AMOUNT]`` (trading) or ``[OFFER_ID, PERIOD,
                    RATE, AMOUNT]`` (funding): *exactly* 3 or 4 numbers
book (all)          ``[CHAN_ID, entry]`` (one update), ``[CHAN_ID, [entry, ...]]`` (snapshot,
                    or a ``BULK_UPDATES`` batch; may be empty), ``[CHAN_ID, "cs", CHECKSUM]``
                    with an int CHECKSUM
candles             update ``[CHAN_ID, [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]]``: at least 6
                    fields, the first 6 numbers; snapshot ``[CHAN_ID, [candle, ...]]`` (may be
                    empty)
status ``deriv:``   ``[CHAN_ID, [MTS, ...]]``: a non-empty list whose first field is a number;
                    the other fields are not checked (several are null placeholders)
status ``liq:``     ``[CHAN_ID, [["pos", POS_ID, MTS, ...], ...]]``: a list of lists (may be
                    empty); their fields are not checked
account (chanId 0)  see :func:`validate_account`
==================  ==========================================================================

A frame with another string where the body belongs (``[CHAN_ID, "te", ...]`` on a ticker) is
refused. A channel this module has no shape for (a status key of another kind, a channel name
it does not know) gets a lenient validator: a heartbeat, or a frame with a list body.

Cost: validators are plain functions built for speed, one call per frame. The common frames
(a book update, a ``cs`` frame, a ``te``/``tu`` trade, a ticker) are checked by unpacking the
body (which checks its arity in C) and comparing the type of each field; anything else goes to
a slower, thorough check that also words the reason. Lists of entries (snapshots, batches) are
checked with C-level passes (``map``, ``itertools.chain``, set inclusion), without a Python
loop per field. ``python -m bench.shapes`` measures the cost on the benchmark's frame mix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, Optional, Protocol

from bitfinex.protocol.constants import CHECKSUM, HEARTBEAT

__all__ = [
    "ACCOUNT_EVENTS",
    "ACCOUNT_SNAPSHOTS",
    "FrameShapeError",
    "SubscriptionLike",
    "Validator",
    "channel_validator",
    "validate_account",
    "validator_for",
]

Validator = Callable[[list[Any]], bool]
"""Checks one decoded frame: True if it is data of its channel's shape, False if it is a
heartbeat or a checksum frame; raises :exc:`FrameShapeError` if it has the wrong shape."""


class FrameShapeError(ValueError):
    """A frame that does not have the shape its channel documents (``str(error)`` says why)."""


class SubscriptionLike(Protocol):
    """What :func:`validator_for` reads of a subscription (a
    :class:`~bitfinex.protocol.subscriptions.SubscriptionSpec` has it)."""

    @property
    def channel(self) -> str:
        """``"ticker"``, ``"trades"``, ``"book"``, ``"candles"`` or ``"status"``."""

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        """The ``subscribe`` request's fields: ``symbol``, ``prec``, ``key``..."""


_NUMBER = frozenset((int, float))
_NUMBER_OR_NULL = frozenset((int, float, type(None)))
_LIST = frozenset((list,))
_TRADE_TAGS = frozenset(("te", "tu"))
_FUNDING_TRADE_TAGS = frozenset(("fte", "ftu"))


def _numbers(fields: Iterable[Any]) -> bool:
    """Whether every field is an int or a float (a C-level pass)."""
    return _NUMBER.issuperset(map(type, fields))


def _first_numbers(entry: Any, count: int) -> bool:
    """Whether ``entry`` is a list of at least ``count`` fields, the first ``count`` numbers."""
    return type(entry) is list and len(entry) >= count and _numbers(entry[:count])


def _exact_numbers(entry: Any, count: int) -> bool:
    """Whether ``entry`` is a list of exactly ``count`` numbers."""
    return type(entry) is list and len(entry) == count and _numbers(entry)


_HEADS = {count: itemgetter(slice(0, count)) for count in range(1, 17)}


def _entries(body: list[Any], count: int, exact: bool) -> Optional[str]:
    """Check a list of entries, each a list of (exactly, or at least) ``count`` leading
    numbers; None if they are, else the reason. C-level passes; a Python loop only to word
    the reason."""
    if not body:
        return None
    if _LIST.issuperset(map(type, body)):
        if exact:
            if {count}.issuperset(map(len, body)) and _numbers(chain.from_iterable(body)):
                return None
        elif min(map(len, body)) >= count and _numbers(chain.from_iterable(map(_HEADS[count], body))):
            return None
    check = _exact_numbers if exact else _first_numbers
    for index, entry in enumerate(body):
        if not check(entry, count):
            return f"entry {index} is not {_fields_text(count, exact)}"
    return None  # pragma: no cover - the C-level passes and the loop agree


def _fields_text(count: int, exact: bool) -> str:
    return f"{'exactly' if exact else 'at least'} {count} numbers"


def _body(msg: Sequence[Any]) -> Any:
    if len(msg) < 2:
        raise FrameShapeError("frame without a body")
    return msg[1]


def _refuse_body(body: Any, what: str) -> FrameShapeError:
    if type(body) is str:
        return FrameShapeError(f"unexpected {body[:20]!r} frame: {what} expected")
    return FrameShapeError(f"{type(body).__name__} body: {what} expected")


# -- ticker -------------------------------------------------------------------------------


def _trading_ticker(msg: list[Any]) -> bool:
    """Trading ticker: ``[CHAN_ID, [10 numbers, ...]]`` or a heartbeat."""
    try:
        body = msg[1]
        if type(body) is list:
            a, b, c, d, e, f, g, h, i, j = body
            if (
                (type(a) is float or type(a) is int) and (type(b) is float or type(b) is int)
                and (type(c) is float or type(c) is int) and (type(d) is float or type(d) is int)
                and (type(e) is float or type(e) is int) and (type(f) is float or type(f) is int)
                and (type(g) is float or type(g) is int) and (type(h) is float or type(h) is int)
                and (type(i) is float or type(i) is int) and (type(j) is float or type(j) is int)
            ):
                return True
        elif body == HEARTBEAT:
            return False
    except (IndexError, ValueError):
        pass
    body = _body(msg)
    if type(body) is not list:
        if body == HEARTBEAT:
            return False
        raise _refuse_body(body, "a ticker")
    if not _first_numbers(body, 10):
        raise FrameShapeError(f"ticker of {len(body)} fields: at least 10 numbers expected")
    return True


def _funding_ticker(msg: list[Any]) -> bool:
    """Funding ticker: ``[CHAN_ID, [13 numbers, then up to 3 numbers or nulls, ...]]``."""
    body = _body(msg)
    if type(body) is not list:
        if body == HEARTBEAT:
            return False
        raise _refuse_body(body, "a funding ticker")
    if not _first_numbers(body, 13):
        raise FrameShapeError(f"funding ticker of {len(body)} fields: at least 13 numbers expected")
    if not _NUMBER_OR_NULL.issuperset(map(type, body[13:16])):
        raise FrameShapeError("funding ticker: fields 13 to 15 must be numbers or null")
    return True


# -- trades -------------------------------------------------------------------------------


def _trading_trades(msg: list[Any]) -> bool:
    """Trading trades: ``[CHAN_ID, "te"|"tu", [ID, MTS, AMOUNT, PRICE, ...]]``, a snapshot of
    such trades, or a heartbeat."""
    try:
        body = msg[1]
        if body == "te" or body == "tu":
            a, b, c, d = msg[2]  # ID, MTS, AMOUNT, PRICE
            if (
                (type(a) is int or type(a) is float) and (type(b) is int or type(b) is float)
                and (type(c) is float or type(c) is int) and (type(d) is float or type(d) is int)
            ):
                return True
        elif body == HEARTBEAT:
            return False
    except (IndexError, ValueError, TypeError):  # TypeError: msg[2] is not a list
        pass
    return _trades(msg, _TRADE_TAGS, 4)


def _funding_trades(msg: list[Any]) -> bool:
    """Funding trades: ``[CHAN_ID, "fte"|"ftu", [ID, MTS, AMOUNT, RATE, PERIOD, ...]]``, a
    snapshot of such trades, or a heartbeat."""
    return _trades(msg, _FUNDING_TRADE_TAGS, 5)


def _trades(msg: list[Any], tags: frozenset[str], count: int) -> bool:
    body = _body(msg)
    if type(body) is list:
        reason = _entries(body, count, exact=False)
        if reason is not None:
            raise FrameShapeError(f"trades snapshot: {reason}")
        return True
    if type(body) is str:
        if body == HEARTBEAT:
            return False
        if body in tags:
            if len(msg) < 3:
                raise FrameShapeError(f"{body!r} frame without its trade")
            if not _first_numbers(msg[2], count):
                raise FrameShapeError(f"{body!r} trade is not a list of {_fields_text(count, False)}")
            return True
    raise _refuse_body(body, "a trades snapshot or " + "/".join(sorted(tags)))


# -- books --------------------------------------------------------------------------------


def _book3(msg: list[Any]) -> bool:
    """A book of 3-number entries (trading P0-P4 and R0): one entry, a list of entries,
    ``"cs"`` with an int checksum, or a heartbeat."""
    try:
        body = msg[1]
        if type(body) is list:
            a, b, c = body  # PRICE, COUNT, AMOUNT (raw: ORDER_ID, PRICE, AMOUNT)
            if (type(a) is float or type(a) is int) and (type(b) is int or type(b) is float) and (
                type(c) is float or type(c) is int
            ):
                return True
        elif body == CHECKSUM:
            if type(msg[2]) is int:
                return False
        elif body == HEARTBEAT:
            return False
    except (IndexError, ValueError):
        pass
    return _book(msg, 3)


def _book4(msg: list[Any]) -> bool:
    """A book of 4-number entries (funding P0-P4 and R0); otherwise as :func:`_book3`."""
    try:
        body = msg[1]
        if type(body) is list:
            a, b, c, d = body  # RATE, PERIOD, COUNT, AMOUNT (raw: OFFER_ID, PERIOD, RATE, AMOUNT)
            if (
                (type(a) is float or type(a) is int) and (type(b) is int or type(b) is float)
                and (type(c) is int or type(c) is float) and (type(d) is float or type(d) is int)
            ):
                return True
        elif body == CHECKSUM:
            if type(msg[2]) is int:
                return False
        elif body == HEARTBEAT:
            return False
    except (IndexError, ValueError):
        pass
    return _book(msg, 4)


def _book(msg: list[Any], count: int) -> bool:
    body = _body(msg)
    if type(body) is list:
        if body and type(body[0]) is list:
            reason = _entries(body, count, exact=True)
            if reason is not None:
                raise FrameShapeError(f"book entries: {reason}")
        elif body and not _exact_numbers(body, count):
            raise FrameShapeError(f"book entry of {len(body)} fields: {_fields_text(count, True)} expected")
        return True
    if body == HEARTBEAT:
        return False
    if body == CHECKSUM:
        if len(msg) < 3 or type(msg[2]) is not int:
            raise FrameShapeError("checksum frame without an int checksum")
        return False
    raise _refuse_body(body, "book entries or 'cs'")


# -- candles ------------------------------------------------------------------------------


def _candles(msg: list[Any]) -> bool:
    """Candles: ``[CHAN_ID, [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME, ...]]``, a snapshot of
    candles, or a heartbeat."""
    try:
        body = msg[1]
        if type(body) is list:
            a, b, c, d, e, f = body  # MTS, OPEN, CLOSE, HIGH, LOW, VOLUME
            if (
                (type(a) is int or type(a) is float) and (type(b) is float or type(b) is int)
                and (type(c) is float or type(c) is int) and (type(d) is float or type(d) is int)
                and (type(e) is float or type(e) is int) and (type(f) is float or type(f) is int)
            ):
                return True
        elif body == HEARTBEAT:
            return False
    except (IndexError, ValueError):
        pass
    body = _body(msg)
    if type(body) is not list:
        if body == HEARTBEAT:
            return False
        raise _refuse_body(body, "candles")
    if body and type(body[0]) is list:
        reason = _entries(body, 6, exact=False)
        if reason is not None:
            raise FrameShapeError(f"candles snapshot: {reason}")
    elif body and not _first_numbers(body, 6):
        raise FrameShapeError(f"candle of {len(body)} fields: at least 6 numbers expected")
    return True


# -- status -------------------------------------------------------------------------------


def _derivatives_status(msg: list[Any]) -> bool:
    """Derivatives status: ``[CHAN_ID, [MTS, ...]]`` or a heartbeat."""
    body = _body(msg)
    if type(body) is list:
        if not body or type(body[0]) not in _NUMBER:
            raise FrameShapeError("derivatives status: a list starting with a number expected")
        return True
    if body == HEARTBEAT:
        return False
    raise _refuse_body(body, "a derivatives status")


def _liquidations(msg: list[Any]) -> bool:
    """Liquidations: ``[CHAN_ID, [[...], ...]]`` or a heartbeat."""
    body = _body(msg)
    if type(body) is list:
        if not _LIST.issuperset(map(type, body)):
            raise FrameShapeError("liquidations: a list of lists expected")
        return True
    if body == HEARTBEAT:
        return False
    raise _refuse_body(body, "a list of liquidations")


def _any_list(msg: list[Any]) -> bool:
    """A channel without a documented shape: a heartbeat or a list body."""
    body = _body(msg)
    if type(body) is list:
        return True
    if body == HEARTBEAT:
        return False
    raise _refuse_body(body, "a list")


# -- the account channel ------------------------------------------------------------------

ACCOUNT_SNAPSHOTS = frozenset(("os", "ps", "ws", "fos", "fcs", "fls", "hos", "hfos", "hfcs", "hfls", "hfts"))
"""Account message types whose data is a list of lists (possibly empty)."""

ACCOUNT_EVENTS = frozenset((
    "on", "ou", "oc", "pn", "pu", "pc", "te", "tu", "wu", "bu", "miu", "fiu",
    "fon", "fou", "foc", "fcn", "fcu", "fcc", "fln", "flu", "flc", "fte", "ftu",
))
"""Account message types whose data is one non-empty list."""

_NOTIFICATION = "n"
_NOTIFICATION_FIELDS = 8


def validate_account(msg: list[Any]) -> None:
    """Check a frame of the authenticated channel (chanId 0): ``[0, TYPE, DATA]``.

    - ``[0, "hb"]`` (heartbeat) passes.
    - TYPE must be a ``str``, and every frame but a heartbeat needs its DATA element.
    - snapshots (:data:`ACCOUNT_SNAPSHOTS`: ``os ps ws fos fcs fls`` and the legacy
      ``hos hfos hfcs hfls hfts``): DATA is a list of lists, possibly empty;
    - single events (:data:`ACCOUNT_EVENTS`: ``on ou oc pn pu pc te tu wu bu miu fiu fon fou
      foc fcn fcu fcc fln flu flc fte ftu``): DATA is a non-empty list;
    - ``n`` (notification): DATA is a list of at least 8 fields whose field 1 (the request
      type, e.g. ``"on-req"``) is a str;
    - any other TYPE (Bitfinex adds message types without notice: ``mis``, ``uac``...) passes
      as long as it has a DATA element, whatever its shape, so a new kind of message still
      reaches the account callback rather than vanishing.

    Elements after DATA (sequence numbers, if they were not stripped) are not checked.

    :param msg: the decoded frame, ``msg[0]`` being 0.
    :raises FrameShapeError: if the frame does not have this shape.
    """
    try:
        kind = msg[1]
        data = msg[2]
    except IndexError:
        if len(msg) == 2 and msg[1] == HEARTBEAT:
            return
        raise FrameShapeError("account frame without a type and data") from None
    if type(kind) is not str:
        raise FrameShapeError(f"account frame whose type is {type(kind).__name__}, not str")
    check = _ACCOUNT_CHECKS.get(kind)
    if check is not None:
        reason = check(data)
        if reason is not None:
            raise FrameShapeError(f"{kind!r} message: {reason}")


def _account_event(data: Any) -> Optional[str]:
    return None if type(data) is list and data else "a non-empty list expected"


def _account_snapshot(data: Any) -> Optional[str]:
    return None if type(data) is list and _LIST.issuperset(map(type, data)) else "a list of lists expected"


def _notification(data: Any) -> Optional[str]:
    if type(data) is list and len(data) >= _NOTIFICATION_FIELDS and type(data[1]) is str:
        return None
    return f"a list of at least {_NOTIFICATION_FIELDS} fields, field 1 a str, expected"


_ACCOUNT_CHECKS: dict[str, Callable[[Any], Optional[str]]] = {
    **dict.fromkeys(ACCOUNT_EVENTS, _account_event),
    **dict.fromkeys(ACCOUNT_SNAPSHOTS, _account_snapshot),
    _NOTIFICATION: _notification,
}


# -- lookup -------------------------------------------------------------------------------

_FUNDING_PREFIX = "f"


def channel_validator(channel: str, symbol_or_key: str, precision: Optional[str] = None) -> Validator:
    """Return the validator of a public channel's frames.

    :param channel: ``"ticker"``, ``"trades"``, ``"book"``, ``"candles"`` or ``"status"``.
    :param symbol_or_key: the subscription's ``symbol`` (``"tBTCUSD"``, ``"fUSD"``: a funding
        symbol starts with ``f``) for ticker, trades and book; its ``key`` for candles
        (``"trade:1m:tBTCUSD"``, ``"trade:1m:fUSD:p30"``) and status (``"deriv:tBTCF0:USTF0"``,
        ``"liq:global"``).
    :param precision: the book's ``prec``: ``"P0"`` to ``"P4"`` or ``"R0"`` (the entries of
        both have the same arity, so it only matters for documentation); None means ``"P0"``.
    :returns: a validator (see the module docstring for the shapes); a channel or status key
        this module has no shape for gets a lenient one (a heartbeat or a list body).
    """
    funding = symbol_or_key.startswith(_FUNDING_PREFIX)
    if channel == "ticker":
        return _funding_ticker if funding else _trading_ticker
    if channel == "trades":
        return _funding_trades if funding else _trading_trades
    if channel == "book":
        return _book4 if funding else _book3
    if channel == "candles":
        return _candles
    if channel == "status":
        if symbol_or_key.startswith("deriv:"):
            return _derivatives_status
        if symbol_or_key.startswith("liq:"):
            return _liquidations
    return _any_list


def validator_for(spec: SubscriptionLike) -> Validator:
    """Return the validator of a subscription's frames (see :func:`channel_validator`).

    :param spec: the subscription, e.g. a
        :class:`~bitfinex.protocol.subscriptions.SubscriptionSpec`: its ``channel`` and the
        ``symbol`` (or ``key``) and ``prec`` of its request.
    """
    params = dict(spec.params)
    target = params.get("symbol") or params.get("key") or ""
    return channel_validator(spec.channel, target, params.get("prec"))
