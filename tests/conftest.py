"""Fixtures of the project's tests. The exchange is the one the project ships:
``bitfinex_exchange`` (``bitfinex/testing/pytest_plugin.py``, loaded through its ``pytest11``
entry point), configured by ``bitfinex_exchange`` markers; a module sets its defaults with
``pytestmark`` (:data:`helpers.LIVE_MARKET`, :data:`helpers.STILL_MARKET`) and a test's own
marker overrides them key by key.

Every client a fixture makes is stopped at teardown, and :func:`no_leaks` (used by the modules
that run ``WssClient`` over loopback) checks that no thread or socket outlives the test.

Tiers: a module of the slow tier says so, and why, in its docstring and its ``pytestmark``
(``pytest.mark.slow``). ``pytest -m "not slow"`` is the fast tier to iterate with (the
sans-I/O core, the memory network, the quick loopback modules; 30 s is its budget on two cores);
``pytest`` runs both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, settings

from bitfinex import WssClient
from bitfinex.testing import LocalExchange
from bitfinex.transport.reactor import ReactorThread

from helpers import Inbox, RawClient, open_sockets, wait_until

pytest_plugins = ["pytester"]

# No property test asserts on time: the suite shares the cores among its workers (pytest-xdist),
# so a per-example deadline or the too-slow health check would fail a test for a busy core.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail the test if it leaves threads or sockets behind (checked after its other fixtures,
    when it is set up first: ``pytest.mark.usefixtures("no_leaks")`` or a first argument)."""
    threads_before = {t.ident for t in threading.enumerate()}
    sockets_before = open_sockets()
    yield
    wait_until(lambda: {t.ident for t in threading.enumerate()} <= threads_before, 5.0, "threads ended")
    wait_until(lambda: open_sockets() <= sockets_before, 5.0, "sockets closed")


@pytest.fixture
def make_client(bitfinex_exchange: LocalExchange) -> Iterator[Callable[..., tuple[WssClient, Inbox]]]:
    """Make ``WssClient``\\ s with the exchange's key pair, pointed at it, stopped at teardown.
    Returns ``(client, statuses)``; ``statuses`` collects the status events."""
    clients: list[WssClient] = []

    def make(**options: Any) -> tuple[WssClient, Inbox]:
        statuses = Inbox("statuses")
        settings: dict[str, Any] = {
            "key": bitfinex_exchange.key, "secret": bitfinex_exchange.secret, "url": bitfinex_exchange.url,
            "status_callback": statuses, "reconnect_base": 0.05, "reconnect_cap": 0.5,
        }
        settings.update(options)
        client = WssClient(**settings)
        clients.append(client)
        return client, statuses

    yield make
    for client in clients:
        client.stop()


@pytest.fixture
def client_reactor() -> Iterator[ReactorThread]:
    """A private reactor thread for :class:`~helpers.RawClient`\\ s, stopped after the test."""
    thread = ReactorThread(name="test-clients")
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def connect(client_reactor: ReactorThread) -> Iterator[Callable[..., RawClient]]:
    """``connect(url, ca_pem=None)`` opens a :class:`~helpers.RawClient`; all are dropped
    after the test."""
    clients: list[RawClient] = []

    def open_client(url: str, ca_pem: Optional[bytes] = None) -> RawClient:
        client = RawClient(client_reactor, url, ca_pem)
        clients.append(client)
        return client.connect()

    yield open_client
    for client in clients:
        client.abort()
