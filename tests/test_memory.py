"""Exact tests of ``WssClient``'s timers against the local exchange, both on one
:class:`~bitfinex.testing.memory.MemoryNetwork`: one thread, no sockets, no wall clock.

Every timer of the client (reconnect backoff, connection-rate limits, the heartbeat watchdog,
the unanswered-request check, the calc throttle) and of the exchange (heartbeats, delayed acks,
silences, seen by a bare WebSocket client where the client's view would hide them) fires at its
exact simulated time, so these tests pin times to the float (or, where a delay is
computed as a difference, to the microsecond) instead of "within N s", and prove that something
did *not* happen by looking at a precise instant instead of waiting.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Optional

import pytest
from twisted.internet import error
from twisted.internet.protocol import ClientFactory, Factory, Protocol, connectionDone
from twisted.python.failure import Failure

from bitfinex import WssClient
from bitfinex.protocol import status as st
from bitfinex.testing import LocalExchange
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS
from bitfinex.testing.memory import MemoryNetwork
from bitfinex.transport.link import CONNECT_TIMEOUT

from helpers import KEY, SECRET, RawClient, is_event

HAIR = 1e-6
"""How much earlier than its time a timer is checked not to have fired (a microsecond)."""
BTCUSD = DEFAULT_INSTRUMENTS[0]
"""The one instrument these exchanges list (building six markets' history costs 0.3 s each)."""


def ignore(message: Any) -> None:
    """A callback for subscriptions whose messages do not matter."""


class Statuses:
    """Status events of one client, each with the simulated time it was reported at."""

    def __init__(self, network: MemoryNetwork) -> None:
        self.network = network
        self.events: list[tuple[float, st.StatusEvent]] = []

    def __call__(self, event: st.StatusEvent) -> None:
        self.events.append((self.network.seconds(), event))

    def of(self, kind: str, connection: Optional[str] = None) -> list[tuple[float, st.StatusEvent]]:
        """The events of one kind (on one connection), in order."""
        return [(t, e) for t, e in self.events if e.kind == kind and (connection is None or e.connection == connection)]

    def last(self, kind: str, connection: Optional[str] = None) -> tuple[float, st.StatusEvent]:
        """The latest event of one kind."""
        found = self.of(kind, connection)
        assert found, f"no {kind} event in {[e.describe() for _, e in self.events]}"
        return found[-1]

    def count(self, kind: str, connection: Optional[str] = None) -> int:
        """How many events of one kind there were."""
        return len(self.of(kind, connection))


class Sim:
    """One memory network and the exchanges and clients of a test, all stopped at teardown."""

    def __init__(self) -> None:
        self.network = MemoryNetwork()
        self.exchanges: list[LocalExchange] = []
        self.clients: list[WssClient] = []

    def exchange(self, **options: Any) -> LocalExchange:
        """Start a local exchange on the network: one instrument, a still market, heartbeats
        every second, and a venue clock that follows the simulated time."""
        settings: dict[str, Any] = {
            "key": KEY, "secret": SECRET, "reactor": self.network, "instruments": [BTCUSD],
            "tick_interval": None, "heartbeat_interval": 1.0, "clock": self.network.clock_ms(),
        }
        settings.update(options)
        exchange = LocalExchange(**settings)
        self.exchanges.append(exchange)
        exchange.start()
        return exchange

    def client(self, url: str, **options: Any) -> tuple[WssClient, Statuses]:
        """Make a client on the network (not started) and the recorder of its status events."""
        statuses = Statuses(self.network)
        settings: dict[str, Any] = {
            "key": KEY, "secret": SECRET, "url": url, "reactor": self.network, "status_callback": statuses,
        }
        settings.update(options)
        client = WssClient(**settings)
        self.clients.append(client)
        return client, statuses

    def close(self) -> None:
        """Stop every client (its Deferred fires once its sockets are closed), then every
        exchange; nothing may stay connected."""
        for client in self.clients:
            self.network.run_until_fired(client.stop())
        for exchange in self.exchanges:
            self.network.run_until_fired(exchange.stop())
        assert not self.network.open_connections


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"time.sleep({seconds!r}) on a memory network: move the simulated clock instead")


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """A fresh memory network, everything on it shut down at teardown. The test may not
    sleep, start a thread or import Twisted's global reactor."""
    monkeypatch.setattr(time, "sleep", no_sleep)
    threads = set(threading.enumerate())
    global_reactor = "twisted.internet.reactor" in sys.modules
    simulation = Sim()
    yield simulation
    simulation.close()
    assert set(threading.enumerate()) <= threads
    assert global_reactor or "twisted.internet.reactor" not in sys.modules


def inputs(exchange: LocalExchange, operation: str) -> list[tuple[int, Any]]:
    """``(connection_id, payload)`` of every ``[0, operation, null, payload]`` the exchange received."""
    return [(f.connection_id, f.frame[3]) for f in exchange.received_inputs(operation)]


def events_received(exchange: LocalExchange, name: str) -> list[tuple[int, dict[str, Any]]]:
    """``(connection_id, event)`` of every ``{"event": name, ...}`` the exchange received."""
    return [
        (f.connection_id, f.frame)
        for entry in exchange.received
        for f in entry.frames
        if isinstance(f.frame, dict) and f.frame.get("event") == name
    ]


def counted(statuses: Statuses, kind: str, count: int) -> Callable[[], bool]:
    """A predicate: ``count`` status events of ``kind`` were reported."""
    return lambda: statuses.count(kind) == count


def received_count(exchange: LocalExchange, operation: str, count: int) -> Callable[[], bool]:
    """A predicate: the exchange received ``count`` inputs ``operation``."""
    return lambda: len(inputs(exchange, operation)) == count


def place_order(client: WssClient) -> int:
    """A resting buy far below the market; return its cid."""
    cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
    assert cid is not None
    return cid


def next_tick(opened: float, period: float, after: float) -> float:
    """The first tick of a watchdog started at ``opened`` (every ``period``) at or after ``after``."""
    return opened + math.ceil((after - opened) / period) * period


# -- the harness itself ---------------------------------------------------------------------


class Echo(Protocol):
    """Echoes every byte back (forever, between two of them)."""

    def dataReceived(self, data: bytes) -> None:
        transport: Any = self.transport
        transport.write(data)


class Recorder(Protocol):
    """Records what it receives and why it lost its connection."""

    def __init__(self) -> None:
        self.received = b""
        self.lost: Optional[Failure] = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = reason


class RecordingClientFactory(ClientFactory):
    """A client factory that keeps its protocol and the reason a connect failed."""

    def __init__(self) -> None:
        self.built: Optional[Recorder] = None
        self.failed: Optional[Failure] = None

    def buildProtocol(self, addr: Any) -> Recorder:
        self.built = Recorder()
        return self.built

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self.failed = reason


def test_connect_refuse_queue_and_close_semantics() -> None:
    """Connects complete on the next pump, refusals say ConnectionRefusedError, thread calls
    wait for the pump, a clean close delivers buffered bytes and an abort discards them, and
    both sides always see connectionLost."""
    network = MemoryNetwork(start=5.0)
    servers: list[Recorder] = []

    def build(addr: Any) -> Recorder:
        servers.append(Recorder())
        return servers[-1]

    factory = Factory()
    factory.buildProtocol = build  # type: ignore[method-assign]
    port = network.listenTCP(0, factory, interface="127.0.0.1")
    assert network.listenTCP(0, Factory()).getHost().port != port.getHost().port

    refused = RecordingClientFactory()
    network.connectTCP("127.0.0.1", 1, refused)
    assert network.connect_attempts[-1].outcome == "pending"  # decided on the next pump, not inside connectTCP
    network.pump()
    assert refused.failed is not None and isinstance(refused.failed.value, error.ConnectionRefusedError)
    assert network.connect_attempts[-1].outcome == "refused"

    calls: list[float] = []
    network.callFromThread(lambda: calls.append(network.seconds()))
    assert calls == []
    client = RecordingClientFactory()
    network.connectTCP("localhost", port.getHost().port, client)
    network.pump()
    assert calls == [5.0]
    (connection,) = network.open_connections
    assert client.built is not None and servers[0].transport is not None
    assert str(connection.server.transport.getPeer().host) == "127.0.0.1"

    connection.client_transport.write(b"hello")
    connection.client_transport.loseConnection()
    network.pump()
    assert servers[0].received == b"hello"  # delivered before the close
    assert client.built.lost is not None and isinstance(client.built.lost.value, error.ConnectionDone)
    assert servers[0].lost is not None and isinstance(servers[0].lost.value, error.ConnectionDone)

    client2 = RecordingClientFactory()
    network.connectTCP("127.0.0.1", port.getHost().port, client2)
    network.pump()
    assert client2.built is not None
    aborted = network.open_connections[0].server_transport
    aborted.write(b"lost")
    aborted.abortConnection()
    network.pump()
    assert client2.built.received == b""  # an abort discards what was not delivered yet
    assert servers[1].lost is not None and isinstance(servers[1].lost.value, error.ConnectionAborted)
    assert client2.built.lost is not None and isinstance(client2.built.lost.value, error.ConnectionLost)
    assert not network.open_connections

    port.stopListening()
    network.connectTCP("127.0.0.1", port.getHost().port, refused)
    network.pump()
    assert network.connect_attempts[-1].outcome == "refused"
    assert network.seconds() == 5.0  # nothing of this moved the clock


def test_pump_is_bounded_and_run_until_says_what_did_not_happen() -> None:
    """Two protocols echoing each other forever make pump() fail instead of hanging; a
    predicate that never holds fails run_until() with its description."""
    network = MemoryNetwork(max_rounds=50)
    network.listenTCP(7, Factory.forProtocol(Echo))
    factory: Any = ClientFactory.forProtocol(Echo)
    network.connectTCP("127.0.0.1", 7, factory)
    network.pump()
    network.open_connections[0].client.transport.write(b"ping")
    with pytest.raises(AssertionError, match="did not settle"):
        network.pump()
    network.open_connections[0].sever()

    with pytest.raises(AssertionError, match=r"the moon turning blue did not happen within 3\.5 s"):
        network.run_until(lambda: False, 3.5, "the moon turning blue")
    assert network.seconds() == 3.5


# -- reconnecting ---------------------------------------------------------------------------


def drop_and_check_retry(sim: Sim, exchange: LocalExchange, statuses: Statuses, attempt: int, ceiling: float) -> None:
    """Drop the client's connection; check its next attempt is number ``attempt`` with a delay
    in ``[ceiling / 2, ceiling]``, and that it connects exactly that delay later, not a hair
    earlier."""
    network = sim.network
    retries = statuses.count(st.RECONNECTING)
    assert exchange.faults.drop_connections() == 1
    network.pump()
    assert statuses.count(st.RECONNECTING) == retries + 1
    when, event = statuses.last(st.RECONNECTING)
    assert when == network.seconds()
    assert event.attempt == attempt
    assert event.delay is not None and ceiling / 2 <= event.delay <= ceiling
    due = when + event.delay
    made = len(network.connect_attempts)
    network.advance_to(due - HAIR)
    assert len(network.connect_attempts) == made, f"attempt {attempt} came before its {event.delay} s"
    network.advance_to(due)
    assert len(network.connect_attempts) == made + 1
    assert network.connect_attempts[-1].time == due
    assert network.connect_attempts[-1].outcome == "connected"
    assert statuses.last(st.CONNECTED)[0] == due


def test_reconnect_backoff_is_exact_grows_to_the_cap_and_starts_over_after_10_s_up(sim: Sim) -> None:
    exchange = sim.exchange(heartbeat_interval=5.0)
    client, statuses = sim.client(exchange.url, reconnect_base=1.0, reconnect_cap=4.0, heartbeat_timeout=None)
    client.subscribe_to_ticker("BTCUSD", ignore)
    client.start()
    sim.network.pump()
    assert [t for t, _ in statuses.of(st.CONNECTED)] == [0.0]

    # Dropped as soon as each reconnect succeeds: attempt n waits up to min(cap, base * 2**(n-1)).
    for attempt, ceiling in enumerate([1.0, 2.0, 4.0, 4.0, 4.0], start=1):
        drop_and_check_retry(sim, exchange, statuses, attempt, ceiling)

    sim.network.advance(9.5)  # up 9.5 s: not stable yet, the count goes on
    drop_and_check_retry(sim, exchange, statuses, 6, 4.0)
    # Up exactly 10 s (the first float instant at which now - opened >= 10): the backoff starts over.
    opened = statuses.last(st.CONNECTED)[0]
    stable = opened + 10.0
    while stable - opened < 10.0:  # opened + 10.0 may round below it
        stable = math.nextafter(stable, math.inf)
    sim.network.advance_to(stable)
    drop_and_check_retry(sim, exchange, statuses, 1, 1.0)
    assert statuses.count(st.RESUBSCRIBED) == 7


def test_auth_connection_reconnects_at_most_5_times_per_15_s(sim: Sim) -> None:
    exchange = sim.exchange()
    client, statuses = sim.client(exchange.url, reconnect_base=0.1, reconnect_cap=0.2)
    client.authenticate()
    client.start()
    network = sim.network
    for connected in range(1, 6):
        network.run_until(counted(statuses, st.AUTHENTICATED, connected), 1.0, f"authentication #{connected}")
        exchange.faults.drop_connections()
    network.pump()
    attempts = network.connect_attempts
    first = attempts[0].time
    assert first == 0.0 and len(attempts) == 5
    retry_time, retry = statuses.last(st.RECONNECTING)
    assert retry.attempt == 5 and retry.delay is not None and retry_time + retry.delay < 1.0  # due long before the window allows

    network.advance_to(first + 15.0 - 0.001)
    assert len(attempts) == 5
    sixth = network.run_until(lambda: len(attempts) == 6, 1.0, "the 6th attempt")
    assert round(sixth - first, 3) == 15.0
    assert statuses.last(st.AUTHENTICATED)[0] == sixth

    # A sliding window: the 7th may go as soon as the 2nd attempt is 15 s old.
    exchange.faults.drop_connections()
    network.pump()
    retry_time, retry = statuses.last(st.RECONNECTING)
    assert retry.delay is not None
    seventh = network.run_until(lambda: len(attempts) == 7, 1.0, "the 7th attempt")
    assert abs(seventh - max(retry_time + retry.delay, attempts[1].time + 15.0)) < 1e-9


def test_a_stalled_connect_times_out_after_the_connect_timeout(sim: Sim) -> None:
    exchange = sim.exchange()
    sim.network.stall_connects(exchange.port)
    client, statuses = sim.client(exchange.url, reconnect_base=1.0)
    client.subscribe_to_ticker("BTCUSD", ignore)
    sim.network.advance(0.25)
    client.start()
    failed_at = sim.network.run_until(lambda: statuses.count(st.DISCONNECTED) == 1, 60.0, "the connect timing out")
    assert failed_at == 0.25 + CONNECT_TIMEOUT
    assert "TimeoutError" in statuses.last(st.DISCONNECTED)[1].reason
    assert sim.network.connect_attempts[0].outcome == "timed out"
    sim.network.stall_connects(exchange.port, False)
    sim.network.run_until(lambda: statuses.count(st.SUBSCRIBED) == 1, 1.0, "the retry subscribing")


# -- the watchdog ---------------------------------------------------------------------------


def test_heartbeat_watchdog_pings_at_half_the_timeout_and_reconnects_at_the_timeout(sim: Sim) -> None:
    timeout = 4.0
    period = timeout / 4  # how often the watchdog looks
    exchange = sim.exchange(heartbeat_interval=1.0)  # heartbeats at multiples of 0.2 s
    client, statuses = sim.client(exchange.url, heartbeat_timeout=timeout)
    client.subscribe_to_ticker("BTCUSD", ignore)
    network = sim.network
    network.advance(0.5)  # the watchdog's ticks (0.5 + k) never coincide with a heartbeat
    client.start()
    network.advance(10.0)  # heartbeats keep it alive: no probe, no reconnect
    (connection,) = network.open_connections
    opened = connection.opened_at
    assert opened == 0.5 and events_received(exchange, "ping") == []

    exchange.faults.go_silent()
    last_frame = connection.last_to_client
    assert last_frame is not None and last_frame <= network.seconds()
    noticed = next_tick(opened, period, last_frame)  # the tick that saw the last frame
    assert noticed != last_frame
    probe_at, dead_at = noticed + timeout / 2, noticed + timeout

    network.advance_to(probe_at - period / 2)
    assert events_received(exchange, "ping") == []
    network.advance_to(probe_at)
    pings = events_received(exchange, "ping")
    assert len(pings) == 1 and pings[0][0] == 1
    assert last_frame + timeout / 2 <= probe_at < last_frame + timeout / 2 + period

    network.advance_to(dead_at - period / 2)
    assert statuses.count(st.DISCONNECTED) == 0 and exchange.connection_count == 1
    assert len(events_received(exchange, "ping")) == 1  # one probe, not one per tick
    network.advance_to(dead_at)
    when, event = statuses.last(st.DISCONNECTED)
    assert when == dead_at and event.reason == f"no frame for {timeout} s (heartbeat timeout)"
    assert exchange.connection_count == 0
    assert last_frame + timeout <= dead_at < last_frame + timeout + period

    exchange.faults.resume()
    network.run_until(lambda: statuses.count(st.RESUBSCRIBED) == 1, 2.0, "the ticker resubscribed")


def test_an_unanswered_subscribe_reconnects_after_the_heartbeat_timeout(sim: Sim) -> None:
    timeout = 4.0
    exchange = sim.exchange(heartbeat_interval=1.0)
    client, statuses = sim.client(exchange.url, heartbeat_timeout=timeout)
    client.subscribe_to_ticker("BTCUSD", ignore)
    network = sim.network
    network.advance(0.5)
    client.start()
    network.advance_to(3.25)
    exchange.faults.delay_acks(1000.0)  # heartbeats of the ticker keep flowing
    client.subscribe_to_trades("BTCUSD", ignore)
    network.pump()
    asked = network.seconds()
    assert [e["channel"] for _, e in events_received(exchange, "subscribe")] == ["ticker", "trades"]

    dead_at = next_tick(0.5, timeout / 4, asked + timeout)
    network.advance_to(dead_at - HAIR)
    assert statuses.count(st.DISCONNECTED) == 0
    network.advance_to(dead_at)
    when, event = statuses.last(st.DISCONNECTED)
    assert (when, event.reason) == (7.5, f"no answer to a request for {dead_at - asked:.1f} s")
    assert events_received(exchange, "ping") == []  # never silent: no probe was needed

    exchange.faults.delay_acks(0)
    network.run_until(lambda: statuses.count(st.SUBSCRIBED) == 2, 2.0, "trades subscribed after the reconnect")
    assert statuses.count(st.RESUBSCRIBED) == 1


def test_an_unanswered_auth_reconnects_after_the_heartbeat_timeout(sim: Sim) -> None:
    timeout = 4.0
    exchange = sim.exchange()
    exchange.faults.delay_acks(1000.0)
    client, statuses = sim.client(exchange.url, heartbeat_timeout=timeout)
    client.authenticate()
    network = sim.network
    network.advance(0.5)
    client.start()
    network.pump()
    assert [c for c, _ in events_received(exchange, "auth")] == [1]

    network.advance_to(0.5 + timeout - HAIR)
    assert statuses.count(st.DISCONNECTED) == 0
    network.advance_to(0.5 + timeout)
    when, event = statuses.last(st.DISCONNECTED, "auth")
    assert (when, event.reason) == (4.5, "no answer to a request for 4.0 s")

    exchange.faults.delay_acks(0)
    authenticated = network.run_until(lambda: statuses.count(st.AUTHENTICATED) == 1, 2.0, "authentication")
    _, retry = statuses.last(st.RECONNECTING)
    assert retry.delay is not None and authenticated == 4.5 + retry.delay
    assert [c for c, _ in events_received(exchange, "auth")] == [1, 2]


def test_a_lost_unsubscribed_answer_is_recovered_like_a_lost_subscribed(sim: Sim) -> None:
    timeout = 4.0
    exchange = sim.exchange(heartbeat_interval=1.0)
    client, _ = sim.client(exchange.url, heartbeat_timeout=timeout)
    client.subscribe_to_ticker("BTCUSD", ignore)
    trades = client.subscribe_to_trades("BTCUSD", ignore)
    client.start()
    network = sim.network
    network.advance(1.0)
    exchange.faults.go_silent(0.1)  # the exchange handles the unsubscribe; its answer is lost
    client.unsubscribe(trades)
    network.pump()
    assert events_received(exchange, "unsubscribe") != []
    network.run_until(lambda: client.subscriptions == ["ticker_tBTCUSD"], timeout + timeout / 4 + 1.0, "trades released")


# -- orders ---------------------------------------------------------------------------------


def authenticated_client(sim: Sim, exchange: LocalExchange, **options: Any) -> tuple[WssClient, Statuses, list[Any]]:
    """A started client whose auth connection is up; also returns its auth messages."""
    messages: list[Any] = []
    client, statuses = sim.client(exchange.url, **options)
    client.authenticate(messages.append)
    client.start()
    sim.network.run_until(lambda: statuses.count(st.AUTHENTICATED) == 1, 1.0, "authentication")
    return client, statuses, messages


def test_maintenance_holds_orders_until_20061_then_writes_them_once(sim: Sim) -> None:
    exchange = sim.exchange()
    client, statuses, _ = authenticated_client(sim, exchange)
    network = sim.network
    exchange.faults.send_info(20060)
    network.pump()
    assert statuses.count(st.PAUSED, "auth") == 1

    cid = place_order(client)
    network.advance(30.0)  # heartbeats flow; the order waits
    assert inputs(exchange, "on") == []
    assert exchange.account_state().orders == []

    exchange.faults.send_info(20061)
    resumed_at = network.seconds()
    network.pump()  # the client reads 20061 and writes the order, all at this instant
    assert statuses.last(st.RESUMED, "auth")[0] == resumed_at
    assert [(c, p["cid"]) for c, p in inputs(exchange, "on")] == [(1, cid)]
    network.advance(60.0)
    assert len(inputs(exchange, "on")) == 1
    assert [o[2] for o in exchange.account_state().orders] == [cid]
    assert statuses.count(st.ORDER_UNCONFIRMED) == statuses.count(st.ORDER_NOT_SENT) == 0


def test_an_order_written_as_the_socket_dies_is_unconfirmed_and_never_resent(sim: Sim) -> None:
    exchange = sim.exchange()
    client, statuses, _ = authenticated_client(sim, exchange)
    network = sim.network
    exchange.faults.drop_connections()  # the exchange aborts; the client has not noticed yet
    cid = place_order(client)
    network.pump()  # the client writes the order into its socket, which then dies
    (_, unconfirmed), = statuses.of(st.ORDER_UNCONFIRMED)
    assert unconfirmed.cid == cid and unconfirmed.connection == "auth"
    assert inputs(exchange, "on") == []  # it was lost in flight

    network.run_until(lambda: statuses.count(st.AUTHENTICATED) == 2, 2.0, "re-authentication")
    network.advance(60.0)
    assert inputs(exchange, "on") == []  # at most once: never written again
    assert exchange.account_state().orders == []


def test_an_order_that_arrived_unanswered_is_unconfirmed_and_never_resent(sim: Sim) -> None:
    exchange = sim.exchange()
    client, statuses, _ = authenticated_client(sim, exchange)
    network = sim.network
    exchange.faults.delay_acks(30.0)
    cid = place_order(client)
    network.pump()
    assert [(c, p["cid"]) for c, p in inputs(exchange, "on")] == [(1, cid)]  # arrived, not answered
    assert statuses.count(st.ORDER_UNCONFIRMED) == 0

    exchange.faults.drop_connections()
    network.pump()
    (_, unconfirmed), = statuses.of(st.ORDER_UNCONFIRMED)
    assert unconfirmed.cid == cid
    exchange.faults.delay_acks(0)
    network.run_until(lambda: statuses.count(st.AUTHENTICATED) == 2, 2.0, "re-authentication")
    network.advance(60.0)  # past the delayed handling, which the closed connection skips
    assert [(c, p["cid"]) for c, p in inputs(exchange, "on")] == [(1, cid)]
    assert exchange.account_state().orders == []


def test_an_order_queued_while_disconnected_is_written_once_after_reauthentication(sim: Sim) -> None:
    exchange = sim.exchange()
    client, statuses, messages = authenticated_client(sim, exchange, reconnect_base=2.0)
    network = sim.network
    exchange.faults.drop_connections()
    network.pump()
    retry_time, retry = statuses.last(st.RECONNECTING, "auth")
    cid = place_order(client)
    network.pump()
    assert inputs(exchange, "on") == []

    assert retry.delay is not None
    network.advance_to(retry_time + retry.delay - HAIR)
    assert inputs(exchange, "on") == []
    network.advance_to(retry_time + retry.delay)
    assert statuses.last(st.AUTHENTICATED)[0] == retry_time + retry.delay
    assert [(c, p["cid"]) for c, p in inputs(exchange, "on")] == [(2, cid)]
    network.advance(60.0)
    assert len(inputs(exchange, "on")) == 1
    assert statuses.count(st.ORDER_UNCONFIRMED) == statuses.count(st.ORDER_NOT_SENT) == 0
    requests = [m for m in messages if isinstance(m, list) and m[1] == "n" and m[2][1] == "on-req"]
    assert [(n[2][4][2], n[2][6]) for n in requests] == [(cid, "SUCCESS")]


def test_calc_throttle_sends_20_names_as_8_8_4_one_second_apart(sim: Sim) -> None:
    exchange = sim.exchange()
    client, _, _ = authenticated_client(sim, exchange)
    network = sim.network
    network.advance_to(1.5)
    names = ["balance", "margin_base", "margin_sym_tBTCUSD", "position_tBTCUSD", "wallet_exchange_USD"] * 4
    client.calc(names)
    sent: list[tuple[float, int]] = []
    for batches in (1, 2, 3):
        when = network.run_until(received_count(exchange, "calc", batches), 2.0, f"calc message #{batches}")
        sent.append((when, len(inputs(exchange, "calc")[-1][1])))
    assert sent == [(1.5, 8), (2.5, 8), (3.5, 4)]
    network.advance(10.0)
    assert [name for _, payload in inputs(exchange, "calc") for (name,) in payload] == names


# -- giving up, and coming back -------------------------------------------------------------


def test_a_public_link_gives_up_and_a_new_subscription_revives_it(sim: Sim) -> None:
    exchange = sim.exchange(heartbeat_interval=5.0)
    network = sim.network
    port = network.port(exchange.port)
    port.stopListening()
    client, statuses = sim.client(exchange.url, max_retries=1, heartbeat_timeout=None)
    client.subscribe_to_ticker("BTCUSD", ignore)
    client.start()
    network.run_until(lambda: statuses.count(st.GAVE_UP) == 1, 5.0, "giving up")
    _, gave_up = statuses.last(st.GAVE_UP)
    assert gave_up.attempt == 2 == len(network.connect_attempts)  # the first connect and one retry
    assert [a.outcome for a in network.connect_attempts] == ["refused", "refused"]

    network.advance(3600.0)
    assert len(network.connect_attempts) == 2
    port.startListening()
    network.advance(600.0)
    assert len(network.connect_attempts) == 2  # listening again is not enough: nothing needs the link

    revived_at = network.seconds()
    client.subscribe_to_trades("BTCUSD", ignore)
    network.pump()
    assert network.connect_attempts[-1].time == revived_at
    assert [s.subscription for _, s in statuses.of(st.SUBSCRIBED)] == ["ticker_tBTCUSD", "trades_tBTCUSD"]
    assert statuses.last(st.CONNECTED)[0] == revived_at


def test_the_auth_link_gives_up_when_the_exchange_stops_and_authenticate_revives_it(sim: Sim) -> None:
    exchange = sim.exchange(heartbeat_interval=5.0)
    client, statuses, _ = authenticated_client(sim, exchange, max_retries=1, heartbeat_timeout=None)
    network = sim.network
    network.run_until_fired(exchange.stop())  # a clean close (1001), then nothing listens
    network.run_until(lambda: statuses.count(st.GAVE_UP) == 1, 5.0, "giving up")
    assert statuses.last(st.DISCONNECTED)[1].reason.startswith("could not connect: ConnectionRefusedError")
    attempts = len(network.connect_attempts)
    cid = place_order(client)  # queued: it waits for a connection that no longer tries
    network.advance(3600.0)
    assert len(network.connect_attempts) == attempts

    replacement = sim.exchange(port=exchange.port, heartbeat_interval=5.0)
    network.advance(60.0)
    assert len(network.connect_attempts) == attempts
    revived_at = network.seconds()
    client.authenticate()
    network.pump()
    assert statuses.last(st.AUTHENTICATED)[0] == revived_at
    assert [p["cid"] for _, p in inputs(replacement, "on")] == [cid]


def test_gave_up_after_a_drop_counts_the_failed_attempts_only(sim: Sim) -> None:
    exchange = sim.exchange(heartbeat_interval=5.0)
    client, statuses = sim.client(exchange.url, max_retries=1, heartbeat_timeout=None)
    client.subscribe_to_ticker("BTCUSD", ignore)
    client.start()
    network = sim.network
    network.run_until(lambda: statuses.count(st.SUBSCRIBED) == 1, 1.0, "subscribing")
    network.port(exchange.port).stopListening()
    exchange.faults.drop_connections()
    network.run_until(lambda: statuses.count(st.GAVE_UP) == 1, 5.0, "giving up")
    failed = [a for a in network.connect_attempts if a.outcome == "refused"]
    assert len(failed) == 1
    assert statuses.last(st.GAVE_UP)[1].attempt == len(failed)


# -- the exchange's timed faults, seen frame by frame -----------------------------------------


class OnTheNetwork:
    """What a :class:`~helpers.RawClient` needs of its reactor thread, for one on the memory
    network: the network as its reactor, and its calls run at once, in the test's thread (the
    network's only one)."""

    def __init__(self, network: MemoryNetwork) -> None:
        self.reactor = network

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        function(*args)


def raw_client(sim: Sim, exchange: LocalExchange) -> RawClient:
    """A bare WebSocket client on the network, connected (in no simulated time)."""
    client = RawClient(OnTheNetwork(sim.network), exchange.url).start()  # type: ignore[arg-type]
    sim.network.pump()
    assert client.lifecycle.items == ["open"] and sim.network.seconds() == 0.0
    return client


def heartbeat(chan_id: int) -> Callable[[Any], bool]:
    return lambda f: f == [chan_id, "hb"]


def subscribed_ticker(sim: Sim) -> tuple[LocalExchange, RawClient, int]:
    """An exchange whose heartbeats are checked every whole second (``heartbeat_interval=5``:
    the check runs every ``min(5 / 5, 1)`` s), a client subscribed to its ticker at time 0, and
    the ticker's channel id; the first heartbeat came at 5.0, five seconds of silence after the
    snapshot."""
    exchange = sim.exchange(heartbeat_interval=5.0)
    client = raw_client(sim, exchange)
    client.send({"event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD"})
    sim.network.pump()
    chan_id = client.frames.wait_for(is_event("subscribed"), 0)["chanId"]
    assert sim.network.run_until(lambda: client.frames.matching(heartbeat(chan_id)), 10.0, "a heartbeat") == 5.0
    return exchange, client, chan_id


def test_go_silent_keeps_the_socket_but_loses_every_frame_until_resume(sim: Sim) -> None:
    exchange, client, chan_id = subscribed_ticker(sim)
    network = sim.network
    exchange.faults.go_silent()
    start = client.mark()
    client.send({"event": "ping", "cid": 1})
    network.advance(60.0)  # twelve heartbeats and a pong, all lost
    assert client.snapshot(start) == []
    assert not client.closed and len(network.open_connections) == 1 and exchange.connection_count == 1
    exchange.faults.resume()
    # the heartbeat due at 65 went unsent (the exchange counts it as sent): the next is due at 70
    assert network.run_until(lambda: client.frames.matching(heartbeat(chan_id), start), 10.0, "a heartbeat") == 70.0
    assert client.snapshot(start) == [[chan_id, "hb"]]  # the pong was lost, not held back


def test_go_silent_for_a_while_resumes_by_itself(sim: Sim) -> None:
    exchange, client, chan_id = subscribed_ticker(sim)
    network = sim.network
    exchange.faults.go_silent(7.5)  # at 5.0: until 12.5
    start = client.mark()
    network.advance_to(12.5 - HAIR)
    assert client.snapshot(start) == []  # the heartbeat of 10.0 was lost
    network.advance_to(12.5)
    assert client.snapshot(start) == []
    assert network.run_until(lambda: client.frames.matching(heartbeat(chan_id), start), 10.0, "a heartbeat") == 15.0
    assert client.snapshot(start) == [[chan_id, "hb"]]


def test_delayed_acks_come_exactly_that_late_and_in_order(sim: Sim) -> None:
    exchange = sim.exchange(heartbeat_interval=None)
    client = raw_client(sim, exchange)
    network = sim.network
    network.advance(1.0)
    exchange.faults.delay_acks(0.3)
    start = client.mark()
    client.send({"event": "ping", "cid": 1})
    client.send({"event": "ping", "cid": 2})
    network.advance_to(1.3 - HAIR)
    assert client.snapshot(start) == []
    network.advance_to(1.3)
    assert [(p["event"], p["cid"]) for p in client.snapshot(start)] == [("pong", 1), ("pong", 2)]
    exchange.faults.delay_acks(0)
    start = client.mark()
    client.send({"event": "ping", "cid": 3})
    network.pump()
    assert [p["cid"] for p in client.snapshot(start)] == [3] and network.seconds() == 1.3  # at once again


# -- TLS ------------------------------------------------------------------------------------


def test_wss_runs_real_tls_over_the_memory_network(sim: Sim) -> None:
    exchange = sim.exchange(tls=True)
    client, statuses = sim.client(exchange.url, ca_file=exchange.ca_certificate)
    client.subscribe_to_ticker("BTCUSD", ignore)
    client.authenticate()
    client.start()
    sim.network.pump()
    assert statuses.count(st.SUBSCRIBED) == statuses.count(st.AUTHENTICATED) == 1
    assert sim.network.seconds() == 0.0

    other = sim.exchange(tls=True)  # its own CA: the client must refuse its certificate
    stranger, refused = sim.client(other.url, ca_file=exchange.ca_certificate, max_retries=0)
    stranger.subscribe_to_ticker("BTCUSD", ignore)
    stranger.start()
    sim.network.pump()
    assert refused.count(st.CONNECTED) == 0 and refused.count(st.GAVE_UP) == 1
    assert "TLS" in refused.last(st.DISCONNECTED)[1].reason
