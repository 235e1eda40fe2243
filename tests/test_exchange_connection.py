"""Connection life on the local exchange: info, conf, ping, errors, subscribe/unsubscribe,
heartbeats and the SEQ_ALL / BULK_UPDATES / TIMESTAMP flags, seen by a real WebSocket client.

Slow tier: some forty-five loopback tests, each with an exchange of its own (6 s).
"""

from __future__ import annotations

import pytest

from bitfinex.protocol.constants import ConfFlag
from bitfinex.testing.requests import ECHO_DEPTH, echoable

from helpers import (
    DECODERS,
    DEEP,
    HOSTILE_EVENTS,
    HOSTILE_INPUTS,
    HOSTILE_PINGS,
    KEY,
    SECRET,
    STILL_MARKET,
    NotJson,
    answers_to,
    assert_clean_error,
    assert_clean_pong,
    assert_nothing_escaped,
    depth,
    is_data,
    read_frames_with,
)

pytestmark = [pytest.mark.slow, STILL_MARKET]


def test_info_event_is_the_first_frame(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    info = client.wait_for(lambda f: True)
    assert info["event"] == "info"
    assert info["version"] == 2
    assert info["platform"] == {"status": 1}
    assert isinstance(info["serverId"], str) and len(info["serverId"]) == 36


def test_conf_ok_echoes_flags_and_bad_flags_fail(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    client.send({"event": "conf", "flags": 65536})
    assert client.wait_event("conf") == {"event": "conf", "status": "OK", "flags": 65536}
    start = client.mark()
    client.send({"event": "conf", "flags": "lots"})
    failed = client.wait_event("conf", start=start)
    assert failed["status"] == "FAILED" and failed["code"] == 10050


def test_ping_answers_pong_with_ts_and_cid(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    client.send({"event": "ping", "cid": 1234})
    pong = client.wait_event("pong")
    assert pong["cid"] == 1234
    assert isinstance(pong["ts"], int) and pong["ts"] > 1_500_000_000_000


@pytest.mark.parametrize(
    ("request_fields", "echo"),
    [
        ({"channel": "ticker", "symbol": "tBTCUSD"}, {"symbol": "tBTCUSD", "pair": "BTCUSD"}),
        ({"channel": "ticker", "symbol": "fUSD"}, {"symbol": "fUSD", "currency": "USD"}),
        ({"channel": "trades", "symbol": "tETHUSD"}, {"symbol": "tETHUSD", "pair": "ETHUSD"}),
        ({"channel": "trades", "pair": "BTCUSD"}, {"symbol": "tBTCUSD", "pair": "BTCUSD"}),
        (
            {"channel": "book", "symbol": "tTESTBTC:TESTUSD", "prec": "P0", "freq": "F0", "len": "100"},
            {"symbol": "tTESTBTC:TESTUSD", "prec": "P0", "freq": "F0", "len": "100", "pair": "TESTBTC:TESTUSD"},
        ),
        (
            {"channel": "book", "symbol": "tBTCUSD"},
            {"symbol": "tBTCUSD", "prec": "P0", "freq": "F0", "len": "25", "pair": "BTCUSD"},
        ),
        (
            {"channel": "book", "symbol": "fUSD", "prec": "R0", "len": 250},
            {"symbol": "fUSD", "prec": "R0", "freq": "F0", "len": "250", "currency": "USD"},
        ),
        ({"channel": "candles", "key": "trade:1m:tBTCUSD"}, {"key": "trade:1m:tBTCUSD"}),
        ({"channel": "candles", "key": "trade:7D:tLTCUSD"}, {"key": "trade:7D:tLTCUSD"}),
    ],
)
def test_subscribed_echo_matches_bitfinex(bitfinex_exchange, connect, request_fields, echo):
    client = connect(bitfinex_exchange.url)
    client.send({"event": "subscribe", **request_fields, "subId": "my-sub"})
    reply = client.wait_event("subscribed")
    chan_id = reply["chanId"]
    assert isinstance(chan_id, int) and chan_id > 0
    channel = request_fields["channel"]
    assert reply == {"event": "subscribed", "channel": channel, "chanId": chan_id, **echo, "subId": "my-sub"}
    assert list(reply) == ["event", "channel", "chanId", *echo, "subId"]


@pytest.mark.parametrize(
    ("request_fields", "code"),
    [
        ({"channel": "ticker", "symbol": "tNOPE"}, 10300),  # live: "symbol: invalid" (not the docs' 10001)
        ({"channel": "book", "symbol": "tBTCUSD", "prec": "P9"}, 10011),
        ({"channel": "book", "symbol": "tBTCUSD", "len": "30"}, 10012),
        ({"channel": "book", "symbol": "tBTCUSD", "freq": "F7"}, 10300),
        ({"channel": "weather", "symbol": "tBTCUSD"}, 10302),
        ({"channel": "candles", "key": "trade:2m:tBTCUSD"}, 10300),
        ({"channel": "candles", "key": "trade:1m:tNOPE"}, 10300),
        ({"channel": "candles", "key": "trade:1m:fUSD"}, 10300),
    ],
)
def test_subscribe_errors_carry_code_and_echo(bitfinex_exchange, connect, request_fields, code):
    client = connect(bitfinex_exchange.url)
    client.send({"event": "subscribe", **request_fields, "subId": 77})
    error = client.wait_event("error")
    assert error["code"] == code
    assert isinstance(error["msg"], str) and error["msg"]
    assert error["subId"] == 77
    assert {k: error[k] for k in request_fields} == request_fields
    assert "chanId" not in error
    if "symbol" in request_fields:  # Bitfinex echoes pair: the symbol with its first character cut
        assert error["pair"] == request_fields["symbol"][1:]
    else:
        assert "pair" not in error


@pytest.mark.bitfinex_exchange(max_subscriptions=2)
def test_duplicate_and_limit_errors(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    client.subscribe(channel="ticker", symbol="tBTCUSD")
    start = client.mark()
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD"})
    assert client.wait_event("error", start=start)["code"] == 10301
    client.subscribe(channel="ticker", symbol="tETHUSD")
    start = client.mark()
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tLTCUSD"})
    assert client.wait_event("error", start=start)["code"] == 10305


def test_default_subscription_cap_is_25(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    for precision in ("P0", "P1", "P2", "P3", "P4", "R0"):
        for length in ("1", "25", "100", "250"):
            client.send({"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": precision, "len": length})
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD"})
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tETHUSD"})
    error = client.wait_event("error")
    assert error["code"] == 10305 and error["symbol"] == "tETHUSD"
    assert len([f for f in client.snapshot() if isinstance(f, dict) and f["event"] == "subscribed"]) == 25


def test_unsubscribe_ok_then_errors(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    chan_id, _ = client.subscribe(channel="book", symbol="tBTCUSD")
    client.send({"event": "unsubscribe", "chanId": chan_id})
    assert client.wait_event("unsubscribed") == {"event": "unsubscribed", "status": "OK", "chanId": chan_id}
    start = client.mark()
    exchange.tick(20)
    client.send({"event": "unsubscribe", "chanId": chan_id})
    # live (bitfinex-api-node issue 349): 10400 "unsubscribe: invalid" echoing chanId, not the docs' 10401
    assert client.wait_event("error", start=start) == {
        "event": "error", "msg": "unsubscribe: invalid", "chanId": chan_id, "code": 10400,
    }
    assert client.channel_frames(chan_id, start) == []
    start = client.mark()
    client.send({"event": "unsubscribe", "chanId": "x"})
    assert client.wait_event("error", start=start, code=10400)["chanId"] == "x"


def test_unknown_event_and_bad_json(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    client.send({"event": "dance", "style": "tango"})
    error = client.wait_event("error")
    assert error["code"] == 10000 and error["style"] == "tango"
    start = client.mark()
    client.send_text("{not json")
    assert client.wait_event("error", start=start)["code"] == 10020
    start = client.mark()
    client.send([0, "on", None, {"type": "LIMIT"}])  # before auth: live "auth: invalid" 10100
    assert client.wait_event("error", start=start) == {"event": "error", "msg": "auth: invalid", "code": 10100}


@pytest.mark.bitfinex_exchange(heartbeat_interval=0.2)
def test_heartbeats_on_idle_channels_and_channel_zero(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    chan_id, _ = client.subscribe(channel="ticker", symbol="tLTCUSD")
    assert client.wait_for(lambda f: f == [chan_id, "hb"], timeout=3)
    assert client.authenticate(KEY, SECRET, 1)["status"] == "OK"
    start = client.mark()
    assert client.wait_for(lambda f: f == [0, "hb"], timeout=3, start=start)


@pytest.mark.bitfinex_exchange(heartbeat_interval=0.2)
def test_seq_all_numbers_every_public_frame_and_auth_frames(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    client.send({"event": "conf", "flags": int(ConfFlag.SEQ_ALL | ConfFlag.OB_CHECKSUM)})
    client.wait_event("conf")
    book, _ = client.subscribe(channel="book", symbol="tBTCUSD")
    trades, _ = client.subscribe(channel="trades", symbol="tBTCUSD")
    client.authenticate(KEY, SECRET, 1)
    client.send([0, "on", None, {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.01", "price": "100"}])
    exchange.tick(30)
    client.wait_for(lambda f: f == [0, "hb", f[-1]] if isinstance(f, list) and len(f) == 3 else False, timeout=3)
    public: list[int] = []
    for frame in client.snapshot():
        if not isinstance(frame, list):
            continue
        if frame[0] == 0 and frame[1] == "n" and frame[2][1].endswith("-req"):
            assert len(frame) == 4  # [0, "n", DATA, AUTH_SEQ]
        elif frame[0] == 0 and frame[1] != "hb":
            assert len(frame) == 5  # [0, TYPE, DATA, PUB_SEQ, AUTH_SEQ]
            public.append(frame[3])
        else:
            public.append(frame[-1])
    assert public == list(range(public[0], public[0] + len(public)))
    auth_seqs = [f[4] for f in client.snapshot() if isinstance(f, list) and f[0] == 0 and len(f) == 5]
    assert auth_seqs == list(range(1, len(auth_seqs) + 1))
    cs = [f for f in client.channel_frames(book) if f[1] == "cs"]
    assert cs and all(len(f) == 4 for f in cs)
    assert any(f[1] == "te" for f in client.channel_frames(trades))


def test_bulk_updates_batch_book_entries(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    client.send({"event": "conf", "flags": int(ConfFlag.BULK_UPDATES)})
    client.wait_event("conf")
    chan_id, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0", len="250")
    start = client.mark()
    exchange.simulate_order("tBTCUSD", "2")
    updates = client.wait_for(is_data(chan_id), start=start)
    assert isinstance(updates[1], list) and all(isinstance(entry, list) and len(entry) == 3 for entry in updates[1])
    assert len(updates[1]) > 1


def test_timestamp_flag_appends_ms_time(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    client.send({"event": "conf", "flags": int(ConfFlag.TIMESTAMP)})
    client.wait_event("conf")
    chan_id, _ = client.subscribe(channel="ticker", symbol="tBTCUSD")
    snapshot = client.wait_for(is_data(chan_id))
    assert len(snapshot) == 3 and isinstance(snapshot[2], int) and snapshot[2] > 1_500_000_000_000


def test_binary_frame_gets_an_error_and_the_connection_stays(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    client.send_binary(b"\x00\x01")
    assert client.wait_event("error")["code"] == 10020
    client.send({"event": "ping", "cid": 5})
    assert client.wait_event("pong")["cid"] == 5
    assert not any(isinstance(f, NotJson) for f in client.snapshot())


# -- hostile requests: the guard every session shares (bitfinex.testing.requests) -------------------


@pytest.mark.parametrize("decoder", DECODERS)
def test_hostile_requests_get_clean_errors_and_the_connection_stays(bitfinex_exchange, connect, caplog, monkeypatch, decoder):
    read_frames_with(monkeypatch, decoder)
    client = connect(bitfinex_exchange.url)
    client.wait_event("info")
    codes = {}
    for number, (name, frame) in enumerate(HOSTILE_EVENTS + HOSTILE_INPUTS):
        codes[name] = assert_clean_error(name, answers_to(client, frame, number))["code"]
    assert codes["event-array"] == 10000  # unknown event
    assert codes["nesting-past-the-decoders"] == codes["object-nesting-past-the-decoders"] == codes["not-json"] == 10020
    assert codes["scalar"] == 10020
    if decoder == "stdlib":  # which reads them all (a strict decoder refuses some as invalid JSON: 10020)
        assert codes["event-deep"] == 10000 and codes["input-deep"] == 10100  # not authenticated
        assert codes["subscribe-deep-symbol"] == 10300 and codes["unsubscribe-deep"] == 10400
    for number, (name, frame) in enumerate(HOSTILE_PINGS, start=1000):
        assert_clean_pong(name, answers_to(client, frame, number), decoder)
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD", "subId": [[[[1e300]]]]})
    assert client.wait_event("subscribed")["subId"] == [[[[1e300]]]]  # the connection still subscribes
    assert not client.closed
    assert_nothing_escaped(caplog)


def test_non_finite_and_too_deep_fields_are_echoed_as_null(bitfinex_exchange, connect, caplog, monkeypatch):
    read_frames_with(monkeypatch, "stdlib")  # orjson refuses 1e400 and NaN outright
    client = connect(bitfinex_exchange.url)
    client.wait_event("info")
    frame = b'{"event":"subscribe","channel":"ticker","symbol":1e400,"subId":[1,NaN,{"a":-1e400}]}'
    error = assert_clean_error("overflow", answers_to(client, frame, 1))
    assert error["symbol"] is None and error["subId"] == [1, None, {"a": None}]
    deep = assert_clean_error("deep", answers_to(client, f'{{"event":"dance","x":{DEEP}}}'.encode(), 2))
    assert depth(deep["x"]) == ECHO_DEPTH
    inner = deep["x"]
    while inner != [None]:  # one array in each, down to the cut, where the innermost holds null
        (inner,) = inner
    client.send_text('{"event":"subscribe","channel":"ticker","symbol":"tBTCUSD","subId":1e400}')
    subscribed = client.wait_event("subscribed")
    assert "subId" in subscribed and subscribed["subId"] is None
    assert_nothing_escaped(caplog)


def test_echoable_copies_what_json_carries_and_cuts_the_rest():
    request = {"a": [1, 2.5, "x", None, True, {"b": [float("nan"), float("-inf")]}], "c": {}}
    assert echoable(request) == {"a": [1, 2.5, "x", None, True, {"b": [None, None]}], "c": {}}
    assert echoable(request) is not request and echoable(float("inf")) is None and echoable("s") == "s"
    deep: list = []
    for _ in range(100_000):  # far past the recursion limit: the copy is made without recursion
        deep = [deep]
    cut = echoable(deep)
    assert depth(cut) == ECHO_DEPTH
    assert depth(echoable(deep, max_depth=3)) == 3 and echoable(deep, max_depth=0) is None
