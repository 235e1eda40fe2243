"""The messages of one read, handed to the core at once (``ConnectionCore.received_many``):
the same outcome as one by one, nothing read once the socket starts closing, and every public
frame timed for slow callbacks on a clock the test moves."""

from __future__ import annotations

from typing import Any

from bitfinex.protocol import status as st
from bitfinex.protocol import subscriptions as subs
from bitfinex.protocol.callbacks import CallbackRunner
from bitfinex.protocol.connection import ConnectionCore
from bitfinex.protocol.constants import ConfFlag
from bitfinex.protocol.routes import channel_route
from bitfinex.protocol.session import Session
from bitfinex.protocol.shapes import validator_for

from core_helpers import Clock, Recorder, Sockets, Wire, subscribed

TICKER = subs.ticker("BTCUSD")
TRADES = subs.trades("BTCUSD")
TICK = b"[11,[1,2,3,4,5,6,7,8,9,10]]"
TRADE = b'[12,"te",[5,1700000000000,0.1,100]]'
MIXED = [
    TICK, b'[11,"hb"]', b"not json", TRADE, b"[11,[1,2]]", b'{"event":"info","version":2}', b"[99,[1]]",
    b'[12,"tu",[5,1700000000000,0.1,100]]', b"[11," + b"[" * 2000 + b"]" * 2001, b"42", TICK,
]
"""Data, a heartbeat, garbage (four frames), an event, a frame for no live channel."""


def open_session(statuses: Recorder, stopwatch: Any = None, **options: Any) -> tuple[Session, ConnectionCore, Wire,
                                                                                   Recorder, Recorder]:
    runner = CallbackRunner(statuses, stopwatch or Clock(), slow_threshold=0.25)
    session = Session(events=Sockets(), report=statuses, runner=runner, clock=Clock(), max_channels=25, **options)
    ticks, trades = Recorder(), Recorder()
    for spec, callback in ((TICKER, ticks), (TRADES, trades)):
        session.names.claim(spec.identifier)
        session.subscribe(spec, callback)
    connection = session.public[0]
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, TICKER, 11)
    subscribed(connection, wire, TRADES, 12)
    return session, connection, wire, ticks, trades


def outcome(connection: ConnectionCore, ticks: Recorder, trades: Recorder, statuses: Recorder) -> tuple[Any, ...]:
    return (list(ticks), list(trades), statuses.kinds(), connection.frames_received, connection.frames_dropped,
            connection.frames_unrouted)


def test_a_batch_has_the_outcome_of_its_messages_one_by_one():
    one_statuses, batch_statuses = Recorder(), Recorder()
    _, one, _, one_ticks, one_trades = open_session(one_statuses)
    _, batch, _, batch_ticks, batch_trades = open_session(batch_statuses)
    for payload in MIXED:
        one.received(payload)
    batch.received_many(MIXED)
    assert outcome(batch, batch_ticks, batch_trades, batch_statuses) == outcome(one, one_ticks, one_trades, one_statuses)
    assert batch_ticks[1:] == [[11, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]] * 2
    assert [msg[1] for msg in batch_trades[1:]] == ["te", "tu"]
    assert batch.frames_dropped == 4 and batch.frames_unrouted == 1


def test_nothing_more_of_a_batch_is_read_once_the_socket_starts_closing():
    statuses = Recorder()
    _, connection, _, ticks, trades = open_session(statuses)

    def stop_on_first_tick(msg: Any) -> None:  # as a callback that stops the client: the link calls closing()
        ticks.append(msg)
        if isinstance(msg, list):
            connection.closing()

    replace_callback(connection, 11, stop_on_first_tick)
    connection.received_many([TRADE, TICK, TRADE, TICK])
    assert [msg[1] for msg in trades[1:]] == ["te"]
    assert ticks[1:] == [[11, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]]
    assert not connection.is_open and not connection.send({"event": "ping", "cid": 1})


def replace_callback(connection: ConnectionCore, chan_id: int, callback: Any) -> None:
    """Route ``chan_id``'s frames to ``callback`` instead (the test's way in: routes are closures)."""
    channel = connection.registry.by_chan_id(chan_id)
    assert channel is not None
    connection.routes[chan_id] = channel_route(validator_for(channel.spec), connection.runner, callback,
                                               channel.identifier)


def test_a_sequence_gap_ends_the_batch_and_reconnects():
    statuses = Recorder()
    _, connection, wire, ticks, _ = open_session(statuses, flags=int(ConfFlag.SEQ_ALL), check_sequence=True)
    connection.received_many([b"[11,[1,2,3,4,5,6,7,8,9,10],1]", b"[11,[1,2,3,4,5,6,7,8,9,10],5]",
                              b"[11,[1,2,3,4,5,6,7,8,9,10],6]"])
    assert len(ticks[1:]) == 1
    assert wire.reconnects == ["sequence gap: frames were lost"]
    assert st.SEQUENCE_GAP in statuses.kinds()


def test_a_frame_whose_callback_holds_the_thread_is_reported_as_slow_once_per_interval():
    statuses = Recorder()
    stopwatch = Clock(0.0)
    _, connection, _, _, _ = open_session(statuses, stopwatch)

    def slow_tick(msg: Any) -> None:
        stopwatch.now += 0.3

    replace_callback(connection, 11, slow_tick)
    connection.received_many([TRADE, TICK, TRADE, TICK])
    slow = [event for event in statuses if event.kind == st.SLOW_CALLBACK]
    assert [(event.subscription, round(event.delay, 6)) for event in slow] == [(TICKER.identifier, 0.3)]
    stopwatch.now += 10.0
    connection.received_many([TICK])
    assert [event.subscription for event in statuses if event.kind == st.SLOW_CALLBACK] == [TICKER.identifier] * 2


def test_time_between_reads_and_slow_event_callbacks_are_not_charged_to_the_next_frame():
    statuses = Recorder()
    stopwatch = Clock(0.0)
    _, connection, _, _, _ = open_session(statuses, stopwatch)
    connection.received_many([TICK])
    stopwatch.now += 60.0  # idle between two reads
    connection.received_many([TRADE, TICK])
    assert st.SLOW_CALLBACK not in statuses.kinds()

    def slow_pong(event: Any) -> None:
        stopwatch.now += 1.0

    connection.ping(7, slow_pong)
    connection.received_many([b'{"event":"pong","cid":7,"ts":1}', TICK])
    slow = [event for event in statuses if event.kind == st.SLOW_CALLBACK]
    assert [event.subscription for event in slow] == [connection.name]  # the pong's, timed by the runner
