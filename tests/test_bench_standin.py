"""The order workload's stand-in exchange: its hand-written WebSocket server, in Python
(``bench/standin.py``) and in C (``bench/standin.c``), speaks RFC 6455 to a client over a real
loopback socket and answers what the order clients send as Bitfinex shapes it; both give the same
answers.

Fast tier: the Python server in a thread per test, stopped by closing its stop pipe; the C one
built once per session (skipped without a C compiler) and run as a process, stopped by closing
its standard input. Every read has a timeout.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest

from bitfinex.protocol.fields import ORDER_LENGTH
from bitfinex.transport.websocket import masked_text_frame

from bench.standin import FIRST_ORDER_ID, FrameReader, StandIn, accept_key, native_standin

READ_TIMEOUT = 5.0
REPOSITORY = Path(__file__).resolve().parent.parent
KEY = base64.b64encode(b"sixteen byte key").decode()


class RawClient:
    """A WebSocket client written out by hand: the frames it sends are exactly the test's."""

    def __init__(self, url: str) -> None:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.buffer = b""

    def handshake(self) -> bytes:
        """Send the opening handshake; return the server's response head."""
        self.socket.sendall(("GET /ws/2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                             f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return head

    def frame(self) -> tuple[int, bytes]:
        """The next frame from the server: ``(first header byte, payload)``."""
        while len(self.buffer) < 2:
            self._fill()
        first, size = self.buffer[0], self.buffer[1]
        assert not size & 0x80, "a server frame must not be masked"
        start = 2
        if size == 126:
            while len(self.buffer) < 4:
                self._fill()
            size, start = int.from_bytes(self.buffer[2:4], "big"), 4
        while len(self.buffer) < start + size:
            self._fill()
        payload, self.buffer = self.buffer[start:start + size], self.buffer[start + size:]
        return first, payload

    def message(self) -> Any:
        """The next frame, a text frame, decoded."""
        first, payload = self.frame()
        assert first == 0x81
        return json.loads(payload)

    def send(self, message: Any) -> None:
        self.socket.sendall(masked_text_frame(json.dumps(message).encode()))

    def _fill(self) -> None:
        data = self.socket.recv(65536)
        if not data:
            raise ConnectionError("the stand-in closed the connection")
        self.buffer += data


def masked(opcode_byte: int, payload: bytes, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    """One masked client frame of at most 125 bytes with the given first header byte."""
    body = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes((opcode_byte, 0x80 | len(payload))) + mask + body


class Served(NamedTuple):
    """A running stand-in: where to connect."""

    url: str


@pytest.fixture(scope="session")
def native_program() -> Path:
    program = native_standin()
    if program is None:
        pytest.skip("no C compiler builds bench/standin.c here")
    return program


@contextmanager
def python_standin() -> Iterator[Served]:
    server = StandIn()
    stop_read, stop_write = os.pipe()
    thread = threading.Thread(target=server.serve, args=(stop_read,), daemon=True)
    thread.start()
    try:
        yield Served(server.url)
    finally:
        os.close(stop_write)
        thread.join(READ_TIMEOUT)
        os.close(stop_read)
        assert not thread.is_alive()


LAUNCHER = [sys.executable, "-m", "bench.standin"]
"""The stand-in as the bench's README starts it: the C program where it builds, else Python's."""


@contextmanager
def server_process(command: list[str], environment: Optional[dict[str, str]] = None,
                   ) -> Iterator[tuple[subprocess.Popen[str], Served]]:
    """A stand-in run as a process, stopped by closing its standard input."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=REPOSITORY, env={**os.environ, **(environment or {})})
    assert process.stdin is not None and process.stdout is not None
    try:
        yield process, Served(process.stdout.readline().strip())
    finally:
        process.stdin.close()
        assert process.wait(READ_TIMEOUT) == 0


@pytest.fixture(params=["python", "c"])
def standin(request: pytest.FixtureRequest) -> Iterator[Served]:
    if request.param == "python":
        with python_standin() as served:
            yield served
    else:
        with server_process([str(request.getfixturevalue("native_program"))]) as (_, served):
            yield served


@pytest.fixture
def client(standin: Served) -> Iterator[RawClient]:
    raw = RawClient(standin.url)
    raw.handshake()
    assert raw.message()["event"] == "info"
    yield raw
    raw.socket.close()


def test_accept_key_is_rfc_6455s_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_handshake_is_accepted_and_bitfinex_greets(standin: Served) -> None:
    raw = RawClient(standin.url)
    head = raw.handshake().decode()
    assert head.startswith("HTTP/1.1 101 ")
    assert f"Sec-WebSocket-Accept: {accept_key(KEY)}" in head
    assert raw.message() == {"event": "info", "version": 2, "serverId": "bench-standin", "platform": {"status": 1}}
    raw.socket.close()


def test_auth_is_answered_ok_with_empty_snapshots(client: RawClient) -> None:
    client.send({"event": "auth", "apiKey": "k", "authSig": "s", "authPayload": "AUTH1", "authNonce": "1"})
    assert client.message()["status"] == "OK"
    assert [client.message() for _ in range(3)] == [[0, "ps", []], [0, "ws", []], [0, "os", []]]


def test_each_order_gets_its_notification_then_its_order_with_its_own_fields(client: RawClient) -> None:
    orders = [
        {"cid": 17, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.0002", "price": "20000"},
        {"cid": 18, "type": "LIMIT", "symbol": "tETHUSD", "amount": "-1.5", "price": "3000"},
        {"cid": 19, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.0002", "price": "20000"},
    ]
    for number, request in enumerate(orders):
        client.send([0, "on", None, request])
        notification = client.message()
        order = client.message()
        assert notification[:2] == [0, "n"] and notification[2][1] == "on-req" and notification[2][6] == "SUCCESS"
        assert order[:2] == [0, "on"] and notification[2][4] == order[2]
        fields = order[2]
        assert len(fields) == ORDER_LENGTH
        assert fields[:4] == [FIRST_ORDER_ID + number, None, request["cid"], request["symbol"]]
        assert fields[6] == fields[7] == float(request["amount"]) and fields[8] == request["type"]
        assert fields[16] == float(request["price"])
        assert fields[4] == fields[5] == notification[2][0]  # the order's times are the notification's


def test_a_fragmented_message_is_joined_and_a_ping_answered_between_its_fragments(client: RawClient) -> None:
    text = json.dumps({"event": "ping", "cid": 42}).encode()
    client.socket.sendall(masked(0x01, text[:5]) + masked(0x89, b"are you there") + masked(0x80, text[5:]))
    assert client.frame() == (0x8A, b"are you there")
    pong = client.message()
    assert pong["event"] == "pong" and pong["cid"] == 42


def test_a_frame_split_anywhere_is_read_once_whole() -> None:
    frame = masked_text_frame(b"x" * 300)  # a 16-bit length: the header itself can be split
    for cut in range(1, len(frame)):
        reader = FrameReader()
        assert reader.feed(frame[:cut]) == []
        assert reader.feed(frame[cut:] + frame) == [(0x1, b"x" * 300)] * 2
        assert reader.buffer == b""


def test_a_close_is_answered_with_a_close_and_the_connection_ends(client: RawClient) -> None:
    client.socket.sendall(masked(0x88, (1000).to_bytes(2, "big")))
    assert client.frame() == (0x88, (1000).to_bytes(2, "big"))
    assert client.socket.recv(1) == b""


def test_an_unmasked_frame_is_refused_with_a_protocol_error(client: RawClient) -> None:
    client.socket.sendall(bytes((0x81, 2)) + b"[]")
    assert client.frame() == (0x88, (1002).to_bytes(2, "big"))
    assert client.socket.recv(1) == b""


def test_a_request_that_is_no_websocket_handshake_gets_400(standin: Served) -> None:
    raw = RawClient(standin.url)
    raw.socket.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert raw.socket.recv(65536).startswith(b"HTTP/1.1 400 ")
    raw.socket.close()


def test_a_message_sent_a_byte_at_a_time_is_answered_once(client: RawClient) -> None:
    request = {"cid": 5, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "1", "price": "2", "meta": {"note": "n" * 200}}
    frame = masked_text_frame(json.dumps([0, "on", None, request]).encode())  # over 125 bytes: a 16-bit length
    client.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for at in range(len(frame)):
        client.socket.sendall(frame[at:at + 1])
    client.send({"event": "ping", "cid": 6})
    assert client.message()[2][1] == "on-req"
    assert client.message()[2][2] == 5
    assert client.message()["cid"] == 6


PARITY_INPUTS: list[bytes] = [
    json.dumps(message, separators=separators).encode()
    for separators in ((",", ":"), (", ", ": "))  # WssClient's compact text, and the official client's spaced one
    for message in [
        {"event": "auth", "apiKey": "k", "authSig": "s", "authPayload": "AUTH1", "authNonce": "1"},
        {"event": "conf", "flags": 65536},
        {"event": "conf"},
        {"event": "ping", "cid": 7},
        {"event": "ping"},
        {"event": "subscribe", "channel": "book"},
        [0, "on", None, {"cid": 17, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.0002", "price": "20000"}],
        [0, "on", None, {"type": "limit", "symbol": "tETHUSD", "amount": -1.5, "price": 3e20, "cid": "x"}],
        [0, "on", None, {"cid": 18, "type": "MARKET", "symbol": "tBTCUSD", "amount": "-0.00000001"}],
        [0, "on", None, {"cid": 19, "type": "LIMIT", "symbol": "tBTCUSD", "amount": 123456789.125, "price": "1e-7"}],
        [0, "oc_multi", None, {"all": 1}],
        [0, "ox_multi", None, [["oc_multi", {"all": 1}]]],
        [0, "oc", None, {"id": 1}],
        [1, "on", None, {"cid": 20}],
        [0, "on", None],
    ]
] + [b"not json", b"[0, \"on\", null, {}] trailing", b'{"event":"ping","cid":[1,{"a":"]\\""}]}',
     b'{"event":"ping","cid":' + b"[" * 300 + b"]" * 300 + b"}"]
"""Every kind of input the servers answer, or must not answer, in both spellings (the C server
copies a value as written, so a nested one is compact here: Python's writes it out compactly)."""

_MILLISECONDS = re.compile(rb"(?<![\d.])1[789]\d{11}(?![\d.])")


def _answers(served: Served) -> list[bytes]:
    """Each parity input's answers from the server, as raw frames with times blanked; a ping after
    each input marks where its answers end."""
    raw = RawClient(served.url)
    raw.handshake()
    raw.frame()
    answers = []
    for number, payload in enumerate(PARITY_INPUTS):
        raw.socket.sendall(masked_text_frame(payload) + masked_text_frame(json.dumps({"event": "ping", "cid": -number}).encode()))
        frames = []
        while True:
            first, body = raw.frame()
            if body.startswith(b'{"event":"pong"') and body.endswith(b'"cid":%d}' % -number):
                break
            frames.append(bytes([first]) + _MILLISECONDS.sub(b"T", body))
        answers.append(b"\n".join(frames))
    raw.socket.close()
    return answers


def test_the_c_server_answers_every_input_as_the_python_one(native_program: Path) -> None:
    with python_standin() as python_server, server_process([str(native_program)]) as (_, c_server):
        python_answers, c_answers = _answers(python_server), _answers(c_server)
    for payload, python_answer, c_answer in zip(PARITY_INPUTS, python_answers, c_answers):
        assert c_answer == python_answer, payload
    assert sum(1 for answer in python_answers if answer) >= 10  # the inputs that must be answered were


def _greeted(served: Served) -> None:
    """Open a WebSocket to the server and read its greeting."""
    raw = RawClient(served.url)
    assert raw.handshake().startswith(b"HTTP/1.1 101 ")
    assert raw.message()["event"] == "info"
    raw.socket.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/exe"), reason="reads which program a process runs from /proc")
def test_the_launcher_becomes_the_c_server_where_it_builds(native_program: Path) -> None:
    with server_process(LAUNCHER) as (process, served):
        assert os.readlink(f"/proc/{process.pid}/exe") == str(native_program)
        _greeted(served)


def test_a_compiler_that_fails_leaves_the_python_server_and_says_why() -> None:
    with server_process(LAUNCHER, {"CC": "false"}) as (process, served):
        _greeted(served)
    assert process.stderr is not None
    assert "could not build standin.c, serving in Python" in process.stderr.read()


def test_without_a_compiler_there_is_no_c_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", "")
    assert native_standin() is None
