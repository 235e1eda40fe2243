"""WssClient end to end: every public method over loopback against the local exchange, with
what reached the wire checked frame by frame.

Fast tier: the loopback suite kept there (about 3 s), the client's end-to-end check while
iterating; the other loopback suites are slow.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
from typing import Any

import pytest

from bitfinex import WssClient, utils
from bitfinex.protocol.constants import OrderFlag
from bitfinex.protocol.orderstate import OrderState

from helpers import LIVE_MARKET, TIMEOUT, Inbox, is_account, is_data, is_event, is_notification, wait_until

pytestmark = [LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]


def inputs(exchange, operation):
    """The order inputs of one kind the exchange received, as decoded frames."""
    return [received.frame for received in exchange.received_inputs(operation)]


def started_auth_client(make_client, **options):
    client, statuses = make_client(**options)
    account = Inbox("account")
    client.authenticate(account)
    client.start()
    account.wait_for(is_event("auth", status="OK"))
    return client, account, statuses


def test_order_made_right_after_start_is_queued_until_auth_and_sent_once(bitfinex_exchange, make_client):
    client, statuses = make_client()
    account = Inbox("account")
    client.authenticate(account)
    client.start()
    cid = client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1000.0)
    assert isinstance(cid, int) and abs(cid - datetime.datetime.now().timestamp() * 1000) < 60_000
    account.wait_for(is_notification("on-req", cid, "SUCCESS"))
    account.wait_for(lambda m: is_account("on")(m) and m[2][2] == cid)
    sent = inputs(bitfinex_exchange, "on")
    assert sent == [[0, "on", None, {"cid": cid, "type": "LIMIT", "symbol": "tBTCUSD", "amount": "0.004", "price": "1000.0"}]]
    raw = bitfinex_exchange.received_inputs("on")[0].raw
    assert raw == json.dumps(sent[0], separators=(",", ":"))
    statuses.wait_kind("authenticated")


def test_hidden_and_flags_go_into_the_flags_field(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    cid = client.new_order("EXCHANGE LIMIT", "tETHUSD", "-0.5", "99999", hidden=True, flags=[OrderFlag.POST_ONLY])
    account.wait_for(is_notification("on-req", cid))
    payload = inputs(bitfinex_exchange, "on")[0][3]
    assert payload["flags"] == 64 | 4096 and "hidden" not in payload


def test_cancel_by_id_by_cid_and_date_and_cancel_order_cid(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    cids = [client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000") for _ in range(3)]
    orders = [account.wait_for(lambda m, c=c: is_account("on")(m) and m[2][2] == c) for c in cids]
    client.cancel_order(order_id=orders[0][2][0])
    client.cancel_order(order_cid=cids[1], order_date=utils.cid_to_date(cids[1]))
    client.cancel_order_cid(cids[2], utils.cid_to_date(cids[2]))
    for cid in cids:
        account.wait_for(lambda m, c=cid: is_account("oc")(m) and m[2][2] == c and m[2][13].startswith("CANCELED"))
    assert [f[3] for f in inputs(bitfinex_exchange, "oc")] == [
        {"id": orders[0][2][0]},
        {"cid": cids[1], "cid_date": utils.cid_to_date(cids[1])},
        {"cid": cids[2], "cid_date": utils.cid_to_date(cids[2])},
    ]


def test_cancel_order_multi_by_ids_cids_and_gids_then_cancel_all(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    cids = [client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", str(1000 + n), gid=n % 2 + 1) for n in range(6)]
    placed = {c: account.wait_for(lambda m, c=c: is_account("on")(m) and m[2][2] == c)[2] for c in cids}
    assert [placed[c][1] for c in cids] == [1, 2, 1, 2, 1, 2]

    def cancelled(cid):
        account.wait_for(lambda m: is_account("oc")(m) and m[2][2] == cid and m[2][13].startswith("CANCELED"))

    client.cancel_order_multi(ids=[placed[cids[0]][0]])
    cancelled(cids[0])
    client.cancel_order_multi(cids=[cids[1]])
    cancelled(cids[1])
    client.cancel_order_multi(gids=[1])
    for cid in (cids[2], cids[4]):
        cancelled(cid)
    client.cancel_all_orders()
    for cid in (cids[3], cids[5]):
        cancelled(cid)
    assert [f[3] for f in inputs(bitfinex_exchange, "oc_multi")] == [
        {"id": [placed[cids[0]][0]]}, {"cid": [[cids[1], utils.cid_to_date(cids[1])]]}, {"gid": [1]}, {"all": 1},
    ]
    assert bitfinex_exchange.account_state().orders == []


def test_an_order_that_was_never_sent_is_reported_in_bitfinex_shape(bitfinex_exchange, make_client):
    client, statuses = make_client()
    account = Inbox("account")
    bitfinex_exchange.faults.refuse_auth()
    client.authenticate(account)
    cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000", gid=3)
    client.start()
    notice = account.wait_for(is_notification("on-req", status="ERROR"))
    info = notice[2][4]
    assert notice[2][7].startswith("Not sent: ") and notice[2][1] == "on-req"
    assert len(info) == 32 and info[2] == cid and info[1] == 3 and info[3] == "tBTCUSD" and info[6] == 0.01
    assert statuses.wait_kind("order_not_sent").cid == cid


def test_every_cid_of_a_multi_order_is_settled_by_its_own_notification(bitfinex_exchange, make_client):
    client, account, statuses = started_auth_client(make_client)
    first = client.new_order_op("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
    missing = {"cid": 123, "cid_date": "2024-05-01"}  # no such order: refused with its cid echoed
    last = client.new_order_op("EXCHANGE LIMIT", "BTCUSD", "0.01", "1001")
    assert client.multi_order([first, missing, last]) == [first["cid"], 123, last["cid"]]
    account.wait_for(is_notification("on-req", cid=first["cid"], status="SUCCESS"))
    account.wait_for(is_notification("oc-req", cid=123, status="ERROR"))
    account.wait_for(is_notification("on-req", cid=last["cid"], status="SUCCESS"))
    bitfinex_exchange.faults.drop_connections()
    statuses.wait_kind("reconnecting")
    assert not statuses.matching(lambda e: e.kind == "order_unconfirmed")


def test_update_order_sends_ou_with_decimal_strings(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
    order_id = account.wait_for(lambda m: is_account("on")(m) and m[2][2] == cid)[2][0]
    client.update_order(id=order_id, price=1001.5, amount="0.02")
    update = account.wait_for(lambda m: is_account("ou")(m) and m[2][0] == order_id)
    assert update[2][16] == 1001.5 and update[2][6] == 0.02
    assert inputs(bitfinex_exchange, "ou") == [[0, "ou", None, {"id": order_id, "price": "1001.5", "amount": "0.02"}]]


def test_multi_order_sends_one_ox_multi_and_returns_cids_in_order(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    old = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
    account.wait_for(lambda m: is_account("on")(m) and m[2][2] == old)
    cancel = {"cid": old, "cid_date": utils.cid_to_date(old)}
    new = client.new_order_op(order_type="LIMIT", symbol="BTCUSD", amount="0.004", price="1000.0")
    cids = client.multi_order([cancel, new])
    assert cids == [old, new["cid"]]
    account.wait_for(is_notification("on-req", cid=new["cid"]))
    account.wait_for(lambda m: is_account("oc")(m) and m[2][2] == old)
    account.wait_for(lambda m: is_account("on")(m) and m[2][2] == new["cid"])
    assert inputs(bitfinex_exchange, "ox_multi") == [[0, "ox_multi", None, [["oc", cancel], ["on", new]]]]


def test_calc_sends_one_row_per_calculation_and_answers_reach_the_callback(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    client.calc(["margin_sym_tBTCUSD", "funding_sym_fUSD"])
    client.calc("wallet_exchange_USD")
    account.wait_for(lambda m: is_account("miu")(m) and m[2][0] == "sym")
    account.wait_for(lambda m: is_account("wu")(m) and m[2][:2] == ["exchange", "USD"])
    assert inputs(bitfinex_exchange, "calc") == [
        [0, "calc", None, [["margin_sym_tBTCUSD"], ["funding_sym_fUSD"]]],
        [0, "calc", None, [["wallet_exchange_USD"]]],
    ]


def test_public_channels_snapshot_then_updates_and_unsubscribe(bitfinex_exchange, make_client):
    client, _ = make_client()
    ticker, trades, book, candles = Inbox("ticker"), Inbox("trades"), Inbox("book"), Inbox("candles")
    identifiers = [
        client.subscribe_to_ticker("BTCUSD", ticker),
        client.subscribe_to_trades(symbol="ETHUSD", callback=trades),
        client.subscribe_to_orderbook(symbol="BTCUSD", precision="R0", callback=book, length=100),
        client.subscribe_to_candles("BTCUSD", "7D", candles),
    ]
    assert identifiers == ["ticker_tBTCUSD", "trades_tETHUSD", "book_tBTCUSD_R0_F0_100", "candles_tBTCUSD_1W"]
    client.start()
    ticker.wait_for(is_event("subscribed", channel="ticker", symbol="tBTCUSD"))
    ticker.wait_for(is_data(body=lambda body: isinstance(body, list) and len(body) >= 10))
    trades.wait_for(is_data(body=lambda body: isinstance(body[0], list)))
    trades.wait_for(is_data(body=lambda body: body in ("te", "tu")))
    book.wait_for(is_event("subscribed", channel="book", prec="R0", len="100"))
    book.wait_for(is_data(body=lambda body: isinstance(body[0], list) and len(body[0]) == 3))
    candles.wait_for(is_event("subscribed", key="trade:1W:tBTCUSD"))
    candles.wait_for(is_data(body=lambda body: isinstance(body[0], list) and len(body[0]) == 6))
    assert all(m[1] != "hb" for m in ticker.items if isinstance(m, list))
    assert sorted(client.subscriptions) == sorted(identifiers)
    client.unsubscribe("ticker_tBTCUSD")
    ticker.wait_for(is_event("unsubscribed", status="OK"))
    wait_until(lambda: "ticker_tBTCUSD" not in client.subscriptions, what="ticker forgotten")
    received = len(ticker.items)
    trades.wait_for(lambda m: True, count=len(trades.items) + 3)  # time passes, data flows
    assert len(ticker.items) == received
    with pytest.raises(ValueError, match="ticker_tBTCUSD"):
        client.unsubscribe("ticker_tBTCUSD")
    assert client.subscribe_to_ticker("BTCUSD", ticker) == "ticker_tBTCUSD"
    ticker.wait_for(is_event("subscribed", channel="ticker"), count=2)


def test_one_connection_carries_the_public_channels_and_frames_match_the_protocol(bitfinex_exchange, make_client):
    client, _ = make_client()
    inbox = Inbox()
    client.subscribe_to_ticker("BTCUSD", inbox)
    client.subscribe_to_candles("ETHUSD", "5m", inbox)
    client.start()
    inbox.wait_for(is_event("subscribed"), count=2)
    requests = [entry for log in bitfinex_exchange.received for entry in log.frames if isinstance(entry.frame, dict)]
    assert len(bitfinex_exchange.received) == 1
    assert [json.loads(r.raw) for r in requests] == [
        {"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD", "subId": "ticker_tBTCUSD"},
        {"event": "subscribe", "channel": "candles", "key": "trade:5m:tETHUSD", "subId": "candles_tETHUSD_5m"},
    ]


def test_ping_pong_reaches_the_callback_of_that_connection(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    ticks = Inbox("ticks")
    identifier = client.subscribe_to_ticker("BTCUSD", ticks)
    ticks.wait_for(is_event("subscribed"))
    auth_cid = client.ping()
    public_cid = client.ping(identifier)
    account.wait_for(is_event("pong", cid=auth_cid))
    ticks.wait_for(is_event("pong", cid=public_cid))
    assert not account.matching(is_event("pong", cid=public_cid))
    with pytest.raises(ValueError, match="nope"):
        client.ping("nope")


def test_bad_input_raises_before_anything_is_sent(bitfinex_exchange, make_client):
    client, account, _ = started_auth_client(make_client)
    attempts = [
        lambda: client.new_order("LIMIT", "BTCUSD", 0, 1000),
        lambda: client.new_order("LIMITED", "BTCUSD", 1, 1000),
        lambda: client.new_order("LIMIT", "BTCUSD", 1, None),
        lambda: client.new_order("LIMIT", "BTCUSD", "one", 1000),
        lambda: client.multi_order([{"id": 1}, {"nonsense": True}]),
        lambda: client.multi_order("oc"),
        lambda: client.cancel_order(),
        lambda: client.update_order(price=5),
        lambda: client.update_order(id=5, colour="red"),
        lambda: client.calc(["margin_sym_tBTCUSD"] * 31),
        lambda: client.calc("bogus"),
        lambda: client.subscribe_to_ticker("BTC/USD", print),
        lambda: client.subscribe_to_ticker("BTCUSD", "print"),
        lambda: client.subscribe_to_orderbook("BTCUSD", "P9", print),
        lambda: client.subscribe_to_candles("BTCUSD", "2m", print),
    ]
    for attempt in attempts:
        with pytest.raises((ValueError, TypeError)):
            attempt()
    cid = client.ping()
    account.wait_for(is_event("pong", cid=cid))
    assert bitfinex_exchange.received_inputs() == []
    assert len([f for log in bitfinex_exchange.received for f in log.frames]) == 2  # auth + ping


def test_orders_need_authenticate_and_auth_needs_keys(bitfinex_exchange, make_client):
    client, _ = make_client()
    with pytest.raises(RuntimeError, match="authenticate"):
        client.new_order("LIMIT", "BTCUSD", 1, 100)
    with pytest.raises(RuntimeError, match="authenticate"):
        client.calc("balance")
    keyless, _ = make_client(key=None, secret=None)
    with pytest.raises(ValueError, match="key and secret"):
        keyless.authenticate(print)


def test_stop_reports_queued_orders_and_leaves_no_thread_or_socket(bitfinex_exchange, make_client):
    client, statuses = make_client()
    account = Inbox("account")
    bitfinex_exchange.faults.delay_acks(5)  # auth cannot complete before stop()
    client.authenticate(account)
    client.start()
    cid = client.new_order("LIMIT", "BTCUSD", 1, 100)
    statuses.wait_kind("connected")
    client.stop()
    event = statuses.wait_kind("order_not_sent", cid=cid)
    assert "stopped" in event.reason
    assert account.matching(is_notification("on-req", status="ERROR"))
    assert statuses.items[-1].kind == "stopped"
    assert not [t for t in threading.enumerate() if t.name == "bitfinex-wss"]
    with pytest.raises(RuntimeError, match="create a new WssClient"):
        client.start()


def race_orders_against_stop(exchange, make_client) -> None:
    """Three threads place orders while the main thread stops the client."""
    client, statuses = make_client()
    client.authenticate(Inbox())
    client.start()
    cids: list[int] = []
    ready = threading.Barrier(4)

    def place() -> None:
        ready.wait(5)
        for _ in range(30):
            try:
                cids.append(client.new_order("LIMIT", "BTCUSD", 1, 100))
            except RuntimeError:
                return

    threads = [threading.Thread(target=place) for _ in range(3)]
    for thread in threads:
        thread.start()
    ready.wait(5)
    client.stop()
    for thread in threads:
        thread.join(10)
    reported = {e.cid for e in statuses.items if e.kind in ("order_not_sent", "order_unconfirmed")}

    def accounted() -> bool:
        sent = {f.frame[3].get("cid") for f in exchange.received_inputs("on")}
        return set(cids) <= reported | sent

    wait_until(accounted, 5.0, "every cid written or reported")
    with pytest.raises(RuntimeError, match="stopped"):
        client.new_order("LIMIT", "BTCUSD", 1, 100)


def test_orders_made_while_stop_runs_are_sent_reported_or_refused(bitfinex_exchange, make_client):
    """Every new_order() racing stop() either returns a cid the client accounts for (written, or
    reported as not sent or unconfirmed) or raises RuntimeError; none is queued and forgotten."""
    for _ in range(10):
        race_orders_against_stop(bitfinex_exchange, make_client)


def test_many_clients_one_after_another_in_one_process(bitfinex_exchange, make_client):
    for _ in range(3):
        client, _ = make_client()
        inbox = Inbox()
        client.subscribe_to_ticker("BTCUSD", inbox)
        client.start()
        inbox.wait_for(is_data())
        client.stop()


def test_secret_appears_in_no_repr_log_or_status(bitfinex_exchange, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    client, account, statuses = started_auth_client(make_client, heartbeat_timeout=5.0)
    bitfinex_exchange.faults.refuse_auth(times=1)
    client.authenticate(account)
    statuses.wait_kind("auth_failed")
    client.new_order("LIMIT", "BTCUSD", 1, 100)
    statuses.wait_kind("order_not_sent")
    texts = [repr(client), str(client), caplog.text, *map(repr, statuses.items), *map(repr, account.items)]
    for text in texts:
        assert bitfinex_exchange.secret not in text
    assert bitfinex_exchange.secret not in repr(vars(client))


def test_seed_style_construction_and_env_url(bitfinex_exchange, monkeypatch):
    monkeypatch.setenv("BITFINEX_WS_URL", bitfinex_exchange.url)
    client = WssClient(bitfinex_exchange.key, bitfinex_exchange.secret)
    try:
        assert client.public_url == client.auth_url == bitfinex_exchange.url
        account = Inbox()
        client.authenticate(account)
        client.start()
        account.wait_for(is_event("auth", status="OK"))
    finally:
        client.stop()
    monkeypatch.delenv("BITFINEX_WS_URL")
    default = WssClient()
    assert default.public_url == "wss://api-pub.bitfinex.com/ws/2" and default.auth_url == "wss://api.bitfinex.com/ws/2"
    default.stop()


def test_stop_from_inside_a_callback_closes_and_ends_the_thread(bitfinex_exchange, make_client):
    client, statuses = make_client()
    stopped_in_callback = threading.Event()

    def stop_on_first_frame(message):
        if isinstance(message, list) and not stopped_in_callback.is_set():
            stopped_in_callback.set()
            client.stop()

    client.subscribe_to_ticker("BTCUSD", stop_on_first_frame)
    client.start()
    assert stopped_in_callback.wait(10)
    statuses.wait_kind("stopped")
    wait_until(lambda: not [t for t in threading.enumerate() if t.name == "bitfinex-wss"], what="reactor thread ended")


def test_embedded_in_an_application_reactor(bitfinex_exchange):
    from bitfinex.transport.reactor import ReactorThread

    application = ReactorThread(name="application-reactor")
    application.start()
    try:
        exchange = bitfinex_exchange
        client = WssClient(exchange.key, exchange.secret, url=exchange.url, reactor=application.reactor)
        account, ticks = Inbox("account"), Inbox("ticks")
        client.authenticate(account)
        client.subscribe_to_ticker("BTCUSD", ticks)
        client.start()  # does not run the reactor: the application does
        ticks.wait_for(is_data())
        cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
        account.wait_for(is_notification("on-req", cid, "SUCCESS"))
        closed = threading.Event()
        application.call(lambda: client.stop().addCallback(lambda _: closed.set()))
        assert closed.wait(10)
        assert application.reactor.running  # the application's reactor keeps running
    finally:
        application.stop()
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        WssClient(url=bitfinex_exchange.url, reactor=application.reactor).start()


@pytest.mark.parametrize("options, words", [
    (dict(nonce_multiplier=0), "nonce_multiplier"),
    (dict(nonce_multiplier=1e12), "nonce_multiplier"),
    (dict(key=5), "key"),
    (dict(secret=5), "secret"),
    (dict(url=5), "url"),
    (dict(heartbeat_timeout=0), "heartbeat_timeout"),
    (dict(max_channels_per_connection=0), "max_channels_per_connection"),
    (dict(reconnect_base=0), "base"),
    (dict(max_retries=-1), "max_retries"),
    (dict(slow_callback_threshold=0), "slow_callback_threshold"),
    (dict(status_callback="print"), "status_callback"),
    (dict(url="http://127.0.0.1:8080/ws/2"), "url"),
    (dict(url="garbage"), "url"),
    (dict(url="ws://:80"), "url"),
    (dict(url="wss://host:99999"), "url"),
])
def test_constructor_refuses_bad_settings_naming_them(options, words):
    with pytest.raises((ValueError, TypeError), match=words):
        WssClient(**options)


@pytest.mark.parametrize("value", ["garbage", "http://127.0.0.1:8080", "ws://host:port"])
def test_a_bad_url_in_the_environment_is_refused_naming_the_variable(value, monkeypatch):
    monkeypatch.setenv("BITFINEX_WS_URL", value)
    with pytest.raises(ValueError, match=r"\$BITFINEX_WS_URL"):
        WssClient()


def test_an_order_placed_in_a_callback_is_written_before_the_callback_returns(make_client):
    """From a callback (the client's reactor thread) new_order does its work at once: no hop
    through the reactor's queue, which would hold the order until the callback returned."""
    client, _ = make_client(account_mirror=True)
    seen: dict[str, Any] = {}
    done = threading.Event()

    def on_account(msg: Any) -> None:
        if isinstance(msg, list) and msg[1] == "os" and not done.is_set():
            cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
            seen["state"] = client.account.order(cid).state  # still inside the callback
            seen["thread"] = threading.current_thread()
            done.set()

    client.authenticate(on_account)
    client.start()
    assert done.wait(TIMEOUT)
    assert seen["thread"] is not threading.current_thread()
    assert seen["state"] is OrderState.WRITTEN

