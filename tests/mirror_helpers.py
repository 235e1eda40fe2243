"""What the account mirror's tests share: a session whose authenticated connection drives an
:class:`~bitfinex.protocol.mirror.AccountMirror`, Bitfinex's arrays, and the comparison of a
mirror with the local exchange's own account state."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Optional

from bitfinex.protocol.account import AuthConnection, Credentials
from bitfinex.protocol.callbacks import CallbackRunner
from bitfinex.protocol.fields import ORDER_FIELDS, POSITION_FIELDS, order_array
from bitfinex.protocol.mirror import AccountMirror, AccountSnapshot, MirrorOptions
from bitfinex.protocol.orderstate import Transition
from bitfinex.protocol.pipeline import PendingInput
from bitfinex.protocol.session import AuthSettings, Session
from bitfinex.protocol.signing import NonceGenerator, Secret

from core_helpers import Clock, Recorder, Sockets, Wire, frame

MTS = 1_700_000_000_000
"""A creation time (2023-11-14 22:13:20 UTC), in ms."""
SYMBOL = "tBTCUSD"


class Mirrored:
    """A session with keys whose authenticated connection drives a mirror; nothing is open yet."""

    def __init__(self, *, dms: bool = False, keep_closed: int = 10_000) -> None:
        self.statuses = Recorder()
        self.clock = Clock()
        self.runner = CallbackRunner(self.statuses, time.perf_counter)
        self.mirror = AccountMirror(MirrorOptions(keep_closed), runner=self.runner, clock=self.clock, dead_man_switch=dms)
        self.transitions: list[Transition] = []
        self.mirror.listen(self.transitions.append)
        settings = AuthSettings(Credentials("the-key", Secret("the-secret"), NonceGenerator()), lambda: MTS,
                                4 if dms else None, observer=self.mirror)
        self.session = Session(events=Sockets(), report=self.statuses, runner=self.runner, clock=self.clock,
                               max_channels=25, auth=settings)
        self.messages = Recorder()
        self.session.authenticate(self.messages, None)
        self.wire = Wire()

    @property
    def auth(self) -> AuthConnection:
        assert self.session.auth is not None
        return self.session.auth

    def connect(self, snapshots: Optional[list[Any]] = None) -> None:
        """Open a socket, authenticate it and send the snapshots (empty ones by default)."""
        self.wire = Wire()
        self.auth.opened(self.wire)
        self.receive({"event": "auth", "status": "OK", "chanId": 0, "userId": 1})
        for kind, rows in snapshots if snapshots is not None else [("ps", []), ("ws", []), ("os", [])]:
            self.receive([0, kind, rows])

    def receive(self, message: Any) -> None:
        """The server sends ``message``."""
        self.auth.received(frame(message))

    def place(self, cid: int, amount: str = "0.5", price: str = "30000", order_type: str = "EXCHANGE LIMIT") -> None:
        """Queue a new order (``new_order`` without the facade)."""
        payload = {"cid": cid, "type": order_type, "symbol": SYMBOL, "amount": amount, "price": price}
        self.session.submit(PendingInput("on", [0, "on", None, payload], (cid,)))

    def moves(self, cid: int) -> list[str]:
        """The names of the states the order moved through, as the listener heard them."""
        return [t.order.state.name for t in self.transitions if t.order.cid == cid and t.moved]


def order(order_id: int, cid: Optional[int], amount: float, amount_orig: float, status: str = "ACTIVE",
          price: float = 30_000.0, mts: int = MTS, **extra: Any) -> list[Any]:
    """A 32-field order array as Bitfinex sends it."""
    return order_array({
        "id": order_id, "cid": cid, "symbol": SYMBOL, "mts_create": mts, "mts_update": mts, "amount": amount,
        "amount_orig": amount_orig, "type": "EXCHANGE LIMIT", "flags": 0, "status": status, "price": price,
        "price_avg": 0, "notify": 0, "hidden": 0, "routing": "API>BFX", **extra,
    })


def trade(trade_id: int, order_id: int, cid: Optional[int], amount: float, price: float = 30_000.0,
          fee: Optional[float] = None) -> list[Any]:
    """An own trade: a ``te`` array, or with ``fee`` a ``tu``."""
    return [trade_id, SYMBOL, MTS, order_id, amount, price, "EXCHANGE LIMIT", price, 1, fee,
            "BTC" if fee is not None else None, cid]


def answer(request: str, info: Any, status: str = "SUCCESS", text: str = "Submitting.") -> list[Any]:
    """A ``[0, "n", [...]]`` notification answering ``request`` (``"on-req"``...)."""
    return [0, "n", [MTS, request, None, None, info, None, status, text]]


# -- the mirror and the local exchange ------------------------------------------------------

_PROFIT = (POSITION_FIELDS["pl"], POSITION_FIELDS["pl_perc"])
"""Position fields computed at the market's price of the moment they are sent (the exchange
computes them again when asked): not compared."""


def differences(snapshot: AccountSnapshot, state: Any) -> list[str]:
    """What differs between a mirror's snapshot and the local exchange's ``AccountState``,
    field by field: open orders (every field), wallet balances, positions (every field but the
    profit and loss of the moment). Empty when they agree."""
    found: list[str] = []
    exchange_orders = {row[0]: row for row in state.orders}
    for order_id in sorted(set(exchange_orders) | set(snapshot.orders)):
        theirs, ours = exchange_orders.get(order_id), snapshot.orders.get(order_id)
        if theirs is None or ours is None:
            found.append(f"order {order_id}: exchange has {theirs!r}, mirror has {ours!r}")
            continue
        for name, index in ORDER_FIELDS.items():
            if theirs[index] != ours[index]:
                found.append(f"order {order_id} {name}: exchange {theirs[index]!r}, mirror {ours[index]!r}")
    wallets = {key: wallet.balance for key, wallet in snapshot.wallets.items()}
    expected = {key: float(balance) for key, balance in state.wallets.items()}
    for key in sorted(set(wallets) | set(expected)):
        if wallets.get(key) != expected.get(key):
            found.append(f"wallet {key}: exchange {expected.get(key)!r}, mirror {wallets.get(key)!r}")
    exchange_positions = {row[0]: row for row in state.positions}
    for symbol in sorted(set(exchange_positions) | set(snapshot.positions)):
        theirs_p, ours_p = exchange_positions.get(symbol), snapshot.positions.get(symbol)
        if theirs_p is None or ours_p is None:
            found.append(f"position {symbol}: exchange has {theirs_p!r}, mirror has {ours_p!r}")
            continue
        for name, index in POSITION_FIELDS.items():
            if index not in _PROFIT and theirs_p[index] != ours_p[index]:
                found.append(f"position {symbol} {name}: exchange {theirs_p[index]!r}, mirror {ours_p[index]!r}")
    return found


def exact_sum(values: list[float]) -> Decimal:
    """The exact decimal sum of amounts as written."""
    return sum((Decimal(repr(v)) for v in values), Decimal(0))
