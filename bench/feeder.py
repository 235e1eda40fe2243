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
- ``mode=idle``: nothing but the snapshots;
- ``mode=books`` (the feeder started with ``--books``): once every book of the book stream
  (:mod:`bench.bookstream`) is live on the connection, the whole book stream, as fast as the
  socket drains;
- ``mode=channels&channels=C&run=R``: once C channels are live over all the connections whose
  URL names run R, update frames on every one of them, round-robin, each connection as fast as
  its socket drains (the many-channels run).

Unlike Bitfinex, ``cs`` frames go to every connection whatever its ``conf`` flags, so every client
gets the same frames.

On start it prints one JSON line, ``{"port": ..., "stream": {...}}`` (with ``"books"``: the book
stream's final books and marker, when it has one); it stops when its standard input closes (so
it never outlives the runner).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any, Optional

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.interfaces import IPullProducer
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from bitfinex.transport.reactor import bind_timers, new_reactor

from bench.bookstream import BookStream
from bench.serving import run_until_stdin_closes
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
    BOOKS,
    IDLE,
    LATENCY,
    MANY_CHANNELS,
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
CHANNEL_UPDATES = {
    "ticker": b"[%d,[7254.6,12.5,7254.7,9.1,-41.2,-0.0056,7254.7,4211.3,7400.1,7100.2]]",
    "trades": b'[%d,"te",[1600000001,1700000000000,0.0125,7254.7]]',
    "book": b"[%d,[7254.6,3,1.25]]",
    "candles": b"[%d,[1700000000000,7254.6,7254.7,7255.1,7254.1,12.5]]",
}
"""The update frame of each channel kind in channels mode (by chanId)."""


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
        chan_id, snapshot = self._channel_for(subscription, request.get("prec", "P0") == "P0")
        self.channels[subscription.key] = chan_id
        self._send_event(_subscribed_echo(request, chan_id))
        self._send_channel_frame(snapshot)
        if self.sender is not None:
            return
        mode = self.plan.mode
        if mode == MANY_CHANNELS:
            self.factory.channel_live(self, chan_id, subscription.channel)
        elif mode == BOOKS:
            book_stream = self.factory.book_stream
            if book_stream is not None and self.channels.keys() >= book_stream.chan_ids.keys():
                self.start_chunks(self.factory.book_chunks(self._first_sequence()))
        elif mode != IDLE and self.channels.keys() >= STREAM_KEYS:
            self._start_stream()

    def _channel_for(self, subscription: Subscription, is_p0: bool) -> tuple[int, bytes]:
        """The chanId and snapshot of a new subscription: fixed ones for the channels of the
        streams, fresh ones otherwise."""
        book_stream = self.factory.book_stream if self.plan.mode == BOOKS else None
        if is_p0 and book_stream is not None and subscription.key in book_stream.chan_ids:
            return book_stream.chan_ids[subscription.key], book_stream.snapshots[subscription.key]
        if is_p0 and subscription.key in STREAM_KEYS:
            return STREAM_CHANNEL_IDS[subscription.key], self.factory.stream.snapshots[subscription.key]
        chan_id = self.next_chan_id
        self.next_chan_id += 1
        return chan_id, snapshot_for(subscription, chan_id, self.factory.seed)

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

    def _first_sequence(self) -> Optional[int]:
        return self.sequence + 1 if self.flags & SEQ_ALL_FLAG else None

    def start_chunks(self, chunks: Sequence[bytes]) -> None:
        """Send pre-framed chunks as fast as the socket drains."""
        assert not self.websocket_extensions_in_use, "pre-framed streams need an uncompressed connection"
        self.sender = ChunkProducer(self.transport, chunks)
        self.sender.start()

    def start_channel_updates(self, cycle: Sequence[tuple[int, str]], repeats: int,
                              tail: Sequence[tuple[int, str]]) -> None:
        """Channels mode: send one update frame per ``(chanId, channel)`` of ``cycle``, the whole
        cycle ``repeats`` times, then one per pair of ``tail``. Without ``SEQ_ALL`` every cycle is
        the same bytes, so a chunk is one cycle's bytes repeated and the chunks are one object
        (a long run costs the feeder no memory)."""
        first_sequence = self._first_sequence()
        if first_sequence is not None:
            pairs = [*cycle] * repeats + [*tail]
            frames = [EncodedFrame(CHANNEL_UPDATES[channel] % chan_id) for chan_id, channel in pairs]
            self.start_chunks(throughput_chunks(frames, first_sequence, CHUNK_SIZE))
            return
        cycle_bytes = b"".join(ws_frame(CHANNEL_UPDATES[channel] % chan_id) for chan_id, channel in cycle)
        per_chunk = max(1, CHUNK_SIZE // len(cycle_bytes))
        ending = cycle_bytes * (repeats % per_chunk)
        ending += b"".join(ws_frame(CHANNEL_UPDATES[channel] % chan_id) for chan_id, channel in tail)
        chunks = [cycle_bytes * per_chunk] * (repeats // per_chunk) + ([ending] if ending else [])
        self.start_chunks(chunks)

    def _start_stream(self) -> None:
        first_sequence = self._first_sequence()
        if self.plan.mode == THROUGHPUT:
            self.start_chunks(self.factory.chunks(self.plan.frames, first_sequence))
            return
        assert self.plan.mode == LATENCY
        frames = self.factory.stream.frames(self.plan.frames)
        self.sender = PacedSender(self.factory.reactor, self.transport, frames, self.plan.rate, first_sequence)
        self.sender.start()


class FeedServerFactory(WebSocketServerFactory):
    """The feeder's factory: holds the stream and the pre-framed throughput chunks.

    :param stream: the run's stream.
    :param seed: seeds the snapshots of channels outside the stream.
    :param reactor: the private reactor to serve on.
    :param book_stream: the book workload's stream, if this feeder serves one.
    """

    protocol = FeedServerProtocol

    def __init__(self, stream: Stream, seed: int, reactor: Any, book_stream: Optional[BookStream] = None) -> None:
        super().__init__(reactor=reactor)
        bind_timers(self, reactor)
        self.stream = stream
        self.seed = seed
        self.book_stream = book_stream
        self._chunks: dict[tuple[int, Optional[int]], list[bytes]] = {}
        self._book_chunks: dict[Optional[int], list[bytes]] = {}
        self._channel_runs: dict[str, list[tuple[FeedServerProtocol, int, str]]] = {}

    def book_chunks(self, first_sequence: Optional[int]) -> list[bytes]:
        """The book stream as wire chunks (made once per first sequence number)."""
        assert self.book_stream is not None
        if first_sequence not in self._book_chunks:
            self._book_chunks[first_sequence] = throughput_chunks(self.book_stream.frames, first_sequence, CHUNK_SIZE)
        return self._book_chunks[first_sequence]

    def channel_live(self, protocol: FeedServerProtocol, chan_id: int, channel: str) -> None:
        """Channels mode: one more channel of ``protocol``'s run is live; once the run's count
        is reached, its frames are dealt round-robin over every live channel and sent."""
        plan = protocol.plan
        live = self._channel_runs.setdefault(plan.run, [])
        live.append((protocol, chan_id, channel))
        if len(live) < plan.channels:
            return
        del self._channel_runs[plan.run]
        repeats, rest = divmod(plan.frames, len(live))
        owned: dict[FeedServerProtocol, list[tuple[int, int, str]]] = {}
        for index, (owner, owner_chan_id, owner_channel) in enumerate(live):
            owned.setdefault(owner, []).append((index, owner_chan_id, owner_channel))
        for owner, channels in owned.items():
            owner.start_channel_updates([(chan, kind) for _, chan, kind in channels], repeats,
                                        [(chan, kind) for index, chan, kind in channels if index < rest])

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
    parser.add_argument("--books", type=int, default=0, help="books of the book stream (0: no book stream)")
    parser.add_argument("--book-updates", type=int, default=0, help="update entries of the book stream")
    args = parser.parse_args(argv)

    stream = Stream(args.frames, args.seed)
    book_stream = BookStream(args.books, args.book_updates, args.seed) if args.books else None
    reactor = new_reactor()
    factory = FeedServerFactory(stream, args.seed, reactor, book_stream)
    factory.chunks(args.frames, None)  # the common case is ready before the first client
    port = reactor.listenTCP(args.port, factory, interface="127.0.0.1")
    stats = stream.stats
    described: dict[str, Any] = {"frames": stats.frames, "by_kind": stats.by_kind, "book_entries": stats.book_entries}
    if book_stream is not None:
        factory.book_chunks(None)
        described["books"] = {"books": book_stream.books, "updates": book_stream.updates,
                              "final_books": book_stream.final_books, "marker": book_stream.marker}
    print(json.dumps({"port": port.getHost().port, "stream": described}), flush=True)
    run_until_stdin_closes(reactor)


if __name__ == "__main__":
    main()
