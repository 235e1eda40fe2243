"""The order desk without I/O: REDUCE_ONLY and CLOSE orders never increase or flip a position,
whatever mix of takers, resting makers, stops, updates and simulated flow meets them.

A seeded random walk of client inputs and simulated trades against one
:class:`~bitfinex.testing.venue.Venue`; every fill of a REDUCE_ONLY or CLOSE order is checked as
it settles, and every input must be answered by a notification (nothing raises, nothing is
logged at ERROR).
"""

from __future__ import annotations

import logging
import random
from decimal import Decimal
from typing import Any

import pytest

from bitfinex.protocol.constants import OrderFlag
from bitfinex.testing.accounts import AccountMessage, Order
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS
from bitfinex.testing.trading import OrderDesk
from bitfinex.testing.venue import ManualClock, Venue

from helpers import assert_nothing_escaped

REDUCING = (int(OrderFlag.REDUCE_ONLY), int(OrderFlag.CLOSE), int(OrderFlag.REDUCE_ONLY | OrderFlag.POST_ONLY))
FLAGS = (0, 0, int(OrderFlag.HIDDEN), *REDUCING, *REDUCING)
TYPES = ("MARKET", "LIMIT", "LIMIT", "IOC", "STOP")


class Recorder:
    """An account sink that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[AccountMessage] = []

    def deliver_account(self, message: AccountMessage) -> None:
        self.messages.append(message)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reducing_orders_never_increase_or_flip_a_position(monkeypatch, caplog, seed):
    caplog.set_level(logging.INFO)
    rng = random.Random(seed)
    venue = Venue(instruments=[DEFAULT_INSTRUMENTS[0]], seed=seed, clock=ManualClock())
    account = venue.add_account("k", "s")
    recorder = Recorder()
    venue.attach(account, recorder)
    desk = venue.desk
    checked: list[tuple[Decimal, Decimal]] = []
    book_trade = OrderDesk._book_trade

    def checked_book_trade(self: OrderDesk, owner: Any, order: Order, amount: Decimal, *args: Any, **kwargs: Any) -> None:
        position = owner.positions.get(order.symbol)
        before = position.amount if position else Decimal(0)
        book_trade(self, owner, order, amount, *args, **kwargs)
        if order.reduces_only and not order.is_exchange:
            position = owner.positions.get(order.symbol)
            after = position.amount if position else Decimal(0)
            assert before != 0 and abs(after) < abs(before) and (after == 0 or (after > 0) == (before > 0)), (
                before, amount, after, order,
            )
            checked.append((before, after))

    monkeypatch.setattr(OrderDesk, "_book_trade", checked_book_trade)
    book = venue.books["tBTCUSD"]
    for step in range(400):
        venue.clock.advance(1000)  # type: ignore[attr-defined]
        mid = ((book.best_bid() or Decimal(30000)) + (book.best_ask() or Decimal(30000))) / 2
        choice = rng.random()
        before = len(recorder.messages)
        sent = True
        if choice < 0.55:
            kind = rng.choice(TYPES)
            payload: dict[str, Any] = {
                "type": kind, "symbol": "tBTCUSD", "flags": rng.choice(FLAGS), "cid": step,
                "amount": str(Decimal(rng.randint(1, 20)) / 100 * rng.choice((1, -1))),
            }
            if kind != "MARKET":
                payload["price"] = str(int(mid) + rng.randint(-60, 60))
            desk.submit(account, payload)
        elif choice < 0.8 or not account.orders:
            desk.fill_simulated("tBTCUSD", Decimal(rng.randint(1, 40)) / 100 * rng.choice((1, -1)), None)
            sent = False
        elif choice < 0.9:
            order = rng.choice(list(account.orders.values()))
            desk.update(account, {"id": order.order_id, "amount": str(order.amount * 2), "price": str(int(mid))})
        else:
            desk.cancel(account, {"id": rng.choice(list(account.orders))})
        venue.flush()
        answered = [m for m in recorder.messages[before:] if m.kind == "n"]
        assert len(answered) == (1 if sent else 0)
        assert all(m.data[7] != "request failed" for m in answered)
    assert len(checked) > 10  # the walk did make reducing orders fill
    statuses = {m.data[13].split(" ")[0] for m in recorder.messages if m.kind == "oc"}
    assert {"RSN_POS_REDUCE_FLIP", "RSN_POS_NOTFOUND"} <= statuses
    assert_nothing_escaped(caplog)
