"""cryptofeed 2.4.1's Bitfinex feed, pointed at the feeder.

The address: a subclass of its ``Bitfinex`` feed whose ``websocket_endpoints`` name the feeder
(same 20-subscriptions-per-connection limit as the original). cryptofeed refuses addresses that
are not ``wss://``, so the endpoint is declared as ``wss://`` with the ``authentication`` hook
(called with the address just before connecting) turning it back into the feeder's ``ws://``:
no TLS, as for every other client. The symbol table, which the feed
would download from Bitfinex's REST API, is built from the subscriptions with the feed's own
parser. Its logger runs at ERROR: cryptofeed never asks for checksums (it sets only
``SEQ_ALL``), so each ``cs`` frame the feeder sends it anyway (every client gets the same
frames) would otherwise become a log line, a cost it would not pay against Bitfinex.
cryptofeed has no Bitfinex candles channel.

cryptofeed imports its own packages (uvloop, yapic.json, websockets>=14.1), so it may run
under its own interpreter (see ``python -m bench --install-peers``). It runs on uvloop unless
the row's ``uvloop`` option is false (the book workload's row).

In a books run its L2 book callback is called once per book frame (the snapshot first, with no
``delta``); each call with a delta is one update applied (cryptofeed verifies no checksum).
The final books come from its own books (``Decimal`` prices and sizes).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar

from cryptofeed import FeedHandler
from cryptofeed.connection import WebsocketEndpoint
from cryptofeed.defines import BITFINEX, L2_BOOK, TICKER, TRADES
from cryptofeed.exchanges import Bitfinex
from cryptofeed.symbols import Symbols

from bench.harness import BOOKS_RUN, SUBSCRIPTIONS_RUN, ClientPlan, Probe, book_sides
from bench.wire import Subscription

CHANNELS = {"ticker": TICKER, "trades": TRADES, "book": L2_BOOK}
SUBSCRIPTIONS_PER_CONNECTION = 20
"""cryptofeed's own limit for Bitfinex."""


def _install_symbols(subscriptions: list[Subscription]) -> dict[str, str]:
    """Give cryptofeed its symbol table without REST; return normalized → exchange symbol."""
    pairs = sorted({subscription.symbol[1:] for subscription in subscriptions})
    mapping, info = Bitfinex._parse_symbol_data([[pairs], [[]], [[]]])
    Symbols.set(BITFINEX, mapping, info)
    return mapping


def _callbacks(probe: Probe, exchange_symbol: dict[str, str], books: dict[str, Any]) -> dict[str, Any]:
    if probe.measure == BOOKS_RUN:
        update = probe.update

        async def book(book_update: Any, _receipt: float) -> None:
            if book_update.delta is not None:
                update()
            else:
                books[exchange_symbol[book_update.symbol]] = book_update.book

        return {L2_BOOK: book}
    if probe.measure == SUBSCRIPTIONS_RUN:
        def seen_as(channel: str) -> Any:
            async def seen(update: Any, _receipt: float) -> None:
                probe.seen(f"{channel}:{exchange_symbol[update.symbol]}")

            return seen

        return {TICKER: seen_as("ticker"), TRADES: seen_as("trades"), L2_BOOK: seen_as("book")}

    async def frame(_update: Any, _receipt: float) -> None:
        probe.frame()

    async def trade(update: Any, _receipt: float) -> None:
        probe.trade(int(update.id), int(update.timestamp * 1000))

    return {TICKER: frame, TRADES: trade, L2_BOOK: frame}


def run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Run a FeedHandler with the local feed until the probe is done or time runs out."""
    exchange_symbol = _install_symbols(plan.subscriptions)
    normalized_symbol = {exchange: normalized for normalized, exchange in exchange_symbol.items()}
    subscription: dict[str, list[str]] = {}
    for item in plan.subscriptions:
        subscription.setdefault(CHANNELS[item.channel], []).append(normalized_symbol[item.symbol])

    class LocalBitfinex(Bitfinex):
        websocket_endpoints: ClassVar[list[WebsocketEndpoint]] = [
            WebsocketEndpoint("wss://" + plan.url.removeprefix("ws://"), limit=SUBSCRIPTIONS_PER_CONNECTION,
                              authentication=True),
        ]

        async def _ws_authentication(self, address: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
            return "ws://" + address.removeprefix("wss://"), options

    books: dict[str, Any] = {}
    handler = FeedHandler(config={"uvloop": plan.options.get("uvloop", True),
                                  "log": {"filename": os.devnull, "level": "ERROR"}})
    handler.add_feed(LocalBitfinex(
        subscription=subscription, callbacks=_callbacks(probe, exchange_symbol, books),
        number_of_price_points=Subscription.BOOK_LENGTH, book_frequency=Subscription.BOOK_FREQUENCY,
    ))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    probe.on_done = loop.stop
    loop.call_later(plan.timeout, loop.stop)
    handler.run(install_signal_handlers=False)
    result: dict[str, Any] = {"decoder": "yapic.json (cryptofeed)"}
    if plan.measure == BOOKS_RUN:
        result["books"] = {symbol: book_sides(book.bids.to_list(), book.asks.to_list()) for symbol, book in books.items()}
    return result
