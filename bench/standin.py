"""The order workload's exchange stand-in: ``python -m bench.standin``.

An autobahn server on a private reactor, on 127.0.0.1, in a process of its own, that answers
order inputs at once, so an order round trip measures the client, not an exchange. Per
connection: an ``info`` event first; ``auth`` answered ``OK`` (any key: nothing is checked)
with empty ``ps``/``ws``/``os`` snapshots; ``conf`` and ``ping`` answered; each
``[0, "on", null, {...}]`` answered by its ``on-req`` SUCCESS notification and its ``on`` order
message, back to back (notification first, as Bitfinex and :mod:`bitfinex.testing` send them);
``oc_multi`` and ``ox_multi`` by an ``oc_multi-req`` notification. Nothing is kept: no book, no
matching, no account.

On start it prints its URL on one line; it stops when its standard input closes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Sequence
from typing import Any, Optional

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol

from bitfinex.protocol.fields import order_array
from bitfinex.transport.reactor import bind_timers, new_reactor

from bench.serving import run_until_stdin_closes

FIRST_ORDER_ID = 120_000_000_000


def _dumps(message: Any) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def order_replies(order_id: int, request: dict[str, Any], now_ms: int) -> tuple[bytes, bytes]:
    """The ``on-req`` notification and the ``on`` message answering one ``on`` input."""
    amount = float(request.get("amount") or 0)
    order = order_array({
        "id": order_id, "cid": request.get("cid"), "symbol": request.get("symbol"), "mts_create": now_ms,
        "mts_update": now_ms, "amount": amount, "amount_orig": amount, "type": request.get("type"),
        "flags": 0, "status": "ACTIVE", "price": float(request.get("price") or 0), "price_avg": 0,
        "notify": 0, "hidden": 0, "routing": "API>BFX",
    })
    side = "buy" if amount > 0 else "sell"
    text = f"Submitting {str(request.get('type', '')).lower()} {side} order for {abs(amount)}."
    notification = [0, "n", [now_ms, "on-req", None, None, order, None, "SUCCESS", text]]
    return _dumps(notification), _dumps([0, "on", order])


class StandInProtocol(WebSocketServerProtocol):
    """One client connection of the stand-in."""

    factory: StandInFactory

    def connectionMade(self) -> None:
        """Turn Nagle's algorithm off (see :class:`bench.feeder.FeedServerProtocol`)."""
        self.transport.setTcpNoDelay(True)
        super().connectionMade()

    def onOpen(self) -> None:
        """Greet like Bitfinex."""
        self.sendMessage(_dumps({"event": "info", "version": 2, "serverId": "bench-standin", "platform": {"status": 1}}))

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        """Answer one input at once."""
        try:
            message = json.loads(payload)
        except ValueError:
            return
        now_ms = time.time_ns() // 1_000_000
        if type(message) is list and len(message) >= 4 and message[0] == 0:
            kind, request = message[1], message[3]
            if kind == "on" and type(request) is dict:
                for reply in order_replies(next(self.factory.order_ids), request, now_ms):
                    self.sendMessage(reply)
            elif kind in ("oc_multi", "ox_multi"):
                self.sendMessage(_dumps([0, "n", [now_ms, "oc_multi-req", None, None, [], None, "SUCCESS",
                                                  "Submitting 0 order cancellations."]]))
        elif type(message) is dict:
            self._event(message, now_ms)

    def _event(self, event: dict[str, Any], now_ms: int) -> None:
        kind = event.get("event")
        if kind == "auth":
            self.sendMessage(_dumps({"event": "auth", "status": "OK", "chanId": 0, "userId": 1,
                                     "auth_id": "bench-standin", "caps": {}}))
            for snapshot in ("ps", "ws", "os"):
                self.sendMessage(_dumps([0, snapshot, []]))
        elif kind == "conf":
            self.sendMessage(_dumps({"event": "conf", "status": "OK", "flags": event.get("flags", 0)}))
        elif kind == "ping":
            self.sendMessage(_dumps({"event": "pong", "ts": now_ms, "cid": event.get("cid")}))


class StandInFactory(WebSocketServerFactory):
    """The stand-in's factory: hands out order ids."""

    protocol = StandInProtocol

    def __init__(self, reactor: Any) -> None:
        super().__init__(reactor=reactor)
        bind_timers(self, reactor)
        self.order_ids = itertools.count(FIRST_ORDER_ID)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Serve on 127.0.0.1, print the URL, run until stdin closes."""
    parser = argparse.ArgumentParser(prog="python -m bench.standin", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    reactor = new_reactor()
    port = reactor.listenTCP(args.port, StandInFactory(reactor), interface="127.0.0.1")
    print(f"ws://127.0.0.1:{port.getHost().port}/ws/2", flush=True)
    run_until_stdin_closes(reactor)


if __name__ == "__main__":
    main()
