"""When to (re)connect: exponential backoff with jitter, and Bitfinex's connection-rate limits.

Both are sans-I/O: they take the time and a random source as arguments and return delays.
"""

from __future__ import annotations

import collections
import random
from typing import Optional


class Backoff:
    """Delays between reconnect attempts: exponential, capped, with jitter.

    Attempt ``n`` (from 1) waits a random time between half and all of
    ``min(cap, base * 2 ** (n - 1))``, so the first retry comes within ``base`` seconds and many
    clients do not reconnect in lockstep.

    :param base: the first delay's upper bound in seconds (default 1).
    :param cap: the longest delay in seconds (default 30).
    :param rng: random source (injectable for tests).
    """

    def __init__(self, base: float = 1.0, cap: float = 30.0, rng: Optional[random.Random] = None) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"reconnect delays need 0 < base <= cap; got base={base}, cap={cap}")
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()
        self.attempt = 0

    def next_delay(self) -> float:
        """Count one more attempt and return how long to wait before it."""
        self.attempt += 1
        ceiling = min(self.cap, self.base * float(2 ** min(self.attempt - 1, 62)))
        return ceiling / 2 + float(self.rng.uniform(0, ceiling / 2))

    def reset(self) -> None:
        """Start over after a connection that worked."""
        self.attempt = 0


class RateLimiter:
    """At most ``limit`` events in any ``window`` seconds (connection attempts, here).

    :param limit: events allowed per window.
    :param window: the window in seconds.
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"a rate limit needs limit >= 1 and window > 0; got {limit}/{window}s")
        self.limit = limit
        self.window = window
        self._times: collections.deque[float] = collections.deque()

    def delay(self, now: float) -> float:
        """Return the seconds from ``now`` until one more event is allowed (0 if it is now)."""
        times = self._times
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.limit:
            return 0.0
        return times[0] + self.window - now

    def record(self, now: float) -> None:
        """Note an event at ``now``."""
        self._times.append(now)
