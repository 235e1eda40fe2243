"""The frames the feeder sends: generated once from a seed, encoded once, sent many times.

The stream interleaves the three channels of :data:`bench.wire.STREAM_SUBSCRIPTIONS` the way a
busy Bitfinex market does: book updates (from :class:`bench.book.ExchangeModel`, so every ``cs``
frame carries the true checksum of the book so far), a ``cs`` frame after every few book
events, ``te`` trades each followed a little later by their ``tu``, tickers, and a rare
heartbeat. Numbers are printed as Bitfinex (JavaScript) prints them.

Frames are kept as JSON payloads (``bytes``) plus, for trades, the offset of the 19-digit
``MTS`` placeholder, so a latency run can stamp the send time into a copy without re-encoding;
:func:`ws_frame` adds the WebSocket header (server frames are unmasked, so the bytes on the wire
are fixed and can be written to the socket directly).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from bitfinex.protocol.codec import dumps_js

from bench.book import CHANNEL as BOOK_CHANNEL_ID
from bench.book import ExchangeModel
from bench.wire import END_TRADE_ID, START_TRADE_ID, STREAM_SYMBOL, TS_OFFSET, TS_WIDTH, Subscription

TICKER_CHANNEL_ID = 17080
TRADES_CHANNEL_ID = 17081
STREAM_CHANNEL_IDS = {
    Subscription("ticker", STREAM_SYMBOL).key: TICKER_CHANNEL_ID,
    Subscription("trades", STREAM_SYMBOL).key: TRADES_CHANNEL_ID,
    Subscription("book", STREAM_SYMBOL).key: BOOK_CHANNEL_ID,
}
"""chanId of each stream channel: fixed, so one encoding of the stream serves every connection."""

TS_PLACEHOLDER = str(TS_OFFSET).encode()
"""The ``MTS`` of every trade in the encoded stream (a send time of 0) until a latency run
stamps it."""
assert len(TS_PLACEHOLDER) == TS_WIDTH

BOOK_EVENTS_PER_CHECKSUM = 4
HEARTBEAT_EVERY = 1000
"""One ticker-channel heartbeat per this many frames."""
TRADES_IN_SNAPSHOT = 30
CANDLES_IN_SNAPSHOT = 120
SEQ_ALL_FLAG = 65536

_OPCODE_TEXT_FINAL = 0x81


def ws_frame(payload: bytes) -> bytes:
    """One unmasked, final WebSocket text frame carrying ``payload``."""
    size = len(payload)
    if size < 126:
        return bytes((_OPCODE_TEXT_FINAL, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", _OPCODE_TEXT_FINAL, 126, size) + payload
    return struct.pack("!BBQ", _OPCODE_TEXT_FINAL, 127, size) + payload


def with_sequence(payload: bytes, sequence: int) -> bytes:
    """Append a ``SEQ_ALL`` sequence number to an encoded channel frame."""
    return b"%s,%d]" % (payload[:-1], sequence)


def stamp(payload: bytes, offset: int, timestamp: bytes) -> bytes:
    """A copy of ``payload`` with the 19-digit field at ``offset`` replaced by ``timestamp``."""
    return payload[:offset] + timestamp + payload[offset + TS_WIDTH:]


@dataclass
class EncodedFrame:
    """One frame of the stream: its JSON text and where its ``MTS`` placeholder is (or -1)."""

    payload: bytes
    timestamp_offset: int = -1


@dataclass
class StreamStats:
    """What the stream is made of (frames by kind), for the report."""

    frames: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    book_entries: int = 0

    def count(self, kind: str) -> None:
        """Count one frame of ``kind``."""
        self.frames += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


class Stream:
    """The stream of one run: snapshots of the three stream channels and the frames after them.

    :param frames: the longest stream any plan of the run asks for (markers included).
    :param seed: makes the stream reproducible.
    """

    def __init__(self, frames: int, seed: int) -> None:
        if frames < 2:
            raise ValueError("a stream has at least its two marker frames")
        self.random = random.Random(seed)
        self.model = ExchangeModel(Subscription.BOOK_LENGTH, seed)
        self.stats = StreamStats()
        self._trade_id = 1_600_000_000
        self._price = ExchangeModel.price(72547)
        self.snapshots: dict[str, bytes] = {
            Subscription("ticker", STREAM_SYMBOL).key: dumps_js([TICKER_CHANNEL_ID, self._ticker()]),
            Subscription("trades", STREAM_SYMBOL).key: dumps_js([TRADES_CHANNEL_ID, self._trade_snapshot()]),
            Subscription("book", STREAM_SYMBOL).key: dumps_js([BOOK_CHANNEL_ID, self.model.snapshot()]),
        }
        self.body = [self._trade_frame("te", [START_TRADE_ID, 0, 0.01, self._price])]
        self.body.extend(self._generate(frames - 2))
        self.end = self._trade_frame("te", [END_TRADE_ID, 0, 0.01, self._price])

    def frames(self, count: int) -> list[EncodedFrame]:
        """The first ``count - 1`` frames of the stream and the end marker."""
        if not 2 <= count <= len(self.body) + 1:
            raise ValueError(f"this stream holds 2 to {len(self.body) + 1} frames, not {count}")
        return [*self.body[: count - 1], self.end]

    # -- generation -----------------------------------------------------------------------

    def _generate(self, count: int) -> Iterator[EncodedFrame]:
        produced = 0
        next_heartbeat = HEARTBEAT_EVERY
        book_events = 0
        pending_updates: list[tuple[int, list[Any]]] = []
        rng = self.random
        while produced < count:
            if produced >= next_heartbeat:
                next_heartbeat += HEARTBEAT_EVERY
                frames = [self._encoded([TICKER_CHANNEL_ID, "hb"], "hb")]
            elif pending_updates and pending_updates[0][0] <= produced:
                frames = [self._trade_frame("tu", pending_updates.pop(0)[1])]
            else:
                roll = rng.random()
                if roll < 0.55:
                    event = self.model.event()
                    self.stats.book_entries += len(event)
                    frames = [self._encoded([BOOK_CHANNEL_ID, entry], "book") for entry in event]
                    book_events += 1
                    if book_events % BOOK_EVENTS_PER_CHECKSUM == 0:
                        frames.append(self._encoded([BOOK_CHANNEL_ID, "cs", self.model.checksum()], "cs"))
                elif roll < 0.80:
                    trade = self._next_trade()
                    pending_updates.append((produced + rng.randint(3, 40), trade))
                    pending_updates.sort(key=lambda item: item[0])
                    frames = [self._trade_frame("te", trade)]
                else:
                    frames = [self._encoded([TICKER_CHANNEL_ID, self._ticker()], "ticker")]
            for frame in frames[: count - produced]:
                produced += 1
                yield frame

    def _next_trade(self) -> list[Any]:
        self._trade_id += self.random.randint(1, 5)
        amount = round(self.random.uniform(0.0001, 2.5), 8) * self.random.choice((1, -1))
        return [self._trade_id, 0, amount, self._mid_price()]

    def _mid_price(self) -> float:
        best_bid = max(self.model.bids)
        return ExchangeModel.price(best_bid + self.random.choice((0, 1)))

    def _trade_snapshot(self) -> list[list[Any]]:
        trades = []
        for _ in range(TRADES_IN_SNAPSHOT):
            trade = self._next_trade()
            trade[1] = 1_700_000_000_000 + trade[0] % 1_000_000
            trades.append(trade)
        return trades[::-1]

    def _ticker(self) -> list[float]:
        rng = self.random
        bid = ExchangeModel.price(max(self.model.bids))
        ask = ExchangeModel.price(min(self.model.asks))
        return [
            bid, round(rng.uniform(1, 90), 8), ask, round(rng.uniform(1, 90), 8),
            round(rng.uniform(-1500, 1500), 1), round(rng.uniform(-0.03, 0.03), 4),
            self._price, round(rng.uniform(1000, 9000), 8), round(ask * 1.03, 1), round(bid * 0.97, 1),
        ]

    def _trade_frame(self, kind: str, trade: list[Any]) -> EncodedFrame:
        """A ``te``/``tu`` frame whose ``MTS`` is the timestamp placeholder."""
        trade = [trade[0], TS_OFFSET, *trade[2:]]
        self.stats.count(kind)
        payload = dumps_js([TRADES_CHANNEL_ID, kind, trade])
        return EncodedFrame(payload, payload.index(TS_PLACEHOLDER))

    def _encoded(self, frame: list[Any], kind: str) -> EncodedFrame:
        self.stats.count(kind)
        return EncodedFrame(dumps_js(frame))


def snapshot_for(subscription: Subscription, chan_id: int, seed: int) -> bytes:
    """A plausible snapshot for a subscription outside the stream (the many-subscriptions run)."""
    rng = random.Random(f"{seed}:{subscription.key}")
    base = rng.uniform(0.5, 5000)
    if subscription.channel == "ticker":
        data: Any = [round(base * factor, 5) for factor in (0.999, 1, 1.001, 1, 0.01, 0.001, 1, 500, 1.03, 0.97)]
    elif subscription.channel == "trades":
        data = [
            [900_000_000 + index, 1_700_000_000_000 + index * 1000, round(rng.uniform(-3, 3), 8), round(base, 5)]
            for index in range(TRADES_IN_SNAPSHOT)
        ]
    elif subscription.channel == "book":
        half = Subscription.BOOK_LENGTH
        data = [[round(base - index * 0.01, 5), rng.randint(1, 9), round(rng.uniform(0.01, 9), 8)]
                for index in range(half)]
        data += [[round(base + (index + 1) * 0.01, 5), rng.randint(1, 9), -round(rng.uniform(0.01, 9), 8)]
                 for index in range(half)]
    else:
        data = [
            [1_700_000_000_000 - index * 60_000, base, base * 1.001, base * 1.002, base * 0.999, rng.uniform(0, 50)]
            for index in range(CANDLES_IN_SNAPSHOT)
        ]
    return dumps_js([chan_id, data])


def throughput_chunks(frames: Sequence[EncodedFrame], first_sequence: Optional[int], chunk_size: int) -> list[bytes]:
    """The stream as wire bytes, cut at frame boundaries into chunks of about ``chunk_size``.

    :param first_sequence: the ``SEQ_ALL`` number of the first frame, or ``None`` without.
    """
    chunks: list[bytes] = []
    pending: list[bytes] = []
    size = 0
    for index, frame in enumerate(frames):
        payload = frame.payload if first_sequence is None else with_sequence(frame.payload, first_sequence + index)
        wire = ws_frame(payload)
        pending.append(wire)
        size += len(wire)
        if size >= chunk_size:
            chunks.append(b"".join(pending))
            pending, size = [], 0
    if pending:
        chunks.append(b"".join(pending))
    return chunks
