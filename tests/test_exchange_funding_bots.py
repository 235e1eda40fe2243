"""Funding bots written only against the docs pass against the local exchange: one on
``WssClient`` (``new_funding_offer``, ``cancel_funding_offer``, the auth callback), one on the
official client, bitfinex-api-py 4 (``submit_funding_offer``, ``cancel_funding_offer`` and its
funding events), each placing a LIMIT lend offer, seeing it in ``fos``/``fon``, seeing it taken
and turned into a credit, being paid interest, and cancelling another offer; bitfinex-api-py
parses every funding notification the exchange sends, refusals included.

Slow tier: two loopback sessions (the official client with its own asyncio loop), interest paid
by moving a :class:`~bitfinex.testing.ManualClock`.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Callable

import pytest
from official_client import OfficialBot, run_in_thread

from bitfinex.testing import LocalExchange, ManualClock
from bitfinex.testing.fundingstate import DAY_MS

from helpers import KEY, SECRET, STILL_MARKET, Inbox, is_account, is_notification

CLOCK = ManualClock()
START = ManualClock().now

pytestmark = [pytest.mark.slow, STILL_MARKET, pytest.mark.bitfinex_exchange(clock=CLOCK)]


@pytest.fixture(autouse=True)
def rewound_clock() -> ManualClock:
    CLOCK.now = START
    return CLOCK


def inside_spread(exchange: LocalExchange) -> Decimal:
    """A rate between the best borrower bid and the best lend offer of fUSD."""
    bid, ask = exchange.best_prices("fUSD")
    rate = ((bid + ask) / 2).quantize(Decimal("1e-8"))
    assert bid < rate < ask
    return rate


def about(kind: str, offer_id: int) -> Callable[[Any], bool]:
    return lambda m: is_account(kind)(m) and m[2][0] == offer_id


@pytest.mark.usefixtures("no_leaks")
def test_a_funding_bot_on_wssclient(bitfinex_exchange, make_client, rewound_clock):
    exchange = bitfinex_exchange
    client, statuses = make_client()
    account = Inbox("account")
    client.authenticate(account)
    client.start()
    assert account.wait_for(is_account("fos"))[2] == []
    rate = inside_spread(exchange)

    client.new_funding_offer("LIMIT", "fUSD", "1000", rate, 30)
    submitted = account.wait_for(is_notification("fon-req"))[2]
    assert submitted[6] == "SUCCESS" and submitted[7].startswith("Submitting funding offer of 1000.0 USD at ")
    lend_id = submitted[4][0]
    assert account.wait_for(about("fon", lend_id))[2][10] == "ACTIVE"
    start = account.mark()
    client.new_funding_offer("LIMIT", "fUSD", "500", rate * 3, 2)
    other_id = account.wait_for(is_notification("fon-req"), start=start)[2][4][0]
    account.wait_for(about("fon", other_id))

    start = account.mark()
    exchange.simulate_funding("fUSD", "-1000", rate=rate, period=30)
    credit = account.wait_for(is_account("fcn"), start=start)[2]
    assert (credit[2], credit[5], credit[7], credit[11], credit[12]) == (1, 1000, "ACTIVE", float(rate), 30)
    assert account.wait_for(about("foc", lend_id), start=start)[2][10].startswith("EXECUTED at ")

    start = account.mark()
    rewound_clock.advance(DAY_MS)
    exchange.tick()
    assert account.wait_for(is_account("fcu"), start=start)[2][14] == START + DAY_MS
    paid = account.wait_for(lambda m: is_account("wu")(m) and m[2][:2] == ["funding", "USD"], start=start)[2]
    assert paid[2] == float(10000 + (1000 * rate * Decimal("0.85")).quantize(Decimal("1e-8")))

    start = account.mark()
    client.cancel_funding_offer(other_id)
    assert account.wait_for(is_notification("foc-req"), start=start)[2][6] == "SUCCESS"
    assert account.wait_for(about("foc", other_id), start=start)[2][10] == "CANCELED"
    client.calc(["funding_sym_fUSD"])
    info = account.wait_for(is_account("fiu"), start=start)[2]
    assert info[:2] == ["sym", "fUSD"] and info[2][1] == float(rate) and info[2][3] == 29
    assert not [e for e in statuses.items if e.kind in ("callback_error", "order_not_sent", "server_error")]


pytest.importorskip("bfxapi", reason="bitfinex-api-py is not installed (it is in the test extra)")

EVENTS = (
    "funding_offer_snapshot", "funding_credit_snapshot", "funding_loan_snapshot", "funding_offer_new",
    "funding_offer_update", "funding_offer_cancel", "funding_credit_new", "funding_credit_update",
    "funding_credit_close", "funding_loan_new", "funding_loan_update", "funding_loan_close",
    "funding_info_update", "wallet_update", "fon-req-notification", "foc-req-notification",
)


async def official_funding_bot(exchange: LocalExchange, clock: ManualClock, rate: Decimal, events: dict[str, list[Any]]) -> None:
    """The bot: every step waits for what the docs say comes back."""
    bot = OfficialBot(exchange.url, KEY, SECRET, EVENTS, events)
    client = bot.client
    loop = asyncio.get_running_loop()
    next_event, count = bot.next_event, bot.count

    async def session() -> None:
        assert await next_event("funding_offer_snapshot") == []
        inputs = client.wss.inputs
        await inputs.submit_funding_offer(type="LIMIT", symbol="fUSD", amount="1000", rate=str(rate), period=30)
        submitted = await next_event("fon-req-notification")
        assert submitted.status == "SUCCESS" and submitted.data.amount == 1000 and submitted.data.period == 30
        lend = await next_event("funding_offer_new", lambda o: o.id == submitted.data.id)
        assert (lend.symbol, lend.offer_type, lend.offer_status, lend.rate) == ("fUSD", "LIMIT", "ACTIVE", float(rate))

        await loop.run_in_executor(None, exchange.simulate_funding, "fUSD", "-1000", str(rate), 30)
        credit = await next_event("funding_credit_new")
        assert (credit.side, credit.amount, credit.rate_type, credit.position_pair) == (1, 1000, "FIXED", "tBTCUSD")
        executed = await next_event("funding_offer_cancel", lambda o: o.id == lend.id)
        assert executed.offer_status.startswith("EXECUTED at ")

        def one_day_later() -> None:
            clock.advance(DAY_MS)
            exchange.tick()

        await loop.run_in_executor(None, one_day_later)
        assert (await next_event("funding_credit_update")).mts_last_payout == START + DAY_MS
        paid = await next_event("wallet_update", lambda w: w.wallet_type == "funding" and w.balance > 10000)
        assert paid.balance == float(10000 + (1000 * rate * Decimal("0.85")).quantize(Decimal("1e-8")))

        seen = count("fon-req-notification")
        await inputs.submit_funding_offer(type="LIMIT", symbol="fUSD", amount="500", rate=str(rate * 3), period=2, flags=64)
        other = (await next_event("fon-req-notification", seen=seen)).data
        assert (await next_event("funding_offer_new", lambda o: o.id == other.id)).hidden == 1
        await inputs.cancel_funding_offer(other.id)
        cancelled = await next_event("foc-req-notification")
        assert cancelled.status == "SUCCESS" and cancelled.data.id == other.id
        assert (await next_event("funding_offer_cancel", lambda o: o.id == other.id)).offer_status == "CANCELED"

        seen = count("fon-req-notification")
        await inputs.submit_funding_offer(type="LIMIT", symbol="fUSD", amount="200", rate="0.0002", period=121)
        refused = await next_event("fon-req-notification", seen=seen)
        assert (refused.status, refused.text, refused.data.period) == ("ERROR", "period: invalid", 121)
        seen = count("foc-req-notification")
        await inputs.cancel_funding_offer(999)
        refused = await next_event("foc-req-notification", seen=seen)
        assert (refused.status, refused.text, refused.data.id) == ("ERROR", "Offer not found.", 999)

        _, ask = await loop.run_in_executor(None, exchange.best_prices, "fUSD")
        await inputs.submit_funding_offer(type="LIMIT", symbol="fUSD", amount="-300", rate=str(ask), period=2)
        loan = await next_event("funding_loan_new")
        assert (loan.side, loan.symbol, loan.status) == (-1, "fUSD", "ACTIVE")
        await inputs.calc("funding_sym_fUSD")
        info = await next_event("funding_info_update")
        assert (info.symbol, info.yield_lend, info.duration_lend) == ("fUSD", float(rate), 29)
        assert info.yield_loan > 0 and info.duration_loan >= 2

    await bot.run(session)


def test_a_funding_bot_on_bitfinex_api_py(bitfinex_exchange, rewound_clock):
    exchange = bitfinex_exchange
    rate = inside_spread(exchange)
    events: dict[str, list[Any]] = {}
    run_in_thread(lambda: official_funding_bot(exchange, rewound_clock, rate, events))
    assert {"funding_offer_new", "funding_credit_new", "funding_credit_update", "funding_loan_new"} <= set(events)
