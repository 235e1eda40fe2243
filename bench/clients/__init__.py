"""The clients under test, in table order, and what each needs: one tuple of rows per workload.

Each :class:`ClientConfig` names the adapter module (``bench/clients/<adapter>.py``) that drives
the client and the options it passes. :data:`CLIENTS` are the firehose's rows,
:data:`BOOK_CLIENTS` the book workload's, :data:`ROUND_TRIP_CLIENTS` the order workload's and
:data:`CHANNEL_CLIENTS` the many-channels workload's. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from bench.harness import BOOKS_RUN, CHANNELS_RUN, LATENCY_RUN, ORDERS_RUN, SUBSCRIPTIONS_RUN, THROUGHPUT_RUN

ALL_CHANNELS = ("ticker", "trades", "book", "candles")


@dataclass(frozen=True)
class Peer:
    """A third-party client: the distribution to install.

    :param distribution: the PyPI name.
    :param version: the version measured (installed exactly).
    :param note: why it may live in a virtualenv of its own.
    """

    distribution: str
    version: str
    note: str = ""

    @property
    def requirement(self) -> str:
        """The pip requirement, ``name==version``."""
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class ClientConfig:
    """One row of the table.

    :param name: the row's label.
    :param adapter: module under ``bench.clients`` with ``run(plan, probe)``.
    :param options: passed to the adapter through the plan.
    :param block_orjson: run with ``import orjson`` failing (the client falls back to ``json``).
    :param requires: modules the runner's interpreter must have for this row (else: skipped).
    :param peer: set for third-party clients (may be missing; then shown as skipped).
    :param channels: channels it can subscribe (for the many-subscriptions run).
    :param measures: the measurements it takes part in.
    :param smoke: part of the quick smoke run.
    :param source: a directory whose ``bitfinex`` package the client imports instead of this
        checkout's (the rows ``--against REF`` adds: the same client built from another revision).
    """

    name: str
    adapter: str
    options: dict[str, Any] = field(default_factory=dict)
    block_orjson: bool = False
    requires: tuple[str, ...] = ()
    peer: Optional[Peer] = None
    channels: tuple[str, ...] = ALL_CHANNELS
    measures: tuple[str, ...] = (THROUGHPUT_RUN, LATENCY_RUN, SUBSCRIPTIONS_RUN)
    smoke: bool = True
    source: Optional[str] = None


BASELINE = "bare autobahn default, json"
"""The row every ratio divides by: default autobahn settings, ``onMessage``, ``json.loads``,
route by chanId."""
BARE_TUNED_JSON = "bare autobahn tuned, json"
BARE_TUNED_ORJSON = "bare autobahn tuned, orjson"
BARE_COUNT_ONLY = "bare autobahn tuned, count-only"
WSSCLIENT_JSON = "WssClient, json"
WSSCLIENT_ORJSON = "WssClient, orjson"
WSSCLIENT_BOOK = "WssClient, orjson + maintained book"

BITFINEX_API_PY = Peer("bitfinex-api-py", "4.0.0", note="pins websockets~=12.0")
CRYPTOFEED = Peer(
    "cryptofeed", "2.4.1",
    note="needs websockets>=14.1, which bitfinex-api-py 4.0.0 refuses, so it gets a virtualenv of its own",
)
CCXT = Peer("ccxt", "4.5.90", note="ccxt pro (ccxt.pro) and its aiohttp stack, kept apart from the other peers")
OFFICIAL = f"bitfinex-api-py {BITFINEX_API_PY.version}"
REVISION_ROWS = (WSSCLIENT_JSON, WSSCLIENT_ORJSON)
"""The rows ``python -m bench --against REF`` measures again, built from revision REF."""
CRYPTOFEED_NAME = f"cryptofeed {CRYPTOFEED.version}"

ALL_MEASURES = (THROUGHPUT_RUN, LATENCY_RUN, SUBSCRIPTIONS_RUN, ORDERS_RUN)

CLIENTS: tuple[ClientConfig, ...] = (
    ClientConfig(BASELINE, "bare", {"tuned": False, "decoder": "json"}),
    ClientConfig(BARE_TUNED_JSON, "bare", {"tuned": True, "decoder": "json"}),
    ClientConfig(BARE_TUNED_ORJSON, "bare", {"tuned": True, "decoder": "orjson"}, requires=("orjson",)),
    ClientConfig(BARE_COUNT_ONLY, "bare", {"tuned": True, "decoder": None},
                 measures=(THROUGHPUT_RUN, SUBSCRIPTIONS_RUN)),
    ClientConfig(WSSCLIENT_JSON, "wssclient", {"decoder": "json"}, block_orjson=True, measures=ALL_MEASURES),
    ClientConfig(WSSCLIENT_ORJSON, "wssclient", {"decoder": "orjson"}, requires=("orjson",), measures=ALL_MEASURES),
    ClientConfig(WSSCLIENT_BOOK, "wssclient", {"decoder": "orjson", "maintain_book": True}, requires=("orjson",),
                 measures=(THROUGHPUT_RUN,)),
    ClientConfig(OFFICIAL, "bfxapi", peer=BITFINEX_API_PY, smoke=False),
    ClientConfig(CRYPTOFEED_NAME, "cryptofeed", peer=CRYPTOFEED, channels=("ticker", "trades", "book"), smoke=False),
)


# -- the book workload ----------------------------------------------------------------------

BOOK_BASELINE = "bare autobahn tuned, orjson, dict book, no checksums"
"""The book workload's baseline: a tuned bare client keeping a dict per side, verifying nothing."""
BARE_BOOK_CHECKSUMS = "bare autobahn tuned, orjson, dict book + checksums in plain Python"
WSSCLIENT_BOOK_ORJSON = "WssClient, orjson, maintained book"
WSSCLIENT_BOOK_JSON = "WssClient, json, maintained book"
WSSCLIENT_BOOK_RAW = "WssClient, orjson, raw frames (no book)"
CRYPTOFEED_BOOK = f"cryptofeed {CRYPTOFEED.version} L2 book, uvloop off"
CCXT_BOOK = f"ccxt pro {CCXT.version} watch_order_book"
OFFICIAL_BOOK = f"{OFFICIAL}, its example's book"
"""The official client keeping the book its own example keeps (``bench/clients/bfxapi_books.py``)."""
BOOK_REVISION_ROWS = (WSSCLIENT_BOOK_ORJSON, WSSCLIENT_BOOK_JSON)
"""The book rows ``--against REF`` measures again, built from revision REF."""

BOOK_CLIENTS: tuple[ClientConfig, ...] = (
    ClientConfig(BOOK_BASELINE, "bare", {"tuned": True, "decoder": "orjson", "book": "dict"}, requires=("orjson",),
                 measures=(BOOKS_RUN,)),
    ClientConfig(BARE_BOOK_CHECKSUMS, "bare", {"tuned": True, "decoder": "orjson", "book": "checksum"},
                 requires=("orjson",), measures=(BOOKS_RUN,)),
    ClientConfig(WSSCLIENT_BOOK_ORJSON, "wssclient", {"decoder": "orjson", "book": "maintained"}, requires=("orjson",),
                 measures=(BOOKS_RUN,)),
    ClientConfig(WSSCLIENT_BOOK_JSON, "wssclient", {"decoder": "json", "book": "maintained"}, block_orjson=True,
                 measures=(BOOKS_RUN,)),
    ClientConfig(WSSCLIENT_BOOK_RAW, "wssclient", {"decoder": "orjson", "book": "raw"}, requires=("orjson",),
                 measures=(BOOKS_RUN,)),
    ClientConfig(OFFICIAL_BOOK, "bfxapi", peer=BITFINEX_API_PY, measures=(BOOKS_RUN,), smoke=False),
    ClientConfig(CRYPTOFEED_BOOK, "cryptofeed", {"uvloop": False}, peer=CRYPTOFEED, measures=(BOOKS_RUN,), smoke=False),
    ClientConfig(CCXT_BOOK, "ccxtpro", peer=CCXT, measures=(BOOKS_RUN,), smoke=False),
)
"""The book workload's rows; which keep a book and verify checksums is in the report."""

# -- the order workload ---------------------------------------------------------------------

ROUND_TRIP_BASELINE = "bare autobahn tuned, orjson"
"""The order workload's baseline: a tuned bare client sending the bytes WssClient sends."""
ROUND_TRIP_WSSCLIENT = "WssClient, orjson"
"""WssClient sending each order from the callback that got the previous one's ``on``."""
ROUND_TRIP_WSSCLIENT_JSON = "WssClient, json"
ROUND_TRIP_WSSCLIENT_THREAD = "WssClient, orjson, new_order from the main thread"

ROUND_TRIP_CLIENTS: tuple[ClientConfig, ...] = (
    ClientConfig(ROUND_TRIP_BASELINE, "bare_orders", {"decoder": "orjson"}, requires=("orjson",),
                 measures=(ORDERS_RUN,)),
    ClientConfig(ROUND_TRIP_WSSCLIENT, "wssclient", {"decoder": "orjson", "from_callback": True}, requires=("orjson",),
                 measures=(ORDERS_RUN,)),
    ClientConfig(ROUND_TRIP_WSSCLIENT_JSON, "wssclient", {"decoder": "json", "from_callback": True},
                 block_orjson=True, measures=(ORDERS_RUN,)),
    ClientConfig(ROUND_TRIP_WSSCLIENT_THREAD, "wssclient", {"decoder": "orjson"}, requires=("orjson",),
                 measures=(ORDERS_RUN,)),
    ClientConfig(OFFICIAL, "bfxapi", peer=BITFINEX_API_PY, measures=(ORDERS_RUN,), smoke=False),
)
"""The order workload's rows: ``new_order`` → ``on-req`` against the stand-in exchange."""

# -- the many-channels workload ---------------------------------------------------------------

CHANNEL_BASELINE = "WssClient, orjson, all on one connection"
"""The channels workload's baseline: every channel on one connection."""
WSSCLIENT_SHARDED = "WssClient, orjson, sharded (max_channels_per_connection)"
BARE_ONE_CONNECTION = "bare autobahn tuned, orjson, all on one connection"
BARE_SHARDED = "bare autobahn tuned, orjson, sharded"
CHANNEL_REVISION_ROWS = (WSSCLIENT_SHARDED,)

CHANNEL_CLIENTS: tuple[ClientConfig, ...] = (
    ClientConfig(CHANNEL_BASELINE, "wssclient", {"decoder": "orjson", "sharded": False}, requires=("orjson",),
                 measures=(CHANNELS_RUN,)),
    ClientConfig(WSSCLIENT_SHARDED, "wssclient", {"decoder": "orjson", "sharded": True}, requires=("orjson",),
                 measures=(CHANNELS_RUN,)),
    ClientConfig(BARE_ONE_CONNECTION, "bare", {"tuned": True, "decoder": "orjson", "sharded": False},
                 requires=("orjson",), measures=(CHANNELS_RUN,)),
    ClientConfig(BARE_SHARDED, "bare", {"tuned": True, "decoder": "orjson", "sharded": True}, requires=("orjson",),
                 measures=(CHANNELS_RUN,)),
)
"""The channels workload's rows: the same channels sharded over connections, or on one."""

ALL_CLIENTS = (*CLIENTS, *BOOK_CLIENTS, *ROUND_TRIP_CLIENTS, *CHANNEL_CLIENTS)
"""Every row of every workload (``--install-peers`` installs the peers among them)."""
