"""Where each field sits in the arrays of the authenticated channel.

Bitfinex sends orders, positions, wallets, trades and notifications as positional arrays
(docs ws-auth-orders, ws-auth-positions, ws-auth-wallets, ws-auth-trades, ws-auth-notifications;
``protocol.md`` section 7). Arrays only grow: fields are appended without notice, so readers use
these indices and never an array's length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ORDER_LENGTH = 32
"""Fields of an order array (``os``/``on``/``ou``/``oc``, and the info of ``on-req``...)."""

ORDER_FIELDS: Mapping[str, int] = {
    "id": 0,
    "gid": 1,
    "cid": 2,
    "symbol": 3,
    "mts_create": 4,
    "mts_update": 5,
    "amount": 6,
    "amount_orig": 7,
    "type": 8,
    "type_prev": 9,
    "mts_tif": 10,
    "flags": 12,
    "status": 13,
    "price": 16,
    "price_avg": 17,
    "price_trailing": 18,
    "price_aux_limit": 19,
    "notify": 23,
    "hidden": 24,
    "placed_id": 25,
    "routing": 28,
    "meta": 31,
}
"""Order field name → index (the other indices are placeholders)."""

NOTIFICATION_FIELDS: Mapping[str, int] = {
    "mts": 0,
    "type": 1,
    "message_id": 2,
    "info": 4,
    "code": 5,
    "status": 6,
    "text": 7,
}
"""Notification (``[0, "n", [...]]``) field name → index."""

TRADE_FIELDS: Mapping[str, int] = {
    "id": 0,
    "symbol": 1,
    "mts_create": 2,
    "order_id": 3,
    "exec_amount": 4,
    "exec_price": 5,
    "order_type": 6,
    "order_price": 7,
    "maker": 8,
    "fee": 9,
    "fee_currency": 10,
    "cid": 11,
}
"""Own trade (``te``/``tu``) field name → index."""


FUNDING_OFFER_LENGTH = 21
"""Fields of a funding offer array (``fos``/``fon``/``fou``/``foc``, the info of ``fon-req``)."""

FUNDING_OFFER_FIELDS: Mapping[str, int] = {
    "id": 0,
    "symbol": 1,
    "mts_create": 2,
    "mts_update": 3,
    "amount": 4,
    "amount_orig": 5,
    "type": 6,
    "flags": 9,
    "status": 10,
    "rate": 14,
    "period": 15,
    "notify": 16,
    "hidden": 17,
    "renew": 19,
}
"""Funding offer field name → index (docs ws-auth-funding-offers)."""


def order_array(fields: Mapping[str, Any]) -> list[Any]:
    """Lay out an order's fields (names of :data:`ORDER_FIELDS`) in the 32-field array;
    the fields not given are ``null``.

    :raises KeyError: for a name that is not an order field.
    """
    array: list[Any] = [None] * ORDER_LENGTH
    for name, value in fields.items():
        array[ORDER_FIELDS[name]] = value
    return array


def funding_offer_array(fields: Mapping[str, Any]) -> list[Any]:
    """Lay out a funding offer's fields (names of :data:`FUNDING_OFFER_FIELDS`) in its 21-field
    array; the fields not given are ``null``.

    :raises KeyError: for a name that is not a funding offer field.
    """
    array: list[Any] = [None] * FUNDING_OFFER_LENGTH
    for name, value in fields.items():
        array[FUNDING_OFFER_FIELDS[name]] = value
    return array
