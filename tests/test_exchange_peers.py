"""The official client, bitfinex-api-py (``pip install -e ".[test]"``), against the local
exchange: public subscriptions with checksums, authentication and an order.

Slow tier: the official client, with its own asyncio loop and websockets, over loopback.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from helpers import KEY, SECRET, STILL_MARKET

pytestmark = [pytest.mark.slow, STILL_MARKET]

bfxapi = pytest.importorskip("bfxapi", reason="bitfinex-api-py is not installed (it is in the test extra)")

WANTED = ("t_ticker_update", "t_book_snapshot", "checksum", "wallet_snapshot", "on-req-notification", "order_new")


async def drive_official_client(url: str, events: dict[str, Any]) -> None:
    client = bfxapi.Client(api_key=KEY, api_secret=SECRET, wss_host=url)
    done = asyncio.Event()

    def record(name: str):
        def handler(*args: Any) -> None:
            events.setdefault(name, args[-1])
            if all(event in events for event in WANTED):
                done.set()

        return handler

    for name in WANTED:
        client.wss.on(name, record(name))

    @client.wss.on("open")
    async def on_open() -> None:
        await client.wss.subscribe("ticker", symbol="tBTCUSD")
        await client.wss.subscribe("book", symbol="tBTCUSD", prec="P0", freq="F0", len="25")

    @client.wss.on("authenticated")
    async def on_authenticated(_: Any) -> None:
        await client.wss.inputs.submit_order(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount=0.01, price=1000)

    running = asyncio.ensure_future(client.wss.start())
    try:
        await asyncio.wait_for(done.wait(), timeout=15)
    finally:
        await client.wss.close()
        await asyncio.wait_for(running, timeout=5)


@pytest.mark.bitfinex_exchange(tick_interval=0.05)
def test_bitfinex_api_py_subscribes_authenticates_and_orders(bitfinex_exchange):
    exchange = bitfinex_exchange
    events: dict[str, Any] = {}
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(drive_official_client(exchange.url, events))
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, name="bitfinex-api-py")
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert not failure, failure
    ticker = events["t_ticker_update"]
    assert 0 < ticker.bid < ticker.ask
    book = events["t_book_snapshot"]
    assert len(book) == 50 and book[0].amount > 0
    assert 0 <= events["checksum"] < 2**32
    notification = events["on-req-notification"]
    assert notification.status == "SUCCESS" and notification.data.order_type == "EXCHANGE LIMIT"
    assert events["order_new"].price == 1000
    assert [o[0] for o in exchange.account_state().orders] == [events["order_new"].id]
