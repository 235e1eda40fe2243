"""``bitfinex.WssClient``, the client under test, through its public API only.

Whether it decodes with orjson or json is decided when :mod:`bitfinex.protocol.codec` is
imported: the runner blocks ``orjson`` in the json row's process, and a run whose
``codec.DECODER_NAME`` is not the row's ``decoder`` option fails rather than mislabel a figure.

An ``orders`` run (against :class:`bitfinex.testing.LocalExchange`) authenticates and sends
orders one after another, each once the previous one's ``on`` arrived, timing ``new_order`` →
its ``on-req`` notification and → its ``on`` message at the auth callback. It then cancels them
all, so every run meets the same (empty) account.

With ``maintain_book`` the book callback keeps an order book with every ``cs`` checksum
verified: :class:`bitfinex.protocol.bookfeed.BookFeed`, the code ``subscribe_to_orderbook(...,
maintained=True)`` runs, fed here from the raw-frame callback so the row can count every
update it applied (the built-in path hands its callback the book only after each verified
checksum).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Optional

from bitfinex import WssClient
from bitfinex.protocol import codec
from bitfinex.protocol.book import OrderBook
from bitfinex.protocol.bookfeed import BookFeed, FeedKind

from bench.harness import ORDERS_RUN, ClientPlan, Probe, latency_summary, raw_frame_callback
from bench.wire import Subscription

ORDER = ("EXCHANGE LIMIT", "tBTCUSD", "0.0002", "20000")
"""``new_order``'s type, symbol, amount and price: a small buy far below the local exchange's
market (tBTCUSD near 30 000), so it rests."""
ORDER_TIMEOUT_SECONDS = 5.0


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


class OrderTimes:
    """The auth callback of an orders run: when each order's ``on-req`` and ``on`` arrived."""

    def __init__(self) -> None:
        self.on_request: dict[int, int] = {}
        self.on: dict[int, int] = {}
        self.refused: dict[int, str] = {}
        self.authenticated = threading.Event()
        self.all_cancelled = threading.Event()
        self.auth_error: Optional[str] = None
        self.arrived = threading.Condition()

    def __call__(self, message: Any) -> None:
        """Note the arrival time of the messages that matter."""
        now = time.monotonic_ns()
        if type(message) is dict:
            if message.get("event") == "auth":
                if message.get("status") != "OK":
                    self.auth_error = str(message.get("msg"))
                self.authenticated.set()
            return
        kind = message[1]
        if kind == "n" and message[2][1] == "on-req":
            notification = message[2]
            cid = notification[4][2]
            self.on_request[cid] = now
            if notification[6] != "SUCCESS":
                with self.arrived:
                    self.refused[cid] = str(notification[7])
                    self.arrived.notify_all()
        elif kind == "n" and message[2][1] == "oc_multi-req":  # the reply to the ox_multi's one oc_multi op
            self.all_cancelled.set()
        elif kind == "on":
            with self.arrived:
                self.on[message[2][2]] = now
                self.arrived.notify_all()

    def wait_for(self, cid: int, timeout: float) -> None:
        """Block until the order's ``on`` arrived.

        :raises RuntimeError: if the exchange refused it; TimeoutError if nothing came.
        """
        with self.arrived:
            if not self.arrived.wait_for(lambda: cid in self.on or cid in self.refused, timeout):
                raise TimeoutError(f"no 'on' for order {cid} within {timeout} s")
        if cid in self.refused:
            raise RuntimeError(f"order {cid} refused: {self.refused[cid]}")


def run_orders(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Authenticate, then time ``plan.options["orders"]`` orders one after another."""
    client = WssClient(plan.options["key"], plan.options["secret"], url=plan.url)
    times = OrderTimes()
    client.authenticate(times)
    client.start()
    sent: dict[int, int] = {}
    try:
        if not times.authenticated.wait(plan.timeout):
            raise TimeoutError("no auth answer")
        if times.auth_error is not None:
            raise RuntimeError(f"auth failed: {times.auth_error}")
        probe.mark_start()
        for _ in range(plan.options["orders"]):
            started = time.monotonic_ns()
            cid = client.new_order(*ORDER)
            assert cid is not None
            sent[cid] = started
            times.wait_for(cid, ORDER_TIMEOUT_SECONDS)
        probe.mark_end()
        client.multi_order([{"all": 1}])
        if not times.all_cancelled.wait(ORDER_TIMEOUT_SECONDS):
            raise TimeoutError("the cancel-all after the run was not acknowledged")
    finally:
        client.stop()
    return {
        "decoder": codec.DECODER_NAME,
        "orders": {
            "count": len(sent),
            "on_req_us": latency_summary([times.on_request[cid] - started for cid, started in sent.items()]),
            "on_us": latency_summary([times.on[cid] - started for cid, started in sent.items()]),
        },
    }


def _subscribe(client: WssClient, subscription: Subscription, callback: Callable[[Any], None]) -> None:
    if subscription.channel == "ticker":
        client.subscribe_to_ticker(subscription.symbol, callback)
    elif subscription.channel == "trades":
        client.subscribe_to_trades(subscription.symbol, callback)
    elif subscription.channel == "book":
        client.subscribe_to_orderbook(subscription.symbol, Subscription.BOOK_PRECISION, callback,
                                      Subscription.BOOK_FREQUENCY, Subscription.BOOK_LENGTH)
    else:
        client.subscribe_to_candles(subscription.symbol, Subscription.CANDLE_TIMEFRAME, callback)


def run(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Subscribe, start, wait for the probe, stop (or run the orders measurement)."""
    if plan.options["decoder"] != codec.DECODER_NAME:
        raise RuntimeError(f"WssClient decodes with {codec.DECODER_NAME} here, not {plan.options['decoder']}")
    if plan.measure == ORDERS_RUN:
        return run_orders(plan, probe)
    client = WssClient(url=plan.url)
    books: list[MaintainedBook] = []
    for subscription in plan.subscriptions:
        callback = raw_frame_callback(probe, subscription)
        if plan.options.get("maintain_book") and subscription.channel == "book":
            book = MaintainedBook(probe, subscription)
            books.append(book)
            callback = book
        _subscribe(client, subscription, callback)
    client.start()
    try:
        probe.done.wait(plan.timeout)
    finally:
        client.stop()
    extra: dict[str, Any] = {"decoder": codec.DECODER_NAME}
    if books:
        updates = sum(book.updates for book in books)
        failures = sum(book.failures for book in books)
        if failures:
            raise AssertionError(f"maintained book: {failures} checksum mismatches or bad frames")
        seconds = (probe.ended_ns - probe.started_ns) / 1e9
        extra["book"] = {
            "updates": updates,
            "checksums_verified": sum(book.checksums_verified for book in books),
            "updates_per_second": updates / seconds if seconds > 0 else None,
        }
    return extra
