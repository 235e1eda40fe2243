"""The autobahn WebSocket client protocol, tuned for a firehose of small text frames.

Bytes in, text messages out to a :class:`~bitfinex.protocol.connection.ConnectionCore`; text out
from it. No protocol knowledge lives here. Tuning, each measured with ``bench/``:

- :meth:`BitfinexClientProtocol.onMessageEnd` hands each message straight to the core instead
  of autobahn's default, which also fires an observer event building a txaio future and a
  Deferred per message;
- incoming UTF-8 validation is off: the JSON decoder refuses invalid UTF-8 anyway;
- reads are at most :data:`READ_SIZE` bytes: autobahn slices its input buffer once per frame,
  which costs more the larger each read is.

These rely on autobahn internals (``message_data``, ``message_is_binary``, ``failedByMe``);
``tests/test_transport_autobahn.py`` fails if an autobahn upgrade changes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional, Protocol, cast

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from autobahn.websocket.protocol import WebSocketProtocol

from bitfinex.transport.reactor import bind_timers

log = logging.getLogger("bitfinex.transport")

READ_SIZE = 8192
"""Bytes read from the socket per ``recv``."""

MAX_MESSAGE_SIZE = 8 * 1024 * 1024
"""Messages larger than this close the connection (protection against hostile frames)."""

_OPEN = WebSocketProtocol.STATE_OPEN


class LinkEvents(Protocol):
    """What a protocol instance reports to the link that owns it."""

    def protocol_built(self, protocol: BitfinexClientProtocol) -> None: ...

    def protocol_open(self, protocol: BitfinexClientProtocol) -> None: ...

    def protocol_closed(self, protocol: BitfinexClientProtocol, reason: str) -> None: ...

    def binary_message(self, size: int) -> None: ...


class BitfinexClientProtocol(WebSocketClientProtocol):
    """One WebSocket connection; hands every text message to :attr:`on_text`."""

    link: LinkEvents
    on_text: Callable[[bytes], None]

    def connectionMade(self) -> None:
        """Limit reads to :data:`READ_SIZE` bytes, then let autobahn start the handshake."""
        transport: Any = getattr(self.transport, "transport", self.transport)
        if hasattr(transport, "bufferSize"):
            transport.bufferSize = READ_SIZE
        super().connectionMade()

    def onOpen(self) -> None:
        """The handshake completed."""
        self.link.protocol_open(self)

    def onMessageEnd(self) -> None:
        """Deliver a complete message without autobahn's per-message observer machinery."""
        if not self.failedByMe:
            payload = b"".join(self.message_data)
            if self.message_is_binary:
                self.link.binary_message(len(payload))
            else:
                self.on_text(payload)
        self.message_data = None  # type: ignore[assignment]  # as autobahn's own onMessageEnd

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        """The connection closed (or never opened)."""
        if wasClean:
            description = f"closed with code {code}" + (f": {reason}" if reason else "")
        else:
            description = reason or "connection lost"
        self.link.protocol_closed(self, description)

    def write_text(self, data: bytes) -> bool:
        """Send one text message; return False if the connection is no longer open."""
        if self.state != _OPEN:
            return False
        self.sendMessage(data, isBinary=False)  # type: ignore[no-untyped-call]
        return True


class BitfinexClientFactory(WebSocketClientFactory):
    """An autobahn factory per connection, on an explicit reactor, with its timers bound to it.

    :param url: the ``ws://`` or ``wss://`` URL.
    :param reactor: the reactor the connection runs on.
    :param link: receives the protocol's open/close events.
    :param on_text: receives every text message.
    """

    protocol = BitfinexClientProtocol

    def __init__(self, url: str, reactor: Any, link: LinkEvents, on_text: Callable[[bytes], None],
                 user_agent: str) -> None:
        super().__init__(url, reactor=reactor, useragent=user_agent)  # type: ignore[no-untyped-call]
        bind_timers(self, reactor)
        self.setProtocolOptions(  # type: ignore[no-untyped-call]
            utf8validateIncoming=False,
            maxFramePayloadSize=MAX_MESSAGE_SIZE,
            maxMessagePayloadSize=MAX_MESSAGE_SIZE,
            openHandshakeTimeout=10.0,
            closeHandshakeTimeout=2.0,
            serverConnectionDropTimeout=0,
            autoPingInterval=0,
        )
        self.link = link
        self.on_text = on_text
        self.connection_failed: Callable[[str], None] = lambda reason: None

    def buildProtocol(self, addr: Any) -> BitfinexClientProtocol:
        """Make the protocol for a new connection and wire it to the link."""
        protocol = cast(BitfinexClientProtocol, super().buildProtocol(addr))
        protocol.link = self.link
        protocol.on_text = self.on_text
        self.link.protocol_built(protocol)
        return protocol

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        """TCP (or TLS) connection could not be made."""
        self.connection_failed(_failure_text(reason))


def _failure_text(reason: Any) -> str:
    value = getattr(reason, "value", reason)
    return f"{type(value).__name__}: {value}"
