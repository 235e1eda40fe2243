"""The feed server: ``python -m bench.feeder --frames N --seed S``.

An autobahn WebSocket server on a private reactor, on 127.0.0.1, in a process of its own. Per
connection it behaves like Bitfinex's public endpoint: an ``info`` event first; ``conf`` answered
(``SEQ_ALL`` honoured: every channel frame then ends with the connection's sequence number);
``subscribe`` answered with a ``subscribed`` echo (``chanId``, ``subId`` and the request's fields)
followed by the channel's snapshot; ``unsubscribe`` and ``ping`` answered. Errors use Bitfinex's
codes (10301 already subscribed, 10302 unknown channel).

Once the three channels of the stream are live on a connection, it sends the stream the
connection's URL asks for (see :mod:`bench.wire`):

- ``mode=throughput``: the whole stream, pre-framed, written in chunks as fast as the socket
  drains (a pull producer), bypassing autobahn's per-message work so the feeder is never the
  bottleneck;
- ``mode=latency&rate=R``: the stream at R frames/s, the send time stamped into every trade just
  before each write (a tick per millisecond);
- ``mode=idle``: nothing but the snapshots.

Unlike Bitfinex, ``cs`` frames go to every connection whatever its ``conf`` flags, so every client
gets the same frames.

On start it prints one JSON line, ``{"port": ..., "stream": {...}}``; it stops when its standard
input closes (so it never outlives the runner).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Optional

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.interfaces import IPullProducer
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from bitfinex.transport.reactor import bind_timers, new_reactor

from bench.stream import (
    SEQ_ALL_FLAG,
    STREAM_CHANNEL_IDS,
    EncodedFrame,
    Stream,
    snapshot_for,
    stamp,
    throughput_chunks,
    with_sequence,
    ws_frame,
)
from bench.wire import (
    IDLE,
    LATENCY,
    STREAM_SUBSCRIPTIONS,
    THROUGHPUT,
    TS_OFFSET,
    FeedPlan,
    Subscription,
    plan_from_query,
)

CHUNK_SIZE = 256 * 1024
"""Bytes per write of a throughput stream."""
TICK_SECONDS = 0.001
"""Interval of the latency pacer."""
FIRST_OTHER_CHAN_ID = 100_000
CHANNELS = ("ticker", "trades", "book", "candles")
STREAM_KEYS = frozenset(subscription.key for subscription in STREAM_SUBSCRIPTIONS)
ERROR_ALREADY_SUBSCRIBED = 10301
ERROR_UNKNOWN_CHANNEL = 10302
ERROR_UNKNOWN_EVENT = 10000


@implementer(IPullProducer)
class ChunkProducer:
    """Writes pre-framed chunks each time the transport's buffer empties."""

    def __init__(self, transport: Any, chunks: Sequence[bytes]) -> None:
        self.transport = transport
        self.chunks = chunks
        self.next = 0

    def start(self) -> None:
        """Register with the transport; Twisted then pulls until the chunks run out."""
        self.transport.registerProducer(self, False)

    def resumeProducing(self) -> None:
        """Write the next chunk, or unregister after the last."""
        if self.next < len(self.chunks):
            self.transport.write(self.chunks[self.next])
            self.next += 1
        else:
            self.transport.unregisterProducer()

    def stopProducing(self) -> None:
        """The connection is gone."""
        self.next = len(self.chunks)


class PacedSender:
    """Sends frames at a fixed rate, stamping each trade with its send time."""

    def __init__(self, reactor: Any, transport: Any, frames: Sequence[EncodedFrame], rate: int,
                 first_sequence: Optional[int]) -> None:
        self.reactor = reactor
        self.transport = transport
        self.frames = frames
        self.rate = rate
        self.first_sequence = first_sequence
        self.sent = 0
        self.started_ns = 0
        self.call: Any = None

    def start(self) -> None:
        """Send the first frame now and the rest on schedule."""
        self.started_ns = time.monotonic_ns()
        self._tick()

    def stop(self) -> None:
        """Stop sending (the connection is gone)."""
        if self.call is not None and self.call.active():
            self.call.cancel()
        self.sent = len(self.frames)

    def _tick(self) -> None:
        now = time.monotonic_ns()
        due = min(len(self.frames), (now - self.started_ns) * self.rate // 1_000_000_000 + 1)
        timestamp = b"%d" % (TS_OFFSET + now)
        wire = []
        for index in range(self.sent, due):
            frame = self.frames[index]
            payload = frame.payload
            if frame.timestamp_offset >= 0:
                payload = stamp(payload, frame.timestamp_offset, timestamp)
            if self.first_sequence is not None:
                payload = with_sequence(payload, self.first_sequence + index)
            wire.append(ws_frame(payload))
        self.sent = max(self.sent, due)
        if wire:
            self.transport.write(b"".join(wire))
        if self.sent < len(self.frames):
            self.call = self.reactor.callLater(TICK_SECONDS, self._tick)


class FeedServerProtocol(WebSocketServerProtocol):
    """One client connection of the feeder."""

    factory: FeedServerFactory

    def connectionMade(self) -> None:
        """Turn Nagle's algorithm off: autobahn 26.10 means to, but reads its ``tcpNoDelay``
        option before copying it from the factory and swallows the AttributeError."""
        self.transport.setTcpNoDelay(True)
        super().connectionMade()

    def onConnect(self, request: Any) -> None:
        """Read the connection's plan from its URL."""
        self.plan: FeedPlan = plan_from_query(request.params)
        self.flags = 0
        self.sequence = 0
        self.channels: dict[str, int] = {}
        self.next_chan_id = FIRST_OTHER_CHAN_ID
        self.sender: Any = None

    def onOpen(self) -> None:
        """Greet like Bitfinex."""
        self._send_event({"event": "info", "version": 2, "serverId": "bench-feeder", "platform": {"status": 1}})

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        """Answer one request."""
        try:
            event = json.loads(payload)
            kind = event["event"]
        except (ValueError, TypeError, KeyError):
            self._send_event({"event": "error", "msg": "Unknown event", "code": ERROR_UNKNOWN_EVENT})
            return
        if kind == "subscribe":
            self._subscribe(event)
        elif kind == "unsubscribe":
            self._unsubscribe(event)
        elif kind == "conf":
            self.flags = int(event.get("flags") or 0)
            self._send_event({"event": "conf", "status": "OK", "flags": self.flags})
        elif kind == "ping":
            self._send_event({"event": "pong", "ts": time.time_ns() // 1_000_000, "cid": event.get("cid")})
        else:
            self._send_event({**event, "event": "error", "msg": "Unknown event", "code": ERROR_UNKNOWN_EVENT})

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop a latency stream still running."""
        if isinstance(self.sender, PacedSender):
            self.sender.stop()
        super().connectionLost(reason)

    # -- requests -------------------------------------------------------------------------

    def _subscribe(self, request: dict[str, Any]) -> None:
        channel = request.get("channel")
        if channel not in CHANNELS:
            self._send_event({**request, "event": "error", "msg": "subscribe: channel unknown",
                              "code": ERROR_UNKNOWN_CHANNEL})
            return
        subscription = _subscription_of(request)
        if subscription.key in self.channels:
            self._send_event({**request, "event": "error", "msg": "subscribe: dup", "code": ERROR_ALREADY_SUBSCRIBED})
            return
        is_stream_channel = subscription.key in STREAM_KEYS and request.get("prec", "P0") == "P0"
        if is_stream_channel:
            chan_id = STREAM_CHANNEL_IDS[subscription.key]
            snapshot = self.factory.stream.snapshots[subscription.key]
        else:
            chan_id = self.next_chan_id
            self.next_chan_id += 1
            snapshot = snapshot_for(subscription, chan_id, self.factory.seed)
        self.channels[subscription.key] = chan_id
        self._send_event(_subscribed_echo(request, chan_id))
        self._send_channel_frame(snapshot)
        if self.plan.mode != IDLE and self.sender is None and self.channels.keys() >= STREAM_KEYS:
            self._start_stream()

    def _unsubscribe(self, request: dict[str, Any]) -> None:
        chan_id = request.get("chanId")
        for key, live_id in self.channels.items():
            if live_id == chan_id:
                del self.channels[key]
                self._send_event({"event": "unsubscribed", "status": "OK", "chanId": chan_id})
                return
        self._send_event({**request, "event": "error", "msg": "unsubscribe: invalid", "code": 10400})

    # -- sending --------------------------------------------------------------------------

    def _send_event(self, event: dict[str, Any]) -> None:
        self.sendMessage(json.dumps(event, separators=(",", ":")).encode())

    def _send_channel_frame(self, payload: bytes) -> None:
        if self.flags & SEQ_ALL_FLAG:
            self.sequence += 1
            payload = with_sequence(payload, self.sequence)
        self.sendMessage(payload)

    def _start_stream(self) -> None:
        assert not self.websocket_extensions_in_use, "pre-framed streams need an uncompressed connection"
        first_sequence = self.sequence + 1 if self.flags & SEQ_ALL_FLAG else None
        if self.plan.mode == THROUGHPUT:
            self.sender = ChunkProducer(self.transport, self.factory.chunks(self.plan.frames, first_sequence))
        else:
            assert self.plan.mode == LATENCY
            frames = self.factory.stream.frames(self.plan.frames)
            self.sender = PacedSender(self.factory.reactor, self.transport, frames, self.plan.rate, first_sequence)
        self.sender.start()


class FeedServerFactory(WebSocketServerFactory):
    """The feeder's factory: holds the stream and the pre-framed throughput chunks.

    :param stream: the run's stream.
    :param seed: seeds the snapshots of channels outside the stream.
    :param reactor: the private reactor to serve on.
    """

    protocol = FeedServerProtocol

    def __init__(self, stream: Stream, seed: int, reactor: Any) -> None:
        super().__init__(reactor=reactor)
        bind_timers(self, reactor)
        self.stream = stream
        self.seed = seed
        self._chunks: dict[tuple[int, Optional[int]], list[bytes]] = {}

    def chunks(self, frames: int, first_sequence: Optional[int]) -> list[bytes]:
        """The first ``frames`` frames of the stream as wire chunks (made once per shape)."""
        key = (frames, first_sequence)
        if key not in self._chunks:
            self._chunks[key] = throughput_chunks(self.stream.frames(frames), first_sequence, CHUNK_SIZE)
        return self._chunks[key]


def _subscription_of(request: dict[str, Any]) -> Subscription:
    channel = request["channel"]
    if channel == "candles":
        return Subscription(channel, str(request.get("key", "")).rsplit(":", 1)[-1])
    return Subscription(channel, str(request.get("symbol", "")))


def _subscribed_echo(request: dict[str, Any], chan_id: int) -> dict[str, Any]:
    """Bitfinex's ``subscribed`` event: the request's fields, ``chanId``, ``len`` as a string,
    and ``pair`` last (cryptofeed logs the last field as ``name=value``)."""
    echo: dict[str, Any] = {"event": "subscribed", "channel": request["channel"], "chanId": chan_id}
    for name, value in request.items():
        if name not in ("event", "channel", "subId"):
            echo[name] = str(value) if name == "len" else value
    if request["channel"] == "book":
        echo.setdefault("prec", "P0")
        echo.setdefault("freq", "F0")
        echo.setdefault("len", "25")
    if "subId" in request:
        echo["subId"] = request["subId"]
    if "symbol" in request:
        echo["pair"] = str(request["symbol"])[1:]
    return echo


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Build the stream, serve it on 127.0.0.1, print the port, run until stdin closes."""
    parser = argparse.ArgumentParser(description="bench feed server")
    parser.add_argument("--frames", type=int, required=True, help="longest stream any run asks for")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    stream = Stream(args.frames, args.seed)
    reactor = new_reactor()
    factory = FeedServerFactory(stream, args.seed, reactor)
    factory.chunks(args.frames, None)  # the common case is ready before the first client
    port = reactor.listenTCP(args.port, factory, interface="127.0.0.1")
    stats = stream.stats
    print(json.dumps({"port": port.getHost().port, "stream": {"frames": stats.frames, "by_kind": stats.by_kind,
                                                               "book_entries": stats.book_entries}}), flush=True)

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        reactor.callFromThread(reactor.stop)

    threading.Thread(target=stop_when_stdin_closes, name="stdin-watch", daemon=True).start()
    reactor.run(installSignalHandlers=False)


if __name__ == "__main__":
    main()
