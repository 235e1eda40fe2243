"""The clients under test, in table order, and what each needs.

Each :class:`ClientConfig` names the adapter module (``bench/clients/<adapter>.py``) that drives
the client and the options it passes. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from bench.harness import LATENCY_RUN, ORDERS_RUN, SUBSCRIPTIONS_RUN, THROUGHPUT_RUN

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
