"""Helpers for tests that run ``WssClient`` against the local exchange (the fixtures are in
``conftest.py``). Every wait has a timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Optional

import psutil

from bitfinex import StatusEvent

KEY = "test-key"
SECRET = "test-secret-do-not-log-me"
TIMEOUT = 10.0


class Inbox:
    """A thread-safe callback that keeps what it is called with and lets a test wait for it."""

    def __init__(self, name: str = "inbox") -> None:
        self.name = name
        self._items: list[Any] = []
        self._condition = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._condition:
            self._items.append(item)
            self._condition.notify_all()

    @property
    def items(self) -> list[Any]:
        """A copy of everything received so far."""
        with self._condition:
            return list(self._items)

    def matching(self, predicate: Callable[[Any], bool]) -> list[Any]:
        """Everything received so far that satisfies ``predicate``."""
        return [item for item in self.items if _safe(predicate, item)]

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = TIMEOUT, count: int = 1) -> Any:
        """Wait until ``count`` items satisfy ``predicate``; return the last of them.

        :raises AssertionError: on timeout, showing the last items received.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [item for item in self._items if _safe(predicate, item)]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    tail = [str(item)[:160] for item in self._items[-8:]]
                    raise AssertionError(f"{self.name}: {count} matching item(s) not received in {timeout} s; last: {tail}")
                self._condition.wait(remaining)

    def wait_kind(self, kind: str, timeout: float = TIMEOUT, count: int = 1, **fields: Any) -> StatusEvent:
        """Wait for ``count`` status events of ``kind`` whose fields equal ``fields``."""
        return self.wait_for(
            lambda e: e.kind == kind and all(getattr(e, k) == v for k, v in fields.items()), timeout, count
        )


def _safe(predicate: Callable[[Any], bool], item: Any) -> bool:
    try:
        return bool(predicate(item))
    except (IndexError, KeyError, TypeError, AttributeError):
        return False


def is_event(name: str, **fields: Any) -> Callable[[Any], bool]:
    """Predicate: a ``{"event": name, ...}`` dict with these fields."""
    return lambda m: isinstance(m, dict) and m.get("event") == name and all(m.get(k) == v for k, v in fields.items())


def is_frame(kind: str) -> Callable[[Any], bool]:
    """Predicate: an account frame ``[0, kind, ...]`` (or a public ``[id, kind, ...]``)."""
    return lambda m: isinstance(m, list) and len(m) > 1 and m[1] == kind


def notification(request: str, cid: Optional[int] = None, status: Optional[str] = None) -> Callable[[Any], bool]:
    """Predicate: an ``n`` notification of ``request`` (``"on-req"``...), for ``cid``, with ``status``."""

    def match(m: Any) -> bool:
        if not (isinstance(m, list) and m[1] == "n" and m[2][1] == request):
            return False
        info = m[2][4]
        if cid is not None:
            found = info.get("cid") if isinstance(info, dict) else info[2]
            if found != cid:
                return False
        return status is None or m[2][6] == status

    return match


def is_data(chan_predicate: Callable[[Any], bool] = lambda body: True) -> Callable[[Any], bool]:
    """Predicate: a public data frame whose body (``msg[1]``) satisfies ``chan_predicate``."""
    return lambda m: isinstance(m, list) and isinstance(m[0], int) and m[1] != "hb" and chan_predicate(m[1])


def sent_frames(exchange: Any) -> list[Any]:
    """Every frame the exchange received from clients, decoded, in arrival order per connection."""
    return [entry.frame for log in exchange.received for entry in log.frames]


def sent_events(exchange: Any, name: str) -> list[dict[str, Any]]:
    """The ``{"event": name, ...}`` messages the exchange received from clients."""
    return [f for f in sent_frames(exchange) if isinstance(f, dict) and f.get("event") == name]


def open_sockets() -> int:
    """TCP sockets this process holds that are not just waiting out TIME_WAIT."""
    return sum(1 for c in psutil.Process().net_connections(kind="tcp") if c.status != psutil.CONN_TIME_WAIT)


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll ``condition`` every 10 ms until it holds. :raises AssertionError: on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(0.01)
