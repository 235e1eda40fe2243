"""The account mirror of a ``WssClient`` against the local exchange: after a session of orders,
amendments, cancels and fills, with connections dropped, silenced, restarted (20051) and
paused for maintenance, the mirror equals the exchange's own account (open orders field by
field, wallets, positions), and every order the session placed ended in exactly one final state.

On one :class:`~bitfinex.testing.memory.MemoryNetwork`: exact, deterministic for a seed, fast.
The short session runs in the fast tier; the random sessions (hundreds of orders each) and the
loopback run are slow.
"""

from __future__ import annotations

import collections
import random
import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Optional

import pytest

from bitfinex import WssClient
from bitfinex.protocol import pacing
from bitfinex.protocol import status as st
from bitfinex.protocol.mirror import MirrorOptions
from bitfinex.protocol.orderstate import FINAL_STATES, OPEN_STATES, ORDER_TRANSITIONS, OrderState, Transition
from bitfinex.testing import LocalExchange
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS
from bitfinex.testing.memory import MemoryNetwork

from helpers import KEY, SECRET, wait_until
from mirror_helpers import differences

S = OrderState
BTCUSD = DEFAULT_INSTRUMENTS[0]
SYMBOL = BTCUSD.symbol
UNSETTLED = frozenset((S.QUEUED, S.WRITTEN, S.ACCEPTED, S.IN_DOUBT))
"""States no order may stay in once the connection is back and its snapshot arrived."""


class Run:
    """An exchange and a mirroring client on one memory network."""

    def __init__(self, seed: int = 0, **client_options: Any) -> None:
        self.network = MemoryNetwork()
        self.exchange = LocalExchange(
            key=KEY, secret=SECRET, reactor=self.network, instruments=[BTCUSD], tick_interval=None,
            heartbeat_interval=1.0, clock=self.network.clock_ms(), seed=seed,
        )
        self.exchange.start()
        self.statuses: list[st.StatusEvent] = []
        settings: dict[str, Any] = {
            "url": self.exchange.url, "reactor": self.network, "status_callback": self.statuses.append,
            "account_mirror": MirrorOptions(keep_closed=100_000), "reconnect_base": 0.05, "reconnect_cap": 0.5,
            "heartbeat_timeout": 5.0,
        }
        settings.update(client_options)
        self.client = WssClient(KEY, SECRET, **settings)
        self.transitions: list[Transition] = []
        self.client.account.listen(self.transitions.append)
        self.placed: list[int] = []

    def start(self) -> None:
        self.client.authenticate()
        self.client.start()
        self.settle("the first snapshots")

    def settle(self, what: str, timeout: float = 60.0) -> None:
        """Run until the mirror is synced (the snapshots after the latest auth have arrived),
        then a little longer for what follows them."""
        self.network.run_until(lambda: self.client.account.snapshot().synced, timeout, what)
        self.network.advance(1.0)

    def place(self, order_type: str, amount: str, price: Optional[str], **options: Any) -> int:
        cid = self.client.new_order(order_type, "BTCUSD", amount, price, **options)
        self.placed.append(cid)
        return cid

    def close(self) -> None:
        self.network.run_until_fired(self.client.stop())
        self.network.run_until_fired(self.exchange.stop())

    def arrived(self) -> set[int]:
        """The cids of the new orders the exchange received (alone or in an ``ox_multi``)."""
        cids: set[int] = set()
        for received in self.exchange.received_inputs():
            name, payload = received.frame[1], received.frame[3]
            if name == "on":
                cids.add(payload["cid"])
            elif name == "ox_multi":
                cids.update(op[1]["cid"] for op in payload if op[0] == "on")
        return cids

    def open_cids(self) -> set[int]:
        """The cids of the exchange's open orders that this client placed."""
        mine = set(self.placed)
        return {row[2] for row in self.exchange.account_state().orders if row[2] in mine}

    def check_synced(self) -> None:
        """The mirror equals the exchange, and no order is left unsettled."""
        snapshot = self.client.account.snapshot()
        assert snapshot.synced
        assert differences(snapshot, self.exchange.account_state()) == []
        records = [self.client.account.order(cid) for cid in self.placed]
        assert all(record is not None for record in records)
        unsettled = [r for r in records if r is not None and r.state in UNSETTLED]
        assert unsettled == []
        assert {r.cid for r in records if r is not None and r.state in OPEN_STATES} == self.open_cids()

    def finish(self) -> collections.Counter[OrderState]:
        """Cancel what is open, then check that every order placed ended in one final state;
        return how many ended in each."""
        self.client.cancel_all_orders()
        self.network.advance(2.0)
        assert self.exchange.account_state().orders == []
        assert differences(self.client.account.snapshot(), self.exchange.account_state()) == []
        states = collections.Counter(self.client.account.order(cid).state for cid in self.placed)  # type: ignore[union-attr]
        assert set(states) <= FINAL_STATES, states
        assert sum(states.values()) == len(self.placed) == len(set(self.placed))
        illegal = [(t.previous, t.order.state) for t in self.transitions
                   if t.moved and t.previous is not None and t.order.state not in ORDER_TRANSITIONS[t.previous]]
        assert illegal == []
        return states


@pytest.fixture
def run() -> Iterator[Run]:
    made = Run()
    yield made
    made.close()


def test_place_fill_amend_cancel_and_a_drop_with_an_order_in_flight(run: Run) -> None:
    run.start()
    bid, ask = run.exchange.best_prices(SYMBOL)
    assert bid is not None and ask is not None
    resting = run.place("EXCHANGE LIMIT", "0.5", str(bid + 1))  # the best bid
    crossing = run.place("EXCHANGE LIMIT", "0.001", str(ask + 20))  # fills at once
    post_only = run.place("EXCHANGE LIMIT", "0.2", str(ask), flags=[4096])
    too_small = run.place("EXCHANGE LIMIT", "0.00001", str(bid))
    run.network.advance(0.1)
    account = run.client.account
    assert [account.order(c).state for c in (resting, crossing, post_only, too_small)] == [
        S.ACTIVE, S.EXECUTED, S.CANCELED, S.REJECTED]
    assert account.order(too_small).reason.startswith("Invalid order: minimum size")

    run.exchange.simulate_order(SYMBOL, "-0.2", str(bid + 1))
    run.network.advance(0.1)
    record = account.order(resting)
    assert record.state is S.PARTIALLY_FILLED and record.filled == Decimal("0.2") and record.fills[0].fee is not None
    run.client.update_order(id=record.order_id, price=str(bid))
    run.network.advance(0.1)
    assert account.snapshot().orders[record.order_id].price == float(bid)
    run.check_synced()

    run.exchange.faults.drop_connections()  # the exchange aborts; the client has not noticed yet
    in_flight = run.place("EXCHANGE LIMIT", "0.1", str(bid - 5))
    run.network.pump()
    assert account.order(in_flight).state is S.IN_DOUBT and account.order(resting).state is S.IN_DOUBT
    run.settle("re-authentication")
    assert account.order(in_flight).state is S.MISSING  # lost in the dead socket: never re-sent
    assert account.order(resting).state is S.PARTIALLY_FILLED
    run.check_synced()
    assert run.finish() == {S.CANCELED: 2, S.EXECUTED: 1, S.REJECTED: 1, S.MISSING: 1}


class RandomSession:
    """Hundreds of orders of every kind, amendments, cancels, fills by other traders, and faults,
    drawn from a seed."""

    def __init__(self, run: Run, seed: int) -> None:
        self.run = run
        self.rng = random.Random(seed)
        self.maintenance = False
        self.actions: collections.Counter[str] = collections.Counter()

    def live(self) -> list[Any]:
        tracked = self.run.client.account.snapshot().tracked.values()
        return [r for r in tracked if r.order_id is not None and r.state in OPEN_STATES]

    def step(self) -> None:
        rng, run = self.rng, self.run
        bid, ask = run.exchange.best_prices(SYMBOL)
        if bid is None or ask is None:
            run.exchange.simulate_order(SYMBOL, "1", "29000" if bid is None else str(bid))
            return
        choice = rng.random()
        live = self.live()
        if choice < 0.38:
            self.place(bid, ask)
        elif choice < 0.48 and live:
            self.amend(rng.choice(live), bid, ask)
        elif choice < 0.60 and live:
            self.cancel(rng.choice(live))
        elif choice < 0.78:
            amount = rng.choice(("0.01", "0.05", "0.2", "0.6"))
            if rng.random() < 0.5:
                run.exchange.simulate_order(SYMBOL, f"-{amount}", str(bid))
            else:
                run.exchange.simulate_order(SYMBOL, amount, str(ask))
            self.actions["fill"] += 1
        elif choice < 0.84:
            ops = [run.client.new_order_op("EXCHANGE LIMIT", "BTCUSD", rng.choice(("0.01", "-0.01")),
                                           str(bid - rng.randint(1, 9))) for _ in range(rng.randint(2, 4))]
            if live:
                ops.append({"id": rng.choice(live).order_id})
            cids = run.client.multi_order(ops)
            run.placed.extend(cid for op, cid in zip(ops, cids) if "type" in op and cid is not None)
            self.actions["multi_order"] += 1
        elif choice < 0.86 and live:
            run.client.cancel_order_multi(ids=[r.order_id for r in rng.sample(live, min(3, len(live)))])
            self.actions["cancel_order_multi"] += 1
        elif choice < 0.90:
            self.fault()
        run.network.advance(rng.choice((0, 0.001, 0.01, 0.05, 0.2, 0.5)))

    def place(self, bid: Decimal, ask: Decimal) -> None:
        rng = self.rng
        buy = rng.random() < 0.5
        amount = rng.choice(("0.001", "0.01", "0.05", "0.1", "0.25", "0.00001"))
        margin = rng.random() < 0.25
        kind = rng.random()
        options: dict[str, Any] = {}
        if kind < 0.55:
            price = bid - rng.randint(0, 4) if buy else ask + rng.randint(0, 4)
            order_type = "LIMIT"
        elif kind < 0.75:
            price = ask + rng.randint(0, 3) if buy else bid - rng.randint(0, 3)
            order_type = "LIMIT"
        elif kind < 0.85:
            price = ask + 2 if buy else bid - 2
            order_type = rng.choice(("IOC", "FOK"))
        elif kind < 0.93:
            price = ask if buy else bid
            order_type = "LIMIT"
            options["flags"] = [4096]  # post-only: cancelled if it would take
        else:
            price = None
            order_type = "MARKET"
        full_type = order_type if margin else f"EXCHANGE {order_type}"
        self.run.place(full_type, amount if buy else f"-{amount}", None if price is None else str(price), **options)
        self.actions[f"new {order_type}"] += 1

    def amend(self, record: Any, bid: Decimal, ask: Decimal) -> None:
        rng = self.rng
        buying = (record.order.amount or 0) > 0
        if rng.random() < 0.5:
            price = bid - rng.randint(0, 3) if buying else ask + rng.randint(0, 3)
            self.run.client.update_order(id=record.order_id, price=str(price))
        else:
            amount = rng.choice(("0.02", "0.15"))
            self.run.client.update_order(id=record.order_id, amount=amount if buying else f"-{amount}")
        self.actions["amend"] += 1

    def cancel(self, record: Any) -> None:
        if self.rng.random() < 0.5 or record.cid_date is None:
            self.run.client.cancel_order(order_id=record.order_id)
        else:
            self.run.client.cancel_order(order_cid=record.cid, order_date=record.cid_date)
        self.actions["cancel"] += 1

    def fault(self) -> None:
        rng, faults = self.rng, self.run.exchange.faults
        pick = rng.random()
        if pick < 0.35:
            faults.drop_connections()
            self.actions["fault: drop"] += 1
        elif pick < 0.6:
            faults.go_silent(rng.choice((0.3, 1.5, 7.0)))  # 7 s: past the heartbeat timeout
            self.actions["fault: silence"] += 1
        elif pick < 0.8:
            faults.send_info(20051)
            self.actions["fault: 20051"] += 1
        else:
            faults.send_info(20061 if self.maintenance else 20060)
            self.maintenance = not self.maintenance
            self.actions["fault: maintenance"] += 1

    def end(self) -> None:
        """Faults off, then one last reconnect: what a silence lost without a gap showing (an
        ``on-req`` answer carries no sequence number of its own) is settled by the snapshot."""
        run = self.run
        if self.maintenance:
            run.exchange.faults.send_info(20061)
        run.exchange.faults.clear()
        run.network.advance(10.0)
        run.exchange.faults.drop_connections()
        run.network.pump()
        run.settle("the last re-authentication")


def random_session(seed: int, steps: int, dead_man_switch: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    jitter = random.Random(seed)  # the reconnect backoff's jitter too, so that a seed is one session
    monkeypatch.setattr(pacing, "random", types.SimpleNamespace(Random=lambda: random.Random(jitter.random())))
    run = Run(seed, sequence_check=True, dead_man_switch=dead_man_switch)
    try:
        run.start()
        session = RandomSession(run, seed)
        for _ in range(steps):
            session.step()
        session.end()
        run.check_synced()
        open_at_end = len(run.open_cids())
        states = run.finish()
        reconnects = sum(1 for e in run.statuses if e.kind == st.AUTHENTICATED) - 1
        figures = {state.name: count for state, count in sorted(states.items(), key=lambda item: -item[1])}
        arrived = run.arrived()
        missing = [cid for cid in run.placed if run.client.account.order(cid).state is S.MISSING]  # type: ignore[union-attr]
        lost = sum(1 for cid in missing if cid not in arrived)
        print(f"\nseed {seed}, dead man's switch {dead_man_switch}: {len(run.placed)} orders, {reconnects} reconnects, "
              f"{open_at_end} open before the final cancel; final states {figures} (missing: {lost} never reached the "
              f"exchange, {len(missing) - lost} closed while their answers were lost); actions {dict(session.actions)}")
        assert len(run.placed) >= 200
        assert states[S.EXECUTED] and states[S.CANCELED] and states[S.REJECTED]
    finally:
        run.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_session_leaves_the_mirror_equal_to_the_exchange(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    random_session(seed, 700, False, monkeypatch)


@pytest.mark.slow
def test_a_random_session_with_the_dead_man_s_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    random_session(4, 700, True, monkeypatch)


@pytest.mark.slow
def test_over_loopback_the_mirror_follows_drops_too(no_leaks: None) -> None:
    """The same over real sockets and threads, shorter: a mirror read from another thread."""
    with LocalExchange(KEY, SECRET, instruments=[BTCUSD], tick_interval=None, heartbeat_interval=1.0) as exchange:
        client = WssClient(KEY, SECRET, url=exchange.url, account_mirror=True, reconnect_base=0.05, reconnect_cap=0.2)
        try:
            client.authenticate()
            client.start()
            account = client.account
            account.wait_until(lambda s: s.synced, timeout=10)
            bid, _ = exchange.best_prices(SYMBOL)
            assert bid is not None
            cids = [client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", str(bid + 1)) for _ in range(20)]  # the best bid
            for cid in cids:
                assert account.wait_for(cid, S.ACTIVE, timeout=10).state is S.ACTIVE
            exchange.simulate_order(SYMBOL, "-0.015", str(bid + 1))  # fills the first and half the second
            assert account.wait_for(cids[0], timeout=10).state is S.EXECUTED
            assert account.wait_for(cids[1], S.PARTIALLY_FILLED, timeout=10).filled == Decimal("0.005")
            exchange.faults.drop_connections()
            wait_until(lambda: not account.snapshot().synced, 10, "the drop noticed")
            account.wait_until(lambda s: s.synced, timeout=10)
            assert {account.order(cid).state for cid in cids[2:]} == {S.ACTIVE}
            assert differences(account.snapshot(), exchange.account_state()) == []
            client.cancel_all_orders()
            for cid in cids:
                assert account.wait_for(cid, timeout=10).final
            assert differences(account.snapshot(), exchange.account_state()) == []
        finally:
            client.stop()


@pytest.mark.slow
def test_the_mirror_benchmark_runs() -> None:
    """``python -m bench.mirror --quick`` produces every figure (timing is not asserted)."""
    from bench import mirror as benchmark

    results = benchmark.main(["--quick", "--repetitions", "1"])
    for figures in results["sizes"].values():
        assert figures["without_us"] > 0 and figures["with_us"] > 0 and figures["snapshot_us"] > 0
        assert figures["states"] == {"executed": 1000, "canceled": 1000}
