"""The derivatives rules of the local exchange without a network: leverage and collateral,
liquidation prices (against a live frame), liquidations and what they leave in the wallet, the
funding events every 8 hours, the ``deriv:`` status array, the ``liq:global`` entries, the
refused ``lev`` and status keys, the price-moving fault.

Fast tier: one :class:`~bitfinex.testing.venue.Venue` per test on a
:class:`~bitfinex.testing.venue.ManualClock`; the loopback bots are
``test_exchange_derivatives.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import pytest

from bitfinex.testing import LocalExchange
from bitfinex.testing.accounts import DERIVATIVE_TAKER_FEE, AccountMessage, Position
from bitfinex.testing.channels import SubscriptionError, parse_subscription
from bitfinex.testing.derivatives import CLAMP_MAX, FUNDING_INTERVAL_MS, FUNDING_STEP_MS, STATUS_FIELDS
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS, Instrument
from bitfinex.testing.numbers import quantize_amount
from bitfinex.testing.statuschannels import STATUS_INTERVAL_MS
from bitfinex.testing.venue import ManualClock, Venue

PERP = "tBTCF0:USTF0"
INSTRUMENTS = {i.symbol: i for i in DEFAULT_INSTRUMENTS}


class Recorder:
    """An account sink and a public sink that keep what they get."""

    def __init__(self) -> None:
        self.messages: list[AccountMessage] = []
        self.public: list[tuple[int, Any]] = []

    def deliver_account(self, message: AccountMessage) -> None:
        self.messages.append(message)

    def deliver_public(self, chan_id: int, update: Any) -> None:
        self.public.append((chan_id, update.payload))

    def kinds(self) -> list[str]:
        return [m.data[1] if m.kind == "n" else m.kind for m in self.messages]

    def last(self, kind: str, where: Callable[[Any], bool] = lambda _: True) -> Any:
        return [m.data for m in self.messages if m.kind == kind and where(m.data)][-1]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def venue(clock: ManualClock) -> Venue:
    return Venue(seed=3, clock=clock)


@pytest.fixture
def trader(venue: Venue) -> tuple[Any, Recorder]:
    account = venue.add_account("k", "s")
    recorder = Recorder()
    venue.attach(account, recorder)
    return account, recorder


def submit(venue: Venue, account: Any, **payload: Any) -> None:
    venue.desk.submit(account, payload)
    venue.flush()


def note(recorder: Recorder) -> list[Any]:
    return recorder.last("n")


def fills(recorder: Recorder, start: int = 0) -> list[tuple[Decimal, Decimal]]:
    """``(amount, price)`` of each own trade (``te``) from message ``start`` on."""
    return [(Decimal(repr(m.data[4])), Decimal(repr(m.data[5]))) for m in recorder.messages[start:] if m.kind == "te"]


# -- the rules against live frames ----------------------------------------------------------------


def test_the_liquidation_price_and_collateral_are_those_of_a_live_position():
    # leehillz/bfxqa-ws Auth/DerivativesOrder.js, a live pu: 0.0008 BTCF0 at 9000, lev 10
    position = Position(36444678, PERP, Decimal("0.0008"), Decimal(9000), 1, 1, lev=10, collateral=Decimal("0.72"))
    array = position.wire(Decimal(8900))
    assert array[8] == 8145 and array[17] == 0.72 and array[18] == pytest.approx(0.072)
    assert (array[6], array[7], array[9], array[15]) == (-0.08, -1.1111, 10, 1)  # PL, PL_PERC, LEVERAGE, TYPE derivative
    short = Position(1, PERP, Decimal("-0.0008"), Decimal(9000), 1, 1, lev=10, collateral=Decimal("0.72"))
    assert short.liquidation_price() == 9855  # the same cushion above the base price


def test_a_derivative_order_takes_lev_10_by_default_and_shows_it_in_meta_as_live(venue, trader):
    account, recorder = trader
    submit(venue, account, type="LIMIT", symbol=PERP, amount="0.01", price="1000")
    order = note(recorder)[4]
    assert note(recorder)[6:] == ["SUCCESS", "Submitting limit buy order for 0.01 BTCF0."]
    assert order[31] == {"lev": 10, "$F33": 10} and recorder.last("on")[31] == {"lev": 10, "$F33": 10}
    submit(venue, account, type="LIMIT", symbol=PERP, amount="0.01", price="1000", lev=25, meta={"aff_code": "x"})
    assert recorder.last("on")[31] == {"aff_code": "x", "lev": 25, "$F33": 25}
    order_id = recorder.last("on")[0]
    venue.desk.update(account, {"id": order_id, "lev": 50})
    venue.flush()
    assert recorder.last("ou")[31]["lev"] == 50


@pytest.mark.parametrize(("payload", "text"), [
    ({"type": "LIMIT", "symbol": "tBTCUSD", "lev": 10}, "lev: invalid (derivative orders only)"),
    ({"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "lev": 10}, "lev: invalid (derivative orders only)"),
    ({"type": "EXCHANGE LIMIT", "symbol": PERP}, "type: invalid (derivatives take margin order types"),
    ({"type": "LIMIT", "symbol": PERP, "lev": 0}, "lev: invalid"),
    ({"type": "LIMIT", "symbol": PERP, "lev": 101}, "lev: invalid"),
    ({"type": "LIMIT", "symbol": PERP, "lev": "10"}, "lev: invalid"),
    ({"type": "LIMIT", "symbol": PERP, "amount": "40", "lev": 10},
     "Invalid order: not enough tradable balance for 40 BTCF0:USTF0"),
])
def test_refused_derivative_orders(venue, trader, payload, text):
    account, recorder = trader
    submit(venue, account, **{"amount": "0.01", "price": "30000", **payload})
    assert note(recorder)[6] == "ERROR" and note(recorder)[7].startswith(text), note(recorder)
    assert "on" not in recorder.kinds()


def test_lev_cannot_be_set_on_a_spot_order_by_an_update(venue, trader):
    account, recorder = trader
    submit(venue, account, type="LIMIT", symbol="tBTCUSD", amount="0.01", price="1000")
    venue.desk.update(account, {"id": recorder.last("on")[0], "lev": 5})
    venue.flush()
    assert note(recorder)[1] == "ou-req" and note(recorder)[6:] == ["ERROR", "lev: invalid (derivative orders only)"]


def test_collateral_comes_from_the_margin_usdt_wallet_and_follows_the_position(venue, trader):
    account, recorder = trader
    quote = ("margin", "USTF0")
    assert account.wallets[quote].balance == 100_000 and ("exchange", "BTCF0") not in account.wallets
    submit(venue, account, type="MARKET", symbol=PERP, amount="0.2", lev=20)
    bought = fills(recorder)
    position = account.positions[PERP]
    collateral = sum((quantize_amount(a * p / 20) for a, p in bought), Decimal(0))
    fees = sum((quantize_amount(a * p * DERIVATIVE_TAKER_FEE) for a, p in bought), Decimal(0))
    assert position.collateral == collateral and position.lev == 20
    assert account.wallets[quote].balance == 100_000 - fees  # fees only: the collateral stays, but held
    wallet = recorder.last("wu", lambda w: w[:2] == ["margin", "USTF0"])
    assert wallet[4] == float(100_000 - fees - collateral)  # BALANCE_AVAILABLE
    start = len(recorder.messages)
    submit(venue, account, type="MARKET", symbol=PERP, amount="-0.05")
    assert position.collateral == quantize_amount(collateral * Decimal("0.15") / Decimal("0.2"))
    (amount, price), = fills(recorder, start)
    realized = (price - position.base_price) * -amount
    fee = quantize_amount(-amount * price * DERIVATIVE_TAKER_FEE)
    assert account.wallets[quote].balance == 100_000 - fees + quantize_amount(realized) - fee
    venue.desk.calc(account, ["margin_sym_tBTCF0:USTF0", "position_tBTCF0:USTF0"])
    venue.flush()
    info = recorder.last("miu")
    free = account.wallets[quote].balance - position.collateral
    assert info[:2] == ["sym", PERP] and info[2][0] == float(quantize_amount(free * 10))
    assert recorder.last("pu")[17] == float(position.collateral)


def test_a_liquidation_forfeits_the_collateral_and_feeds_liq_global(venue, trader):
    account, recorder = trader
    feed, _ = parse_subscription({"channel": "status", "key": "liq:global"}, INSTRUMENTS)
    assert venue.subscribe(feed, recorder, 7) is None  # the feed has no snapshot
    submit(venue, account, type="MARKET", symbol=PERP, amount="0.1", lev=10)
    position = account.positions[PERP]
    collateral, base, limit = position.collateral, position.base_price, position.liquidation_price()
    before = account.wallets[("margin", "USTF0")].balance
    fund = venue.derivatives.insurance_funds["USTF0"]
    venue.move_price("tBTCUSD", (limit + 1).quantize(Decimal(1)))
    assert PERP in account.positions  # the mark price has not reached the liquidation price yet
    start = len(recorder.messages)
    venue.move_price("tBTCUSD", (limit - 100).quantize(Decimal(1)))
    mark = venue.desk.figures.mark_price(PERP)
    assert mark <= limit and PERP not in account.positions
    assert [k for k in recorder.kinds()[start:] if k in ("n", "pc", "wu")] == ["pc", "wu"]
    closed = recorder.last("pc")
    assert (closed[0], closed[1], closed[2], closed[11]) == (PERP, "CLOSED", 0, position.position_id)
    assert closed[17] == float(collateral)  # the last collateral, as a live pc shows it
    assert account.wallets[("margin", "USTF0")].balance == before - collateral
    assert venue.derivatives.insurance_funds["USTF0"] == fund + collateral + (mark - base) * Decimal("0.1")
    entries = [payload[0] for chan_id, payload in recorder.public if chan_id == 7]
    head = ["pos", position.position_id, venue.now(), None, PERP, 0.1, float(base), None]
    assert entries == [[*head, 0, 0, None, None], [*head, 1, 0, None, float(limit)]]


def test_a_short_is_liquidated_when_the_mark_rises(venue, trader):
    account, recorder = trader
    submit(venue, account, type="MARKET", symbol="tETHF0:USTF0", amount="-2", lev=50)
    limit = account.positions["tETHF0:USTF0"].liquidation_price()
    venue.move_price("tETHUSD", (limit * Decimal("1.01")).quantize(Decimal(1)))
    assert "tETHF0:USTF0" not in account.positions and recorder.last("pc")[0] == "tETHF0:USTF0"


# -- funding --------------------------------------------------------------------------------------


def test_funding_is_paid_every_8_hours_at_the_mark_price_capped_at_clamp_max(venue, trader, clock):
    account, recorder = trader
    submit(venue, account, type="MARKET", symbol=PERP, amount="-0.1", lev=5)
    venue.move_price(PERP, Decimal("30600"))  # a 2 % premium: shorts are paid, at the cap
    event = venue.derivatives.perpetuals[PERP].period_start + FUNDING_INTERVAL_MS
    assert event % FUNDING_INTERVAL_MS == 0  # 00:00, 08:00, 16:00 UTC
    balance = account.wallets[("margin", "USTF0")].balance
    clock.now = event - 1
    venue.flush()
    assert account.wallets[("margin", "USTF0")].balance == balance
    clock.now = event
    venue.flush()
    mark = venue.desk.figures.mark_price(PERP)
    payment = quantize_amount(Decimal("-0.1") * mark * CLAMP_MAX)
    assert account.wallets[("margin", "USTF0")].balance == balance - payment
    assert account.positions[PERP].margin_funding == -payment and recorder.last("pu")[4] == float(-payment)
    assert "Funding payment" in recorder.last("wu")[5]
    status = venue.derivatives.status(PERP, event)
    assert (status[7], status[8], status[9], status[11]) == (event + FUNDING_INTERVAL_MS, 0, 0, float(CLAMP_MAX))


def test_funding_within_clamp_min_is_not_paid_and_the_accrual_is_time_weighted(venue, trader, clock):
    account, _ = trader
    submit(venue, account, type="MARKET", symbol=PERP, amount="0.1", lev=5)
    perpetual = venue.derivatives.perpetuals[PERP]
    premium = venue.derivatives.premium(PERP)
    assert abs(premium) < Decimal("0.0005")
    balance = account.wallets[("margin", "USTF0")].balance
    quarter = perpetual.period_start + FUNDING_INTERVAL_MS // 4
    clock.now = quarter
    status = venue.derivatives.status(PERP, quarter)
    elapsed = Decimal(quarter - perpetual.accrued_until) / FUNDING_INTERVAL_MS
    assert status[8] == float(quantize_amount(perpetual.accrued + premium * elapsed))
    assert status[9] == FUNDING_INTERVAL_MS // 4 // 3000
    clock.now = perpetual.period_start + FUNDING_INTERVAL_MS
    venue.flush()
    assert account.wallets[("margin", "USTF0")].balance == balance and account.positions[PERP].margin_funding == 0


def test_a_funding_payment_the_free_balance_cannot_cover_comes_out_of_the_collateral(clock):
    venue = Venue(seed=3, clock=clock, instruments=DEFAULT_INSTRUMENTS)
    account = venue.add_account("poor", "s", {("margin", "USTF0"): "305"})
    venue.attach(account, Recorder())
    submit(venue, account, type="MARKET", symbol=PERP, amount="0.1", lev=10)
    position = account.positions[PERP]
    collateral = position.collateral
    venue.move_price(PERP, Decimal("31000"))  # longs pay
    free = account.wallets[("margin", "USTF0")].balance - collateral
    clock.now = venue.derivatives.perpetuals[PERP].period_start + FUNDING_INTERVAL_MS
    venue.flush()
    paid = -position.margin_funding
    assert paid > free and position.collateral == collateral - (paid - free)


# -- status ---------------------------------------------------------------------------------------


def test_the_status_array_has_every_documented_field_and_nulls_at_the_placeholders(venue):
    status = venue.derivatives.status(PERP, venue.now())
    assert len(status) == STATUS_FIELDS == 23
    assert [i for i, v in enumerate(status) if v is None] == [1, 4, 6, 10, 12, 13, 15, 16, 18, 19, 20]
    figures = venue.desk.figures
    assert status[0] == venue.now() and status[2] == float(figures.mid_price(PERP))
    assert status[3] == status[14] == float(figures.mid_price("tBTCUSD"))  # SPOT_PRICE, MARK_PRICE
    assert status[5] == 10_000_000 and status[17] > 0 and (status[21], status[22]) == (0.0005, 0.0025)


def test_status_updates_come_at_most_every_second_when_something_changed(venue, clock):
    spec, echo = parse_subscription({"channel": "status", "key": "deriv:BTCF0:USTF0"}, INSTRUMENTS)
    assert spec.symbol == PERP and echo == {"key": "deriv:BTCF0:USTF0"}
    recorder = Recorder()
    snapshot = venue.subscribe(spec, recorder, 5)
    venue.move_price("tBTCUSD", Decimal("29000"))
    assert recorder.public == []
    clock.advance(STATUS_INTERVAL_MS)
    venue.flush()
    (_, status), = recorder.public
    assert status[0] == snapshot[0] + STATUS_INTERVAL_MS and status[14] < snapshot[14]
    clock.advance(STATUS_INTERVAL_MS)
    venue.flush()
    assert len(recorder.public) == 1  # nothing but MTS changed
    clock.advance(FUNDING_STEP_MS)
    venue.flush()
    assert len(recorder.public) == 2 and recorder.public[1][1][9] == status[9] + 1  # the next accrual step


@pytest.mark.parametrize("key", ["deriv:tNOPE:USTF0", "liq:local", "deriv:tBTCUSD", "deriv:", "deriv", 7, None, "LIQ:GLOBAL"])
def test_status_keys_bitfinex_does_not_know_are_refused(key):
    with pytest.raises(SubscriptionError) as refused:
        parse_subscription({"channel": "status", "key": key}, INSTRUMENTS)
    assert refused.value.error == "KEY_INVALID"


def test_simulated_traders_are_liquidated_on_liq_global_now_and_then(venue):
    feed, _ = parse_subscription({"channel": "status", "key": "liq:global"}, INSTRUMENTS)
    recorder = Recorder()
    venue.subscribe(feed, recorder, 9)
    for _ in range(1500):
        venue.tick()
    entries = [payload[0] for _, payload in recorder.public]
    assert entries and len(entries) % 2 == 0
    for trigger, match in zip(entries[::2], entries[1::2]):
        assert trigger[:8] == match[:8] and trigger[4] in ("tBTCF0:USTF0", "tETHF0:USTF0") and len(trigger) == 12
        assert (trigger[8], trigger[11], match[8], match[9]) == (0, None, 1, 0)
        long = trigger[5] > 0
        assert (match[11] < trigger[6]) if long else (match[11] > trigger[6])  # liquidated against it


def test_perpetuals_trade_around_their_spot_market(venue):
    for _ in range(400):
        venue.tick()
    for perp, spot in (("tBTCF0:USTF0", "tBTCUSD"), ("tETHF0:USTF0", "tETHUSD")):
        premium = venue.derivatives.premium(perp)
        assert abs(premium) < Decimal("0.01"), (perp, premium)
        assert venue.market[perp].last_price() is not None and venue.market[spot].last_price() is not None


def test_a_perpetual_needs_a_listed_spot_underlying():
    orphan = Instrument("tXF0:USTF0", Decimal(1), Decimal(1), Decimal(1), underlying="tXUSD")
    with pytest.raises(ValueError, match="tXUSD"):
        Venue(instruments=[orphan])


# -- the fault ------------------------------------------------------------------------------------


def test_move_price_refuses_what_it_cannot_move():
    with LocalExchange(tick_interval=None, heartbeat_interval=None) as exchange:
        for symbol, price in (("tNOPE", "1"), ("fUSD", "1"), ("tBTCUSD", "0"), ("tBTCUSD", "-5"), ("tBTCUSD", "x")):
            with pytest.raises(ValueError):
                exchange.faults.move_price(symbol, price)
        with pytest.raises(ValueError):
            exchange.mark_price("tBTCUSD")
        exchange.faults.move_price("tBTCUSD", "20000")
        assert abs(exchange.mark_price(PERP) - 20000) < 50


def test_move_price_fills_the_client_orders_it_crosses(venue, trader):
    account, recorder = trader
    submit(venue, account, type="LIMIT", symbol=PERP, amount="-0.01", price="31000")
    venue.move_price(PERP, Decimal("32000"))
    assert recorder.last("oc")[13].startswith("EXECUTED @ 31000")
    assert venue.market[PERP].last_price() >= 32000
