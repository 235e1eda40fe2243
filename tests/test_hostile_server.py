"""A hostile server: a thousand malformed frames of every kind among the real ones.

The server is a bare autobahn server on loopback (the client's fast frame path and autobahn's
parser both run), answering the client's ``conf`` and ``subscribe`` like Bitfinex, then
sending, for each of 1,000 rounds, one kind of garbage aimed at the live channel followed by
one real ticker frame numbered by its round. With the standard-library decoder and with
orjson, the client must deliver every real frame, in order, and nothing else; it must not
reconnect, and nothing may reach Twisted's "Unhandled Error" log.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.logger import globalLogPublisher

from bitfinex import WssClient
from bitfinex.protocol import codec
from bitfinex.transport.reactor import ReactorThread, bind_timers

from helpers import Inbox

ROUNDS = 1000
CHAN_ID = 17


def garbage(chan: int) -> list[tuple[bytes, bool]]:
    """Every kind of bad frame, aimed at channel ``chan``: ``(payload, binary)``."""
    number = b"%d" % chan
    text = [
        b"this is {not json",
        b'[0,"n",[1700000000000,"on-req",null',
        b"[" + number + b"," + b"[" * 2000 + b"]" * 2001,
        b"[" + number + b',{"a":' * 900 + b"1" + b"}" * 900 + b"]",
        b"[" + number + b",[NaN,1,2,3,4,5,6,7,8,9]]",
        b"[" + number + b",[Infinity,1,2,3,4,5,6,7,8,9]]",
        b"[" + number + b",[1e400,1,2,3,4,5,6,7,8,9]]",
        b"[" + number + b",[" + b"9" * 400 + b",1,2,3,4,5,6,7,8,9]]",
        b"\xef\xbb\xbf[" + number + b",[1,2,3,4,5,6,7,8,9,10]]",
        f"[{chan},[1,2,3,4,5,6,7,8,9,10]]".encode("utf-16"),
        b"[" + number + b',["\xff",2,3,4,5,6,7,8,9,10]]',
        b"[" + number + b',["\\ud800",2,3,4,5,6,7,8,9,10]]',
        b"[" + number + b',["a","b","c","d","e","f","g","h","i","j"]]',
        b"[" + number + b",[1,2]]",
        b"[" + number + b",[]]",
        b"[" + number + b"]",
        b"[" + number + b",{}]",
        b"[" + number + b',"te",[1]]',
        b"[" + number + b',"xx",5]',
        b"[" + number + b",[1,2,3,4,5,6,7,8,9,[10]]]",
        b"[" + number + b",[true,2,3,4,5,6,7,8,9,10]]",
        b"[" + number + b",[null,2,3,4,5,6,7,8,9,10]]",
        b'{"event":42,"chanId":"seven","code":"x"}',
        b'{"event":"subscribed","channel":"ticker","chanId":"x","subId":' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"event":"error","msg":' + b"[" * 900 + b"]" * 900 + b',"code":10300}',
        b"[987654321,[1,2,3]]",
        b"null",
        b"42",
        b'"text"',
        b'["hb",0,{"a":[]}]',
        b"[" + b",".join([b"1"] * 20_000) + b"]",
    ]
    return [(payload, False) for payload in text] + [(b"\x00\xff\x10binary\x80", True)]


def real_frame(number: int) -> bytes:
    """The ticker frame of round ``number`` (its bid is the round)."""
    return b"[%d,[%d,1.5,%d.5,2,-3,-0.01,%d.25,10,%d,1]]" % (CHAN_ID, number, number, number, number)


class HostileServer(WebSocketServerProtocol):
    """Answers ``conf`` and ``subscribe``, then sends the hostile stream."""

    def onOpen(self) -> None:
        self.sendMessage(b'{"event":"info","version":2,"serverId":"hostile","platform":{"status":1}}')

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        message = json.loads(payload)
        if message.get("event") == "conf":
            self.sendMessage(json.dumps({"event": "conf", "status": "OK", "flags": message["flags"]}).encode())
        elif message.get("event") == "ping":
            self.sendMessage(json.dumps({"event": "pong", "ts": 1, "cid": message["cid"]}).encode())
        elif message.get("event") == "subscribe":
            answer = {"event": "subscribed", "channel": "ticker", "chanId": CHAN_ID, "symbol": "tBTCUSD",
                      "pair": "BTCUSD", "subId": message["subId"]}
            self.sendMessage(json.dumps(answer).encode())
            bad = garbage(CHAN_ID)
            for number in range(ROUNDS):
                payload, binary = bad[number % len(bad)]
                self.sendMessage(payload, isBinary=binary)
                self.sendMessage(real_frame(number))


@contextlib.contextmanager
def hostile_server() -> Iterator[str]:
    thread = ReactorThread(name="hostile-server")
    factory = WebSocketServerFactory(reactor=thread.reactor)
    bind_timers(factory, thread.reactor)
    factory.protocol = HostileServer
    factory.setProtocolOptions(maxMessagePayloadSize=0, maxFramePayloadSize=0)
    port = thread.reactor.listenTCP(0, factory, interface="127.0.0.1")
    thread.start()
    try:
        yield f"ws://127.0.0.1:{port.getHost().port}"
    finally:
        thread.run_sync(port.stopListening)
        thread.stop()


@contextlib.contextmanager
def twisted_errors() -> Iterator[list[dict[str, Any]]]:
    """Collect every error event Twisted logs (what it prints as "Unhandled Error")."""
    errors: list[dict[str, Any]] = []
    lock = threading.Lock()

    def observe(event: dict[str, Any]) -> None:
        if event.get("isError") or event.get("log_failure") is not None:
            with lock:
                errors.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        yield errors
    finally:
        globalLogPublisher.removeObserver(observe)


@pytest.mark.parametrize("decoder", sorted(codec.DECODERS))
def test_a_thousand_malformed_frames_of_every_kind(decoder, monkeypatch, no_leaks):
    monkeypatch.setattr(codec, "DECODER_NAME", decoder)
    statuses, ticks = Inbox("statuses"), Inbox("ticks")
    with hostile_server() as url, twisted_errors() as errors:
        client = WssClient(url=url, status_callback=statuses, heartbeat_timeout=None)
        try:
            client.subscribe_to_ticker("BTCUSD", ticks)
            client.start()
            last = ticks.wait_for(lambda m: isinstance(m, list) and m[1][0] == ROUNDS - 1, timeout=30)
            assert last == json.loads(real_frame(ROUNDS - 1))
        finally:
            client.stop()
    frames = [m for m in ticks.items if not isinstance(m, dict)]
    assert frames == [json.loads(real_frame(n)) for n in range(ROUNDS)]
    events = [m for m in ticks.items if isinstance(m, dict)]
    assert [e["event"] for e in events] == ["subscribed"]
    kinds = {e.kind for e in statuses.items}
    assert "reconnecting" not in kinds and "internal_error" not in kinds and "callback_error" not in kinds
    assert [e.kind for e in statuses.items if e.kind == "connected"] == ["connected"]
    assert errors == []
