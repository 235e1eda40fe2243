"""The maintained book's checksum texts: made once per level as it enters or changes in the top
25, and the same text :func:`~bitfinex.protocol.jsnum.js_number_text` gives.

The level texts take a shortcut for the common case (``repr`` of a float is already
JavaScript's text); these tests hold the shortcut to the long way for every kind of number, check
that a number the checksum cannot print is refused before the book changes, and drive books of
several depths one entry at a time against a naive book that sorts and prints everything on every
read.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitfinex.protocol.book import BookEntryError, OrderBook, _level_text
from bitfinex.protocol.bookfeed import BookFeed, FeedKind
from bitfinex.protocol.jsnum import js_number_text

NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda value: float(round(value))),
    st.floats(1e-12, 1e-3),
    st.integers(-(2**60), 2**60),
    st.sampled_from([0.0, -0.0, 1e16, 1e21, 2**53, -(2**53), 2**53 + 1, 7255.0, 2e-8, 0.000001]),
)


@settings(max_examples=500)
@given(key=NUMBERS, amount=NUMBERS)
def test_level_text_is_the_javascript_text(key: Any, amount: Any) -> None:
    assert _level_text(key, amount) == f"{js_number_text(key)}:{js_number_text(amount)}"


@pytest.mark.parametrize("amount", [math.nan, math.inf, -math.inf, True])
def test_unprintable_amount_in_the_top_levels_leaves_the_book_unchanged(amount: Any) -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[100.0 - index, 1, 1.5] for index in range(25)])
    before = (book.snapshot(), book.checksum())
    for entry in ([100.5, 1, amount], [100.0, 2, amount]):  # a new best level, a changed one
        with pytest.raises(BookEntryError):
            book.apply(entry)
        assert (book.snapshot(), book.checksum()) == before


def test_unprintable_level_rising_into_the_top_levels_refuses_the_removal() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[100.0 - index, 1, 1.5] for index in range(25)])
    book.apply([50.0, 1, math.inf])  # 26th: out of sight, never printed
    before = (book.snapshot(), book.checksum())
    with pytest.raises(BookEntryError):
        book.apply([100.0, 0, 1])  # removing the best would lift the 26th into the top 25
    assert (book.snapshot(), book.checksum()) == before


def test_feed_reports_an_unprintable_update_as_malformed() -> None:
    feed = BookFeed(OrderBook.create("tBTCUSD", "P0", 25))
    feed.feed([1, [[100.0, 1, 1.5], [101.0, 1, -1.5]]])
    result = feed.feed([1, [100.5, 1, math.nan]])
    assert result.kind is FeedKind.MALFORMED and result.resubscribe_needed
    assert not feed.book.valid


class NaiveBook:
    """price → (count, amount) per side, sorted and printed on every read; ``len`` levels kept
    in sight, ``len + 25`` held (the worst dropped beyond)."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.bids: dict[float, tuple[int, float]] = {}
        self.asks: dict[float, tuple[int, float]] = {}

    def apply(self, price: float, count: int, amount: float) -> None:
        side = self.bids if amount > 0 else self.asks
        if count:
            side[price] = (count, amount)
            ordered = sorted(side, reverse=side is self.bids)
            if len(ordered) > self.length + 25:
                del side[ordered[-1]]
        elif side.pop(price, None) is None:
            (self.asks if side is self.bids else self.bids).pop(price, None)

    def text(self) -> str:
        depth = min(25, self.length)
        bids = [f"{js_number_text(p)}:{js_number_text(self.bids[p][1])}" for p in sorted(self.bids, reverse=True)]
        asks = [f"{js_number_text(p)}:{js_number_text(self.asks[p][1])}" for p in sorted(self.asks)]
        parts = []
        for index in range(depth):
            parts += bids[index:index + 1] + asks[index:index + 1]
        return ":".join(parts)


PRICES = st.sampled_from([round(100 + step * 0.5, 1) for step in range(-70, 70)] + [7255, 7256, 7257])
ENTRIES = st.tuples(PRICES, st.integers(0, 3), st.sampled_from([0.25, 1.5, 3.00000001, 1e-7, 12345.678, 2.0]),
                    st.booleans())


@settings(max_examples=150)
@given(length=st.sampled_from([1, 5, 24, 25, 26, 30, 60]), entries=st.lists(ENTRIES, min_size=1, max_size=150))
def test_checksum_after_every_entry_matches_a_naive_book(length: int, entries: list[tuple[Any, ...]]) -> None:
    book = OrderBook.create("tBTCUSD", "P0", length)
    book.apply_snapshot([])
    naive = NaiveBook(length)
    for price, count, size, is_bid in entries:
        amount = (size if count else 1) * (1 if is_bid else -1)
        book.apply([price, count, amount])
        naive.apply(price, count, amount)
        text = naive.text()
        assert book.checksum_text() == text
        crc = zlib.crc32(text.encode())
        assert book.checksum() == (crc - (1 << 32) if crc >= 1 << 31 else crc)
