"""pytest plugin (entry point ``bitfinex_exchange``): the ``bitfinex_exchange`` fixture.

::

    def test_my_bot(bitfinex_exchange):
        bot = MyBot(url=bitfinex_exchange.url, key=bitfinex_exchange.key, secret=bitfinex_exchange.secret)
        ...

    @pytest.mark.bitfinex_exchange(seed=7, heartbeat_interval=0.5, tick_interval=None)
    def test_with_options(bitfinex_exchange):
        ...

The marker's keyword arguments go to :class:`~bitfinex.testing.LocalExchange`. Markers merge
key by key, the closest winning: a module's ``pytestmark = pytest.mark.bitfinex_exchange(...)``
(or a class's marker) sets defaults for its tests, and a test's own marker overrides only the
keys it names. Importing this module stays cheap (Twisted loads only when the fixture is used),
since pytest loads it in every run of an environment where bitfinex-wss is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bitfinex.testing.exchange import LocalExchange

FIXTURE_DEFAULTS: dict[str, Any] = {"key": "test-key", "secret": "test-secret", "heartbeat_interval": 1.0}
"""What the fixture passes unless a marker says otherwise: a known key pair and one-second
heartbeats (the rest are :class:`~bitfinex.testing.LocalExchange`'s defaults)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bitfinex_exchange(**options): options for the bitfinex_exchange fixture's LocalExchange "
        "(merged key by key, the closest marker winning)",
    )


def _options(node: pytest.Item) -> dict[str, Any]:
    """The options for the exchange of test ``node``: :data:`FIXTURE_DEFAULTS`, updated by
    every ``bitfinex_exchange`` marker from the farthest (package, module, class) to the
    closest (the test itself, or its parameter set), so a closer marker overrides a farther one
    only in the keys it names.

    :raises TypeError: for a marker with positional arguments (options are keywords).
    """
    options = dict(FIXTURE_DEFAULTS)
    for marker in reversed(list(node.iter_markers("bitfinex_exchange"))):
        if marker.args:
            raise TypeError(f"the bitfinex_exchange marker takes keyword arguments only, not {marker.args!r}")
        options.update(marker.kwargs)
    return options


@pytest.fixture
def bitfinex_exchange(request: pytest.FixtureRequest) -> Iterator[LocalExchange]:
    """A started :class:`~bitfinex.testing.LocalExchange` on a free port, stopped after the test.

    Its account is ``key="test-key"``, ``secret="test-secret"``; heartbeats every second.
    Other options come from ``bitfinex_exchange`` markers, merged key by key: a module's
    ``pytestmark`` (or a class's marker) sets defaults, a test's own marker overrides the keys
    it names.
    """
    from bitfinex.testing.exchange import LocalExchange

    exchange = LocalExchange(**_options(request.node))
    exchange.start()
    try:
        yield exchange
    finally:
        exchange.stop()
