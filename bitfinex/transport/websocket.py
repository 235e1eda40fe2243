"""The autobahn WebSocket client protocol, tuned for a firehose of small text frames.

Bytes in, text messages out to a :class:`~bitfinex.protocol.connection.ConnectionCore`; text out
from it. No protocol knowledge lives here. Tuning, each measured with ``bench/``:

- :meth:`BitfinexClientProtocol.consumeData` takes every complete, unfragmented, unmasked text
  frame (what Bitfinex sends, all but always) straight out of the read buffer and hands their
  payloads to the core in one call per read, cutting the buffer once per read instead of once
  per frame; anything
  else (control frames, fragments, binary or oversized frames, the close handshake, a frame that
  breaks the rules) goes through autobahn's own parser, one frame at a time. autobahn parses a
  frame through some fifteen Python calls; this path is a few byte reads and one slice.
- :meth:`BitfinexClientProtocol.write_text` frames and masks an outgoing text message itself
  (:func:`masked_text_frame`, one header, one XOR over the payload as one integer) and writes it
  to the socket, instead of autobahn's ``sendMessage`` and its dozen calls per frame: an order
  reaches the wire sooner;
- :meth:`BitfinexClientProtocol.dataReceived` skips the debug-log line autobahn formats for
  every read, logged or not;
- :meth:`BitfinexClientProtocol.onMessageEnd` hands messages that do take autobahn's path
  straight to the core instead of autobahn's default, which also fires an observer event
  building a txaio future and a Deferred per message;
- incoming UTF-8 validation is off: the JSON decoder refuses invalid UTF-8 anyway;
- Nagle's algorithm is off (autobahn 26 means to, but reads its option before setting it), so
  an order is not held back waiting for an acknowledgement;
- the socket's writes are eager (:mod:`bitfinex.transport.eager`): an order leaves in the call
  that sends it, not on the reactor's next turn.

These rely on autobahn internals (``_dataReceived``, ``data``, ``current_frame``, ``inside_message``,
``processData``, ``message_data``, ``message_is_binary``, ``failedByMe``, ``send_queue``,
``_perMessageCompress``);
``tests/test_transport.py`` fails if an autobahn upgrade changes them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from typing import Any, Optional, Protocol, cast

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from autobahn.websocket.protocol import WebSocketProtocol
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure

from bitfinex.transport.eager import socket_transport, write_eagerly
from bitfinex.transport.reactor import bind_timers
from bitfinex.transport.tls import tls_failure

log = logging.getLogger("bitfinex.transport")

MAX_MESSAGE_SIZE = 8 * 1024 * 1024
"""Messages larger than this close the connection (protection against hostile frames)."""

_OPEN = WebSocketProtocol.STATE_OPEN
_FINAL_TEXT = 0x81
"""First header byte of a complete (FIN), uncompressed text frame."""

FAST_FRAME_LIMIT = 65535
"""Largest frame the fast path takes (16-bit length): larger ones go through autobahn's parser,
which consumes them as they arrive instead of waiting for the whole frame in the buffer."""


_MASKED_TEXT = 0x80
"""Second header byte's mask bit: every frame a client sends is masked (RFC 6455, 5.3)."""


def masked_text_frame(payload: bytes, mask: Optional[int] = None) -> bytes:
    """One complete (FIN) text frame holding ``payload``, masked as a client must send it
    (RFC 6455, sections 5.2 and 5.3), for a payload of at most :data:`FAST_FRAME_LIMIT` bytes.

    :param mask: the 32-bit masking key; by default ``random.getrandbits(32)``, as autobahn's
        own frames (autobahn explains why a cryptographic key would protect nothing here: the
        key matters to browsers, whose scripts must not choose the bytes on the wire).
    """
    size = len(payload)
    key = (random.getrandbits(32) if mask is None else mask).to_bytes(4, "big")
    if size <= 125:
        header = bytes((_FINAL_TEXT, _MASKED_TEXT | size))
    else:
        header = bytes((_FINAL_TEXT, _MASKED_TEXT | 126, size >> 8, size & 0xFF))
    return header + key + apply_mask(payload, key)


def apply_mask(payload: bytes, key: bytes) -> bytes:
    """``payload`` XORed with the 4-byte masking ``key`` repeated (RFC 6455, 5.3), in one integer
    operation; applied twice it gives the payload back, so it also unmasks."""
    size = len(payload)
    stream = (key * ((size + 3) // 4))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")


class LinkEvents(Protocol):
    """What a protocol instance reports to the link that owns it."""

    def protocol_built(self, protocol: BitfinexClientProtocol) -> None: ...

    def protocol_open(self, protocol: BitfinexClientProtocol) -> None: ...

    def protocol_closed(self, protocol: BitfinexClientProtocol, reason: str) -> None: ...

    def binary_message(self, size: int) -> None: ...

    def connection_failed(self, reason: str) -> None: ...


class BitfinexClientProtocol(WebSocketClientProtocol):
    """One WebSocket connection; hands the text messages of each read to :attr:`on_messages`."""

    link: LinkEvents
    on_messages: Callable[[Sequence[bytes]], None]
    tls_reason: Optional[str] = None
    """Why TLS failed, when the connection was lost before the WebSocket handshake completed
    because of it (the refused certificate's reason, or OpenSSL's error)."""

    def connectionMade(self) -> None:
        """Turn Nagle's algorithm off and make the socket's writes eager
        (:func:`~bitfinex.transport.eager.write_eagerly`), then let autobahn start the
        handshake."""
        transport: Any = self.transport
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)
        connection = socket_transport(transport)
        if connection is not None:
            write_eagerly(connection)
        super().connectionMade()

    def dataReceived(self, data: bytes) -> None:
        """Hand the bytes of a read to autobahn's buffer and :meth:`consumeData`.

        autobahn's own ``dataReceived`` only adds a debug-log line to that, and builds its
        arguments (the method's qualified name, the peer) on every read, logged or not.
        """
        self._dataReceived(data)

    def consumeData(self) -> None:
        """Deliver whole simple text frames straight from the buffer; leave the rest to autobahn.

        Between frames, outside a fragmented message, the complete final text frames of at most
        :data:`FAST_FRAME_LIMIT` bytes at the front of the buffer go to :attr:`on_messages`, all
        in one call. Any other frame (or a large one still arriving) takes one step of autobahn's
        parser, and the fast path resumes as soon as that frame is done. The buffer is trimmed
        past the frames before they are handed on, so a frame is never delivered twice, whatever
        the handler does (the connection core never raises, and reads no more of a batch once
        the socket starts closing).
        """
        on_messages = self.on_messages
        while self.state == _OPEN:
            between_frames: Any = self.current_frame is None  # autobahn types it without None
            if between_frames and not self.inside_message:
                data = self.data
                size = len(data)
                at = 0
                waiting = False
                messages: list[bytes] = []
                take = messages.append
                while size - at >= 2:
                    if data[at] != _FINAL_TEXT:
                        break
                    length = data[at + 1]
                    start = at + 2
                    if length >= 126:  # also true when the (forbidden) mask bit is set
                        if length != 126:
                            break  # 64-bit length or masked: autobahn's job
                        if size - start < 2:
                            waiting = True
                            break
                        length = (data[start] << 8) | data[start + 1]
                        if length < 126 or length > FAST_FRAME_LIMIT:
                            break  # not minimally encoded (a violation), or large
                        start += 2
                    end = start + length
                    if end > size:
                        waiting = True
                        break
                    take(data[start:end])
                    at = end
                if at:
                    self.data = data[at:]  # consumed before it is handed on, whatever the handler does
                    on_messages(messages)
                if waiting or at == size or self.state != _OPEN:
                    return
            if not self.processData():  # one step of autobahn's parser
                return
        super().consumeData()

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
                self.on_messages((payload,))
        self.message_data = None  # type: ignore[assignment]  # as autobahn's own onMessageEnd

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Before the WebSocket handshake completed, note why TLS failed (if it did), then let
        autobahn close (which calls :meth:`onClose`)."""
        if self.state == WebSocketProtocol.STATE_CONNECTING:
            self.tls_reason = tls_failure(self.transport, reason)
        super().connectionLost(reason)

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        """The connection closed (or never opened)."""
        if wasClean:
            description = f"closed with code {code}" + (f": {reason}" if reason else "")
        else:
            description = self.tls_reason or reason or "connection lost"
        self.link.protocol_closed(self, description)

    def write_text(self, data: bytes) -> bool:
        """Send one text message; return False if the connection is no longer open.

        A message of at most :data:`FAST_FRAME_LIMIT` bytes goes to the socket as one frame made
        by :func:`masked_text_frame`. A larger one, or any while autobahn holds frames of its own
        in its send queue (so nothing overtakes them) or compresses (never negotiated here),
        goes through autobahn's ``sendMessage``.
        """
        if self.state != _OPEN:
            return False
        if len(data) <= FAST_FRAME_LIMIT and not self.send_queue and self._perMessageCompress is None:
            transport: Any = self.transport  # twisted types it as an interface whose write() lacks self
            transport.write(masked_text_frame(data))
        else:
            self.sendMessage(data, isBinary=False)  # type: ignore[no-untyped-call]
        return True


class BitfinexClientFactory(WebSocketClientFactory):
    """An autobahn factory per connection, on an explicit reactor, with its timers bound to it.

    :param url: the ``ws://`` or ``wss://`` URL.
    :param reactor: the reactor the connection runs on.
    :param link: receives the protocol's open/close events.
    :param on_messages: receives the text messages of each read (one or more, in order).
    """

    protocol = BitfinexClientProtocol

    def __init__(self, url: str, reactor: Any, link: LinkEvents, on_messages: Callable[[Sequence[bytes]], None],
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
        self.on_messages = on_messages

    def buildProtocol(self, addr: Any) -> BitfinexClientProtocol:
        """Make the protocol for a new connection and wire it to the link."""
        protocol = cast(BitfinexClientProtocol, super().buildProtocol(addr))
        protocol.link = self.link
        protocol.on_messages = self.on_messages
        self.link.protocol_built(protocol)
        return protocol

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        """TCP (or TLS) connection could not be made."""
        self.link.connection_failed(_failure_text(reason))


def _failure_text(reason: Any) -> str:
    value = getattr(reason, "value", reason)
    return f"{type(value).__name__}: {value}"
