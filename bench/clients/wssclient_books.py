"""``WssClient``'s maintained book in the bench: the books workload's runs and the firehose's
maintained-book row.

Apart from :mod:`bench.clients.wssclient` because it uses the book modules of this checkout
(:mod:`bitfinex.protocol.bookfeed`, the ``internal_error`` status), which older revisions do not
have: ``--against REF`` measures the firehose rows with REF's package through the adapter, which
imports this module only for the rows that keep a book.

With ``maintain_book`` (firehose) the book callback keeps an order book with every ``cs``
checksum verified: :class:`bitfinex.protocol.bookfeed.BookFeed`, the code
``subscribe_to_orderbook(..., maintained=True)`` runs, fed here from the raw-frame callback so
the row can count every update it applied (the built-in path hands its callback the book only
after each verified checksum).

A ``books`` run subscribes every book of the book stream, with ``book="maintained"`` through
the public maintained book (``subscribe_to_orderbook(..., maintained=True)``: the callback gets
the book after its snapshot and after each verified checksum, one per update in this stream,
so each call after the first is one update verified) and returns every final book; with
``book="raw"`` it takes raw frames and counts the updates (no book kept). A checksum mismatch
or any other error status fails the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bitfinex import WssClient
from bitfinex.protocol import codec
from bitfinex.protocol import status as st
from bitfinex.protocol.book import OrderBook
from bitfinex.protocol.bookfeed import BookFeed, FeedKind

from bench.harness import ClientPlan, Probe, book_sides, raw_frame_callback
from bench.wire import Subscription

BOOK_RUN_FAILURES = frozenset((st.CHECKSUM_MISMATCH, st.INTERNAL_ERROR, st.CALLBACK_ERROR, st.SUBSCRIPTION_FAILED))
"""Status events that fail a books run."""


class MaintainedBook:
    """A book callback that keeps the book and verifies every checksum."""

    def __init__(self, probe: Probe, subscription: Subscription) -> None:
        self.probe = probe
        book = OrderBook.create(subscription.symbol, Subscription.BOOK_PRECISION, Subscription.BOOK_LENGTH)
        self.feed = BookFeed(book)
        self.updates = 0
        self.checksums_verified = 0
        self.failures = 0

    def __call__(self, message: Any) -> None:
        """Apply one frame of the book channel."""
        self.probe.frame()
        if type(message) is not list:
            return
        kind = self.feed.feed(message).kind
        if kind is FeedKind.UPDATE:
            self.updates += 1
        elif kind is FeedKind.CHECKSUM_OK:
            self.checksums_verified += 1
        elif kind is not FeedKind.SNAPSHOT and kind is not FeedKind.HEARTBEAT:
            self.failures += 1



def _book_callback(probe: Probe, books: dict[str, OrderBook], symbol: str) -> Callable[[OrderBook], None]:
    """A maintained book's callback: the first call is the snapshot, each later one an update
    verified; keeps the book in ``books``."""
    update = probe.update

    def on_book(book: OrderBook) -> None:
        if symbol in books:
            update()
        else:
            books[symbol] = book

    return on_book


def run_books(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Keep (or just read) every book of the book stream; return the final books."""
    problems: list[str] = []

    def on_status(event: st.StatusEvent) -> None:
        if event.kind in BOOK_RUN_FAILURES:
            problems.append(event.describe())

    client = WssClient(url=plan.url, status_callback=on_status)
    maintained = plan.options["book"] == "maintained"
    books: dict[str, OrderBook] = {}
    for subscription in plan.subscriptions:
        callback = (_book_callback(probe, books, subscription.symbol) if maintained
                    else raw_frame_callback(probe, subscription))
        client.subscribe_to_orderbook(subscription.symbol, Subscription.BOOK_PRECISION, callback,
                                      Subscription.BOOK_FREQUENCY, Subscription.BOOK_LENGTH, maintained=maintained)
    client.start()
    try:
        probe.done.wait(plan.timeout)
    finally:
        client.stop()
    if problems:
        raise AssertionError(f"{len(problems)} error status event(s), the first: {problems[0]}")
    final = {
        symbol: book_sides([(level.price, level.amount) for level in book.bids()],
                           [(level.price, -level.amount) for level in book.asks()])
        for symbol, book in books.items()
    }
    return {"decoder": codec.DECODER_NAME, "books": final if maintained else None}
