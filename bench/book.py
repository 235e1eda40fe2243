"""Benchmark the maintained order book against a naive baseline, on the same frames.

Run ``python bench/book.py`` (a few minutes) or ``python bench/book.py --quick`` (a few
thousand updates, for CI smoke). For each scenario it prints, for the real book
(:class:`bitfinex.protocol.bookfeed.BookFeed`) and for a naive book (a dict per side, ``sorted()``
and fresh number text on every checksum), measured in the same run:

- updates/s and µs per update: every frame of the stream fed in order, ``cs`` frames verified,
  the checksum cost spread over the updates;
- checksums/s: ``cs`` frames verified per second of time spent in them;
- peak memory: the largest traced allocation while building the book and feeding the stream.

Figures are medians of several runs. The streams are made by a seeded model of the exchange
that keeps ``len`` levels per side: most changes land in the top 25 levels, as in the recorded
session in ``tests/data`` (inserts and removals come in pairs, so the side stays full:
a level entering above the end pushes the last one out; a level removed is replaced by one
entering at the end). Each "event" (one or two entries) is one frame, or one frame with
``BULK_UPDATES``, and a ``cs`` frame follows every ``events_per_checksum`` events.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bitfinex.protocol.book import OrderBook
from bitfinex.protocol.bookfeed import BookFeed, FeedKind
from bitfinex.protocol.jsnum import js_number_text

CHANNEL = 17082
Frame = list[Any]


@dataclass(frozen=True)
class Scenario:
    """One benchmark case."""

    name: str
    length: int
    events_per_checksum: int
    bulk: bool


SCENARIOS = (
    Scenario("len 25, cs after every event", 25, 1, False),
    Scenario("len 25, cs every 3 events", 25, 3, False),
    Scenario("len 100, cs after every event", 100, 1, False),
    Scenario("len 100, bulk frames of 5 events + cs", 100, 5, True),
)


def naive_checksum(bids: dict[Any, Any], asks: dict[Any, Any]) -> int:
    """Checksum the simple way: sort both sides, print every number, CRC the text."""
    top_bids = sorted(bids.items(), key=lambda item: -item[0])[:25]
    top_asks = sorted(asks.items(), key=lambda item: item[0])[:25]
    parts: list[str] = []
    for index in range(max(len(top_bids), len(top_asks))):
        if index < len(top_bids):
            parts.append(js_number_text(top_bids[index][0]))
            parts.append(js_number_text(top_bids[index][1][1]))
        if index < len(top_asks):
            parts.append(js_number_text(top_asks[index][0]))
            parts.append(js_number_text(top_asks[index][1][1]))
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= (1 << 31) else crc


class NaiveFeed:
    """The baseline: price -> (count, amount) dicts, sorted on every checksum."""

    def __init__(self) -> None:
        """Start empty, waiting for the snapshot."""
        self.bids: dict[Any, Any] = {}
        self.asks: dict[Any, Any] = {}
        self.awaiting_snapshot = True
        self.mismatches = 0

    def _apply(self, entry: Sequence[Any]) -> None:
        price, count, amount = entry[0], entry[1], entry[2]
        side = self.bids if amount > 0 else self.asks
        if count > 0:
            side[price] = (count, amount)
        else:
            side.pop(price, None)

    def feed(self, msg: Frame) -> None:
        """Apply one frame: snapshot, update (single or bulk) or ``cs``."""
        payload = msg[1]
        if type(payload) is list:
            if self.awaiting_snapshot:
                self.awaiting_snapshot = False
                for entry in payload:
                    self._apply(entry)
            elif payload and type(payload[0]) is list:
                for entry in payload:
                    self._apply(entry)
            else:
                self._apply(payload)
        elif payload == "cs" and naive_checksum(self.bids, self.asks) != msg[2]:
            self.mismatches += 1


class ExchangeModel:
    """A seeded exchange-side book that emits realistic update entries."""

    def __init__(self, length: int, seed: int) -> None:
        """A full book of ``length`` levels per side around 7254.7/7254.8, from ``seed``."""
        self.random = random.Random(seed)
        self.length = length
        self.bids: dict[int, tuple[int, float]] = {}
        self.asks: dict[int, tuple[int, float]] = {}
        tick = 72547
        for _ in range(length):
            tick -= self.random.choice((1, 1, 1, 2, 3))
            self.bids[tick] = self._level()
        tick = 72548
        for _ in range(length):
            self.asks[tick] = self._level()
            tick += self.random.choice((1, 1, 1, 2, 3))

    def _level(self) -> tuple[int, float]:
        return self.random.randint(1, 12), round(self.random.uniform(0.001, 40.0), 8)

    @staticmethod
    def price(tick: int) -> float:
        """A price such as 7254.7 (ticks of 0.1)."""
        return tick / 10

    def entry(self, tick: int, is_bid: bool) -> list[Any]:
        """The wire entry for a level, or its removal when it is gone."""
        side = self.bids if is_bid else self.asks
        level = side.get(tick)
        if level is None:
            return [self.price(tick), 0, 1 if is_bid else -1]
        count, amount = level
        return [self.price(tick), count, amount if is_bid else -amount]

    def snapshot(self) -> list[list[Any]]:
        """Bids best first, then asks best first."""
        bids = [self.entry(tick, True) for tick in sorted(self.bids, reverse=True)]
        return bids + [self.entry(tick, False) for tick in sorted(self.asks)]

    def checksum(self) -> int:
        """The exchange's checksum of its book (computed independently of the library)."""
        bids = {self.price(t): (c, a) for t, (c, a) in self.bids.items()}
        asks = {self.price(t): (c, -a) for t, (c, a) in self.asks.items()}
        return naive_checksum(bids, asks)

    def set_best_bid(self, count: int, amount: float) -> list[Any]:
        """Give the best bid ``count`` and ``amount``; return the wire entry."""
        tick = max(self.bids)
        self.bids[tick] = (count, amount)
        return self.entry(tick, True)

    def _top_index(self) -> int:
        """A level index skewed to the top of the book: 9 in 10 in the top 25."""
        if self.random.random() < 0.9:
            return min(int(self.random.expovariate(1 / 5)), min(24, self.length - 1))
        return self.random.randrange(self.length)

    def event(self) -> list[list[Any]]:
        """One change of the book: a modified level, or an insert/removal pair."""
        is_bid = self.random.random() < 0.5
        side = self.bids if is_bid else self.asks
        ordered = sorted(side, reverse=is_bid)
        roll = self.random.random()
        if roll < 0.2:
            tick = ordered[self._top_index()]
            side[tick] = self._level()
            return [self.entry(tick, is_bid)]
        if roll < 0.6:
            tick = ordered[self._top_index()]
            del side[tick]
            worst = ordered[-1]
            entering = worst - self.random.randint(1, 3) if is_bid else worst + self.random.randint(1, 3)
            side[entering] = self._level()
            return [self.entry(tick, is_bid), self.entry(entering, is_bid)]
        index = self._top_index()
        anchor = ordered[index]
        other_best = max(self.bids) if not is_bid else min(self.asks)
        tick = anchor + 1 if is_bid else anchor - 1
        if tick in side or (is_bid and tick >= other_best) or (not is_bid and tick <= other_best):
            tick = anchor
            side[tick] = self._level()
            return [self.entry(tick, is_bid)]
        side[tick] = self._level()
        leaving = ordered[-1]
        del side[leaving]
        return [self.entry(tick, is_bid), self.entry(leaving, is_bid)]


def make_stream(scenario: Scenario, updates: int, seed: int) -> tuple[list[Frame], int, int]:
    """Frames of one scenario: the snapshot, then events and ``cs`` frames.

    :returns: the frames, the number of update entries, the number of ``cs`` frames.
    """
    model = ExchangeModel(scenario.length, seed)
    frames: list[Frame] = [[CHANNEL, model.snapshot()]]
    entries = 0
    checksums = 0
    pending: list[list[Any]] = []
    events = 0
    while entries < updates:
        event = model.event()
        entries += len(event)
        events += 1
        if scenario.bulk:
            pending.extend(event)
        else:
            frames.extend([CHANNEL, entry] for entry in event)
        if events % scenario.events_per_checksum == 0:
            if pending:
                frames.append([CHANNEL, pending])
                pending = []
            frames.append([CHANNEL, "cs", model.checksum()])
            checksums += 1
    if pending:
        frames.append([CHANNEL, pending])
    return frames, entries, checksums


def run_book(frames: list[Frame], length: int) -> BookFeed:
    """Feed every frame to a fresh maintained book (results unchecked: see :func:`check_correct`)."""
    feed = BookFeed(OrderBook.create("tBTCUSD", "P0", length))
    feed_frame = feed.feed
    for frame in frames:
        feed_frame(frame)
    return feed


def run_naive(frames: list[Frame], length: int) -> NaiveFeed:
    """Feed every frame to a fresh naive book."""
    feed = NaiveFeed()
    feed_frame = feed.feed
    for frame in frames:
        feed_frame(frame)
    return feed


def check_correct(frames: list[Frame], length: int) -> None:
    """Both implementations must verify every checksum of the stream."""
    feed = BookFeed(OrderBook.create("tBTCUSD", "P0", length))
    for frame in frames:
        result = feed.feed(frame)
        if result.kind not in (FeedKind.SNAPSHOT, FeedKind.UPDATE, FeedKind.CHECKSUM_OK):
            raise SystemExit(f"book: unexpected {result} on {frame}")
    if run_naive(frames, length).mismatches:
        raise SystemExit("naive baseline: checksum mismatch")


def time_stream(run: Callable[[list[Frame], int], object], frames: list[Frame], length: int) -> float:
    """Seconds to feed the whole stream once."""
    gc.collect()
    start = time.perf_counter()
    run(frames, length)
    return time.perf_counter() - start


def time_checksums(make_feed: Callable[[], Any], frames: list[Frame]) -> float:
    """Seconds spent in ``cs`` frames only (each ``cs`` frame timed on its own)."""
    feed = make_feed()
    feed_frame = feed.feed
    clock = time.perf_counter
    spent = 0.0
    for frame in frames:
        if frame[1] == "cs":
            start = clock()
            feed_frame(frame)
            spent += clock() - start
        else:
            feed_frame(frame)
    return spent


def peak_memory(run: Callable[[list[Frame], int], object], frames: list[Frame], length: int) -> int:
    """Peak bytes traced while building a book and feeding it the stream."""
    gc.collect()
    tracemalloc.start()
    try:
        run(frames, length)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, run every scenario and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few thousand updates, 3 runs")
    parser.add_argument("--updates", type=int, help="update entries per stream")
    parser.add_argument("--runs", type=int, help="runs per figure (the median is printed)")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    updates = args.updates or (3_000 if args.quick else 50_000)
    runs = args.runs or (3 if args.quick else 5)

    print(f"Python {sys.version.split()[0]}; {updates} updates per stream; median of {runs} runs")
    header = (
        f"{'scenario':40} {'impl':6} {'updates/s':>11} {'µs/update':>10} "
        f"{'checksums/s':>12} {'peak KiB':>9} {'speedup':>8}"
    )
    print(header)
    print("-" * len(header))
    for scenario in SCENARIOS:
        frames, entries, checksums = make_stream(scenario, updates, args.seed)
        check_correct(frames, scenario.length)
        rows = {}
        for name, run, make_feed in (
            ("book", run_book, lambda s=scenario: BookFeed(OrderBook.create("tX", "P0", s.length))),
            ("naive", run_naive, NaiveFeed),
        ):
            stream_seconds = statistics.median(
                time_stream(run, frames, scenario.length) for _ in range(runs)
            )
            checksum_seconds = statistics.median(
                time_checksums(make_feed, frames) for _ in range(runs)
            )
            memory = peak_memory(run, frames, scenario.length)
            rows[name] = (entries / stream_seconds, checksums / checksum_seconds, memory)
        for name, (rate, checksum_rate, memory) in rows.items():
            speedup = rate / rows["naive"][0]
            print(
                f"{scenario.name:40} {name:6} {rate:11,.0f} {1e6 / rate:10.2f} "
                f"{checksum_rate:12,.0f} {memory / 1024:9,.0f} {speedup:7.1f}x"
            )
        print(f"{'':40} ({entries} updates, {checksums} cs frames, all verified)")


if __name__ == "__main__":
    main()
