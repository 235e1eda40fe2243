"""The official client, ``bitfinex-api-py`` 4.0.0 (``bfxapi``), pointed at the feeder with
``wss_host=``.

It opens one connection for itself and puts subscriptions on "buckets" of up to 25 channels;
``bfx.wss.subscribe`` may only be called once the client emits ``open``. Data arrives as
typed objects through its event emitter; the listeners below hand them to the probe.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

from bfxapi import Client

from bench.harness import SUBSCRIPTIONS_RUN, ClientPlan, Probe
from bench.wire import Subscription

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


async def _run(plan: ClientPlan, probe: Probe) -> None:
    bfx = Client(wss_host=plan.url)
    wss = bfx.wss
    loop = asyncio.get_running_loop()
    _listen(wss, probe)

    async def subscribe_all() -> None:
        for subscription in plan.subscriptions:
            await wss.subscribe(subscription.channel, sub_id=subscription.key, **_parameters(subscription))

    wss.on("open", subscribe_all)
    probe.on_done = lambda: loop.create_task(wss.close())
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wss.start(), plan.timeout)


def run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Run the client on a fresh event loop until the probe is done or time runs out."""
    asyncio.run(_run(plan, probe))
    return {"decoder": "json (bfxapi)"}
