"""The funding rules of the local exchange without a network: the texts Bitfinex writes, the
``fon`` validation table, the notification table and the fidelity page, the FRR, funding candle
keys, and one venue that lends, is paid interest and gets its funds back on a simulated clock.

Fast tier (well under a second); the loopback scenarios are ``test_exchange_funding.py``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bitfinex.testing.channels import ChannelSpec, SubscriptionError, parse_subscription
from bitfinex.testing.errors import NOTIFICATIONS
from bitfinex.testing.funding import FundingRejected, read_new_offer, read_offer_id
from bitfinex.testing.fundingstate import DAY_MS, amount_text, percent_text, status_percent
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS
from bitfinex.testing.venue import ManualClock, Venue

INSTRUMENTS = {i.symbol: i for i in DEFAULT_INSTRUMENTS}
FIDELITY_PAGE = Path(__file__).resolve().parent.parent / "docs" / "guides" / "fidelity.rst"


@pytest.mark.parametrize(("rate", "text", "status"), [
    ("0.005", "0.5000", "0.5000%"),  # live: "at 0.5000 for 2 days"
    ("0.002", "0.2000", "0.2000%"),  # docs: "at 0.2000 for 2 days"
    ("0", "0.0000", "0.0000%"),  # live: "at FRR 0.0000"
    ("0.00001", "0.001000", "0.0010%"),  # live: "at FRR 0.001000"
    ("0.000099", "0.009900", "0.0099%"),  # live status: "EXECUTED at 0.0099% (100.0)"
    ("0.0999996", "10.00", "10.0000%"),
])
def test_rates_are_printed_as_bitfinex_prints_them(rate, text, status):
    assert percent_text(Decimal(rate)) == text and status_percent(Decimal(rate)) == status


def test_amounts_are_printed_with_a_decimal():
    assert [amount_text(Decimal(a)) for a in ("50", "-1000", "0.5", "150.00000001")] == ["50.0", "1000.0", "0.5", "150.00000001"]


def test_every_notification_row_is_complete_and_on_the_fidelity_page():
    page = FIDELITY_PAGE.read_text()
    assert len({row.text for row in NOTIFICATIONS.values()}) == len(NOTIFICATIONS)
    for name, row in NOTIFICATIONS.items():
        assert row.name == name and row.request in ("fon-req", "foc-req") and row.when and row.source, name
        assert f"``{name}``" in page and row.text.split("{")[0] in page, name
        assert row.live or "chosen" in row.source or row.source == "local" or row.note, name


GOOD = {"type": "LIMIT", "symbol": "fUSD", "amount": "200", "rate": "0.0002", "period": 2}


@pytest.mark.parametrize(("change", "row"), [
    ({"amount": "0"}, "OFFER_AMOUNT"), ({"amount": float("nan")}, "OFFER_AMOUNT"), ({"amount": True}, "OFFER_AMOUNT"),
    ({"rate": "0"}, "OFFER_RATE"), ({"rate": None}, "OFFER_RATE"), ({"type": "FRRDELTAVAR", "rate": "-1e-6"}, "OFFER_RATE"),
    ({"period": 1}, "OFFER_PERIOD"), ({"period": 121}, "OFFER_PERIOD"), ({"period": True}, "OFFER_PERIOD"),
    ({"symbol": "fEUR"}, "OFFER_SYMBOL"), ({"symbol": "tBTCUSD"}, "OFFER_SYMBOL"), ({"symbol": ["fUSD"]}, "OFFER_SYMBOL"),
    ({"type": "MARKET"}, "OFFER_TYPE"), ({"flags": 128}, "OFFER_FLAGS"), ({"flags": "64"}, "OFFER_FLAGS"),
])
def test_a_bad_field_is_refused_with_its_row(change, row):
    payload = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(FundingRejected) as refused:
        read_new_offer(payload, INSTRUMENTS)
    assert refused.value.row.name == row and refused.value.text == NOTIFICATIONS[row].text
    assert len(refused.value.echo) == 21


def test_good_offers_of_every_type_are_read():
    for offer_type, rate in (("LIMIT", "0.0002"), ("FRRDELTAVAR", "0"), ("FRRDELTAFIX", "-0.00001")):
        payload = {**GOOD, "type": offer_type, "rate": rate, "amount": 150.5, "flags": 64, "period": 120.0}
        new = read_new_offer(payload, INSTRUMENTS)
        assert (new.offer_type, new.rate, new.amount) == (offer_type, Decimal(rate), Decimal("150.5"))
        assert (new.flags, new.period) == (64, 120)
    assert read_offer_id({"id": 41238934}) == 41238934
    with pytest.raises(FundingRejected):
        read_offer_id({"id": "41238934"})


@pytest.mark.parametrize(("key", "spec"), [
    ("trade:1m:fUSD:p30", ChannelSpec("candles", "fUSD", timeframe="1m", period=30)),
    ("trade:1m:fUSD:a30:p2:p30", ChannelSpec("candles", "fUSD", timeframe="1m", period=2, period_end=30, aggregation=30)),
    ("trade:7D:fBTC:a120:p2:p120", ChannelSpec("candles", "fBTC", timeframe="1W", period=2, period_end=120, aggregation=120)),
])
def test_both_funding_candle_keys_are_read(key, spec):
    assert parse_subscription({"channel": "candles", "key": key}, INSTRUMENTS) == (spec, {"key": key})


@pytest.mark.parametrize("key", ["trade:1m:fUSD:a31:p2:p30", "trade:1m:fUSD:a30:p31:p30", "trade:1m:fUSD:a30:p02:p3000"])
def test_bad_aggregate_keys_are_refused(key):
    with pytest.raises(SubscriptionError):
        parse_subscription({"channel": "candles", "key": key}, INSTRUMENTS)


def test_a_venue_lends_is_paid_interest_and_gets_its_funds_back():
    clock = ManualClock()
    venue = Venue([INSTRUMENTS["tBTCUSD"], INSTRUMENTS["fUSD"]], seed=2, clock=clock)
    account = venue.add_account("k", "s")
    frames: list = []
    venue.attach(account, type("Sink", (), {"deliver_account": lambda self, m: frames.append((m.kind, m.data))})())
    bid, ask = venue.books["fUSD"].best_bid(), venue.books["fUSD"].best_ask()
    rate = ((bid + ask) / 2).quantize(Decimal("1e-8"))
    venue.funding.submit(account, {**GOOD, "amount": "1000", "rate": str(rate), "period": 7})
    venue.simulate_funding("fUSD", Decimal(-1000), rate, 7)
    assert [kind for kind, _ in frames if kind.startswith("f")] == ["fon", "fte", "ftu", "fcn", "foc"]
    frr = venue.market["fUSD"].flash_return_rate(clock())
    clock.advance(7 * DAY_MS)
    venue.tick()
    daily = (Decimal(1000) * rate * Decimal("0.85")).quantize(Decimal("1e-8"))
    assert account.wallet("funding", "USD").balance == 10_000 + 7 * daily
    assert [kind for kind, _ in frames if kind in ("fcu", "fcc")] == ["fcu"] * 6 + ["fcc"]
    assert account.funding.credits == {} and account.funding.lent("fUSD") == 0
    assert venue.market["fUSD"].flash_return_rate(clock()) == frr  # a week without trades: the last hour's


def test_an_account_holds_at_most_a_thousand_offers():
    venue = Venue([INSTRUMENTS["tBTCUSD"], INSTRUMENTS["fUSD"]], seed=2, clock=ManualClock())
    account = venue.add_account("k", "s")
    notes: list = []
    sink = type("Sink", (), {"deliver_account": lambda self, m: notes.append(m.data) if m.kind == "n" else None})
    venue.attach(account, sink())
    for _ in range(1001):
        venue.funding.submit(account, {**GOOD, "amount": "-150", "rate": "0.00000001"})
    venue.flush()
    assert len(account.funding.offers) == 1000
    assert [n[6] for n in notes[-2:]] == ["SUCCESS", "ERROR"] and notes[-1][7] == "Limit: too many active offers"
