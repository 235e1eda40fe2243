"""Order flags and options on the local exchange, through a bare WebSocket client: REDUCE_ONLY,
CLOSE, OCO, POST_ONLY, HIDDEN, NO_VAR_RATES, gid, meta, lev; every flag bit is either emulated
or refused; malformed inputs of every order input get an ERROR notification, never a
traceback; ``ox_multi`` answers each operation as it answers it alone.

What each flag does, and where that comes from, is :data:`bitfinex.testing.orderinput.ORDER_FLAGS`.

Slow tier: some fifty loopback exchanges (one instrument each), their clients, and one more
exchange for the two hundred bad inputs (about 4 s).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from bitfinex.protocol.constants import OrderFlag
from bitfinex.testing import LocalExchange
from bitfinex.testing.accounts import utc_date
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS
from bitfinex.testing.orderinput import DOCUMENTED_FLAGS, ORDER_FLAGS
from bitfinex.transport.reactor import ReactorThread

from helpers import KEY, SECRET, RawClient, assert_nothing_escaped, is_account, read_frames_with

BTCUSD = DEFAULT_INSTRUMENTS[0]
"""The one instrument these exchanges list (an exchange with one market starts in 20 ms)."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.bitfinex_exchange(seed=1, heartbeat_interval=None, tick_interval=None, instruments=[BTCUSD]),
]

HIDDEN, CLOSE, REDUCE_ONLY, POST_ONLY, OCO, NO_VAR_RATES = (
    int(OrderFlag.HIDDEN), int(OrderFlag.CLOSE), int(OrderFlag.REDUCE_ONLY),
    int(OrderFlag.POST_ONLY), int(OrderFlag.OCO), int(OrderFlag.NO_VAR_RATES),
)

Frame = list[Any]


class Trader:
    """An authenticated bare client: every request returns the account frames it caused
    (``[0, KIND, DATA]``), up to a ``ping`` barrier the exchange answers after them."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self._barriers = itertools.count(1_000_000)

    def during(self, action: Callable[[], Any]) -> list[Frame]:
        """Run ``action`` (send a frame, make the simulation trade...) and return the account
        frames that came of it."""
        start = self.client.mark()
        action()
        cid = next(self._barriers)
        self.client.send({"event": "ping", "cid": cid})
        self.client.wait_event("pong", start=start, cid=cid)
        frames: list[Frame] = []
        for frame in self.client.snapshot(start):
            if isinstance(frame, dict) and frame.get("event") == "pong" and frame.get("cid") == cid:
                break
            if isinstance(frame, list) and frame and frame[0] == 0 and frame[1] != "hb":
                frames.append(frame)
            elif isinstance(frame, dict) and frame.get("event") == "error":
                frames.append([0, "error", frame])
        return frames

    def send(self, operation: str, payload: Any) -> list[Frame]:
        return self.during(lambda: self.client.send([0, operation, None, payload]))

    def send_text(self, text: str) -> list[Frame]:
        return self.during(lambda: self.client.send_text(text))

    def submit(self, **payload: Any) -> tuple[list[Any], list[Frame]]:
        """Send ``on``; return its ``on-req`` body and every frame it caused."""
        frames = self.send("on", payload)
        return notification(frames, "on-req"), frames


def notification(frames: list[Frame], request: str) -> list[Any]:
    found = [f[2] for f in frames if f[1] == "n" and f[2][1] == request]
    assert len(found) == 1, frames
    return found[0]


def events(frames: list[Frame], *kinds: str) -> list[list[Any]]:
    return [f[2] for f in frames if f[1] in kinds]


def kinds(frames: list[Frame]) -> list[str]:
    return [f[1] if f[1] != "n" else f"n:{f[2][1]}" for f in frames if f[1] not in ("wu", "bu", "miu")]


@pytest.fixture
def trader(bitfinex_exchange: LocalExchange, connect: Callable[..., RawClient]) -> Trader:
    client = connect(bitfinex_exchange.url)
    client.authenticate(KEY, SECRET, 1)
    client.wait_for(is_account("bu"))
    return Trader(client)


def position(exchange: LocalExchange) -> Decimal:
    positions = exchange.account_state().positions
    return Decimal(repr(positions[0][2])) if positions else Decimal(0)


def open_long(trader: Trader, amount: str = "0.02") -> None:
    note, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount=amount)
    assert note[6] == "SUCCESS" and events(frames, "oc")[-1][13].startswith("EXECUTED")


# -- REDUCE_ONLY -------------------------------------------------------------------------------


def test_reduce_only_market_sell_larger_than_the_long_is_cancelled_not_flipped(bitfinex_exchange, trader):
    """The user run: a REDUCE_ONLY MARKET sell of 1 against a 0.02 long flipped to a 0.98 short."""
    open_long(trader)
    note, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount="-1", flags=REDUCE_ONLY, cid=3)
    assert note[6:] == ["SUCCESS", "Submitting market sell order for 1 BTC."]
    assert kinds(frames) == ["n:on-req", "oc"]
    cancelled = events(frames, "oc")[0]
    assert (cancelled[2], cancelled[12], cancelled[13]) == (3, REDUCE_ONLY, "RSN_POS_REDUCE_FLIP")
    assert position(bitfinex_exchange) == Decimal("0.02")


@pytest.mark.parametrize(
    ("opening", "amount", "status"),
    [
        (None, "-0.01", "RSN_POS_NOTFOUND"),
        ("0.02", "0.01", "RSN_POS_REDUCE_INCR"),
        ("-0.02", "-0.01", "RSN_POS_REDUCE_INCR"),
        ("-0.02", "0.03", "RSN_POS_REDUCE_FLIP"),
    ],
)
def test_reduce_only_that_cannot_reduce_is_cancelled_with_its_status(bitfinex_exchange, trader, opening, amount, status):
    if opening is not None:
        open_long(trader, opening)
    before = position(bitfinex_exchange)
    _, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount=amount, flags=REDUCE_ONLY)
    assert [o[13] for o in events(frames, "oc")] == [status]
    assert events(frames, "te", "pn", "pu", "pc") == [] and position(bitfinex_exchange) == before


def test_reduce_only_exchange_orders_have_no_position(trader):
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.01", price="40000", flags=REDUCE_ONLY)
    assert [o[13] for o in events(frames, "oc")] == ["RSN_POS_NOTFOUND"] and events(frames, "on") == []


def test_reduce_only_within_the_position_executes_and_never_flips(bitfinex_exchange, trader):
    open_long(trader, "0.05")
    for _ in range(2):
        _, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount="-0.02", flags=REDUCE_ONLY)
        assert events(frames, "oc")[-1][13].startswith("EXECUTED @ ")
    assert position(bitfinex_exchange) == Decimal("0.01")
    _, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount="-0.02", flags=REDUCE_ONLY)
    assert events(frames, "oc")[-1][13] == "RSN_POS_REDUCE_FLIP" and position(bitfinex_exchange) == Decimal("0.01")
    _, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount="-0.01", flags=REDUCE_ONLY)
    assert events(frames, "pc") and position(bitfinex_exchange) == 0


def test_a_resting_reduce_only_order_is_cancelled_when_a_fill_would_flip(bitfinex_exchange, trader):
    """Checked before each maker fill: the position shrank after the order was placed."""
    open_long(trader, "0.05")
    _, ask = bitfinex_exchange.best_prices("tBTCUSD")
    price = ask - 1
    _, frames = trader.submit(type="LIMIT", symbol="tBTCUSD", amount="-0.05", price=str(price), flags=REDUCE_ONLY)
    resting = events(frames, "on")[0]
    assert resting[13] == "ACTIVE" and resting[12] == REDUCE_ONLY
    trader.submit(type="MARKET", symbol="tBTCUSD", amount="-0.03")
    assert position(bitfinex_exchange) == Decimal("0.02")
    frames = trader.during(lambda: bitfinex_exchange.simulate_order("tBTCUSD", "0.05", str(price)))
    assert [(o[0], o[13]) for o in events(frames, "oc")] == [(resting[0], "RSN_POS_REDUCE_FLIP")]
    assert events(frames, "te") == [] and position(bitfinex_exchange) == Decimal("0.02")


def test_a_resting_reduce_only_order_fills_while_it_reduces(bitfinex_exchange, trader):
    open_long(trader, "0.05")
    _, ask = bitfinex_exchange.best_prices("tBTCUSD")
    trader.submit(type="LIMIT", symbol="tBTCUSD", amount="-0.04", price=str(ask - 1), flags=REDUCE_ONLY)
    frames = trader.during(lambda: bitfinex_exchange.simulate_order("tBTCUSD", "0.04", str(ask - 1)))
    assert events(frames, "oc")[-1][13].startswith("EXECUTED @ ") and position(bitfinex_exchange) == Decimal("0.01")


# -- CLOSE -------------------------------------------------------------------------------------


def test_close_takes_the_whole_position_whatever_the_amount(bitfinex_exchange, trader):
    open_long(trader, "0.02")
    note, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount="-1", flags=CLOSE)
    assert note[4][6] == -0.02 and note[7] == "Submitting market sell order for 0.02 BTC."
    done = events(frames, "oc")[-1]
    assert done[7] == -0.02 and done[13].startswith("EXECUTED @ ") and done[13].endswith(" was ACTIVE (note:POSCLOSE)")
    assert events(frames, "pc") and bitfinex_exchange.account_state().positions == []


def test_close_of_a_short_buys_it_back(bitfinex_exchange, trader):
    open_long(trader, "-0.03")
    _, frames = trader.submit(type="MARKET", symbol="tBTCUSD", amount="0.5", flags=CLOSE)
    assert events(frames, "oc")[-1][7] == 0.03 and bitfinex_exchange.account_state().positions == []


@pytest.mark.parametrize("order_type", ["MARKET", "EXCHANGE MARKET"])
def test_close_without_a_position_is_cancelled_and_opens_none(bitfinex_exchange, trader, order_type):
    """The user run: CLOSE with no position opened a new short."""
    note, frames = trader.submit(type=order_type, symbol="tBTCUSD", amount="-0.1", flags=CLOSE)
    assert note[6] == "SUCCESS" and [o[13] for o in events(frames, "oc")] == ["RSN_POS_NOTFOUND"]
    assert events(frames, "te", "pn") == [] and bitfinex_exchange.account_state().positions == []


# -- OCO ---------------------------------------------------------------------------------------


def place_oco(exchange: LocalExchange, trader: Trader, **extra: Any) -> tuple[list[Any], list[Any], Decimal, Decimal]:
    bid, ask = exchange.best_prices("tBTCUSD")
    limit, stop = ask - 1, bid - 100  # the limit leg is the best ask, so the next buy hits it
    note, frames = trader.submit(
        type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.1", price=str(limit), price_oco_stop=str(stop),
        flags=OCO, cid=21, gid=4, **extra,
    )
    assert note[6] == "SUCCESS" and note[4][12] == OCO
    placed = events(frames, "on")
    assert len(placed) == 2, frames
    return placed[0], placed[1], limit, stop


def test_oco_places_a_limit_order_and_its_stop_leg(bitfinex_exchange, trader):
    limit_leg, stop_leg, limit, stop = place_oco(bitfinex_exchange, trader, meta={"tag": "x"})
    assert (limit_leg[8], limit_leg[16], limit_leg[25]) == ("EXCHANGE LIMIT", float(limit), None)
    assert (stop_leg[8], stop_leg[16], stop_leg[25]) == ("EXCHANGE STOP", float(stop), limit_leg[0])
    for leg in (limit_leg, stop_leg):
        assert (leg[1], leg[2], leg[6], leg[12], leg[31]) == (4, 21, -0.1, OCO, {"tag": "x"})
    orders = bitfinex_exchange.account_state().orders
    assert sorted(o[0] for o in orders) == sorted([limit_leg[0], stop_leg[0]])


def test_oco_a_fill_of_the_limit_leg_cancels_the_stop_leg(bitfinex_exchange, trader):
    limit_leg, stop_leg, limit, _ = place_oco(bitfinex_exchange, trader)
    frames = trader.during(lambda: bitfinex_exchange.simulate_order("tBTCUSD", "0.04", str(limit)))
    assert [(o[0], o[13]) for o in events(frames, "oc")] == [(stop_leg[0], "CANCELED")]
    partial = events(frames, "ou")[-1]
    assert partial[0] == limit_leg[0] and partial[13].startswith("PARTIALLY FILLED")
    assert [o[0] for o in bitfinex_exchange.account_state().orders] == [limit_leg[0]]


def test_oco_the_stop_leg_triggering_cancels_the_limit_leg(bitfinex_exchange, trader):
    limit_leg, stop_leg, _, stop = place_oco(bitfinex_exchange, trader)
    frames = trader.during(lambda: bitfinex_exchange.simulate_order("tBTCUSD", "-50", str(stop - 10)))
    closed = [(o[0], o[13]) for o in events(frames, "oc")]
    assert closed[0] == (limit_leg[0], "CANCELED")
    assert closed[-1][0] == stop_leg[0] and closed[-1][1].startswith("EXECUTED @ ")
    triggered = next(o for o in events(frames, "ou") if o[0] == stop_leg[0])
    assert (triggered[8], triggered[9]) == ("EXCHANGE MARKET", "EXCHANGE STOP")
    assert bitfinex_exchange.account_state().orders == []


@pytest.mark.parametrize("leg", [0, 1])
def test_oco_cancelling_one_leg_cancels_the_other(bitfinex_exchange, trader, leg):
    legs = place_oco(bitfinex_exchange, trader)[:2]
    frames = trader.send("oc", {"id": legs[leg][0]})
    assert notification(frames, "oc-req")[6] == "SUCCESS"
    assert sorted((o[0], o[13]) for o in events(frames, "oc")) == sorted((o[0], "CANCELED") for o in legs)


def test_oco_limit_that_fills_on_entry_places_no_stop_leg(bitfinex_exchange, trader):
    bid, _ = bitfinex_exchange.best_prices("tBTCUSD")
    _, frames = trader.submit(
        type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.01", price=str(bid - 50), price_oco_stop=str(bid - 500), flags=OCO
    )
    assert events(frames, "on") == [] and events(frames, "oc")[-1][13].startswith("EXECUTED")
    assert bitfinex_exchange.account_state().orders == []


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({"type": "EXCHANGE LIMIT", "price": "40000"}, "price_oco_stop: invalid"),
        ({"type": "EXCHANGE LIMIT", "price": "40000", "price_oco_stop": "abc"}, "price_oco_stop: invalid"),
        ({"type": "EXCHANGE MARKET", "price_oco_stop": "20000"}, "flags: invalid (OCO needs a LIMIT or EXCHANGE LIMIT order)"),
    ],
)
def test_oco_refusals(trader, payload, text):
    note, frames = trader.submit(symbol="tBTCUSD", amount="-0.01", flags=OCO, cid=8, **payload)
    assert note[6:] == ["ERROR", text] and note[4][2] == 8 and kinds(frames) == ["n:on-req"]


def test_price_oco_stop_without_the_flag_is_ignored_as_bitfinex_does(bitfinex_exchange, trader):
    """bitfinex-api-py issue 251: only the limit order is placed."""
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.01", price="40000", price_oco_stop="20000")
    assert len(events(frames, "on")) == 1 and len(bitfinex_exchange.account_state().orders) == 1


def test_oco_pair_reserves_its_funds_once(bitfinex_exchange, connect):
    bitfinex_exchange.add_account("thin", "s", balances={("exchange", "BTC"): "0.1", ("exchange", "USD"): "0"})
    client = connect(bitfinex_exchange.url)
    client.authenticate("thin", "s", 1)
    client.wait_for(is_account("bu"))
    thin = Trader(client)
    _, ask = bitfinex_exchange.best_prices("tBTCUSD")
    note, frames = thin.submit(
        type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.1", price=str(ask + 100), price_oco_stop="20000", flags=OCO
    )
    assert note[6] == "SUCCESS" and len(events(frames, "on")) == 2
    note, _ = thin.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.01", price=str(ask + 100))
    assert note[6:] == ["ERROR", f"Invalid order: not enough exchange balance for -0.01 BTCUSD at {ask + 100}"]


# -- POST_ONLY, HIDDEN -------------------------------------------------------------------------


@pytest.fixture
def observer(bitfinex_exchange: LocalExchange, connect: Callable[..., RawClient]) -> tuple[RawClient, int]:
    client = connect(bitfinex_exchange.url)
    chan_id, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0", len="250")
    return client, chan_id


def raw_book_ids(observer: tuple[RawClient, int]) -> set[int]:
    """The order ids the observer's R0 book shows now."""
    client, chan_id = observer
    start = client.mark()
    client.send({"event": "ping", "cid": 77})
    client.wait_event("pong", start=start, cid=77)
    shown: set[int] = set()
    for frame in client.channel_frames(chan_id):
        if frame[1] == "cs" or frame[1] == "hb":
            continue
        entries = frame[1] if frame[1] and isinstance(frame[1][0], list) else [frame[1]]
        for order_id, price, _ in entries:
            (shown.discard if price == 0 else shown.add)(order_id)
    return shown


def test_post_only_never_takes_visible_liquidity(bitfinex_exchange, trader):
    bid, ask = bitfinex_exchange.best_prices("tBTCUSD")
    crossing = (
        ("EXCHANGE LIMIT", str(ask)), ("EXCHANGE LIMIT", str(ask + 500)), ("EXCHANGE MARKET", None), ("EXCHANGE IOC", str(ask))
    )
    for order_type, price in crossing:
        _, frames = trader.submit(type=order_type, symbol="tBTCUSD", amount="0.01", price=price, flags=POST_ONLY)
        assert [o[13] for o in events(frames, "oc")] == ["POSTONLY CANCELED"] and events(frames, "te") == []
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price=str(bid), flags=POST_ONLY)
    assert events(frames, "on")[0][13] == "ACTIVE"


def test_post_only_may_match_hidden_orders(bitfinex_exchange, trader, connect):
    """docs flag-values: "... unless the pre-existing order is a hidden order"."""
    bitfinex_exchange.add_account("other", "s")
    other = connect(bitfinex_exchange.url)
    other.authenticate("other", "s", 1)
    other.wait_for(is_account("bu"))
    bid, ask = bitfinex_exchange.best_prices("tBTCUSD")
    assert bid + 2 < ask
    Trader(other).submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.01", price=str(bid + 1), flags=HIDDEN)
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price=str(bid + 1), flags=POST_ONLY)
    assert events(frames, "te") and events(frames, "oc")[-1][13].startswith("EXECUTED")


def test_hidden_orders_stay_off_the_book_until_make_visible_shows_them_once_hit(bitfinex_exchange, trader, observer):
    _, ask = bitfinex_exchange.best_prices("tBTCUSD")
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.1", price=str(ask - 1), flags=HIDDEN)
    plain = events(frames, "on")[0]
    _, frames = trader.submit(
        type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.1", price=str(ask - 2), flags=HIDDEN, meta={"make_visible": 1}
    )
    visible_on_hit = events(frames, "on")[0]
    assert plain[24] == visible_on_hit[24] == 1
    shown = raw_book_ids(observer)
    assert plain[0] not in shown and visible_on_hit[0] not in shown
    trader.during(lambda: bitfinex_exchange.simulate_order("tBTCUSD", "0.02", str(ask - 2)))
    shown = raw_book_ids(observer)
    assert visible_on_hit[0] in shown and plain[0] not in shown


# -- NO_VAR_RATES ------------------------------------------------------------------------------


def test_no_var_rates_has_no_effect_on_exchange_orders_and_is_refused_on_margin(trader):
    note, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", flags=NO_VAR_RATES)
    assert note[6] == "SUCCESS" and events(frames, "on")[0][12] == NO_VAR_RATES
    note, frames = trader.submit(type="LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", flags=NO_VAR_RATES, cid=4)
    assert note[6] == "ERROR" and note[7].startswith("flags: invalid (NO_VAR_RATES") and note[4][2] == 4
    assert kinds(frames) == ["n:on-req"]


# -- every flag bit ----------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ORDER_FLAGS, ids=lambda rule: rule.name)
@pytest.mark.parametrize("wallet", ["EXCHANGE ", ""])
def test_every_documented_flag_has_its_effect_or_is_refused(bitfinex_exchange, trader, observer, rule, wallet):
    """A resting limit order far from the market with the flag (no position held): each flag's
    effect shows, or the order is refused; nothing is accepted and ignored."""
    extra = {"price_oco_stop": "500"} if rule.value == OCO else {}
    note, frames = trader.submit(type=f"{wallet}LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", flags=rule.value, **extra)
    if rule.value == NO_VAR_RATES and not wallet:
        assert note[6] == "ERROR" and note[7].startswith("flags: invalid")
        return
    assert note[6] == "SUCCESS" and note[4][12] == rule.value
    if rule.value in (CLOSE, REDUCE_ONLY):  # no position: refused by its status
        assert [o[13] for o in events(frames, "oc")] == ["RSN_POS_NOTFOUND"] and events(frames, "on") == []
        return
    placed = events(frames, "on")
    assert all(o[12] == rule.value for o in placed) and placed[0][13] == "ACTIVE"
    if rule.value == HIDDEN:
        assert placed[0][24] == 1 and placed[0][0] not in raw_book_ids(observer)
    elif rule.value == OCO:
        assert [o[8].removeprefix("EXCHANGE ") for o in placed] == ["LIMIT", "STOP"] and placed[1][25] == placed[0][0]
    elif rule.value == POST_ONLY:
        _, ask = bitfinex_exchange.best_prices("tBTCUSD")
        _, crossing = trader.submit(type=f"{wallet}LIMIT", symbol="tBTCUSD", amount="0.01", price=str(ask), flags=POST_ONLY)
        assert [o[13] for o in events(crossing, "oc")] == ["POSTONLY CANCELED"]
    else:
        assert rule.value == NO_VAR_RATES and wallet  # documented as margin-only ("if on margin"): no effect here


def test_every_bit_no_flag_has_is_refused(bitfinex_exchange, trader):
    """The user run: flags 2**20 and 2**30 were accepted."""
    bits = [1 << bit for bit in range(53) if not (1 << bit) & DOCUMENTED_FLAGS]
    for flags in [*bits, HIDDEN | (1 << 20), 2**53 - 1]:
        note, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", flags=flags, cid=6)
        assert note[6] == "ERROR" and note[7].startswith("flags: invalid"), flags
        assert note[4][2] == 6 and kinds(frames) == ["n:on-req"], flags
    for flags in (-1, 2**53, 2**70, "64", 64.5, True, [64]):
        note, _ = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", flags=flags)
        assert note[6:] == ["ERROR", "flags: invalid"], flags
    assert bitfinex_exchange.account_state().orders == []


def test_combined_flags_apply_together(bitfinex_exchange, trader, observer):
    bid, _ = bitfinex_exchange.best_prices("tBTCUSD")
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price=str(bid), flags=HIDDEN | POST_ONLY)
    resting = events(frames, "on")[0]
    assert resting[12] == 4160 and resting[24] == 1 and resting[0] not in raw_book_ids(observer)


# -- gid, meta, lev, tif -----------------------------------------------------------------------


def test_gid_is_stored_echoed_changed_and_cancels_by_group(bitfinex_exchange, trader):
    ids = []
    for cid, gid in ((1, 7), (2, 7), (3, 8)):
        note, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", cid=cid, gid=gid)
        assert note[4][1] == gid and events(frames, "on")[0][1] == gid
        ids.append(events(frames, "on")[0][0])
    frames = trader.send("ou", {"id": ids[2], "gid": 7})
    assert notification(frames, "ou-req")[4][1] == 7 and events(frames, "ou")[0][1] == 7
    frames = trader.send("oc_multi", {"gid": [7]})
    note = notification(frames, "oc_multi-req")
    assert note[6] == "SUCCESS" and sorted(o[2] for o in note[4]) == [1, 2, 3]
    assert sorted(o[2] for o in events(frames, "oc")) == [1, 2, 3] and bitfinex_exchange.account_state().orders == []
    frames = trader.send("oc_multi", {"gid": [7]})
    assert notification(frames, "oc_multi-req")[6:] == ["ERROR", "Orders not found."]


def test_meta_is_echoed_at_index_31_and_updates_merge(bitfinex_exchange, trader):
    meta = {"aff_code": "abc", "note": [1, {"x": "y"}]}
    note, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", meta=meta)
    order = events(frames, "on")[0]
    assert note[4][31] == order[31] == meta
    frames = trader.send("ou", {"id": order[0], "meta": {"note": 2}})
    assert events(frames, "ou")[0][31] == {"aff_code": "abc", "note": 2}
    frames = trader.send("oc", {"id": order[0]})
    assert events(frames, "oc")[0][31] == {"aff_code": "abc", "note": 2}


def test_meta_protect_selfmatch_is_refused_and_malformed_meta_too(trader):
    note, _ = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", meta={"protect_selfmatch": 1})
    assert note[6] == "ERROR" and note[7].startswith("meta: invalid (protect_selfmatch")
    for meta in ([], "x", 1):
        note, _ = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", meta=meta)
        assert note[6:] == ["ERROR", "meta: invalid"]


@pytest.mark.bitfinex_exchange(instruments=[BTCUSD, *(i for i in DEFAULT_INSTRUMENTS if i.underlying == "tBTCUSD")])
def test_lev_is_refused_on_spot_pairs_and_out_of_range(bitfinex_exchange, trader):
    note, frames = trader.submit(type="LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", lev=5)
    assert note[6:] == ["ERROR", "lev: invalid (derivative orders only)"] and not events(frames, "on")
    for lev in (0, 101, "5", 1.5, True):
        note, _ = trader.submit(type="LIMIT", symbol="tBTCF0:USTF0", amount="0.01", price="1000", lev=lev)
        assert note[6:] == ["ERROR", "lev: invalid"], lev
    note, frames = trader.submit(type="LIMIT", symbol="tBTCF0:USTF0", amount="0.01", price="1000", lev=5)
    assert note[6] == "SUCCESS" and events(frames, "on")[0][31] == {"lev": 5, "$F33": 5}
    order_id = bitfinex_exchange.account_state().orders[0][0]
    assert notification(trader.send("ou", {"id": order_id, "lev": 200}), "ou-req")[6:] == ["ERROR", "lev: invalid"]


def test_tif_takes_a_date_alone_as_ou_examples_do(trader):
    note, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", tif="2099-01-02")
    assert note[6] == "SUCCESS" and events(frames, "on")[0][10] == 4070995200000


def test_prices_are_cut_to_five_significant_digits(trader):
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1234.5678")
    assert events(frames, "on")[0][16] == 1234.5


def test_cancel_and_update_by_cid_and_date(bitfinex_exchange, trader):
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", cid=55)
    order = events(frames, "on")[0]
    date = utc_date(order[4])
    frames = trader.send("ou", {"cid": 55, "cid_date": date, "price": "1001"})
    assert events(frames, "ou")[0][16] == 1001
    frames = trader.send("oc", {"id": order[0], "cid": 56, "cid_date": date})
    assert notification(frames, "oc-req")[6:] == ["ERROR", "Order not found."]
    frames = trader.send("oc", {"cid": 55})
    assert notification(frames, "oc-req")[6:] == ["ERROR", "cid_date: invalid"]
    frames = trader.send("oc", {"cid": 55, "cid_date": date})
    assert events(frames, "oc")[0][13] == "CANCELED"


# -- ox_multi ----------------------------------------------------------------------------------


def test_ox_multi_answers_every_operation_with_its_own_notification(bitfinex_exchange, trader):
    """docs ws-auth-input-order-multi-op; bitfinex-api-node resolves each buffered order from its
    own on-req (cid at [4][2]) and each cancel from its own oc-req (id at [4][0])."""
    _, frames = trader.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", cid=30, gid=3)
    old = events(frames, "on")[0]
    operations = [
        ["on", {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.01", "price": "1001", "cid": 31}],
        ["on", {"type": "EXCHANGE LIMIT", "symbol": "tNOPE", "amount": "0.01", "price": "1001", "cid": 32}],
        ["ou", {"id": old[0], "price": "1002"}],
        ["oc", {"id": old[0]}],
        ["oc_multi", {"gid": [99]}],
        ["oc", {"cid": 31, "cid_date": utc_date(old[4])}],
    ]
    frames = trader.send("ox_multi", operations)
    notes = [f[2] for f in frames if f[1] == "n"]
    assert [(n[1], n[6]) for n in notes] == [
        ("on-req", "SUCCESS"), ("on-req", "ERROR"), ("ou-req", "SUCCESS"), ("oc-req", "SUCCESS"),
        ("oc_multi-req", "ERROR"), ("oc-req", "SUCCESS"),
    ]
    assert [notes[0][4][2], notes[1][4][2], notes[2][4][0], notes[3][4][0], notes[5][4][2]] == [31, 32, old[0], old[0], 31]
    assert kinds(frames) == [
        "n:on-req", "on", "n:on-req", "n:ou-req", "ou", "n:oc-req", "oc", "n:oc_multi-req", "n:oc-req", "oc",
    ]
    assert bitfinex_exchange.account_state().orders == []


@pytest.mark.parametrize(
    "operations",
    [
        [],
        "on",
        {"on": {}},
        [["xx", {}]],
        [["on"]],
        [["on", []]],
        [["on", {"cid": 1}], ["ox_multi", []]],
        [["oc", {"id": 1}]] * 76,
    ],
    ids=["empty", "string", "object", "unknown-op", "no-payload", "list-payload", "nested-ox_multi", "76-ops"],
)
def test_ox_multi_that_is_no_batch_gets_one_error_and_runs_nothing(trader, operations):
    frames = trader.send("ox_multi", operations)
    assert kinds(frames) == ["n:ox_multi-req"]
    note = notification(frames, "ox_multi-req")
    assert note[6] == "ERROR" and note[7].startswith("ops: invalid")


# -- bad input ---------------------------------------------------------------------------------


class LaxDesk(Trader):
    """The bad-input exchange's client, with the exchange and the one order it placed."""

    exchange: LocalExchange
    order: list[Any]


@pytest.fixture(scope="module")
def lax_desk() -> Iterator[LaxDesk]:
    """One exchange for every bad input (none changes anything); see :func:`lax`."""
    exchange = LocalExchange(KEY, SECRET, seed=1, heartbeat_interval=None, tick_interval=None, instruments=[BTCUSD])
    exchange.start()
    reactor = ReactorThread(name="bad-input-client")
    reactor.start()
    client = RawClient(reactor, exchange.url).connect()
    try:
        client.authenticate(KEY, SECRET, 1)
        client.wait_for(is_account("bu"))
        desk = LaxDesk(client)
        desk.exchange = exchange
        _, frames = desk.submit(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="1000", cid=1)
        desk.order = events(frames, "on")[0]
        yield desk
    finally:
        client.abort()
        reactor.stop()
        exchange.stop()


@pytest.fixture
def lax(lax_desk: LaxDesk, monkeypatch: pytest.MonkeyPatch) -> LaxDesk:
    """:func:`lax_desk`, its exchange reading frames with plain :func:`json.loads` for this test,
    so numbers past the float range, NaN and integers past 64 bits reach the desk (the
    installed decoder refuses some of them before, with an ``error`` event)."""
    read_frames_with(monkeypatch, "stdlib")
    return lax_desk


def refused_with(note: list[Any], text: str) -> bool:
    """An ERROR whose TEXT is ``text``, or ``text`` and the local exchange's reason in parentheses."""
    return note[6] == "ERROR" and (note[7] == text or note[7].startswith(f"{text} ("))


BASE = {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.01", "price": "1000"}
NUMBERS = ["1e30", "1e400", 10**100, "1e-999999999", "abc", "NaN", "Infinity", "-Infinity", "", " ", "1_000", "0x10",
           True, [], {}, ["1"], "1" * 100, "1e15000", -(10**20), "1e999999999999999999", "-1e-9999999999999999999999"]
NUMBER_TOKENS = ["1e400", "-1e400", "NaN", "Infinity", "1" + "0" * 400, "1e-400"]
"""Bare JSON numbers (and the tokens plain json.loads takes), written into the frame as is."""

ON_CASES: list[tuple[dict[str, Any], str]] = [
    *[({"amount": value}, "amount: invalid") for value in NUMBERS],
    *[({"price": value}, "price: invalid") for value in NUMBERS],
    *[({"type": "EXCHANGE STOP LIMIT", "price_aux_limit": value}, "price_aux_limit: invalid") for value in NUMBERS[:8]],
    *[({"type": "EXCHANGE TRAILING STOP", "price_trailing": value}, "price_trailing: invalid") for value in NUMBERS[:8]],
    *[({"flags": OCO, "price_oco_stop": value}, "price_oco_stop: invalid") for value in NUMBERS[:8]],
    ({"amount": "0.000000001"}, "amount: invalid"),
    ({"amount": "0"}, "amount: invalid"),
    ({"price": "0.000000001"}, "price: invalid"),
    ({"price": "-5"}, "price: invalid"),
    ({"type": ["LIMIT"]}, "type: invalid"),
    ({"type": {"a": 1}}, "type: invalid"),
    ({"type": 1}, "type: invalid"),
    ({"type": "limit"}, "type: invalid"),
    ({"type": None}, "type: invalid"),
    ({"symbol": ["tBTCUSD"]}, "symbol: invalid"),
    ({"symbol": 1}, "symbol: invalid"),
    ({"symbol": "x" * 10_000}, "symbol: invalid"),
    *[({"cid": value}, "cid: invalid") for value in (2**70, 2**45, -1, 1.5, "1", True, [1])],
    *[({"gid": value}, "gid: invalid") for value in (2**70, 2**31, -1, 1.5, "1", False, {})],
    *[({"lev": value}, "lev: invalid") for value in (0, 101, 2**70, "10")],
    *[({"tif": value}, "tif: invalid") for value in (123, "2020-13-01", "x" * 1000, ["2020-01-01"], "2020-01-01T00:00:00")],
    *[({"meta": value}, "meta: invalid") for value in ([], "x", 1)],
]


@pytest.mark.parametrize(("change", "text"), ON_CASES, ids=[f"on-{i}" for i in range(len(ON_CASES))])
def test_bad_on_inputs_get_an_error_notification_with_an_echo(lax, caplog, change, text):
    caplog.set_level(logging.INFO)
    frames = lax.send("on", {**BASE, "cid": 9, **change})
    assert kinds(frames) == ["n:on-req"], frames
    note = notification(frames, "on-req")
    assert refused_with(note, text) and len(note[4]) == 32
    assert note[4][2] == (9 if "cid" not in change else None)
    assert_nothing_escaped(caplog)


@pytest.mark.parametrize("field", ["amount", "price"])
@pytest.mark.parametrize("token", NUMBER_TOKENS)
def test_bare_json_numbers_past_the_float_range_get_an_error_notification(lax, caplog, field, token):
    caplog.set_level(logging.INFO)
    payload = json.dumps({**BASE, field: "TOKEN"}).replace('"TOKEN"', token)
    frames = lax.send_text(f'[0,"on",null,{payload}]')
    assert notification(frames, "on-req")[6:] == ["ERROR", f"{field}: invalid"] and kinds(frames) == ["n:on-req"]
    assert_nothing_escaped(caplog)


OTHER_CASES: list[tuple[str, Any, str, str]] = [
    *[("oc", {"id": value}, "oc-req", "id: invalid") for value in (2**70, "1", -1, 0, 1.5, [1], True)],
    ("oc", {"cid": 2**70, "cid_date": "2024-01-01"}, "oc-req", "cid: invalid"),
    ("oc", {"cid": 1, "cid_date": "2024-13-45"}, "oc-req", "cid_date: invalid"),
    ("oc", {"cid": 1, "cid_date": 20240101}, "oc-req", "cid_date: invalid"),
    ("oc", {"cid": 1}, "oc-req", "cid_date: invalid"),
    ("oc", {}, "oc-req", "Order not found."),
    ("oc", {"id": 12345}, "oc-req", "Order not found."),
    *[("oc_multi", {"id": value}, "oc_multi-req", "id: invalid") for value in ("x", 1, [2**70], [[1]], ["1"], [0])],
    *[("oc_multi", {"gid": value}, "oc_multi-req", "gid: invalid") for value in ([2**31], [-1], "7", [None])],
    *[("oc_multi", {"cid": value}, "oc_multi-req", "cid: invalid")
      for value in ([[1]], [[2**70, "2024-01-01"]], [["x", "2024-01-01"]], [[1, "2024-02-30"]], "1", [1])],
    *[("oc_multi", {"all": value}, "oc_multi-req", "all: invalid") for value in (2, "1", [1], 0.5)],
    ("oc_multi", {}, "oc_multi-req", "oc_multi: invalid"),
    ("oc_multi", {"id": []}, "oc_multi-req", "oc_multi: invalid"),
    ("oc_multi", {"id": [12345]}, "oc_multi-req", "Orders not found."),
    *[("ou", {"id": value, "price": "1"}, "ou-req", "id: invalid") for value in (2**70, "1", -1)],
    ("ou", {"id": 12345, "price": "1"}, "ou-req", "Order not found."),
]


@pytest.mark.parametrize(
    ("operation", "payload", "request_type", "text"), OTHER_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(OTHER_CASES)]
)
def test_bad_oc_oc_multi_ou_inputs_get_an_error_notification(lax, caplog, operation, payload, request_type, text):
    caplog.set_level(logging.INFO)
    frames = lax.send(operation, payload)
    assert kinds(frames) == [f"n:{request_type}"], frames
    note = notification(frames, request_type)
    assert note[6:] == ["ERROR", text]
    assert note[4] == [] if operation == "oc_multi" else len(note[4]) == 32
    assert_nothing_escaped(caplog)


UPDATE_CASES: list[tuple[dict[str, Any], str]] = [
    *[({"amount": value}, "amount: invalid") for value in ("1e400", 10**100, "NaN", [1], "0", "-0.01")],
    *[({"delta": value}, "delta: invalid") for value in ("1e30", "abc", [1])],
    *[({"price": value}, "price: invalid") for value in ("1e400", "0", "NaN", {})],
    *[({"flags": value}, "flags: invalid") for value in (2**20, -1, "64")],
    ({"flags": OCO}, "flags: invalid (an update cannot set or clear OCO)"),
    *[({"gid": value}, "gid: invalid") for value in (2**31, -1)],
    ({"tif": "tomorrow"}, "tif: invalid"),
    ({"meta": "x"}, "meta: invalid"),
]


@pytest.mark.parametrize(("change", "text"), UPDATE_CASES, ids=[f"ou-{i}" for i in range(len(UPDATE_CASES))])
def test_bad_updates_get_an_error_notification_and_change_nothing(lax, caplog, change, text):
    caplog.set_level(logging.INFO)
    order = lax.order
    frames = lax.send("ou", {"id": order[0], **change})
    assert kinds(frames) == ["n:ou-req"], frames
    note = notification(frames, "ou-req")
    assert refused_with(note, text) and note[4][0] == order[0]
    assert [o[:17] for o in lax.exchange.account_state().orders] == [order[:17]]
    assert_nothing_escaped(caplog)
