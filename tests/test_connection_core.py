"""The sans-I/O core: requests, routing, events, auth and the order queue, driven frame by
frame through a real :class:`~bitfinex.protocol.session.Session` without sockets."""

from __future__ import annotations

import logging

import pytest

from bitfinex.protocol import subscriptions as subs
from bitfinex.protocol.orders import order_input
from bitfinex.protocol.pipeline import CalcThrottle, OrderPipeline, PendingInput
from bitfinex.protocol.states import ChannelEvent, ChannelState, IllegalTransition

from core_helpers import Clock, Recorder, Wire, frame, make_session, subscribed


@pytest.fixture
def statuses():
    return Recorder()


@pytest.fixture
def session(statuses):
    return make_session(statuses)


def open_public(session, *specs_and_callbacks):
    """Subscribe each ``(spec, callback)``, open the connection, answer every subscribe."""
    for spec, callback in specs_and_callbacks:
        assert session.names.claim(spec.identifier)  # as the facade does, in the caller's thread
        session.subscribe(spec, callback)
    connection = session.public[0]
    wire = Wire()
    connection.opened(wire)
    for chan_id, (spec, _) in enumerate(specs_and_callbacks, start=11):
        subscribed(connection, wire, spec, chan_id)
    return connection, wire


def test_subscribe_is_sent_on_open_and_frames_route_by_chan_id(session, statuses):
    ticks, trades = Recorder(), Recorder()
    connection, wire = open_public(session, (subs.ticker("BTCUSD"), ticks), (subs.trades("BTCUSD"), trades))
    assert [m["channel"] for m in wire.sent] == ["ticker", "trades"]
    connection.received(b"[11,[1,2,3,4,5,6,7,8,9,10]]")
    connection.received(b'[12,"te",[5,1700000000000,0.1,100]]')
    connection.received(b'[11,"hb"]')
    assert ticks[0]["event"] == "subscribed" and ticks[1:] == [[11, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]]
    assert trades[1:] == [[12, "te", [5, 1700000000000, 0.1, 100]]]
    assert statuses.kinds() == ["subscribed", "subscribed"]


@pytest.mark.parametrize("garbage", [
    b"not json", b"\xff\xfe", b"[]", b"[true,[1]]", b"[11]", b'[11,"te",[1]]', b'[11,"xx",5]',
    b"42", b'"text"', b"[[11],1]", b"null", b'[11,"cs","1"]', b"[11,[1,2]]", b"[11,[]]",
    b'[11,["a","b","c","d","e","f","g","h","i","j"]]', b"[11," + b"[" * 2000 + b"]" * 2001,
    b"[11,[NaN,1,2,3,4,5,6,7,8,9]]", b"[11,[1e400,1,2,3,4,5,6,7,8,9]]", "[11,[1,2,3,4,5,6,7,8,9,10]]".encode("utf-16"),
])
def test_garbage_is_dropped_and_never_reaches_a_callback(session, statuses, garbage, caplog):
    received = Recorder()
    connection, _ = open_public(session, (subs.ticker("BTCUSD"), received))
    with caplog.at_level(logging.WARNING, logger="bitfinex"):
        connection.received(garbage)
    connection.received(b"[11,[1,2,3,4,5,6,7,8,9,10]]")
    assert received[1:] == [[11, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]]
    assert connection.frames_dropped == 1 and connection.internal_errors == 0
    assert all(len(record.getMessage()) < 400 for record in caplog.records)


def test_frames_for_channels_not_live_are_skipped_quietly(session, statuses, caplog):
    session.subscribe(subs.ticker("BTCUSD"), Recorder())
    connection = session.public[0]
    connection.opened(Wire())
    connection.received(b'[99,"hb"]')   # Bitfinex: a heartbeat before its `subscribed`
    connection.received(b"[99,[1,2]]")  # or data in flight after `unsubscribe`
    assert connection.frames_unrouted == 2 and connection.frames_dropped == 0
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_raising_callback_is_reported_and_the_stream_goes_on(session, statuses):
    seen = []

    def explode(message):
        seen.append(message)
        if isinstance(message, list) and message[1][0] == 1:
            raise RuntimeError("boom")

    connection, _ = open_public(session, (subs.ticker("BTCUSD"), explode))
    connection.received(b"[11,[1,2,3,4,5,6,7,8,9,10]]")
    connection.received(b"[11,[2,2,3,4,5,6,7,8,9,10]]")
    assert [m[1][0] for m in seen[1:]] == [1, 2]
    assert "callback_error" in statuses.kinds() and "internal_error" not in statuses.kinds()


def test_a_bug_while_handling_a_frame_is_logged_reported_and_the_channel_rebuilt(session, statuses, caplog):
    received = Recorder()
    connection, wire = open_public(session, (subs.ticker("BTCUSD"), received))
    channel = connection.registry.get(subs.ticker("BTCUSD").identifier)

    def broken_route(msg):
        raise AttributeError("a bug in the route")

    connection.routes[11] = channel.handler = broken_route
    with caplog.at_level(logging.ERROR, logger="bitfinex"):
        connection.received(b"[11,[1,2,3,4,5,6,7,8,9,10]]")
    assert connection.internal_errors == 1 and connection.frames_dropped == 0
    [record] = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is AttributeError
    event = statuses[-1]
    assert event.kind == "internal_error" and event.subscription == channel.identifier and "AttributeError" in event.reason
    assert channel.state is ChannelState.RESUBSCRIBING and wire.sent[-1] == {"event": "unsubscribe", "chanId": 11}
    connection.received(frame({"event": "unsubscribed", "status": "OK", "chanId": 11}))
    assert wire.sent[-1]["event"] == "subscribe" and channel.state is ChannelState.REQUESTED


def test_a_bug_on_the_account_channel_resyncs_by_reconnecting(session, statuses):
    session.authenticate(Recorder(), None)
    auth = session.auth
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))

    def broken_route(msg):
        raise KeyError("a bug")

    auth.routes[0] = broken_route
    auth.received(b'[0,"os",[]]')
    assert statuses[-1].kind == "internal_error" and wire.reconnects == [
        "internal error on the account channel: resyncing with fresh snapshots"
    ]


def test_unsubscribe_then_lost_connection_resubscribes_only_live_channels(session, statuses):
    a, b = subs.ticker("BTCUSD"), subs.ticker("ETHUSD")
    connection, wire = open_public(session, (a, Recorder()), (b, Recorder()))
    assert connection.end_channel(b.identifier)
    assert wire.sent[-1] == {"event": "unsubscribe", "chanId": 12}
    connection.closed("test")
    assert b.identifier not in session.names and a.identifier in connection.registry
    wire = Wire()
    connection.opened(wire)
    assert [m["subId"] for m in wire.sent] == [a.identifier]
    subscribed(connection, wire, a, 7)
    assert statuses.kinds()[-1] == "resubscribed"


def test_a_channel_ended_before_its_answer_is_unsubscribed_when_it_comes(session, statuses):
    spec = subs.ticker("BTCUSD")
    received = Recorder()
    session.names.claim(spec.identifier)
    session.subscribe(spec, received)
    connection = session.public[0]
    wire = Wire()
    connection.opened(wire)
    session.unsubscribe(spec.identifier)
    assert connection.registry.get(spec.identifier).state is ChannelState.CANCELLING
    subscribed(connection, wire, spec, 4)
    assert wire.sent[-1] == {"event": "unsubscribe", "chanId": 4} and received == []
    connection.received(b"[4,[1,2,3,4,5,6,7,8,9,10]]")
    connection.received(frame({"event": "unsubscribed", "status": "OK", "chanId": 4}))
    assert received == [{"event": "unsubscribed", "status": "OK", "chanId": 4}]
    assert spec.identifier not in session.names and session.events.unused == [connection]


def test_illegal_transitions_cannot_happen(session):
    spec = subs.ticker("BTCUSD")
    session.subscribe(spec, Recorder())
    channel = session.public[0].registry.get(spec.identifier)
    with pytest.raises(IllegalTransition, match="pending"):
        session.public[0].registry.fire(channel, ChannelEvent.UNSUBSCRIBED)
    assert channel.state is ChannelState.PENDING


def test_answers_to_nothing_asked_change_nothing(session, statuses, caplog):
    connection, wire = open_public(session, (subs.ticker("BTCUSD"), Recorder()))
    sent = len(wire.sent)
    for event in (
        {"event": "subscribed", "channel": "ticker", "chanId": "seven", "subId": "ticker_tBTCUSD"},
        {"event": "subscribed", "channel": "ticker", "chanId": 5, "subId": ["deep" * 3]},
        {"event": "unsubscribed", "status": "OK", "chanId": 99},
        {"event": "pong", "cid": {"a": 1}},
        {"event": 42},
        {"event": "info", "code": "x", "msg": [[[["deep"]]]]},
    ):
        connection.received(frame(event))
    assert len(wire.sent) == sent and connection.internal_errors == 0
    assert connection.registry.get("ticker_tBTCUSD").state is ChannelState.ACTIVE


def test_info_codes_reconnect_pause_and_resume(session, statuses):
    spec = subs.ticker("BTCUSD")
    connection, wire = open_public(session, (spec, Recorder()))
    connection.received(frame({"event": "info", "code": 20051, "msg": "Stopping. Please try to reconnect"}))
    assert wire.reconnects and "20051" in wire.reconnects[0]
    connection.received(frame({"event": "info", "code": 20060, "msg": "Entering maintenance mode"}))
    assert connection.paused and statuses.kinds()[-1] == "paused"
    connection.received(frame({"event": "info", "code": 20061, "msg": "Maintenance ended"}))
    assert wire.sent[-1] == {"event": "unsubscribe", "chanId": 11}
    connection.received(frame({"event": "unsubscribed", "status": "OK", "chanId": 11}))
    assert wire.sent[-1]["event"] == "subscribe" and wire.sent[-1]["subId"] == spec.identifier


def open_auth(session, callback=None):
    messages = Recorder() if callback is None else callback
    session.authenticate(messages, None)
    return session.auth, messages


def test_orders_wait_for_auth_then_go_once_in_order(session, statuses):
    auth, messages = open_auth(session)
    for cid in (1, 2, 3):
        session.submit(PendingInput("on", order_input("on", {"cid": cid}), (cid,)))
    wire = Wire()
    auth.opened(wire)
    assert [m["event"] for m in wire.sent] == ["auth"]
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))
    assert [m[3]["cid"] for m in wire.sent[1:]] == [1, 2, 3]
    auth.closed("dropped")
    assert [e.cid for e in statuses if e.kind == "order_unconfirmed"] == [1, 2, 3]
    wire2 = Wire()
    auth.opened(wire2)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))
    assert [m["event"] for m in wire2.sent] == ["auth"]  # written once: never re-sent
    assert int(wire2.sent[0]["authNonce"]) > int(wire.sent[0]["authNonce"])
    auth.received(b'[0,"os",[]]')
    auth.received(b'[0,"hb"]')
    assert messages[-1] == [0, "os", []]


@pytest.mark.parametrize("garbage", [b'[0,"os",{}]', b'[0,"wu",5]', b'[0,"on"]', b'[0,"n",[1,2]]', b"[0,5,[1]]"])
def test_account_frames_of_the_wrong_shape_never_reach_the_callback(session, statuses, garbage):
    auth, messages = open_auth(session)
    auth.opened(Wire())
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))
    auth.received(garbage)
    auth.received(b'[0,"wu",["exchange","USD",100,0,100,null,null]]')
    assert messages[1:] == [[0, "wu", ["exchange", "USD", 100, 0, 100, None, None]]]
    assert auth.frames_dropped == 1


def test_a_write_refused_by_a_closing_socket_keeps_the_order_queued(session, statuses):
    auth, _ = open_auth(session)
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    wire.accepting = False
    session.submit(PendingInput("on", order_input("on", {"cid": 9}), (9,)))
    assert len(auth.pipeline) == 1
    auth.closed("gone")
    wire2 = Wire()
    auth.opened(wire2)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    assert wire2.sent[-1][3] == {"cid": 9}


def test_auth_failure_reports_every_queued_order_and_refuses_new_ones(session, statuses):
    auth, messages = open_auth(session)
    session.submit(PendingInput("on", order_input("on", {"cid": 1}), (1,)))
    session.submit(PendingInput("ox_multi", [0, "ox_multi", None, [["on", {"cid": 2}], ["on", {"cid": 3}]]], (2, 3)))
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "FAILED", "chanId": 0, "msg": "nonce: small", "code": 10114}))
    not_sent = [e for e in statuses if e.kind == "order_not_sent"]
    assert [e.cid for e in not_sent] == [1, 2, 3]
    assert all("nonce: small" in e.reason for e in not_sent)
    notices = [m for m in messages if isinstance(m, list) and m[1] == "n"]
    assert [n[2][1] for n in notices] == ["on-req", "on-req", "on-req"]  # an ox_multi: one per operation
    assert [n[2][4][2] for n in notices] == [1, 2, 3] and {n[2][6] for n in notices} == {"ERROR"}
    session.submit(PendingInput("on", order_input("on", {"cid": 4}), (4,)))
    assert [e.cid for e in statuses if e.kind == "order_not_sent"][-1] == 4
    assert len(auth.pipeline) == 0
    assert wire.reconnects == ["retrying authentication with a fresh nonce"]


def test_a_second_auth_answer_is_dropped(session, statuses):
    auth, _ = open_auth(session)
    auth.opened(Wire())
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))
    auth.received(frame({"event": "auth", "status": "FAILED", "chanId": 0, "msg": "auth: dup", "code": 10100}))
    assert auth.authenticated and auth.frames_dropped == 1 and "auth_failed" not in statuses.kinds()


def test_authenticate_again_resets_the_refusal_and_restarts(session, statuses):
    auth, _ = open_auth(session)
    auth.opened(Wire())
    auth.received(frame({"event": "auth", "status": "FAILED", "chanId": 0, "msg": "apikey: invalid", "code": 10100}))
    assert auth.refused
    callback = Recorder()
    session.authenticate(callback, ["trading"])
    assert not auth.refused and auth.callback is callback and auth.filters == ["trading"]
    assert session.events.restarts == [(auth, "authenticate() called again")]


def test_maintenance_holds_orders_until_it_ends(session, statuses):
    auth, _ = open_auth(session)
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    auth.received(frame({"event": "info", "code": 20060}))
    session.submit(PendingInput("on", order_input("on", {"cid": 1}), (1,)))
    assert len(wire.sent) == 1
    auth.received(frame({"event": "info", "code": 20061}))
    assert wire.sent[-1][3] == {"cid": 1}


def test_calc_is_throttled_to_eight_per_second(statuses):
    clock = Clock()
    session = make_session(statuses, clock=clock)
    session.pipeline = OrderPipeline(clock, CalcThrottle(8, 1.0))
    auth, _ = open_auth(session)
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    session.submit_calc([f"position_t{n}USD" for n in range(20)])
    calcs = [m for m in wire.sent if isinstance(m, list)]
    assert len(calcs) == 1 and len(calcs[0][3]) == 8 and wire.wakeups == [1.0]
    clock.now += 0.5
    auth.pump()
    assert len([m for m in wire.sent if isinstance(m, list)]) == 1
    clock.now += 0.5
    auth.pump()
    clock.now += 1.0
    auth.pump()
    sizes = [len(m[3]) for m in wire.sent if isinstance(m, list)]
    assert sizes == [8, 8, 4]


def test_session_shards_at_the_cap_and_moves_a_channel_the_server_refuses(statuses):
    session = make_session(statuses, max_channels=3)
    specs = [subs.ticker(s) for s in ("BTCUSD", "ETHUSD", "LTCUSD", "XRPUSD", "EOSUSD")]
    for spec in specs:
        assert session.names.claim(spec.identifier)  # as the facade does, in the caller's thread
        session.subscribe(spec, Recorder())
    added = session.events.added
    assert [c.name for c in added] == ["public-1", "public-2"]
    assert [len(c.registry) for c in added] == [3, 2]
    first, wire = added[0], Wire()
    first.opened(wire)
    subscribed(first, wire, specs[0], 1)
    subscribed(first, wire, specs[1], 2)
    first.received(frame({"event": "error", "msg": "subscribe: limit", "code": 10305, "channel": "ticker",
                          "symbol": specs[2].param("symbol"), "subId": specs[2].identifier}))
    assert first.capacity == 2
    assert session.location[specs[2].identifier] is added[1]
    assert len(added[1].registry) == 3 and specs[2].identifier in session.names
    first.received(frame({"event": "error", "msg": "x", "code": 10305, "subId": "unknown"}))
    assert statuses.kinds()[-1] == "server_error"


def test_refused_subscription_is_reported_and_freed(session, statuses):
    spec = subs.ticker("NOPE1")
    received = Recorder()
    session.names.claim(spec.identifier)
    session.subscribe(spec, received)
    connection = session.public[0]
    wire = Wire()
    connection.opened(wire)
    connection.received(frame({"event": "error", "msg": "symbol: invalid", "code": 10300, "channel": "ticker",
                               "symbol": "tNOPE1", "subId": spec.identifier}))
    assert statuses[-1].kind == "subscription_failed" and statuses[-1].code == 10300
    assert received[-1]["event"] == "error" and spec.identifier not in session.names
    assert session.events.unused == [connection]


def test_each_calc_call_stays_its_own_message(session, statuses):
    auth, _ = open_auth(session)
    wire = Wire()
    session.submit_calc(["margin_sym_tBTCUSD", "funding_sym_fUSD"])
    session.submit_calc(["position_tBTCUSD"])
    session.submit_calc(["wallet_margin_USD"] * 6)
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    calcs = [m[3] for m in wire.sent if isinstance(m, list)]
    assert calcs == [[["margin_sym_tBTCUSD"], ["funding_sym_fUSD"]], [["position_tBTCUSD"]]]  # the 6 wait for room


def test_the_pong_of_a_maintained_book_reaches_its_callback(session, statuses):
    spec = subs.book("BTCUSD", "P0")
    books = Recorder()
    session.subscribe_book(spec, books)
    connection = session.public[0]
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, spec, 3)
    session.ping(spec.identifier, 77)
    assert wire.sent[-1] == {"event": "ping", "cid": 77}
    connection.received(frame({"event": "pong", "ts": 1, "cid": 77}))
    assert books == [{"event": "pong", "ts": 1, "cid": 77}]
