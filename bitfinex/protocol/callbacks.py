"""Running user callbacks: isolated and timed.

A callback that raises is logged with its traceback and reported as a ``callback_error``
status event; the stream goes on. A callback that blocks the reactor thread longer than the
threshold is reported as ``slow_callback`` (at most once per callback per
``slow_report_interval`` seconds, so a steadily slow callback does not flood the log).

What a callback may receive (which frames, in which shape) is decided before it is called: see
:mod:`bitfinex.protocol.shapes` and :mod:`bitfinex.protocol.routes`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional

from bitfinex.protocol import status as st

log = logging.getLogger("bitfinex.callbacks")

Callback = Callable[[Any], Any]
"""A user callback: called with one message."""


class CallbackRunner:
    """Runs user callbacks for one client and reports what goes wrong with them.

    :param report: where status events go.
    :param stopwatch: a monotonic, high-resolution clock in seconds that times how long a
        callback held the thread (``time.perf_counter``); the shell passes it in. It is not the
        scheduling clock: it measures, it never schedules.
    :param slow_threshold: seconds a callback may run before it is reported as slow.
    :param slow_report_interval: least seconds between two slow reports of one callback.
    """

    def __init__(
        self,
        report: st.StatusSink,
        stopwatch: Callable[[], float],
        slow_threshold: float = 0.25,
        slow_report_interval: float = 10.0,
    ) -> None:
        self.report = report
        self.stopwatch = stopwatch
        self.slow_threshold = slow_threshold
        self.slow_report_interval = slow_report_interval
        self._last_slow_report: dict[str, float] = {}

    def run(self, callback: Optional[Callback], message: Any, source: str) -> None:
        """Call ``callback(message)`` with isolation and timing (``source`` names it in reports)."""
        if callback is None:
            return
        stopwatch = self.stopwatch
        start = stopwatch()
        self.call(callback, message, source)
        elapsed = stopwatch() - start
        if elapsed > self.slow_threshold:
            self.slow(source, elapsed)

    def call(self, callback: Callback, message: Any, source: str) -> None:
        """Call ``callback(message)`` with isolation only: an exception is reported, never
        raised. For a caller that times the call itself (a connection times each frame,
        :meth:`~bitfinex.protocol.connection.ConnectionCore.received_many`)."""
        try:
            callback(message)
        except Exception as error:
            self.failed(source, error)

    def failed(self, source: str, error: BaseException) -> None:
        """Log a callback's exception with its traceback and report it."""
        log.error("callback for %s raised", source, exc_info=error)
        self.report(st.StatusEvent(st.CALLBACK_ERROR, subscription=source, reason=f"{type(error).__name__}: {error}"))

    def slow(self, source: str, elapsed: float) -> None:
        """Report a callback that held the reactor thread for ``elapsed`` seconds."""
        now = self.stopwatch()
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
