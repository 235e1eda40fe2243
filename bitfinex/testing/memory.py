"""An in-memory network on a simulated clock: clients and the local exchange in one thread.

:class:`MemoryNetwork` is one Twisted reactor object that both a
:class:`~bitfinex.WssClient` and a :class:`~bitfinex.testing.LocalExchange` can be given
(``reactor=network``). Its TCP is in memory (``listenTCP`` registers a server factory,
``connectTCP`` joins the client's protocol to one the server's factory builds, over
:class:`twisted.test.iosim.FakeTransport`\\ s), its time is a
:class:`twisted.internet.task.Clock` that moves only when told to, and nothing runs until the
test says so. The real autobahn WebSocket handshake and frames run both ways, so the client and
the exchange behave exactly as over loopback, but every timer (reconnect backoff, heartbeat
watchdog, rate limits, the exchange's heartbeats) fires at its exact simulated time, instantly::

    from bitfinex import WssClient
    from bitfinex.testing import LocalExchange
    from bitfinex.testing.memory import MemoryNetwork

    network = MemoryNetwork()
    exchange = LocalExchange(key="k", secret="s", reactor=network, tick_interval=None,
                             heartbeat_interval=5.0, clock=network.clock_ms())
    exchange.start()
    client = WssClient("k", "s", url=exchange.url, reactor=network)
    client.subscribe_to_ticker("BTCUSD", print)
    client.start()
    network.run_until(lambda: exchange.connection_count == 1, 5.0, "the client connected")
    exchange.faults.drop_connections()
    network.advance(30.0)                       # 30 s of reconnecting, in no time
    network.run_until_fired(client.stop())      # stop() returns a Deferred with reactor=
    network.run_until_fired(exchange.stop())

Everything runs in the thread that calls :meth:`MemoryNetwork.pump`, :meth:`~MemoryNetwork.advance`
or :meth:`~MemoryNetwork.run_until`: the network is always "running", ``callWhenRunning`` runs at
once, and ``callFromThread`` (the client's way into its reactor) queues the call for the next
pump. An exception raised by a timer, a queued call or a protocol propagates out of those
methods (a real reactor would log it and go on): a test sees the bug where it happened.

Supported: TCP connect, accept, refuse (nothing listens), stalled connects that time out
(:meth:`MemoryNetwork.stall_connects`), clean close (``loseConnection``: buffered bytes are
delivered first, the peer sees ``ConnectionDone``), abort (``abortConnection``: buffered bytes
are discarded, the aborting side sees ``ConnectionAborted`` and the peer ``ConnectionLost``), a
cut cable (:meth:`MemoryConnection.sever`), ``stopListening``/``startListening`` on the port.
Bytes move with no latency: everything a write causes happens at the same simulated instant.
Not supported: UDP, UNIX sockets, ``reactor.connectSSL``/``listenSSL``, ``startTLS`` (TLS
layered by ``TLSMemoryBIOFactory``, as the client and exchange do, is plain bytes to this
network), threads (``callInThread``), name resolution, partial writes or back-pressure.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar, cast

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.base import DelayedCall
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IConnector, IListeningPort, IReactorFromThreads
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.test.iosim import FakeTransport
from zope.interface import implementer  # type: ignore[import-untyped]

T = TypeVar("T")

DEFAULT_MAX_ROUNDS = 10_000
"""Rounds :meth:`MemoryNetwork.pump` may take before it decides the network will never settle."""

FIRST_SERVER_PORT = 40_000
"""Where the fake ports ``listenTCP(0, ...)`` picks start."""
FIRST_CLIENT_PORT = 50_000
"""Where the fake ephemeral ports of client connections start."""
_LOOPBACK = frozenset(("127.0.0.1", "localhost", "::1"))
_WILDCARD = frozenset(("", "0.0.0.0", "::"))


@dataclass
class ConnectAttempt:
    """One ``connectTCP`` call, and what became of it.

    :param time: the simulated time of the call.
    :param host: the host asked for.
    :param port: the port asked for.
    :param outcome: ``"pending"`` until it is decided, then ``"connected"``, ``"refused"``
        (nothing listened), ``"timed out"`` (a stalled connect) or ``"cancelled"``
        (``stopConnecting``).
    :param decided_at: the simulated time of the outcome (``None`` while pending).
    """

    time: float
    host: str
    port: int
    outcome: str = "pending"
    decided_at: Optional[float] = None


class MemoryTransport(FakeTransport):
    """One side of an in-memory TCP connection: an iosim :class:`~twisted.test.iosim.FakeTransport`
    with the close semantics of a real TCP transport.

    ``loseConnection`` delivers what was written before closing; ``abortConnection`` discards it
    (as Twisted's TCP transport discards its write buffer). Neither side reads once it is
    closing. The network (:class:`MemoryConnection`) moves the bytes.

    :param protocol: the protocol this transport delivers bytes to.
    :param is_server: whether this is the accepting side.
    :param host: this side's address.
    :param peer: the other side's address.
    """

    aborted: bool = False
    """Whether this side called ``abortConnection``."""

    def __init__(self, protocol: Protocol, is_server: bool, host: IPv4Address, peer: IPv4Address) -> None:
        super().__init__(protocol, is_server, hostAddress=host, peerAddress=peer)  # type: ignore[no-untyped-call]
        self.host_address = host
        self.peer_address = peer

    def write(self, data: bytes) -> None:
        """Send ``data`` to the peer on the next pump (dropped once this side is closing)."""
        super().write(data)  # type: ignore[no-untyped-call]

    def loseConnection(self) -> None:
        """Close once what was written has been delivered."""
        super().loseConnection()  # type: ignore[no-untyped-call]

    def abortConnection(self) -> None:
        """Close at once, discarding whatever was written and not yet delivered."""
        self.aborted = True
        self.disconnecting = True
        self.stream = []

    def startTLS(self, contextFactory: Any, beNormal: bool = True) -> None:
        """Not supported: layer TLS with ``TLSMemoryBIOFactory`` instead.

        :raises NotImplementedError: always.
        """
        raise NotImplementedError("MemoryNetwork transports do not support startTLS; wrap the factory in TLSMemoryBIOFactory")

    def take_output(self) -> bytes:
        """Take the bytes written since the last call (none once aborted)."""
        if self.aborted:
            self.stream = []
            return b""
        data = self.getOutBuffer()  # type: ignore[no-untyped-call]
        return data if isinstance(data, bytes) else b""


class MemoryConnection:
    """One in-memory TCP connection between a client protocol and a server protocol.

    :param network: the network it runs on.
    :param connector: the client's connector.
    :param client: the client side's transport.
    :param server: the server side's transport.
    """

    def __init__(
        self, network: MemoryNetwork, connector: MemoryConnector, client: MemoryTransport, server: MemoryTransport
    ) -> None:
        self.network = network
        self.connector = connector
        self.client_transport = client
        self.server_transport = server
        self.opened_at = network.seconds()
        """Simulated time the connection was made."""
        self.closed_at: Optional[float] = None
        """Simulated time both sides saw it close (``None`` while open)."""
        self.bytes_to_server = 0
        """Bytes delivered from the client to the server so far."""
        self.bytes_to_client = 0
        """Bytes delivered from the server to the client so far."""
        self.last_to_server: Optional[float] = None
        """Simulated time bytes last reached the server."""
        self.last_to_client: Optional[float] = None
        """Simulated time bytes last reached the client."""
        self.client_reason: Optional[Failure] = None
        """What the client's ``connectionLost`` was given."""
        self.server_reason: Optional[Failure] = None
        """What the server's ``connectionLost`` was given."""

    def __repr__(self) -> str:
        state = "open" if self.is_open else f"closed at {self.closed_at}"
        return f"<MemoryConnection {self.client_transport.host_address.port}->{self.server_transport.host_address.port} {state}>"

    @property
    def client(self) -> Any:
        """The client side's protocol."""
        return self.client_transport.protocol

    @property
    def server(self) -> Any:
        """The server side's protocol."""
        return self.server_transport.protocol

    @property
    def is_open(self) -> bool:
        """Whether the connection has not closed yet (on both sides)."""
        return self.closed_at is None

    def sever(self) -> None:
        """Cut the cable: bytes in flight are lost, and both sides see ``ConnectionLost`` now."""
        if self.closed_at is not None:
            return
        for transport in (self.client_transport, self.server_transport):
            transport.stream = []
        lost = error.ConnectionLost("the network connection was severed")
        self._close(lost, lost)

    def pump(self) -> bool:
        """Move the bytes written on each side to the other, then close if a side is closing.

        :returns: whether anything happened.
        """
        if self.closed_at is not None:
            return False
        client, server = self.client_transport, self.server_transport
        client._checkProducer()  # type: ignore[no-untyped-call]
        server._checkProducer()  # type: ignore[no-untyped-call]
        to_server = client.take_output()
        to_client = server.take_output()
        now = self.network.seconds()
        if to_server and not server.disconnecting:
            self.bytes_to_server += len(to_server)
            self.last_to_server = now
            server.protocol.dataReceived(to_server)
        if to_client and not client.disconnecting:
            self.bytes_to_client += len(to_client)
            self.last_to_client = now
            client.protocol.dataReceived(to_client)
        if to_server or to_client:
            return True
        if client.disconnecting or server.disconnecting:
            self._close(self._reason(client, server), self._reason(server, client))
            return True
        return False

    @staticmethod
    def _reason(side: MemoryTransport, peer: MemoryTransport) -> Exception:
        if side.aborted:
            return error.ConnectionAborted()
        if side.disconnecting:
            return error.ConnectionDone()
        if peer.aborted:
            return error.ConnectionLost("connection reset by peer")
        return error.ConnectionDone()

    def _close(self, client_reason: Exception, server_reason: Exception) -> None:
        self.closed_at = self.network.seconds()
        client, server = self.client_transport, self.server_transport
        # The side that closed learns first, as over a real network.
        client_first = client.aborted or (client.disconnecting and not server.aborted)
        for transport in (client, server):
            transport.disconnecting = True
            transport.disconnected = True
        self.client_reason = _failure(client_reason)
        self.server_reason = _failure(server_reason)
        order = [self._client_lost, self._server_lost] if client_first else [self._server_lost, self._client_lost]
        try:
            order[0]()
        finally:
            order[1]()

    def _client_lost(self) -> None:
        assert self.client_reason is not None
        try:
            self.client_transport.protocol.connectionLost(self.client_reason)
        finally:
            self.connector._connection_lost(self.client_reason)

    def _server_lost(self) -> None:
        assert self.server_reason is not None
        self.server_transport.protocol.connectionLost(self.server_reason)


@implementer(IConnector)
class MemoryConnector:
    """What ``connectTCP`` returns: the client side's handle on one connection attempt.

    Its :attr:`state` is ``"connecting"``, ``"connected"`` or ``"disconnected"``, as Twisted's
    connectors.

    :param network: the network to connect on.
    :param host: the host to connect to.
    :param port: the port to connect to.
    :param factory: the client factory.
    :param timeout: seconds a (stalled) connect may take before it fails.
    """

    def __init__(self, network: MemoryNetwork, host: str, port: int, factory: ClientFactory, timeout: Optional[float]) -> None:
        self.network = network
        self.host = host
        self.port = port
        self.factory: Any = factory
        self.timeout = timeout
        self.state = "disconnected"
        self.attempt: Optional[ConnectAttempt] = None
        """The current (or last) attempt."""
        self.connection: Optional[MemoryConnection] = None
        """The connection, once made."""
        self._factory_started = False
        self._timeout_call: Optional[DelayedCall] = None

    def __repr__(self) -> str:
        return f"<MemoryConnector {self.host}:{self.port} {self.state}>"

    def connect(self) -> None:
        """Start connecting (again); the connection is made (or refused) on the next pump."""
        if self.state != "disconnected":
            raise RuntimeError(f"cannot connect a connector that is {self.state}")
        self.state = "connecting"
        self.connection = None
        self.attempt = ConnectAttempt(self.network.seconds(), self.host, self.port)
        self.network.connect_attempts.append(self.attempt)
        if not self._factory_started:
            self.factory.doStart()
            self._factory_started = True
        if self.timeout is not None:
            self._timeout_call = self.network.callLater(self.timeout, self._timed_out)
        self.factory.startedConnecting(self)
        self.network._queue_connect(self)

    def stopConnecting(self) -> None:
        """Give up a connect in progress; the factory hears ``clientConnectionFailed(UserError)``.

        :raises twisted.internet.error.NotConnectingError: if it is not connecting.
        """
        if self.state != "connecting":
            raise error.NotConnectingError("we're not trying to connect")
        self._fail(error.UserError(string="stopConnecting() was called"), "cancelled")  # type: ignore[no-untyped-call]

    def disconnect(self) -> None:
        """Stop connecting, or close the connection (cleanly)."""
        if self.state == "connecting":
            self.stopConnecting()
        elif self.connection is not None and self.connection.is_open:
            self.connection.client_transport.loseConnection()

    def getDestination(self) -> IPv4Address:
        """The address this connector connects to."""
        return IPv4Address("TCP", self.host, self.port)

    def _timed_out(self) -> None:
        self._timeout_call = None
        if self.state == "connecting":
            timeout = error.TimeoutError(string=f"connect to {self.host}:{self.port} timed out")  # type: ignore[no-untyped-call]
            self._fail(timeout, "timed out")

    def _cancel_timeout(self) -> None:
        if self._timeout_call is not None and self._timeout_call.active():
            self._timeout_call.cancel()
        self._timeout_call = None

    def _decide(self, outcome: str) -> None:
        if self.attempt is not None:
            self.attempt.outcome = outcome
            self.attempt.decided_at = self.network.seconds()

    def _fail(self, reason: Exception, outcome: str) -> None:
        self._cancel_timeout()
        self.state = "disconnected"
        self._decide(outcome)
        try:
            self.factory.clientConnectionFailed(self, _failure(reason))
        finally:
            self._stop_factory()

    def _connected(self, connection: MemoryConnection) -> None:
        self._cancel_timeout()
        self.state = "connected"
        self.connection = connection
        self._decide("connected")

    def _connection_lost(self, reason: Failure) -> None:
        self.state = "disconnected"
        try:
            self.factory.clientConnectionLost(self, reason)
        finally:
            self._stop_factory()

    def _stop_factory(self) -> None:
        if self._factory_started and self.state == "disconnected":
            self._factory_started = False
            self.factory.doStop()


@implementer(IListeningPort)
class MemoryPort:
    """What ``listenTCP`` returns: a port of the network that accepts connections while listening.

    :param network: the network it listens on.
    :param port: the port number.
    :param factory: builds the server protocol of each connection.
    :param interface: the interface it listens on (``""`` for every one).
    """

    def __init__(self, network: MemoryNetwork, port: int, factory: Factory, interface: str) -> None:
        self.network = network
        self.port = port
        self.factory: Any = factory
        self.interface = interface
        self.listening = False
        """Whether it accepts connections now."""

    def __repr__(self) -> str:
        return f"<MemoryPort {self.interface or '*'}:{self.port} {'listening' if self.listening else 'closed'}>"

    def startListening(self) -> None:
        """Accept connections (again, after :meth:`stopListening`).

        :raises twisted.internet.error.CannotListenError: if another port took the number meanwhile.
        """
        if self.listening:
            return
        taken = self.network.ports.get(self.port)
        if taken is not None and taken is not self and taken.listening:
            raise error.CannotListenError(self.interface, self.port, OSError("address already in use"))  # type: ignore[no-untyped-call]
        self.network.ports[self.port] = self
        self.factory.doStart()
        self.listening = True

    def stopListening(self) -> Deferred[None]:
        """Refuse new connections from now on; open connections stay open. Safe to call twice."""
        if self.listening:
            self.listening = False
            self.factory.doStop()
        return succeed(None)

    def getHost(self) -> IPv4Address:
        """The address it listens on (``getHost().port`` is the port number)."""
        return IPv4Address("TCP", self.interface or "0.0.0.0", self.port)


@implementer(IReactorFromThreads)
class MemoryNetwork(MemoryReactorClock):
    """A reactor whose TCP is in memory and whose clock moves only when told to.

    Give it as ``reactor=`` to clients and local exchanges alike; then move time with
    :meth:`advance`, :meth:`advance_to` or :meth:`run_until`, or just deliver what is
    pending with :meth:`pump`. Single-threaded: only ``callFromThread`` may be called from
    another thread.

    :param start: the simulated time to start at, in seconds.
    :param max_rounds: how many rounds :meth:`pump` may take at one instant before it fails
        (a protocol that answers itself forever would otherwise never return).
    """

    def __init__(self, start: float = 0.0, max_rounds: int = DEFAULT_MAX_ROUNDS) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.rightNow = float(start)
        self.running = True
        self.hasRun = True
        self.max_rounds = max_rounds
        self.ports: dict[int, MemoryPort] = {}
        """Every port ever listened on, by number (listening or not)."""
        self.connections: list[MemoryConnection] = []
        """Every connection made, open or closed, in order."""
        self.connect_attempts: list[ConnectAttempt] = []
        """Every ``connectTCP`` (and ``connector.connect()``), in order."""
        self._connecting: list[MemoryConnector] = []
        self._stalled: set[int] = set()
        self._from_threads: deque[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = deque()
        self._server_ports = itertools.count(FIRST_SERVER_PORT)
        self._client_ports = itertools.count(FIRST_CLIENT_PORT)

    def __repr__(self) -> str:
        return (
            f"<MemoryNetwork t={self.seconds()!r} open={len(self.open_connections)} "
            f"listening={sorted(p.port for p in self.ports.values() if p.listening)} timers={len(self.getDelayedCalls())}>"
        )

    # -- the reactor interfaces ---------------------------------------------------------------

    def run(self, installSignalHandlers: bool = False) -> None:
        """A memory network runs no loop of its own: it is always running, and moves when told to.

        :raises RuntimeError: always; call :meth:`pump`, :meth:`advance` or :meth:`run_until`.
        """
        raise RuntimeError("a MemoryNetwork runs no loop: call pump(), advance() or run_until() instead")

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``f(*args, **kwargs)`` on the next pump, in call order (thread-safe)."""
        self._from_threads.append((f, args, kwargs))

    def listenTCP(self, port: int, factory: Factory, backlog: int = 50, interface: str = "") -> MemoryPort:
        """Listen on a port of this network; ``port=0`` picks a free one (``getHost().port``).

        :raises twisted.internet.error.CannotListenError: if something listens on that port.
        """
        if port == 0:
            port = next(p for p in self._server_ports if p not in self.ports)
        listening = MemoryPort(self, port, factory, interface)
        listening.startListening()
        self.tcpServers.append((port, cast(Any, factory), backlog, interface))
        return listening

    def connectTCP(
        self, host: str, port: int, factory: ClientFactory, timeout: float = 30, bindAddress: Optional[tuple[str, int]] = None
    ) -> MemoryConnector:
        """Connect to a port of this network; the connection is made (or refused:
        ``clientConnectionFailed(ConnectionRefusedError)``) on the next pump."""
        connector = MemoryConnector(self, host, port, factory, timeout)
        self.tcpClients.append(cast(Any, (host, port, factory, timeout, bindAddress)))
        self.connectors.append(connector)
        connector.connect()
        return connector

    # -- faults and inspection ----------------------------------------------------------------

    @property
    def open_connections(self) -> list[MemoryConnection]:
        """The connections open now."""
        return [c for c in self.connections if c.is_open]

    def port(self, number: int) -> MemoryPort:
        """The port ``number`` was listened on with (to ``stopListening`` and ``startListening`` it).

        :raises KeyError: if nothing ever listened on it.
        """
        return self.ports[number]

    def stall_connects(self, port: int, stalled: bool = True) -> None:
        """Make connects to ``port`` hang, as to a host that drops packets: they neither succeed
        nor fail until their ``timeout`` (then ``clientConnectionFailed(TimeoutError)``).
        ``stalled=False`` lets new connects through again."""
        if stalled:
            self._stalled.add(port)
        else:
            self._stalled.discard(port)

    def clock_ms(self, start: int = 1_700_000_000_000) -> Callable[[], int]:
        """A clock in milliseconds since the epoch that follows the simulated time, for
        ``LocalExchange(clock=...)``: ``start`` at simulated time 0."""

        def now() -> int:
            return start + round(self.seconds() * 1000)

        return now

    # -- moving things along ------------------------------------------------------------------

    def pump(self, timings: Optional[Iterable[float]] = None) -> None:
        """Deliver everything that can happen now, without moving the clock: queued
        ``callFromThread`` calls, due timers, pending connects, and the bytes of every
        connection both ways, round after round until nothing moves.

        :param timings: as :meth:`twisted.internet.task.Clock.pump`: advance by each of these
            amounts in turn (with :meth:`advance`) instead.
        :raises AssertionError: if things still move after :attr:`max_rounds` rounds.
        """
        if timings is not None:
            for amount in timings:
                self.advance(amount)
            return
        for _ in range(self.max_rounds):
            if not self._round():
                return
        raise AssertionError(
            f"the network did not settle at t={self.seconds()!r} after {self.max_rounds} rounds "
            f"(something answers itself forever?): {self!r}"
        )

    def advance(self, amount: float, step: Optional[float] = None) -> None:
        """Move the clock ``amount`` seconds ahead, stopping at each moment a timer is due (and
        every ``step`` seconds, if given), pumping at each, so timers fire in order and at
        exactly their time."""
        if amount < 0:
            raise ValueError(f"cannot move the clock back (advance({amount!r}))")
        self.advance_to(self.seconds() + amount, step)

    def advance_to(self, when: float, step: Optional[float] = None) -> None:
        """Move the clock to exactly ``when`` (simulated seconds) as :meth:`advance` does.

        :raises ValueError: if ``when`` is in the past.
        """
        if when < self.seconds():
            raise ValueError(f"cannot move the clock back from {self.seconds()!r} to {when!r}")
        for _ in self._instants(when, step):
            pass

    def run_until(
        self, predicate: Callable[[], object], max_seconds: float = 60.0, what: Optional[str] = None,
        step: Optional[float] = None,
    ) -> float:
        """Move the clock as :meth:`advance` does until ``predicate()`` is true; return the
        simulated time when it first was (checked after each pump, so that is exact).

        :param max_seconds: how much simulated time it may take.
        :param what: what is awaited, for the failure message (the predicate's name by default).
        :raises AssertionError: if it is still false ``max_seconds`` later.
        """
        deadline = self.seconds() + max_seconds
        for now in self._instants(deadline, step):
            if predicate():
                return now
        description = what or getattr(predicate, "__qualname__", repr(predicate))
        raise AssertionError(f"{description} did not happen within {max_seconds} s of simulated time (now {self!r})")

    def run_until_fired(self, deferred: Optional[Deferred[T]], max_seconds: float = 60.0) -> Optional[T]:
        """Run until ``deferred`` fires; return its result (or raise its failure). ``None``
        (what a call that had nothing to wait for returns) returns ``None`` at once.

        :raises AssertionError: if it has not fired within ``max_seconds`` of simulated time.
        """
        if deferred is None:
            return None
        outcome: list[Any] = []

        def done(result: Any) -> None:
            outcome.append(result)

        deferred.addBoth(done)
        self.run_until(lambda: outcome, max_seconds, f"the Deferred {deferred!r} firing")
        result = outcome[0]
        if isinstance(result, Failure):
            result.raiseException()
        return result  # type: ignore[no-any-return]

    # -- internals ----------------------------------------------------------------------------

    def _instants(self, until: float, step: Optional[float]) -> Iterator[float]:
        """Pump now, then jump from one due timer (or step) to the next up to ``until``,
        pumping at each; yield the time after each pump."""
        if step is not None and step <= 0:
            raise ValueError(f"step must be positive, got {step!r}")
        self.pump()
        yield self.rightNow
        while self.rightNow < until:
            when = until
            upcoming = self._next_timer()
            if upcoming is not None and upcoming < when:
                when = upcoming
            if step is not None and self.rightNow + step < when:
                when = self.rightNow + step
            self.rightNow = max(self.rightNow, when)
            self.pump()
            yield self.rightNow

    def _next_timer(self) -> Optional[float]:
        times = [call.getTime() for call in self.calls if call.active()]
        return min(times) if times else None

    def _round(self) -> bool:
        moved = self._run_from_threads()
        moved = self._run_due_timers() or moved
        moved = self._complete_connects() or moved
        for connection in self.open_connections:
            moved = connection.pump() or moved
        return moved

    def _run_from_threads(self) -> bool:
        count = len(self._from_threads)
        for _ in range(count):
            f, args, kwargs = self._from_threads.popleft()
            f(*args, **kwargs)
        return count > 0

    def _run_due_timers(self) -> bool:
        now = self.rightNow
        due = [call for call in self.calls if call.getTime() <= now]
        ran = False
        for call in sorted(due, key=lambda c: c.getTime()):  # stable: ties run in scheduling order
            if not call.active() or call.getTime() > now:
                continue  # cancelled or pushed back by an earlier call of this batch
            self.calls.remove(call)
            call.called = 1
            ran = True
            call.func(*call.args, **call.kw)
        return ran

    def _queue_connect(self, connector: MemoryConnector) -> None:
        self._connecting.append(connector)

    def _complete_connects(self) -> bool:
        waiting, self._connecting = self._connecting, []
        moved = False
        for connector in waiting:
            if connector.state != "connecting":
                continue  # stopped meanwhile
            if connector.port in self._stalled:
                continue  # the connect timeout decides
            moved = True
            self._establish(connector)
        return moved

    def _listening(self, port: int) -> Optional[MemoryPort]:
        listening = self.ports.get(port)
        return listening if listening is not None and listening.listening else None

    def _accepts(self, listening: MemoryPort, host: str) -> bool:
        interface = listening.interface
        return interface in _WILDCARD or interface == host or (interface in _LOOPBACK and host in _LOOPBACK)

    def _establish(self, connector: MemoryConnector) -> None:
        host, port = connector.host, connector.port
        listening = self._listening(port)
        if listening is None or not self._accepts(listening, host):
            refused = error.ConnectionRefusedError(string=f"nothing listens on {host}:{port} (memory network)")  # type: ignore[no-untyped-call]
            connector._fail(refused, "refused")
            return
        client_address = IPv4Address("TCP", "127.0.0.1" if host in _LOOPBACK else host, next(self._client_ports))
        server_address = IPv4Address("TCP", host, port)
        server_protocol: Any = listening.factory.buildProtocol(client_address)
        if server_protocol is None:
            refused = error.ConnectionRefusedError(string=f"the server on port {port} built no protocol")  # type: ignore[no-untyped-call]
            connector._fail(refused, "refused")
            return
        client_protocol: Any = connector.factory.buildProtocol(server_address)
        refused_by_client = client_protocol is None
        if client_protocol is None:
            client_protocol = Protocol()  # as Twisted does: connect, then close at once
        server = MemoryTransport(server_protocol, True, server_address, client_address)
        client = MemoryTransport(client_protocol, False, client_address, server_address)
        connection = MemoryConnection(self, connector, client, server)
        self.connections.append(connection)
        connector._connected(connection)
        server_protocol.makeConnection(server)
        client_protocol.makeConnection(client)
        if refused_by_client:
            client.loseConnection()


def _failure(reason: Exception) -> Failure:
    return Failure(reason)  # type: ignore[no-untyped-call]
