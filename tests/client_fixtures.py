"""Fixtures and helpers for tests that run ``WssClient`` against the local exchange.

Test modules import the fixtures they use (``from client_fixtures import exchange, make_client``).
Every wait has a timeout; every client and exchange a test starts is stopped at teardown, and
:func:`no_leaks` checks that no thread or socket outlives them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Optional

import psutil
import pytest

from bitfinex import StatusEvent, WssClient
from bitfinex.testing import LocalExchange

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


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail the test if it leaves threads or sockets behind (checked after its other fixtures)."""
    threads_before = {t.ident for t in threading.enumerate()}
    sockets_before = open_sockets()
    yield
    wait_until(lambda: {t.ident for t in threading.enumerate()} <= threads_before, 5.0, "threads ended")
    wait_until(lambda: open_sockets() <= sockets_before, 5.0, "sockets closed")


@pytest.fixture
def exchange(no_leaks: None, request: pytest.FixtureRequest) -> Iterator[LocalExchange]:
    """A local exchange with fast ticks and half-second heartbeats (options via the
    ``exchange_options`` marker)."""
    marker = request.node.get_closest_marker("exchange_options")
    options: dict[str, Any] = {"key": KEY, "secret": SECRET, "heartbeat_interval": 0.5, "tick_interval": 0.05}
    options.update(marker.kwargs if marker else {})
    with LocalExchange(**options) as running:
        yield running


@pytest.fixture
def make_client(exchange: LocalExchange) -> Iterator[Callable[..., tuple[WssClient, Inbox]]]:
    """Make ``WssClient``\\ s pointed at the exchange, stopped at teardown. Returns
    ``(client, statuses)``; ``statuses`` collects the status events."""
    clients: list[WssClient] = []

    def make(**options: Any) -> tuple[WssClient, Inbox]:
        statuses = Inbox("statuses")
        settings: dict[str, Any] = {
            "key": KEY, "secret": SECRET, "url": exchange.url, "status_callback": statuses,
            "reconnect_base": 0.05, "reconnect_cap": 0.5,
        }
        settings.update(options)
        client = WssClient(**settings)
        clients.append(client)
        return client, statuses

    yield make
    for client in clients:
        client.stop()
