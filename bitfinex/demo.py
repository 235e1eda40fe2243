"""``python -m bitfinex demo``: the original library's quickstart against a local exchange, narrated.

It starts a :class:`~bitfinex.testing.LocalExchange` on a free loopback port and runs the
quickstart's flow through :class:`~bitfinex.WssClient`: authenticate, candles for BTCUSD 1m and
ETHUSD 5m, the quickstart's LIMIT order (which rests far below the market and is cancelled by
its cid), then a LIMIT order at the ask, which fills. Each step is printed as a readable line;
the run ends by itself within seconds, with exit status 0 when every step happened.
"""

from __future__ import annotations

import queue
import sys
import time
from typing import Any, Callable, Optional, TextIO

from bitfinex.client import WssClient
from bitfinex.testing import LocalExchange
from bitfinex.utils import cid_to_date

STEP_TIMEOUT = 10.0
"""Seconds any one step may take before the demo gives up (exit status 1)."""


class DemoFailed(RuntimeError):
    """A step of the demo did not happen in time."""


class Narrator:
    """Collects what the client's callbacks receive and waits for it, with timeouts.

    Callbacks run on the client's reactor thread; they only put messages on a queue, and the
    demo's thread reads and prints them.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()
        self.messages: queue.Queue[tuple[str, Any]] = queue.Queue()

    def say(self, text: str) -> None:
        """Print one line, stamped with the seconds since the start."""
        print(f"[{time.monotonic() - self.started:5.2f}s] {text}", file=self.out, flush=True)

    def listener(self, source: str) -> Callable[[Any], None]:
        """A callback that queues what it receives, tagged with ``source``."""
        return lambda message: self.messages.put((source, message))

    def expect(self, **steps: Callable[[str, Any], Optional[str]]) -> dict[str, str]:
        """Read queued messages until every step matched once, in whatever order they come.

        :param steps: name → matcher; a matcher returns the line to print when a message is the
            one it waits for, else ``None``.
        :returns: name → the printed line.
        :raises DemoFailed: after :data:`STEP_TIMEOUT` seconds without all of them.
        """
        found: dict[str, str] = {}
        deadline = time.monotonic() + STEP_TIMEOUT
        while len(found) < len(steps):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = ", ".join(name.replace("_", " ") for name in steps if name not in found)
                raise DemoFailed(f"no {missing} within {STEP_TIMEOUT:.0f} s")
            try:
                source, message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            for name, match in steps.items():
                line = None if name in found else match(source, message)
                if line is not None:
                    found[name] = line
                    self.say(line)
                    break
        return found


def _is_frame(message: Any, kind: str) -> bool:
    return isinstance(message, list) and len(message) > 2 and message[1] == kind


def run(out: TextIO = sys.stdout) -> int:
    """Run the demo; return 0 when every step happened, 1 otherwise."""
    narrator = Narrator(out)
    with LocalExchange(heartbeat_interval=5.0, tick_interval=0.05) as exchange:
        narrator.say(f"local exchange listening on {exchange.url} (demo key {exchange.key})")
        client = WssClient(exchange.key, exchange.secret, url=exchange.url)
        try:
            return _trade(client, narrator)
        except DemoFailed as failure:
            narrator.say(f"FAILED: {failure}")
            return 1
        finally:
            client.stop()
            narrator.say("client stopped, every connection closed")


def _trade(client: WssClient, narrator: Narrator) -> int:
    client.authenticate(narrator.listener("account"))
    client.subscribe_to_candles(symbol="BTCUSD", timeframe="1m", callback=narrator.listener("candles_tBTCUSD_1m"))
    client.subscribe_to_candles(symbol="ETHUSD", timeframe="5m", callback=narrator.listener("candles_tETHUSD_5m"))
    client.subscribe_to_ticker(symbol="BTCUSD", callback=narrator.listener("ticker"))
    client.start()
    def candles(key: str) -> Callable[[str, Any], Optional[str]]:
        return lambda source, m: (
            f"{key}: {len(m[1])} candles, latest close {m[1][0][2]} (volume {m[1][0][5]})"
            if source == key and isinstance(m, list) and m[1] and isinstance(m[1][0], list) else None)

    seen = narrator.expect(
        authentication=lambda source, m: (
            f"authenticated as user {m.get('userId')}" if source == "account" and isinstance(m, dict)
            and m.get("event") == "auth" and m.get("status") == "OK" else None),
        BTCUSD_candles=candles("candles_tBTCUSD_1m"),
        ETHUSD_candles=candles("candles_tETHUSD_5m"),
        ticker=lambda source, m: (
            f"tBTCUSD ticker: bid {m[1][0]}, ask {m[1][2]}, last {m[1][6]}"
            if source == "ticker" and isinstance(m, list) and isinstance(m[1], list) else None),
    )
    ask = seen["ticker"].split("ask ")[1].split(",")[0]

    resting = client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1000.0)
    narrator.say(f"sent the quickstart's order: LIMIT buy 0.004 tBTCUSD @ 1000.0, cid {resting}")
    narrator.expect(resting_order=lambda source, m: (
        f"order {m[2][0]} is {m[2][13]} on the book" if source == "account" and _is_frame(m, "on")
        and m[2][2] == resting else None))
    client.cancel_order_cid(resting, cid_to_date(resting))
    narrator.say(f"cancelling it by cid {resting} and date {cid_to_date(resting)}")
    narrator.expect(cancel=lambda source, m: (
        f"order {m[2][0]}: {m[2][13]}" if source == "account" and _is_frame(m, "oc") and m[2][2] == resting else None))

    taker = client.new_order(order_type="EXCHANGE LIMIT", symbol="BTCUSD", amount="0.004", price=ask)
    narrator.say(f"sent EXCHANGE LIMIT buy 0.004 tBTCUSD @ {ask} (the ask), cid {taker}")
    narrator.expect(
        fill=lambda source, m: (
            f"filled: bought {m[2][4]} at {m[2][5]}, fee {m[2][9]:.8f} {m[2][10]}"
            if source == "account" and _is_frame(m, "tu") and m[2][11] == taker else None),
        executed_order=lambda source, m: (
            f"order {m[2][0]}: {m[2][13]}" if source == "account" and _is_frame(m, "oc") and m[2][2] == taker else None),
        wallet_update=lambda source, m: (
            f"exchange wallet BTC balance now {m[2][2]}" if source == "account" and _is_frame(m, "wu")
            and m[2][:2] == ["exchange", "BTC"] else None),
    )
    narrator.say("demo complete")
    return 0
