"""A local Bitfinex-compatible exchange, for demos and tests (think moto for AWS).

It speaks the Bitfinex WebSocket API v2 — public channels (ticker, trades, books P0-P4 and R0
with checksums, candles, the status of perpetual contracts and the liquidation feed),
authentication, orders with fills, positions and wallets, leverage, funding payments and
liquidations of derivative positions, funding offers that become credits and loans and earn
interest — over a real WebSocket on loopback,
from a seeded and reproducible market simulation, so any Bitfinex client can connect to it:
this package's own, ``bitfinex-api-py``, cryptofeed::

    from bitfinex.testing import LocalExchange

    with LocalExchange(key="k", secret="s", seed=1, heartbeat_interval=0.5) as exchange:
        exchange.url                        # "ws://127.0.0.1:54321"
        exchange.faults.drop_connections()  # and other faults on demand

Also: ``python -m bitfinex.testing`` (a standalone server) and the ``bitfinex_exchange`` pytest
fixture.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bitfinex.testing.exchange import AccountState, LocalExchange
    from bitfinex.testing.faults import MALFORMED_FRAMES, Faults
    from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS, Instrument
    from bitfinex.testing.market import PublicTrade
    from bitfinex.testing.server import ConnectionLog, ReceivedFrame
    from bitfinex.testing.tls import TestCertificates
    from bitfinex.testing.venue import ManualClock, Venue

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "MALFORMED_FRAMES",
    "AccountState",
    "ConnectionLog",
    "Faults",
    "Instrument",
    "LocalExchange",
    "ManualClock",
    "PublicTrade",
    "ReceivedFrame",
    "TestCertificates",
    "Venue",
]

# Where each name lives. They are imported on first use (PEP 562): the pytest plugin
# (``bitfinex.testing.pytest_plugin``), which pytest imports in every run, imports this package
# and must not pay for the exchange (Twisted, autobahn) until its fixture is used.
_LAZY = {
    "AccountState": "bitfinex.testing.exchange",
    "LocalExchange": "bitfinex.testing.exchange",
    "MALFORMED_FRAMES": "bitfinex.testing.faults",
    "Faults": "bitfinex.testing.faults",
    "DEFAULT_INSTRUMENTS": "bitfinex.testing.instruments",
    "Instrument": "bitfinex.testing.instruments",
    "PublicTrade": "bitfinex.testing.market",
    "ConnectionLog": "bitfinex.testing.server",
    "ReceivedFrame": "bitfinex.testing.server",
    "TestCertificates": "bitfinex.testing.tls",
    "ManualClock": "bitfinex.testing.venue",
    "Venue": "bitfinex.testing.venue",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
