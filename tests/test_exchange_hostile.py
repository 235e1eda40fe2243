"""Hostile clients against ``python -m bitfinex.testing``: what a buggy bot sends, answered the
way Bitfinex answers it (or refused cleanly), without a traceback, while other clients are
still served, and with the server's memory back within 20 MB once the hostile clients are gone.

The exchange runs in a subprocess (its RSS is read with psutil), once per decoder. The hostile
clients are bare sockets speaking just enough WebSocket (:class:`WireClient`), so one can
stop reading while it goes on sending, as a stuck bot does.

Slow tier: two subprocess exchanges, each fed some 300 MB of hostile frames (about 25 s).
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import hmac
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any, Optional
from urllib.parse import urlparse

import psutil
import pytest

from bitfinex.protocol.codec import DECODERS

from helpers import KEY, SECRET, TIMEOUT, OutputLines, wait_until

pytestmark = pytest.mark.slow

MB = 1 << 20
RSS_MARGIN = 20 * MB
BIG = 900 * 1024
"""The size of the hostile pings (900 KB: within the exchange's 1 MiB message limit)."""


# -- a bare WebSocket client ------------------------------------------------------------------------


class WireClient:
    """A WebSocket client on a plain socket: it sends masked text frames, and reads (and
    decodes, when asked) only when told to, so it can leave the server's frames unread."""

    def __init__(self, url: str, receive_buffer: Optional[int] = None) -> None:
        address = urlparse(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect((address.hostname, address.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET / HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            assert chunk, "the handshake was refused"
            self._buffer += chunk
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, payload: bytes, opcode: int = 1) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 else _mask(payload, mask)
        self.sock.sendall(header + mask + masked)

    def send_json(self, message: Any) -> None:
        self.send(json.dumps(message).encode())

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed by the server")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def next_frame(self) -> tuple[int, bytes]:
        """The next frame the server sent: ``(opcode, payload)``."""
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        return first & 0x0F, self._read(length)

    def next_message(self) -> Any:
        """The next text frame, decoded (the text itself if it is not JSON)."""
        while True:
            opcode, payload = self.next_frame()
            if opcode == 8:
                raise ConnectionError(f"closed by the server: {payload[:2]!r}")
            if opcode == 1:
                try:
                    return json.loads(payload)
                except ValueError:
                    return payload.decode("utf-8", "replace")

    def answer(self, payload: bytes, barrier: int) -> list[Any]:
        """Send ``payload`` then a ping with cid ``barrier``; return what came in between
        (heartbeats and channel data left out)."""
        self.send(payload)
        self.send_json({"event": "ping", "cid": barrier})
        answers = []
        while True:
            message = self.next_message()
            if isinstance(message, dict) and message.get("event") == "pong" and message.get("cid") == barrier:
                return answers
            if isinstance(message, dict):
                answers.append(message)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _mask(payload: bytes, mask: bytes) -> bytes:
    key = int.from_bytes((mask * (len(payload) // 4 + 1))[: len(payload)], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(len(payload), "big")


def signed_auth(nonce: Any, payload_nonce: Optional[str] = None) -> dict[str, Any]:
    payload = f"AUTH{payload_nonce if payload_nonce is not None else nonce}"
    signature = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha384).hexdigest()
    return {"event": "auth", "apiKey": KEY, "authSig": signature, "authPayload": payload, "authNonce": nonce}


# -- the exchange in a subprocess -------------------------------------------------------------------


class ExchangeProcess:
    def __init__(self, decoder: str, stderr_path: str) -> None:
        self.stderr = open(stderr_path, "w+b")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bitfinex.testing", "--port", "0", "--key", KEY, "--secret", SECRET,
             "--heartbeat", "1", "--tick", "0.1", "--decoder", decoder],
            stdout=subprocess.PIPE, stderr=self.stderr,
        )
        assert self.process.stdout is not None
        self.url = OutputLines(self.process.stdout, "exchange stdout").next(TIMEOUT)
        assert self.url and self.url.startswith("ws://"), self.url
        self.ps = psutil.Process(self.process.pid)
        self._stderr_text: Optional[str] = None

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def settled_rss(self) -> int:
        """The RSS once it stops moving (frees after the last connections closed)."""
        previous, stable_since = self.rss(), time.monotonic()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            time.sleep(0.25)
            current = self.rss()
            if abs(current - previous) > MB // 4:
                previous, stable_since = current, time.monotonic()
            elif time.monotonic() - stable_since > 1.5:
                break
        return self.rss()

    def stop(self) -> str:
        """Stop the exchange (once); return what it wrote on stderr."""
        if self._stderr_text is None:
            self.process.terminate()
            self.process.wait(TIMEOUT)
            self.stderr.seek(0)
            self._stderr_text = self.stderr.read().decode("utf-8", "replace")
            self.stderr.close()
        return self._stderr_text


@pytest.fixture(params=sorted(DECODERS))
def exchange(request: Any, tmp_path: Any) -> Iterator[ExchangeProcess]:
    process = ExchangeProcess(request.param, str(tmp_path / "stderr.txt"))
    try:
        yield process
    finally:
        process.stop()


# -- the hostile inputs ---------------------------------------------------------------------------


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_hostile_clients_get_bitfinex_answers_and_leave_nothing_behind(exchange, request):
    decoder = request.node.callspec.params["exchange"]
    url = exchange.url

    # a bystander, served all along
    bystander = WireClient(url)
    assert bystander.next_message()["event"] == "info"
    bystander.send_json({"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD"})
    while not (isinstance(m := bystander.next_message(), dict) and m.get("event") == "subscribed"):
        pass
    ticker_id = m["chanId"]

    # warm up every path once, then measure
    warm = WireClient(url)
    warm.next_message()
    for number in range(3):
        warm.answer(b'{"event":"subscribe","channel":"book","symbol":"tBTCUSD","len":"250"}', number)
        warm.answer(b'{"event":"ping","cid":"' + b"w" * BIG + b'"}', 100 + number)
    warm.close()
    gc.collect()
    before = exchange.settled_rss()

    hostile = WireClient(url)
    assert hostile.next_message()["event"] == "info"
    counter = iter(range(1_000_000))

    def one(payload: bytes | str) -> dict[str, Any]:
        data = payload.encode() if isinstance(payload, str) else payload
        answers = hostile.answer(data, next(counter))
        assert len(answers) == 1, (payload[:200], answers)
        return answers[0]

    def refused(payload: bytes | str, code: int, msg: Optional[str] = None) -> dict[str, Any]:
        answer = one(payload)
        assert answer.get("code") == code, (payload[:200], answer)
        assert msg is None or answer.get("msg") == msg, (payload[:200], answer)
        return answer

    # numbers JSON does not have: not JSON (orjson and the codec's json agree; so does JavaScript for NaN)
    for text in ("NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" * 400, "1e999999"):
        refused(f'{{"event":"ping","cid":{text}}}', 10020, "invalid JSON")
        refused(f'{{"event":"conf","flags":{text}}}', 10020, "invalid JSON")
        refused(f'{{"event":"subscribe","channel":"ticker","symbol":{text}}}', 10020, "invalid JSON")
    # integers past 2**53: echoed as JavaScript reads them, whichever decoder read them
    for text, echoed in (("1180591620717411303424", 1.1805916207174113e21), ("-1180591620717411303424", -1.1805916207174113e21),
                         ("18446744073709551616", 1.8446744073709552e19), ("9007199254740993", 9007199254740992)):
        pong = one(f'{{"event":"ping","cid":{text}}}')
        assert pong["event"] == "pong" and float(pong["cid"]) == echoed, (text, pong)
        assert refused(f'{{"event":"conf","flags":{text}}}', 10050)["status"] == "FAILED"
    for flags in ('"8"', "8.5", "-1", "true", "null", "[8]", '{"a":8}', "2147483648"):
        refused(f'{{"event":"conf","flags":{flags}}}', 10050, "flags: invalid")
    refused('{"event":"conf","flags":32}', 10050)  # TIME_S
    # nesting: past the codec's 512 levels is not JSON; within it, echoes are cut at 16 levels
    for depth in (600, 900, 5000):
        refused(f'{{"event":"dance","a":{deep(depth)}}}', 10020, "invalid JSON")
        refused(f'{{"event":"subscribe","channel":"ticker","symbol":{deep(depth)}}}', 10020, "invalid JSON")
        refused(deep(depth), 10020, "invalid JSON")
    for depth in (17, 100, 500):
        unknown = refused(f'{{"event":"dance","a":{deep(depth)}}}', 10000, "Unknown event")
        assert json.dumps(unknown["a"]).count("[") == 16
        symbol = refused(f'{{"event":"subscribe","channel":"ticker","symbol":{deep(depth)},"subId":{deep(depth)}}}', 10300)
        assert symbol["msg"] == "symbol: invalid" and "pair" not in symbol
        refused(f'{{"event":{deep(depth)}}}', 10000)
        refused(f'{{"event":"unsubscribe","chanId":{deep(depth)}}}', 10400)
        refused(f'[0,"on",null,{deep(depth)}]', 10100, "auth: invalid")
        refused(f"[{deep(depth)},1]", 10020, "input: invalid")
        assert one(f'{{"event":"ping","cid":{deep(depth)}}}')["event"] == "pong"
        refused(f'{{"event":"auth","apiKey":"{KEY}","authNonce":{deep(depth)},"authPayload":{deep(depth)}}}', 10111)
    # nonces Bitfinex would not take, correctly signed
    for nonce in ("1.5", "1e5", "-7", "0", "", "1" * 17, "١٢٣"):
        answer = refused(json.dumps(signed_auth(nonce)), 10114, "nonce: invalid")
        assert answer["event"] == "auth" and answer["status"] == "FAILED"
    refused(json.dumps(signed_auth(1.5)), 10114, "nonce: invalid")
    refused(json.dumps(signed_auth(100000.0, "100000")), 10114, "nonce: invalid")
    # garbage of every other kind
    for payload, code in ((b"", 10020), (b"{", 10020), (b"\xef\xbb\xbf{}", 10020), ('"x"', 10020), ("null", 10020),
                          ('{"event":"subscribe","channel":"ticker","symbol":"\\ud800"}', 10020), ("{}", 10000),
                          ('{"event":"subscribe"}', 10302),
                          ('{"event":"subscribe","channel":"status","key":"liq:local"}', 10300),
                          ('{"event":"subscribe","channel":"candles","key":"trade:1m:fUSD:p' + "9" * 5000 + '"}', 10300),
                          ('{"event":"unsubscribe","chanId":1e3}', 10400), ("[]", 10020), ('[0,"on"]', 10100)):
        refused(payload, code)
    hostile.send(b"\x00\xff", opcode=2)
    assert hostile.next_message()["code"] == 10020  # a binary frame

    # an authenticated bot sending garbage inputs
    trader = WireClient(url)
    trader.next_message()
    trader.send_json(signed_auth(str(time.time_ns() // 1000)))
    while not (isinstance(m := trader.next_message(), dict) and m.get("event") == "auth"):
        pass
    assert m["status"] == "OK", m
    for number, payload in enumerate([
        f'[0,"on",null,{deep(40)}]', f'[0,{deep(40)},null,{{}}]',
        '[0,"on",null,{"cid":1180591620717411303424,"gid":1180591620717411303424}]',
        '[0,"on",null,{"type":"EXCHANGE LIMIT","symbol":"tBTCUSD","amount":"1e400","price":"NaN"}]',
        '[0,"on",null,{"type":[[["x"]]],"symbol":{"a":[1]},"amount":[],"price":{}}]',
        '[0,"oc",null,{"id":1180591620717411303424}]', '[0,"oc_multi",null,{"id":[[[[1]]]]}]',
        '[0,"ou",null,{"id":"x","price":[1]}]', '[0,"ox_multi",null,' + json.dumps([["on", {}]] * 200) + "]",
        '[0,"calc",null,' + json.dumps([["balance"]] * 31) + "]", '[0,"dance",null,{}]', '[0,"fon",null,{}]',
    ]):
        trader.send(payload.encode())
        trader.send_json({"event": "ping", "cid": number})
        while not (isinstance(m := trader.next_message(), dict) and m.get("event") == "pong" and m.get("cid") == number):
            pass
    trader.close()

    # 100 pings of 900 KB from a client that reads every pong, then leaves
    reader = WireClient(url)
    reader.next_message()
    for _ in range(100):
        reader.send(b'{"event":"ping","cid":"' + b"r" * BIG + b'"}')
        while not (isinstance(m := reader.next_message(), dict) and m.get("event") == "pong"):
            pass
    reader.close()

    # the same from clients that never read: dropped, whatever they go on sending
    for _ in range(2):
        stuck = WireClient(url, receive_buffer=4096)
        stuck.sock.settimeout(30)  # longer than the exchange takes to drop it (a timeout fails the test)
        ping = b'{"event":"ping","cid":"' + b"s" * BIG + b'"}'
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            for _ in range(2000):  # 1.8 GB, if nothing stopped it
                stuck.send(ping)
        stuck.close()

    # many short connections, each sending a little
    for number in range(200):
        client = WireClient(url)
        client.next_message()
        client.answer(b'{"event":"subscribe","channel":"trades","symbol":"tETHUSD"}', number)
        client.close()
    hostile.close()

    # the bystander is still served
    bystander.send_json({"event": "ping", "cid": 424242})
    seen_data = False
    while True:
        message = bystander.next_message()
        seen_data = seen_data or (isinstance(message, list) and message[0] == ticker_id)
        if isinstance(message, dict) and message.get("cid") == 424242:
            break
    bystander.close()

    after = exchange.settled_rss()
    stderr = exchange.stop()
    print(f"RSS with {decoder}: {before / MB:.1f} MB before, {after / MB:.1f} MB after the hostile clients")
    assert "Traceback" not in stderr and "RecursionError" not in stderr, stderr[-3000:]
    assert "ERROR" not in stderr, stderr[-3000:]
    assert stderr.count("dropping a client that does not read") == 2, stderr[-3000:]
    assert after - before < RSS_MARGIN, f"RSS grew from {before / MB:.1f} MB to {after / MB:.1f} MB"


def test_an_in_process_exchange_bounds_its_receive_log_and_drops_a_client_that_does_not_read():
    from bitfinex.testing import LocalExchange
    from bitfinex.testing.server import ReceiveLogLimits

    limits = ReceiveLogLimits(max_frames=50, max_bytes=200_000, frame_bytes=1000, max_connections=5)
    with LocalExchange(KEY, SECRET, receive_log=limits, send_buffer_limit=1 << 20, heartbeat_interval=None) as exchange:
        reader = WireClient(exchange.url)
        reader.next_message()
        for number in range(120):
            reader.answer(b'{"event":"ping","cid":"' + b"x" * 5000 + b'"}', number)
        frames = [f for log in exchange.received for f in log.frames]
        assert len(frames) == 50 and all(len(f.raw) <= 1000 for f in frames)
        assert all(f.frame is None for f in frames if f.truncated) and any(f.truncated for f in frames)
        assert [f.frame["cid"] for f in frames if not f.truncated][-1] == 119
        for _ in range(10):
            extra = WireClient(exchange.url)
            extra.next_message()
            extra.answer(b'{"event":"ping"}', 1)
            extra.close()
        wait_until(lambda: exchange.connection_count == 1, TIMEOUT, "the extra connections closed")
        logs = exchange.received
        assert len(logs) == 5 and logs[0].connection_id == 1  # the open connection stays; the oldest closed went
        stuck = WireClient(exchange.url, receive_buffer=4096)
        stuck.next_message()
        exchange.wait_for_connections(2)
        try:
            for _ in range(200):
                stuck.send(b'{"event":"ping","cid":"' + b"s" * 100_000 + b'"}')
        except OSError:
            pass
        exchange.wait_for_connections(1, timeout=TIMEOUT)
        stuck.close()
        reader.answer(b'{"event":"ping"}', 7)  # the reader is still served
        reader.close()
