"""The sans-I/O connection core: requests, routing, events, auth and the order queue,
driven frame by frame without sockets."""

import json

import pytest

from bitfinex.protocol import subscriptions as subs
from bitfinex.protocol.connection import AuthConnection, PublicConnection
from bitfinex.protocol.dispatch import CallbackRunner
from bitfinex.protocol.orders import order_input
from bitfinex.protocol.pipeline import CalcThrottle, OrderPipeline, PendingInput
from bitfinex.protocol.registry import Channel
from bitfinex.protocol.session import Session
from bitfinex.protocol.signing import NonceGenerator, Secret


class Wire:
    """Collects what a connection writes; can refuse writes like a closing socket."""

    def __init__(self):
        self.sent = []
        self.accepting = True

    def __call__(self, data: bytes) -> bool:
        if not self.accepting:
            return False
        self.sent.append(json.loads(data))
        return True


class Recorder(list):
    def __call__(self, item):
        self.append(item)

    def kinds(self):
        return [event.kind for event in self]


def frame(obj) -> bytes:
    return json.dumps(obj).encode()


@pytest.fixture
def statuses():
    return Recorder()


@pytest.fixture
def runner(statuses):
    return CallbackRunner(statuses)


def channel_for(spec, runner, callback):
    return Channel(spec, callback, runner.frame_handler(spec.channel, callback, spec.identifier))


def subscribed(connection, wire, spec, chan_id):
    request = next(m for m in wire.sent if m.get("subId") == spec.identifier)
    connection.received(frame({"event": "subscribed", "channel": request["channel"], "chanId": chan_id,
                               **{k: v for k, v in request.items() if k not in ("event", "channel")}}))


def test_subscribe_is_sent_on_open_and_frames_route_by_chan_id(runner, statuses):
    connection = PublicConnection("public-1", statuses, runner, capacity=25)
    ticks, trades = Recorder(), Recorder()
    connection.add_channel(channel_for(subs.ticker("BTCUSD"), runner, ticks))
    connection.add_channel(channel_for(subs.trades("BTCUSD"), runner, trades))
    wire = Wire()
    connection.opened(wire)
    assert [m["channel"] for m in wire.sent] == ["ticker", "trades"]
    subscribed(connection, wire, subs.ticker("BTCUSD"), 11)
    subscribed(connection, wire, subs.trades("BTCUSD"), 12)
    connection.received(b'[11,[1,2,3,4,5,6,7,8,9,10]]')
    connection.received(b'[12,"te",[5,1700000000000,0.1,100]]')
    connection.received(b'[11,"hb"]')
    assert ticks[0]["event"] == "subscribed" and ticks[1:] == [[11, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]]
    assert trades[1:] == [[12, "te", [5, 1700000000000, 0.1, 100]]]
    assert statuses.kinds() == ["subscribed", "subscribed"]


@pytest.mark.parametrize("garbage", [
    b"not json", b"\xff\xfe", b"[]", b"[true,[1]]", b"[11]", b'[11,"te",[1]]', b'[11,"xx",5]',
    b"42", b'"text"', b"[[11],1]", b"null", b'[11,"cs","1"]',
])
def test_garbage_is_dropped_and_never_reaches_a_callback(runner, statuses, garbage):
    connection = PublicConnection("public-1", statuses, runner, capacity=25)
    received = Recorder()
    connection.add_channel(channel_for(subs.ticker("BTCUSD"), runner, received))
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, subs.ticker("BTCUSD"), 11)
    connection.received(garbage)
    connection.received(b"[11,[1,2]]")
    assert received[1:] == [[11, [1, 2]]]
    assert connection.frames_dropped == 1


def test_frames_for_channels_not_live_are_skipped_quietly(runner, statuses, caplog):
    connection = PublicConnection("public-1", statuses, runner, capacity=25)
    connection.opened(Wire())
    connection.received(b'[99,"hb"]')   # Bitfinex: a heartbeat before its `subscribed`
    connection.received(b"[99,[1,2]]")  # or data in flight after `unsubscribe`
    assert connection.frames_unrouted == 2 and connection.frames_dropped == 0
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_raising_callback_is_reported_and_the_stream_goes_on(runner, statuses):
    connection = PublicConnection("public-1", statuses, runner, capacity=25)
    seen = []

    def explode(message):
        seen.append(message)
        if isinstance(message, list) and message[1] == [1]:
            raise RuntimeError("boom")

    connection.add_channel(channel_for(subs.ticker("BTCUSD"), runner, explode))
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, subs.ticker("BTCUSD"), 11)
    connection.received(b"[11,[1]]")
    connection.received(b"[11,[2]]")
    assert seen[1:] == [[11, [1]], [11, [2]]]
    assert "callback_error" in statuses.kinds()


def test_unsubscribe_then_lost_connection_resubscribes_only_live_channels(runner, statuses):
    connection = PublicConnection("public-1", statuses, runner, capacity=25)
    a, b = subs.ticker("BTCUSD"), subs.ticker("ETHUSD")
    connection.add_channel(channel_for(a, runner, Recorder()))
    connection.add_channel(channel_for(b, runner, Recorder()))
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, a, 1)
    subscribed(connection, wire, b, 2)
    assert connection.end_channel(b.identifier)
    assert wire.sent[-1] == {"event": "unsubscribe", "chanId": 2}
    connection.closed("test")
    wire = Wire()
    connection.opened(wire)
    assert [m["subId"] for m in wire.sent] == [a.identifier]
    subscribed(connection, wire, a, 7)
    assert statuses.kinds()[-1] == "resubscribed"


def test_info_codes_reconnect_pause_and_resume(runner, statuses):
    connection = PublicConnection("public-1", statuses, runner, capacity=25)
    spec = subs.ticker("BTCUSD")
    connection.add_channel(channel_for(spec, runner, Recorder()))
    reconnects = []
    connection.request_reconnect = reconnects.append
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, spec, 1)
    connection.received(frame({"event": "info", "code": 20051, "msg": "Stopping. Please try to reconnect"}))
    assert reconnects and "20051" in reconnects[0]
    connection.received(frame({"event": "info", "code": 20060, "msg": "Entering maintenance mode"}))
    assert connection.paused and statuses.kinds()[-1] == "paused"
    connection.received(frame({"event": "info", "code": 20061, "msg": "Maintenance ended"}))
    assert wire.sent[-1] == {"event": "unsubscribe", "chanId": 1}
    connection.received(frame({"event": "unsubscribed", "status": "OK", "chanId": 1}))
    assert wire.sent[-1]["event"] == "subscribe" and wire.sent[-1]["subId"] == spec.identifier


def make_auth(runner, statuses, pipeline=None, callback=None):
    messages = Recorder() if callback is None else callback
    auth = AuthConnection(statuses, runner, "the-key", Secret("the-secret"), NonceGenerator(), None, messages,
                          pipeline if pipeline is not None else OrderPipeline(lambda: 0.0), wall_ms=lambda: 1_700_000_000_000)
    return auth, messages


def test_orders_wait_for_auth_then_go_once_in_order(runner, statuses):
    auth, messages = make_auth(runner, statuses)
    for cid in (1, 2, 3):
        auth.submit(PendingInput("on", order_input("on", {"cid": cid}), (cid,)))
    wire = Wire()
    auth.opened(wire)
    assert [m["event"] for m in wire.sent] == ["auth"]
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))
    assert [m[3]["cid"] for m in wire.sent[1:]] == [1, 2, 3]
    auth.closed("dropped")
    wire2 = Wire()
    auth.opened(wire2)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))
    assert [m["event"] for m in wire2.sent] == ["auth"]  # written once: never re-sent
    assert int(wire2.sent[0]["authNonce"]) > int(wire.sent[0]["authNonce"])
    auth.received(b'[0,"os",[]]')
    auth.received(b'[0,"hb"]')
    assert messages[-1] == [0, "os", []]


def test_a_write_refused_by_a_closing_socket_keeps_the_order_queued(runner, statuses):
    auth, _ = make_auth(runner, statuses)
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    wire.accepting = False
    auth.submit(PendingInput("on", order_input("on", {"cid": 9}), (9,)))
    assert len(auth.pipeline) == 1
    auth.closed("gone")
    wire2 = Wire()
    auth.opened(wire2)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    assert wire2.sent[-1][3] == {"cid": 9}


def test_auth_failure_reports_every_queued_order_and_refuses_new_ones(runner, statuses):
    auth, messages = make_auth(runner, statuses)
    auth.submit(PendingInput("on", order_input("on", {"cid": 1}), (1,)))
    auth.submit(PendingInput("ox_multi", [0, "ox_multi", None, [["on", {"cid": 2}], ["on", {"cid": 3}]]], (2, 3)))
    auth.opened(Wire())
    auth.received(frame({"event": "auth", "status": "FAILED", "chanId": 0, "msg": "nonce: small", "code": 10114}))
    not_sent = [e for e in statuses if e.kind == "order_not_sent"]
    assert [e.cid for e in not_sent] == [1, 2, 3]
    assert all("nonce: small" in e.reason for e in not_sent)
    notices = [m for m in messages if isinstance(m, list) and m[1] == "n"]
    assert [n[2][1] for n in notices] == ["on-req", "ox_multi-req"] and notices[0][2][6] == "ERROR"
    auth.submit(PendingInput("on", order_input("on", {"cid": 4}), (4,)))
    assert [e.cid for e in statuses if e.kind == "order_not_sent"][-1] == 4
    assert len(auth.pipeline) == 0


def test_maintenance_holds_orders_until_it_ends(runner, statuses):
    auth, _ = make_auth(runner, statuses)
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    auth.received(frame({"event": "info", "code": 20060}))
    auth.submit(PendingInput("on", order_input("on", {"cid": 1}), (1,)))
    assert len(wire.sent) == 1
    auth.received(frame({"event": "info", "code": 20061}))
    assert wire.sent[-1][3] == {"cid": 1}


def test_calc_is_throttled_to_eight_per_second(runner, statuses):
    now = [100.0]
    pipeline = OrderPipeline(lambda: now[0], CalcThrottle(8, 1.0))
    auth, _ = make_auth(runner, statuses, pipeline)
    wakeups = []
    auth.request_wakeup = wakeups.append
    wire = Wire()
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    auth.submit_calc([f"position_t{n}USD" for n in range(20)])
    calcs = [m for m in wire.sent if isinstance(m, list)]
    assert len(calcs) == 1 and len(calcs[0][3]) == 8 and wakeups == [1.0]
    now[0] += 0.5
    auth.pump()
    assert len([m for m in wire.sent if isinstance(m, list)]) == 1
    now[0] += 0.5
    auth.pump()
    now[0] += 1.0
    auth.pump()
    sizes = [len(m[3]) for m in wire.sent if isinstance(m, list)]
    assert sizes == [8, 8, 4]


def test_session_shards_at_the_cap_and_moves_a_channel_the_server_refuses(runner, statuses):
    session = Session(statuses, runner, max_channels=3)
    added, unused = [], []
    session.connection_added = added.append
    session.connection_unused = unused.append
    specs = [subs.ticker(s) for s in ("BTCUSD", "ETHUSD", "LTCUSD", "XRPUSD", "EOSUSD")]
    for spec in specs:
        session.subscribe(channel_for(spec, runner, Recorder()))
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
    assert len(added[1].registry) == 3
    first.received(frame({"event": "error", "msg": "x", "code": 10305, "subId": "unknown"}))
    assert statuses.kinds()[-1] == "server_error"


def test_refused_subscription_is_reported_and_freed(runner, statuses):
    session = Session(statuses, runner, max_channels=25)
    ended = []
    session.subscription_ended = ended.append
    spec = subs.ticker("NOPE1")
    received = Recorder()
    connection = session.subscribe(channel_for(spec, runner, received))
    closed = []
    session.connection_unused = closed.append
    wire = Wire()
    connection.opened(wire)
    connection.received(frame({"event": "error", "msg": "symbol: invalid", "code": 10001, "channel": "ticker",
                               "symbol": "tNOPE1", "subId": spec.identifier}))
    assert statuses[-1].kind == "subscription_failed" and statuses[-1].code == 10001
    assert received[-1]["event"] == "error" and ended == [spec.identifier] and closed == [connection]


def test_each_calc_call_stays_its_own_message(runner, statuses):
    auth, _ = make_auth(runner, statuses)
    wire = Wire()
    auth.submit_calc(["margin_sym_tBTCUSD", "funding_sym_fUSD"])
    auth.submit_calc(["position_tBTCUSD"])
    auth.submit_calc(["wallet_margin_USD"] * 6)
    auth.opened(wire)
    auth.received(frame({"event": "auth", "status": "OK", "chanId": 0}))
    calcs = [m[3] for m in wire.sent if isinstance(m, list)]
    assert calcs == [[["margin_sym_tBTCUSD"], ["funding_sym_fUSD"]], [["position_tBTCUSD"]]]  # the 6 wait for room

