"""pytest plugin (entry point ``bitfinex_exchange``): the ``bitfinex_exchange`` fixture.

::

    def test_my_bot(bitfinex_exchange):
        bot = MyBot(url=bitfinex_exchange.url, key=bitfinex_exchange.key, secret=bitfinex_exchange.secret)
        ...

    @pytest.mark.bitfinex_exchange(seed=7, heartbeat_interval=0.5, tick_interval=None)
    def test_with_options(bitfinex_exchange):
        ...

The marker's keyword arguments go to :class:`~bitfinex.testing.LocalExchange`. Importing this
module stays cheap (Twisted loads only when the fixture is used), since pytest loads it in every
run of an environment where bitfinex-wss is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bitfinex.testing.exchange import LocalExchange

FIXTURE_DEFAULTS: dict[str, Any] = {"key": "test-key", "secret": "test-secret", "heartbeat_interval": 1.0}
"""What the fixture passes unless the marker says otherwise: a known key pair and one-second
heartbeats (the rest are :class:`~bitfinex.testing.LocalExchange`'s defaults)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bitfinex_exchange(**options): options for the bitfinex_exchange fixture's LocalExchange",
    )


@pytest.fixture
def bitfinex_exchange(request: pytest.FixtureRequest) -> Iterator[LocalExchange]:
    """A started :class:`~bitfinex.testing.LocalExchange` on a free port, stopped after the test.

    Its account is ``key="test-key"``, ``secret="test-secret"``; options come from the
    ``bitfinex_exchange`` marker.
    """
    from bitfinex.testing.exchange import LocalExchange

    marker = request.node.get_closest_marker("bitfinex_exchange")
    options = {**FIXTURE_DEFAULTS, **(marker.kwargs if marker else {})}
    exchange = LocalExchange(**options)
    exchange.start()
    try:
        yield exchange
    finally:
        exchange.stop()
