"""Client order ids (cids): millisecond timestamps, unique per client.

The original API reference documents a cid as "a mts date stamp of when the order was created". Bitfinex only
requires a cid to be unique per UTC day for an account, but two orders created in the same
millisecond would collide; :class:`CidGenerator` moves the second one a millisecond on instead.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable

MAX_CID = 2**45 - 1
"""Bitfinex takes a cid as an int45."""


class CidGenerator:
    """Strictly increasing millisecond cids, safe to call from any thread.

    :param wall_ms: wall clock in milliseconds since the epoch (injectable for tests).
    """

    def __init__(self, wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self._wall_ms = wall_ms
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        """Return a cid larger than every cid this generator returned before."""
        with self._lock:
            cid = max(self._wall_ms(), self._last + 1)
            self._last = cid
            return cid


PROCESS_CIDS = CidGenerator()
"""The generator every client in this process shares, so their cids never collide."""


def cid_to_date(cid: int | str) -> str:
    """Return the UTC date (``"YYYY-MM-DD"``) on which a timestamp cid was made.

    Reads millisecond cids (this library's, 13 digits) and the cids older clients of this API
    made from the time in seconds scaled by 10,000 (14 digits), 100,000 (15 digits) or
    10,000,000 (17 digits): the scale follows from the number of digits, since a time in seconds
    has 10 digits from 2001 to 2286. So stored cids keep working for ``cancel_order_cid``.

    :raises TypeError: if ``cid`` is not an int or a digit string.
    :raises ValueError: if ``cid`` is not a timestamp cid (fewer than 10 digits, or negative).
    """
    if isinstance(cid, bool) or not isinstance(cid, (int, str)):
        raise TypeError(f"cid must be an int, not {type(cid).__name__}")
    text = cid.strip() if isinstance(cid, str) else str(cid)
    if not text.isdigit():
        raise ValueError(f"cid must be a non-negative integer, got {cid!r}")
    number = int(text)
    digits = len(str(number))
    if digits < 10 or digits > 19:
        raise ValueError(f"cid {cid!r} is not a timestamp cid; give the order's UTC date yourself")
    seconds = number / 10 ** (digits - 10)
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d")
