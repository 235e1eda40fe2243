"""Orders on the local exchange: every input (on, oc, oc_multi, ou, ox_multi, calc), every
order type and flag, fills against the simulated flow, wallets, positions, and rejections.

Slow tier: some forty loopback tests, each with an exchange and two connections (6 s).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bitfinex.testing import ManualClock

from helpers import KEY, SECRET, STILL_MARKET, is_account, is_data, is_notification

CLOCK = ManualClock()
"""The clock of every exchange of this module (the marker holds this one object)."""
TODAY = "2023-11-14"  # the ManualClock's default date

pytestmark = [pytest.mark.slow, STILL_MARKET, pytest.mark.bitfinex_exchange(clock=CLOCK)]


@pytest.fixture(autouse=True)
def rewound_clock() -> ManualClock:
    """:data:`CLOCK`, set back to its start before each test (before its exchange is made)."""
    CLOCK.now = ManualClock().now
    return CLOCK


@pytest.fixture
def market(bitfinex_exchange, connect):
    """The exchange (on :data:`CLOCK`), a trader authenticated on it, and an observer of its
    tBTCUSD public channels: (exchange, trader, observer, channels)."""
    exchange = bitfinex_exchange
    trader = connect(exchange.url)
    trader.authenticate(KEY, SECRET, 1)
    trader.wait_for(is_account("bu"))
    observer = connect(exchange.url)
    channels = {
        "raw": observer.subscribe(channel="book", symbol="tBTCUSD", prec="R0", len="250")[0],
        "levels": observer.subscribe(channel="book", symbol="tBTCUSD", prec="P0", len="250")[0],
        "trades": observer.subscribe(channel="trades", symbol="tBTCUSD")[0],
    }
    return exchange, trader, observer, channels


def submit(client, **payload):
    """Send ``on`` and return the ``on-req`` notification body."""
    start = client.mark()
    client.send([0, "on", None, payload])
    return client.wait_for(is_notification("on-req"), start=start)[2]


def settle(client):
    """Wait until everything the exchange sent before now has arrived."""
    start = client.mark()
    client.send({"event": "ping"})
    client.wait_event("pong", start=start)


def account_frames(client, kind, start=0):
    return [f[2] for f in client.snapshot(start) if isinstance(f, list) and f[0] == 0 and f[1] == kind]


def improving_bid(exchange) -> Decimal:
    bid, ask = exchange.best_prices("tBTCUSD")
    assert bid + 1 < ask
    return bid + 1


def test_limit_order_rests_on_the_public_book_then_fills_when_crossed(market):
    exchange, trader, observer, channels = market
    price = improving_bid(exchange)
    before = exchange.account_state().wallets
    note = submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.5", price=str(price), cid=7)
    assert note[6:] == ["SUCCESS", "Submitting exchange limit buy order for 0.5 BTC."]
    assert len(note[4]) == 32 and note[4][2] == 7 and note[4][13] == "ACTIVE"
    order = trader.wait_for(is_account("on"))[2]
    order_id = order[0]
    assert (order[3], order[6], order[7], order[8], order[16]) == ("tBTCUSD", 0.5, 0.5, "EXCHANGE LIMIT", float(price))
    observer.wait_for(lambda f: is_data(channels["raw"])(f) and f[1] == [order_id, float(price), 0.5])
    level = observer.wait_for(lambda f: is_data(channels["levels"])(f) and f[1][0] == float(price))
    assert level[1][1:] == [1, 0.5]

    start = trader.mark()
    exchange.simulate_order("tBTCUSD", "-0.2", str(price))
    trade = trader.wait_for(is_account("te"), start=start)[2]
    assert trade[1:9] == ["tBTCUSD", trade[2], order_id, 0.2, float(price), "EXCHANGE LIMIT", float(price), 1]
    fee = trader.wait_for(is_account("tu"), start=start)[2]
    assert fee[0] == trade[0] and fee[9] == pytest.approx(-0.0002) and fee[10] == "BTC"
    partial = trader.wait_for(is_account("ou"), start=start)[2]
    assert partial[6] == pytest.approx(0.3) and partial[13].startswith("PARTIALLY FILLED @ ")
    public = observer.wait_for(lambda f: is_data(channels["trades"])(f) and f[1] == "te")
    assert public[2][0] == trade[0] and public[2][2:] == [-0.2, float(price)]

    exchange.simulate_order("tBTCUSD", "-0.3", str(price))
    done = trader.wait_for(is_account("oc"), start=start)[2]
    assert done[0] == order_id and done[6] == 0 and done[13].startswith("EXECUTED @ ")
    assert done[17] == float(price)
    after = exchange.account_state().wallets
    assert after[("exchange", "USD")] == before[("exchange", "USD")] - Decimal("0.5") * price
    assert after[("exchange", "BTC")] == before[("exchange", "BTC")] + Decimal("0.5") * Decimal("0.999")
    wallet_updates = account_frames(trader, "wu", start)
    assert wallet_updates[-1][:3] == ["exchange", "USD", float(after[("exchange", "USD")])]


def test_crossing_limit_fills_at_once_without_an_on(market):
    exchange, trader, _, _ = market
    _, ask = exchange.best_prices("tBTCUSD")
    start = trader.mark()
    submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.3", price=str(ask + 100))
    done = trader.wait_for(is_account("oc"), start=start)[2]
    settle(trader)
    assert done[13].startswith("EXECUTED @ ") and done[17] >= float(ask)
    assert account_frames(trader, "on", start) == []
    trades = account_frames(trader, "te", start)
    assert sum(t[4] for t in trades) == pytest.approx(0.3) and all(t[8] == -1 for t in trades)
    expected_fees = [-(Decimal(repr(t[4])) * Decimal("0.002")).quantize(Decimal("1e-8")) for t in trades]
    assert [Decimal(repr(t[9])) for t in account_frames(trader, "tu", start)] == expected_fees


def test_market_sell_executes_and_credits_usd(market):
    exchange, trader, _, _ = market
    before = exchange.account_state().wallets
    start = trader.mark()
    submit(trader, type="EXCHANGE MARKET", symbol="tBTCUSD", amount="-0.1")
    done = trader.wait_for(is_account("oc"), start=start)[2]
    settle(trader)
    assert done[13].startswith("EXECUTED @ ") and done[7] == -0.1
    proceeds = sum(Decimal(repr(-t[4])) * Decimal(repr(t[5])) for t in account_frames(trader, "te", start))
    after = exchange.account_state().wallets
    assert after[("exchange", "BTC")] == before[("exchange", "BTC")] - Decimal("0.1")
    assert after[("exchange", "USD")] == pytest.approx(
        before[("exchange", "USD")] + proceeds * Decimal("0.998"), abs=Decimal("1e-6")
    )
    assert {t[10] for t in account_frames(trader, "tu", start)} == {"USD"}


def test_ioc_fills_what_it_can_and_cancels_the_rest(market):
    exchange, trader, _, _ = market
    _, ask = exchange.best_prices("tBTCUSD")
    start = trader.mark()
    submit(trader, type="EXCHANGE IOC", symbol="tBTCUSD", amount="2", price=str(ask))
    done = trader.wait_for(is_account("oc"), start=start)[2]
    assert done[13].startswith("IOC CANCELED was: PARTIALLY FILLED @ ")
    assert 0 < done[6] < 2
    assert exchange.account_state().orders == []


def test_fok_all_or_nothing(market):
    exchange, trader, _, _ = market
    _, ask = exchange.best_prices("tBTCUSD")
    start = trader.mark()
    submit(trader, type="EXCHANGE FOK", symbol="tBTCUSD", amount="2", price=str(ask))
    killed = trader.wait_for(is_account("oc"), start=start)[2]
    settle(trader)
    assert killed[13] == "FILLORKILL CANCELED" and account_frames(trader, "te", start) == []
    start = trader.mark()
    submit(trader, type="FOK", symbol="tBTCUSD", amount="0.01", price=str(ask + 200))
    assert trader.wait_for(is_account("oc"), start=start)[2][13].startswith("EXECUTED @ ")


def test_post_only_never_takes(market):
    exchange, trader, _, _ = market
    bid, ask = exchange.best_prices("tBTCUSD")
    start = trader.mark()
    submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.1", price=str(ask), flags=4096)
    refused = trader.wait_for(is_account("oc"), start=start)[2]
    settle(trader)
    assert refused[13] == "POSTONLY CANCELED" and account_frames(trader, "te", start) == []
    submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.1", price=str(bid), flags=4096)
    resting = trader.wait_for(is_account("on"), start=start)[2]
    assert resting[12] == 4096 and resting[13] == "ACTIVE"


def test_hidden_orders_stay_off_the_public_book_but_trade(market):
    exchange, trader, observer, channels = market
    price = improving_bid(exchange)
    submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.2", price=str(price), flags=64)
    order = trader.wait_for(is_account("on"))[2]
    assert order[24] == 1
    start = trader.mark()
    exchange.simulate_order("tBTCUSD", "-0.2", str(price))
    fee = trader.wait_for(is_account("tu"), start=start)[2]
    assert fee[8] == 1 and fee[9] == pytest.approx(-0.2 * 0.002)  # hidden orders pay the taker fee
    observer.wait_for(lambda f: is_data(channels["trades"])(f) and f[1] == "te" and f[2][3] == float(price))
    settle(observer)
    raw_entries = [f[1] for f in observer.channel_frames(channels["raw"])[1:] if f[1] != "cs"]
    assert all(entry[0] != order[0] for entry in raw_entries)
    assert order[0] not in [e[0] for e in observer.channel_frames(channels["raw"])[0][1]]


def test_cancel_by_id_and_by_cid_and_date(market):
    exchange, trader, observer, channels = market
    submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.1", price="1000", cid=41)
    submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.1", price="1001", cid=42)
    first, second = (f[2] for f in trader.wait_count(is_account("on"), 2))
    observer.wait_for(lambda f: is_data(channels["raw"])(f) and f[1][0] == second[0])
    start = trader.mark()
    trader.send([0, "oc", None, {"id": first[0]}])
    note = trader.wait_for(is_notification("oc-req"), start=start)[2]
    assert note[6:] == ["SUCCESS", f"Submitted for cancellation; waiting for confirmation (ID: {first[0]})."]
    assert trader.wait_for(is_account("oc"), start=start)[2][13] == "CANCELED"
    observer.wait_for(lambda f: is_data(channels["raw"])(f) and f[1] == [first[0], 0, 1])
    start = trader.mark()
    trader.send([0, "oc", None, {"cid": 42, "cid_date": "2023-11-15"}])
    missing = trader.wait_for(is_notification("oc-req"), start=start)[2]
    assert missing[6:] == ["ERROR", "Order not found."]
    trader.send([0, "oc", None, {"cid": 42, "cid_date": TODAY}])
    cancelled = trader.wait_for(is_account("oc"), start=start)[2]
    assert cancelled[0] == second[0] and cancelled[2] == 42
    assert exchange.account_state().orders == []


def test_cancel_unknown_id(market):
    _, trader, _, _ = market
    trader.send([0, "oc", None, {"id": 123}])
    note = trader.wait_for(is_notification("oc-req"))[2]
    assert note[6:] == ["ERROR", "Order not found."] and note[4][0] == 123 and len(note[4]) == 32


@pytest.mark.parametrize(
    ("selector", "cancelled_cids"),
    [
        (lambda orders: {"id": [orders[0][0], orders[2][0]]}, [1, 3]),
        (lambda orders: {"gid": [5]}, [2, 3]),
        (lambda orders: {"cid": [[1, TODAY], [3, TODAY]]}, [1, 3]),
        (lambda orders: {"all": 1}, [1, 2, 3]),
    ],
)
def test_cancel_multi(market, selector, cancelled_cids):
    exchange, trader, _, _ = market
    for cid, gid in ((1, None), (2, 5), (3, 5)):
        submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.1", price="1000", cid=cid, gid=gid)
    orders = [f[2] for f in trader.wait_count(is_account("on"), 3)]
    start = trader.mark()
    trader.send([0, "oc_multi", None, selector(orders)])
    note = trader.wait_for(is_notification("oc_multi-req"), start=start)[2]
    assert note[6] == "SUCCESS" and sorted(o[2] for o in note[4]) == cancelled_cids
    cancelled = trader.wait_count(is_account("oc"), len(cancelled_cids), start=start)
    assert sorted(f[2][2] for f in cancelled) == cancelled_cids
    assert sorted(o[2] for o in exchange.account_state().orders) == sorted({1, 2, 3} - set(cancelled_cids))


def test_update_price_and_amount(market):
    _, trader, observer, channels = market
    submit(trader, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.1", price="1000")
    order = trader.wait_for(is_account("on"))[2]
    start = trader.mark()
    trader.send([0, "ou", None, {"id": order[0], "price": "1100", "amount": "0.3"}])
    note = trader.wait_for(is_notification("ou-req"), start=start)[2]
    assert note[6] == "SUCCESS" and note[4][16] == 1100
    updated = trader.wait_for(is_account("ou"), start=start)[2]
    assert (updated[6], updated[7], updated[16]) == (0.3, 0.3, 1100)
    observer.wait_for(lambda f: is_data(channels["raw"])(f) and f[1] == [order[0], 1100, 0.3])
    start = trader.mark()
    trader.send([0, "ou", None, {"id": order[0], "delta": "0.2"}])
    assert trader.wait_for(is_account("ou"), start=start)[2][6] == 0.5
    start = trader.mark()
    trader.send([0, "ou", None, {"id": 1, "price": "1"}])
    assert trader.wait_for(is_notification("ou-req"), start=start)[2][6:] == ["ERROR", "Order not found."]


def test_ox_multi_answers_each_operation_as_if_sent_alone(market):
    """docs ws-auth-input-order-multi-op: per operation, its own notification then its events;
    bitfinex-api-node resolves each buffered order from its own on-req (cid at [4][2])."""
    _, trader, _, _ = market
    start = trader.mark()
    operations = [
        ["on", {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.1", "price": "1000", "cid": 1}],
        ["on", {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.1", "price": "1001", "cid": 2}],
        ["oc", {"id": 99}],
    ]
    trader.send([0, "ox_multi", None, operations])
    trader.wait_for(is_notification("oc-req"), start=start)
    settle(trader)
    account = [f for f in trader.snapshot(start) if isinstance(f, list) and f[0] == 0 and f[1] in ("n", "on")]
    shape = [(f[1], f[2][1] if f[1] == "n" else None, f[2][6] if f[1] == "n" else None) for f in account]
    assert shape == [
        ("n", "on-req", "SUCCESS"), ("on", None, None),
        ("n", "on-req", "SUCCESS"), ("on", None, None),
        ("n", "oc-req", "ERROR"),
    ]
    assert [account[i][2][4][2] for i in (0, 2)] == [1, 2] and account[4][2][4][0] == 99
    assert not any(f[1] == "n" and f[2][1] == "ox_multi-req" for f in account)
    start = trader.mark()
    trader.send([0, "ox_multi", None, [["oc", {"id": 1}]] * 76])
    refused = trader.wait_for(is_notification("ox_multi-req"), start=start)[2]
    assert refused[6] == "ERROR" and refused[7].startswith("ops: invalid")
    assert len(refused[4]) == 76 and all(row[0] == 1 for row in refused[4])


def test_calc_answers_with_account_messages_and_is_limited(market):
    _, trader, _, _ = market
    submit(trader, type="MARKET", symbol="tBTCUSD", amount="0.1")
    trader.wait_for(is_account("oc"))
    settle(trader)
    start = trader.mark()
    requests = [
        "margin_base",
        "margin_sym_tBTCUSD",
        "funding_sym_fUSD",
        "position_tBTCUSD",
        "wallet_exchange_USD",
        "balance",
    ]
    trader.send([0, "calc", None, [[r] for r in requests]])
    frames = trader.wait_count(
        lambda f: isinstance(f, list) and f[0] == 0 and f[1] in ("miu", "fiu", "pu", "wu", "bu"), 6, start=start
    )
    assert [f[1] for f in frames] == ["miu", "miu", "fiu", "pu", "wu", "bu"]
    assert frames[0][2][0] == "base" and len(frames[0][2][1]) == 5
    assert frames[1][2][:2] == ["sym", "tBTCUSD"] and len(frames[1][2][2]) == 4
    assert frames[2][2] == ["sym", "fUSD", [0, 0, 0, 0]]
    assert frames[3][2][0] == "tBTCUSD" and frames[3][2][2] == 0.1
    assert frames[4][2][:2] == ["exchange", "USD"]
    start = trader.mark()
    trader.send([0, "calc", None, [["balance"]] * 31])
    assert trader.wait_event("error", start=start)["code"] == 10020
    start = trader.mark()
    for _ in range(9):
        trader.send([0, "calc", None, [["balance"]]])
    assert "ratelimit" in trader.wait_event("error", start=start)["msg"]


def test_insufficient_balance_is_rejected(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    exchange.add_account("poor", "s", balances={("exchange", "USD"): "50", ("margin", "USD"): "50"})
    client = connect(exchange.url)
    client.authenticate("poor", "s", 1)
    note = submit(client, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.01", price="30000")
    assert note[6:] == ["ERROR", "Invalid order: not enough exchange balance for 0.01 BTCUSD at 30000"]
    note = submit(client, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="-0.01", price="30000")
    assert note[6:] == ["ERROR", "Invalid order: not enough exchange balance for -0.01 BTCUSD at 30000"]
    note = submit(client, type="LIMIT", symbol="tBTCUSD", amount="0.1", price="30000")
    assert note[6:] == ["ERROR", "Invalid order: not enough tradable balance for 0.1 BTCUSD at 30000"]
    settle(client)
    assert account_frames(client, "on") == [] and exchange.account_state("poor").orders == []


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({"type": "SOMETIMES", "symbol": "tBTCUSD", "amount": "1", "price": "1"}, "type: invalid"),
        ({"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0", "price": "1"}, "amount: invalid"),
        ({"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "abc", "price": "1"}, "amount: invalid"),
        (
            {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.0001", "price": "1"},
            "Invalid order: minimum size for BTC/USD is 0.0002",
        ),
        ({"type": "EXCHANGE LIMIT", "symbol": "tNOPE", "amount": "1", "price": "1"}, "symbol: invalid"),
        ({"type": "EXCHANGE LIMIT", "symbol": "fUSD", "amount": "1", "price": "1"}, "symbol: invalid"),
        ({"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.1"}, "price: invalid"),
        (
            {"type": "EXCHANGE STOP LIMIT", "symbol": "tBTCUSD", "amount": "0.1", "price": "1"},
            "price_aux_limit: invalid",
        ),
        ({"type": "LIMIT", "symbol": "tBTCUSD", "amount": "0.1", "price": "1", "flags": 16384}, None),
    ],
)
def test_invalid_orders_are_rejected_with_an_echo(market, payload, text):
    _, trader, _, _ = market
    note = submit(trader, **payload, cid=9)
    assert note[1] == "on-req" and note[6] == "ERROR"
    if text is not None:
        assert note[7] == text
    assert len(note[4]) == 32 and note[4][0] is None and note[4][2] == 9
    settle(trader)
    assert account_frames(trader, "on") == []


def test_margin_orders_open_and_close_positions(market):
    exchange, trader, _, _ = market
    before = exchange.account_state().wallets[("margin", "USD")]
    start = trader.mark()
    submit(trader, type="MARKET", symbol="tBTCUSD", amount="0.2")
    trader.wait_for(is_account("oc"), start=start)
    settle(trader)
    opened = account_frames(trader, "pn", start)[0]
    latest = [*account_frames(trader, "pn", start), *account_frames(trader, "pu", start)][-1]
    assert opened[0] == "tBTCUSD" and opened[1] == "ACTIVE" and len(opened) == 20
    assert latest[2] == pytest.approx(0.2) and exchange.account_state().positions[0][2] == pytest.approx(0.2)
    margin_updates = account_frames(trader, "wu", start)
    assert margin_updates and all(w[0] == "margin" for w in margin_updates)
    start = trader.mark()
    submit(trader, type="MARKET", symbol="tBTCUSD", amount="-0.2")
    closed = trader.wait_for(is_account("pc"), start=start)[2]
    assert closed[1] == "CLOSED" and closed[2] == 0
    state = exchange.account_state()
    assert state.positions == [] and state.wallets[("margin", "USD")] < before  # the spread and fees
    assert state.wallets[("exchange", "BTC")] == 10


def test_stop_triggers_on_the_last_price(market):
    exchange, trader, _, _ = market
    bid, _ = exchange.best_prices("tBTCUSD")
    stop = bid - 20
    submit(trader, type="EXCHANGE STOP", symbol="tBTCUSD", amount="-0.1", price=str(stop))
    waiting = trader.wait_for(is_account("on"))[2]
    assert waiting[8] == "EXCHANGE STOP" and waiting[16] == float(stop)
    start = trader.mark()
    exchange.simulate_order("tBTCUSD", "-3", str(stop - 50))
    triggered = trader.wait_for(is_account("ou"), start=start)[2]
    assert (triggered[8], triggered[9]) == ("EXCHANGE MARKET", "EXCHANGE STOP")
    done = trader.wait_for(is_account("oc"), start=start)[2]
    assert done[0] == waiting[0] and done[13].startswith("EXECUTED @ ")


def test_trailing_stop_follows_the_price(market):
    exchange, trader, _, _ = market
    submit(trader, type="EXCHANGE TRAILING STOP", symbol="tBTCUSD", amount="-0.1", price_trailing="200")
    order = trader.wait_for(is_account("on"))[2]
    assert order[18] == 200
    start = trader.mark()
    exchange.simulate_order("tBTCUSD", "3")
    moved = trader.wait_for(is_account("ou"), start=start)[2]
    assert moved[16] > order[16]


def test_orders_expire_at_their_time_in_force(bitfinex_exchange, connect, rewound_clock):
    clock, exchange = rewound_clock, bitfinex_exchange
    client = connect(exchange.url)
    client.authenticate(KEY, SECRET, 1)
    submit(client, type="EXCHANGE LIMIT", symbol="tBTCUSD", amount="0.1", price="1000", tif="2023-11-14 22:15:00")
    order = client.wait_for(is_account("on"))[2]
    assert order[10] == 1_700_000_100_000
    exchange.tick()
    assert exchange.account_state().orders
    clock.advance(100_000)
    exchange.tick()
    assert client.wait_for(is_account("oc"))[2][13] == "CANCELED"


def test_funding_offers_get_their_own_notification(market):
    """Funding is the funding desk's (``test_exchange_funding.py``); here only that a ``fon``
    next to orders is answered as Bitfinex answers it."""
    _, trader, _, _ = market
    trader.send([0, "fon", None, {"type": "LIMIT", "symbol": "fUSD", "amount": "150", "rate": "0.01", "period": 2}])
    note = trader.wait_for(is_notification("fon-req"))[2]
    assert note[6:] == ["SUCCESS", "Submitting funding offer of 150.0 USD at 1.000 for 2 days."]
    assert trader.wait_for(is_account("fon"))[2][0] == note[4][0]
