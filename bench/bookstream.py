"""The book workload's stream: many books, realistic updates, a true ``cs`` after every update.

Each book is a :class:`bench.book.ExchangeModel` (a seeded exchange-side book of ``len`` 25:
changed levels, removals with a level entering at the end, insertions that push the last level
out). Events go to a book picked at random; every entry of an event is one frame, followed by a
``cs`` frame carrying the checksum of that book as the exchange holds it right after the entry
(a removal's ``cs`` is taken before its entering level arrives, as Bitfinex would send it).
The checksums come from :class:`ServerBook`, which applies the same entries to plain dicts.

The last update of the stream is a marker: the best bid of the last book is set to
:data:`MARKER_AMOUNT`, an amount no other update carries, so a client that cannot count updates
(ccxt hands back the book, not each update) sees the end of the stream in its book.

:attr:`BookStream.final_books` holds every book's top 25 levels per side as ``[price, size]``
pairs (sizes positive on both sides), the form every client's final books are compared in.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from typing import Any

from bitfinex.protocol.codec import dumps_js
from bitfinex.protocol.jsnum import js_number_text

from bench.book import ExchangeModel
from bench.stream import EncodedFrame
from bench.wire import BOOK_CHANNEL_BASE, Subscription, book_subscriptions

CHECKSUM_DEPTH = 25
MARKER_AMOUNT = 41.23456789
"""The last update's amount: above every amount the model draws (at most 40)."""
MARKER_COUNT = 7


class ServerBook:
    """The exchange's side of one book: price → (count, amount, checksum text) per side."""

    def __init__(self, entries: list[list[Any]]) -> None:
        self.bids: dict[float, tuple[int, float, str]] = {}
        self.asks: dict[float, tuple[int, float, str]] = {}
        for entry in entries:
            self.apply(entry)

    def apply(self, entry: list[Any]) -> None:
        """Apply one ``[PRICE, COUNT, AMOUNT]`` entry."""
        price, count, amount = entry
        side = self.bids if amount > 0 else self.asks
        if count > 0:
            side[price] = (count, amount, f"{js_number_text(price)}:{js_number_text(amount)}")
        else:
            side.pop(price, None)

    def checksum(self) -> int:
        """The signed CRC32 Bitfinex sends for the top 25 levels per side."""
        bids = [self.bids[price][2] for price in sorted(self.bids, reverse=True)[:CHECKSUM_DEPTH]]
        asks = [self.asks[price][2] for price in sorted(self.asks)[:CHECKSUM_DEPTH]]
        parts = [text for pair in zip(bids, asks) for text in pair]
        shorter = min(len(bids), len(asks))
        parts += bids[shorter:] + asks[shorter:]
        crc = zlib.crc32(":".join(parts).encode())
        return crc - (1 << 32) if crc >= (1 << 31) else crc

    def top(self) -> dict[str, list[list[float]]]:
        """The top 25 levels per side as ``[price, size]``, sizes positive."""
        return {
            "bids": [[price, self.bids[price][1]] for price in sorted(self.bids, reverse=True)[:CHECKSUM_DEPTH]],
            "asks": [[price, -self.asks[price][1]] for price in sorted(self.asks)[:CHECKSUM_DEPTH]],
        }


@dataclass
class BookStream:
    """The book workload's frames for ``books`` books and ``updates`` update entries.

    :param books: how many books (symbols from :func:`bench.wire.book_subscriptions`).
    :param updates: update entries in the stream (each followed by its ``cs``), marker included.
    :param seed: makes the stream reproducible.
    """

    books: int
    updates: int
    seed: int
    subscriptions: list[Subscription] = field(init=False)
    chan_ids: dict[str, int] = field(init=False)
    snapshots: dict[str, bytes] = field(init=False)
    frames: list[EncodedFrame] = field(init=False)
    final_books: dict[str, dict[str, list[list[float]]]] = field(init=False)
    marker: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        if self.books < 1 or self.updates < 2:
            raise ValueError("a book stream needs a book and at least two updates")
        self.subscriptions = book_subscriptions(self.books)
        rng = random.Random(self.seed)
        models = [ExchangeModel(Subscription.BOOK_LENGTH, rng.randrange(1 << 30)) for _ in self.subscriptions]
        servers = [ServerBook(model.snapshot()) for model in models]
        self.chan_ids = {item.key: BOOK_CHANNEL_BASE + index for index, item in enumerate(self.subscriptions)}
        self.snapshots = {
            item.key: dumps_js([BOOK_CHANNEL_BASE + index, model.snapshot()])
            for index, (item, model) in enumerate(zip(self.subscriptions, models))
        }
        self.frames = []
        written = 0
        while written < self.updates - 1:
            index = rng.randrange(self.books)
            for entry in models[index].event()[: self.updates - 1 - written]:
                self._append(index, servers[index], entry)
                written += 1
        last = self.books - 1
        marker = models[last].set_best_bid(MARKER_COUNT, MARKER_AMOUNT)
        self._append(last, servers[last], marker)
        self.final_books = {item.symbol: server.top() for item, server in zip(self.subscriptions, servers)}
        self.marker = {"symbol": self.subscriptions[last].symbol, "price": marker[0], "amount": MARKER_AMOUNT}

    def _append(self, index: int, server: ServerBook, entry: list[Any]) -> None:
        chan_id = BOOK_CHANNEL_BASE + index
        server.apply(entry)
        self.frames.append(EncodedFrame(dumps_js([chan_id, entry])))
        self.frames.append(EncodedFrame(dumps_js([chan_id, "cs", server.checksum()])))
