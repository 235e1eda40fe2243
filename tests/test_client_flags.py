"""Order flags through WssClient against the local exchange: what a bot relying on them gets.

REDUCE_ONLY never increases or flips a position; CLOSE closes it; an OCO pair fills one leg and
cancels the other; POST_ONLY never takes. (``tests/test_exchange_flags.py`` holds the exchange's
own exhaustive tests over a bare WebSocket client, ``tests/test_exchange_flags_bfxapi.py`` the
same through the official client.)

Slow tier: loopback, several orders per test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bitfinex.protocol.constants import OrderFlag

from helpers import STILL_MARKET, Inbox, is_account, is_event, is_notification

pytestmark = [pytest.mark.slow, STILL_MARKET, pytest.mark.usefixtures("no_leaks")]


@pytest.fixture
def trader(make_client):
    client, _ = make_client()
    account = Inbox("account")
    client.authenticate(account)
    client.start()
    account.wait_for(is_event("auth", status="OK"))
    return client, account


def closed(account, cid):
    """The ``oc`` of the order ``cid`` (it is no longer active)."""
    return account.wait_for(lambda m: is_account("oc")(m) and m[2][2] == cid)[2]


def position(exchange) -> Decimal:
    positions = exchange.account_state().positions
    return Decimal(repr(positions[0][2])) if positions else Decimal(0)


def open_long(client, account, amount="0.02"):
    cid = client.new_order("MARKET", "BTCUSD", amount, None)
    assert closed(account, cid)[13].startswith("EXECUTED")


def test_reduce_only_never_flips_a_position(bitfinex_exchange, trader):
    client, account = trader
    open_long(client, account)
    cid = client.new_order("MARKET", "BTCUSD", "-1", None, flags=[OrderFlag.REDUCE_ONLY])
    assert closed(account, cid)[13] == "RSN_POS_REDUCE_FLIP"
    assert position(bitfinex_exchange) == Decimal("0.02")
    cid = client.new_order("MARKET", "BTCUSD", "0.01", None, flags=[OrderFlag.REDUCE_ONLY])
    assert closed(account, cid)[13] == "RSN_POS_REDUCE_INCR"
    cid = client.new_order("MARKET", "BTCUSD", "-0.015", None, flags=[OrderFlag.REDUCE_ONLY])
    assert closed(account, cid)[13].startswith("EXECUTED")
    assert position(bitfinex_exchange) == Decimal("0.005")


def test_close_closes_the_position_and_opens_none_without_one(bitfinex_exchange, trader):
    client, account = trader
    cid = client.new_order("MARKET", "BTCUSD", "-0.5", None, flags=[OrderFlag.CLOSE])
    assert closed(account, cid)[13] == "RSN_POS_NOTFOUND"
    assert position(bitfinex_exchange) == 0
    open_long(client, account, "0.03")
    cid = client.new_order("MARKET", "BTCUSD", "-1", None, flags=[OrderFlag.CLOSE])
    assert closed(account, cid)[13].startswith("EXECUTED")
    account.wait_for(is_account("pc"))
    assert position(bitfinex_exchange) == 0 and bitfinex_exchange.account_state().positions == []


def test_an_oco_pair_fills_one_leg_and_cancels_the_other(bitfinex_exchange, trader):
    client, account = trader
    bid, ask = bitfinex_exchange.best_prices("tBTCUSD")
    assert bid is not None and ask is not None
    limit, stop = ask + 50, bid - 50  # sell above the market, stop below it
    cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "-0.1", limit, price_oco_stop=stop)
    legs = [account.wait_for(lambda m: is_account("on")(m) and m[2][2] == cid, count=n)[2] for n in (1, 2)]
    assert sorted(leg[8] for leg in legs) == ["EXCHANGE LIMIT", "EXCHANGE STOP"]
    assert all(leg[12] & OrderFlag.OCO for leg in legs)
    limit_leg = next(leg for leg in legs if leg[8] == "EXCHANGE LIMIT")
    stop_leg = next(leg for leg in legs if leg[8] == "EXCHANGE STOP")
    bitfinex_exchange.simulate_order("tBTCUSD", "50", str(limit))  # sweeps the asks up to ours
    account.wait_for(lambda m: is_account("oc")(m) and m[2][0] == stop_leg[0] and m[2][13] == "CANCELED")
    account.wait_for(lambda m: is_account("oc")(m) and m[2][0] == limit_leg[0] and m[2][13].startswith("EXECUTED"))
    assert bitfinex_exchange.account_state().orders == []


def test_post_only_never_takes(bitfinex_exchange, trader):
    client, account = trader
    _, ask = bitfinex_exchange.best_prices("tBTCUSD")
    cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", ask, flags=[OrderFlag.POST_ONLY])
    account.wait_for(is_notification("on-req", cid=cid, status="SUCCESS"))
    assert closed(account, cid)[13] == "POSTONLY CANCELED"
    assert bitfinex_exchange.account_state().orders == []
