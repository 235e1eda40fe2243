"""WssClient's ``status`` channel end to end, over loopback against the local exchange: what
goes on the wire, what reaches the callback, what is refused in the caller's thread, and the
resubscription after a reconnect."""

from __future__ import annotations

import pytest

from helpers import LIVE_MARKET, Inbox, is_data, is_event

pytestmark = [LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]


def subscribe_frames(exchange):
    """The ``subscribe`` events every connection sent, in arrival order."""
    frames = [received.frame for log in exchange.received for received in log.frames]
    return [frame for frame in frames if isinstance(frame, dict) and frame.get("event") == "subscribe"]


def is_derivative_status(body):
    """``[MTS, null, DERIV_PRICE, SPOT_PRICE, ...]``: a ``deriv:`` frame's body."""
    return isinstance(body, list) and isinstance(body[0], int) and isinstance(body[2], (int, float))


def test_status_keys_are_sent_as_the_protocol_names_them_and_frames_reach_the_callback(
    bitfinex_exchange, make_client
):
    client, statuses = make_client()
    derivative, liquidations = Inbox("deriv"), Inbox("liq")
    assert client.subscribe_to_status("deriv:tBTCF0:USTF0", derivative) == "status_deriv:tBTCF0:USTF0"
    assert client.subscribe_to_status(key="liq:global", callback=liquidations) == "status_liq:global"
    client.start()
    derivative.wait_for(is_event("subscribed", channel="status", key="deriv:tBTCF0:USTF0"))
    liquidations.wait_for(is_event("subscribed", channel="status", key="liq:global"))
    derivative.wait_for(is_data(body=is_derivative_status))
    sent = {(frame["channel"], frame["key"]) for frame in subscribe_frames(bitfinex_exchange)}
    assert sent == {("status", "deriv:tBTCF0:USTF0"), ("status", "liq:global")}
    assert all(m[1] != "hb" for m in derivative.items + liquidations.items if isinstance(m, list))
    assert not [event for event in statuses.items if event.kind == "subscription_failed"]


def test_status_channels_are_resubscribed_after_a_reconnect(bitfinex_exchange, make_client):
    client, statuses = make_client()
    derivative = Inbox("deriv")
    client.subscribe_to_status("deriv:BTCF0:USTF0", derivative)  # a bare symbol means tBTCF0:USTF0
    client.start()
    derivative.wait_for(is_data(body=is_derivative_status))
    bitfinex_exchange.faults.drop_connections()
    statuses.wait_for(lambda event: event.kind == "resubscribed")
    derivative.wait_for(is_event("subscribed", key="deriv:tBTCF0:USTF0"), count=2)
    after = derivative.mark()
    derivative.wait_for(is_data(body=is_derivative_status), start=after)
    assert client.subscriptions == ["status_deriv:tBTCF0:USTF0"]


@pytest.mark.parametrize("key", ["deriv:tNOPE:USTF0", "liq:local"])
def test_a_well_formed_key_the_exchange_does_not_know_is_its_refusal(bitfinex_exchange, make_client, key):
    client, statuses = make_client()
    client.subscribe_to_status(key, Inbox("status"))
    client.start()
    refused = statuses.wait_for(lambda event: event.kind == "subscription_failed")
    assert refused.subscription == f"status_{key}"
    assert refused.code == 10300  # Bitfinex's "subscribe: invalid" family
    assert client.subscriptions == []


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("deriv:", ValueError),
        ("deriv:BTC/USD", ValueError),
        ("liq", ValueError),
        ("ticker:tBTCUSD", ValueError),
        ("", ValueError),
        (5, TypeError),
        (None, TypeError),
    ],
)
def test_a_key_of_another_form_raises_before_anything_is_sent(bitfinex_exchange, make_client, key, error):
    client, _ = make_client()
    with pytest.raises(error, match="key"):
        client.subscribe_to_status(key, print)
    with pytest.raises(TypeError, match="callback"):
        client.subscribe_to_status("liq:global", "print")
    assert client.subscriptions == []


def test_a_perpetual_is_a_trading_symbol_on_every_public_channel(bitfinex_exchange, make_client):
    client, statuses = make_client()
    ticker, trades, candles, books = Inbox("ticker"), Inbox("trades"), Inbox("candles"), Inbox("books")
    assert client.subscribe_to_ticker("tBTCF0:USTF0", ticker) == "ticker_tBTCF0:USTF0"
    client.subscribe_to_trades("BTCF0:USTF0", trades)  # bare, as a spot pair may be
    client.subscribe_to_candles("tBTCF0:USTF0", "1m", candles)
    client.subscribe_to_orderbook("tETHF0:USTF0", "P0", books, maintained=True)
    client.start()
    ticker.wait_for(is_data(body=lambda body: len(body) == 10 and 0 < body[0] < body[2]))
    trades.wait_for(is_event("subscribed", symbol="tBTCF0:USTF0"))
    trades.wait_for(is_data(body=lambda body: isinstance(body[0], list)))
    candles.wait_for(is_event("subscribed", key="trade:1m:tBTCF0:USTF0"))
    candles.wait_for(is_data(body=lambda body: isinstance(body[0], list) and len(body[0]) == 6))
    verified = books.wait_for(lambda book: book.valid, count=3)
    assert verified.symbol == "tETHF0:USTF0" and verified.best_bid.price < verified.best_ask.price
    assert not [event for event in statuses.items if event.kind in ("checksum_mismatch", "subscription_failed")]
