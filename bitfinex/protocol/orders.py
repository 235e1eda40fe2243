"""Order operations: validated payloads for ``on``, ``oc``, ``oc_multi``, ``ou``, ``ox_multi``
and ``calc``.

Every builder checks its input and raises :class:`ValueError` or :class:`TypeError` naming the
offending argument, so nothing malformed ever reaches the socket. Payloads carry only the fields
the caller asked for, amounts and prices as decimal strings.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from bitfinex.protocol.codec import dumps
from bitfinex.protocol.constants import (
    CALC_PREFIXES,
    MAX_CALCS_PER_MESSAGE,
    MAX_OPS_PER_MULTI,
    MAX_SAFE_INTEGER,
    ORDER_INPUTS,
    ORDER_TYPES,
    OrderFlag,
)
from bitfinex.protocol.fields import order_array
from bitfinex.protocol.ids import MAX_CID, cid_to_date
from bitfinex.protocol.numbers import (
    integer,
    nonzero_decimal_string,
    positive_decimal_string,
)
from bitfinex.protocol.symbols import is_derivative, trading_symbol

Operation = tuple[str, dict[str, Any]]
"""An order input as ``ox_multi`` carries it: ``("on", {...})``."""

MAX_GID = 2**31 - 1
"""Bitfinex takes a gid as an int32."""
MIN_LEVERAGE = 1
MAX_LEVERAGE = 100
"""Leverage of a derivative order (docs rest-auth-submit-order: 1 to 100)."""
_OCO = int(OrderFlag.OCO)
"""The OCO flag as a plain int: ``int & IntFlag`` builds a flag object through ``enum``."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIF = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z")
_UPDATE_DECIMALS = ("price", "amount", "delta", "price_aux_limit", "price_trailing")
UPDATE_FIELDS = frozenset(
    ("id", "gid", "cid", "cid_date", "price", "amount", "delta", "price_aux_limit",
     "price_trailing", "flags", "lev", "tif", "meta")
)
"""Fields ``ou`` accepts."""


def order_type(value: object) -> str:
    """Return the canonical order type (``"exchange limit"`` → ``"EXCHANGE LIMIT"``).

    :raises ValueError: for a type Bitfinex does not know.
    """
    if not isinstance(value, str):
        raise TypeError(f"order_type must be a str such as 'LIMIT', not {type(value).__name__}")
    canonical = " ".join(value.upper().split())
    if canonical not in ORDER_TYPES:
        raise ValueError(
            f"order_type {value!r} is not one of {', '.join(sorted(ORDER_TYPES))}"
        )
    return canonical


def order_flags(flags: Optional[Iterable[int] | int], hidden: object = 0) -> int:
    """Combine the original library's ``flags`` list and ``hidden`` switch into the ``flags`` integer.

    Flags are combined bitwise, so naming a flag twice does not turn it into another flag;
    ``hidden`` true adds HIDDEN (64) instead of sending a stray ``hidden`` field.

    :raises TypeError: if a flag is not a non-negative int.
    """
    values: Iterable[Any]
    if flags is None:
        values = ()
    elif isinstance(flags, int) and not isinstance(flags, bool):
        values = (flags,)
    elif isinstance(flags, (str, bytes, Mapping)) or not isinstance(flags, Iterable):
        raise TypeError(f"flags must be a list of ints, not {type(flags).__name__}")
    else:
        values = flags
    combined = 0
    for flag in values:
        combined |= integer(flag, "flags", minimum=0)
    if not isinstance(hidden, (bool, int)):
        raise TypeError(f"hidden must be a bool, not {type(hidden).__name__}")
    if hidden:
        combined |= OrderFlag.HIDDEN
    return int(combined)


def time_in_force(value: object) -> str:
    """Return a ``tif`` as ``"YYYY-MM-DD HH:MM:SS"`` (UTC); ``datetime`` objects are converted.

    :raises ValueError: for a string in another layout.
    """
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if not isinstance(value, str) or not _TIF.match(value.strip()):
        raise ValueError(f"tif must be a UTC datetime or 'YYYY-MM-DD HH:MM:SS', got {value!r}")
    return value.strip()


def new_order_payload(
    order_type_: object,
    symbol: object,
    amount: object,
    price: object,
    price_trailing: object = None,
    price_aux_limit: object = None,
    price_oco_stop: object = None,
    hidden: object = 0,
    flags: Optional[Iterable[int] | int] = None,
    tif: object = None,
    cid: Optional[int] = None,
    gid: object = None,
    lev: object = None,
    meta: object = None,
) -> dict[str, Any]:
    """Build the payload of an ``on`` (new order) input.

    :param order_type_: one of :data:`~bitfinex.protocol.constants.ORDER_TYPES`, any case.
    :param symbol: a trading pair; ``"BTCUSD"`` means ``"tBTCUSD"``.
    :param amount: non-zero; positive buys, negative sells.
    :param price: required (and positive) for every type but MARKET, where it may be ``None``.
    :param price_trailing: required for TRAILING STOP.
    :param price_aux_limit: required for STOP LIMIT.
    :param price_oco_stop: required with the OCO flag.
    :param hidden: true adds the HIDDEN flag.
    :param flags: order flags, combined bitwise.
    :param tif: time in force, a UTC datetime or ``"YYYY-MM-DD HH:MM:SS"``.
    :param cid: client order id; omitted when ``None``.
    :param gid: group id (int32, at least 0); omitted when ``None``.
    :param lev: leverage, 1 to 100, for derivatives (``tBTCF0:USTF0``) only and never on an
        ``EXCHANGE`` order (docs rest-auth-submit-order, whose fields the ``on`` input shares;
        Bitfinex uses 10 when it is omitted); omitted when ``None``.
    :param meta: a dict of extra fields (``{"aff_code": "..."}``), sent as given; omitted when
        ``None``.
    :raises ValueError, TypeError: naming the offending argument.
    """
    kind = order_type(order_type_)
    payload: dict[str, Any] = {}
    if gid is not None:
        payload["gid"] = integer(gid, "gid", minimum=0, maximum=MAX_GID)
    if cid is not None:
        payload["cid"] = integer(cid, "cid", minimum=0, maximum=MAX_CID)
    payload["type"] = kind
    payload["symbol"] = trading_symbol(symbol)
    payload["amount"] = nonzero_decimal_string(amount, "amount")
    base = kind.removeprefix("EXCHANGE ")
    if price is None:
        if base != "MARKET":
            raise ValueError(f"price is required for {kind} orders")
    else:
        payload["price"] = positive_decimal_string(price, "price")
    if price_trailing is not None:
        payload["price_trailing"] = positive_decimal_string(price_trailing, "price_trailing")
    elif base == "TRAILING STOP":
        raise ValueError("price_trailing is required for TRAILING STOP orders")
    if price_aux_limit is not None:
        payload["price_aux_limit"] = positive_decimal_string(price_aux_limit, "price_aux_limit")
    elif base == "STOP LIMIT":
        raise ValueError("price_aux_limit is required for STOP LIMIT orders")
    combined = order_flags(flags, hidden)
    if price_oco_stop is not None:
        payload["price_oco_stop"] = positive_decimal_string(price_oco_stop, "price_oco_stop")
        combined |= _OCO
    elif combined & _OCO:
        raise ValueError("price_oco_stop is required with the OCO flag")
    if combined:
        payload["flags"] = int(combined)
    if tif is not None:
        payload["tif"] = time_in_force(tif)
    if lev is not None:
        payload["lev"] = leverage(lev, kind, payload["symbol"])
    if meta is not None:
        payload["meta"] = meta_fields(meta)
    return payload


def leverage(value: object, kind: str, symbol: str) -> int:
    """Check an order's ``lev``: an int from 1 to 100, on a derivative, not an ``EXCHANGE`` order.

    :raises ValueError, TypeError: naming ``lev``.
    """
    lev = integer(value, "lev", minimum=MIN_LEVERAGE, maximum=MAX_LEVERAGE)
    if kind.startswith("EXCHANGE "):
        raise ValueError(f"lev is for derivative (margin) orders; {kind} orders trade the exchange wallet")
    if not is_derivative(symbol):
        raise ValueError(f"lev is for derivatives such as 'tBTCF0:USTF0'; {symbol} is a spot pair")
    return lev


def meta_fields(value: object) -> dict[str, Any]:
    """Check an order's ``meta``: a dict with string keys that JSON can carry (no NaN).

    :raises TypeError, ValueError: naming ``meta``.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"meta must be a dict such as {{'aff_code': '...'}}, not {type(value).__name__}")
    fields = dict(value)
    if not all(isinstance(key, str) for key in fields):
        raise TypeError("meta keys must be strings")
    try:
        dumps(fields)
    except RecursionError:
        raise ValueError("meta must hold only what JSON carries: it is nested too deep, or contains itself") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"meta must hold only what JSON carries: {error}") from None
    return fields


def cancel_payload(
    order_id: object = None, cid: object = None, cid_date: object = None
) -> dict[str, Any]:
    """Build the payload of an ``oc`` (cancel) input: by ``order_id``, or by ``cid`` and ``cid_date``.

    :raises ValueError: unless exactly one of the two ways is given, or for a bad date.
    """
    if order_id is not None:
        if cid is not None or cid_date is not None:
            raise ValueError("cancel by order_id or by cid and cid_date, not both")
        return {"id": integer(order_id, "order_id", minimum=1)}
    if cid is None or cid_date is None:
        raise ValueError("cancel needs order_id, or both order_cid and order_date")
    return {"cid": integer(cid, "order_cid", minimum=0, maximum=MAX_SAFE_INTEGER), "cid_date": _date(cid_date, "order_date")}


def update_payload(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Build the payload of an ``ou`` (update) input from the original library's ``**order_settings``.

    ``id`` is required; only the protocol's fields are accepted; amounts and prices become
    decimal strings.

    :raises TypeError: for a field ``ou`` does not have.
    :raises ValueError: without ``id``, or for a bad value.
    """
    unknown = sorted(set(settings) - UPDATE_FIELDS)
    if unknown:
        raise TypeError(
            f"update_order() got unknown field(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(UPDATE_FIELDS))}"
        )
    if settings.get("id") is None:
        raise ValueError("update_order() needs the order's id")
    payload: dict[str, Any] = {"id": integer(settings["id"], "id", minimum=1)}
    for field, value in settings.items():
        if field == "id" or value is None:
            continue
        if field == "amount" or field == "delta":
            payload[field] = nonzero_decimal_string(value, field)
        elif field in _UPDATE_DECIMALS:
            payload[field] = positive_decimal_string(value, field)
        elif field == "gid":
            payload[field] = integer(value, field, minimum=0, maximum=MAX_GID)
        elif field == "cid":
            payload[field] = integer(value, field, minimum=0, maximum=MAX_SAFE_INTEGER)
        elif field == "cid_date":
            payload[field] = _date(value, field)
        elif field == "flags":
            payload[field] = order_flags(value)
        elif field == "lev":
            payload[field] = integer(value, field, minimum=MIN_LEVERAGE, maximum=MAX_LEVERAGE)
        elif field == "tif":
            payload[field] = time_in_force(value)
        elif field == "meta":
            payload[field] = meta_fields(value)
    return payload


def multi_cancel_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check an ``oc_multi`` payload: ``{"id": [...]}``, ``{"cid": [[cid, date], ...]}``,
    ``{"gid": [...]}`` or ``{"all": 1}``.

    :raises ValueError: for any other shape.
    """
    keys = set(payload)
    if keys == {"all"}:
        if payload["all"] not in (1, True):
            raise ValueError("oc_multi 'all' must be 1")
        return {"all": 1}
    if keys == {"id"} or keys == {"gid"}:
        key = next(iter(keys))
        ids = payload[key]
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence) or not ids:
            raise ValueError(f"oc_multi {key!r} must be a non-empty list of ids")
        return {key: [integer(i, key, minimum=0) for i in ids]}
    if keys == {"cid"}:
        pairs = payload["cid"]
        if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or not pairs:
            raise ValueError("oc_multi 'cid' must be a non-empty list of [cid, cid_date] pairs")
        checked = []
        for pair in pairs:
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"oc_multi 'cid' entries must be [cid, cid_date], got {pair!r}")
            checked.append([integer(pair[0], "cid", minimum=0, maximum=MAX_SAFE_INTEGER), _date(pair[1], "cid_date")])
        return {"cid": checked}
    raise ValueError(
        "oc_multi payload must be {'id': [...]}, {'cid': [[cid, date], ...]}, {'gid': [...]} "
        f"or {{'all': 1}}; got keys {sorted(keys)}"
    )


def cancel_multi_payload(
    ids: Optional[Iterable[object]] = None,
    cids: Optional[Iterable[object]] = None,
    gids: Optional[Iterable[object]] = None,
    all: bool = False,
) -> dict[str, Any]:
    """Build the payload of a top-level ``oc_multi`` (cancel several orders).

    :param ids: Bitfinex order ids.
    :param cids: client order ids: each a cid this library made (its UTC date is read from it,
        see :func:`~bitfinex.protocol.ids.cid_to_date`) or a ``(cid, "YYYY-MM-DD")`` pair.
    :param gids: group ids.
    :param all: cancel every open order of the account, derivatives included (``{"all": 1}``);
        not combined with the others.
    :raises ValueError, TypeError: for none of them, ``all`` with another, or a bad item.
    """
    if not isinstance(all, bool):
        raise TypeError(f"all must be a bool, not {type(all).__name__}")
    if all:
        if ids is not None or cids is not None or gids is not None:
            raise ValueError("cancel_order_multi(all=True) cancels every order; give no ids, cids or gids with it")
        return {"all": 1}
    payload: dict[str, Any] = {}
    if ids is not None:
        payload["id"] = [integer(item, "ids", minimum=1) for item in _items(ids, "ids")]
    if cids is not None:
        payload["cid"] = [_cid_and_date(item) for item in _items(cids, "cids")]
    if gids is not None:
        payload["gid"] = [integer(item, "gids", minimum=0, maximum=MAX_GID) for item in _items(gids, "gids")]
    if not payload:
        raise ValueError("cancel_order_multi needs ids, cids or gids, or all=True")
    return payload


def _items(values: object, name: str) -> list[Any]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list, not {type(values).__name__}")
    items = list(values)
    if not items:
        raise ValueError(f"{name} must not be empty")
    return items


def _cid_and_date(item: object) -> list[Any]:
    if isinstance(item, (list, tuple)):
        if len(item) != 2:
            raise ValueError(f"cids entries are cids or (cid, 'YYYY-MM-DD') pairs, got {item!r}")
        return [integer(item[0], "cids", minimum=0, maximum=MAX_SAFE_INTEGER), _date(item[1], "cids date")]
    cid = integer(item, "cids", minimum=0, maximum=MAX_SAFE_INTEGER)
    return [cid, cid_to_date(cid)]


def classify_operation(operation: object) -> Operation:
    """Turn one ``multi_order`` item into an ``(input, payload)`` pair, checked.

    Accepted items: a dict from ``new_order_op`` (``on``); ``{"id": N}`` or
    ``{"cid": C, "cid_date": D}`` (``oc``); ``{"id": N, <update fields>}`` (``ou``);
    ``{"id": [..]}``, ``{"cid": [[..]]}``, ``{"gid": [..]}`` or ``{"all": 1}`` (``oc_multi``);
    or an explicit ``("on" | "oc" | "oc_multi" | "ou", {...})`` pair.

    :raises TypeError, ValueError: for anything else, naming what was wrong.
    """
    if isinstance(operation, (list, tuple)):
        if len(operation) != 2 or operation[0] not in ORDER_INPUTS or not isinstance(operation[1], Mapping):
            raise ValueError(
                f"an explicit operation must be (one of {', '.join(ORDER_INPUTS)}, dict); got {operation!r}"
            )
        name, payload = operation[0], operation[1]
    elif isinstance(operation, Mapping):
        name, payload = _infer_input(operation), operation
    else:
        raise TypeError(f"each operation must be a dict or an (input, dict) pair, not {type(operation).__name__}")
    return name, _checked_payload(name, payload)


def _infer_input(payload: Mapping[str, Any]) -> str:
    keys = set(payload)
    if "type" in keys:
        return "on"
    if keys == {"all"} or any(isinstance(payload.get(k), (list, tuple)) for k in ("id", "cid", "gid")):
        return "oc_multi"
    if keys == {"id"} or keys == {"cid", "cid_date"}:
        return "oc"
    if "id" in keys:
        return "ou"
    raise ValueError(f"cannot tell which order input {dict(payload)!r} is; pass an explicit ('oc', {{...}}) pair")


def _checked_payload(name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    if name == "on":
        fields = dict(payload)
        unknown = sorted(set(fields) - {"gid", "cid", "type", "symbol", "amount", "price", "price_trailing",
                                        "price_aux_limit", "price_oco_stop", "flags", "tif", "lev", "meta"})
        if unknown:
            raise TypeError(f"new order has unknown field(s) {', '.join(unknown)}")
        for required in ("type", "symbol", "amount"):
            if required not in fields:
                raise ValueError(f"new order needs {required!r}")
        return new_order_payload(
            fields["type"], fields["symbol"], fields["amount"], fields.get("price"),
            price_trailing=fields.get("price_trailing"), price_aux_limit=fields.get("price_aux_limit"),
            price_oco_stop=fields.get("price_oco_stop"), flags=fields.get("flags"), tif=fields.get("tif"),
            cid=fields.get("cid"), gid=fields.get("gid"), lev=fields.get("lev"), meta=fields.get("meta"),
        )
    if name == "oc":
        if set(payload) - {"id", "cid", "cid_date"}:
            raise TypeError(f"cancel has unknown field(s) {sorted(set(payload) - {'id', 'cid', 'cid_date'})}")
        return cancel_payload(payload.get("id"), payload.get("cid"), payload.get("cid_date"))
    if name == "oc_multi":
        return multi_cancel_payload(payload)
    return update_payload(payload)


_ECHOED_NUMBERS = ("amount", "price", "price_trailing", "price_aux_limit")


def echo_array(payload: Mapping[str, Any]) -> list[Any]:
    """The order array a Bitfinex notification carries for an order input's ``payload``
    (``id``, ``gid``, ``cid``, ``symbol``, ``type``, amounts and prices as numbers, ``flags``,
    ``meta``), as the ``*-req`` notification about it would show it."""
    fields: dict[str, Any] = {}
    for name in ("id", "gid", "cid", "symbol", "type", "flags", "meta"):
        if name in payload:
            fields[name] = payload[name]
    for name in _ECHOED_NUMBERS:
        if name in payload:
            fields[name] = float(payload[name])
    if "amount" in fields:
        fields["amount_orig"] = fields["amount"]
    return order_array(fields)


def multi_messages(operations: Sequence[Operation]) -> list[list[Any]]:
    """Split checked operations into ``ox_multi`` inputs of at most 75 operations each, in order."""
    if not operations:
        raise ValueError("operations must not be empty")
    return [
        [0, "ox_multi", None, [[name, payload] for name, payload in operations[start:start + MAX_OPS_PER_MULTI]]]
        for start in range(0, len(operations), MAX_OPS_PER_MULTI)
    ]


def calc_requests(calculations: Sequence[Any]) -> list[str]:
    """Flatten the original library's ``calc(*calculations)`` arguments into checked request names.

    Accepts names as separate arguments or lists of names (the original library's examples pass a list).

    :raises ValueError: for an unknown name or more than 30 names.
    """
    names: list[str] = []
    for item in calculations:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, (list, tuple)):
            for name in item:
                if not isinstance(name, str):
                    raise TypeError(f"calculations must be strings, got {type(name).__name__}")
                names.append(name)
        else:
            raise TypeError(f"calculations must be strings or lists of strings, not {type(item).__name__}")
    if not names:
        raise ValueError("calc() needs at least one calculation")
    if len(names) > MAX_CALCS_PER_MESSAGE:
        raise ValueError(f"calc() takes at most {MAX_CALCS_PER_MESSAGE} calculations per call, got {len(names)}")
    for name in names:
        if not _known_calc(name):
            raise ValueError(
                f"calculation {name!r} is not one of margin_base, margin_sym_SYMBOL, funding_sym_SYMBOL, "
                "position_SYMBOL, wallet_TYPE_CURRENCY, balance"
            )
    return names


def calc_message(names: Sequence[str]) -> list[Any]:
    """Build a ``calc`` input: one single-element row per calculation."""
    return [0, "calc", None, [[name] for name in names]]


def order_input(name: str, payload: dict[str, Any]) -> list[Any]:
    """Wrap a payload as an input on the authenticated channel: ``[0, name, null, payload]``."""
    return [0, name, None, payload]


def _known_calc(name: str) -> bool:
    for prefix in CALC_PREFIXES:
        if prefix.endswith("_"):
            if name.startswith(prefix) and len(name) > len(prefix):
                return True
        elif name == prefix:
            return True
    return False


def _date(value: object, name: str) -> str:
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"{name} must be a UTC date 'YYYY-MM-DD', got {value!r}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a real date 'YYYY-MM-DD', got {value!r}") from None
    return value

