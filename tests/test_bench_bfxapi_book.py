"""The book workload's bitfinex-api-py row: the order book of the client's own example
(``bench/clients/bfxapi_books.py``), without the client.

Its verification prints numbers with Python's ``str``: it matches Bitfinex's checksum (numbers as
JavaScript prints them, :mod:`bitfinex.protocol.checksum`) while the two texts agree, and only
then; a side with fewer than 25 levels is counted apart. Fast: no network, no bitfinex-api-py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bitfinex.protocol.checksum import book_checksum

from bench.bookstream import BookStream
from bench.clients.bfxapi_books import ChecksumTally, ExampleBook, ExampleBooks
from bench.harness import BOOKS_RUN, Probe


@dataclass
class Level:
    """What bitfinex-api-py hands over for a book entry (its ``TradingPairBook``)."""

    price: float
    count: int
    amount: float


def full_book(amount: float = 1.5, price: float = 7254.5) -> tuple[ExampleBook, int]:
    """An example book of 25 levels per side around ``price`` (the best bid's amount
    ``amount``), and Bitfinex's checksum of it, unsigned as bitfinex-api-py hands it on."""
    book = ExampleBook()
    bids = [(price - index, amount if index == 0 else 2.25) for index in range(25)]
    asks = [(price + 1 + index, -3.75) for index in range(25)]
    for level_price, level_amount in bids + asks:
        book.update(Level(level_price, 1, level_amount))
    return book, book_checksum(bids, asks) & 0xFFFFFFFF


def test_entries_set_and_delete_levels_on_the_side_their_amount_says() -> None:
    book = ExampleBook()
    book.update(Level(100.0, 2, 1.5))
    book.update(Level(101.0, 1, -0.5))
    book.update(Level(100.0, 3, 2.5))
    assert book.bids == {100.0: {"price": 100.0, "count": 3, "amount": 2.5}}
    assert book.asks == {101.0: {"price": 101.0, "count": 1, "amount": -0.5}}
    book.update(Level(100.0, 0, 1))
    book.update(Level(99.0, 0, 1))
    book.update(Level(101.0, 0, -1))
    assert book.bids == {} and book.asks == {}


def test_a_checksum_matches_when_pythons_text_is_javascripts() -> None:
    book, checksum = full_book(amount=1.5, price=7254)
    assert book.verify(checksum)
    assert not book.verify(checksum ^ 1)


@pytest.mark.parametrize(("amount", "price"), [(0.00005, 7254), (1.5, 7254.0)],
                         ids=["5e-05 against 0.00005", "7254.0 against 7254"])
def test_a_checksum_mismatches_where_pythons_text_is_not_javascripts(amount: float, price: float) -> None:
    book, checksum = full_book(amount=amount, price=price)
    assert not book.verify(checksum)


def test_fewer_than_25_levels_raise_and_are_counted_apart() -> None:
    book, checksum = full_book()
    tally = ChecksumTally()
    tally.verify(book, checksum)
    tally.verify(book, checksum ^ 1)
    book.update(Level(max(book.asks), 0, -1))
    with pytest.raises(AssertionError):
        book.verify(checksum)
    tally.verify(book, checksum)
    assert tally == ChecksumTally(checked=2, matched=1, too_few_levels=1)


class Events:
    """A stand-in for bitfinex-api-py's ``wss``: keeps the listeners, emits events."""

    def __init__(self) -> None:
        self.listeners: dict[str, Callable[..., None]] = {}

    def on(self, event: str, listener: Callable[..., None]) -> None:
        """Register the listener of ``event``."""
        self.listeners[event] = listener

    def emit(self, event: str, *arguments: Any) -> None:
        """Call the listener of ``event``."""
        self.listeners[event](*arguments)


def test_the_books_of_a_stream_end_as_the_feeders_and_every_checked_checksum_matches() -> None:
    stream = BookStream(books=3, updates=400, seed=7)
    books = ExampleBooks([subscription.symbol for subscription in stream.subscriptions])
    probe = Probe(BOOKS_RUN, expected_updates=400)
    events = Events()
    books.listen(events, probe)
    by_chan_id = {stream.chan_ids[item.key]: {"symbol": item.symbol, "sub_id": item.key} for item in stream.subscriptions}
    for item in stream.subscriptions:
        chan_id, levels = json.loads(stream.snapshots[item.key])
        events.emit("t_book_snapshot", by_chan_id[chan_id], [Level(*level) for level in levels])
    for frame in (json.loads(item.payload) for item in stream.frames):
        if frame[1] == "cs":
            events.emit("checksum", by_chan_id[frame[0]], frame[2] & 0xFFFFFFFF)
        else:
            events.emit("t_book_update", by_chan_id[frame[0]], Level(*frame[1]))
    figures = books.figures()
    assert probe.done.is_set()
    assert figures["books"] == stream.final_books
    counts = figures["checksums"]
    assert counts["checked"] + counts["too_few_levels"] == 400
    assert counts["matched"] == counts["checked"] > 0 and counts["too_few_levels"] > 0
