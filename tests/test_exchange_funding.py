"""Funding on the local exchange over a raw WebSocket: offers (``fon``/``foc``, ``fos``), matches
that become credits and loans, funding trades public and private, interest on the exchange's
clock, the FRR and FRR offers, the funding ticker and candles (both key forms), and every bad
funding input answered with Bitfinex's ERROR notification.

Slow tier: some twenty loopback tests on exchanges with a :class:`~bitfinex.testing.ManualClock`
(interest is paid by moving that clock, never by waiting).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bitfinex.testing import LocalExchange, ManualClock
from bitfinex.testing.errors import NOTIFICATIONS
from bitfinex.testing.fundingstate import DAY_MS, percent_text, status_percent
from bitfinex.transport.reactor import ReactorThread

from helpers import KEY, SECRET, STILL_MARKET, RawClient, assert_nothing_escaped, is_account, is_data, is_notification

CLOCK = ManualClock()
"""The clock of every exchange of this module's scenarios (the marker holds this one object)."""
START = ManualClock().now

pytestmark = [pytest.mark.slow, STILL_MARKET, pytest.mark.bitfinex_exchange(clock=CLOCK)]


@pytest.fixture(autouse=True)
def rewound_clock() -> ManualClock:
    """:data:`CLOCK`, set back to its start before each test (before its exchange is made)."""
    CLOCK.now = START
    return CLOCK


@pytest.fixture
def lender(bitfinex_exchange, connect):
    """The exchange and its account's authenticated raw connection (snapshots received)."""
    client = connect(bitfinex_exchange.url)
    client.authenticate(KEY, SECRET, 1)
    client.wait_for(is_account("bu"))
    return bitfinex_exchange, client


def settle(client: RawClient) -> None:
    """Wait until everything the exchange sent before now has arrived."""
    start = client.mark()
    client.send({"event": "ping"})
    client.wait_event("pong", start=start)


def frames(client: RawClient, kind: str, start: int = 0) -> list:
    return [f[2] for f in client.snapshot(start) if isinstance(f, list) and len(f) > 2 and f[0] == 0 and f[1] == kind]


def offer(client: RawClient, **payload) -> list:
    """Send ``fon`` and return the ``fon-req`` notification body."""
    start = client.mark()
    client.send([0, "fon", None, payload])
    return client.wait_for(is_notification("fon-req"), start=start)[2]


def inside_spread(exchange: LocalExchange, symbol: str = "fUSD") -> Decimal:
    """A rate between the best borrower bid and the best lend offer."""
    bid, ask = exchange.best_prices(symbol)
    rate = ((bid + ask) / 2).quantize(Decimal("1e-8"))
    assert bid < rate < ask
    return rate


def funding_wallet(client: RawClient, start: int = 0, currency: str = "USD") -> list:
    return [w for w in frames(client, "wu", start) if w[:2] == ["funding", currency]][-1]


# -- lending: offer, taken, credit, interest, end ------------------------------------------------


def test_lend_offer_rests_is_taken_becomes_a_credit_and_earns_interest(lender, connect, rewound_clock):
    exchange, client = lender
    clock = rewound_clock
    observer = connect(exchange.url)
    raw_book, _ = observer.subscribe(channel="book", symbol="fUSD", prec="R0", len="250")
    trades_channel, _ = observer.subscribe(channel="trades", symbol="fUSD")
    rate = inside_spread(exchange)

    note = offer(client, type="LIMIT", symbol="fUSD", amount="1000", rate=str(rate), period=30)
    assert note[6:] == ["SUCCESS", f"Submitting funding offer of 1000.0 USD at {percent_text(rate)} for 30 days."]
    info = note[4]
    offer_id = info[0]
    assert len(info) == 21 and info[4] == 1000 and info[14] == float(rate) and info[15] == 30
    assert all(value is None for index, value in enumerate(info) if index not in (0, 4, 14, 15))
    new = client.wait_for(is_account("fon"))[2]
    assert new == [offer_id, "fUSD", START, START, 1000, 1000, "LIMIT", None, None, None, "ACTIVE", None, None, None,
                   float(rate), 30, 0, 0, None, 0, None]
    settle(client)
    assert funding_wallet(client)[2:5] == [10000, 0, 9000]
    observer.wait_for(lambda f: is_data(raw_book)(f) and f[1] == [offer_id, 30, float(rate), 1000])
    again = connect(exchange.url)
    again.authenticate(KEY, SECRET, 2)
    assert again.wait_for(is_account("fos"))[2] == [new]

    start = client.mark()
    trades = exchange.simulate_funding("fUSD", "-400", rate=str(rate), period=30)
    assert [(t.amount, t.price, t.period) for t in trades] == [(Decimal(-400), rate, 30)]
    trade_id = trades[0].trade_id
    executed = client.wait_for(is_account("fte"), start=start)[2]
    assert executed == [trade_id, "fUSD", START, offer_id, 400, float(rate), 30, None]
    assert client.wait_for(is_account("ftu"), start=start)[2] == executed
    credit = client.wait_for(is_account("fcn"), start=start)[2]
    credit_id = credit[0]
    assert credit == [credit_id, "fUSD", 1, START, START, 400, 0, "ACTIVE", "FIXED", None, None, float(rate), 30, START,
                      None, None, 0, None, 0, None, 0, "tBTCUSD"]
    partial = client.wait_for(is_account("fou"), start=start)[2]
    assert partial[4:6] == [600, 1000] and partial[10] == f"PARTIALLY FILLED at {status_percent(rate)} (400.0)"
    public = observer.wait_for(lambda f: is_data(trades_channel)(f) and f[1] == "fte")
    assert public[2] == [trade_id, START, -400, float(rate), 30]  # the taker borrowed
    observer.wait_for(lambda f: is_data(trades_channel)(f) and f[1] == "ftu" and f[2][0] == trade_id)

    daily = (Decimal(400) * rate * Decimal("0.85")).quantize(Decimal("1e-8"))
    start = client.mark()
    clock.advance(DAY_MS)
    exchange.tick()
    updated = client.wait_for(is_account("fcu"), start=start)[2]
    assert updated[0] == credit_id and updated[14] == START + DAY_MS and updated[4] == START + DAY_MS
    settle(client)
    balance = Decimal(10000) + daily
    assert funding_wallet(client, start)[2] == float(balance)
    assert funding_wallet(client, start)[5] == "Margin Funding Payment on wallet funding"

    client.send([0, "calc", None, [["funding_sym_fUSD"]]])
    yield_loan, yield_lend, days_loan, days_lend = client.wait_for(is_account("fiu"), start=start)[2][2]
    assert (yield_loan, days_loan) == (0, 0) and yield_lend == float(rate) and days_lend == 29

    start = client.mark()
    client.send([0, "foc", None, {"id": offer_id}])
    cancel = client.wait_for(is_notification("foc-req"), start=start)[2]
    assert cancel[6:] == ["SUCCESS", f"Submitted for cancellation; waiting for confirmation (ID: {offer_id})."]
    assert cancel[4][0] == offer_id and cancel[4][10].startswith("PARTIALLY FILLED")
    closed = client.wait_for(is_account("foc"), start=start)[2]
    assert closed[4] == 600 and closed[10] == "CANCELED"
    settle(client)
    assert funding_wallet(client, start)[2:5] == [float(balance), 0, float(balance - 400)]

    start = client.mark()
    clock.advance(29 * DAY_MS)
    exchange.tick()
    finished = client.wait_for(is_account("fcc"), start=start)[2]
    settle(client)
    assert finished[0] == credit_id and finished[7] == "CLOSED" and finished[14] == START + 30 * DAY_MS
    assert len(frames(client, "fcu", start)) == 28  # one payout a day, the 30th with the close
    balance += 29 * daily
    assert funding_wallet(client, start)[2:5] == [float(balance), 0, float(balance)]
    assert exchange.account_state().funding_credits == [] and exchange.account_state().funding_offers == []


def test_an_offer_that_crosses_is_taken_on_entry_without_fon(lender):
    exchange, client = lender
    bid, _ = exchange.best_prices("fUSD")
    start = client.mark()
    note = offer(client, type="LIMIT", symbol="fUSD", amount="150", rate=str(bid), period=120)
    done = client.wait_for(is_account("foc"), start=start)[2]
    settle(client)
    assert note[6] == "SUCCESS" and frames(client, "fon", start) == []
    assert done[0] == note[4][0] and done[4] == 0 and done[10].startswith("EXECUTED at ")
    credits = frames(client, "fcn", start)
    assert sum(c[5] for c in credits) == 150 and all(c[2] == 1 and c[11] >= float(bid) for c in credits)
    assert [t[4] for t in frames(client, "fte", start)] == [c[5] for c in credits]
    assert all(t[7] is None for t in frames(client, "fte", start))  # MAKER: null, as live


def test_hidden_offers_match_but_never_show(lender, connect):
    exchange, client = lender
    observer = connect(exchange.url)
    raw_book, _ = observer.subscribe(channel="book", symbol="fUSD", prec="R0", len="250")
    rate = inside_spread(exchange)
    start = client.mark()
    offer(client, type="LIMIT", symbol="fUSD", amount="500", rate=str(rate), period=7, flags=64)
    placed = client.wait_for(is_account("fon"), start=start)[2]
    assert placed[9] == 64 and placed[17] == 1
    settle(observer)
    assert not any(is_data(raw_book)(f) and f[1][0] == placed[0] for f in observer.snapshot())
    trades = exchange.simulate_funding("fUSD", "-500", rate=str(rate), period=7)
    assert sum(t.amount for t in trades) == -500
    assert client.wait_for(is_account("fcn"), start=start)[2][16] == 1


# -- borrowing: a loan ------------------------------------------------------------------------------


def test_a_borrow_offer_that_matches_becomes_a_loan_that_costs_interest(lender, rewound_clock):
    exchange, client = lender
    _, ask = exchange.best_prices("fUSD")
    start = client.mark()
    note = offer(client, type="LIMIT", symbol="fUSD", amount="-300", rate=str(ask), period=2)
    assert note[6:] == ["SUCCESS", f"Submitting funding bid of 300.0 USD at {percent_text(ask)} for 2 days."]
    assert note[4][4] == -300
    done = client.wait_for(is_account("foc"), start=start)[2]
    settle(client)
    assert done[5] == -300 and done[10].startswith("EXECUTED at ") and frames(client, "fon", start) == []
    loans = frames(client, "fln", start)
    trades = frames(client, "fte", start)
    assert sum(loan[5] for loan in loans) == 300 and all(loan[2] == -1 and len(loan) == 21 for loan in loans)
    assert sum(t[4] for t in trades) == -300 and all(t[6] >= 2 for t in trades)
    assert all(loan[12] == t[6] and loan[11] == t[5] for loan, t in zip(loans, trades))
    state = exchange.account_state()
    assert [loan[0] for loan in state.funding_loans] == [loan[0] for loan in loans]

    margin = float(state.wallets[("margin", "USD")])
    start = client.mark()
    rewound_clock.advance(DAY_MS)
    exchange.tick()
    settle(client)
    charged = sum(Decimal(repr(loan[5])) * Decimal(repr(loan[11])) for loan in loans)
    charges = [w for w in frames(client, "wu", start) if w[:2] == ["margin", "USD"]]
    assert charges[-1][2] == pytest.approx(margin - float(charged), abs=1e-7)
    assert {u[0] for u in frames(client, "flu", start)} == {loan[0] for loan in loans}
    start = client.mark()
    rewound_clock.advance(max(t[6] for t in trades) * DAY_MS)
    exchange.tick()
    settle(client)
    assert sorted(c[0] for c in frames(client, "flc", start)) == sorted(loan[0] for loan in loans)
    assert all(c[7] == "CLOSED" for c in frames(client, "flc", start))
    assert exchange.account_state().funding_loans == []


def test_two_accounts_fund_each_other(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    exchange.add_account("borrower", "s2")
    lending, borrowing = connect(exchange.url), connect(exchange.url)
    lending.authenticate(KEY, SECRET, 1)
    borrowing.authenticate("borrower", "s2", 1)
    rate = inside_spread(exchange)
    offer(lending, type="LIMIT", symbol="fUSD", amount="800", rate=str(rate), period=30)
    lending.wait_for(is_account("fon"))
    start = borrowing.mark()
    offer(borrowing, type="LIMIT", symbol="fUSD", amount="-800", rate=str(rate), period=30)
    loan = borrowing.wait_for(is_account("fln"), start=start)[2]
    credit = lending.wait_for(is_account("fcn"))[2]
    assert (loan[2], loan[5], loan[11], loan[12]) == (-1, 800, float(rate), 30)
    assert (credit[2], credit[5], credit[11], credit[21]) == (1, 800, float(rate), None)  # a loan: no position
    assert lending.wait_for(is_account("fte"))[2][4] == 800 and borrowing.wait_for(is_account("fte"))[2][4] == -800


def test_own_offers_never_match_and_periods_must_fit(lender):
    exchange, client = lender
    rate = inside_spread(exchange)
    offer(client, type="LIMIT", symbol="fUSD", amount="500", rate=str(rate), period=2)
    start = client.mark()
    offer(client, type="LIMIT", symbol="fUSD", amount="-200", rate=str(rate), period=2)
    settle(client)
    assert frames(client, "fln", start) == [] and frames(client, "fcn", start) == []
    assert exchange.simulate_funding("fUSD", "-300", rate=str(rate), period=30) == []  # our 2-day offer does not fit
    assert len(exchange.account_state().funding_offers) == 2


# -- the FRR ---------------------------------------------------------------------------------------


def test_frr_offers_rest_at_the_frr_and_follow_it(lender, connect, rewound_clock):
    exchange, client = lender
    observer = connect(exchange.url)
    ticker_channel, ticker = observer.subscribe(channel="ticker", symbol="fUSD")
    raw_book, _ = observer.subscribe(channel="book", symbol="fUSD", prec="R0", len="250")
    frr = exchange.flash_return_rate("fUSD")
    assert len(ticker) == 16 and ticker[0] == float(frr) and ticker[13] is None and ticker[14] is None
    assert frr > exchange.best_prices("fUSD")[1]  # the FRR offer will not be the cheapest

    note = offer(client, type="FRRDELTAVAR", symbol="fUSD", amount="600", rate="0", period=30)
    assert note[7] == "Submitting funding offer of 600.0 USD at FRR 0.0000 for 30 days."
    offer_id = note[4][0]
    assert client.wait_for(is_account("fon"))[2][6:15] == ["FRRDELTAVAR", None, None, None, "ACTIVE", None, None, None, 0]
    observer.wait_for(lambda f: is_data(raw_book)(f) and f[1] == [offer_id, 30, float(frr), 600])
    assert observer.wait_for(lambda f: is_data(ticker_channel)(f) and f[1][15] >= 600)[1][0] == float(frr)

    rewound_clock.advance(61 * 60_000)  # the last hour's trades leave the FRR's window...
    first = exchange.simulate_funding("fUSD", "-200")  # ...and a borrower takes the cheapest offers
    new_frr = exchange.flash_return_rate("fUSD")
    paid = sum(-t.amount * t.price for t in first) / sum(-t.amount for t in first)
    assert new_frr != frr and new_frr == round(paid, 8 - paid.adjusted() - 1)
    observer.wait_for(lambda f: is_data(raw_book)(f) and f[1] == [offer_id, 30, float(new_frr), 600])

    start = client.mark()
    exchange.simulate_funding("fUSD", "-100000", rate=str(new_frr), period=30)
    credit = client.wait_for(is_account("fcn"), start=start)[2]
    assert credit[8] == "VAR" and credit[11] == 0 and credit[19] == float(new_frr)
    done = client.wait_for(is_account("foc"), start=start)[2]
    assert done[10] == "EXECUTED at FRR delta (600.0)"
    trade_id = client.wait_for(is_account("fte"), start=start)[2][0]
    tape = exchange.call(lambda: {t.trade_id: t for t in exchange._venue.market["fUSD"].tape})
    assert tape[trade_id].fixed is False  # a variable-rate contract does not make the FRR


def test_frr_offsets_beyond_30_percent_are_refused(lender):
    exchange, client = lender
    frr = exchange.flash_return_rate("fUSD")
    big = (frr * Decimal("0.31")).quantize(Decimal("1e-10"))
    note = offer(client, type="FRRDELTAFIX", symbol="fUSD", amount="500", rate=str(-big), period=2)
    assert note[6:] == ["ERROR", "FRR offset larger than 30% of FRR, aborting."]
    small = (frr * Decimal("0.1")).quantize(Decimal("1e-10"))
    note = offer(client, type="FRRDELTAFIX", symbol="fUSD", amount="500", rate=str(-small), period=2)
    assert note[6] == "SUCCESS" and note[7].endswith(f"at FRR {percent_text(-small)} for 2 days.")


# -- public data: ticker, candles, fBTC -------------------------------------------------------------


def test_the_funding_ticker_is_computed_from_the_market(lender, connect):
    exchange, _ = lender
    observer = connect(exchange.url)
    for symbol in ("fUSD", "fBTC"):
        _, ticker = observer.subscribe(channel="ticker", symbol=symbol)
        _, book = observer.subscribe(channel="book", symbol=symbol, prec="R0", len="250")
        _, trades = observer.subscribe(channel="trades", symbol=symbol)
        frr, bid, bid_period, bid_size, ask, ask_period, ask_size, change, relative, last, volume, high, low = ticker[:13]
        at_frr = ticker[15]
        best_bid, best_ask = exchange.best_prices(symbol)
        assert (bid, ask) == (float(best_bid), float(best_ask)) and frr == float(exchange.flash_return_rate(symbol))
        bids = [e for e in book if e[3] < 0 and e[2] == bid]
        asks = [e for e in book if e[3] > 0 and e[2] == ask]
        assert bid_period == bids[0][1] and ask_period == asks[0][1]
        assert bid_size == pytest.approx(-sum(e[3] for e in bids)) and ask_size == pytest.approx(sum(e[3] for e in asks))
        assert last == trades[0][3] and low <= last <= high and volume > 0
        assert relative == pytest.approx(change / (last - change), abs=1e-4)
        assert at_frr == pytest.approx(sum(e[3] for e in book if e[3] > 0 and e[2] <= frr))


def test_funding_candles_in_both_key_forms(lender, connect):
    exchange, _ = lender
    observer = connect(exchange.url)
    single, snapshot = observer.subscribe(channel="candles", key="trade:1m:fUSD:p30")
    aggregate, aggregated = observer.subscribe(channel="candles", key="trade:1m:fUSD:a30:p2:p30")
    btc, _ = observer.subscribe(channel="candles", key="trade:1h:fBTC:a120:p2:p120")
    assert len(snapshot) == len(aggregated) == 240
    assert all(c[4] <= min(c[1], c[2]) and c[3] >= max(c[1], c[2]) for c in aggregated)
    start = observer.mark()
    exchange.simulate_funding("fUSD", "-100000", period=30)
    exchange.simulate_funding("fBTC", "-5")
    settle(observer)
    period_30 = [f[1] for f in observer.channel_frames(single, start)]
    both = [f[1] for f in observer.channel_frames(aggregate, start)]
    assert period_30 and both and period_30[-1][0] == both[-1][0] == START // 60_000 * 60_000
    assert both[-1][5] >= period_30[-1][5] > 0 and observer.channel_frames(btc, start)
    start = observer.mark()
    assert {t.period for t in exchange.simulate_funding("fUSD", "100000", period=2)} == {2}  # a lender: bids of 2 days
    settle(observer)
    assert observer.channel_frames(aggregate, start) and not observer.channel_frames(single, start)


@pytest.mark.parametrize("key", [
    "trade:1m:fUSD", "trade:1m:fUSD:p1", "trade:1m:fUSD:p121", "trade:1m:fUSD:a7:p2:p30", "trade:1m:fUSD:a30:p30:p2",
    "trade:1m:fUSD:a30:p2:p121", "trade:1m:fUSD:a30:p2", "trade:1m:fEUR:p30", "trade:1m:fUSD:a30:p2:p30:p40",
])
def test_malformed_funding_candle_keys_are_refused(bitfinex_exchange, connect, key):
    client = connect(bitfinex_exchange.url)
    start = client.mark()
    client.send({"event": "subscribe", "channel": "candles", "key": key})
    error = client.wait_event("error", start=start)
    assert (error["code"], error["msg"], error["key"]) == (10300, "key: invalid", key)


def test_btc_funding_from_the_btc_funding_wallet(lender):
    exchange, client = lender
    note = offer(client, type="LIMIT", symbol="fBTC", amount="0.001", rate="0.0001", period=2)
    assert note[6:] == ["ERROR", "Invalid offer: incorrect amount, minimum is 150.0 dollar or equivalent in BTC"]
    note = offer(client, type="LIMIT", symbol="fBTC", amount="2", rate="0.0001", period=2)
    assert note[6:] == ["ERROR", "Invalid offer: not enough BTC balance available in deposit wallet"]
    start = client.mark()
    rate = inside_spread(exchange, "fBTC")
    note = offer(client, type="LIMIT", symbol="fBTC", amount="0.5", rate=str(rate), period=2)
    assert note[7] == f"Submitting funding offer of 0.5 BTC at {percent_text(rate)} for 2 days."
    assert client.wait_for(is_account("fon"), start=start)[2][1] == "fBTC"
    settle(client)
    assert funding_wallet(client, start, "BTC")[2:5] == [1, 0, 0.5]


# -- bad input: Bitfinex's ERROR notifications -------------------------------------------------------

GOOD = {"type": "LIMIT", "symbol": "fUSD", "amount": "200", "rate": "0.0002", "period": 2}

BAD_OFFERS = [
    ("zero-amount", {"amount": "0"}, "OFFER_AMOUNT"),
    ("dust-amount", {"amount": "0.000000001"}, "OFFER_AMOUNT"),
    ("nan-amount", {"amount": "NaN"}, "OFFER_AMOUNT"),
    ("no-amount", {"amount": None}, "OFFER_AMOUNT"),
    ("list-amount", {"amount": [1]}, "OFFER_AMOUNT"),
    ("huge-amount", {"amount": "1e400"}, "OFFER_AMOUNT"),
    ("zero-rate", {"rate": "0"}, "OFFER_RATE"),
    ("negative-rate", {"rate": "-0.0001"}, "OFFER_RATE"),
    ("nan-rate", {"rate": "NaN"}, "OFFER_RATE"),
    ("negative-frr-var-offset", {"type": "FRRDELTAVAR", "rate": "-0.00001"}, "OFFER_RATE"),
    ("period-1", {"period": 1}, "OFFER_PERIOD"),
    ("period-121", {"period": 121}, "OFFER_PERIOD"),
    ("period-text", {"period": "2"}, "OFFER_PERIOD"),
    ("period-fraction", {"period": 2.5}, "OFFER_PERIOD"),
    ("unknown-symbol", {"symbol": "fEUR"}, "OFFER_SYMBOL"),
    ("trading-symbol", {"symbol": "tBTCUSD"}, "OFFER_SYMBOL"),
    ("lower-case-symbol", {"symbol": "fusd"}, "OFFER_SYMBOL"),
    ("no-symbol", {"symbol": None}, "OFFER_SYMBOL"),
    ("order-type", {"type": "EXCHANGE LIMIT"}, "OFFER_TYPE"),
    ("lower-case-type", {"type": "limit"}, "OFFER_TYPE"),
    ("no-type", {"type": None}, "OFFER_TYPE"),
    ("post-only-flag", {"flags": 4096}, "OFFER_FLAGS"),
    ("unknown-flag", {"flags": 1}, "OFFER_FLAGS"),
    ("negative-flags", {"flags": -64}, "OFFER_FLAGS"),
    ("below-minimum", {"amount": "149.99"}, "OFFER_MINIMUM"),
    ("more-than-the-wallet", {"amount": "10000.01"}, "OFFER_BALANCE"),
]


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[LocalExchange, RawClient]]:
    """One still exchange and one authenticated raw connection for every bad input."""
    thread = ReactorThread(name="funding-inputs")
    thread.start()
    exchange = LocalExchange(KEY, SECRET, seed=1, tick_interval=None, heartbeat_interval=None, clock=ManualClock())
    exchange.start()
    client = RawClient(thread, exchange.url).connect()
    client.authenticate(KEY, SECRET, 1)
    client.wait_for(is_account("bu"))
    try:
        yield exchange, client
    finally:
        client.abort()
        exchange.stop()
        thread.stop()


@pytest.mark.parametrize(("change", "row"), [(c, r) for _, c, r in BAD_OFFERS], ids=[name for name, _, _ in BAD_OFFERS])
def test_bad_funding_offers_get_bitfinex_error_notifications(shared, caplog, change, row):
    exchange, client = shared
    payload = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    start = client.mark()
    client.send([0, "fon", None, payload])
    note = client.wait_for(is_notification("fon-req"), start=start)[2]
    settle(client)
    expected = NOTIFICATIONS[row].text_for(currency="USD")
    assert note[1:4] == ["fon-req", None, None] and note[5:] == [None, "ERROR", expected]
    echo = note[4]
    assert isinstance(echo, list) and len(echo) == 21 and echo[0] is None
    if isinstance(payload.get("symbol"), str):
        assert echo[1] == payload["symbol"]
    if payload.get("period") in (1, 121):
        assert echo[15] == payload["period"]
    assert not [f for f in client.snapshot(start) if isinstance(f, list) and f[1] in ("fon", "foc", "fte", "fcn", "fln")]
    assert exchange.account_state().funding_offers == []
    assert_nothing_escaped(caplog)


@pytest.mark.parametrize(("payload", "text"), [
    ({"id": 999}, "Offer not found."),
    ({"id": "999"}, "id: invalid"),
    ({"id": 0}, "id: invalid"),
    ({}, "id: invalid"),
    ({"id": 2**60}, "id: invalid"),
])
def test_bad_cancels_get_bitfinex_error_notifications(shared, caplog, payload, text):
    _, client = shared
    start = client.mark()
    client.send([0, "foc", None, payload])
    note = client.wait_for(is_notification("foc-req"), start=start)[2]
    assert note[6:] == ["ERROR", text] and len(note[4]) == 21
    assert note[4][0] == (payload["id"] if text == "Offer not found." else None)
    assert_nothing_escaped(caplog)


def test_a_payload_that_is_no_object_is_refused_like_an_order_input(shared):
    _, client = shared
    for operation in ("fon", "foc"):
        start = client.mark()
        client.send([0, operation, None, ["LIMIT"]])
        error = client.wait_event("error", start=start)
        assert (error["code"], error["msg"]) == (10020, f"{operation}: payload must be an object")


def test_funding_offers_filtered_by_the_auth_filter(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    full = connect(exchange.url)
    full.authenticate(KEY, SECRET, 1)
    offer(full, type="LIMIT", symbol="fBTC", amount="0.01", rate="0.01", period=2)
    offer(full, type="LIMIT", symbol="fUSD", amount="200", rate="0.01", period=2)
    full.wait_count(is_account("fon"), 2)
    only_usd = connect(exchange.url)
    only_usd.authenticate(KEY, SECRET, 2, filters=["funding-fUSD"])
    assert [o[1] for o in only_usd.wait_for(is_account("fos"))[2]] == ["fUSD"]
    trading = connect(exchange.url)
    trading.authenticate(KEY, SECRET, 3, filters=["trading"])
    trading.wait_for(is_account("os"))
    settle(trading)
    assert frames(trading, "fos") == []
