"""The Twisted/autobahn shell of the local exchange: sockets, timers, faults, the receive log.

Everything a connection means for the protocol lives in :class:`~bitfinex.testing.session.ExchangeSession`;
this module accepts WebSocket connections on a reactor it is given, feeds each one's frames to
its session, runs the simulation and heartbeat timers, records what clients sent, and applies
the faults of :class:`~bitfinex.testing.faults.FaultState`. It never touches Twisted's global
reactor.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol, cast

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny
from twisted.internet import defer
from twisted.internet.protocol import connectionDone
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure

from bitfinex.protocol.codec import loads
from bitfinex.protocol.constants import ErrorCode
from bitfinex.testing.faults import FaultState, HostileFrame
from bitfinex.testing.session import ExchangeSession, SessionLimits
from bitfinex.testing.venue import Venue
from bitfinex.transport.reactor import bind_timers

log = logging.getLogger("bitfinex.testing.server")

MAX_MESSAGE_SIZE = 1 << 20
"""Largest client message accepted (1 MiB); a larger one closes that connection (1009)."""


@dataclass(frozen=True)
class ReceivedFrame:
    """One message a client sent.

    :param connection_id: which connection (numbered from 1 in order of opening).
    :param timestamp: ``time.time()`` when it arrived.
    :param raw: the message as received (text frames decoded as UTF-8).
    :param frame: the decoded JSON, or ``None`` if it was not JSON.
    """

    connection_id: int
    timestamp: float
    raw: str | bytes
    frame: Any


@dataclass
class ConnectionLog:
    """What one connection sent, and when it lived.

    :param peer: the client's address, ``"tcp:127.0.0.1:54321"``.
    :param closed_at: ``time.time()`` at close, ``None`` while open.
    """

    connection_id: int
    peer: str
    opened_at: float
    closed_at: Optional[float] = None
    frames: list[ReceivedFrame] = field(default_factory=list)


@dataclass(frozen=True)
class ServerOptions:
    """How the server behaves.

    :param heartbeat_interval: seconds of silence on a channel before ``[CHAN_ID, "hb"]``
        (Bitfinex: 15); ``None`` sends none.
    :param tick_interval: seconds between simulation steps; ``None`` leaves the market still
        until told to move (:meth:`~bitfinex.testing.venue.Venue.tick`).
    :param limits: per-connection limits.
    :param connection_rate_limit: ``(handshakes, seconds)``: refuse (HTTP 429) handshakes
        beyond that many per window; ``None`` accepts all.
    """

    heartbeat_interval: Optional[float] = 15.0
    tick_interval: Optional[float] = 0.25
    limits: SessionLimits = field(default_factory=SessionLimits)
    connection_rate_limit: Optional[tuple[int, float]] = None


class ServerSession(Protocol):
    """The server side of one connection, as the shell drives it (:class:`~bitfinex.testing.session.ExchangeSession`
    for the simulated exchange, :class:`~bitfinex.testing.replay.ReplaySession` for a replay)."""

    def open(self) -> None:
        """The handshake completed: greet the client."""

    def receive(self, data: bytes) -> None:
        """Handle one text frame from the client."""

    def send_event(self, event: dict[str, Any]) -> None:
        """Send a control event as is."""

    def heartbeat(self, interval: float) -> None:
        """Send heartbeats on channels silent for ``interval`` seconds."""

    def close(self) -> None:
        """The connection is gone."""


SessionFactory = Callable[[Callable[[bytes], None]], ServerSession]
"""Makes the session of a new connection from the function that writes a frame to it."""


class RepeatingCall:
    """Calls ``function`` every ``interval`` seconds on ``reactor`` until :meth:`stop`.

    (Twisted's ``LoopingCall`` would import the global reactor as its default clock.)
    Exceptions are logged and the calls go on.
    """

    def __init__(self, reactor: Any, interval: float, function: Callable[[], None]) -> None:
        self._reactor = reactor
        self._interval = interval
        self._function = function
        self._call = reactor.callLater(interval, self._run)

    def _run(self) -> None:
        try:
            self._function()
        except Exception:
            log.exception("timer call failed")
        self._call = self._reactor.callLater(self._interval, self._run)

    def stop(self) -> None:
        """Cancel the next call."""
        if self._call.active():
            self._call.cancel()


class ExchangeServerProtocol(WebSocketServerProtocol):
    """autobahn protocol of one client connection; hands everything to :class:`ExchangeServer`."""

    connection: Optional[Connection] = None

    @property
    def exchange(self) -> ExchangeServer:
        """The server this connection belongs to."""
        return cast(ExchangeServerFactory, self.factory).exchange

    def connectionMade(self) -> None:
        """Turn Nagle's algorithm off (autobahn means to but reads its option too early)."""
        transport: Any = self.transport
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)
        super().connectionMade()

    def send_text(self, data: bytes, binary: bool = False) -> None:
        """Send one message if the connection is still open (a closing one takes no more)."""
        if self.state == self.STATE_OPEN:
            self.sendMessage(data, isBinary=binary)  # type: ignore[no-untyped-call]

    def onConnect(self, request: Any) -> None:
        if not self.exchange.admit():
            raise ConnectionDeny(429, "Too Many Requests")  # type: ignore[no-untyped-call]

    def onOpen(self) -> None:
        self.connection = self.exchange.open_connection(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self.connection is not None:
            self.exchange.receive(self.connection, payload, isBinary)

    def close_with(self, code: int, reason: str = "") -> None:
        """Start a closing handshake with any close code a server may send (1001 going away,
        1011, 1012...), which autobahn's ``sendClose`` reserves."""
        self.sendCloseFrame(code=code, reasonUtf8=reason.encode()[:123] or None, isReply=False)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        if self.connection is not None:
            self.exchange.close_connection(self.connection)


class ExchangeServerFactory(WebSocketServerFactory):
    """autobahn factory of :class:`ExchangeServerProtocol` connections to one server.

    :param exchange: the server the connections belong to.
    :param reactor: the reactor to run on.
    """

    protocol = ExchangeServerProtocol

    def __init__(self, exchange: ExchangeServer, reactor: Any) -> None:
        super().__init__(reactor=reactor)  # type: ignore[no-untyped-call]
        self.exchange = exchange
        self.setProtocolOptions(  # type: ignore[no-untyped-call]
            maxMessagePayloadSize=MAX_MESSAGE_SIZE,
            maxFramePayloadSize=MAX_MESSAGE_SIZE,
            openHandshakeTimeout=10,
            closeHandshakeTimeout=1,
        )
        bind_timers(self, reactor)


class Connection:
    """One live connection: its protocol, session, receive log and held messages."""

    def __init__(self, connection_id: int, protocol: ExchangeServerProtocol, session: ServerSession, log: ConnectionLog) -> None:
        self.connection_id = connection_id
        self.protocol = protocol
        self.session = session
        self.log = log
        self.delayed: deque[bytes] = deque()
        self.lost: defer.Deferred[None] = defer.Deferred()


class ExchangeServer:
    """Serves a :class:`~bitfinex.testing.venue.Venue` over WebSocket on one reactor.

    :param venue: the exchange core.
    :param reactor: the reactor to listen and run timers on (never Twisted's global one
        unless that is what the caller passes).
    :param options: timers and limits.
    :param sessions: makes each connection's session; by default a
        :class:`~bitfinex.testing.session.ExchangeSession` of ``venue``.
    """

    def __init__(self, venue: Venue, reactor: Any, options: ServerOptions, sessions: Optional[SessionFactory] = None) -> None:
        self.venue = venue
        self.sessions = sessions
        self.reactor = reactor
        self.options = options
        self.faults = FaultState()
        self.connections: dict[int, Connection] = {}
        self._logs: list[ConnectionLog] = []
        self._logs_lock = threading.Lock()
        self.connections_changed = threading.Condition()
        """Notified (from the reactor thread) whenever a connection opens or closes."""
        self._ids = itertools.count(1)
        self._handshakes: deque[float] = deque()
        self._held: list[tuple[Connection, bytes]] = []
        self._held_release: Any = None
        self._resume_call: Any = None
        self._loops: list[RepeatingCall] = []
        self._port: Any = None

    # -- lifecycle --------------------------------------------------------------------------

    def listen(self, host: str, port: int, tls_context: Any = None) -> int:
        """Start listening (and the timers); return the port actually bound."""
        factory: Any = ExchangeServerFactory(self, self.reactor)
        if tls_context is not None:
            # Not reactor.listenSSL: its TLS layer would flush writes on Twisted's global reactor.
            factory = TLSMemoryBIOFactory(tls_context, False, factory, clock=self.reactor)
        self._port = self.reactor.listenTCP(port, factory, interface=host)
        if self.options.tick_interval:
            self._start_loop(self.venue.tick, self.options.tick_interval)
        if self.options.heartbeat_interval:
            self._start_loop(self._heartbeats, min(self.options.heartbeat_interval / 5, 1.0))
        return int(self._port.getHost().port)

    def _start_loop(self, function: Callable[[], None], interval: float) -> None:
        self._loops.append(RepeatingCall(self.reactor, interval, function))

    def shutdown(self, grace: float = 1.0) -> defer.Deferred[Any]:
        """Stop timers and listening, close every connection (aborting those that do not
        close within ``grace`` seconds); the Deferred fires when all is closed."""
        for loop in self._loops:
            loop.stop()
        self._loops.clear()
        for call in (self._resume_call, self._held_release):
            if call is not None and call.active():
                call.cancel()
        waits: list[defer.Deferred[Any]] = [c.lost for c in self.connections.values()]
        for connection in list(self.connections.values()):
            connection.protocol.close_with(1001, "server stopping")
        if self._port is not None:
            waits.append(defer.maybeDeferred(self._port.stopListening))
            self._port = None
        abort = self.reactor.callLater(grace, self._abort_all)
        done = defer.DeferredList(waits, consumeErrors=True)
        done.addBoth(lambda result: abort.cancel() if abort.active() else None)
        return done

    def _abort_all(self) -> None:
        for connection in list(self.connections.values()):
            connection.protocol.dropConnection(abort=True)

    # -- connections ------------------------------------------------------------------------

    def admit(self) -> bool:
        """Whether a new handshake is within the connection-rate limit (and count it)."""
        limit = self.options.connection_rate_limit
        if limit is None:
            return True
        count, window = limit
        now = self.reactor.seconds()
        while self._handshakes and now - self._handshakes[0] >= window:
            self._handshakes.popleft()
        if len(self._handshakes) >= count:
            log.info("refusing a handshake: more than %d in %.1f s", count, window)
            return False
        self._handshakes.append(now)
        return True

    def open_connection(self, protocol: ExchangeServerProtocol) -> Connection:
        """A handshake completed: start its session and greet the client."""
        connection_id = next(self._ids)
        entry = ConnectionLog(connection_id, str(protocol.peer), time.time())
        with self._logs_lock:
            self._logs.append(entry)

        def send(data: bytes) -> None:
            if not self.faults.silent:
                protocol.send_text(data)

        session: ServerSession
        if self.sessions is not None:
            session = self.sessions(send)
        else:
            session = ExchangeSession(self.venue, send, self.faults, self.options.limits, self.reactor.seconds)
        connection = Connection(connection_id, protocol, session, entry)
        self.connections[connection_id] = connection
        self._connections_changed()
        log.debug("connection %d opened from %s", connection_id, protocol.peer)
        session.open()
        return connection

    def close_connection(self, connection: Connection) -> None:
        """The socket closed: end the session (dead man's switch included)."""
        if self.connections.pop(connection.connection_id, None) is None:
            return
        self._connections_changed()
        with self._logs_lock:
            connection.log.closed_at = time.time()
        try:
            connection.session.close()
        except Exception:
            log.exception("closing the session of connection %d failed", connection.connection_id)
        log.debug("connection %d closed", connection.connection_id)
        connection.lost.callback(None)

    def _connections_changed(self) -> None:
        with self.connections_changed:
            self.connections_changed.notify_all()

    def receive(self, connection: Connection, payload: bytes, is_binary: bool) -> None:
        """A message arrived: log it, then handle it (late or reordered if a fault says so)."""
        try:
            decoded: Any = loads(payload) if not is_binary else None
        except (ValueError, RecursionError):
            decoded = None
        raw: str | bytes = payload if is_binary else payload.decode("utf-8", "replace")
        with self._logs_lock:
            connection.log.frames.append(ReceivedFrame(connection.connection_id, time.time(), raw, decoded))
        if is_binary:
            connection.session.send_event(
                {"event": "error", "msg": "binary frames are not supported", "code": int(ErrorCode.REQUEST_PARAMETERS)}
            )
        elif self.faults.ack_delay > 0:
            connection.delayed.append(payload)
            self.reactor.callLater(self.faults.ack_delay, self._handle_delayed, connection)
        elif self.faults.reorder_remaining > 0:
            self._hold(connection, payload)
        else:
            self._handle(connection, payload)

    def _handle(self, connection: Connection, payload: bytes) -> None:
        if connection.connection_id in self.connections:
            connection.session.receive(payload)

    def _handle_delayed(self, connection: Connection) -> None:
        if connection.delayed:
            self._handle(connection, connection.delayed.popleft())

    def _hold(self, connection: Connection, payload: bytes) -> None:
        self._held.append((connection, payload))
        self.faults.reorder_remaining -= 1
        if self.faults.reorder_remaining == 0:
            self._release_held()
        elif self._held_release is None:
            self._held_release = self.reactor.callLater(self.faults.reorder_window, self._release_held)

    def _release_held(self) -> None:
        if self._held_release is not None and self._held_release.active():
            self._held_release.cancel()
        self._held_release = None
        self.faults.reorder_remaining = 0
        held, self._held = self._held, []
        for connection, payload in reversed(held):
            self._handle(connection, payload)

    # -- market and heartbeats --------------------------------------------------------------

    def _heartbeats(self) -> None:
        interval = self.options.heartbeat_interval
        assert interval is not None
        for connection in list(self.connections.values()):
            try:
                connection.session.heartbeat(interval)
            except Exception:
                log.exception("heartbeat on connection %d failed", connection.connection_id)

    # -- faults -----------------------------------------------------------------------------

    def drop_connections(self, code: Optional[int], reason: str) -> int:
        """Abort (``code`` ``None``) or close with ``code`` every connection; return how many."""
        connections = list(self.connections.values())
        for connection in connections:
            if code is None:
                connection.protocol.dropConnection(abort=True)
            else:
                connection.protocol.close_with(code, reason)
        return len(connections)

    def go_silent(self, seconds: Optional[float]) -> None:
        """Send nothing until :meth:`resume` (or for ``seconds``)."""
        self.faults.silent = True
        if self._resume_call is not None and self._resume_call.active():
            self._resume_call.cancel()
        self._resume_call = self.reactor.callLater(seconds, self.resume) if seconds is not None else None

    def resume(self) -> None:
        """Send again after :meth:`go_silent`."""
        self.faults.silent = False
        if self._resume_call is not None and self._resume_call.active():
            self._resume_call.cancel()
        self._resume_call = None

    def broadcast_event(self, event: dict[str, Any]) -> None:
        """Send a control event to every connection."""
        for connection in list(self.connections.values()):
            connection.session.send_event(event)

    def send_raw(self, frames: Iterable[HostileFrame]) -> None:
        """Send frames exactly as given to every connection."""
        frames = list(frames)
        for connection in list(self.connections.values()):
            for frame in frames:
                connection.protocol.send_text(frame.payload, frame.binary)

    # -- inspection -------------------------------------------------------------------------

    def connection_logs(self) -> list[ConnectionLog]:
        """Copies of every connection's log, in order of opening (thread-safe)."""
        with self._logs_lock:
            return [ConnectionLog(e.connection_id, e.peer, e.opened_at, e.closed_at, list(e.frames)) for e in self._logs]
