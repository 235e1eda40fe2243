"""Bare autobahn + Twisted clients: the baseline and the ceilings the others are held to.

One module, settings from the plan's options:

- ``tuned=False``: autobahn as it comes (``onMessage`` override, UTF-8 validation, Twisted's
  64 KiB reads). With ``decoder="json"`` this is THE BASELINE.
- ``tuned=True``: what ``bitfinex.transport.websocket`` does: ``onMessageEnd`` override (skips
  autobahn's per-message observer machinery), 8 KiB reads, no incoming UTF-8 validation.
- ``decoder``: ``"json"`` (``json.loads``), ``"orjson"``, or ``None`` for count-only: messages
  are counted and nothing is decoded, the stack's ceiling. It finds the stream by position: the
  feeder sends one ``info`` event, then a ``subscribed`` event and a snapshot per subscription,
  then the stream.

Decoded clients route data frames with one dict lookup on chanId to a callback per
subscription (:func:`bench.harness.raw_frame_callback`). Subscriptions are sharded over
connections of at most 25 channels, as Bitfinex requires (or ``per_connection``, when the plan
sets it). The reactor is private and runs in the main thread: Twisted's own epoll reactor
(:func:`twisted_reactor`), what an autobahn user gets, not the library's lean one.

In a books run (``book="dict"`` or ``"checksum"``) each book's callback keeps it in a dict per
side (:class:`bench.book.NaiveFeed`); with ``"checksum"`` it verifies every ``cs`` frame the
plain way (sort both sides, print every number, CRC the text) and an update counts once its
checksum is verified. The final books are returned; a mismatch fails the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Optional, Protocol
from urllib.parse import urlsplit

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.epollreactor import EPollReactor

from bitfinex.transport.reactor import bind_timers

from bench.book import NaiveFeed
from bench.harness import BOOKS_RUN, SUBSCRIPTIONS_RUN, ClientPlan, Probe, book_sides, raw_frame_callback
from bench.wire import MAX_CHANNELS_PER_CONNECTION, Subscription

TUNED_READ_SIZE = 8192
CLOSE_WAIT_SECONDS = 2.0


class Endpoint(Protocol):
    """What a connection reports to: a :class:`Shard`, or the order client's session."""

    on_text: Callable[[bytes], None]

    def opened(self, protocol: DefaultProtocol) -> None:
        """The handshake is done."""

    def closed(self, reason: str) -> None:
        """The connection closed."""


class DefaultProtocol(WebSocketClientProtocol):
    """autobahn's defaults: every message arrives through ``onMessage``."""

    shard: Endpoint

    def onOpen(self) -> None:
        """Subscribe this connection's channels."""
        self.on_text = self.shard.on_text
        self.shard.opened(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        """Hand the message over."""
        self.on_text(payload)

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        """Tell the shard the connection is gone."""
        self.shard.closed(reason or f"closed ({code})")


class TunedProtocol(DefaultProtocol):
    """``onMessageEnd`` override, 8 KiB reads and no Nagle (UTF-8 validation is off in the
    factory)."""

    def connectionMade(self) -> None:
        """Read at most 8 KiB per ``recv``; send small messages at once (``TCP_NODELAY``)."""
        self.transport.bufferSize = TUNED_READ_SIZE
        self.transport.setTcpNoDelay(True)
        super().connectionMade()

    def onMessageEnd(self) -> None:
        """Hand the message over without autobahn's observer machinery."""
        if not self.failedByMe:
            self.on_text(b"".join(self.message_data))
        self.message_data = None


class Shard:
    """One connection and the subscriptions on it.

    :param subscriptions: at most 25.
    :param callback_for: the callback of each subscription.
    :param decode: the JSON decoder, or ``None`` to count messages only.
    :param count_only: for count-only shards, what to do at which message number.
    """

    def __init__(self, subscriptions: Sequence[Subscription], callback_for: Callable[[Subscription], Callable[[Any], None]],
                 decode: Optional[Callable[[bytes], Any]], count_only: Optional[MessageCounter] = None) -> None:
        self.subscriptions = subscriptions
        self.protocol: Optional[DefaultProtocol] = None
        self.on_closed: Callable[[str], None] = lambda reason: None
        if decode is None:
            assert count_only is not None
            self.on_text: Callable[[bytes], None] = count_only.on_text
            return
        callbacks = {subscription.key: callback_for(subscription) for subscription in subscriptions}
        routes: dict[int, Callable[[Any], None]] = {}

        def on_event(event: dict[str, Any]) -> None:
            if event.get("event") == "subscribed":
                routes[event["chanId"]] = callbacks[event["subId"]]

        def on_text(payload: bytes) -> None:
            message = decode(payload)
            if type(message) is list:
                handler = routes.get(message[0])
                if handler is not None:
                    handler(message)
            else:
                on_event(message)

        self.on_text = on_text

    def opened(self, protocol: DefaultProtocol) -> None:
        """The handshake is done: subscribe."""
        self.protocol = protocol
        for subscription in self.subscriptions:
            protocol.sendMessage(json.dumps(subscription.request()).encode())

    def closed(self, reason: str) -> None:
        """The connection closed."""
        self.protocol = None
        self.on_closed(reason)


class ShardFactory(WebSocketClientFactory):
    """The factory of one connection (a shard's, or the order client's), with autobahn's timers
    on the private reactor."""

    def __init__(self, url: str, reactor: Any, shard: Endpoint, tuned: bool) -> None:
        super().__init__(url, reactor=reactor)
        bind_timers(self, reactor)
        self.shard = shard
        self.protocol = TunedProtocol if tuned else DefaultProtocol
        if tuned:
            self.setProtocolOptions(utf8validateIncoming=False)

    def buildProtocol(self, addr: Any) -> DefaultProtocol:
        """Give the protocol its shard."""
        protocol = super().buildProtocol(addr)
        assert isinstance(protocol, DefaultProtocol)
        protocol.shard = self.shard
        return protocol

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        """TCP connect failed."""
        self.shard.closed(f"could not connect: {reason.value}")


class MessageCounter:
    """Count-only: calls ``at_start`` when message ``start_at`` arrives and ``at_end`` at
    ``end_at`` (numbers from 1)."""

    def __init__(self, start_at: int, end_at: int, at_start: Callable[[], None], at_end: Callable[[], None]) -> None:
        self.count = 0
        self.start_at = start_at
        self.end_at = end_at
        self.at_start = at_start
        self.at_end = at_end

    def on_text(self, _payload: bytes) -> None:
        """One more message."""
        self.count += 1
        if self.count == self.start_at:
            self.at_start()
        elif self.count == self.end_at:
            self.at_end()


class DictBooks:
    """The books of a books run, one :class:`~bench.book.NaiveFeed` per subscription.

    :param verify: verify every ``cs`` frame (an update then counts once verified).
    """

    def __init__(self, probe: Probe, verify: bool) -> None:
        self.probe = probe
        self.verify = verify
        self.feeds: dict[str, NaiveFeed] = {}

    def callback_for(self, subscription: Subscription) -> Callable[[Any], None]:
        """The callback of one book."""
        feed = self.feeds[subscription.symbol] = NaiveFeed()
        update = self.probe.update
        verify = self.verify

        def on_frame(message: Any) -> None:
            if type(message) is not list:
                return
            body = message[1]
            if type(body) is list:
                counted = not verify and not feed.awaiting_snapshot
                feed.feed(message)
                if counted:
                    update()
            elif verify and body == "cs":
                feed.feed(message)
                update()

        return on_frame

    def result(self) -> dict[str, Any]:
        """The final books; raises if a checksum failed."""
        mismatches = sum(feed.mismatches for feed in self.feeds.values())
        if mismatches:
            raise AssertionError(f"{mismatches} checksum mismatches")
        return {
            symbol: book_sides(((price, amount) for price, (_, amount) in sorted(feed.bids.items(), reverse=True)),
                               ((price, -amount) for price, (_, amount) in sorted(feed.asks.items())))
            for symbol, feed in self.feeds.items()
        }


def decoder(name: Optional[str]) -> Optional[Callable[[bytes], Any]]:
    """The decoder a plan names: ``"orjson"``, ``"json"``, or ``None`` (count only)."""
    if name == "orjson":
        import orjson

        return orjson.loads
    if name == "json":
        return json.loads
    return None


def _counters(plan: ClientPlan, probe: Probe, shards: Sequence[Sequence[Subscription]]) -> list[MessageCounter]:
    """Count-only message positions: an ``info``, then a ``subscribed`` and a snapshot per
    subscription, then the stream (on the one shard carrying the stream)."""
    counters = []
    if plan.measure == SUBSCRIPTIONS_RUN:
        remaining = [len(shards)]

        def shard_live() -> None:
            remaining[0] -= 1
            if remaining[0] == 0:
                probe.mark_end()

        for shard in shards:
            counters.append(MessageCounter(0, 1 + 2 * len(shard), lambda: None, shard_live))
    else:
        (shard,) = shards
        prelude = 1 + 2 * len(shard)
        counters.append(MessageCounter(prelude + 1, prelude + plan.frames, probe.mark_start, probe.mark_end))
    return counters


def twisted_reactor() -> Any:
    """A fresh Twisted epoll reactor, not installed as the global one."""
    return EPollReactor()


def run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Connect, subscribe, run the private reactor until the probe is done or time runs out."""
    tuned = bool(plan.options["tuned"])
    decode = decoder(plan.options["decoder"])
    reactor = twisted_reactor()
    per_connection = plan.options.get("per_connection", MAX_CHANNELS_PER_CONNECTION)
    shard_subscriptions = [
        plan.subscriptions[start:start + per_connection] for start in range(0, len(plan.subscriptions), per_connection)
    ]
    counters = _counters(plan, probe, shard_subscriptions) if decode is None else [None] * len(shard_subscriptions)
    books = DictBooks(probe, plan.options["book"] == "checksum") if plan.measure == BOOKS_RUN else None

    def callback_for(subscription: Subscription) -> Callable[[Any], None]:
        return raw_frame_callback(probe, subscription)

    shards = [Shard(subs, books.callback_for if books else callback_for, decode, counter)
              for subs, counter in zip(shard_subscriptions, counters)]
    failures: list[str] = []
    address = urlsplit(plan.url)

    def stop_reactor() -> None:
        if reactor.running:
            reactor.stop()

    def shut_down() -> None:
        open_protocols = [shard.protocol for shard in shards if shard.protocol is not None]
        for protocol in open_protocols:
            protocol.sendClose(1000)
        reactor.callLater(CLOSE_WAIT_SECONDS if open_protocols else 0, stop_reactor)

    def connection_closed(reason: str) -> None:
        if not probe.done.is_set():
            failures.append(f"connection closed before the end: {reason}")
            stop_reactor()
        elif all(shard.protocol is None for shard in shards):
            stop_reactor()

    probe.on_done = lambda: reactor.callLater(0, shut_down)
    for shard in shards:
        shard.on_closed = connection_closed
        reactor.connectTCP(address.hostname, address.port, ShardFactory(plan.url, reactor, shard, tuned), timeout=10)
    reactor.callLater(plan.timeout, stop_reactor)
    reactor.run(installSignalHandlers=False)
    if failures and not probe.done.is_set():
        raise ConnectionError(failures[0])
    result: dict[str, Any] = {"decoder": plan.options["decoder"] or "none (count-only)"}
    if books is not None:
        result["books"] = books.result()
    return result
