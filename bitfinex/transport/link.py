"""Keeping one connection up: connect, reconnect with backoff, watch for silence, close.

A :class:`Link` owns the socket side of one :class:`~bitfinex.protocol.connection.ConnectionCore`
and follows :data:`~bitfinex.protocol.states.LINK_TRANSITIONS`. It connects (TLS verified for
``wss://``), reconnects after every unexpected close with exponential backoff and jitter, never
faster than Bitfinex's connection-rate limit, gives up after ``max_retries`` failed attempts in
a row, or at once when the server's certificate is refused (until it is revived), and treats a
connection that has received nothing for ``heartbeat_timeout`` seconds as dead (after a ``ping`` at half that time got no answer
either), as it does one whose ``subscribe`` or ``auth`` went unanswered that long (the answer
was lost: frames for an unknown channel would keep it "alive").

Time comes from the reactor alone (``reactor.seconds`` and ``reactor.callLater``), the same
clock the connection core was given, so a ``twisted.internet.task.Clock`` drives every timer in
tests. Everything here runs on the reactor thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Optional, cast
from urllib.parse import urlparse

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IProtocolFactory
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol

from bitfinex.protocol import status as st
from bitfinex.protocol.connection import ConnectionCore
from bitfinex.protocol.pacing import Backoff, RateLimiter
from bitfinex.protocol.states import LinkEvent, LinkState, link_machine
from bitfinex.transport.tls import REFUSED as CERTIFICATE_REFUSED
from bitfinex.transport.tls import CaSource, client_tls
from bitfinex.transport.websocket import BitfinexClientFactory, BitfinexClientProtocol

log = logging.getLogger("bitfinex.transport")

STABLE_AFTER = 10.0
"""Seconds a connection must stay up for the backoff to start over."""
CONNECT_TIMEOUT = 10.0
"""Seconds a TCP connect may take."""


def parse_url(url: str, name: str = "url") -> tuple[str, str, int]:
    """Read a WebSocket URL as ``(scheme, host, port)``; the port defaults to 443 for ``wss``
    and 80 for ``ws``.

    :param name: where the URL came from, for the error message (``"url"``, ``"$BITFINEX_WS_URL"``).
    :raises ValueError: unless it is ``ws://HOST[:PORT][/PATH]`` or ``wss://...`` with a valid port.
    """
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError as error:
        raise ValueError(f"{name} {url!r} is not a WebSocket URL: {error}") from None
    if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
        raise ValueError(f"{name} must be ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH, got {url!r}")
    return parsed.scheme, parsed.hostname, port or (443 if parsed.scheme == "wss" else 80)


class Link:
    """One connection kept alive on a reactor; the :class:`~bitfinex.protocol.connection.Transport`
    its core writes through while the socket is open.

    :param core: the connection's protocol state.
    :param url: ``ws://`` or ``wss://`` URL.
    :param reactor: the reactor to run on; its ``seconds()`` is the clock.
    :param report: where status events go.
    :param backoff: reconnect delays.
    :param limiter: connection-rate limit shared by the links of the same kind.
    :param heartbeat_timeout: seconds of silence after which the connection is dead (``None``:
        no watchdog).
    :param next_cid: source of ping cids for the watchdog's probe.
    :param ca: CA certificate to trust for ``wss://`` instead of the system's.
    :param max_retries: give up after this many failed attempts in a row (``None``: never).
    :param on_messages: receives the text messages of each read instead of
        ``core.received_many`` (which it must hand them on to), e.g. a
        :class:`~bitfinex.recording.FrameRecorder` wrapper.
    :raises ValueError: for a URL that is not ``ws://`` or ``wss://`` with a host.
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
        on_messages: Optional[Callable[[Sequence[bytes]], None]] = None,
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
        scheme, self.host, self.port = parse_url(url)
        self.tls = client_tls(self.host, ca) if scheme == "wss" else None
        self.factory = BitfinexClientFactory(url, reactor, self, on_messages or core.received_many, user_agent)
        self.machine = link_machine(core.name)
        """The link's state machine (see :mod:`bitfinex.protocol.states`)."""
        self.protocol: Optional[BitfinexClientProtocol] = None
        """The current attempt's protocol, from TCP connect until it closes."""
        self.connector: Any = None
        self.opened_at: Optional[float] = None
        self.failed_attempts = 0
        """Attempts that failed in a row (could not connect, or closed before the handshake
        completed); zero once one opens."""
        self._retries_left = max_retries
        self._drop_reason: Optional[str] = None
        self._attempt_call: Any = None
        self._watchdog_call: Any = None
        self._wakeup_call: Any = None
        self._closed_waiters: list[Deferred[None]] = []
        self._seen_frames = 0
        self._last_activity = 0.0
        self._probe_sent = False

    def __repr__(self) -> str:
        return f"<Link {self.core.name} {self.url} {self.state.value}>"

    @property
    def state(self) -> LinkState:
        """Where the link is (see :mod:`bitfinex.protocol.states`)."""
        return self.machine.state

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Connect as soon as the rate limit allows (once; later calls do nothing)."""
        if self.state is LinkState.IDLE:
            self.machine.fire(LinkEvent.START)
            self._schedule_attempt(0.0)

    def revive(self) -> None:
        """Try again now if the link gave up (a new subscription or ``authenticate()`` needs
        it); otherwise nothing changes."""
        if self.state is LinkState.GAVE_UP:
            log.info("%s: needed again after giving up; connecting", self.core.name)
            self.backoff.reset()
            self.failed_attempts = 0
            self._retries_left = self.max_retries
            self.machine.fire(LinkEvent.REVIVE)
            self._schedule_attempt(0.0)

    def restart(self, reason: str) -> None:
        """Drop the socket (if any) and connect again; revive a link that gave up."""
        if self.state is LinkState.GAVE_UP:
            self.revive()
        else:
            self.reconnect(reason)

    def close(self, timeout: float = 3.0) -> Deferred[None]:
        """Close with a normal close; never reconnect. Fires once the socket is gone (or after
        ``timeout`` seconds, when the socket is aborted)."""
        self._cancel(self._attempt_call)
        self._cancel(self._wakeup_call)
        self._stop_watchdog()
        if self.machine.fire(LinkEvent.CLOSE) is LinkState.CLOSED:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._closed_waiters.append(waiter)
        protocol = self.protocol
        if protocol is None:
            connector = self.connector
            if connector is not None and getattr(connector, "state", "") == "connecting":
                connector.stopConnecting()  # fires connection_failed, which finishes the close
            if self.state is LinkState.CLOSING:
                self._finish_close()
            return waiter
        self.core.closing()
        if protocol.state == protocol.STATE_OPEN:
            protocol.sendClose(1000)
        else:
            protocol.dropConnection(abort=True)
        abort = self.reactor.callLater(timeout, self._abort, protocol)
        waiter.addBoth(lambda result: (abort.active() and abort.cancel(), result)[1])
        return waiter

    def reconnect(self, reason: str) -> None:
        """Drop the connection now and connect again (with backoff)."""
        if self.protocol is not None and self.state in (LinkState.CONNECTING, LinkState.OPEN):
            log.info("%s: reconnecting: %s", self.core.name, reason)
            self._drop_reason = reason
            self.core.closing()
            self.protocol.dropConnection(abort=True)

    # -- Transport: what the core does to the open socket ---------------------------------

    def write(self, data: bytes) -> bool:
        """Send one text message; False if the socket is not open (or closing)."""
        protocol = self.protocol
        return protocol is not None and self.state is LinkState.OPEN and protocol.write_text(data)

    def wake_after(self, delay: float) -> None:
        """Call the core's ``pump()`` in ``delay`` seconds (once, however often asked)."""
        if self._wakeup_call is None or not self._wakeup_call.active():
            self._wakeup_call = self.reactor.callLater(delay, self.core.pump)

    # -- protocol events ------------------------------------------------------------------

    def protocol_built(self, protocol: BitfinexClientProtocol) -> None:
        """A TCP connection was made; the WebSocket handshake starts."""
        self.protocol = protocol
        self._drop_reason = None

    def protocol_open(self, protocol: BitfinexClientProtocol) -> None:
        """The WebSocket handshake completed."""
        if self.state is not LinkState.CONNECTING or protocol is not self.protocol:
            protocol.dropConnection(abort=True)  # closing meanwhile: never hand it to the core
            return
        self.machine.fire(LinkEvent.OPENED)
        self.opened_at = self.reactor.seconds()
        self.failed_attempts = 0
        self._retries_left = self.max_retries
        self.report(st.StatusEvent(st.CONNECTED, self.core.name, data=self.url))
        self.core.opened(self)
        self._start_watchdog()

    def protocol_closed(self, protocol: BitfinexClientProtocol, reason: str) -> None:
        """The connection closed, or the handshake failed."""
        if protocol is not self.protocol:
            return
        reason = self._drop_reason or reason
        self._drop_reason = None
        self.protocol = None
        self._stop_watchdog()
        self._cancel(self._wakeup_call)
        was_open = self.opened_at is not None
        if not was_open:
            self.failed_attempts += 1
        if was_open:
            closing = self.state is LinkState.CLOSING
            self.core.closed(st.CLOSED_BY_CLIENT if closing else reason)
            assert self.opened_at is not None
            if self.reactor.seconds() - self.opened_at >= STABLE_AFTER:
                self.backoff.reset()
            self.opened_at = None
        if self.state is LinkState.CLOSING:
            self.report(st.StatusEvent(st.DISCONNECTED, self.core.name, st.CLOSED_BY_CLIENT))
            self._finish_close()
            return
        self.report(st.StatusEvent(st.DISCONNECTED, self.core.name, reason))
        if protocol.tls_reason is not None and protocol.tls_reason.startswith(CERTIFICATE_REFUSED):
            self._give_up(f"{protocol.tls_reason}; not retried: a certificate does not get better by retrying "
                          "(check the URL, or pass ca_file= for a private CA)")
            return
        self._retry(reason)

    def binary_message(self, size: int) -> None:
        """Bitfinex sends only text; a binary message is logged and skipped."""
        self.core.drop("binary message", f"<{size} bytes>")

    def connection_failed(self, reason: str) -> None:
        """The TCP connection could not be made (refused, timed out, or stopped by :meth:`close`)."""
        if self.state is LinkState.CLOSING:
            self._finish_close()
            return
        if self.state is not LinkState.CONNECTING:
            return
        self.failed_attempts += 1
        self.report(st.StatusEvent(st.DISCONNECTED, self.core.name, f"could not connect: {reason}"))
        self._retry(f"could not connect: {reason}")

    def _finish_close(self) -> None:
        self.machine.fire(LinkEvent.CLOSED)
        waiters, self._closed_waiters = self._closed_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    # -- scheduling -----------------------------------------------------------------------

    def _retry(self, reason: str) -> None:
        """After a failed attempt or a drop: schedule the next attempt, or give up once
        ``max_retries`` reconnect attempts failed since the connection was last open."""
        if self._retries_left is not None:
            if self._retries_left <= 0:
                self._give_up(f"gave up after {self.failed_attempts} failed attempt(s) in a row (last: {reason})")
                return
            self._retries_left -= 1
        delay = self.backoff.next_delay()
        self.machine.fire(LinkEvent.RETRY)
        self.report(st.StatusEvent(st.RECONNECTING, self.core.name, attempt=self.backoff.attempt, delay=delay))
        self._schedule_attempt(delay)

    def _give_up(self, reason: str) -> None:
        self.machine.fire(LinkEvent.GIVE_UP)
        self.report(
            st.StatusEvent(
                st.GAVE_UP, self.core.name, f"{reason}; a new subscription or authenticate() tries again",
                attempt=self.failed_attempts,
            )
        )

    def _schedule_attempt(self, delay: float) -> None:
        self._cancel(self._attempt_call)
        self._attempt_call = self.reactor.callLater(delay, self._attempt)

    def _attempt(self) -> None:
        self._attempt_call = None
        if self.state is not LinkState.WAITING:
            return
        now = self.reactor.seconds()
        wait = self.limiter.delay(now)
        if wait > 0:
            log.info("%s: connection rate limit, connecting in %.2f s", self.core.name, wait)
            self._schedule_attempt(wait)
            return
        self.limiter.record(now)
        self.machine.fire(LinkEvent.ATTEMPT)
        factory: Any = self.factory
        if self.tls is not None:
            factory = TLSMemoryBIOFactory(self.tls, True, cast(IProtocolFactory, self.factory), clock=self.reactor)
            factory.protocol = TLSMemoryBIOProtocol  # each message its own record, sent at once (see eager.py)
        self.connector = self.reactor.connectTCP(self.host, self.port, factory, timeout=CONNECT_TIMEOUT)

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
        if asked is not None and now - asked >= self.heartbeat_timeout:
            self.reconnect(f"no answer to a request for {now - asked:.1f} s")
            return
        if silent >= self.heartbeat_timeout / 2 and not self._probe_sent:
            self._probe_sent = self.core.ping(self.next_cid(), None)
        self._schedule_watchdog()
