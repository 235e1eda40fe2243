"""Fixtures for tests that run ``WssClient`` against the local exchange.

Every client and exchange a test starts is stopped at teardown, and :func:`no_leaks` checks
that no thread or socket outlives them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bitfinex import WssClient
from bitfinex.testing import LocalExchange

from client_helpers import KEY, SECRET, Inbox, open_sockets, wait_until

pytest_plugins = ["pytester", "exchange_fixtures"]


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
