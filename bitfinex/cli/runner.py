"""What the ``stream`` and ``book`` commands share: one way to build the client, run it, and stop.

A command subscribes through a :class:`~bitfinex.WssClient` whose callbacks (on the client's
reactor thread) only put what they receive into a mailbox; the main thread takes it out and
prints it. The command stops, stopping the client and with exit status 0, after ``--count``
items were shown, after ``--seconds``, on Ctrl-C (SIGINT) or SIGTERM, or when whoever reads
its output goes away; it stops with status 1 when the exchange refuses a subscription.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from types import FrameType
from typing import Any, Generic, Optional, Protocol, TypeVar

from bitfinex.client import WssClient
from bitfinex.protocol.status import (
    CLOSED_BY_CLIENT,
    CONNECTED,
    DISCONNECTED,
    GAVE_UP,
    SUBSCRIPTION_FAILED,
    StatusEvent,
)

T = TypeVar("T")

POLL_INTERVAL = 0.1
"""Longest the main thread waits for a message before it checks whether it should stop, in
seconds (how fast Ctrl-C and ``--seconds`` take effect)."""

MAX_PENDING = 10_000
"""Messages a :class:`Fifo` holds for the printing thread before it drops new ones."""

DROP_WARNING_EVERY = 1000
"""A :class:`Fifo` warns of its first dropped message, then of every this many more."""

log = logging.getLogger("bitfinex.cli")


class Mailbox(Protocol[T]):
    """Carries messages from the client's callbacks to the command's main thread."""

    def put(self, item: T) -> None:
        """Hand over one item (called on the reactor thread; never blocks)."""

    def get(self, timeout: float) -> Optional[T]:
        """Return the next item, or ``None`` if none came within ``timeout`` seconds."""


class Fifo(Generic[T]):
    """Every item, in order; past :data:`MAX_PENDING` unread items new ones are dropped (and
    counted) rather than stalling the client."""

    def __init__(self, capacity: int = MAX_PENDING) -> None:
        self._queue: queue.Queue[T] = queue.Queue(capacity)
        self.dropped = 0
        """Items dropped because the printing thread fell behind."""

    def put(self, item: T) -> None:
        """Queue ``item``, or drop it (with a warning now and then) if the queue is full."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            if self.dropped % DROP_WARNING_EVERY == 1:
                log.warning("the output is too slow: %d messages dropped so far", self.dropped)

    def get(self, timeout: float) -> Optional[T]:
        """The oldest queued item, waiting up to ``timeout`` seconds for one."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Newest(Generic[T]):
    """Only the newest item, handed out at most once per ``interval`` seconds: a view that
    redraws at a steady pace however fast the exchange updates it.

    :param interval: least time between two items handed out, in seconds.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._latest: deque[T] = deque(maxlen=1)
        self._changed = threading.Condition()
        self._next_at = 0.0

    def put(self, item: T) -> None:
        """Replace the held item with ``item``."""
        with self._changed:
            self._latest.append(item)
            self._changed.notify()

    def get(self, timeout: float) -> Optional[T]:
        """The newest item not handed out yet, once ``interval`` has passed since the last one
        (``None`` if that does not happen within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                now = time.monotonic()
                if self._latest and now >= self._next_at:
                    self._next_at = now + self.interval
                    return self._latest.pop()
                if now >= deadline:
                    return None
                self._changed.wait((min(self._next_at, deadline) if self._latest else deadline) - now)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every streaming command takes: ``--url``, ``--count``, ``--seconds``,
    ``--verbose``."""
    parser.add_argument(
        "--url",
        help="WebSocket endpoint (default: $BITFINEX_WS_URL, else Bitfinex's public endpoint)",
    )
    parser.add_argument("--count", type=positive(int), metavar="N", help="stop after N items were shown")
    parser.add_argument("--seconds", type=positive(float), metavar="S", help="stop after S seconds")
    parser.add_argument("--ca-file", metavar="PEM", help="trust this CA for wss:// (e.g. the one `serve --tls` prints)")
    parser.add_argument("--verbose", action="store_true", help="log connections and subscriptions to stderr")


def add_book_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--precision`` and ``--length``, the book subscription's options."""
    parser.add_argument("--precision", default="P0", help="book precision: P0 (default) to P4, or R0 for the raw book")
    parser.add_argument("--length", type=int, default=25, help="levels per side to subscribe to: 1, 25 (default), 100 or 250")


def positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` that parses with ``kind`` and refuses values that are not above 0."""

    def parse(text: str) -> Any:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its error messages
    return parse


def run(
    arguments: argparse.Namespace,
    mailbox: Mailbox[T],
    subscribe: Callable[[WssClient, Callable[[T], None]], None],
    show: Callable[[T], bool],
    record: Optional[str] = None,
) -> int:
    """Run a streaming command until it should stop; return its exit status.

    :param arguments: the parsed options of :func:`add_common_arguments`.
    :param mailbox: carries what the callbacks receive to this (the main) thread.
    :param subscribe: makes the command's subscriptions, given the client and the function its
        callbacks hand items to (before the client starts).
    :param show: prints one item; returns whether it counts towards ``--count``.
    :param record: record every frame the client receives into this file.
    :returns: 0 when stopped by ``--count``, ``--seconds``, a signal or a closed output; 1 when
        the exchange refused a subscription or the connection gave up (a refused certificate);
        2 when the client refused the arguments.
    """
    logging.basicConfig(
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="bitfinex-wss: %(message)s",
        stream=sys.stderr,
    )
    refusals: Fifo[StatusEvent] = Fifo()
    down: set[str] = set()

    def watch(event: StatusEvent) -> None:
        if event.kind in (SUBSCRIPTION_FAILED, GAVE_UP):
            refusals.put(event)
        elif event.kind == DISCONNECTED and event.reason != CLOSED_BY_CLIENT:
            down.add(event.connection)
        elif event.kind == CONNECTED and event.connection in down:
            down.discard(event.connection)
            if not arguments.verbose:  # --verbose logs it anyway
                log.warning("%s: connected again", event.connection)

    try:
        client = WssClient(url=arguments.url, status_callback=watch, record=record, ca_file=arguments.ca_file)
    except (OSError, TypeError, ValueError) as error:
        print(f"bitfinex-wss: {error}", file=sys.stderr)
        return 2
    with _Interruptible() as interrupted:
        try:
            subscribe(client, mailbox.put)
        except (TypeError, ValueError) as error:
            print(f"bitfinex-wss: {error}", file=sys.stderr)
            client.stop()
            return 2
        client.start()
        try:
            return _show_until_done(arguments, mailbox, show, refusals, interrupted)
        except BrokenPipeError:
            _silence_stdout()
            return 0
        finally:
            client.stop()


def _show_until_done(
    arguments: argparse.Namespace,
    mailbox: Mailbox[T],
    show: Callable[[T], bool],
    refusals: Fifo[StatusEvent],
    interrupted: threading.Event,
) -> int:
    """Show items until ``--count``, ``--seconds`` or a signal (0), or a refusal (1, which the
    client already logged as a warning)."""
    deadline = time.monotonic() + arguments.seconds if arguments.seconds else None
    shown = 0
    while not interrupted.is_set():
        if refusals.get(0) is not None:
            return 1
        wait = POLL_INTERVAL if deadline is None else min(POLL_INTERVAL, deadline - time.monotonic())
        if wait <= 0:
            break
        item = mailbox.get(wait)
        if item is not None and show(item):
            shown += 1
            if arguments.count and shown >= arguments.count:
                break
    return 0


class _Interruptible:
    """While active, SIGINT and SIGTERM set an event instead of raising in the main thread."""

    def __init__(self) -> None:
        self.interrupted = threading.Event()
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        self.interrupted.set()

    def __enter__(self) -> threading.Event:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self.interrupted

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _silence_stdout() -> None:
    """Whoever read our output went away (``| head``): send the rest to /dev/null, so the
    interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
