"""Reading the account mirror from eight threads while the reactor thread applies a stream of
account messages never raises and never sees a torn update: every snapshot any reader got is
exactly the mirror's state after some whole message (the state a mirror fed the same stream
alone had at that version), and each reader's snapshots come in order. A property test: the
streams (orders placed, answered, opened, filled, amended, closed; wallets, positions, balance,
funding; snapshots replacing them; connections closing and authenticating again) are drawn by
hypothesis. Thread switches are made a hundred times more frequent than by default, so readers
land inside messages as often as possible.

Slow tier: eight threads per example, tens of examples.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitfinex.protocol.mirror import AccountMirror, AccountSnapshot
from bitfinex.protocol.pipeline import PendingInput

from mirror_helpers import MTS, answer, order, trade

pytestmark = pytest.mark.slow

READERS = 8
CIDS = st.integers(MTS, MTS + 5)
IDS = st.integers(1, 6)
AMOUNTS = st.sampled_from((0.1, 0.2, 0.5, 1.0, -0.3))
STATUSES = st.sampled_from(("ACTIVE", "PARTIALLY FILLED @ 1(0.1)", "CANCELED", "EXECUTED @ 1(0.5)", "IOC CANCELED"))
CURRENCIES = st.sampled_from(("USD", "BTC", "ETH"))

EVENTS = st.one_of(
    st.tuples(st.just("queue"), CIDS),
    st.tuples(st.just("written"), CIDS),
    st.tuples(st.just("not_sent"), CIDS),
    st.tuples(st.just("unconfirmed"), CIDS),
    st.tuples(st.just("accept"), CIDS, IDS),
    st.tuples(st.just("reject"), CIDS),
    st.tuples(st.sampled_from(("on", "ou", "oc")), CIDS, IDS, AMOUNTS, STATUSES),
    st.tuples(st.sampled_from(("te", "tu")), st.integers(1, 8), CIDS, IDS, AMOUNTS),
    st.tuples(st.just("wu"), CURRENCIES, AMOUNTS),
    st.tuples(st.just("ws"), st.lists(st.tuples(CURRENCIES, AMOUNTS), max_size=3)),
    st.tuples(st.sampled_from(("pu", "pc")), st.sampled_from(("tBTCUSD", "tETHUSD")), AMOUNTS),
    st.tuples(st.just("bu"), AMOUNTS),
    st.tuples(st.sampled_from(("fon", "foc", "fcn", "flc")), IDS, AMOUNTS),
    st.tuples(st.just("os"), st.lists(st.tuples(IDS, CIDS, AMOUNTS), max_size=4)),
    st.tuples(st.sampled_from(("close", "auth"))),
)


def pending(cid: int) -> PendingInput:
    payload = {"cid": cid, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.5", "price": "1"}
    return PendingInput("on", [0, "on", None, payload], (cid,))


def apply(mirror: AccountMirror, event: tuple[Any, ...]) -> None:
    """Feed one event to the mirror as the authenticated connection would."""
    kind = event[0]
    if kind == "queue":
        mirror.input_queued(pending(event[1]))
    elif kind == "written":
        mirror.input_written(pending(event[1]))
    elif kind == "not_sent":
        mirror.input_not_sent(pending(event[1]), "client stopped")
    elif kind == "unconfirmed":
        mirror.input_unconfirmed(pending(event[1]), "gone")
    elif kind == "accept":
        mirror.account_message(answer("on-req", order(event[2], event[1], 0.5, 0.5)))
    elif kind == "reject":
        mirror.account_message(answer("on-req", order(0, event[1], 0.5, 0.5), "ERROR", "Invalid order"))
    elif kind in ("on", "ou", "oc"):
        _, cid, order_id, amount, status = event
        mirror.account_message([0, kind, order(order_id, cid, amount, 0.5, status)])
    elif kind in ("te", "tu"):
        _, trade_id, cid, order_id, amount = event
        mirror.account_message([0, kind, trade(trade_id, order_id, cid, amount, fee=-0.001 if kind == "tu" else None)])
    elif kind == "wu":
        mirror.account_message([0, "wu", ["exchange", event[1], event[2], 0, event[2], None, None]])
    elif kind == "ws":
        mirror.account_message([0, "ws", [["exchange", c, b, 0, b, None, None] for c, b in event[1]]])
    elif kind in ("pu", "pc"):
        mirror.account_message([0, kind, [event[1], "ACTIVE", event[2], 100, 0, 0, None, None, None, None, None, 3, MTS, MTS]])
    elif kind == "bu":
        mirror.account_message([0, "bu", [event[1], event[1]]])
    elif kind in ("fon", "foc", "fcn", "flc"):
        mirror.account_message([0, kind, [event[1], "fUSD", MTS, MTS, event[2], event[2], "LIMIT"]])
    elif kind == "os":
        mirror.account_message([0, "os", [order(i, c, a, 0.5) for i, c, a in event[1]]])
    elif kind == "close":
        mirror.connection_closed("dropped")
    elif kind == "auth":
        mirror.authenticated()


def canonical(snapshot: AccountSnapshot) -> tuple[Any, ...]:
    """Everything a snapshot holds, as plain comparable values."""
    def items(mapping: Any) -> tuple[Any, ...]:
        return tuple(sorted((key, tuple(value)) for key, value in mapping.items()))

    tracked = tuple(sorted(
        (cid, r.state, r.previous, r.reason, None if r.order is None else tuple(r.order), r.order_id,
         tuple(tuple(f) for f in r.fills), r.reached_bits)
        for cid, r in snapshot.tracked.items()
    ))
    return (snapshot.version, snapshot.synced, items(snapshot.orders), tuple(sorted(snapshot.orders_by_cid)),
            items(snapshot.wallets), items(snapshot.positions), None if snapshot.balance is None else tuple(snapshot.balance),
            items(snapshot.funding_offers), items(snapshot.funding_credits), items(snapshot.funding_loans), tracked)


@pytest.fixture(autouse=True)
def frequent_switches() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(5e-5)
    yield
    sys.setswitchinterval(before)


@settings(max_examples=40)
@given(events=st.lists(EVENTS, min_size=20, max_size=150))
def test_eight_readers_only_ever_see_whole_messages(events: list[tuple[Any, ...]]) -> None:
    reference = AccountMirror()
    expected = {0: canonical(reference.snapshot())}
    for event in events:
        apply(reference, event)
        snapshot = reference.snapshot()
        expected[snapshot.version] = canonical(snapshot)

    mirror = AccountMirror()
    done = threading.Event()
    seen: list[list[AccountSnapshot]] = [[] for _ in range(READERS)]
    failures: list[BaseException] = []

    def read(mine: list[AccountSnapshot]) -> None:
        try:
            while not done.is_set():
                mine.append(mirror.snapshot())
                mirror.order(MTS)
                mirror.counts()
        except BaseException as error:
            failures.append(error)

    readers = [threading.Thread(target=read, args=(seen[n],)) for n in range(READERS)]
    for reader in readers:
        reader.start()
    for event in events:
        apply(mirror, event)
        time.sleep(0)
    done.set()
    for reader in readers:
        reader.join(10)
    assert failures == []
    assert canonical(mirror.snapshot()) == expected[max(expected)]
    for mine in seen:
        versions = [snapshot.version for snapshot in mine]
        assert versions == sorted(versions)
        for snapshot in mine:
            assert canonical(snapshot) == expected[snapshot.version]  # read after the fact: never changed since
