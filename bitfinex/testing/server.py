"""The Twisted/autobahn shell of the local exchange: sockets, timers, faults, the receive log.

Everything a connection means for the protocol lives in :class:`~bitfinex.testing.session.ExchangeSession`;
this module accepts WebSocket connections on a reactor it is given, feeds each one's frames to
its session, runs the simulation and heartbeat timers, records what clients sent, and applies
the faults of :class:`~bitfinex.testing.faults.FaultState`. It never touches Twisted's global
reactor.

Memory stays bounded whatever clients send:

- the receive log (:class:`ReceiveLog`) keeps a window of the latest frames, bounded in count
  and in bytes, each frame's text cut past :attr:`ReceiveLogLimits.frame_bytes`; frames are
  kept as their text and decoded when a test reads them;
- a client that does not read what it is sent is dropped once more than
  :attr:`ServerOptions.send_buffer_limit` bytes wait for it in the server's send buffer
  (:class:`SendBufferWatch`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
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
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import connectionDone
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from bitfinex.protocol.codec import Decoder, loads
from bitfinex.testing.errors import row
from bitfinex.testing.faults import FaultState, HostileFrame
from bitfinex.testing.session import ExchangeSession, SessionLimits
from bitfinex.testing.venue import Venue
from bitfinex.transport.reactor import bind_timers

log = logging.getLogger("bitfinex.testing.server")

MAX_MESSAGE_SIZE = 1 << 20
"""Largest client message accepted (1 MiB); a larger one closes that connection (1009)."""

SEND_BUFFER_LIMIT = 4 << 20
"""Bytes that may wait in a connection's send buffer (4 MiB) before the client is dropped as a
slow consumer. No source says what Bitfinex sends a client that does not read; clients report
connections closed without a close frame (1006, bitfinex-api-node issue 154), which is what a
dropped client sees here: a client that does not read could not read a close frame either."""

SLOW_CONSUMER_GRACE = 2.0
"""Seconds a client whose send buffer is past the limit has to read something (see
:class:`SendBufferWatch`)."""

HARD_LIMIT_FACTOR = 16
"""A send buffer this many times the limit (64 MiB by default) drops its client at once."""

CLEANUP_DELAY = 1.0
"""Seconds after the last connection closed before the server returns freed memory (a full
garbage collection, then ``malloc_trim`` where the C library has it)."""


def _malloc_trim() -> Callable[[], None]:
    """glibc's ``malloc_trim(0)``: hand the heap's free pages back to the system (a server that
    just freed the buffers of a client's megabyte messages would keep them otherwise); a no-op
    elsewhere."""
    try:
        library = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = library.malloc_trim
    except (OSError, AttributeError, TypeError):
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def release() -> None:
        trim(0)

    return release


release_free_memory = _malloc_trim()

MMAP_THRESHOLD = 256 << 10
"""Allocations from this size up (256 KiB) get pages of their own from the system, given back
when freed, once :func:`map_large_allocations` ran."""


def map_large_allocations() -> bool:
    """Make glibc serve every allocation of :data:`MMAP_THRESHOLD` bytes or more with its own
    memory map, returned to the system when freed. By default glibc raises that threshold each
    time such a block is freed, so after a client's megabyte messages later ones come from the
    heap, whose pages a long-running server may keep. ``python -m bitfinex.testing`` calls it
    at start (a process-wide setting: a test process running a :class:`LocalExchange` keeps
    its own allocator's behaviour). Returns whether it took effect (glibc only)."""
    try:
        library = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = library.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(-3, MMAP_THRESHOLD))  # M_MMAP_THRESHOLD


@dataclass(frozen=True)
class ReceivedFrame:
    """One message a client sent, as the receive log keeps it.

    :param connection_id: which connection (numbered from 1 in order of opening).
    :param timestamp: ``time.time()`` when it arrived.
    :param raw: the message as received (text frames decoded as UTF-8), cut to
        :attr:`ReceiveLogLimits.frame_bytes` bytes when longer (then :attr:`truncated`).
    :param size: the message's length in bytes as received.
    :param binary: whether it was a binary message.
    :param truncated: whether :attr:`raw` holds only the start of the message.
    """

    connection_id: int
    timestamp: float
    raw: str | bytes
    size: int = 0
    binary: bool = False
    truncated: bool = False

    @property
    def frame(self) -> Any:
        """The decoded JSON (decoded now, from :attr:`raw`), or ``None`` if it was not JSON,
        was binary or was truncated."""
        if self.binary or self.truncated:
            return None
        try:
            return loads(self.raw)
        except ValueError:
            return None


@dataclass
class ConnectionLog:
    """What one connection sent (the frames still in the receive log's window), and when it lived.

    :param peer: the client's address, ``"tcp:127.0.0.1:54321"``.
    :param closed_at: ``time.time()`` at close, ``None`` while open.
    """

    connection_id: int
    peer: str
    opened_at: float
    closed_at: Optional[float] = None
    frames: list[ReceivedFrame] = field(default_factory=list)


@dataclass(frozen=True)
class ReceiveLogLimits:
    """How much of what clients sent the exchange keeps for tests to read
    (:attr:`~bitfinex.testing.LocalExchange.received`,
    :meth:`~bitfinex.testing.LocalExchange.received_inputs`).

    The log is a window over the latest frames of all connections: past either bound, the
    oldest frames go first. Its memory is about ``max_bytes`` plus some 200 bytes per frame.

    :param max_frames: frames kept, all connections together (10,000).
    :param max_bytes: bytes of frame text kept, all connections together (4 MiB).
    :param frame_bytes: bytes of one frame's text kept (16 KiB: an ``ox_multi`` of 75 orders
        fits); a longer frame is kept truncated, and its :attr:`~ReceivedFrame.frame` is
        ``None``.
    :param max_connections: connection logs kept (1,000); past it, the oldest closed
        connection's log goes (with its frames).
    """

    max_frames: int = 10_000
    max_bytes: int = 4 << 20
    frame_bytes: int = 16 << 10
    max_connections: int = 1_000

    def __post_init__(self) -> None:
        for name in ("max_frames", "max_bytes", "frame_bytes", "max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"ReceiveLogLimits.{name} must be at least 1, got {getattr(self, name)!r}")


class ReceiveLog:
    """The bounded log of what clients sent (see :class:`ReceiveLogLimits`); thread-safe.

    :param limits: its bounds; ``None`` keeps nothing (connections are still listed).
    """

    def __init__(self, limits: Optional[ReceiveLogLimits]) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._connections: dict[int, ConnectionLog] = {}
        self._window: deque[tuple[ConnectionLog, ReceivedFrame, int]] = deque()
        self._bytes = 0

    def open(self, connection_id: int, peer: str) -> ConnectionLog:
        """Start the log of a new connection."""
        entry = ConnectionLog(connection_id, peer, time.time())
        with self._lock:
            self._connections[connection_id] = entry
            self._drop_old_connections()
        return entry

    def close(self, entry: ConnectionLog) -> None:
        """Note that a connection closed."""
        with self._lock:
            entry.closed_at = time.time()
            self._drop_old_connections()

    def record(self, entry: ConnectionLog, payload: bytes, is_binary: bool) -> None:
        """Keep one message of ``entry``'s connection (cut to the frame bound)."""
        limits = self.limits
        if limits is None:
            return
        kept = payload[: limits.frame_bytes]
        raw: str | bytes = kept if is_binary else kept.decode("utf-8", "replace")
        frame = ReceivedFrame(entry.connection_id, time.time(), raw, len(payload), is_binary, len(kept) < len(payload))
        cost = len(kept)
        with self._lock:
            entry.frames.append(frame)
            self._window.append((entry, frame, cost))
            self._bytes += cost
            while self._window and (len(self._window) > limits.max_frames or self._bytes > limits.max_bytes):
                old_entry, _, old_cost = self._window.popleft()
                del old_entry.frames[0]  # the window holds each connection's frames in order
                self._bytes -= old_cost

    def _drop_old_connections(self) -> None:
        limit = self.limits.max_connections if self.limits is not None else 1_000
        excess = len(self._connections) - limit
        if excess <= 0:
            return
        for connection_id in [i for i, e in self._connections.items() if e.closed_at is not None][:excess]:
            del self._connections[connection_id]
        if len(self._window) and any(e.connection_id not in self._connections for e, _, _ in self._window):
            kept = deque(item for item in self._window if item[0].connection_id in self._connections)
            self._bytes = sum(cost for _, _, cost in kept)
            self._window = kept

    def snapshot(self) -> list[ConnectionLog]:
        """Copies of every connection log kept, in order of opening."""
        with self._lock:
            return [
                ConnectionLog(e.connection_id, e.peer, e.opened_at, e.closed_at, list(e.frames))
                for e in self._connections.values()
            ]

    def frames(self) -> list[ReceivedFrame]:
        """Every frame in the window, in arrival order (all connections)."""
        with self._lock:
            return [frame for _, frame, _ in self._window]

    @property
    def bytes(self) -> int:
        """Bytes of frame text kept now."""
        with self._lock:
            return self._bytes


def buffered_bytes(transport: Any) -> Optional[int]:
    """The bytes waiting in a Twisted transport's send buffer (for TLS, in the TCP transport
    under it), or ``None`` if the transport does not show them (memory transports)."""
    for _ in range(3):
        if transport is None:
            return None
        data = getattr(transport, "dataBuffer", None)
        pending = getattr(transport, "_tempDataLen", None)
        if isinstance(data, bytes) and isinstance(pending, int):
            return len(data) - int(getattr(transport, "offset", 0)) + pending
        transport = getattr(transport, "transport", None)
    return None


@implementer(IPushProducer)
class SendBufferWatch:
    """Bounds what waits for a client that does not read, and drops that client.

    Registered as the streaming producer of its transport, it is paused when the transport's
    send buffer fills (past Twisted's own threshold, 64 KiB) and resumed once the buffer is
    empty again, so a client that reads costs nothing. While paused, each write measures the
    bytes in the send buffer (:func:`buffered_bytes`; where the transport does not show them,
    the bytes written since the pause):

    - past ``limit``, the exchange stops reading the client's requests (which could only make
      it send more: pongs, echoes) and looks again every :data:`SLOW_CONSUMER_GRACE` seconds:
      a client that read nothing meanwhile is dropped (it sees 1006); one that read some is
      given another period, and once the buffer is back under ``limit`` its requests are read
      again. A burst the exchange sends (a fault, a replay) to a client that reads it is
      delivered, however large;
    - past ``HARD_LIMIT_FACTOR`` times ``limit`` the client is dropped at once.

    :param protocol: the connection's protocol.
    :param limit: bytes the send buffer may hold before the client must show it reads.
    :param reactor: schedules the checks.
    """

    def __init__(self, protocol: ExchangeServerProtocol, limit: int, reactor: Any) -> None:
        self._protocol = protocol
        self._limit = limit
        self._reactor = reactor
        self.paused = False
        self.queued = 0
        self.throttled = False
        self.dropped = False
        self._check_call: Any = None
        self._checked_buffer = 0
        self._written_since_check = 0

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.queued = 0
        if self.throttled:
            self._unthrottle()

    def stopProducing(self) -> None:
        self.paused = False
        self._cancel_check()

    def _buffered(self) -> int:
        buffered = buffered_bytes(self._protocol.transport)
        return buffered if buffered is not None else self.queued

    def sent(self, count: int) -> None:
        """The exchange wrote ``count`` bytes to the connection."""
        if not self.paused or self.dropped:
            return
        self.queued += count
        self._written_since_check += count
        buffered = self._buffered()
        if buffered > self._limit * HARD_LIMIT_FACTOR:
            self._drop(buffered)
        elif buffered > self._limit and not self.throttled:
            self.throttled = True
            self._pause_reading(True)
            self._checked_buffer, self._written_since_check = buffered, 0
            self._check_call = self._reactor.callLater(SLOW_CONSUMER_GRACE, self._check)

    def _check(self) -> None:
        self._check_call = None
        if self.dropped or not self.throttled:
            return
        buffered = self._buffered()
        if buffered <= self._limit:
            self._unthrottle()
            return
        drained = self._checked_buffer + self._written_since_check - buffered
        if drained <= 0:
            self._drop(buffered)
            return
        self._checked_buffer, self._written_since_check = buffered, 0
        self._check_call = self._reactor.callLater(SLOW_CONSUMER_GRACE, self._check)

    def _unthrottle(self) -> None:
        self.throttled = False
        self._cancel_check()
        self._pause_reading(False)

    def _pause_reading(self, pause: bool) -> None:
        transport = self._protocol.transport
        method = getattr(transport, "pauseProducing" if pause else "resumeProducing", None)
        if method is not None:
            method()

    def _cancel_check(self) -> None:
        if self._check_call is not None and self._check_call.active():
            self._check_call.cancel()
        self._check_call = None

    def _drop(self, buffered: int) -> None:
        self.dropped = True
        self._cancel_check()
        log.warning(
            "dropping a client that does not read: %d bytes wait in its send buffer (limit %d)", buffered, self._limit
        )
        self._protocol.dropConnection(abort=True)


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
    :param receive_log: how much of what clients sent to keep; ``None`` keeps nothing.
    :param send_buffer_limit: bytes that may wait in a connection's send buffer before its
        client must show it reads or be dropped (:data:`SEND_BUFFER_LIMIT`, see
        :class:`SendBufferWatch`); ``None`` never drops.
    :param decoder: reads client frames (a :data:`bitfinex.protocol.codec.DECODERS` entry);
        ``None``: the installed one.
    """

    heartbeat_interval: Optional[float] = 15.0
    tick_interval: Optional[float] = 0.25
    limits: SessionLimits = field(default_factory=SessionLimits)
    connection_rate_limit: Optional[tuple[int, float]] = None
    receive_log: Optional[ReceiveLogLimits] = field(default_factory=ReceiveLogLimits)
    send_buffer_limit: Optional[int] = SEND_BUFFER_LIMIT
    decoder: Optional[Decoder] = None


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
    watch: Optional[SendBufferWatch] = None

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
            if self.watch is not None:
                self.watch.sent(len(data))

    def onConnect(self, request: Any) -> None:
        if not self.exchange.admit():
            raise ConnectionDeny(429, "Too Many Requests")  # type: ignore[no-untyped-call]

    def onOpen(self) -> None:
        limit = self.exchange.options.send_buffer_limit
        if limit is not None:
            self.watch = SendBufferWatch(self, limit, self.exchange.reactor)
            self.registerProducer(self.watch, True)
        self.connection = self.exchange.open_connection(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if self.connection is not None:
            self.exchange.receive(self.connection, payload, isBinary)

    def close_with(self, code: int, reason: str = "") -> None:
        """Start a closing handshake with any close code a server may send (1001 going away,
        1011, 1012...), which autobahn's ``sendClose`` reserves."""
        self.sendCloseFrame(code=code, reasonUtf8=reason.encode()[:123] or None, isReply=False)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.watch is not None:
            self.watch.stopProducing()
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
        self.log = ReceiveLog(options.receive_log)
        """What clients sent (bounded: :class:`ReceiveLogLimits`)."""
        self.connections_changed = threading.Condition()
        """Notified (from the reactor thread) whenever a connection opens or closes."""
        self._ids = itertools.count(1)
        self._handshakes: deque[float] = deque()
        self._held: list[tuple[Connection, bytes]] = []
        self._held_release: Any = None
        self._resume_call: Any = None
        self._cleanup_call: Any = None
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
        for call in (self._resume_call, self._held_release, self._cleanup_call):
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
        entry = self.log.open(connection_id, str(protocol.peer))

        def send(data: bytes) -> None:
            if not self.faults.silent:
                protocol.send_text(data)

        session: ServerSession
        if self.sessions is not None:
            session = self.sessions(send)
        else:
            session = ExchangeSession(
                self.venue, send, self.faults, self.options.limits, self.reactor.seconds, self.options.decoder
            )
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
        self.log.close(connection.log)
        try:
            connection.session.close()
        except Exception:
            log.exception("closing the session of connection %d failed", connection.connection_id)
        log.debug("connection %d closed", connection.connection_id)
        connection.lost.callback(None)
        if self._cleanup_call is not None and self._cleanup_call.active():
            self._cleanup_call.reset(CLEANUP_DELAY)
        elif self._port is not None:
            self._cleanup_call = self.reactor.callLater(CLEANUP_DELAY, self._clean_up)

    def _clean_up(self) -> None:
        """Return what closed connections left: protocol objects caught in reference cycles
        (collected now rather than at the next full collection) and the heap pages they held."""
        self._cleanup_call = None
        gc.collect()
        release_free_memory()

    def _connections_changed(self) -> None:
        with self.connections_changed:
            self.connections_changed.notify_all()

    def receive(self, connection: Connection, payload: bytes, is_binary: bool) -> None:
        """A message arrived: log it, then handle it (late or reordered if a fault says so)."""
        self.log.record(connection.log, payload, is_binary)
        if is_binary:
            connection.session.send_event(row("BINARY_FRAME").frame())
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
        return self.log.snapshot()
