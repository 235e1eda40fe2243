"""A bare autobahn client's order round trip: the bytes ``WssClient`` sends, and nothing else.

The order workload's baseline. One tuned connection (:class:`bench.clients.bare.TunedProtocol`:
``onMessageEnd``, 8 KiB reads, no Nagle, no UTF-8 validation) on a private Twisted reactor in
the main thread. It authenticates as ``WssClient`` does (HMAC-SHA384 over ``"AUTH" + nonce``), then sends
``[0, "on", null, {"cid": ..., "type": ..., "symbol": ..., "amount": ..., "price": ...}]``,
encoded as ``WssClient`` encodes it, one order at a time: the next from the callback that gets
the previous one's ``on``. It times each order from just before the send to the arrival of its
``on-req`` notification and of its ``on`` message, decoded (orjson or json, as the plan says).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any, Optional
from urllib.parse import urlsplit

from bench.clients.bare import DefaultProtocol, ShardFactory, decoder, twisted_reactor
from bench.harness import ClientPlan, Probe, order_figures
from bench.wire import ORDER

CLOSE_WAIT_SECONDS = 2.0


def _dumps(message: Any) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def auth_message(key: str, secret: str) -> bytes:
    """The ``auth`` event, signed as Bitfinex requires."""
    nonce = str(time.time_ns() // 1000)
    payload = "AUTH" + nonce
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha384).hexdigest()
    return _dumps({"event": "auth", "apiKey": key, "authSig": signature, "authPayload": payload, "authNonce": nonce})


class OrderSession:
    """The connection's endpoint: authenticates, then sends the orders and times them.

    :param orders: how many orders to send.
    :param decode: the JSON decoder.
    :param finished: called once the last order's ``on`` arrived, or on a failure.
    """

    def __init__(self, plan: ClientPlan, probe: Probe, decode: Callable[[bytes], Any],
                 finished: Callable[[], None]) -> None:
        self.key = plan.options["key"]
        self.secret = plan.options["secret"]
        self.remaining = int(plan.options["orders"])
        self.probe = probe
        self.decode = decode
        self.finished = finished
        self.protocol: Optional[DefaultProtocol] = None
        self.next_cid = time.time_ns() // 1_000_000
        self.sent: dict[int, int] = {}
        self.on_request: dict[int, int] = {}
        self.on: dict[int, int] = {}
        self.failure: Optional[str] = None

    def opened(self, protocol: DefaultProtocol) -> None:
        """Authenticate."""
        self.protocol = protocol
        protocol.sendMessage(auth_message(self.key, self.secret))

    def on_text(self, payload: bytes) -> None:
        """Time the replies that matter; send the next order after each ``on``."""
        now = time.monotonic_ns()
        message = self.decode(payload)
        if type(message) is dict:
            if message.get("event") == "auth":
                if message.get("status") != "OK":
                    self.fail(f"auth failed: {message.get('msg')}")
                    return
                self.probe.mark_start()
                self.send_order()
            return
        if message[0] != 0:
            return
        kind = message[1]
        if kind == "n" and message[2][1] == "on-req":
            self.on_request[message[2][4][2]] = now
        elif kind == "on":
            self.on[message[2][2]] = now
            if self.remaining:
                self.send_order()
            else:
                self.probe.mark_end()
                self.finished()

    def send_order(self) -> None:
        """Send the next order."""
        assert self.protocol is not None
        self.remaining -= 1
        cid = self.next_cid
        self.next_cid += 1
        order_type, symbol, amount, price = ORDER
        payload = _dumps([0, "on", None, {"cid": cid, "type": order_type, "symbol": symbol, "amount": amount,
                                          "price": price}])
        self.sent[cid] = time.monotonic_ns()
        self.protocol.sendMessage(payload)

    def fail(self, reason: str) -> None:
        """Stop the run with ``reason``."""
        self.failure = self.failure or reason
        self.finished()

    def closed(self, reason: str) -> None:
        """The connection closed."""
        self.protocol = None
        if not self.probe.done.is_set():
            self.fail(f"connection closed before the end: {reason}")


def run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Connect, authenticate, send the orders one at a time, close."""
    decode = decoder(plan.options["decoder"])
    assert decode is not None
    reactor = twisted_reactor()

    def stop_reactor() -> None:
        if reactor.running:
            reactor.stop()

    def finished() -> None:
        if session.protocol is not None:
            session.protocol.sendClose(1000)
        reactor.callLater(CLOSE_WAIT_SECONDS, stop_reactor)

    session = OrderSession(plan, probe, decode, finished)
    address = urlsplit(plan.url)
    reactor.connectTCP(address.hostname, address.port, ShardFactory(plan.url, reactor, session, tuned=True), timeout=10)
    reactor.callLater(plan.timeout, stop_reactor)
    reactor.run(installSignalHandlers=False)
    if session.failure is not None:
        raise RuntimeError(session.failure)
    return {"decoder": plan.options["decoder"], "orders": order_figures(session.sent, session.on_request, session.on)}
