"""A local Bitfinex-compatible exchange, for demos and tests (think moto for AWS).

It speaks the Bitfinex WebSocket API v2 — public channels (ticker, trades, books P0-P4 and R0
with checksums, candles), authentication, orders with fills, positions and wallets — over a
real WebSocket on loopback, from a seeded and reproducible market simulation, so any Bitfinex
client can connect to it: this package's own, ``bitfinex-api-py``, cryptofeed::

    from bitfinex.testing import LocalExchange

    with LocalExchange(key="k", secret="s", seed=1, heartbeat_interval=0.5) as exchange:
        exchange.url                        # "ws://127.0.0.1:54321"
        exchange.faults.drop_connections()  # and other faults on demand

Also: ``python -m bitfinex.testing`` (a standalone server) and the ``bitfinex_exchange`` pytest
fixture.
"""

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
