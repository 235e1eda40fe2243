"""The order book of bitfinex-api-py 4.0.0's own example (``examples/websocket/public/order_book.py``),
kept from the official client's events for the books workload.

The example keeps, per symbol, a dict per side keyed by price, each value ``{price, count,
amount}``: an entry with a count sets its level (a bid when its amount is positive, else an ask),
a count of 0 deletes the price from that side. On each ``checksum`` event it sorts both sides,
requires 25 levels of each (else raises ``AssertionError``), joins the top 25 bids' and asks'
prices and amounts with ``str`` and compares their CRC32 with the event's value. ``str`` is
Python's text of a number, not JavaScript's (``5e-05`` where Bitfinex hashes ``0.00005``), so a
checksum matches only while every number's two texts agree.

What the bench does differently, and why:

- a checksum that does not match is counted, not answered: the example resubscribes the book,
  but the feeder's stream is fixed, so a resubscription would only change what is measured;
- a book with fewer than 25 levels on a side (between a removal and the level entering after it)
  is counted apart instead of raising out of the listener;
- the ``checksum`` listener is a plain function: the example's is a coroutine only to await the
  resubscription, and a coroutine would check the book later, after more updates were applied.

bitfinex-api-py itself asks for checksums (``conf`` flag 131072) on every connection it opens, and
hands each ``cs`` frame on as a ``checksum`` event with the value as an unsigned 32-bit integer.
An update counts when applied (as cryptofeed's row counts); the checksum counts go into the
run's figures. Standard library only (bitfinex-api-py's objects come in through its events).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from typing import Any

from bench.harness import Probe, book_sides

EXAMPLE_DEPTH = 25
"""Levels per side the example's checksum covers, and requires."""


class ExampleBook:
    """One symbol's book as the example keeps it: ``bids`` and ``asks``, price → level."""

    def __init__(self) -> None:
        self.bids: dict[float, dict[str, Any]] = {}
        self.asks: dict[float, dict[str, Any]] = {}

    def update(self, level: Any) -> None:
        """Apply one book entry (an object with ``price``, ``count`` and ``amount``)."""
        price, count, amount = level.price, level.count, level.amount
        side = self.bids if amount > 0 else self.asks
        if count > 0:
            side[price] = {"price": price, "count": count, "amount": amount}
        elif count == 0:
            side.pop(price, None)

    def verify(self, checksum: int) -> bool:
        """Whether the CRC32 of the example's checksum text equals ``checksum`` (unsigned).

        :raises AssertionError: if a side has fewer than 25 levels, as the example does.
        """
        bids = sorted(self.bids.values(), key=lambda level: -level["price"])
        asks = sorted(self.asks.values(), key=lambda level: level["price"])
        if len(bids) < EXAMPLE_DEPTH or len(asks) < EXAMPLE_DEPTH:
            raise AssertionError(f"a side has fewer than {EXAMPLE_DEPTH} levels")
        values: list[Any] = []
        for bid, ask in zip(bids[:EXAMPLE_DEPTH], asks[:EXAMPLE_DEPTH]):
            values.extend((bid["price"], bid["amount"], ask["price"], ask["amount"]))
        return zlib.crc32(":".join(str(value) for value in values).encode()) == checksum

    def final(self) -> dict[str, list[list[float]]]:
        """The book in the form the runner compares (:func:`bench.harness.book_sides`)."""
        return book_sides(((price, self.bids[price]["amount"]) for price in sorted(self.bids, reverse=True)),
                          ((price, -self.asks[price]["amount"]) for price in sorted(self.asks)))


@dataclass
class ChecksumTally:
    """What became of the ``checksum`` events: compared (``checked``), equal (``matched``), and
    not compared because a side had fewer than 25 levels (``too_few_levels``)."""

    checked: int = 0
    matched: int = 0
    too_few_levels: int = 0

    def verify(self, book: ExampleBook, checksum: int) -> None:
        """Verify ``book`` against ``checksum`` as the example does, and count the outcome."""
        try:
            matched = book.verify(checksum)
        except AssertionError:
            self.too_few_levels += 1
            return
        self.checked += 1
        self.matched += matched


class ExampleBooks:
    """The example's books of every subscribed symbol, and their checksum tally.

    :param symbols: the symbols subscribed (``tAAAUSD``...).
    """

    def __init__(self, symbols: list[str]) -> None:
        self.books = {symbol: ExampleBook() for symbol in symbols}
        self.tally = ChecksumTally()

    def listen(self, wss: Any, probe: Probe) -> None:
        """Keep the books from bitfinex-api-py's book events on ``wss``; every update applied
        goes to :meth:`bench.harness.Probe.update`."""
        books, update = self.books, probe.update

        def snapshot(subscription: dict[str, Any], levels: list[Any]) -> None:
            book = books[subscription["symbol"]]
            for level in levels:
                book.update(level)

        def book_update(subscription: dict[str, Any], level: Any) -> None:
            books[subscription["symbol"]].update(level)
            update()

        def checksum(subscription: dict[str, Any], value: int) -> None:
            self.tally.verify(books[subscription["symbol"]], value)

        wss.on("t_book_snapshot", snapshot)
        wss.on("t_book_update", book_update)
        wss.on("checksum", checksum)

    def figures(self) -> dict[str, Any]:
        """The final books (for the runner's check) and the checksum counts."""
        return {"books": {symbol: book.final() for symbol, book in self.books.items()},
                "checksums": asdict(self.tally)}
