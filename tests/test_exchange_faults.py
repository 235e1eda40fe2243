"""Faults on demand, robustness against client garbage, connection-rate limits and TLS, each
observed by a real WebSocket client. (The timed faults, ``go_silent`` and ``delay_acks``, are
proven to the instant on the memory network, in ``test_memory.py``.)

Slow tier: loopback tests, each with an exchange of its own (2.5 s).
"""

from __future__ import annotations

import json
import math

import pytest

from bitfinex.protocol.constants import ConfFlag
from bitfinex.testing import MALFORMED_FRAMES
from bitfinex.testing.tls import generate_certificates

from helpers import KEY, SECRET, STILL_MARKET, NotJson, RawClient, is_data

pytestmark = [pytest.mark.slow, STILL_MARKET]


def test_drop_connections_aborts_sockets(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    clients = [connect(exchange.url) for _ in range(2)]
    exchange.wait_for_connections(2)
    assert exchange.faults.drop_connections() == 2
    assert [c.wait_closed() for c in clients] == [1006, 1006]
    exchange.wait_for_connections(0)


def test_drop_connections_with_a_close_code(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    exchange.faults.drop_connections(code=1012, reason="restarting")
    assert client.wait_closed() == 1012 and client.close_reason == "restarting"


@pytest.mark.parametrize("code", [20051, 20060, 20061])
def test_send_info(bitfinex_exchange, connect, code):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    exchange.faults.send_info(code)
    info = client.wait_event("info", code=code)
    assert isinstance(info["msg"], str) and info["msg"]


def test_corrupt_next_checksum(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    client.send({"event": "conf", "flags": int(ConfFlag.OB_CHECKSUM)})
    client.wait_event("conf")
    chan_id, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0")
    good = client.wait_for(lambda f: is_data(chan_id)(f) and f[1] == "cs")[2]
    exchange.faults.corrupt_next_checksum()
    client.send({"event": "unsubscribe", "chanId": chan_id})
    client.wait_event("unsubscribed")
    start = client.mark()
    again, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0")
    corrupted = client.wait_for(lambda f: is_data(again)(f) and f[1] == "cs", start=start)[2]
    assert corrupted != good
    start = client.mark()
    client.send({"event": "unsubscribe", "chanId": again})
    client.wait_event("unsubscribed", start=start)
    third, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0")
    assert client.wait_for(lambda f: is_data(third)(f) and f[1] == "cs", start=start)[2] == good


def test_send_malformed_frames_of_every_kind(bitfinex_exchange, connect):
    assert [f.name for f in MALFORMED_FRAMES] == [
        "not-json", "wrong-types", "unknown-channel", "binary", "huge-array", "truncated", "wrong-shape", "scalar",
        "deep-nesting", "nan", "overflow", "bom", "utf-16",
    ]  # fmt: skip
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    client.wait_event("info")
    start = client.mark()
    exchange.faults.send_malformed(len(MALFORMED_FRAMES))
    text_frames = len(MALFORMED_FRAMES) - 1
    frames = client.wait_count(lambda f: True, text_frames, start=start)
    assert client.raw[start:] == [f.payload for f in MALFORMED_FRAMES if not f.binary]  # byte for byte, in order
    assert client.binary_count == 1  # the binary frame came before the text frames after it
    deep = next(f.payload for f in MALFORMED_FRAMES if f.name == "deep-nesting")
    assert deep == b"[" * 2000 + b"]" * 2000
    # the test client decodes with the stdlib: not-json and truncated are not JSON to it, nor is
    # deep-nesting before Python 3.13 (whose json.loads reads 2,000 levels)...
    try:
        json.loads(deep)
        unreadable = 2
    except RecursionError:
        unreadable = 3
    assert sum(isinstance(f, NotJson) for f in frames) == unreadable
    assert any(isinstance(f, list) and len(f) == 100_000 for f in frames)
    assert None in frames
    # ...while it reads NaN, 1e400, a BOM and UTF-16 (from bytes), as orjson would not
    assert frames.count([1, "hb"]) == 2
    numbers = [f[1][0] for f in frames if isinstance(f, list) and len(f) == 2 and f[0] == 1 and isinstance(f[1], list)]
    assert len(numbers) == 2 and math.isnan(numbers[0]) and numbers[1] == math.inf
    assert not client.closed
    with pytest.raises(ValueError):
        exchange.faults.send_malformed(1, kinds=["nonsense"])


def test_reorder_acks(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    client = connect(exchange.url)
    exchange.faults.reorder_acks(2)
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD"})
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tETHUSD"})
    acks = client.wait_count(lambda f: isinstance(f, dict) and f.get("event") == "subscribed", 2)
    assert [a["symbol"] for a in acks] == ["tETHUSD", "tBTCUSD"]
    start = client.mark()
    client.send({"event": "ping", "cid": 3})
    client.send({"event": "ping", "cid": 4})
    pongs = client.wait_count(lambda f: isinstance(f, dict) and f.get("event") == "pong", 2, start=start)
    assert [p["cid"] for p in pongs] == [3, 4]


def test_refuse_auth_once(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    exchange.faults.refuse_auth(code=10114, msg="nonce: small")
    client = connect(exchange.url)
    refused = client.authenticate(KEY, SECRET, 1)
    assert (refused["status"], refused["code"], refused["msg"]) == ("FAILED", 10114, "nonce: small")
    assert connect(exchange.url).authenticate(KEY, SECRET, 2)["status"] == "OK"


def test_garbage_from_one_client_does_not_disturb_another(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    victim = connect(exchange.url)
    victim.send({"event": "conf", "flags": int(ConfFlag.SEQ_ALL)})
    victim.wait_event("conf")
    chan_id, _ = victim.subscribe(channel="trades", symbol="tBTCUSD")
    vandal = connect(exchange.url)
    garbage = [
        "",
        "{",
        "[",
        "null",
        "42",
        '"text"',
        "[]",
        "[0]",
        '[0, "on"]',
        '[0, "on", null, "x"]',
        '[0, "on", null, {"amount": {"nested": [1, 2]}}]',
        "[1, 2, 3]",
        '{"event": null}',
        '{"event": ["subscribe"]}',
        '{"event": "subscribe", "channel": {"a": 1}, "symbol": [1]}',
        '{"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "len": true}',
        '{"event": "unsubscribe", "chanId": 1e400}',
        '{"event": "auth", "apiKey": 5, "authSig": [], "authPayload": null}',
        '{"event": "auth", "apiKey": "test-key", "authPayload": "AUTH", "authSig": "' + "0" * 96 + '"}',
        '{"event": "conf", "flags": -1}',
        '[0, "calc", null, [[1], "x"]]',
        '[0, "ox_multi", null, [["on"], 5]]',
        "[" * 10_000 + "]" * 10_000,
        '"\\ud800"',
        "1" * 5000,
    ]
    for text in garbage:
        vandal.send_text(text)
    vandal.send_binary(b"\xff" * 100)
    vandal.send({"event": "ping", "cid": 99})
    assert vandal.wait_event("pong")["cid"] == 99
    vandal.send_text("x" * (2 << 20))  # over the 1 MiB message limit: that connection closes
    vandal.wait_closed()
    start = victim.mark()
    exchange.simulate_order("tBTCUSD", "0.5")
    trade = victim.wait_for(lambda f: is_data(chan_id)(f) and f[1] == "te", start=start)
    victim.send({"event": "ping", "cid": 1})
    assert victim.wait_event("pong", start=start)["cid"] == 1
    assert trade[2][2] > 0 and exchange.connection_count == 1


@pytest.mark.bitfinex_exchange(connection_rate_limit=(2, 60.0))
def test_connection_rate_limit_refuses_handshakes(bitfinex_exchange, connect, client_reactor):
    exchange = bitfinex_exchange
    connect(exchange.url)
    connect(exchange.url)
    refused = RawClient(client_reactor, exchange.url)
    with pytest.raises(ConnectionError):
        refused.connect()
    assert exchange.connection_count == 2


@pytest.mark.bitfinex_exchange(tls=True)
def test_tls_with_the_generated_ca(bitfinex_exchange, connect, client_reactor):
    exchange = bitfinex_exchange
    assert exchange.url.startswith("wss://")
    assert exchange.ca_path.read_bytes() == exchange.ca_certificate
    client = connect(exchange.url, ca_pem=exchange.ca_certificate)
    assert client.wait_for(lambda f: True)["event"] == "info"
    stranger = RawClient(client_reactor, exchange.url, ca_pem=generate_certificates().ca_pem)
    with pytest.raises(ConnectionError):
        stranger.connect()
