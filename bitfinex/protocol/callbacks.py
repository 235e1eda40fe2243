"""Handing frames to user callbacks: isolated, timed, and never with garbage.

A callback that raises is logged with its traceback and reported as a ``callback_error``
status event; the stream goes on. A callback that blocks the reactor thread longer than the
threshold is reported as ``slow_callback`` (at most once per callback per ``slow_report_interval``
seconds, so a steadily slow callback does not flood the log).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Optional

from bitfinex.protocol import status as st
from bitfinex.protocol.book import BookFeed, FeedKind, FeedResult

log = logging.getLogger("bitfinex.dispatch")

Callback = Callable[[Any], Any]
FrameHandler = Callable[[list[Any]], None]

TAGGED_FRAMES: dict[str, dict[str, type]] = {
    "ticker": {},
    "candles": {},
    "trades": {"te": list, "tu": list, "fte": list, "ftu": list},
    "book": {},
}
"""String tags each public channel may carry in ``msg[1]`` (besides ``"hb"``) and the type of
``msg[2]`` that must follow."""


class MalformedFrame(ValueError):
    """A frame that does not have the shape its channel promises."""


class CallbackRunner:
    """Runs user callbacks for one client and reports what goes wrong with them.

    :param report: where status events go.
    :param slow_threshold: seconds a callback may run before it is reported as slow.
    :param clock: a monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        report: st.StatusSink,
        slow_threshold: float = 0.25,
        clock: Callable[[], float] = time.perf_counter,
        slow_report_interval: float = 10.0,
    ) -> None:
        self.report = report
        self.slow_threshold = slow_threshold
        self.clock = clock
        self.slow_report_interval = slow_report_interval
        self._last_slow_report: dict[str, float] = {}

    def run(self, callback: Optional[Callback], message: Any, source: str) -> None:
        """Call ``callback(message)`` with isolation and timing (``source`` names it in reports)."""
        if callback is None:
            return
        clock = self.clock
        start = clock()
        try:
            callback(message)
        except Exception as error:
            self.failed(source, error)
        elapsed = clock() - start
        if elapsed > self.slow_threshold:
            self.slow(source, elapsed)

    def failed(self, source: str, error: BaseException) -> None:
        """Log a callback's exception with its traceback and report it."""
        log.error("callback for %s raised", source, exc_info=error)
        self.report(st.StatusEvent(st.CALLBACK_ERROR, subscription=source, reason=f"{type(error).__name__}: {error}"))

    def slow(self, source: str, elapsed: float) -> None:
        """Report a callback that held the reactor thread for ``elapsed`` seconds."""
        now = self.clock()
        last = self._last_slow_report.get(source)
        if last is not None and now - last < self.slow_report_interval:
            return
        self._last_slow_report[source] = now
        self.report(
            st.StatusEvent(
                st.SLOW_CALLBACK, subscription=source, delay=elapsed,
                reason="the callback blocks the reactor thread; hand long work to another thread",
            )
        )

    def frame_handler(self, channel: str, callback: Callback, source: str) -> FrameHandler:
        """Return the per-frame route of a public channel: drop heartbeats (and checksum frames,
        which a connection shared with a maintained book receives), deliver the rest to
        ``callback`` as Bitfinex sent them.

        :raises MalformedFrame: (from the route) for a frame the channel cannot carry; the
            connection logs and drops it.
        """
        tags = TAGGED_FRAMES[channel]
        skipped = ("hb", "cs") if channel == "book" else ("hb",)
        clock = self.clock
        threshold = self.slow_threshold

        def handle(msg: list[Any]) -> None:
            body = msg[1]
            if type(body) is not list:
                if body in skipped:
                    return
                expected = tags.get(body) if type(body) is str else None
                if expected is None or type(msg[2]) is not expected:
                    raise MalformedFrame(f"unexpected {body!r} frame for {source}")
            start = clock()
            try:
                callback(msg)
            except Exception as error:
                self.failed(source, error)
            elapsed = clock() - start
            if elapsed > threshold:
                self.slow(source, elapsed)

        return handle

    def book_handler(
        self, feed: BookFeed, callback: Callback, source: str, broken: Callable[[FeedResult], None]
    ) -> FrameHandler:
        """Return the per-frame route of a maintained book.

        Frames go through ``feed``; ``callback`` gets the book after its snapshot and after each
        checksum that verified it, so it never sees a book that failed one. A failed checksum
        or an unreadable entry goes to ``broken`` (which resubscribes to rebuild the book).
        """
        book = feed.book
        delivered = (FeedKind.SNAPSHOT, FeedKind.CHECKSUM_OK)

        def handle(msg: list[Any]) -> None:
            result = feed.feed(msg)
            if result.kind in delivered:
                self.run(callback, book, source)
            elif result.resubscribe_needed:
                broken(result)
            elif result.kind is FeedKind.CHECKSUM_MISMATCH_IGNORED:
                log.debug("%s: funding book checksum differs (not enforced): %s", source, result)

        return handle
