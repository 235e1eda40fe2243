"""The Twisted/autobahn shell: the autobahn internals our tuned protocol relies on, the private
reactor, TLS verification, and close/abort behaviour.

If an autobahn upgrade changes an internal the tuned protocol uses, the tests in the first
section fail and name it.

Slow tier: the fast frame path fed a byte at a time over loopback (3 s), and a subprocess.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import random
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from autobahn.twisted import websocket as autobahn_twisted
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket import protocol as autobahn_protocol
from autobahn.websocket.xormasker import create_xor_masker

from bitfinex.protocol import codec
from bitfinex.protocol.connection import PublicConnection
from bitfinex.protocol.pacing import Backoff, RateLimiter
from bitfinex.transport.link import Link
from bitfinex.transport.reactor import ReactorThread, bind_timers
from bitfinex.transport.websocket import FAST_FRAME_LIMIT, BitfinexClientFactory, masked_text_frame

from core_helpers import make_session
from helpers import Inbox, is_data, is_event

pytestmark = pytest.mark.slow

# -- autobahn internals --------------------------------------------------------------------


def test_autobahn_still_collects_message_frames_the_way_onMessageEnd_reads_them():
    begin = inspect.getsource(autobahn_protocol.WebSocketProtocol.onMessageBegin)
    frame = inspect.getsource(autobahn_protocol.WebSocketProtocol.onMessageFrame)
    end = inspect.getsource(autobahn_protocol.WebSocketProtocol.onMessageEnd)
    assert "self.message_is_binary = isBinary" in begin
    assert "self.message_data: list[bytes] = []" in begin or "self.message_data = []" in begin
    assert "self.message_data.extend(payload)" in frame
    assert "failedByMe" in end and 'self.fire("message"' in end


def test_autobahn_schedules_its_timers_only_where_we_rebind_or_disable_them():
    source = inspect.getsource(autobahn_protocol)
    assert source.count("self.factory._batched_timer.call_later(") >= 4
    direct = [line.strip() for line in source.splitlines() if "txaio.call_later(" in line]
    # the client's post-close drop timer (disabled: serverConnectionDropTimeout=0) and the
    # sync-send trickle (never used: we do not send with sync=True)
    assert len(direct) == 2, direct
    assert "serverConnectionDropTimeout > 0" in source
    assert "txaio.make_batched_timer(" in source


def test_factory_options_we_set_exist():
    factory = BitfinexClientFactory("ws://127.0.0.1:1", ReactorThread().reactor, link=None, on_messages=print, user_agent="t")
    assert factory.utf8validateIncoming is False
    assert factory.serverConnectionDropTimeout == 0
    assert factory.maxMessagePayloadSize == 8 * 1024 * 1024
    assert factory._batched_timer.reactor is factory.reactor


# -- the tuned protocol, against a bare autobahn server ---------------------------------------


class _FragmentingServer(WebSocketServerProtocol):
    """Sends one text message in three fragments, a binary message, then a plain one."""

    def onOpen(self) -> None:
        text = json.dumps([1, ["fragmented", "message", "x" * 5000]]).encode()
        self.beginMessage(isBinary=False)
        for start in range(0, len(text), 2000):
            self.sendMessageFrame(text[start:start + 2000])
        self.endMessage()
        self.sendMessage(b"\x00\x01binary", isBinary=True)
        self.sendMessage(b'[1,["after"]]')


@contextlib.contextmanager
def linked_to(server_protocol: type, **factory_settings: object) -> Iterator[tuple[PublicConnection, Any, Callable[[], None]]]:
    """A bare autobahn server running ``server_protocol`` and a :class:`Link` to it, both on
    reactor threads of their own, all shut down afterwards. Yields the link's core, the server
    factory (with ``factory_settings`` set on it) and the function that connects the link (call
    it once the core is wired)."""
    server_thread = ReactorThread(name="test-server")
    factory = WebSocketServerFactory(reactor=server_thread.reactor)
    bind_timers(factory, server_thread.reactor)
    factory.protocol = server_protocol
    for name, value in factory_settings.items():
        setattr(factory, name, value)
    port = server_thread.reactor.listenTCP(0, factory, interface="127.0.0.1")
    server_thread.start()
    client_thread = ReactorThread(name="test-client")
    client_thread.start()
    statuses = Inbox("statuses")
    session = make_session(statuses)
    core = PublicConnection("public-1", capacity=25, events=session, report=statuses, runner=session.runner,
                            clock=client_thread.reactor.seconds)
    link = Link(core, f"ws://127.0.0.1:{port.getHost().port}", client_thread.reactor, statuses,
                Backoff(0.05, 0.1), RateLimiter(10, 1.0), None, lambda: 1,
                on_messages=lambda messages: core.received_many(messages))  # late-bound: a test may replace it
    try:
        yield core, factory, lambda: client_thread.call(link.start)
    finally:
        done = threading.Event()
        client_thread.call(lambda: link.close().addBoth(lambda _: done.set()))
        done.wait(5)
        client_thread.stop()
        server_thread.run_sync(port.stopListening)
        server_thread.stop()


def test_fragmented_messages_are_joined_and_binary_ones_dropped():
    with linked_to(_FragmentingServer) as (core, _, connect):
        received = Inbox("received")
        core.routes[1] = received
        connect()
        received.wait_for(lambda m: m == [1, ["after"]])
        assert received.items == [[1, ["fragmented", "message", "x" * 5000]], [1, ["after"]]]
        assert core.frames_dropped == 1


def _frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A server-to-client WebSocket frame (unmasked), built by hand."""
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        return head + bytes([len(payload)]) + payload
    if len(payload) < 65536:
        return head + bytes([126]) + len(payload).to_bytes(2, "big") + payload
    return head + bytes([127]) + len(payload).to_bytes(8, "big") + payload


RAW_STREAM_TEXTS = [b"[1,[%d]]" % n for n in range(50)] + [b"[1,[\"" + b"m" * 200 + b"\"]]", b"[1,[\"" + b"b" * 70000 + b"\"]]"]
RAW_STREAM = (
    b"".join(_frame(1, text) for text in RAW_STREAM_TEXTS[:25])
    + _frame(9, b"ping-1")                                      # a ping between text frames
    + _frame(1, b"[1,[\"frag", fin=False) + _frame(0, b"mented\"]]")   # a fragmented message
    + _frame(2, b"\x00binary")                                 # a binary message (skipped)
    + b"".join(_frame(1, text) for text in RAW_STREAM_TEXTS[25:])
)
EXPECTED_TEXTS = [*RAW_STREAM_TEXTS[:25], b'[1,["fragmented"]]', *RAW_STREAM_TEXTS[25:]]


class _RawBytesServer(WebSocketServerProtocol):
    """Writes RAW_STREAM straight to the socket in chunks of ``chunk`` bytes, one per reactor turn."""

    chunk = 1
    pongs: Inbox

    def onOpen(self) -> None:
        self.pongs = self.factory.pongs
        self._write_from(0)

    def _write_from(self, offset: int) -> None:
        if offset < len(RAW_STREAM) and self.transport is not None:
            self.transport.write(RAW_STREAM[offset:offset + self.factory.chunk])
            self.factory.reactor.callLater(0, self._write_from, offset + self.factory.chunk)

    def onPong(self, payload: bytes) -> None:
        self.pongs(payload)


@pytest.mark.parametrize("chunk", [1, 7, 1000, len(RAW_STREAM)])
def test_fast_frame_path_reads_every_frame_however_the_bytes_arrive(chunk):
    texts = Inbox("texts")
    pongs = Inbox("pongs")
    with linked_to(_RawBytesServer, chunk=chunk, pongs=pongs) as (core, _, connect):
        batches = Inbox("batches")

        def take(messages: Sequence[bytes]) -> None:  # what the protocol hands over, byte for byte
            batches(len(messages))
            for message in messages:
                texts(message)

        core.received_many = take
        connect()
        texts.wait_for(lambda m: m == EXPECTED_TEXTS[-1], timeout=30)
        assert texts.items == EXPECTED_TEXTS
        if chunk == len(RAW_STREAM):  # sent in one write: the frames of a read come in one call
            assert max(batches.items) > 1
        assert pongs.wait_for(lambda _: True) == b"ping-1"  # autobahn answered the ping
        assert pongs.items == [b"ping-1"]


SENT_SIZES = (2, 3, 6, 125, 126, 127, 1000, 65535, 65536, 70000)
"""Message sizes around each frame-length encoding and the fast send path's limit (65,535)."""


class _RecordingServer(WebSocketServerProtocol):
    """Says go, then keeps every message the client sends (autobahn refuses an unmasked one)."""

    def onOpen(self) -> None:
        self.sendMessage(b'[1,["go"]]')

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.factory.messages((payload, isBinary))


@pytest.mark.parametrize("size", [size for size in SENT_SIZES if size <= FAST_FRAME_LIMIT])
def test_masked_text_frame_is_what_autobahn_reads(size):
    payload = bytes(random.getrandbits(8) for _ in range(size))
    key = random.getrandbits(32)
    frame = masked_text_frame(payload, key)
    assert frame[0] == 0x81  # FIN, text
    if size <= 125:
        assert frame[1] == 0x80 | size
        offset = 2
    else:
        assert frame[1] == 0x80 | 126 and int.from_bytes(frame[2:4], "big") == size
        offset = 4
    assert frame[offset:offset + 4] == key.to_bytes(4, "big")
    masked = frame[offset + 4:]
    assert len(masked) == size
    assert create_xor_masker(key.to_bytes(4, "big"), size).process(masked) == payload


def test_messages_of_every_size_reach_the_server_byte_for_byte():
    messages = Inbox("messages")
    with linked_to(_RecordingServer, messages=messages) as (core, _, connect):
        texts = [codec.dumps("x" * (size - 2)) for size in SENT_SIZES]

        def send_all(msg: Any) -> None:
            for text in texts:
                assert core._transport is not None and core._transport.write(text)

        core.routes[1] = send_all
        connect()
        messages.wait_all(lambda _: True, count=len(texts))
        assert messages.items == [(text, False) for text in texts]
        assert [len(text) for text in texts] == list(SENT_SIZES)


def test_autobahn_keeps_the_buffer_and_frame_state_the_fast_path_reads():
    send = inspect.getsource(autobahn_protocol.WebSocketProtocol.sendData)
    assert "len(self.send_queue) > 0" in send  # what write_text checks before writing itself
    assert "self._perMessageCompress is not None" in inspect.getsource(autobahn_protocol.WebSocketProtocol.sendMessage)
    source = inspect.getsource(autobahn_protocol.WebSocketProtocol.processData)
    assert "if self.current_frame is None:" in source
    assert "self.data = self.data[i:]" in source
    assert "self.inside_message" in inspect.getsource(autobahn_protocol.WebSocketProtocol)
    consume = inspect.getsource(autobahn_protocol.WebSocketProtocol._dataReceived)
    assert "self.data += data" in consume and "self.consumeData()" in consume
    # our dataReceived calls _dataReceived directly: autobahn's adds only a debug-log line
    received = inspect.getsource(autobahn_twisted.WebSocketAdapterProtocol.dataReceived)
    assert [line.strip() for line in received.splitlines()[-1:]] == ["self._dataReceived(data)"]
    assert set(re.findall(r"self\.(\w+)", received)) == {"log", "dataReceived", "peer", "_dataReceived"}


def test_client_lifecycle_never_installs_the_global_reactor():
    script = textwrap.dedent(
        """
        import sys, threading
        from bitfinex import WssClient
        from bitfinex.testing import LocalExchange
        from bitfinex.testing.pytest_plugin import FIXTURE_DEFAULTS
        with LocalExchange(**{**FIXTURE_DEFAULTS, "heartbeat_interval": 0.2}) as exchange:
            got = threading.Event()
            client = WssClient(exchange.key, exchange.secret, url=exchange.url, heartbeat_timeout=1.0)
            client.authenticate(lambda m: isinstance(m, list) and m[1] == "n" and got.set())
            client.subscribe_to_ticker("BTCUSD", print)
            client.start()
            client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
            assert got.wait(10)
            client.stop()
        print("GLOBAL-REACTOR", "twisted.internet.reactor" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "GLOBAL-REACTOR False" in result.stdout


# -- TLS ----------------------------------------------------------------------------------------


@pytest.mark.bitfinex_exchange(tls=True, heartbeat_interval=0.5)
def test_a_self_signed_server_is_refused_without_its_ca(no_leaks, bitfinex_exchange):
    from bitfinex import WssClient

    statuses = Inbox("statuses")
    client = WssClient(url=bitfinex_exchange.url, status_callback=statuses, max_retries=1, reconnect_base=0.05)
    ticks = Inbox("ticks")
    try:
        client.subscribe_to_ticker("BTCUSD", ticks)
        client.start()
        event = statuses.wait_kind("disconnected")
        assert "certificate" in event.reason.lower() or "verify" in event.reason.lower(), event.reason
        statuses.wait_kind("gave_up", attempt=1)  # refused certificates are not retried
        assert ticks.items == []
    finally:
        client.stop()


@pytest.mark.bitfinex_exchange(tls=True, heartbeat_interval=0.5)
def test_with_its_ca_passed_explicitly_the_tls_server_is_trusted(no_leaks, bitfinex_exchange):
    from bitfinex import WssClient

    assert bitfinex_exchange.url.startswith("wss://")
    exchange = bitfinex_exchange
    client = WssClient(exchange.key, exchange.secret, url=exchange.url, ca_file=exchange.ca_path)
    account, ticks = Inbox("account"), Inbox("ticks")
    try:
        client.authenticate(account)
        client.subscribe_to_ticker("BTCUSD", ticks)
        client.start()
        account.wait_for(is_event("auth", status="OK"))
        ticks.wait_for(is_data())
    finally:
        client.stop()


def test_a_bad_ca_file_is_a_clear_error_at_construction(tmp_path):
    from bitfinex import WssClient

    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValueError, match="ca_file"):
        WssClient(ca_file=bad)
