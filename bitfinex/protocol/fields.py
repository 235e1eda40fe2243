"""Where each field sits in the arrays of the authenticated channel.

Bitfinex sends orders, positions, wallets, trades, funding offers, credits and loans and
notifications as positional arrays (docs ws-auth-orders, ws-auth-positions, ws-auth-wallets,
ws-auth-balance, ws-auth-trades, ws-auth-funding-offers, ws-auth-funding-credits,
ws-auth-funding-loans, ws-auth-notifications; ``protocol.md`` section 7). Arrays only grow:
fields are appended without notice, so readers use these indices and never an array's length.
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


POSITION_FIELDS: Mapping[str, int] = {
    "symbol": 0,
    "status": 1,
    "amount": 2,
    "base_price": 3,
    "margin_funding": 4,
    "margin_funding_type": 5,
    "pl": 6,
    "pl_perc": 7,
    "price_liq": 8,
    "leverage": 9,
    "position_id": 11,
    "mts_create": 12,
    "mts_update": 13,
    "type": 15,
    "collateral": 17,
    "collateral_min": 18,
    "meta": 19,
}
"""Position (``ps``/``pn``/``pu``/``pc``) field name → index (docs ws-auth-positions; py v3
``serializers.Position``). STATUS is ``ACTIVE`` or ``CLOSED``; the profit and loss fields
(``pl``, ``pl_perc``, ``price_liq``, ``leverage``) may be null until a ``calc``."""

WALLET_FIELDS: Mapping[str, int] = {
    "type": 0,
    "currency": 1,
    "balance": 2,
    "unsettled_interest": 3,
    "balance_available": 4,
    "description": 5,
    "meta": 6,
}
"""Wallet (``ws``/``wu``) field name → index (docs ws-auth-wallets). TYPE is ``exchange``,
``margin`` or ``funding``; BALANCE_AVAILABLE is often null until a ``calc``."""

BALANCE_FIELDS: Mapping[str, int] = {"aum": 0, "aum_net": 1}
"""Balance info (``bu``) field name → index: total assets under management and their net
value, in USD (docs ws-auth-balance)."""

FUNDING_CREDIT_FIELDS: Mapping[str, int] = {
    "id": 0,
    "symbol": 1,
    "side": 2,
    "mts_create": 3,
    "mts_update": 4,
    "amount": 5,
    "flags": 6,
    "status": 7,
    "rate_type": 8,
    "rate": 11,
    "period": 12,
    "mts_opening": 13,
    "mts_last_payout": 14,
    "notify": 15,
    "hidden": 16,
    "renew": 18,
    "rate_real": 19,
    "no_close": 20,
    "position_pair": 21,
}
"""Funding credit (``fcs``/``fcn``/``fcu``/``fcc``: funds lent, used in a position) field name →
index (docs ws-auth-funding-credits). SIDE is 1 (lender), 0 (both) or -1 (borrower). The docs
call index 8 a placeholder; live frames carry RATE_TYPE there (``"FIXED"``, ``"VAR"``: an ``fcn``
quoted in bitfinex-api-node's ws2 tests, and the REST credits of rest-auth-funding-credits)."""

FUNDING_LOAN_FIELDS: Mapping[str, int] = {
    name: index for name, index in FUNDING_CREDIT_FIELDS.items() if name != "position_pair"
}
"""Funding loan (``fls``/``fln``/``flu``/``flc``: funds lent, not used in a position) field name →
index (docs ws-auth-funding-loans): a credit's layout without POSITION_PAIR."""


DERIVATIVE_STATUS_FIELDS: Mapping[str, int] = {
    "mts": 0,
    "deriv_price": 2,
    "spot_price": 3,
    "insurance_fund_balance": 5,
    "next_funding_evt_mts": 7,
    "next_funding_accrued": 8,
    "next_funding_step": 9,
    "current_funding": 11,
    "mark_price": 14,
    "open_interest": 17,
    "clamp_min": 21,
    "clamp_max": 22,
}
"""A ``deriv:`` status frame's body (``[CHAN_ID, [MTS, null, DERIV_PRICE, ...]]``), field name →
index (docs ws-public-status; the other indices are placeholders)."""

LIQUIDATION_FIELDS: Mapping[str, int] = {
    "pos_id": 1,
    "mts": 2,
    "symbol": 4,
    "amount": 5,
    "base_price": 6,
    "is_match": 8,
    "is_market_sold": 9,
    "liquidation_price": 11,
}
"""One entry of a ``liq:global`` frame (``["pos", POS_ID, MTS, null, SYMBOL, ...]``), field name
→ index (docs ws-public-status)."""


def lay_out(layout: Mapping[str, int], length: int, fields: Mapping[str, Any]) -> list[Any]:
    """Put ``fields`` (names of ``layout``) at their indices in an array of ``length``; the
    fields not given are ``null``.

    :raises KeyError: for a name that is not in ``layout``.
    """
    array: list[Any] = [None] * length
    for name, value in fields.items():
        array[layout[name]] = value
    return array


def order_array(fields: Mapping[str, Any]) -> list[Any]:
    """An order's fields (names of :data:`ORDER_FIELDS`) in the 32-field order array."""
    return lay_out(ORDER_FIELDS, ORDER_LENGTH, fields)


def funding_offer_array(fields: Mapping[str, Any]) -> list[Any]:
    """A funding offer's fields (names of :data:`FUNDING_OFFER_FIELDS`) in its 21-field array."""
    return lay_out(FUNDING_OFFER_FIELDS, FUNDING_OFFER_LENGTH, fields)
