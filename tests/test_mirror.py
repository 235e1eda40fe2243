"""The account mirror, driven frame by frame through the real authenticated connection of the
sans-I/O core: every state of an order and how it gets there, what a reconnect settles, the
account's parts (snapshots replace, updates patch), bounded memory, and reading it from other
threads. Fast: no sockets, no reactor."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from bitfinex.protocol.fields import order_array
from bitfinex.protocol.mirror import AccountMirror, MirrorOptions
from bitfinex.protocol.orderstate import FINAL_STATES, ORDER_TRANSITIONS, OrderState
from bitfinex.protocol.pipeline import PendingInput

from mirror_helpers import MTS, Mirrored, answer, order, trade

S = OrderState
CID = MTS + 1


@pytest.fixture
def m() -> Mirrored:
    return Mirrored()


def test_an_order_goes_from_queued_to_executed_with_its_fills_and_fees(m: Mirrored) -> None:
    m.place(CID)
    assert m.mirror.order(CID).state is S.QUEUED  # before the socket is even open
    m.connect()
    assert m.mirror.order(CID).state is S.WRITTEN
    m.receive(answer("on-req", order(7, CID, 0.5, 0.5)))
    m.receive([0, "on", order(7, CID, 0.5, 0.5)])
    assert m.mirror.snapshot().orders[7].amount == 0.5
    m.receive([0, "te", trade(1, 7, CID, 0.2)])
    m.receive([0, "tu", trade(1, 7, CID, 0.2, fee=-0.0004)])
    m.receive([0, "ou", order(7, CID, 0.3, 0.5, "PARTIALLY FILLED @ 30000(0.2)")])
    m.receive([0, "te", trade(2, 7, CID, 0.1)])
    m.receive([0, "tu", trade(2, 7, CID, 0.1, fee=-0.0002)])
    m.receive([0, "te", trade(3, 7, None, 0.2)])  # no cid in the trade: found by order id
    m.receive([0, "oc", order(7, CID, 0, 0.5, "EXECUTED @ 30000(0.2): was PARTIALLY FILLED @ 30000(0.1)")])
    m.receive([0, "tu", trade(3, 7, CID, 0.2, fee=-0.0004)])  # Bitfinex may send a tu after the oc

    record = m.mirror.order(CID)
    assert record.state is S.EXECUTED and record.final and record.order_id == 7
    assert record.reason.startswith("EXECUTED @")
    assert m.moves(CID) == ["QUEUED", "WRITTEN", "ACCEPTED", "ACTIVE", "PARTIALLY_FILLED", "EXECUTED"]
    assert [(f.id, f.amount, f.fee) for f in record.fills] == [(1, 0.2, -0.0004), (2, 0.1, -0.0002), (3, 0.2, -0.0004)]
    assert record.filled == Decimal("0.5")  # exact: 0.2 + 0.1 + 0.2 in floats is not
    assert record.has_reached(S.ACTIVE) and S.IN_DOUBT not in record.reached
    assert record.cid_date == "2023-11-14" and record.symbol == "tBTCUSD"
    assert len([t for t in m.transitions if t.order.cid == CID and t.fill is not None]) == 6  # three te, three tu
    snapshot = m.mirror.snapshot()
    assert snapshot.orders == {} and snapshot.tracked == {} and snapshot.synced
    assert m.statuses.kinds().count("callback_error") == 0


def test_bitfinex_may_fill_an_order_at_once_without_any_on(m: Mirrored) -> None:
    m.connect()
    m.place(CID)
    m.receive(answer("on-req", order(7, CID, 0.5, 0.5)))
    m.receive([0, "te", trade(1, 7, CID, 0.5)])
    m.receive([0, "oc", order(7, CID, 0, 0.5, "EXECUTED @ 30000(0.5)")])
    assert m.moves(CID) == ["QUEUED", "WRITTEN", "ACCEPTED", "PARTIALLY_FILLED", "EXECUTED"]


@pytest.mark.parametrize(("status", "remaining", "state"), [
    ("CANCELED", 0.5, S.CANCELED),
    ("CANCELED was: PARTIALLY FILLED @ 30000(0.2)", 0.3, S.CANCELED),
    ("POSTONLY CANCELED", 0.5, S.CANCELED),
    ("IOC CANCELED was: PARTIALLY FILLED @ 30000(0.1)", 0.4, S.CANCELED),
    ("FILLORKILL CANCELED", 0.5, S.CANCELED),
    ("INSUFFICIENT MARGIN was: PARTIALLY FILLED @ 30000(0.1)", 0.4, S.CANCELED),
    ("RSN_DUST", 0.00001, S.CANCELED),
    ("EXECUTED @ 30000(0.5)", 0, S.EXECUTED),
    ("FORCED EXECUTED", 0, S.EXECUTED),
    ("something new", 0, S.EXECUTED),  # nothing left: filled, whatever the words
])
def test_oc_ends_an_order_by_the_head_of_its_status(m: Mirrored, status: str, remaining: float, state: OrderState) -> None:
    m.connect()
    m.place(CID)
    m.receive([0, "on", order(7, CID, 0.5, 0.5)])
    m.receive([0, "oc", order(7, CID, remaining, 0.5, status)])
    assert (m.mirror.order(CID).state, m.mirror.order(CID).reason) == (state, status)


def test_a_rejection_keeps_bitfinex_s_text_and_an_order_never_sent_the_client_s_reason(m: Mirrored) -> None:
    m.connect()
    m.place(CID)
    m.receive(answer("on-req", order_array({"cid": CID, "symbol": "tBTCUSD", "amount": 1e-9}), "ERROR",
                     "Invalid order: minimum size for BTC/USD is 0.0002"))
    rejected = m.mirror.order(CID)
    assert (rejected.state, rejected.reason) == (S.REJECTED, "Invalid order: minimum size for BTC/USD is 0.0002")

    m.auth.closed("dropped")
    m.place(CID + 1)
    m.auth.opened(m.wire)
    m.receive({"event": "auth", "status": "FAILED", "chanId": 0, "code": 10100, "msg": "apikey: invalid"})
    record = m.mirror.order(CID + 1)
    assert (record.state, record.reason) == (S.NOT_SENT, "authentication failed: apikey: invalid")
    assert m.moves(CID + 1) == ["QUEUED", "NOT_SENT"]  # the made-up "Not sent" notification changed nothing


def test_the_snapshot_after_a_reconnect_settles_every_order_in_doubt(m: Mirrored) -> None:
    m.connect()
    unanswered_there, unanswered_lost, resting, gone, filled = (CID + i for i in range(5))
    for cid in (unanswered_there, unanswered_lost, resting, gone, filled):
        m.place(cid)
    m.receive([0, "on", order(13, resting, 0.5, 0.5)])
    m.receive([0, "on", order(14, gone, 0.5, 0.5)])
    m.receive([0, "on", order(15, filled, 0.5, 0.5)])
    m.receive([0, "te", trade(1, 15, filled, 0.2)])
    m.receive([0, "te", trade(2, 15, filled, 0.3)])  # its oc is lost with the socket
    m.auth.closed("connection lost")
    assert {m.mirror.order(cid).state for cid in (unanswered_there, unanswered_lost, resting, gone, filled)} == {S.IN_DOUBT}
    assert "before Bitfinex answered" in m.mirror.order(unanswered_lost).reason
    assert m.mirror.order(resting).previous is S.ACTIVE
    later = CID + 9
    m.place(later)  # queued while disconnected: not in doubt, written after the next auth
    assert not m.mirror.snapshot().synced

    m.connect([("ps", []), ("ws", []),
               ("os", [order(11, unanswered_there, 0.5, 0.5), order(13, resting, 0.1, 0.5, "PARTIALLY FILLED @ 30000(0.4)")])])
    states = {cid: m.mirror.order(cid).state for cid in (unanswered_there, unanswered_lost, resting, gone, filled, later)}
    assert states == {unanswered_there: S.ACTIVE, unanswered_lost: S.MISSING, resting: S.PARTIALLY_FILLED,
                      gone: S.MISSING, filled: S.EXECUTED, later: S.WRITTEN}
    assert "it was active when the connection closed, filled 0 of 0.5" in m.mirror.order(gone).reason
    assert m.mirror.order(unanswered_there).order_id == 11
    assert [m.moves(cid).count("MISSING") for cid in (unanswered_lost, gone)] == [1, 1]  # reported once
    assert m.mirror.snapshot().synced
    m.receive([0, "os", []])  # a later snapshot of the same authentication settles nothing more
    assert m.mirror.order(unanswered_there).state is S.ACTIVE


def test_with_the_dead_man_s_switch_orders_open_when_the_socket_closed_are_cancelled() -> None:
    m = Mirrored(dms=True)
    m.connect()
    m.place(CID)
    m.place(CID + 1)
    m.receive([0, "on", order(7, CID, 0.5, 0.5)])
    m.auth.closed("connection lost")
    assert "dead man's switch" in m.mirror.order(CID).reason
    m.connect()
    assert m.mirror.order(CID).state is S.CANCELED
    assert m.mirror.order(CID + 1).state is S.MISSING  # written, never answered: not known to have been open


def test_an_order_reported_missing_that_shows_up_after_all_is_followed_again(m: Mirrored) -> None:
    m.connect()
    m.place(CID)
    m.auth.closed("connection lost")
    m.connect()
    assert m.mirror.order(CID).state is S.MISSING
    m.receive([0, "on", order(7, CID, 0.5, 0.5)])  # the old socket's order, answered late
    assert m.mirror.order(CID).state is S.ACTIVE


def test_messages_an_order_cannot_take_change_nothing_and_garbage_raises_nothing(m: Mirrored) -> None:
    m.connect()
    m.place(CID)
    m.receive([0, "on", order(7, CID, 0.5, 0.5)])
    m.receive([0, "oc", order(7, CID, 0.5, 0.5, "CANCELED")])
    m.receive([0, "ou", order(7, CID, 0.5, 0.5)])  # after the oc: no revival
    m.receive(answer("on-req", order(7, CID, 0.5, 0.5)))
    m.receive([0, "on", order(8, CID, 0.5, 0.5)])  # the same cid, another order: not this one
    assert m.mirror.order(CID).state is S.CANCELED
    assert set(m.mirror.snapshot().orders) == {7, 8}  # the account still shows what Bitfinex says
    for garbage in ([0, "on", ["x"]], [0, "oc", [None, 1]], [0, "te", [1]], [0, "wu", [1, 2]], [0, "pu", [None]],
                    [0, "os", [[], ["a"]]], [0, "ws", [["exchange"]]], [0, "n", [1, "on-req", None, None, [1, 2, "x"], 0, 0, 0]],
                    [0, "n", [1, "ox_multi-req", None, None, [[1], "x"], 0, 0, 0]], [0, "fon", ["x"]], [0, "bu", [1]]):
        m.receive(garbage)
    assert m.auth.internal_errors == 0


def test_snapshots_replace_and_updates_patch_every_part_of_the_account(m: Mirrored) -> None:
    wallet = ["exchange", "USD", 1000, 0, 900, None, None]
    position = ["tBTCUSD", "ACTIVE", 0.5, 30_000, 0, 0, 10, 0.1, 25_000, 5, None, 42, MTS, MTS, None, 0, None, 3000, 300, None]
    offer = [55, "fUSD", MTS, MTS, 100, 100, "LIMIT", None, None, 0, "ACTIVE", None, None, None, 0.0002, 2, 0, 0, None, 0, None]
    credit = [66, "fUSD", 1, MTS, MTS, 350, 0, "ACTIVE", "FIXED", None, None, 0.0002, 30, MTS, MTS, 0, 0, None, 0, None, 0,
              "tBTCUSD"]
    m.connect([("ps", [position]), ("ws", [wallet, ["margin", "USD", 50, 0, None, None, None]]),
               ("os", [order(1, 123, 1, 1), order(2, None, 1, 1)]), ("fos", [offer]), ("fcs", [credit]), ("fls", [credit[:21]])])
    m.receive([0, "bu", [1e6, 1.1e6]])
    s = m.mirror.snapshot()
    assert s.wallet("exchange", "USD").available == 900 and s.wallet("margin", "USD").available is None
    assert s.positions["tBTCUSD"].id == 42 and s.positions["tBTCUSD"].collateral_min == 300
    assert (s.balance.aum, s.balance.aum_net) == (1e6, 1.1e6)
    assert s.funding_offers[55].rate == 0.0002 and s.funding_credits[66].position_pair == "tBTCUSD"
    assert s.funding_loans[66].side == 1 and s.funding_credits[66].rate_type == "FIXED"
    assert s.order_by_cid(123, "2023-11-14") is s.orders[1] and s.order_by_cid(123) is s.orders[1]
    assert list(s.orders_by_cid) == [(123, "2023-11-14")]

    m.receive([0, "wu", ["exchange", "USD", 990, 0, 880, "fee", None]])
    m.receive([0, "pu", [*position[:2], 0.7, *position[3:]]])
    m.receive([0, "fou", [55, "fUSD", MTS, MTS, 60, 100, *offer[6:]]])
    m.receive([0, "fcc", credit])
    m.receive([0, "oc", order(1, 123, 1, 1, "CANCELED")])
    s2 = m.mirror.snapshot()
    assert s2.wallet("exchange", "USD").balance == 990 and s2.positions["tBTCUSD"].amount == 0.7
    assert s2.funding_offers[55].amount == 60 and s2.funding_credits == {} and s.funding_credits[66]  # the old one unchanged
    assert s2.order_by_cid(123) is None and list(s2.orders) == [2]

    m.receive([0, "pu", [position[0], "CLOSED", 0, *position[3:]]])
    m.receive([0, "foc", offer])
    m.receive([0, "ws", [wallet]])
    m.receive([0, "ps", []])
    s3 = m.mirror.snapshot()
    assert (s3.positions, s3.funding_offers, list(s3.wallets)) == ({}, {}, [("exchange", "USD")])


def test_a_snapshot_copies_only_what_changed_and_is_shared_until_something_does(m: Mirrored) -> None:
    m.connect([("ws", [["exchange", "USD", 1, 0, 1, None, None]]), ("os", [order(1, 5, 1, 1)])])
    first = m.mirror.snapshot()
    assert m.mirror.snapshot() is first
    m.receive([0, "wu", ["exchange", "USD", 2, 0, 2, None, None]])
    second = m.mirror.snapshot()
    assert second.version > first.version and second.orders is first.orders and second.wallets is not first.wallets
    with pytest.raises(TypeError):
        second.wallets[("exchange", "BTC")] = second.wallets[("exchange", "USD")]  # type: ignore[index]
    with pytest.raises((AttributeError, TypeError)):
        second.orders[1].amount = 3  # type: ignore[misc]


def test_several_new_orders_in_one_ox_multi_are_each_followed(m: Mirrored) -> None:
    m.connect()
    ops = [["on", {"cid": CID, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "1", "price": "1"}],
           ["oc", {"cid": 99, "cid_date": "2023-11-14"}],
           ["on", {"cid": CID + 1, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "-1", "price": "1"}]]
    m.session.submit(PendingInput("ox_multi", [0, "ox_multi", None, ops], (CID, 99, CID + 1)))
    assert [m.mirror.order(c).state for c in (CID, CID + 1)] == [S.WRITTEN, S.WRITTEN] and m.mirror.order(99) is None
    bodies = [answer("on-req", order(7, CID, 1, 1))[2],
              answer("oc-req", order_array({"cid": 99}), "ERROR", "Order not found.")[2],
              answer("on-req", order_array({"cid": CID + 1, "amount": -1.0}), "ERROR", "Invalid order: not enough balance")[2]]
    m.receive(answer("ox_multi-req", bodies, text="Submitting 3 operations."))
    assert [m.mirror.order(c).state for c in (CID, CID + 1)] == [S.ACCEPTED, S.REJECTED]


def test_finished_orders_are_forgotten_beyond_keep_closed_and_unfinished_ones_never() -> None:
    m = Mirrored(keep_closed=3)
    m.connect()
    m.place(CID + 100)  # stays open
    m.receive([0, "on", order(100, CID + 100, 1, 1)])
    for n in range(10):
        m.place(CID + n)
        m.receive([0, "on", order(n, CID + n, 1, 1)])
        m.receive([0, "oc", order(n, CID + n, 1, 1, "CANCELED")])
    assert [r.cid for r in m.mirror.orders()] == [CID + 7, CID + 8, CID + 9, CID + 100]
    assert m.mirror.order(CID) is None and m.mirror.counts() == {S.CANCELED: 3, S.ACTIVE: 1}
    assert len(m.mirror._cid_by_order_id) == 4
    with pytest.raises(ValueError, match="keep_closed"):
        MirrorOptions(0)


def test_waiting_for_an_order_from_another_thread(m: Mirrored) -> None:
    m.connect()
    found: list[object] = []
    waiter = threading.Thread(target=lambda: found.append(m.mirror.wait_for(CID, S.ACTIVE, timeout=10)))
    waiter.start()  # before the order is even queued
    m.place(CID)
    m.receive([0, "on", order(7, CID, 1, 1)])
    m.receive([0, "oc", order(7, CID, 0, 1, "EXECUTED @ 1(1)")])
    waiter.join(10)
    assert [r.state for r in found] in ([S.ACTIVE], [S.EXECUTED])  # it got there; it may have moved on since
    assert m.mirror.wait_for(CID, S.ACTIVE, timeout=0).state is S.EXECUTED  # reached before: at once
    assert m.mirror.wait_until(lambda s: s.synced, timeout=0).synced
    with pytest.raises(RuntimeError, match="reactor thread"):  # this thread is the mirror's writer here
        m.mirror.wait_for(CID + 1, timeout=0.01)
    reader = AccountMirror()
    with pytest.raises(TimeoutError, match=f"order {CID} is not queued after 0.01 s"):
        reader.wait_for(CID, timeout=0.01)


def test_the_transition_table_is_closed_and_final_states_have_no_exit_but_missing() -> None:
    assert set(ORDER_TRANSITIONS) == set(OrderState)
    for state, targets in ORDER_TRANSITIONS.items():
        assert state not in targets
        if state.final and state is not S.MISSING:
            assert targets == frozenset()
    assert {S.EXECUTED, S.CANCELED, S.REJECTED, S.NOT_SENT, S.MISSING} == FINAL_STATES


def test_a_million_orders_a_day_stay_within_keep_closed() -> None:
    mirror = AccountMirror(MirrorOptions(keep_closed=50))
    mirror.authenticated()
    for n in range(3000):
        cid = MTS + n
        pending_input = PendingInput("on", [0, "on", None, {"cid": cid, "amount": "1"}], (cid,))
        mirror.input_queued(pending_input)
        mirror.input_written(pending_input)
        mirror.account_message(answer("on-req", order(n, cid, 1, 1)))
        mirror.account_message([0, "te", trade(n, n, cid, 1)])
        mirror.account_message([0, "oc", order(n, cid, 0, 1, "EXECUTED @ 1(1)")])
    sizes = [len(part) for part in (mirror._tracked, mirror._closed, mirror._cid_by_order_id)]
    assert sizes == [50, 50, 50] and not mirror._live and not mirror._in_doubt and not mirror._orders


def test_the_client_option() -> None:
    from bitfinex import WssClient
    from bitfinex.testing.memory import MemoryNetwork

    with pytest.raises(ValueError, match="key and secret"):
        WssClient(account_mirror=True)
    with pytest.raises(TypeError, match="account_mirror"):
        WssClient("k", "s", account_mirror="yes")  # type: ignore[arg-type]
    network = MemoryNetwork()  # a reactor that needs no thread: nothing to stop
    with pytest.raises(RuntimeError, match="account_mirror=True"):
        _ = WssClient("k", "s", reactor=network).account
    client = WssClient("k", "s", reactor=network, account_mirror=MirrorOptions(keep_closed=5), dead_man_switch=True)
    assert client.account.options.keep_closed == 5 and client.account.dead_man_switch
