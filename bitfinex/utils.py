"""Helpers the original library offered as ``bitfinex.utils``."""

from __future__ import annotations

from bitfinex.protocol.ids import PROCESS_CIDS, cid_to_date
from bitfinex.protocol.symbols import normalize_symbol


def create_cid() -> int:
    """Return a new client order id: a millisecond timestamp, unique within this process
    (shared with every :class:`~bitfinex.WssClient`)."""
    return PROCESS_CIDS.next()


def order_symbol(symbol: str) -> str:
    """Return the protocol symbol for ``symbol``: ``"BTCUSD"`` → ``"tBTCUSD"``, ``"BTC"`` → ``"fBTC"``."""
    return normalize_symbol(symbol)


__all__ = ["cid_to_date", "create_cid", "order_symbol"]
