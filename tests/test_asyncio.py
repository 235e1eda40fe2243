"""``WssClient`` inside an asyncio program, both ways the asyncio guide shows: on Twisted's
asyncio reactor running on the program's own loop, and on the client's private reactor thread
with callbacks handed to the loop. Each receives market data and places an order.

The waits here are on ``asyncio.Queue`` objects, not on ``helpers.Inbox``: the callbacks run on
the loop (the first test's reactor *is* the loop), so a blocking wait would stall them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.asyncioreactor import AsyncioSelectorReactor

from bitfinex import WssClient
from bitfinex.testing import LocalExchange

from helpers import LIVE_MARKET

pytestmark = [LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]

TIMEOUT = 10.0


async def next_matching(messages: asyncio.Queue[Any], matches: Callable[[Any], bool]) -> Any:
    """The first message from ``messages`` for which ``matches`` holds (within :data:`TIMEOUT`)."""

    async def scan() -> Any:
        while True:
            message = await messages.get()
            if matches(message):
                return message

    return await asyncio.wait_for(scan(), TIMEOUT)


def is_ticker(message: Any) -> bool:
    return isinstance(message, list) and isinstance(message[1], list)


def order_placed(cid: int) -> Callable[[Any], bool]:
    """An ``on`` message (the order is on the book) about the order with ``cid``."""
    return lambda m: isinstance(m, list) and m[1] == "on" and m[2][2] == cid


async def trade(client: WssClient, ticker: asyncio.Queue[Any], account: asyncio.Queue[Any]) -> None:
    """Wait for a ticker frame, place an order, wait until it is on the book."""
    first = await next_matching(ticker, is_ticker)
    assert first[1][0] > 0  # a bid price
    cid = client.new_order(order_type="EXCHANGE LIMIT", symbol="BTCUSD", amount="0.01", price="1000")
    await next_matching(account, order_placed(cid))


def test_on_the_asyncio_reactor_of_the_running_loop(bitfinex_exchange: LocalExchange) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        exchange = bitfinex_exchange
        client = WssClient(exchange.key, exchange.secret, url=exchange.url, reactor=AsyncioSelectorReactor(loop))
        ticker: asyncio.Queue[Any] = asyncio.Queue()
        account: asyncio.Queue[Any] = asyncio.Queue()
        client.authenticate(account.put_nowait)  # callbacks run on the loop's thread
        client.subscribe_to_ticker("BTCUSD", ticker.put_nowait)
        client.start()
        try:
            await trade(client, ticker, account)
        finally:
            stopped = client.stop()
            assert stopped is not None
            await asyncio.wait_for(stopped.asFuture(loop), TIMEOUT)

    asyncio.run(main())
    bitfinex_exchange.wait_for_connections(0)


def test_on_the_private_reactor_thread_handing_callbacks_to_the_loop(bitfinex_exchange: LocalExchange) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ticker: asyncio.Queue[Any] = asyncio.Queue()
        account: asyncio.Queue[Any] = asyncio.Queue()

        def to_loop(messages: asyncio.Queue[Any]) -> Callable[[Any], None]:
            return lambda message: loop.call_soon_threadsafe(messages.put_nowait, message)

        client = WssClient(bitfinex_exchange.key, bitfinex_exchange.secret, url=bitfinex_exchange.url)
        client.authenticate(to_loop(account))
        client.subscribe_to_ticker("BTCUSD", to_loop(ticker))
        client.start()
        try:
            await trade(client, ticker, account)
        finally:
            await asyncio.to_thread(client.stop)  # stop() blocks until the reactor thread ended

    asyncio.run(main())
    bitfinex_exchange.wait_for_connections(0)
