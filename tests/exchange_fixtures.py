"""pytest fixtures for driving the local exchange with :class:`exchange_client.RawClient`.

``conftest.py`` loads them as a plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

from bitfinex.testing import LocalExchange
from bitfinex.transport.reactor import ReactorThread

from exchange_client import KEY, SECRET, RawClient


@pytest.fixture
def client_reactor() -> Iterator[ReactorThread]:
    """A private reactor thread for test clients, stopped after the test."""
    thread = ReactorThread(name="test-clients")
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def connect(client_reactor: ReactorThread) -> Iterator[Callable[..., RawClient]]:
    """``connect(url, ca_pem=None)`` opens a :class:`RawClient`; all are closed after the test."""
    clients: list[RawClient] = []

    def open_client(url: str, ca_pem: Optional[bytes] = None) -> RawClient:
        client = RawClient(client_reactor, url, ca_pem)
        clients.append(client)
        return client.connect()

    yield open_client
    for client in clients:
        client.abort()


@pytest.fixture
def start_exchange() -> Iterator[Callable[..., LocalExchange]]:
    """``start_exchange(**options)`` starts a :class:`LocalExchange`, stopped after the test.

    Defaults for tests: account ``KEY``/``SECRET``, no heartbeats and no automatic ticks (the
    test moves the market with ``exchange.tick()``), seed 1.
    """
    exchanges: list[LocalExchange] = []

    def start(**options: Any) -> LocalExchange:
        settings = {"key": KEY, "secret": SECRET, "seed": 1, "heartbeat_interval": None, "tick_interval": None}
        exchange = LocalExchange(**{**settings, **options})
        exchanges.append(exchange)
        exchange.start()
        return exchange

    yield start
    for exchange in exchanges:
        exchange.stop()
