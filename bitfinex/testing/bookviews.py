"""What a ``book`` subscription shows: the top of a book at one precision and length.

A :class:`BookView` renders an :class:`~bitfinex.testing.engine.MatchingBook` as Bitfinex does:

- ``P0``..``P4``: levels aggregated to 5..1 significant digits (bids rounded down, asks up),
  entries ``[PRICE, COUNT, AMOUNT]`` (funding: ``[RATE, PERIOD, COUNT, AMOUNT]``, one level per
  rate and period);
- ``R0``: single orders, ``[ORDER_ID, PRICE, AMOUNT]`` (funding: ``[OFFER_ID, PERIOD, RATE,
  AMOUNT]``), at equal price oldest id first;
- at most ``len`` entries per side; hidden orders never show;
- amounts signed by side: trading bids ``> 0``, asks ``< 0``; funding bids (borrowers) ``< 0``,
  offers ``> 0``.

Updates are the difference between what was last published and the book now, so a level that
enters the top ``len`` because a better one left shows up as an update, and one that falls out
is removed (``COUNT`` 0, or price/rate 0 for raw books, amount ``±1`` by side); removals come
first, so the book a client rebuilds entry by entry is never crossed nor longer than ``len``.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from itertools import islice
from typing import Any

from bitfinex.protocol.checksum import book_checksum
from bitfinex.protocol.constants import BOOK_LENGTHS
from bitfinex.testing.engine import MatchingBook
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.numbers import ZERO, aggregate_price, wire

SIGNIFICANT_DIGITS = {"P0": 5, "P1": 4, "P2": 3, "P3": 2, "P4": 1}
"""Significant digits each aggregated precision keeps."""

MAX_LENGTH = max(int(length) for length in BOOK_LENGTHS)
"""The longest book a subscription can ask for (250 entries per side)."""

Entry = list[Any]
Side = dict[Hashable, Entry]


class BookRenderer:
    """Renders the sides of one book at every precision, :data:`MAX_LENGTH` entries deep.

    Renderings are kept until the side changes, so every view of the book (all precisions and
    lengths, however many connections) shares one rendering per side and precision: a shorter
    book is a prefix of a longer one.

    :param instrument: the symbol (its kind decides the entry layout and the amount signs).
    :param book: the engine's book of that symbol.
    """

    def __init__(self, instrument: Instrument, book: MatchingBook) -> None:
        self.book = book
        self._funding = instrument.is_funding
        self._cache: dict[tuple[str, bool], tuple[int, Side]] = {}

    def side(self, precision: str, is_bid: bool) -> Side:
        """The entries of one side at ``precision``, best first, keyed by price (P), (rate,
        period) (funding P) or order id (R0)."""
        version = self.book.side(is_bid).version
        cached = self._cache.get((precision, is_bid))
        if cached is not None and cached[0] == version:
            return cached[1]
        if precision == "R0":
            entries = self._render_raw(is_bid)
        else:
            entries = self._render_levels(is_bid, SIGNIFICANT_DIGITS[precision])
        self._cache[(precision, is_bid)] = (version, entries)
        return entries

    def _display(self, amount: Decimal) -> float:
        return float(-amount if self._funding else amount)

    def _render_raw(self, is_bid: bool) -> Side:
        entries: Side = {}
        for price, level in self.book.side(is_bid).levels():
            for order in sorted(level, key=lambda o: o.order_id):
                if order.hidden:
                    continue
                if len(entries) == MAX_LENGTH:
                    return entries
                amount = self._display(order.amount)
                entries[order.order_id] = (
                    [order.order_id, order.period, wire(price), amount]
                    if self._funding
                    else [order.order_id, wire(price), amount]
                )
        return entries

    def _render_levels(self, is_bid: bool, digits: int) -> Side:
        totals: dict[tuple[Decimal, int], list[Any]] = {}
        last_bucket: Decimal | None = None
        for price, level in self.book.side(is_bid).levels():
            visible = [order for order in level if not order.hidden]
            if not visible:
                continue
            bucket = aggregate_price(price, digits, is_bid)
            if bucket != last_bucket and len(totals) >= MAX_LENGTH:
                break
            last_bucket = bucket
            for order in visible:
                total = totals.setdefault((bucket, order.period), [0, ZERO])
                total[0] += 1
                total[1] += order.amount
        keys = sorted(totals, key=lambda k: (-k[0] if is_bid else k[0], k[1]))[:MAX_LENGTH]
        entries: Side = {}
        for bucket, period in keys:
            count, amount = totals[(bucket, period)]
            if self._funding:
                entries[(bucket, period)] = [wire(bucket), period, count, self._display(amount)]
            else:
                entries[bucket] = [wire(bucket), count, self._display(amount)]
        return entries


class BookView:
    """The published top of one book at one precision and length.

    :param renderer: renders the book (shared by every view of it).
    :param precision: ``P0``..``P4`` or ``R0``.
    :param length: entries per side (1, 25, 100 or 250).
    """

    def __init__(self, renderer: BookRenderer, precision: str, length: int) -> None:
        self._renderer = renderer
        self._funding = renderer._funding
        self._precision = precision
        self._length = length
        self._versions = self._side_versions()
        self._bids, self._asks = self._render(True), self._render(False)
        self._checksum: int | None = None

    def _side_versions(self) -> tuple[int, int]:
        book = self._renderer.book
        return book.bids.version, book.asks.version

    def _render(self, is_bid: bool) -> Side:
        return dict(islice(self._renderer.side(self._precision, is_bid).items(), self._length))

    def _removal(self, entry: Entry, is_bid: bool) -> Entry:
        sign = (-1 if is_bid else 1) if self._funding else (1 if is_bid else -1)
        if self._funding:
            return [entry[0], entry[1], 0, sign]
        return [entry[0], 0, sign]

    def snapshot(self) -> list[Entry]:
        """The published entries: bids best first, then asks best first."""
        return [*self._bids.values(), *self._asks.values()]

    def updates(self) -> list[Entry]:
        """Publish the book as it is now; return the entries that changed: every removal of
        both sides first, then the new and changed entries, bids before asks. So a client that
        applies them one by one never holds more than ``len`` entries a side, nor a crossed
        book, even when many changes are published at once (``F1``). In a raw book an order
        whose price moved is removed and added again."""
        versions = self._side_versions()
        if versions == self._versions:
            return []
        removals: list[Entry] = []
        additions: list[Entry] = []
        raw = self._precision == "R0"
        for is_bid, old, changed in (
            (True, self._bids, versions[0] != self._versions[0]),
            (False, self._asks, versions[1] != self._versions[1]),
        ):
            if not changed:
                continue
            new = self._render(is_bid)
            for key, entry in old.items():
                now = new.get(key)
                if now is None or (raw and now[-2] != entry[-2]):
                    removals.append(self._removal(entry, is_bid))
            additions.extend(entry for key, entry in new.items() if old.get(key) != entry)
            if is_bid:
                self._bids = new
            else:
                self._asks = new
        self._versions = versions
        changes = removals + additions
        if changes:
            self._checksum = None
        return changes

    def checksum(self) -> int:
        """The signed CRC32 of the published top 25 per side (key: price, rate or order id)."""
        if self._checksum is None:
            self._checksum = book_checksum(
                ((entry[0], entry[-1]) for entry in self._bids.values()),
                ((entry[0], entry[-1]) for entry in self._asks.values()),
            )
        return self._checksum
