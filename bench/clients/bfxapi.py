"""The official client, ``bitfinex-api-py`` 4.0.0 (``bfxapi``), pointed at the feeder with
``wss_host=``.

It opens one connection for itself and puts subscriptions on "buckets" of up to 25 channels;
``bfx.wss.subscribe`` may only be called once the client emits ``open``. Data arrives as
typed objects through its event emitter; the listeners below hand them to the probe.

An ``orders`` run (the order workload, against :mod:`bench.standin`) authenticates with the
plan's key, and once the client emits ``authenticated`` sends the orders one at a time with
``bfx.wss.inputs.submit_order``, each once the previous one's ``order_new`` (the ``on``
message) arrived, timing the send → its ``on-req-notification`` and → its ``order_new``.

A ``books`` run (the book workload) keeps the books the way the client's own order-book example
does (:mod:`bench.clients.bfxapi_books`) and returns them with its checksum counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from bfxapi import Client

from bench.clients.bfxapi_books import ExampleBooks
from bench.harness import BOOKS_RUN, ORDERS_RUN, SUBSCRIPTIONS_RUN, ClientPlan, Probe, order_figures
from bench.wire import ORDER, Subscription

FRAME_EVENTS = (
    "t_ticker_update", "t_trades_snapshot", "t_book_snapshot", "t_book_update", "checksum",
    "candles_snapshot", "candles_update",
)
TRADE_EVENTS = ("t_trade_execution", "t_trade_execution_update")


def _parameters(subscription: Subscription) -> dict[str, Any]:
    request = subscription.request()
    return {name: value for name, value in request.items() if name not in ("event", "channel", "subId")}


def _listen(wss: Any, probe: Probe) -> None:
    if probe.measure == SUBSCRIPTIONS_RUN:
        def seen(subscription: dict[str, Any], _data: Any) -> None:
            probe.seen(subscription["sub_id"])

        for event in FRAME_EVENTS + TRADE_EVENTS:
            wss.on(event, seen)
        return

    def frame(_subscription: dict[str, Any], _data: Any) -> None:
        probe.frame()

    def trade(_subscription: dict[str, Any], data: Any) -> None:
        probe.trade(data.id, data.mts)

    for event in FRAME_EVENTS:
        wss.on(event, frame)
    for event in TRADE_EVENTS:
        wss.on(event, trade)


async def _run(plan: ClientPlan, probe: Probe, listen: Callable[[Any, Probe], None]) -> None:
    bfx = Client(wss_host=plan.url)
    wss = bfx.wss
    loop = asyncio.get_running_loop()
    listen(wss, probe)

    async def subscribe_all() -> None:
        for subscription in plan.subscriptions:
            await wss.subscribe(subscription.channel, sub_id=subscription.key, **_parameters(subscription))

    wss.on("open", subscribe_all)
    probe.on_done = lambda: loop.create_task(wss.close())
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wss.start(), plan.timeout)


async def _orders(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    bfx = Client(api_key=plan.options["key"], api_secret=plan.options["secret"], wss_host=plan.url)
    wss = bfx.wss
    loop = asyncio.get_running_loop()
    sent: dict[int, int] = {}
    on_request: dict[int, int] = {}
    on: dict[int, int] = {}
    waiting: dict[int, asyncio.Future[None]] = {}
    failures: list[BaseException] = []

    def on_req(notification: Any) -> None:
        on_request[notification.data.cid] = time.monotonic_ns()

    def order_new(order: Any) -> None:
        on[order.cid] = time.monotonic_ns()
        future = waiting.pop(order.cid, None)
        if future is not None:
            future.set_result(None)

    async def trade(_event: Any) -> None:
        try:
            order_type, symbol, amount, price = ORDER
            first_cid = time.time_ns() // 1_000_000
            probe.mark_start()
            for cid in range(first_cid, first_cid + int(plan.options["orders"])):
                future = waiting[cid] = loop.create_future()
                sent[cid] = time.monotonic_ns()
                await wss.inputs.submit_order(type=order_type, symbol=symbol, amount=amount, price=price, cid=cid)
                await asyncio.wait_for(future, plan.timeout)
            probe.mark_end()
        except Exception as error:
            failures.append(error)
        await wss.close()

    wss.on("on-req-notification", on_req)
    wss.on("order_new", order_new)
    wss.on("authenticated", trade)
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wss.start(), plan.timeout)
    if failures:
        raise failures[0]
    return order_figures(sent, on_request, on)


def run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Run the client on a fresh event loop until the probe is done or time runs out."""
    if plan.measure == ORDERS_RUN:
        return {"decoder": "json (bfxapi)", "orders": asyncio.run(_orders(plan, probe))}
    if plan.measure == BOOKS_RUN:
        books = ExampleBooks([subscription.symbol for subscription in plan.subscriptions])
        asyncio.run(_run(plan, probe, books.listen))
        return {"decoder": "json (bfxapi)", **books.figures()}
    asyncio.run(_run(plan, probe, _listen))
    return {"decoder": "json (bfxapi)"}
