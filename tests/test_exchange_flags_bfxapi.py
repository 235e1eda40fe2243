"""Order flags on the local exchange through the official client, bitfinex-api-py 4 (``bfxapi``):
REDUCE_ONLY never flips, CLOSE closes, an OCO pair fills one leg and cancels the other,
POST_ONLY never takes, HIDDEN stays off the public book, NO_VAR_RATES is refused on margin,
gid cancels a group and meta comes back, all read through bfxapi's own models and events.

Slow tier: the official client on its own asyncio loop and websockets, over loopback.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from bitfinex.testing import LocalExchange
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS

from helpers import KEY, SECRET, Inbox, RawClient

bfxapi = pytest.importorskip("bfxapi", reason="bitfinex-api-py is not installed (it is in the test extra)")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.bitfinex_exchange(seed=1, heartbeat_interval=None, tick_interval=None, instruments=[DEFAULT_INSTRUMENTS[0]]),
]

EVENTS = (
    "authenticated", "order_new", "order_update", "order_cancel", "position_new", "position_update", "position_close",
    "on-req-notification", "oc-req-notification", "ou-req-notification", "notification",
)


class Official:
    """bitfinex-api-py's client on a thread of its own: the test awaits its inputs from here and
    waits for its events in :attr:`events` (``(name, model)`` pairs)."""

    def __init__(self, url: str) -> None:
        self.events = Inbox("bitfinex-api-py events")
        self.loop = asyncio.new_event_loop()
        self.client = bfxapi.Client(api_key=KEY, api_secret=SECRET, wss_host=url)
        for name in EVENTS:
            self.client.wss.on(name, self._recorder(name))
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="bitfinex-api-py", daemon=True)
        self._thread.start()
        self.wait("authenticated")

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.events((name, args[-1] if args else None))

        return record

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.client.wss.start())
        except BaseException as error:  # reported by close()
            self._failure.append(error)

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run one of the client's coroutines on its loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def wait(self, name: str, where: Callable[[Any], bool] = lambda model: True, start: int = 0) -> Any:
        """The first ``name`` event (from position ``start``) whose model satisfies ``where``."""
        return self.events.wait_for(lambda item: item[0] == name and where(item[1]), start=start)[1]

    def submit(self, **order: Any) -> int:
        """``submit_order`` (price keyword, None for MARKET); returns the events mark before it."""
        start = self.events.mark()
        price = order.pop("price", None)
        self.call(self.client.wss.inputs.submit_order(order.pop("type"), "tBTCUSD", order.pop("amount"), price, **order))
        return start

    def close(self) -> None:
        self.call(self.client.wss.close())
        self._thread.join(10)
        assert not self._thread.is_alive() and not self._failure, self._failure


@pytest.fixture
def official(bitfinex_exchange: LocalExchange) -> Iterator[Official]:
    client = Official(bitfinex_exchange.url)
    yield client
    client.close()


def position_amount(exchange: LocalExchange) -> float:
    positions = exchange.account_state().positions
    return positions[0][2] if positions else 0.0


def test_reduce_only_never_flips_and_close_closes(bitfinex_exchange, official):
    start = official.submit(type="MARKET", amount="0.02", cid=1)
    official.wait("position_new", start=start)
    official.wait("order_cancel", lambda o: o.cid == 1 and o.order_status.startswith("EXECUTED"), start)

    start = official.submit(type="MARKET", amount="-1", flags=1024, cid=2)
    accepted = official.wait("on-req-notification", lambda n: n.data.cid == 2, start)
    assert accepted.status == "SUCCESS"
    refused = official.wait("order_cancel", lambda o: o.cid == 2, start)
    assert refused.order_status == "RSN_POS_REDUCE_FLIP" and refused.flags == 1024
    assert position_amount(bitfinex_exchange) == pytest.approx(0.02)

    start = official.submit(type="MARKET", amount="-1", flags=512, cid=3)
    closed = official.wait("position_close", start=start)
    assert closed.symbol == "tBTCUSD" and closed.status == "CLOSED"
    done = official.wait("order_cancel", lambda o: o.cid == 3, start)
    assert done.amount_orig == pytest.approx(-0.02) and done.order_status.endswith("(note:POSCLOSE)")

    start = official.submit(type="MARKET", amount="-1", flags=512, cid=4)
    assert official.wait("order_cancel", lambda o: o.cid == 4, start).order_status == "RSN_POS_NOTFOUND"
    assert bitfinex_exchange.account_state().positions == []


def test_an_oco_pair_fills_one_leg_and_cancels_the_other(bitfinex_exchange, official):
    bid, ask = bitfinex_exchange.best_prices("tBTCUSD")
    start = official.submit(
        type="EXCHANGE LIMIT", amount="-0.1", price=str(ask - 1), price_oco_stop=str(bid - 100), flags=16384, cid=5, gid=9
    )
    limit_leg = official.wait("order_new", lambda o: o.order_type == "EXCHANGE LIMIT", start)
    stop_leg = official.wait("order_new", lambda o: o.order_type == "EXCHANGE STOP", start)
    assert stop_leg.placed_id == limit_leg.id and (stop_leg.cid, stop_leg.gid, stop_leg.flags) == (5, 9, 16384)
    assert stop_leg.price == float(bid - 100)

    start = official.events.mark()
    bitfinex_exchange.simulate_order("tBTCUSD", "0.04", str(ask - 1))
    cancelled = official.wait("order_cancel", start=start)
    assert (cancelled.id, cancelled.order_status) == (stop_leg.id, "CANCELED")
    partial = official.wait("order_update", lambda o: o.id == limit_leg.id, start)
    assert partial.order_status.startswith("PARTIALLY FILLED") and partial.amount == pytest.approx(-0.06)


def test_post_only_hidden_no_var_rates_gid_and_meta(bitfinex_exchange, official, connect):
    bid, ask = bitfinex_exchange.best_prices("tBTCUSD")
    start = official.submit(type="EXCHANGE LIMIT", amount="0.01", price=str(ask), flags=4096, cid=10)
    assert official.wait("order_cancel", lambda o: o.cid == 10, start).order_status == "POSTONLY CANCELED"

    observer: RawClient = connect(bitfinex_exchange.url)
    chan_id, _ = observer.subscribe(channel="book", symbol="tBTCUSD", prec="R0", len="250")
    start = official.submit(type="EXCHANGE LIMIT", amount="0.01", price=str(bid + 1), flags=64, cid=11, gid=5, meta={"tag": "h"})
    hidden = official.wait("order_new", lambda o: o.cid == 11, start)
    assert (hidden.hidden, hidden.flags, hidden.gid, hidden.meta) == (1, 64, 5, {"tag": "h"})
    start = official.submit(type="EXCHANGE LIMIT", amount="0.01", price="1000", cid=12, gid=5)
    shown = official.wait("order_new", lambda o: o.cid == 12, start)
    observer.wait_for(lambda f: isinstance(f, list) and f[0] == chan_id and f[1] == [shown.id, 1000, 0.01])
    updates = [f[1] for f in observer.channel_frames(chan_id)[1:] if isinstance(f[1], list)]
    assert hidden.id not in [entry[0] for entry in updates]

    start = official.submit(type="LIMIT", amount="0.01", price="1000", flags=524288, cid=13)
    refused = official.wait("on-req-notification", lambda n: n.data.cid == 13, start)
    assert refused.status == "ERROR" and refused.text.startswith("flags: invalid (NO_VAR_RATES")

    start = official.events.mark()
    official.call(official.client.wss.inputs.cancel_order_multi(gid=[5]))
    cancelled = official.events.wait_all(lambda item: item[0] == "order_cancel", 2, start=start)
    assert sorted(model.cid for _, model in cancelled) == [11, 12]
    assert cancelled[0][1].meta == {"tag": "h"} or cancelled[1][1].meta == {"tag": "h"}
    assert bitfinex_exchange.account_state().orders == []
