"""Replay a real Bitfinex session (cryptofeed capture, 2021-04-17) and the Node client's fixtures.

The capture has ``SEQ_ALL`` on, seven P0 len-100 books, tickers, trades and heartbeats, and
removals written in e-notation (``[204928,[2e-8,0,1],50]``); it has no ``cs`` frames, so the
checksum text is compared with the text the exchange itself printed in the raw lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bitfinex.protocol.book import OrderBook, PriceLevel, RawOrder
from bitfinex.protocol.bookfeed import BookFeed, FeedKind
from bitfinex.protocol.checksum import checksum_text
from bitfinex.protocol.codec import loads
from bitfinex.protocol.sequence import SequenceChecker

DATA = Path(__file__).parent / "data"
CAPTURE = DATA / "cryptofeed-BITFINEX.ws.11.0.txt"


def received_frames() -> list[tuple[str, Any]]:
    """``(raw JSON text, decoded frame)`` for every frame the client received, in order."""
    frames = []
    for line in CAPTURE.read_text().splitlines():
        if not line or " <- " in line or " <-> " in line:
            continue
        _, separator, raw = line.partition(": ")
        assert separator, line
        frames.append((raw, loads(raw)))
    return frames


def tokens_of(raw: str) -> Any:
    """The frame with every number kept as the exact text the exchange printed."""
    return json.loads(raw, parse_float=str, parse_int=str)


@dataclass
class TokenBook:
    """Each level's exchange text, keyed by decoded price, per side (a naive model)."""

    bids: dict[float, tuple[str, str]] = field(default_factory=dict)
    asks: dict[float, tuple[str, str]] = field(default_factory=dict)

    def apply(self, entry: list[Any], tokens: list[str]) -> None:
        price, count, amount = entry[0], entry[1], entry[2]
        side = self.bids if amount > 0 else self.asks
        if count > 0:
            side[price] = (tokens[0], tokens[2])
        else:
            side.pop(price, None)

    def expected_checksum_text(self) -> str:
        bids = [self.bids[price] for price in sorted(self.bids, reverse=True)]
        asks = [self.asks[price] for price in sorted(self.asks)]
        return checksum_text(bids, asks)


@dataclass
class Replay:
    results: dict[FeedKind, int] = field(default_factory=dict)
    feeds: dict[int, BookFeed] = field(default_factory=dict)
    heartbeats_before_subscribed: list[int] = field(default_factory=list)
    crossed: list[tuple[int, str]] = field(default_factory=list)
    widest_side: int = 0
    frames: int = 0
    text_checks: int = 0


@pytest.fixture(scope="module")
def replay() -> Replay:
    """Feed the whole capture through a sequence checker and a BookFeed per book channel."""
    outcome = Replay()
    checker = SequenceChecker()
    channels: dict[int, dict[str, Any]] = {}
    token_books: dict[int, TokenBook] = {}
    for raw, frame in received_frames():
        if isinstance(frame, dict):
            if frame.get("event") == "subscribed":
                channels[frame["chanId"]] = frame
                if frame["channel"] == "book":
                    book = OrderBook.create(frame["symbol"], frame["prec"], frame["len"])
                    outcome.feeds[frame["chanId"]] = BookFeed(book)
                    token_books[frame["chanId"]] = TokenBook()
            continue
        outcome.frames += 1
        gap = checker.check(frame, strip=True)
        assert gap is None, (gap, raw)
        channel_id = frame[0]
        if channel_id not in channels:
            assert frame == [channel_id, "hb"], raw
            outcome.heartbeats_before_subscribed.append(channel_id)
            continue
        feed = outcome.feeds.get(channel_id)
        if feed is None:
            continue
        was_awaiting = feed.awaiting_snapshot
        result = feed.feed(frame)
        outcome.results[result.kind] = outcome.results.get(result.kind, 0) + 1
        assert result.kind in (FeedKind.SNAPSHOT, FeedKind.UPDATE, FeedKind.HEARTBEAT), (result, raw)
        assert feed.book.valid
        if result.kind is FeedKind.HEARTBEAT:
            continue
        assert (result.kind is FeedKind.SNAPSHOT) == was_awaiting
        model = token_books[channel_id]
        token_frame = tokens_of(raw)
        entries = frame[1] if isinstance(frame[1][0], list) else [frame[1]]
        entry_tokens = token_frame[1] if isinstance(frame[1][0], list) else [token_frame[1]]
        for entry, tokens in zip(entries, entry_tokens):
            model.apply(entry, tokens)
        outcome.widest_side = max(outcome.widest_side, len(model.bids), len(model.asks))
        assert feed.book.checksum_text() == model.expected_checksum_text(), raw
        outcome.text_checks += 1
        best_bid, best_ask = feed.book.best_bid, feed.book.best_ask
        if best_bid is not None and best_ask is not None and best_bid.price >= best_ask.price:
            outcome.crossed.append((channel_id, raw))
    return outcome


def test_every_frame_is_in_sequence_and_every_book_frame_applies(replay: Replay) -> None:
    assert replay.frames == 1670
    assert len(replay.feeds) == 7
    assert replay.results == {
        FeedKind.SNAPSHOT: 7,
        FeedKind.UPDATE: 1593,
        FeedKind.HEARTBEAT: replay.results[FeedKind.HEARTBEAT],
    }
    assert replay.results[FeedKind.HEARTBEAT] > 0
    assert all(feed.book.valid for feed in replay.feeds.values())


def test_heartbeats_can_precede_the_subscribed_event(replay: Replay) -> None:
    """A channel id is live (heartbeats flow) before its ``subscribed`` event arrives."""
    assert sorted(set(replay.heartbeats_before_subscribed)) == [232954, 232958]


def test_books_are_never_crossed(replay: Replay) -> None:
    assert replay.crossed == []


def test_exchange_kept_its_books_within_the_subscribed_length(replay: Replay) -> None:
    assert replay.widest_side == 100


def test_checksum_text_is_the_exchange_text_after_every_frame(replay: Replay) -> None:
    assert replay.text_checks == 7 + 1593


def test_final_books_match_a_naive_replay(replay: Replay) -> None:
    models: dict[int, dict[str, dict[float, list[Any]]]] = {}
    for _, frame in received_frames():
        if isinstance(frame, list) and frame[0] in replay.feeds and isinstance(frame[1], list):
            model = models.setdefault(frame[0], {"bids": {}, "asks": {}})
            entries = frame[1] if isinstance(frame[1][0], list) else [frame[1]]
            for price, count, amount in entries:
                side = model["bids" if amount > 0 else "asks"]
                if count:
                    side[price] = [price, count, amount]
                else:
                    side.pop(price, None)
    for channel_id, feed in replay.feeds.items():
        model = models[channel_id]
        expected = [model["bids"][p] for p in sorted(model["bids"], reverse=True)]
        expected += [model["asks"][p] for p in sorted(model["asks"])]
        assert feed.book.snapshot() == expected


def test_e_notation_reaches_the_checksum_as_the_exchange_wrote_it() -> None:
    """Remove the best bids of the real tMNABTC snapshot until its e-notation levels are in
    the top 25: the checksum text carries ``9.1e-7``, ``1.7e-7``, ``2e-8``... byte for byte."""
    raw = next(raw for raw, frame in received_frames() if isinstance(frame, list)
               and frame[0] == 232956 and isinstance(frame[1][0], list))
    assert "[2e-8,2,45000]" in raw and "[1.7e-7,1,2941.18]" in raw
    tokens = tokens_of(raw)[1]
    frame = loads(raw)
    feed = BookFeed(OrderBook.create("tMNABTC", "P0", "100"))
    assert feed.feed(frame).kind is FeedKind.SNAPSHOT
    bids = [(entry, token) for entry, token in zip(frame[1], tokens) if entry[2] > 0]
    for entry, _ in bids[:30]:
        assert feed.feed([232956, [entry[0], 0, 1]]).kind is FeedKind.UPDATE
    text = feed.book.checksum_text()
    remaining = bids[30:55]
    bid_texts = text.split(":")[0::4][: len(remaining)]
    assert bid_texts == [token[0] for _, token in remaining]
    for written in ("9.1e-7", "5.1e-7", "5e-7", "2.5e-7", "1.7e-7", "1.3e-7", "1.2e-7", "1e-7",
                    "5e-8", "3e-8", "2e-8", "1e-8", "0.000001", "0.00000101"):
        assert f":{written}:" in f":{text}:"
    assert "e-0" not in text and "E" not in text


def test_every_e_notation_entry_prints_as_in_the_raw_line() -> None:
    seen = 0
    for raw, frame in received_frames():
        if not isinstance(frame, list) or not isinstance(frame[1], list) or not frame[1]:
            continue
        token_frame = tokens_of(raw)
        entries = frame[1] if isinstance(frame[1][0], list) else [frame[1]]
        entry_tokens = token_frame[1] if isinstance(frame[1][0], list) else [token_frame[1]]
        for entry, tokens in zip(entries, entry_tokens):
            if len(entry) == 3 and "e" in tokens[0] and entry[1] > 0:
                book = OrderBook.create("tX", "P0", 25)
                book.apply_snapshot([entry])
                assert book.checksum_text() == f"{tokens[0]}:{tokens[2]}"
                seen += 1
    assert seen >= 20


@pytest.mark.parametrize(
    ("name", "precision", "best_bid", "best_ask"),
    [
        ("P0", "P0", PriceLevel(1921.8, 1, 0.17974513), PriceLevel(1921.9, 1, -5.12)),
        ("P1", "P1", PriceLevel(1779, 1, 42.11518492), PriceLevel(1780, 14, -33.0779031)),
        ("R0", "R0", RawOrder(2567606289, 1876.5, 1.4305), RawOrder(2567594844, 1878.1, -0.42265059)),
    ],
)
def test_node_fixture_snapshots(name: str, precision: str, best_bid: Any, best_ask: Any) -> None:
    path = DATA / f"bitfinex-api-node-response-ws2-server-order-book-{name}.json"
    frame = loads(path.read_bytes())
    feed = BookFeed(OrderBook.create("tBTCUSD", precision, 25))
    assert feed.feed(frame).kind is FeedKind.SNAPSHOT
    book = feed.book
    assert book.best_bid == best_bid and book.best_ask == best_ask
    assert len(book.bids()) == 25 and len(book.asks()) == 25 and len(book) == 50
    assert book.spread is not None and book.spread > 0
    assert book.snapshot() == frame[1]


def test_node_fixture_frames_without_sequence_numbers_pass_the_checker() -> None:
    checker = SequenceChecker()
    for path in sorted(DATA.glob("bitfinex-api-node-*.json")):
        frame = loads(path.read_bytes())
        before = json.dumps(frame)
        assert checker.check(frame, strip=True) is None
        assert json.dumps(frame) == before
    assert checker.last_public is None
