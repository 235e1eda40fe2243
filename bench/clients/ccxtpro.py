"""ccxt pro 4.5.90's Bitfinex ``watch_order_book``, pointed at the feeder.

The address: ``urls['api']['ws']['public']`` overridden with the feeder's URL. The markets,
which ccxt would load from Bitfinex's REST API, are set from the subscriptions with
``set_markets``. ccxt asks for checksums (``conf`` flag 131072) and verifies every ``cs`` frame
itself; a mismatch rejects the watch with a ``ChecksumError``, which fails the run.

One task per book loops on ``watch_order_book(symbol, 25)``. ccxt hands back the book, not each
update (updates that arrive before a task runs again are folded into one return), so updates
cannot be counted: the clock starts at the first return after every book's snapshot, and stops
when the last book's best bid shows the stream's marker amount (its last update, see
:mod:`bench.bookstream`). The final books come from ccxt's own books.

ccxt runs on asyncio with aiohttp, in a virtualenv of its own (``python -m bench
--install-peers``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro

from bench.harness import ClientPlan, Probe, book_sides
from bench.wire import Subscription


def _market(symbol: str) -> dict[str, Any]:
    """The ccxt market of an exchange symbol such as ``tAAAUSD``."""
    base, quote = symbol[1:4], symbol[4:]
    return {"id": symbol, "symbol": f"{base}/{quote}", "base": base, "quote": quote, "baseId": base,
            "quoteId": quote, "type": "spot", "spot": True, "active": True}


async def _run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    exchange = ccxt.pro.bitfinex()
    exchange.urls["api"]["ws"]["public"] = plan.url
    markets = [_market(subscription.symbol) for subscription in plan.subscriptions]
    exchange.set_markets(markets)
    marker = plan.options["marker"]
    pending_snapshots = len(markets)
    done = asyncio.Event()

    async def watch(market: dict[str, Any]) -> None:
        nonlocal pending_snapshots
        is_marked = market["id"] == marker["symbol"]
        book = await exchange.watch_order_book(market["symbol"], Subscription.BOOK_LENGTH)
        pending_snapshots -= 1
        while not done.is_set():
            book = await exchange.watch_order_book(market["symbol"], Subscription.BOOK_LENGTH)
            if not pending_snapshots and not probe.started_ns:
                probe.mark_start()
            if is_marked:
                best = book["bids"][0]
                if best[0] == marker["price"] and best[1] == marker["amount"]:
                    probe.mark_end()
                    done.set()

    tasks = [asyncio.ensure_future(watch(market)) for market in markets]
    try:
        finished, _ = await asyncio.wait([asyncio.ensure_future(done.wait()), *tasks], timeout=plan.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            task.result()  # a watch that raised (a ChecksumError) fails the run
        return {
            market["id"]: book_sides(((level[0], level[1]) for level in exchange.orderbooks[market["symbol"]]["bids"]),
                                     ((level[0], level[1]) for level in exchange.orderbooks[market["symbol"]]["asks"]))
            for market in markets if market["symbol"] in exchange.orderbooks
        }
    finally:
        for task in tasks:
            task.cancel()
        await exchange.close()


def run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Watch every book on a fresh event loop until the marker shows or time runs out."""
    books = asyncio.run(_run(plan, probe))
    return {"decoder": "json (ccxt)", "books": books}
