"""Books on the local exchange: snapshots, updates, aggregation, lengths, and ``cs`` checksums
recomputed here with an independent reference implementation from the raw JSON text.

Slow tier: every precision and length over loopback, checked against a reference (4.5 s).
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from typing import Any

import pytest

from bitfinex.protocol.constants import ConfFlag
from bitfinex.testing import ManualClock

from helpers import STILL_MARKET

pytestmark = [pytest.mark.slow, STILL_MARKET]

F1_CLOCK = ManualClock()
"""The clock of the F1 test's exchange (a marker holds one object for every run of the test)."""


@pytest.fixture(autouse=True)
def rewound_clock() -> ManualClock:
    """:data:`F1_CLOCK`, set back to its start before each test (before its exchange is made)."""
    F1_CLOCK.now = ManualClock().now
    return F1_CLOCK


PRECISIONS = ("P0", "P1", "P2", "P3", "P4", "R0")
LENGTHS = ("1", "25", "100", "250")
SIGNIFICANT = {"P0": 5, "P1": 4, "P2": 3, "P3": 2, "P4": 1}


def parse_text(raw: bytes) -> Any:
    """Decode a frame keeping every number as its exact JSON text."""
    return json.loads(raw, parse_float=str, parse_int=str)


class ReferenceBook:
    """A client-side book kept from raw frames, with Bitfinex's checksum (written from the spec,
    independently of bitfinex.protocol.checksum)."""

    def __init__(self, raw: bool, funding: bool) -> None:
        self.raw = raw
        self.funding = funding
        self.bids: dict[Any, tuple[str, str, str]] = {}
        self.asks: dict[Any, tuple[str, str, str]] = {}

    def _is_bid(self, amount: str) -> bool:
        negative = amount.startswith("-")
        return negative if self.funding else not negative

    def apply(self, entry: list[str]) -> None:
        if self.raw:
            key, price = entry[0], entry[2] if self.funding else entry[1]
            removed = Decimal(price) == 0
        else:
            key = (entry[0], entry[1]) if self.funding else entry[0]
            price = entry[0]
            removed = entry[2 if self.funding else 1] == "0"
        amount = entry[-1]
        side = self.bids if self._is_bid(amount) else self.asks
        if removed:
            assert key in side, f"removal of unknown entry {entry}"
            del side[key]
        else:
            (self.asks if side is self.bids else self.bids).pop(key, None)
            side[key] = (entry[0], price, amount)

    def sorted_side(self, is_bid: bool) -> list[tuple[str, str, str]]:
        side = self.bids if is_bid else self.asks

        def order(item: tuple[Any, tuple[str, str, str]]) -> tuple[Decimal, Decimal]:
            key, (_, price, _) = item
            tie = Decimal(key[1]) if isinstance(key, tuple) else Decimal(key)
            return (-Decimal(price) if is_bid else Decimal(price), tie)

        return [value for _, value in sorted(side.items(), key=order)]

    def checksum(self) -> int:
        bids, asks = self.sorted_side(True)[:25], self.sorted_side(False)[:25]
        parts: list[str] = []
        for level in range(25):
            for side in (bids, asks):
                if level < len(side):
                    identity, price, amount = side[level]
                    parts += [identity if self.raw else price, amount]
        crc = zlib.crc32(":".join(parts).encode())
        return crc - (1 << 32) if crc >= (1 << 31) else crc


def channel_streams(client) -> dict[int, list[Any]]:
    """Every data frame received, numbers as text, grouped by channel id."""
    streams: dict[int, list[Any]] = {}
    for raw in list(client.raw):
        frame = parse_text(raw)
        if isinstance(frame, list):
            streams.setdefault(int(frame[0]), []).append(frame)
    return streams


def replay(frames: list[Any], raw: bool, funding: bool, length: int) -> tuple[ReferenceBook, int]:
    """Rebuild a book from its snapshot and updates, checking every invariant and checksum.

    :returns: the final book and how many checksums were verified.
    """
    book = ReferenceBook(raw, funding)
    snapshot = frames[0][1]
    assert isinstance(snapshot, list)
    for entry in snapshot:
        book.apply(entry)
    verified = 0
    for frame in frames[1:]:
        if frame[1] == "cs":
            assert int(frame[2]) == book.checksum(), f"checksum mismatch on channel {frame[0]}"
            verified += 1
            continue
        book.apply(frame[1])
        assert len(book.bids) <= length and len(book.asks) <= length
        best_bid = book.sorted_side(True)[:1]
        best_ask = book.sorted_side(False)[:1]
        if best_bid and best_ask:
            assert Decimal(best_bid[0][1]) < Decimal(best_ask[0][1]), "book crossed"
    return book, verified


def subscribe_all_books(client, symbol: str) -> dict[tuple[str, str], int]:
    channels = {}
    for precision in PRECISIONS:
        for length in LENGTHS:
            channels[(precision, length)], _ = client.subscribe(channel="book", symbol=symbol, prec=precision, len=length)
    return channels


@pytest.mark.parametrize("symbol", ["tBTCUSD", "tETHBTC", "fUSD"])
@pytest.mark.bitfinex_exchange(seed=3)
def test_every_precision_and_length_checksums_and_stays_uncrossed(bitfinex_exchange, connect, symbol):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    client.send({"event": "conf", "flags": int(ConfFlag.OB_CHECKSUM)})
    client.wait_event("conf")
    channels = subscribe_all_books(client, symbol)
    exchange.tick(60)
    exchange.simulate_order(symbol, "-3" if symbol == "tBTCUSD" else "-30" if symbol == "tETHBTC" else "-200000")
    exchange.tick(60)
    client.send({"event": "ping", "cid": 1})
    client.wait_event("pong")
    streams = channel_streams(client)
    for (precision, length), chan_id in channels.items():
        book, verified = replay(streams[chan_id], precision == "R0", symbol.startswith("f"), int(length))
        assert verified > 1, (precision, length)
        if precision == "P0" and length == "250":
            assert len(book.bids) > 25 and len(book.asks) > 25


def test_snapshot_shape_sides_and_aggregation(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    _, raw_book = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0", len="250")
    for precision, digits in SIGNIFICANT.items():
        _, levels = client.subscribe(channel="book", symbol="tBTCUSD", prec=precision, len="25")
        bids = [e for e in levels if e[2] > 0]
        asks = [e for e in levels if e[2] < 0]
        assert levels == bids + asks, "bids first, then asks"
        assert [e[0] for e in bids] == sorted((e[0] for e in bids), reverse=True)
        assert [e[0] for e in asks] == sorted(e[0] for e in asks)
        assert 0 < len(bids) <= 25 and 0 < len(asks) <= 25
        assert bids[0][0] < asks[0][0]
        for price, count, _ in levels:
            assert len(Decimal(repr(price)).normalize().as_tuple().digits) <= digits
            assert isinstance(count, int) and count > 0
        if precision == "P0":
            best_bid = max(e[1] for e in raw_book if e[2] > 0)
            at_best = [e for e in raw_book if e[1] == best_bid]
            assert bids[0][0] == best_bid
            assert bids[0][1] == len(at_best)
            assert bids[0][2] == pytest.approx(sum(e[2] for e in at_best))
    assert all(len(entry) == 3 and isinstance(entry[0], int) for entry in raw_book)


def test_funding_book_entries(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    _, levels = client.subscribe(channel="book", symbol="fUSD", prec="P0", len="25")
    assert all(len(e) == 4 and isinstance(e[1], int) and e[2] > 0 for e in levels)
    assert any(e[3] < 0 for e in levels) and any(e[3] > 0 for e in levels)
    _, offers = client.subscribe(channel="book", symbol="fUSD", prec="R0", len="25")
    assert all(len(e) == 4 and isinstance(e[0], int) and e[1] in (2, 7, 30, 120) for e in offers)


def test_removals_use_zero_count_or_zero_price(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    aggregated, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="P0", len="25")
    raw, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0", len="25")
    start = client.mark()
    exchange.simulate_order("tBTCUSD", "3")
    exchange.simulate_order("tBTCUSD", "-3")
    client.send({"event": "ping"})
    client.wait_event("pong", start=start)
    aggregated_removals = [f[1] for f in client.channel_frames(aggregated, start) if f[1][1] == 0]
    raw_removals = [f[1] for f in client.channel_frames(raw, start) if f[1][1] == 0]
    assert {e[2] for e in aggregated_removals} == {1, -1}
    assert {e[2] for e in raw_removals} == {1, -1}
    assert all(isinstance(e[0], int) and e[0] > 1_000_000 for e in raw_removals)


@pytest.mark.bitfinex_exchange(clock=F1_CLOCK)
def test_f1_books_publish_at_most_every_two_seconds(bitfinex_exchange, connect, rewound_clock):
    clock, exchange = rewound_clock, bitfinex_exchange
    client = connect(exchange.url)
    client.send({"event": "conf", "flags": int(ConfFlag.OB_CHECKSUM)})
    client.wait_event("conf")
    realtime, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0", freq="F0")
    throttled, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0", freq="F1")
    for _ in range(30):
        clock.advance(250)
        exchange.tick()
    client.send({"event": "ping"})
    client.wait_event("pong")
    realtime_checksums = [f for f in client.channel_frames(realtime) if f[1] == "cs"]
    throttled_checksums = [f for f in client.channel_frames(throttled) if f[1] == "cs"]
    assert len(realtime_checksums) > 8
    assert 2 <= len(throttled_checksums) <= 1 + 30 * 250 // 2000
    replay(channel_streams(client)[throttled], raw=True, funding=False, length=25)
