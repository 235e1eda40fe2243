"""``bitfinex.WssClient``, the client under test, through its public API only.

Whether it decodes with orjson or json is decided when :mod:`bitfinex.protocol.codec` is
imported: the runner blocks ``orjson`` in the json row's process, and a run whose
``codec.DECODER_NAME`` is not the row's ``decoder`` option fails rather than mislabel a figure.

An ``orders`` run (against :class:`bitfinex.testing.LocalExchange`, or the order workload's
stand-in, :mod:`bench.standin`) authenticates and sends orders one after another, each once the
previous one's ``on`` arrived (from the main thread, or with ``from_callback`` from the auth
callback that got it, on the reactor thread, as the bare client does), timing ``new_order`` →
its ``on-req`` notification and → its ``on`` message at the auth callback. It then cancels them
all, so every run meets the same (empty) account.

Book runs, and the firehose row that keeps a maintained book, are in
:mod:`bench.clients.wssclient_books`, imported only for them: ``--against REF`` runs this
adapter with an older revision's package, which has none of the book modules it uses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Optional

from bitfinex import WssClient
from bitfinex.protocol import codec

from bench.harness import BOOKS_RUN, ORDERS_RUN, ClientPlan, Probe, order_figures, raw_frame_callback
from bench.wire import ORDER, Subscription

ORDER_TIMEOUT_SECONDS = 5.0


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
        self.after_on: Callable[[], None] = lambda: None
        """Called in the callback after each ``on`` (from-callback runs send the next order)."""

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
            self.after_on()

    def wait_for(self, cid: int, timeout: float) -> None:
        """Block until the order's ``on`` arrived.

        :raises RuntimeError: if the exchange refused it; TimeoutError if nothing came.
        """
        with self.arrived:
            if not self.arrived.wait_for(lambda: cid in self.on or cid in self.refused, timeout):
                raise TimeoutError(f"no 'on' for order {cid} within {timeout} s")
        if cid in self.refused:
            raise RuntimeError(f"order {cid} refused: {self.refused[cid]}")


def _orders_from_callback(times: OrderTimes, orders: int, send: Callable[[], int]) -> None:
    """Send the first order, then each next one from the auth callback that gets the previous
    one's ``on`` (on the reactor thread, as the bare client does); wait for the last."""
    remaining = [orders]
    finished = threading.Event()

    def next_order() -> None:
        if remaining[0]:
            remaining[0] -= 1
            send()
        else:
            finished.set()

    times.after_on = next_order
    next_order()
    if not finished.wait(ORDER_TIMEOUT_SECONDS + orders / 100):
        raise TimeoutError(f"{remaining[0]} of {orders} orders not answered in time")


def run_orders(plan: ClientPlan, probe: Probe) -> dict[str, Any]:
    """Authenticate, then time ``plan.options["orders"]`` orders one after another: from the
    main thread, or (``from_callback``) each from the callback that got the previous one's
    ``on``."""
    client = WssClient(plan.options["key"], plan.options["secret"], url=plan.url)
    times = OrderTimes()
    client.authenticate(times)
    client.start()
    sent: dict[int, int] = {}

    def send() -> int:
        started = time.monotonic_ns()
        cid = client.new_order(*ORDER)
        assert cid is not None
        sent[cid] = started
        return cid

    try:
        if not times.authenticated.wait(plan.timeout):
            raise TimeoutError("no auth answer")
        if times.auth_error is not None:
            raise RuntimeError(f"auth failed: {times.auth_error}")
        probe.mark_start()
        if plan.options.get("from_callback"):
            _orders_from_callback(times, plan.options["orders"], send)
        else:
            for _ in range(plan.options["orders"]):
                times.wait_for(send(), ORDER_TIMEOUT_SECONDS)
        probe.mark_end()
        client.multi_order([{"all": 1}])
        if not times.all_cancelled.wait(ORDER_TIMEOUT_SECONDS):
            raise TimeoutError("the cancel-all after the run was not acknowledged")
    finally:
        client.stop()
    return {"decoder": codec.DECODER_NAME, "orders": order_figures(sent, times.on_request, times.on)}


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
    """Subscribe, start, wait for the probe, stop (or run the orders or books measurement)."""
    if plan.options["decoder"] != codec.DECODER_NAME:
        raise RuntimeError(f"WssClient decodes with {codec.DECODER_NAME} here, not {plan.options['decoder']}")
    if plan.measure == ORDERS_RUN:
        return run_orders(plan, probe)
    if plan.measure == BOOKS_RUN:
        from bench.clients.wssclient_books import run_books
        return run_books(plan, probe)
    sharding = {"max_channels_per_connection": plan.options["per_connection"]} if "per_connection" in plan.options else {}
    client = WssClient(url=plan.url, **sharding)
    books: list[Any] = []
    for subscription in plan.subscriptions:
        callback = raw_frame_callback(probe, subscription)
        if plan.options.get("maintain_book") and subscription.channel == "book":
            from bench.clients.wssclient_books import MaintainedBook
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
