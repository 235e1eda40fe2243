"""Fidelity of the local exchange: every row of its error table is sent in a scenario (or says
why it cannot be), every documented ``conf`` bit has its effect or is refused, and DEC_S turns
every decimal of every public and account frame into a string.

Slow tier: about twenty loopback tests, each with an exchange of its own (4 s).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from bitfinex.protocol.constants import ConfFlag
from bitfinex.protocol.jsnum import js_number_text
from bitfinex.testing import LocalExchange
from bitfinex.testing.errors import ERRORS, ErrorRow
from bitfinex.testing.session import ExchangeSession

from helpers import KEY, SECRET, STILL_MARKET, RawClient, is_account, is_data, is_event

pytestmark = [pytest.mark.slow, STILL_MARKET]

LIMIT_BUY = {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.01", "price": "1000"}


def answer(client: RawClient, send: Callable[[], None]) -> dict[str, Any]:
    """Send with ``send``, and return the first control event that follows (an error, a FAILED
    answer, an info)."""
    start = client.mark()
    send()
    return client.wait_for(  # type: ignore[no-any-return]
        lambda f: isinstance(f, dict) and (f.get("event") in ("error", "info") or f.get("status") == "FAILED"),
        start=start,
    )


def matches(row: ErrorRow, frame: dict[str, Any]) -> bool:
    """Whether ``frame`` is what ``row`` sends (its code, its text up to any placeholder)."""
    kind = "error" if row.event == "error" else row.event
    text = row.msg.split("{")[0]
    if frame.get("event") != kind or frame.get("code") != row.code or not str(frame.get("msg", "")).startswith(text):
        return False
    return row.event in ("error", "info") or frame.get("status") == "FAILED"


def recording(tmp_path: Any) -> str:
    """A recording of one ticker channel, with SEQ_ALL confirmed, and no authenticated channel."""
    lines = [
        {"event": "info", "version": 2, "serverId": "x", "platform": {"status": 1}},
        {"event": "conf", "status": "OK", "flags": 65536},
        {"event": "subscribed", "channel": "ticker", "chanId": 7, "symbol": "tBTCUSD", "pair": "BTCUSD"},
        [7, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1],
    ]
    path = tmp_path / "session.jsonl"
    path.write_text(
        "".join(json.dumps({"t": 1.0 + i, "connection": "public-1", "frame": json.dumps(m)}) + "\n" for i, m in enumerate(lines))
    )
    return str(path)


@pytest.mark.bitfinex_exchange(max_subscriptions=3, calcs_per_second=1)
def test_every_row_of_the_error_table_is_sent_or_says_why_not(bitfinex_exchange, connect, monkeypatch, tmp_path, caplog):
    exchange = bitfinex_exchange
    sent: dict[str, dict[str, Any]] = {}

    def check(name: str, client: RawClient, send: Callable[[], None]) -> None:
        frame = answer(client, send)
        assert matches(ERRORS[name], frame), (name, frame)
        sent[name] = frame

    plain = connect(exchange.url)
    plain.wait_event("info")
    check("UNKNOWN_EVENT", plain, lambda: plain.send({"event": "dance", "style": "tango"}))
    check("INVALID_JSON", plain, lambda: plain.send_text("{not json"))
    check("BINARY_FRAME", plain, lambda: plain.send_binary(b"\x00\x01"))
    check("NOT_A_REQUEST", plain, lambda: plain.send_text("42"))
    check("CONF_INVALID", plain, lambda: plain.send({"event": "conf", "flags": "x"}))
    check("CONF_UNSUPPORTED", plain, lambda: plain.send({"event": "conf", "flags": 32}))
    check("AUTH_REQUIRED", plain, lambda: plain.send([0, "on", None, LIMIT_BUY]))
    check("INPUT_INVALID", plain, lambda: plain.send([1, 2]))
    check("UNAUTH_FAILED", plain, lambda: plain.send({"event": "unauth"}))
    check("SYMBOL_INVALID", plain, lambda: plain.send({"event": "subscribe", "channel": "ticker", "symbol": "tNOPE"}))
    check("KEY_INVALID", plain, lambda: plain.send({"event": "subscribe", "channel": "candles", "key": "trade:2m:tBTCUSD"}))
    check("FREQ_INVALID", plain, lambda: plain.send({"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "freq": "F7"}))
    check("PREC_INVALID", plain, lambda: plain.send({"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": "P9"}))
    check("LEN_INVALID", plain, lambda: plain.send({"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "len": "30"}))
    check("UNKNOWN_CHANNEL", plain, lambda: plain.send({"event": "subscribe", "channel": "weather"}))
    check("KEY_INVALID", plain, lambda: plain.send({"event": "subscribe", "channel": "status", "key": "deriv:tNOPE:USTF0"}))
    check("UNSUBSCRIBE_INVALID", plain, lambda: plain.send({"event": "unsubscribe", "chanId": 123456}))
    for symbol in ("tBTCUSD", "tETHUSD", "tLTCUSD"):
        plain.subscribe(channel="ticker", symbol=symbol)
    check("SUBSCRIBE_DUP", plain, lambda: plain.send({"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD"}))
    check("SUBSCRIBE_LIMIT", plain, lambda: plain.send({"event": "subscribe", "channel": "trades", "symbol": "tBTCUSD"}))
    for code, name in ((20051, "INFO_RECONNECT"), (20060, "INFO_MAINTENANCE_START"), (20061, "INFO_MAINTENANCE_END"),
                       (5000, "INFO_GENERIC")):
        check(name, plain, lambda code=code: exchange.faults.send_info(code))

    signed = _signed_auth
    anonymous = connect(exchange.url)
    anonymous.wait_event("info")
    check("AUTH_APIKEY", anonymous, lambda: anonymous.send({**signed("1"), "apiKey": "nobody"}))
    check("AUTH_PAYLOAD", anonymous, lambda: anonymous.send({**signed("1"), "authPayload": "AUTH999"}))
    check("AUTH_SIGNATURE", anonymous, lambda: anonymous.send({**signed("1"), "authSig": "not hex"}))
    check("AUTH_DIGEST", anonymous, lambda: anonymous.send({**signed("1"), "authSig": "00" * 48}))
    check("AUTH_NONCE_INVALID", anonymous, lambda: anonymous.send(signed("1.5")))
    trader = connect(exchange.url)
    assert trader.authenticate(KEY, SECRET, 5)["status"] == "OK"
    check("AUTH_NONCE_SMALL", anonymous, lambda: anonymous.send(signed("5")))
    check("AUTH_DUP", trader, lambda: trader.send(signed("6")))
    check("INPUT_UNKNOWN", trader, lambda: trader.send([0, "dance", None, {}]))
    check("INPUT_PAYLOAD", trader, lambda: trader.send([0, "on", None, []]))
    check("INPUT_INVALID", trader, lambda: trader.send([0, "on", None, json.loads("[" * 40 + "]" * 40)]))
    check("CALC_INVALID", trader, lambda: trader.send([0, "calc", None, []]))
    check("CALC_UNKNOWN", trader, lambda: trader.send([0, "calc", None, [["nonsense"]]]))
    check("CALC_RATELIMIT", trader, lambda: trader.send([0, "calc", None, [["balance"]]]))

    def broken(self: ExchangeSession, message: dict[str, Any]) -> None:
        raise RuntimeError("a bug of the exchange")

    monkeypatch.setattr(ExchangeSession, "_on_ping", broken)
    victim = connect(exchange.url)
    victim.wait_event("info")
    check("REQUEST_FAILED", victim, lambda: victim.send({"event": "ping"}))
    assert "a bug of the exchange" in caplog.text  # a real bug is logged, with its traceback

    with LocalExchange(KEY, SECRET, replay=recording(tmp_path), heartbeat_interval=None) as replay:
        client = connect(replay.url)
        client.wait_event("info")
        check("REPLAY_NO_CHANNEL", client, lambda: client.send({"event": "subscribe", "channel": "trades", "symbol": "tBTCUSD"}))
        check("REPLAY_NO_AUTH", client, lambda: client.send(signed("7")))
        check("REPLAY_CONF", client, lambda: client.send({"event": "conf", "flags": 65536 | 131072}))
        start = client.mark()
        client.send({"event": "conf", "flags": 65536})
        assert client.wait_event("conf", start=start) == {"event": "conf", "status": "OK", "flags": 65536}

    expected = {name for name, row in ERRORS.items() if not row.never_sent}
    assert set(sent) == expected, sorted(expected ^ set(sent))
    for name, row in ERRORS.items():
        assert row.never_sent or row.when != "never", name
        assert row.source, name


def _signed_auth(nonce: str) -> dict[str, Any]:
    payload = f"AUTH{nonce}"
    signature = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha384).hexdigest()
    return {"event": "auth", "apiKey": KEY, "authSig": signature, "authPayload": payload, "authNonce": nonce}


def test_subscribe_errors_echo_the_request_then_pair_as_bitfinex_does(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "btceth"})
    raw_error = client.wait_event("error")
    # bitfinex-api-node issue 481, field for field and in order
    assert list(raw_error.items()) == [
        ("channel", "ticker"), ("symbol", "btceth"), ("event", "error"), ("msg", "symbol: invalid"), ("code", 10300),
        ("pair", "tceth"),
    ]
    start = client.mark()
    client.send({"event": "subscribe", "channel": "book", "pair": "LSKBTC", "prec": "P0", "len": "100"})
    error = client.wait_event("error", start=start)  # xchange-stream issue 254: the legacy pair field
    assert error == {"channel": "book", "pair": "SKBTC", "prec": "P0", "len": "100", "event": "error", "symbol": "LSKBTC",
                     "msg": "symbol: invalid", "code": 10300}


# -- conf: every documented bit -------------------------------------------------------------------


def conf(client: RawClient, flags: int) -> dict[str, Any]:
    start = client.mark()
    client.send({"event": "conf", "flags": flags})
    return client.wait_event("conf", start=start)


def test_dec_s_makes_every_decimal_of_every_frame_a_string_and_leaves_integers(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    plain = connect(exchange.url)
    strings = connect(exchange.url)
    assert conf(plain, int(ConfFlag.OB_CHECKSUM)) == {"event": "conf", "status": "OK", "flags": 131072}
    assert conf(strings, int(ConfFlag.DEC_S | ConfFlag.OB_CHECKSUM))["status"] == "OK"
    channels = {}
    for client in (plain, strings):
        channels[client] = {
            "ticker": client.subscribe(channel="ticker", symbol="tBTCUSD"),
            "trades": client.subscribe(channel="trades", symbol="tBTCUSD"),
            "book": client.subscribe(channel="book", symbol="tBTCUSD"),
            "raw": client.subscribe(channel="book", symbol="tBTCUSD", prec="R0"),
            "candles": client.subscribe(channel="candles", key="trade:1m:tBTCUSD"),
            "funding": client.subscribe(channel="ticker", symbol="fUSD"),
        }
    for kind in channels[plain]:
        as_numbers, as_strings = channels[plain][kind][1], channels[strings][kind][1]
        assert same_values(as_numbers, as_strings), (kind, as_numbers, as_strings)  # decimals written as strings
    (_, ticker), (_, book) = channels[strings]["ticker"], channels[strings]["book"]
    assert all(isinstance(v, str) for v in ticker)  # every ticker field is a decimal
    assert all(isinstance(price, str) and type(count) is int and isinstance(amount, str) for price, count, amount in book)
    trade = channels[strings]["trades"][1][0]
    assert type(trade[0]) is int and type(trade[1]) is int and all(isinstance(v, str) for v in trade[2:])
    candle = channels[strings]["candles"][1][0]
    assert type(candle[0]) is int and all(isinstance(v, str) for v in candle[1:])
    start_plain, start_strings = plain.mark(), strings.mark()
    exchange.simulate_order("tBTCUSD", "3")
    for client, start in ((plain, start_plain), (strings, start_strings)):
        client.wait_for(lambda f: isinstance(f, list) and f[1] == "te", start=start)
        book = channels[client]["book"][0]
        client.wait_for(lambda f, book=book: isinstance(f, list) and f[:2] == [book, "cs"], start=start)
    book_id = channels[strings]["book"][0]
    checksums = [
        [f[2] for f in c.channel_frames(channels[c]["book"][0], s) if f[1] == "cs"]
        for c, s in ((plain, start_plain), (strings, start_strings))
    ]
    assert checksums[0] and checksums[0] == checksums[1]  # checksums are computed from the numbers: unchanged
    assert all(type(cs) is int for cs in checksums[1])
    updates = [f[1] for f in strings.channel_frames(book_id, start_strings) if f[1] not in ("cs", "hb")]
    # a removal's amount is the marker 1 or -1, which the book view writes as an integer
    assert updates and all(isinstance(u[0], str) and type(u[1]) is int and (isinstance(u[2], str) or u[1] == 0) for u in updates)
    executed = [f[2] for f in strings.channel_frames(channels[strings]["trades"][0], start_strings) if f[1] == "te"]
    assert executed and all(type(t[0]) is int and isinstance(t[3], str) for t in executed)


def same_values(numbers: Any, strings: Any) -> bool:
    """Whether ``strings`` is ``numbers`` with some numbers written as their JSON text (the
    test reads frames with :func:`json.loads`, so ``29997`` on the wire is an int here)."""
    if isinstance(numbers, list):
        return isinstance(strings, list) and len(numbers) == len(strings) and all(map(same_values, numbers, strings))
    if isinstance(strings, str) and isinstance(numbers, (int, float)) and not isinstance(numbers, bool):
        return strings == js_number_text(float(numbers))
    return bool(numbers == strings and type(numbers) is type(strings))


def test_dec_s_applies_to_account_frames(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    assert conf(client, int(ConfFlag.DEC_S))["status"] == "OK"
    client.authenticate(KEY, SECRET, 1)
    wallets = client.wait_for(is_account("ws"))[2]
    assert ["exchange", "USD", "100000", 0, "100000", None, None] in wallets
    balance = client.wait_for(is_account("bu"))[2]
    assert all(isinstance(v, str) for v in balance)
    client.send([0, "on", None, {**LIMIT_BUY, "cid": 42}])
    order = client.wait_for(is_account("on"))[2]
    assert type(order[0]) is int and order[2] == 42 and type(order[4]) is int  # id, cid, mts stay numbers
    assert (order[6], order[7], order[16]) == ("0.01", "0.01", "1000")  # amount, original amount, price
    notification = client.wait_for(lambda f: isinstance(f, list) and f[1] == "n")[2]
    assert type(notification[0]) is int and notification[4][16] == "1000"


@pytest.mark.parametrize("flag", [ConfFlag.TIME_S, 1, 2, 4, 16, 64, 1 << 30])
def test_time_s_and_unknown_bits_are_refused_and_change_nothing(bitfinex_exchange, connect, flag):
    client = connect(bitfinex_exchange.url)
    assert conf(client, int(ConfFlag.SEQ_ALL))["status"] == "OK"
    failed = conf(client, int(flag) | int(ConfFlag.DEC_S))
    assert failed["status"] == "FAILED" and failed["code"] == 10050 and failed["flags"] == int(flag) | 8
    assert ("TIME_S" in failed["msg"]) == (flag == ConfFlag.TIME_S), failed
    chan_id, snapshot = client.subscribe(channel="ticker", symbol="tBTCUSD")
    frame = client.wait_for(is_data(chan_id))
    assert isinstance(frame[-1], int) and not isinstance(snapshot[0], str)  # SEQ_ALL stays, DEC_S did not come


def test_every_documented_conf_bit_has_its_effect(bitfinex_exchange, connect):
    exchange = bitfinex_exchange
    effects: dict[str, Callable[[RawClient], None]] = {}

    def seq_all(client: RawClient) -> None:
        chan_id, _ = client.subscribe(channel="trades", symbol="tBTCUSD")
        frames = client.channel_frames(chan_id)
        assert [f[-1] for f in frames] == list(range(frames[0][-1], frames[0][-1] + len(frames)))

    def timestamp(client: RawClient) -> None:
        chan_id, _ = client.subscribe(channel="ticker", symbol="tBTCUSD")
        assert client.channel_frames(chan_id)[0][-1] > 1_500_000_000_000
        client.authenticate(KEY, SECRET, next(nonces))
        snapshot = client.wait_for(is_account("ws"))
        assert len(snapshot) == 4 and snapshot[3] > 1_500_000_000_000  # appended to account frames too

    def checksum(client: RawClient) -> None:
        chan_id, _ = client.subscribe(channel="book", symbol="tBTCUSD")
        assert client.wait_for(lambda f: isinstance(f, list) and f[:2] == [chan_id, "cs"])

    def bulk(client: RawClient) -> None:
        chan_id, _ = client.subscribe(channel="book", symbol="tBTCUSD", prec="R0", len="250")
        start = client.mark()
        exchange.simulate_order("tBTCUSD", "-2")
        batch = client.wait_for(is_data(chan_id), start=start)
        assert all(isinstance(entry, list) for entry in batch[1])

    def decimals(client: RawClient) -> None:
        _, snapshot = client.subscribe(channel="ticker", symbol="tETHUSD")
        assert all(isinstance(v, str) for v in snapshot)

    nonces = iter(range(1, 100))
    effects = {"SEQ_ALL": seq_all, "TIMESTAMP": timestamp, "OB_CHECKSUM": checksum, "BULK_UPDATES": bulk, "DEC_S": decimals}
    for flag in ConfFlag:
        client = connect(exchange.url)
        reply = conf(client, int(flag))
        if flag == ConfFlag.TIME_S:
            assert reply["status"] == "FAILED" and reply["code"] == 10050
            continue
        assert reply == {"event": "conf", "status": "OK", "flags": int(flag)}, flag
        effects.pop(flag.name)(client)
    assert effects == {}
    client = connect(exchange.url)
    assert conf(client, 0) == {"event": "conf", "status": "OK", "flags": 0}


def test_pong_echoes_cids_as_javascript_reads_them(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    client.wait_event("info")
    for text, echoed in [
        ("1180591620717411303424", "1.1805916207174113e+21"),  # 2**70, printed as JavaScript prints it
        ("9007199254740993", "9007199254740992"),
        ("-18446744073709551616", "-18446744073709552000"),
        ("9007199254740991", "9007199254740991"),
        ("[1,{\"a\":2.5}]", "[1,{\"a\":2.5}]"),
    ]:
        start = client.mark()
        client.send_text(f'{{"event":"ping","cid":{text}}}')
        client.wait_for(is_event("pong"), start=start)
        assert client.raw[-1].endswith(f',"cid":{echoed}}}'.encode()), (text, client.raw[-1])
