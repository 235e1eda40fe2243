"""What a public subscription asks for, and the stable identifier that names it.

A :class:`SubscriptionSpec` is immutable and knows its ``subscribe`` request, so a subscription
can be sent again, identically, after every reconnect. Its identifier (``"ticker_tBTCUSD"``,
``"book_tBTCUSD_P0_F0_25"``, ``"candles_tBTCUSD_1m"``, ...) is what ``subscribe_*`` returns,
what ``unsubscribe`` and ``ping`` take, and the ``subId`` the server echoes back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bitfinex.protocol.symbols import (
    book_frequency,
    book_length,
    book_precision,
    candle_key,
    candle_symbol,
    normalize_symbol,
    normalize_timeframe,
    status_key,
)


@dataclasses.dataclass(frozen=True)
class SubscriptionSpec:
    """One public channel subscription.

    :param identifier: the stable name of the subscription.
    :param channel: ``"ticker"``, ``"trades"``, ``"book"``, ``"candles"`` or ``"status"``.
    :param params: the request's fields besides ``event``, ``channel`` and ``subId``.
    """

    identifier: str
    channel: str
    params: tuple[tuple[str, str], ...]

    def request(self) -> dict[str, Any]:
        """Return the ``subscribe`` event for this subscription (with ``subId``)."""
        message: dict[str, Any] = {"event": "subscribe", "channel": self.channel}
        message.update(self.params)
        message["subId"] = self.identifier
        return message

    def param(self, name: str) -> str:
        """Return one request field (``"symbol"``, ``"key"``, ``"prec"``, ...)."""
        return dict(self.params)[name]

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Tell whether a ``subscribed`` or ``error`` event answers this subscription.

        The server echoes ``subId``; a server that does not is matched on the channel and the
        request fields it does echo.
        """
        sub_id = event.get("subId")
        if sub_id is not None:
            return bool(sub_id == self.identifier)
        if event.get("channel") != self.channel:
            return False
        for name, value in self.params:
            echoed = event.get(name)
            if echoed is not None and str(echoed) != value:
                return False
        return True


def ticker(symbol: object) -> SubscriptionSpec:
    """The ticker channel of ``symbol``."""
    normalized = normalize_symbol(symbol)
    return SubscriptionSpec(f"ticker_{normalized}", "ticker", (("symbol", normalized),))


def trades(symbol: object) -> SubscriptionSpec:
    """The trades channel of ``symbol``."""
    normalized = normalize_symbol(symbol)
    return SubscriptionSpec(f"trades_{normalized}", "trades", (("symbol", normalized),))


def book(symbol: object, precision: object, frequency: object = "F0", length: object = 25) -> SubscriptionSpec:
    """The book channel of ``symbol`` at ``precision`` (``P0``-``P4``, or ``R0`` for the raw book).

    :param frequency: ``"F0"`` realtime (default) or ``"F1"`` every two seconds.
    :param length: levels per side: 1, 25 (default, as Bitfinex), 100 or 250.
    """
    normalized = normalize_symbol(symbol)
    prec = book_precision(precision)
    freq = book_frequency(frequency)
    size = book_length(length)
    return SubscriptionSpec(
        f"book_{normalized}_{prec}_{freq}_{size}",
        "book",
        (("symbol", normalized), ("prec", prec), ("freq", freq), ("len", size)),
    )


def candles(symbol: object, timeframe: object) -> SubscriptionSpec:
    """The candles channel of ``symbol`` at ``timeframe`` (``"7D"`` is sent as ``"1W"``).

    :param symbol: a trading symbol, or a funding currency with its period (``"fUSD:p30"``,
        ``"fUSD:a30:p2:p30"``; see :func:`~bitfinex.protocol.symbols.candle_symbol`).
    """
    normalized = candle_symbol(symbol)
    frame = normalize_timeframe(timeframe)
    return SubscriptionSpec(
        f"candles_{normalized}_{frame}", "candles", (("key", candle_key(normalized, frame)),)
    )


def status(key: object) -> SubscriptionSpec:
    """The status channel of ``key``: ``"deriv:tBTCF0:USTF0"`` or ``"liq:global"`` (see
    :func:`~bitfinex.protocol.symbols.status_key`)."""
    checked = status_key(key)
    return SubscriptionSpec(f"status_{checked}", "status", (("key", checked),))
