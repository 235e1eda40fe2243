"""Derivatives bots written only against the docs pass against the local exchange: one on
``WssClient`` (``subscribe_to_status``, ``new_order(..., lev=...)``, the auth callback), one on
the official client, bitfinex-api-py 4 (its ``status`` subscriptions with
``derivatives_status_update`` and ``liquidation_feed_update``, ``submit_order`` with ``lev``).
Each subscribes to ``deriv:tBTCF0:USTF0`` and ``liq:global``, opens a leveraged long, sees the
market moved through its liquidation price (``exchange.faults.move_price``), and sees the
liquidation on its authenticated channel and on ``liq:global``; the wallet is left with what
Bitfinex's rules give: the start balance less the taker fees and the forfeited collateral.

Slow tier: two loopback sessions (the official client with its own asyncio loop); the market
only moves when the test moves it, and time on a :class:`~bitfinex.testing.ManualClock`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from official_client import OfficialBot, run_in_thread

from bitfinex.testing import LocalExchange, ManualClock

from helpers import STILL_MARKET, Inbox, is_account, is_data, is_event, is_notification

CLOCK = ManualClock()
START = ManualClock().now
PERP = "tBTCF0:USTF0"
COLLATERAL_WALLET = ("margin", "USTF0")

pytestmark = [pytest.mark.slow, STILL_MARKET, pytest.mark.bitfinex_exchange(clock=CLOCK)]

# Bitfinex's rules, as this test reads them (not the exchange's code): a derivative order takes
# notional / lev of collateral (live pn: 0.72 for 0.0008 at 9000, lev 10) and pays the taker fee;
# the position is liquidated when its collateral plus its profit falls to 0.5 % of its notional
# (live pu: PRICE_LIQ 8145), and the liquidated account forfeits the collateral.
TAKER_FEE = Decimal("0.00065")
MAINTENANCE = Decimal("0.005")
EIGHT_DECIMALS = Decimal("1e-8")


@pytest.fixture(autouse=True)
def rewound_clock() -> ManualClock:
    CLOCK.now = START
    return CLOCK


@dataclass
class Expected:
    """What the fills of a long opened at ``lev`` leave, by Bitfinex's rules."""

    fees: Decimal
    collateral: Decimal


def by_the_rules(fills: list[tuple[Decimal, Decimal]], lev: int) -> Expected:
    fees = sum(((a * p * TAKER_FEE).quantize(EIGHT_DECIMALS) for a, p in fills), Decimal(0))
    collateral = sum(((a * p / lev).quantize(EIGHT_DECIMALS) for a, p in fills), Decimal(0))
    return Expected(fees, collateral)


def liquidation_price(amount: Decimal, base: Decimal, collateral: Decimal) -> Decimal:
    return (base - (collateral - MAINTENANCE * amount * base) / amount).quantize(EIGHT_DECIMALS)


def number(value: Any) -> Decimal:
    return Decimal(repr(value))


@pytest.mark.usefixtures("no_leaks")
def test_a_derivatives_bot_on_wssclient(bitfinex_exchange, make_client, rewound_clock):
    exchange = bitfinex_exchange
    client, statuses = make_client()
    status, feed, account = Inbox("status"), Inbox("liq:global"), Inbox("account")
    client.subscribe_to_status("deriv:tBTCF0:USTF0", status)
    client.subscribe_to_status("liq:global", feed)
    client.authenticate(account)
    client.start()
    assert status.wait_for(is_event("subscribed"))["key"] == "deriv:tBTCF0:USTF0"
    assert feed.wait_for(is_event("subscribed"))["key"] == "liq:global"
    snapshot = status.wait_for(is_data())[1]
    assert len(snapshot) == 23 and snapshot[14] == float(exchange.mark_price(PERP))
    wallets = account.wait_for(is_account("ws"))[2]
    assert ["margin", "USTF0", 100000, 0, 100000, None, None] in wallets

    cid = client.new_order("MARKET", PERP, "0.1", None, lev=10)
    accepted = account.wait_for(is_notification("on-req", cid))[2]
    assert accepted[6] == "SUCCESS" and accepted[4][31] == {"lev": 10, "$F33": 10}
    executed = account.wait_for(lambda m: is_account("oc")(m) and m[2][2] == cid)[2]
    assert executed[13].startswith("EXECUTED @")
    trades = [(number(m[2][4]), number(m[2][5])) for m in account.matching(is_account("te"))]
    expected = by_the_rules(trades, lev=10)
    position = [m[2] for m in account.items if is_account("pn")(m) or is_account("pu")(m)][-1]
    amount, base, collateral = number(position[2]), number(position[3]), number(position[17])
    assert (amount, position[9], position[15], collateral) == (Decimal("0.1"), 10, 1, expected.collateral)
    limit = liquidation_price(amount, base, collateral)
    assert number(position[8]) == limit

    start, seen = account.mark(), feed.mark()
    exchange.faults.move_price("tBTCUSD", (limit * Decimal("0.98")).quantize(Decimal(1)))
    closed = account.wait_for(is_account("pc"), start=start)[2]
    assert (closed[0], closed[1], closed[2], closed[11]) == (PERP, "CLOSED", 0, position[11])
    wallet = account.wait_for(lambda m: is_account("wu")(m) and m[2][:2] == list(COLLATERAL_WALLET), start=start)[2]
    left = 100_000 - expected.fees - expected.collateral
    assert number(wallet[2]) == left and exchange.account_state().wallets[COLLATERAL_WALLET] == left

    ours = feed.wait_all(is_data(body=lambda entries: entries[0][1] == position[11]), 2, start=seen)
    trigger, acquired = ours[0][1][0], ours[1][1][0]
    assert trigger[:8] == acquired[:8] == ["pos", position[11], trigger[2], None, PERP, 0.1, position[3], None]
    assert (trigger[8:], acquired[8:]) == ([0, 0, None, None], [1, 0, None, float(limit)])

    start = status.mark()
    rewound_clock.advance(1000)
    exchange.tick()
    moved = status.wait_for(is_data(), start=start)[1]
    assert moved[14] == float(exchange.mark_price(PERP)) < float(limit) and moved[0] == START + 1000
    assert not [e for e in statuses.items if e.kind in ("callback_error", "order_not_sent", "subscription_failed")]


pytest.importorskip("bfxapi", reason="bitfinex-api-py is not installed (it is in the test extra)")

EVENTS = (
    "derivatives_status_update", "liquidation_feed_update", "position_new", "position_update", "position_close",
    "trade_execution", "wallet_update", "order_cancel", "notification", "on-req-notification",
)


async def official_derivatives_bot(exchange: LocalExchange, events: dict[str, list[Any]]) -> None:
    """The bot: every step waits for what the docs say comes back."""
    bot = OfficialBot(exchange.url, exchange.key, exchange.secret, EVENTS, events)
    client = bot.client
    loop = asyncio.get_running_loop()
    next_event = bot.next_event

    async def session() -> None:
        await client.wss.subscribe("status", key="deriv:tBTCF0:USTF0")
        await client.wss.subscribe("status", key="liq:global")
        status = await next_event("derivatives_status_update")
        assert status.mark_price == float(exchange.mark_price(PERP)) and status.clamp_max == 0.0025
        assert status.next_funding_evt_mts % (8 * 3600 * 1000) == 0 and status.open_interest > 0

        await client.wss.inputs.submit_order(type="MARKET", symbol=PERP, amount="0.1", price="30000", lev=10)
        accepted = await next_event("on-req-notification")
        assert accepted.status == "SUCCESS" and accepted.data.meta == {"lev": 10, "$F33": 10}
        await next_event("order_cancel", lambda o: o.id == accepted.data.id)
        position = (events.get("position_update") or events["position_new"])[-1]
        assert (position.symbol, position.type, position.leverage, position.amount) == (PERP, 1, 10, 0.1)
        trades = [(number(t.exec_amount), number(t.exec_price)) for t in events["trade_execution"]]
        expected = by_the_rules(trades, lev=10)
        assert number(position.collateral) == expected.collateral
        limit = liquidation_price(number(position.amount), number(position.base_price), number(position.collateral))
        assert number(position.price_liq) == limit

        seen = len(events.get("liquidation_feed_update", []))
        await loop.run_in_executor(None, exchange.faults.move_price, "tBTCUSD", (limit * Decimal("0.98")).quantize(Decimal(1)))
        closed = await next_event("position_close")
        assert (closed.position_id, closed.status, closed.amount) == (position.position_id, "CLOSED", 0)
        trigger = await next_event("liquidation_feed_update", lambda e: e.pos_id == position.position_id, seen)
        acquired = await next_event("liquidation_feed_update", lambda e: e.is_match == 1, seen)
        assert (trigger.symbol, trigger.amount, trigger.is_match, trigger.liquidation_price) == (PERP, 0.1, 0, None)
        assert (acquired.pos_id, acquired.is_market_sold, acquired.liquidation_price) == (position.position_id, 0, float(limit))
        left = 100_000 - expected.fees - expected.collateral
        wallet = await next_event(
            "wallet_update", lambda w: (w.wallet_type, w.currency, number(w.balance)) == (*COLLATERAL_WALLET, left)
        )
        assert wallet.available_balance == float(left) and "liquidated" in wallet.last_change

    await bot.run(session)


def test_a_derivatives_bot_on_bitfinex_api_py(bitfinex_exchange):
    events: dict[str, list[Any]] = {}
    run_in_thread(lambda: official_derivatives_bot(bitfinex_exchange, events))
    assert {"derivatives_status_update", "liquidation_feed_update", "position_close"} <= set(events)
    left = bitfinex_exchange.account_state().wallets[COLLATERAL_WALLET]
    fees_and_collateral = 100_000 - left
    assert 300 < fees_and_collateral < 305  # about 0.1 x 30000 / 10, plus the taker fees
