"""What the feeder and the clients agree on: subscriptions, markers, timestamps, feed URLs.

Standard library only: client processes of the peers import this under their own interpreter.

The stream every client measures runs on three channels of :data:`STREAM_SYMBOL` (ticker, trades,
book P0/F0/25). Its first frame is a ``te`` trade with id :data:`START_TRADE_ID` and its last a
``te`` trade with id :data:`END_TRADE_ID`; a client takes its clock when each reaches a callback.
In a latency run the feeder writes the send time into the ``MTS`` field of every ``te``/``tu``
trade as :data:`TS_OFFSET` + ``time.monotonic_ns()`` (``CLOCK_MONOTONIC`` is system-wide on
Linux, so both processes read the same clock), a fixed-width 19-digit integer so the feeder can
patch it into pre-encoded frames.

The feeder takes the plan of each connection from the query of the URL the client connects to
(:func:`feed_url`), so a client needs nothing but a URL, as it would for Bitfinex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

STREAM_SYMBOL = "tBTCUSD"
"""The symbol of the measured stream."""

START_TRADE_ID = 1
"""Trade id of the stream's first frame (a ``te`` trade); real trade ids are far larger."""

END_TRADE_ID = 2
"""Trade id of the stream's last frame (a ``te`` trade)."""

TS_OFFSET = 10**18
"""Added to ``monotonic_ns()`` so every timestamp has :data:`TS_WIDTH` digits."""

TS_WIDTH = 19
"""Digits of an embedded timestamp."""

ORDER = ("EXCHANGE LIMIT", "tBTCUSD", "0.0002", "20000")
"""Every order of an order run: type, symbol, amount and price (a small buy far below the local
exchange's market, tBTCUSD near 30 000, so it rests)."""

MAX_CHANNELS_PER_CONNECTION = 25
"""Bitfinex's cap on channels per connection (clients that shard by hand use it)."""

THROUGHPUT = "throughput"
"""Feed mode: blast the stream as fast as the socket takes it."""
LATENCY = "latency"
"""Feed mode: send the stream at a fixed rate, timestamps in the trades."""
IDLE = "idle"
"""Feed mode: answer subscriptions (with their snapshots), stream nothing."""
BOOKS = "books"
"""Feed mode: once every book of :func:`book_subscriptions` is live, blast the book stream
(updates of many books, a ``cs`` frame after each)."""
MANY_CHANNELS = "channels"
"""Feed mode: once the plan's number of channels is live (over however many connections share
the plan's ``run``), blast updates on all of them, round-robin."""
FEED_MODES = (THROUGHPUT, LATENCY, IDLE, BOOKS, MANY_CHANNELS)

BOOK_CHANNEL_BASE = 20_000
"""chanId of the first book of the book stream (the others follow)."""


@dataclass(frozen=True)
class Subscription:
    """One public subscription, as every client under test asks for it.

    :param channel: ``"ticker"``, ``"trades"``, ``"book"`` or ``"candles"``.
    :param symbol: the trading symbol, e.g. ``"tBTCUSD"``.
    """

    channel: str
    symbol: str

    BOOK_PRECISION = "P0"
    BOOK_FREQUENCY = "F0"
    BOOK_LENGTH = 25
    CANDLE_TIMEFRAME = "1m"

    @property
    def key(self) -> str:
        """A name unique per subscription (used as ``subId`` and in results)."""
        return f"{self.channel}:{self.symbol}"

    @property
    def candle_key(self) -> str:
        """The ``key`` field of a candles subscription."""
        return f"trade:{self.CANDLE_TIMEFRAME}:{self.symbol}"

    def request(self) -> dict[str, Any]:
        """The ``subscribe`` message, with ``subId`` set to :attr:`key`."""
        message: dict[str, Any] = {"event": "subscribe", "channel": self.channel}
        if self.channel == "candles":
            message["key"] = self.candle_key
        else:
            message["symbol"] = self.symbol
        if self.channel == "book":
            message.update(prec=self.BOOK_PRECISION, freq=self.BOOK_FREQUENCY, len=str(self.BOOK_LENGTH))
        message["subId"] = self.key
        return message


STREAM_SUBSCRIPTIONS = (
    Subscription("ticker", STREAM_SYMBOL),
    Subscription("trades", STREAM_SYMBOL),
    Subscription("book", STREAM_SYMBOL),
)
"""The three channels of the measured stream; the feeder starts it once all three are live on a
connection."""


def book_subscriptions(count: int) -> list[Subscription]:
    """The books of the book stream: ``count`` P0/F0/25 books on synthetic symbols."""
    return many_subscriptions(count, ("book",))


def many_subscriptions(count: int, channels: tuple[str, ...]) -> list[Subscription]:
    """``count`` distinct subscriptions cycling through ``channels`` on synthetic symbols
    (``tAAAUSD``, ``tAABUSD``, ...), none of them the stream's symbol."""
    subscriptions: list[Subscription] = []
    index = 0
    while len(subscriptions) < count:
        letters = "".join(chr(ord("A") + (index // 26**power) % 26) for power in (2, 1, 0))
        for channel in channels:
            if len(subscriptions) < count:
                subscriptions.append(Subscription(channel, f"t{letters}USD"))
        index += 1
    return subscriptions


@dataclass(frozen=True)
class FeedPlan:
    """What the feeder does on one connection.

    :param mode: one of :data:`FEED_MODES`.
    :param frames: frames in the stream, markers included (throughput and latency modes);
        update frames in channels mode (the book stream is the feeder's, whatever this says).
    :param rate: frames per second (latency mode).
    :param channels: channels mode: how many channels must be live before the stream starts.
    :param run: channels mode: the connections of one client share it (a fresh one per run).
    """

    mode: str
    frames: int = 0
    rate: int = 0
    channels: int = 0
    run: str = ""

    def __post_init__(self) -> None:
        if self.mode not in FEED_MODES:
            raise ValueError(f"unknown feed mode {self.mode!r}; expected one of {FEED_MODES}")
        if self.mode in (THROUGHPUT, LATENCY) and self.frames < 2:
            raise ValueError("a stream needs at least its two marker frames")
        if self.mode == LATENCY and self.rate <= 0:
            raise ValueError("a latency stream needs a positive rate")
        if self.mode == MANY_CHANNELS and (self.channels < 1 or self.frames < 1 or not self.run):
            raise ValueError("a channels stream needs channels, frames and a run token")


def feed_url(port: int, plan: FeedPlan, host: str = "127.0.0.1") -> str:
    """The URL a client connects to for ``plan``."""
    query = {"mode": plan.mode, "frames": plan.frames, "rate": plan.rate, "channels": plan.channels,
             "run": plan.run}
    return f"ws://{host}:{port}/ws/2?{urlencode(query)}"


def plan_from_query(params: dict[str, list[str]]) -> FeedPlan:
    """Read the plan back from a parsed query (autobahn's ``request.params``)."""

    def first(name: str, default: str) -> str:
        return (params.get(name) or [default])[0]

    return FeedPlan(first("mode", IDLE), int(first("frames", "0")), int(first("rate", "0")),
                    int(first("channels", "0")), first("run", ""))

