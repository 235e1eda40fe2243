"""The authenticated channel's outbox: orders go out once, in order, when they can.

Order inputs (``on``, ``oc``, ``oc_multi``, ``ou``, ``ox_multi``) wait in a FIFO until the
connection is authenticated and not paused for maintenance, then each is written exactly once:
an input is taken off the queue only when the socket accepted it, and nothing that was written
is ever sent again automatically (*at most once*). What cannot be sent (auth failed, client
stopped) is handed back so every cid is reported, never silently dropped.

``calc`` requests have their own queue, throttled to Bitfinex's 8 calculations per second so a
burst of ``calc`` calls does not get the client disconnected. Each ``calc()`` call stays one
message (split only where it holds more calculations than the throttle lets out at once), so
a name the server refuses cannot take other calls' requests down with it.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable
from typing import Any, Optional

from bitfinex.protocol.codec import dumps
from bitfinex.protocol.constants import CALCS_PER_SECOND
from bitfinex.protocol.orders import calc_message

Writer = Callable[[bytes], bool]
"""Writes one message to the socket; returns False if the socket could not take it."""


@dataclasses.dataclass(frozen=True)
class PendingInput:
    """An input waiting to be written.

    :param name: ``"on"``, ``"oc"``, ``"oc_multi"``, ``"ou"``, ``"ox_multi"``, ``"fon"``, ``"foc"`` or ``"calc"``.
    :param message: the whole ``[0, name, null, payload]`` input.
    :param cids: the cids the input carries (new orders, cancels by cid), for reports.
    """

    name: str
    message: list[Any]
    cids: tuple[int, ...] = ()


class CalcThrottle:
    """At most ``rate`` calculations in any ``window`` seconds (sans-I/O: time is passed in).

    :param rate: calculations allowed per window (Bitfinex: 8 per second).
    :param window: the window in seconds.
    """

    def __init__(self, rate: int = CALCS_PER_SECOND, window: float = 1.0) -> None:
        self.rate = rate
        self.window = window
        self._sent: collections.deque[float] = collections.deque()

    def available(self, now: float) -> int:
        """Return how many calculations may go out at ``now``."""
        sent = self._sent
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        return self.rate - len(sent)

    def record(self, now: float, count: int) -> None:
        """Note that ``count`` calculations went out at ``now``."""
        self._sent.extend([now] * count)

    def next_slot(self, now: float) -> float:
        """Return the seconds from ``now`` until one more calculation may go out."""
        return self.wait_for(now, 1)

    def wait_for(self, now: float, count: int) -> float:
        """Return the seconds from ``now`` until ``count`` (at most ``rate``) calculations may go."""
        missing = min(count, self.rate) - self.available(now)
        if missing <= 0:
            return 0.0
        return max(0.0, self._sent[missing - 1] + self.window - now)


class OrderPipeline:
    """Queues of order inputs and ``calc`` requests for the authenticated connection.

    :param clock: the shell's clock in seconds (the reactor's), for the calc throttle.
    """

    def __init__(self, clock: Callable[[], float], throttle: Optional[CalcThrottle] = None) -> None:
        self.clock = clock
        self.throttle = throttle or CalcThrottle()
        self.orders: collections.deque[PendingInput] = collections.deque()
        self.calcs: collections.deque[list[str]] = collections.deque()
        self.unconfirmed: dict[int, PendingInput] = {}
        """Written inputs, by cid, that the exchange has not answered yet."""

    def __len__(self) -> int:
        return len(self.orders) + len(self.calcs)

    def submit(self, pending: PendingInput) -> None:
        """Queue an order input."""
        self.orders.append(pending)

    def submit_calc(self, names: list[str]) -> None:
        """Queue one ``calc()`` call's request names (sent at most 8 per second)."""
        self.calcs.append(list(names))

    def flush(self, write: Writer, written: Optional[Callable[[PendingInput], None]] = None) -> Optional[float]:
        """Write what may go now, in order.

        :param written: called with each order input once the socket took it.
        :returns: seconds until more calc requests may go, or ``None`` if nothing is waiting
            on the throttle.
        """
        orders = self.orders
        while orders:
            if not write(dumps(orders[0].message)):
                return None
            pending = orders.popleft()
            for cid in pending.cids:
                self.unconfirmed[cid] = pending
            if written is not None:
                written(pending)
        calcs = self.calcs
        while calcs:
            now = self.clock()
            room = self.throttle.available(now)
            head = calcs[0]
            if room <= 0 or (room < len(head) and room < self.throttle.rate):
                return self.throttle.next_slot(now) if room <= 0 else self.throttle.wait_for(now, len(head))
            batch = head[:room]
            if not write(dumps(calc_message(batch))):
                return None
            self.throttle.record(now, len(batch))
            if len(batch) == len(head):
                calcs.popleft()
            else:
                del head[:room]
        return None

    def confirm(self, cids: list[int]) -> None:
        """The exchange answered about these cids."""
        for cid in cids:
            self.unconfirmed.pop(cid, None)

    def take_unconfirmed(self) -> list[tuple[int, PendingInput]]:
        """Take the written inputs still unanswered (the connection closed under them)."""
        taken = list(self.unconfirmed.items())
        self.unconfirmed.clear()
        return taken

    def drain(self) -> list[PendingInput]:
        """Take every queued input off the queues (to report them as not sent)."""
        pending = list(self.orders)
        self.orders.clear()
        pending.extend(PendingInput("calc", calc_message(names)) for names in self.calcs)
        self.calcs.clear()
        return pending
