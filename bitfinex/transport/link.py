"""Keeping one connection up: connect, reconnect with backoff, watch for silence, close.

A :class:`Link` owns the socket side of one :class:`~bitfinex.protocol.connection.ConnectionCore`.
It connects (TLS verified for ``wss://``), reconnects after every unexpected close with
exponential backoff and jitter, never faster than Bitfinex's connection-rate limit, and treats a
connection that has received nothing for ``heartbeat_timeout`` seconds as dead (after a ``ping``
at half that time got no answer either), as it does one whose ``subscribe`` or ``auth`` went
unanswered that long (the answer was lost: frames for an unknown channel would keep it
"alive"). Everything here runs on the reactor thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Optional, cast
from urllib.parse import urlparse

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IProtocolFactory
from twisted.protocols.tls import TLSMemoryBIOFactory

from bitfinex.protocol import status as st
from bitfinex.protocol.connection import ConnectionCore
from bitfinex.protocol.pacing import Backoff, RateLimiter
from bitfinex.transport.tls import CaSource, client_tls
from bitfinex.transport.websocket import BitfinexClientFactory, BitfinexClientProtocol

log = logging.getLogger("bitfinex.transport")

STABLE_AFTER = 10.0
"""Seconds a connection must stay up for the backoff to start over."""


class Link:
    """One connection kept alive on a reactor.

    :param core: the connection's protocol state.
    :param url: ``ws://`` or ``wss://`` URL.
    :param reactor: the reactor to run on.
    :param report: where status events go.
    :param backoff: reconnect delays.
    :param limiter: connection-rate limit shared by the links of the same kind.
    :param heartbeat_timeout: seconds of silence after which the connection is dead (``None``:
        no watchdog).
    :param next_cid: source of ping cids for the watchdog's probe.
    :param ca: CA certificate to trust for ``wss://`` instead of the system's.
    :param max_retries: give up after this many failed attempts in a row (``None``: never).
    :param on_text: receives every text message instead of ``core.received`` (which it must
        hand them on to), e.g. a :class:`~bitfinex.recording.FrameRecorder` wrapper.
    """

    def __init__(
        self,
        core: ConnectionCore,
        url: str,
        reactor: Any,
        report: st.StatusSink,
        backoff: Backoff,
        limiter: RateLimiter,
        heartbeat_timeout: Optional[float],
        next_cid: Callable[[], int],
        ca: Optional[CaSource] = None,
        max_retries: Optional[int] = None,
        user_agent: str = "bitfinex-wss",
        on_text: Optional[Callable[[bytes], None]] = None,
    ) -> None:
        self.core = core
        self.url = url
        self.reactor = reactor
        self.report = report
        self.backoff = backoff
        self.limiter = limiter
        self.heartbeat_timeout = heartbeat_timeout
        self.next_cid = next_cid
        self.max_retries = max_retries
        parsed = urlparse(url)
        if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
            raise ValueError(f"url must be ws://HOST[:PORT]/PATH or wss://..., got {url!r}")
        self.host = parsed.hostname
        self.port = parsed.port or (443 if parsed.scheme == "wss" else 80)
        self.tls = client_tls(self.host, ca) if parsed.scheme == "wss" else None
        self.factory = BitfinexClientFactory(url, reactor, self, on_text or core.received, user_agent)
        self.factory.connection_failed = self._connect_failed
        self.protocol: Optional[BitfinexClientProtocol] = None
        """The current connection's protocol, from TCP connect until it closes."""
        self._open_protocol: Optional[BitfinexClientProtocol] = None
        self._drop_reason: Optional[str] = None
        self.connector: Any = None
        self.closing = False
        self.started = False
        self.opened_at: Optional[float] = None
        self._attempt_call: Any = None
        self._watchdog_call: Any = None
        self._wakeup_call: Any = None
        self._closed_waiters: list[Deferred[None]] = []
        self._seen_frames = 0
        self._last_activity = 0.0
        self._probe_sent = False
        core.request_reconnect = self.reconnect
        core.request_wakeup = self._wake_later

    def __repr__(self) -> str:
        return f"<Link {self.core.name} {self.url} open={self.core.is_open}>"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Connect as soon as the rate limit allows (once; later calls do nothing)."""
        if self.started or self.closing:
            return
        self.started = True
        self._schedule_attempt(0.0)

    def close(self, timeout: float = 3.0) -> Deferred[None]:
        """Close with a normal close; never reconnect. Fires once the socket is gone (or after
        ``timeout`` seconds, when the socket is aborted)."""
        self.closing = True
        self._cancel(self._attempt_call)
        self._cancel(self._wakeup_call)
        self._stop_watchdog()
        if self.protocol is None:
            if self.connector is not None and getattr(self.connector, "state", "") == "connecting":
                self.connector.stopConnecting()
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._closed_waiters.append(waiter)
        protocol = self.protocol
        if protocol.state == protocol.STATE_OPEN:
            protocol.sendClose(1000)
        else:
            protocol.dropConnection(abort=True)
        abort = self.reactor.callLater(timeout, self._abort, protocol)
        waiter.addBoth(lambda result: (abort.active() and abort.cancel(), result)[1])
        return waiter

    def reconnect(self, reason: str) -> None:
        """Drop the connection now and connect again (with backoff)."""
        if self.protocol is not None:
            log.info("%s: reconnecting: %s", self.core.name, reason)
            self._drop_reason = reason
            self.protocol.dropConnection(abort=True)

    # -- protocol events ------------------------------------------------------------------

    def protocol_built(self, protocol: BitfinexClientProtocol) -> None:
        """A TCP connection was made; the WebSocket handshake starts."""
        self.protocol = protocol
        self._drop_reason = None

    def protocol_open(self, protocol: BitfinexClientProtocol) -> None:
        """The WebSocket handshake completed."""
        self._open_protocol = protocol
        self.opened_at = self.reactor.seconds()
        self.report(st.StatusEvent(st.CONNECTED, self.core.name, data=self.url))
        self.core.opened(protocol.write_text)
        self._start_watchdog()

    def protocol_closed(self, protocol: BitfinexClientProtocol, reason: str) -> None:
        """The connection closed, or the handshake failed."""
        reason = self._drop_reason or reason
        self._drop_reason = None
        was_open = self._open_protocol is protocol
        self._open_protocol = None
        if self.protocol is protocol:
            self.protocol = None
        self._stop_watchdog()
        if was_open:
            self.core.closed(st.CLOSED_BY_CLIENT if self.closing else reason)
            if self.opened_at is not None and self.reactor.seconds() - self.opened_at >= STABLE_AFTER:
                self.backoff.reset()
        if self.closing:
            reason = st.CLOSED_BY_CLIENT
        self.report(st.StatusEvent(st.DISCONNECTED, self.core.name, reason))
        if self.closing:
            waiters, self._closed_waiters = self._closed_waiters, []
            for waiter in waiters:
                waiter.callback(None)
            return
        self._retry()

    def binary_message(self, size: int) -> None:
        """Bitfinex sends only text; a binary message is logged and skipped."""
        self.core.drop("binary message", f"<{size} bytes>")

    def _connect_failed(self, reason: str) -> None:
        self.report(st.StatusEvent(st.DISCONNECTED, self.core.name, f"could not connect: {reason}"))
        if not self.closing:
            self._retry()

    # -- scheduling -----------------------------------------------------------------------

    def _retry(self) -> None:
        if self.max_retries is not None and self.backoff.attempt >= self.max_retries:
            self.report(st.StatusEvent(st.SERVER_ERROR, self.core.name, f"gave up after {self.backoff.attempt} attempts"))
            return
        delay = self.backoff.next_delay()
        self.report(st.StatusEvent(st.RECONNECTING, self.core.name, attempt=self.backoff.attempt, delay=delay))
        self._schedule_attempt(delay)

    def _schedule_attempt(self, delay: float) -> None:
        self._cancel(self._attempt_call)
        self._attempt_call = self.reactor.callLater(delay, self._attempt)

    def _attempt(self) -> None:
        self._attempt_call = None
        if self.closing:
            return
        now = self.reactor.seconds()
        wait = self.limiter.delay(now)
        if wait > 0:
            log.info("%s: connection rate limit, connecting in %.2f s", self.core.name, wait)
            self._schedule_attempt(wait)
            return
        self.limiter.record(now)
        factory: Any = self.factory
        if self.tls is not None:
            factory = TLSMemoryBIOFactory(self.tls, True, cast(IProtocolFactory, self.factory), clock=self.reactor)
        self.connector = self.reactor.connectTCP(self.host, self.port, factory, timeout=10)

    def _wake_later(self, delay: float) -> None:
        if self._wakeup_call is None or not self._wakeup_call.active():
            self._wakeup_call = self.reactor.callLater(delay, self.core.pump)

    def _abort(self, protocol: BitfinexClientProtocol) -> None:
        transport = protocol.transport
        if transport is not None:
            transport.abortConnection()

    @staticmethod
    def _cancel(call: Any) -> None:
        if call is not None and call.active():
            call.cancel()

    # -- watchdog -------------------------------------------------------------------------

    def _start_watchdog(self) -> None:
        if self.heartbeat_timeout is None:
            return
        self._seen_frames = self.core.frames_received
        self._last_activity = self.reactor.seconds()
        self._probe_sent = False
        self._schedule_watchdog()

    def _schedule_watchdog(self) -> None:
        assert self.heartbeat_timeout is not None
        self._watchdog_call = self.reactor.callLater(self.heartbeat_timeout / 4, self._watch)

    def _stop_watchdog(self) -> None:
        self._cancel(self._watchdog_call)
        self._watchdog_call = None

    def _watch(self) -> None:
        assert self.heartbeat_timeout is not None
        now = self.reactor.seconds()
        if self.core.frames_received != self._seen_frames:
            self._seen_frames = self.core.frames_received
            self._last_activity = now
            self._probe_sent = False
        silent = now - self._last_activity
        if silent >= self.heartbeat_timeout:
            self.reconnect(f"no frame for {silent:.1f} s (heartbeat timeout)")
            return
        asked = self.core.oldest_unanswered()
        if asked is not None and time.monotonic() - asked >= self.heartbeat_timeout:
            self.reconnect(f"no answer to a request for {time.monotonic() - asked:.1f} s")
            return
        if silent >= self.heartbeat_timeout / 2 and not self._probe_sent:
            self._probe_sent = self.core.ping(self.next_cid(), None)
        self._schedule_watchdog()
