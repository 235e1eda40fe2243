"""A bare WebSocket client for driving the local exchange in tests.

It runs on a private reactor thread (:class:`bitfinex.transport.reactor.ReactorThread`),
collects every frame the server sends (raw bytes and decoded JSON), and lets a test send frames
and wait, with a timeout, for a frame matching a predicate. It knows nothing of the Bitfinex
protocol beyond signing ``auth``, so tests see exactly what the server sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Optional
from urllib.parse import urlparse

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import ssl
from twisted.protocols.tls import TLSMemoryBIOFactory

from bitfinex.protocol.signing import Secret, auth_message
from bitfinex.transport.reactor import ReactorThread, bind_timers

DEFAULT_TIMEOUT = 5.0

KEY = "test-key"
SECRET = "test-secret"
"""The account the test exchanges open."""

Predicate = Callable[[Any], bool]


class NotJson(str):
    """A text frame that was not JSON (kept as its text)."""


class _Protocol(WebSocketClientProtocol):
    client: RawClient

    def onOpen(self) -> None:
        self.client._opened(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.client._received(payload, isBinary)

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        self.client._closed(code, reason)


class RawClient:
    """One WebSocket connection to the exchange.

    :param reactor_thread: a running reactor thread to connect from.
    :param url: ``ws://...`` or ``wss://...``.
    :param ca_pem: for ``wss://``, the CA certificate to trust (nothing else is trusted).
    """

    def __init__(self, reactor_thread: ReactorThread, url: str, ca_pem: Optional[bytes] = None) -> None:
        self._thread = reactor_thread
        self.url = url
        self._ca_pem = ca_pem
        self._condition = threading.Condition()
        self.raw: list[bytes] = []
        self.frames: list[Any] = []
        self.binary_count = 0
        self._protocol: Optional[_Protocol] = None
        self.open = threading.Event()
        self.closed = threading.Event()
        self.close_code: Optional[int] = None
        self.close_reason: Optional[str] = None

    # -- connection -------------------------------------------------------------------------

    def connect(self, timeout: float = DEFAULT_TIMEOUT) -> RawClient:
        """Open the connection; return once the handshake is done.

        :raises ConnectionError: if the handshake fails or is refused (see :attr:`close_code`).
        """
        self._thread.call(self._connect)
        if not self._wait_either(timeout):
            raise TimeoutError(f"no connection to {self.url} within {timeout} s")
        if not self.open.is_set():
            raise ConnectionError(f"connection to {self.url} failed: {self.close_code} {self.close_reason}")
        return self

    def _wait_either(self, timeout: float) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: self.open.is_set() or self.closed.is_set(), timeout)

    def _connect(self) -> None:
        reactor = self._thread.reactor
        factory = WebSocketClientFactory(self.url, reactor=reactor)
        factory.protocol = type("BoundProtocol", (_Protocol,), {"client": self})
        factory.setProtocolOptions(serverConnectionDropTimeout=0, closeHandshakeTimeout=1, maxMessagePayloadSize=0)
        bind_timers(factory, reactor)
        factory.clientConnectionFailed = lambda _connector, reason: self._closed(None, str(reason.value))
        address = urlparse(self.url)
        transport_factory: Any = factory
        if self._ca_pem is not None:
            # Not connectWS/connectSSL: their TLS layer would flush writes on Twisted's global reactor.
            options = ssl.optionsForClientTLS(address.hostname or "", trustRoot=ssl.Certificate.loadPEM(self._ca_pem))
            transport_factory = TLSMemoryBIOFactory(options, True, factory, clock=reactor)
        reactor.connectTCP(address.hostname, address.port, transport_factory, timeout=5)

    def _opened(self, protocol: _Protocol) -> None:
        self._protocol = protocol
        with self._condition:
            self.open.set()
            self._condition.notify_all()

    def _received(self, payload: bytes, is_binary: bool) -> None:
        with self._condition:
            if is_binary:
                self.binary_count += 1
            else:
                self.raw.append(payload)
                try:
                    self.frames.append(json.loads(payload))
                except ValueError:
                    self.frames.append(NotJson(payload.decode("utf-8", "replace")))
            self._condition.notify_all()

    def _closed(self, code: Optional[int], reason: Optional[str]) -> None:
        with self._condition:
            self.close_code, self.close_reason = code, reason
            self.closed.set()
            self._condition.notify_all()

    def close(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Close with a normal closing handshake and wait for the close."""
        if self._protocol is not None and not self.closed.is_set():
            self._thread.call(self._protocol.sendClose, 1000)
            self.closed.wait(timeout)

    def abort(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Drop the TCP connection without a closing handshake."""
        if self._protocol is not None and not self.closed.is_set():
            self._thread.call(self._protocol.dropConnection, True)
            self.closed.wait(timeout)

    # -- sending ----------------------------------------------------------------------------

    def send(self, message: Any) -> None:
        """Send ``message`` as JSON text."""
        self.send_text(json.dumps(message))

    def send_text(self, text: str | bytes) -> None:
        """Send a text frame exactly as given."""
        data = text.encode() if isinstance(text, str) else text
        assert self._protocol is not None, "not connected"
        self._thread.call(self._protocol.sendMessage, data, False)

    def send_binary(self, data: bytes) -> None:
        """Send a binary frame."""
        assert self._protocol is not None, "not connected"
        self._thread.call(self._protocol.sendMessage, data, True)

    def authenticate(self, key: str, secret: str, nonce: int, **options: Any) -> dict[str, Any]:
        """Send a correctly signed ``auth`` and return the ``auth`` reply."""
        start = self.mark()
        self.send(auth_message(key, Secret(secret), nonce, **options))
        return self.wait_event("auth", start=start)  # type: ignore[no-any-return]

    # -- waiting ----------------------------------------------------------------------------

    def mark(self) -> int:
        """The number of frames received so far (a ``start`` for later waits)."""
        with self._condition:
            return len(self.frames)

    def snapshot(self, start: int = 0) -> list[Any]:
        """A copy of the frames received from index ``start`` on."""
        with self._condition:
            return list(self.frames[start:])

    def wait_for(self, predicate: Predicate, timeout: float = DEFAULT_TIMEOUT, start: int = 0) -> Any:
        """Return the first frame from index ``start`` on that satisfies ``predicate``.

        :raises TimeoutError: if none arrives within ``timeout`` seconds.
        """
        found: list[Any] = []

        def match() -> bool:
            for frame in self.frames[start:]:
                if predicate(frame):
                    found.append(frame)
                    return True
            return False

        with self._condition:
            if not self._condition.wait_for(match, timeout):
                raise TimeoutError(f"no matching frame within {timeout} s; last frames: {self.frames[-5:]!r}")
        return found[0]

    def wait_count(self, predicate: Predicate, count: int, timeout: float = DEFAULT_TIMEOUT, start: int = 0) -> list[Any]:
        """Wait for ``count`` frames satisfying ``predicate``; return them.

        :raises TimeoutError: if fewer arrive within ``timeout`` seconds.
        """
        with self._condition:
            ok = self._condition.wait_for(lambda: sum(1 for f in self.frames[start:] if predicate(f)) >= count, timeout)
            matching = [f for f in self.frames[start:] if predicate(f)]
        if not ok:
            raise TimeoutError(f"{len(matching)} of {count} matching frames within {timeout} s")
        return matching

    def wait_event(self, event: str, timeout: float = DEFAULT_TIMEOUT, start: int = 0, **fields: Any) -> dict[str, Any]:
        """Wait for a control event ``{"event": event, **fields}``."""
        return self.wait_for(  # type: ignore[no-any-return]
            lambda f: isinstance(f, dict) and f.get("event") == event and all(f.get(k) == v for k, v in fields.items()),
            timeout,
            start,
        )

    def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> Optional[int]:
        """Wait for the connection to close; return the close code.

        :raises TimeoutError: if it stays open.
        """
        if not self.closed.wait(timeout):
            raise TimeoutError(f"connection still open after {timeout} s")
        return self.close_code

    def subscribe(self, timeout: float = DEFAULT_TIMEOUT, **request: Any) -> tuple[int, Any]:
        """Subscribe, and return ``(chanId, snapshot payload)``.

        :raises AssertionError: if the server answers with an error.
        """
        start = self.mark()
        self.send({"event": "subscribe", **request})
        reply = self.wait_for(lambda f: isinstance(f, dict) and f.get("event") in ("subscribed", "error"), timeout, start)
        assert reply["event"] == "subscribed", reply
        chan_id = reply["chanId"]
        snapshot = self.wait_for(lambda f: isinstance(f, list) and f[0] == chan_id and f[1] != "cs", timeout, start)
        return chan_id, snapshot[1]

    def channel_frames(self, chan_id: int, start: int = 0) -> list[list[Any]]:
        """Every data frame received on ``chan_id`` (from index ``start`` on)."""
        return [f for f in self.snapshot(start) if isinstance(f, list) and f and f[0] == chan_id]


def is_data(chan_id: int) -> Predicate:
    """A predicate matching data frames of one channel."""
    return lambda f: isinstance(f, list) and len(f) > 1 and f[0] == chan_id


def is_account(kind: str) -> Predicate:
    """A predicate matching ``[0, kind, ...]`` account frames."""
    return lambda f: isinstance(f, list) and len(f) > 2 and f[0] == 0 and f[1] == kind


def is_notification(request: str) -> Predicate:
    """A predicate matching ``n`` notifications of one request type (``on-req``...)."""
    return lambda f: isinstance(f, list) and len(f) > 2 and f[0] == 0 and f[1] == "n" and f[2][1] == request
