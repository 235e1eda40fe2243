"""Eager writes (``bitfinex/transport/eager.py``): a message leaves in the call that writes it.

On real loopback sockets: a plain Twisted write waits for the reactor's next turn and an eager
one does not; a socket buffer that fills keeps every byte in order; a send that fails is
Twisted's to report; an order the client sends from a callback is at the exchange before the
callback returns, over ``ws://`` and ``wss://``. The
first test fails, and names it, if a Twisted upgrade changes an attribute the eager write reads.
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet import abstract, tcp
from twisted.internet.protocol import ClientFactory, Protocol

from bitfinex import WssClient
from bitfinex.transport.eager import socket_transport, write_eagerly
from bitfinex.transport.reactor import ReactorThread

from helpers import Inbox, is_notification, wait_until

TIMEOUT = 10.0


def test_twisted_keeps_the_buffer_state_the_eager_write_reads():
    write = inspect.getsource(abstract.FileDescriptor.write)
    assert "if not self.connected or self._writeDisconnected:" in write
    assert "self._tempDataBuffer.append(data)" in write and "self.startWriting()" in write
    do_write = inspect.getsource(abstract.FileDescriptor.doWrite)
    assert "self.dataBuffer" in do_write and "self._tempDataBuffer" in do_write
    assert "self.disconnecting" in inspect.getsource(abstract.FileDescriptor.loseConnection)
    assert "self.socket.send" in inspect.getsource(tcp.Connection.writeSomeData)


class _Client(Protocol):
    """Hands its transport to the factory's ``made`` inbox; sets its ``lost`` event at the end."""

    def connectionMade(self) -> None:
        self.factory.made(self.transport)  # type: ignore[attr-defined]

    def connectionLost(self, reason: Any = None) -> None:
        self.factory.lost.set()  # type: ignore[attr-defined]


@contextlib.contextmanager
def connected(receive_buffer: int = 0) -> Iterator[tuple[ReactorThread, tcp.Client, socket.socket, threading.Event]]:
    """A Twisted TCP client on a private reactor, connected to a plain socket server. Yields the
    reactor thread, the client's transport, the server's end of the connection and the event
    set when the client sees the connection lost."""
    listener = socket.create_server(("127.0.0.1", 0))
    if receive_buffer:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    listener.settimeout(TIMEOUT)
    thread = ReactorThread(name="test-eager")
    thread.start()
    factory = ClientFactory()
    factory.protocol = _Client
    factory.made = Inbox("made")  # type: ignore[attr-defined]
    factory.lost = threading.Event()  # type: ignore[attr-defined]
    server = None
    try:
        thread.call(thread.reactor.connectTCP, "127.0.0.1", listener.getsockname()[1], factory)
        server, _ = listener.accept()
        server.settimeout(TIMEOUT)
        transport = factory.made.wait_for(lambda _: True)  # type: ignore[attr-defined]
        yield thread, transport, server, factory.lost  # type: ignore[attr-defined]
    finally:
        if server is not None:
            server.close()
        thread.stop()
        listener.close()


def received(server: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from ``server`` (within the socket's timeout)."""
    chunks = []
    while size:
        chunk = server.recv(min(size, 1 << 16))
        assert chunk, "the connection closed early"
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def test_an_eager_write_leaves_in_the_call_that_makes_it():
    with connected() as (thread, transport, server, _):

        def write_and_look(data: bytes) -> bool:
            transport.write(data)
            return transport in thread.reactor.getWriters()

        assert thread.run_sync(write_and_look, b"plain") is True  # Twisted's own write waits for the next turn
        assert received(server, 5) == b"plain"
        thread.run_sync(write_eagerly, transport)
        assert thread.run_sync(write_and_look, b"eager") is False
        assert transport.dataBuffer == b"" and transport._tempDataBuffer == []
        assert received(server, 5) == b"eager"


def test_a_full_socket_buffer_keeps_every_byte_in_order():
    chunks = [bytes([number]) * 65536 for number in range(64)]  # 4 MiB, far more than the socket buffers hold
    with connected(receive_buffer=4096) as (thread, transport, server, _):
        transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        thread.run_sync(write_eagerly, transport)

        def write_all() -> bool:
            for chunk in chunks:
                transport.write(chunk)
            return transport in thread.reactor.getWriters()

        assert thread.run_sync(write_all) is True  # the kernel took only part: Twisted holds the rest
        assert received(server, len(chunks) * 65536) == b"".join(chunks)


def test_a_send_that_fails_is_reported_as_the_connection_lost_and_raises_nothing():
    with connected() as (thread, transport, _server, lost):
        thread.run_sync(write_eagerly, transport)
        thread.run_sync(transport.socket.shutdown, socket.SHUT_WR)  # every send now fails (EPIPE)
        thread.run_sync(transport.write, b"lost")
        assert lost.wait(TIMEOUT)


def test_socket_transport_finds_the_tcp_connection_under_a_wrapper_and_none_without_one():
    with connected() as (_, transport, _server, _lost):
        assert socket_transport(transport) is transport

        class Wrapper:
            def __init__(self, inner: Any) -> None:
                self.transport = inner

        assert socket_transport(Wrapper(Wrapper(transport))) is transport
    assert socket_transport(object()) is None


@pytest.mark.parametrize(
    "tls", [pytest.param(False, id="ws"), pytest.param(True, id="wss", marks=pytest.mark.bitfinex_exchange(tls=True))]
)
def test_an_order_sent_from_a_callback_reaches_the_exchange_before_the_callback_returns(no_leaks, bitfinex_exchange, tls):
    exchange = bitfinex_exchange
    assert exchange.url.startswith("wss://" if tls else "ws://")
    client = WssClient(exchange.key, exchange.secret, url=exchange.url, ca_file=exchange.ca_path if tls else None)
    account = Inbox("account")
    arrived_while_in_callback: list[bool] = []

    def on_account(message: Any) -> None:
        account(message)
        if isinstance(message, dict) and message.get("event") == "auth" and message.get("status") == "OK":
            client.new_order("EXCHANGE LIMIT", "tBTCUSD", "0.001", "1000")
            try:  # the client's reactor is held here: only a write made in the call is on the wire
                wait_until(lambda: bool(exchange.received_inputs("on")), 5.0, "the order at the exchange")
                arrived_while_in_callback.append(True)
            except AssertionError:
                arrived_while_in_callback.append(False)

    try:
        client.authenticate(on_account)
        client.start()
        account.wait_for(is_notification("on-req", status="SUCCESS"))
        assert arrived_while_in_callback == [True]
    finally:
        client.stop()
