"""Eager writes: a message goes to the socket in the call that writes it.

Twisted's TCP transport only buffers a write: it registers the socket for writability, and the
reactor sends the bytes on its next turn, then unregisters it. Each message sent therefore costs
two ``epoll_ctl`` calls and a whole extra reactor turn before it leaves, which is most of an
order's round trip on a fast link (``bench/``'s orders workload: the client's CPU per order
falls by about a third, its ``on-req`` p99 to 0.84× the revision before). :func:`write_eagerly` makes a connection try
``send`` at once when nothing is waiting in its buffer, as asyncio's transports do, and hands
Twisted only what the kernel did not take, so the order of the bytes is kept and a full socket
buffer, a producer or a lost connection are still Twisted's to handle.

Both ``ws://`` and ``wss://`` gain: under TLS the bytes written to the TCP transport are the TLS
record :class:`twisted.protocols.tls.TLSMemoryBIOProtocol` makes of each message. The link uses
that class itself rather than Twisted's default, ``BufferingTLSTransport``, which holds small
writes back for the reactor's next turn to join them into one record: for a trading client a
message's latency matters more than the few bytes and the encryption call a joined record saves.

This relies on attributes of ``twisted.internet.tcp.Connection`` (``connected``,
``disconnecting``, ``_writeDisconnected``, ``dataBuffer``, ``_tempDataBuffer``, ``socket``);
``tests/test_eager_writes.py`` fails if a Twisted upgrade changes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from twisted.internet.tcp import Connection


def socket_transport(transport: Any) -> Optional[Connection]:
    """The TCP connection under ``transport``: itself, or the one a TLS layer (or any
    protocol wrapper) writes to; None for a transport without a socket (an in-memory one)."""
    while transport is not None and not isinstance(transport, Connection):
        transport = getattr(transport, "transport", None)
    return transport


def write_eagerly(connection: Connection) -> None:
    """Make every ``connection.write`` send at once what the socket takes, when nothing is
    buffered before it; what is left (all of it while anything is buffered, or once the
    connection is closing) goes through Twisted's own buffered write."""
    buffered_write: Callable[[bytes], None] = connection.write
    send: Callable[[bytes], int] = connection.socket.send

    def write(data: bytes) -> None:
        if (
            not connection.connected
            or connection.disconnecting
            or connection._writeDisconnected
            or connection.dataBuffer
            or connection._tempDataBuffer
        ):
            buffered_write(data)
            return
        try:
            sent = send(data)
        except OSError:  # a full buffer, or a lost connection: Twisted's write meets it again and reports it
            sent = 0
        if sent < len(data):
            buffered_write(data[sent:])

    connection.write = write  # type: ignore[method-assign]
