"""The account mirror: a maintained, consistent view of the authenticated account.

An :class:`AccountMirror` is to the authenticated channel what a maintained
:class:`~bitfinex.protocol.book.OrderBook` is to a book channel. The authenticated connection
tells it (as its :class:`~bitfinex.protocol.account.AccountObserver`, on the reactor thread) of
every order input's fate and every account frame, in arrival order; from them it keeps

- the account: open orders (by id, and by cid and date), wallets (by type and currency, with
  the available balance), positions (by symbol), the balance info (``bu``), funding offers,
  credits and loans. Snapshots (``os``, ``ws``, ``ps``, ``fos``, ``fcs``, ``fls``) replace their
  part; updates (``on``/``ou``/``oc``, ``wu``, ``pn``/``pu``/``pc``, ``bu``, ``fon``/``fou``/``foc``,
  ``fcn``/``fcu``/``fcc``, ``fln``/``flu``/``flc``) patch it;
- every order the client queued, followed by its cid through the states of
  :mod:`bitfinex.protocol.orderstate`, with its fills (``te``/``tu``);
- after a reconnect, the settlement of every order left in doubt (see
  :meth:`AccountMirror.account_message`).

Reading it, from any thread at any moment: :meth:`AccountMirror.snapshot` returns an immutable
:class:`AccountSnapshot` taken between two messages, never inside one;
:meth:`AccountMirror.order` returns an order's immutable record;
:meth:`AccountMirror.wait_for` and :meth:`AccountMirror.wait_until` block the calling thread
until something happened; :meth:`AccountMirror.listen` calls back (on the reactor thread) on
every transition.

How reads stay consistent without blocking the reactor: the reactor thread is the only writer,
and it never takes a lock. It brackets each message between two increments of a version
counter (odd while it changes things) and notes which part of the account (orders, wallets,
positions, each kind of funding, the orders it follows) each message touched. A reader copies
the parts that changed since the last snapshot anyone took (the others are shared with it), then
checks that the version did not move while it copied, else copies again; the snapshot it made is
kept for the next reader of the same version. So applying a message costs the writer O(1)
(dictionary updates and two increments), whatever the size of the account, and readers pay for
their own copies, once per version.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Optional, TypeVar

from bitfinex.protocol.account import NOT_SENT
from bitfinex.protocol.accountdata import (
    DAY_MS,
    AccountRecord,
    Balance,
    Fill,
    FundingCredit,
    FundingLoan,
    FundingOffer,
    Order,
    Position,
    Wallet,
    utc_date,
)
from bitfinex.protocol.callbacks import CallbackRunner
from bitfinex.protocol.fields import ORDER_FIELDS, TRADE_FIELDS
from bitfinex.protocol.ids import cid_to_date
from bitfinex.protocol.orderstate import (
    FINAL_STATES,
    OPEN_STATES,
    OrderState,
    TrackedOrder,
    Transition,
    exact,
)
from bitfinex.protocol.pipeline import PendingInput

__all__ = ["AccountMirror", "AccountSnapshot", "MirrorOptions", "TransitionListener"]

log = logging.getLogger("bitfinex.mirror")

TransitionListener = Callable[[Transition], Any]
"""Called (on the reactor thread) with each :class:`~bitfinex.protocol.orderstate.Transition`."""

R = TypeVar("R", bound=AccountRecord)
W = TypeVar("W")

_S = OrderState
_IN_DOUBT, _ACTIVE, _PARTIAL = OrderState.IN_DOUBT, OrderState.ACTIVE, OrderState.PARTIALLY_FILLED
_ZERO = Decimal(0)
_DOUBTFUL = frozenset((_S.WRITTEN, _S.ACCEPTED, _S.ACTIVE, _S.PARTIALLY_FILLED))
_ERRORS = ("ERROR", "FAILURE")
_EXECUTED = ("EXECUTED", "FORCED EXECUTED")
_TIMESTAMP_CIDS = range(10**12, 10**13)
"""Cids that are millisecond timestamps (this library's)."""
_tuple_new = tuple.__new__
_CID, _MTS_CREATE = ORDER_FIELDS["cid"], ORDER_FIELDS["mts_create"]
_AMOUNT, _STATUS = ORDER_FIELDS["amount"], ORDER_FIELDS["status"]
_TRADE_ORDER_ID, _TRADE_CID, _FEE = TRADE_FIELDS["order_id"], TRADE_FIELDS["cid"], TRADE_FIELDS["fee"]

# Parts of the account, each copied into a snapshot only when it changed since the last one.
_ORDERS, _WALLETS, _POSITIONS, _OFFERS, _CREDITS, _LOANS, _LIVE = range(7)
_PARTS = 7


@dataclasses.dataclass(frozen=True)
class MirrorOptions:
    """How an :class:`AccountMirror` behaves (``WssClient(account_mirror=MirrorOptions(...))``).

    :param keep_closed: how many finished orders (executed, cancelled, rejected, not sent,
        missing) to remember, the most recent ones: an older finished order is forgotten
        (:meth:`AccountMirror.order` returns ``None`` for it), so a bot placing a million
        orders a day does not grow without bound. At least 1; 10,000 by default.
    :raises ValueError: for a ``keep_closed`` below 1.
    """

    keep_closed: int = 10_000

    def __post_init__(self) -> None:
        if isinstance(self.keep_closed, bool) or not isinstance(self.keep_closed, int) or self.keep_closed < 1:
            raise ValueError(f"keep_closed must be an int of at least 1, got {self.keep_closed!r}")


def _cid_key(order: Sequence[Any]) -> Optional[tuple[int, str]]:
    """Where an open order sits in :attr:`AccountSnapshot.orders_by_cid`: ``(cid, cid_date)``."""
    if len(order) <= _MTS_CREATE:
        return None
    cid = order[_CID]
    if type(cid) is not int:
        return None
    date = utc_date(order[_MTS_CREATE])
    return (cid, date) if date is not None else None


class _OrderIndex:
    """Open orders, and their index by ``(cid, cid_date)``, built when first asked for (by
    readers, never by the reactor thread) and shared by every snapshot of the same orders."""

    __slots__ = ("_by_cid", "orders")

    def __init__(self, orders: Mapping[int, Order]) -> None:
        self.orders = orders
        self._by_cid: Optional[Mapping[tuple[int, str], Order]] = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _OrderIndex) and other.orders == self.orders

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(dict(self.orders))

    def by_cid(self) -> Mapping[tuple[int, str], Order]:
        index = self._by_cid
        if index is None:
            built: dict[tuple[int, str], Order] = {}
            for order in self.orders.values():
                key = _cid_key(order)
                if key is not None:
                    built[key] = order
            index = self._by_cid = types.MappingProxyType(built)
        return index


@dataclasses.dataclass(frozen=True)
class AccountSnapshot:
    """The account at one moment, between two messages: immutable, safe to keep and share.

    Records are the arrays Bitfinex sent (:mod:`bitfinex.protocol.accountdata`), read-only.
    """

    version: int
    """Grows with every message the mirror applied (snapshots of equal version are equal)."""
    synced: bool
    """Whether the order snapshot (``os``) after the latest authentication has arrived, and the
    socket is still up: until then the open orders are the last known, and orders may be in
    doubt."""
    _orders: _OrderIndex = dataclasses.field(repr=False)
    wallets: Mapping[tuple[str, str], Wallet]
    """Wallets by ``(type, currency)``: ``("exchange", "USD")``."""
    positions: Mapping[str, Position]
    """Open positions by symbol."""
    balance: Optional[Balance]
    """The latest balance info (``bu``), or ``None`` before the first."""
    funding_offers: Mapping[int, FundingOffer]
    """Open funding offers by id."""
    funding_credits: Mapping[int, FundingCredit]
    """Funding credits (used in a position) by id."""
    funding_loans: Mapping[int, FundingLoan]
    """Funding loans (not used in a position) by id."""
    tracked: Mapping[int, TrackedOrder]
    """The orders this client queued that are not finished yet, by cid (the finished ones:
    :meth:`AccountMirror.order`)."""

    @property
    def orders(self) -> Mapping[int, Order]:
        """Open orders by Bitfinex id."""
        return self._orders.orders

    @property
    def orders_by_cid(self) -> Mapping[tuple[int, str], Order]:
        """Open orders by ``(cid, cid_date)``, the UTC date of creation: the two together
        identify an order, as Bitfinex's ``oc`` by cid does (see :meth:`order_by_cid`)."""
        return self._orders.by_cid()

    def order_by_cid(self, cid: int, cid_date: Optional[str] = None) -> Optional[Order]:
        """The open order with this cid (and creation date: ``"YYYY-MM-DD"``), or ``None``.

        Without ``cid_date``: the open order of that cid created on the cid's own date or the
        day before or after, for a cid that is a millisecond timestamp (as this library makes
        them); any open order with that cid for others.
        """
        by_cid = self.orders_by_cid
        if cid_date is not None:
            return by_cid.get((cid, cid_date))
        if cid in _TIMESTAMP_CIDS:
            for day in (0, -1, 1):
                found = by_cid.get((cid, cid_to_date(cid + day * DAY_MS)))
                if found is not None:
                    return found
            return None
        for (order_cid, _), order in by_cid.items():
            if order_cid == cid:
                return order
        return None

    def wallet(self, wallet_type: str, currency: str) -> Optional[Wallet]:
        """The wallet of that type (``exchange``, ``margin``, ``funding``) and currency."""
        return self.wallets.get((wallet_type, currency))


_EMPTY: Mapping[Any, Any] = types.MappingProxyType({})


def _frozen(part: dict[Any, Any]) -> Mapping[Any, Any]:
    return types.MappingProxyType(dict(part))


def _new_orders(pending: PendingInput) -> list[Mapping[str, Any]]:
    """The ``on`` payloads (with an int cid) an input carries: itself, or its ``ox_multi`` ops."""
    message = pending.message
    payload = message[3] if len(message) > 3 else None
    if pending.name == "on":
        candidates: list[Any] = [payload]
    elif pending.name == "ox_multi" and type(payload) is list:
        candidates = [op[1] for op in payload if type(op) in (list, tuple) and len(op) == 2 and op[0] == "on"]
    else:
        return []
    return [p for p in candidates if isinstance(p, Mapping) and type(p.get("cid")) is int]


def _ordered(record: TrackedOrder) -> Decimal:
    """The amount of an order: its latest amount ordered, else the one queued."""
    order = record.order
    return exact(order.amount_orig if order is not None else record.request.get("amount"))


class AccountMirror:
    """A maintained view of the authenticated account and of every order the client queued.

    The authenticated connection drives it (it is the connection's
    :class:`~bitfinex.protocol.account.AccountObserver`, on the reactor thread); every other
    method is for readers, in any thread. ``WssClient(key, secret, account_mirror=True)`` makes
    one: :attr:`bitfinex.WssClient.account`.

    The mirror follows what the authenticated channel carries: with auth ``filters`` that leave
    out ``trading`` it sees no orders (and no ``os`` ever settles anything), without ``notify``
    no ``on-req`` answers (orders go from written to active directly, and a rejection is only
    noticed as missing after the next reconnect), without ``wallet`` no wallets.

    :param options: how many finished orders to remember (:class:`MirrorOptions`).
    :param runner: runs the transition listeners (isolated: a listener that raises is
        reported as ``callback_error``); ``None`` calls them bare.
    :param clock: the client's clock in seconds (the reactor's): dates each change.
    :param dead_man_switch: whether the authenticated socket asks Bitfinex to cancel every order
        when it closes (auth ``dms: 4``): orders seen open when it closed are then settled as
        cancelled after the reconnect, not missing.
    """

    def __init__(
        self,
        options: MirrorOptions = MirrorOptions(),
        *,
        runner: Optional[CallbackRunner] = None,
        clock: Callable[[], float] = lambda: 0.0,
        dead_man_switch: bool = False,
    ) -> None:
        self.options = options
        """How it behaves."""
        self.dead_man_switch = dead_man_switch
        """Whether Bitfinex cancels every order when the authenticated socket closes."""
        self._runner = runner
        self._clock = clock
        self._keep = options.keep_closed
        # The writer's state: touched by the reactor thread only.
        self._orders: dict[int, Order] = {}
        self._wallets: dict[tuple[str, str], Wallet] = {}
        self._positions: dict[str, Position] = {}
        self._offers: dict[int, FundingOffer] = {}
        self._credits: dict[int, FundingCredit] = {}
        self._loans: dict[int, FundingLoan] = {}
        self._balance: Optional[Balance] = None
        self._tracked: dict[int, TrackedOrder] = {}
        self._live: dict[int, TrackedOrder] = {}
        self._in_doubt: dict[int, None] = {}
        self._closed: collections.deque[int] = collections.deque()
        self._cid_by_order_id: dict[int, int] = {}
        self._synced = False
        self._settle_pending = False
        self._changes: list[Transition] = []
        self._version = 0
        self._changed = [0] * _PARTS
        self._writer: Optional[int] = None
        # What readers share.
        self._published = AccountSnapshot(0, False, _OrderIndex(_EMPTY), _EMPTY, _EMPTY, None, _EMPTY, _EMPTY, _EMPTY, _EMPTY)
        self._publish_lock = threading.Lock()
        self._listeners: tuple[TransitionListener, ...] = ()
        self._listeners_lock = threading.Lock()
        self._condition = threading.Condition(threading.Lock())
        self._waiting = 0
        self._handlers: dict[str, Callable[[Any], None]] = {
            "os": self._order_snapshot,
            "on": self._order_open,
            "ou": self._order_open,
            "oc": self._order_closed,
            "te": self._trade,
            "tu": self._trade,
            "n": self._notification,
            "ws": self._wallet_snapshot,
            "wu": self._wallet_update,
            "ps": self._position_snapshot,
            "pn": self._position_update,
            "pu": self._position_update,
            "pc": self._position_closed,
            "bu": self._balance_update,
            "fos": self._keyed_snapshot(_OFFERS, "_offers", FundingOffer),
            "fon": self._keyed_update(_OFFERS, "_offers", FundingOffer),
            "fou": self._keyed_update(_OFFERS, "_offers", FundingOffer),
            "foc": self._keyed_close(_OFFERS, "_offers"),
            "fcs": self._keyed_snapshot(_CREDITS, "_credits", FundingCredit),
            "fcn": self._keyed_update(_CREDITS, "_credits", FundingCredit),
            "fcu": self._keyed_update(_CREDITS, "_credits", FundingCredit),
            "fcc": self._keyed_close(_CREDITS, "_credits"),
            "fls": self._keyed_snapshot(_LOANS, "_loans", FundingLoan),
            "fln": self._keyed_update(_LOANS, "_loans", FundingLoan),
            "flu": self._keyed_update(_LOANS, "_loans", FundingLoan),
            "flc": self._keyed_close(_LOANS, "_loans"),
        }

    def __repr__(self) -> str:
        return (f"<AccountMirror version={self._version} synced={self._synced} open_orders={len(self._orders)} "
                f"followed={len(self._tracked)} unfinished={len(self._live)}>")

    # -- reading (any thread) -------------------------------------------------------------

    def snapshot(self) -> AccountSnapshot:
        """The account as it is now, between two messages: an immutable
        :class:`AccountSnapshot`. Never blocks the reactor; costs a copy of what changed since
        the last snapshot taken (by any thread), nothing when nothing did."""
        spins = 0
        while True:
            base = self._published
            version = self._version
            if base.version == version:
                return base
            if version & 1:  # the reactor thread is inside a message: let it finish
                spins += 1
                time.sleep(0 if spins < 50 else 0.0002)
                continue
            changed = self._changed
            since = base.version
            try:
                orders = base._orders if changed[_ORDERS] <= since else _OrderIndex(_frozen(self._orders))
                wallets = base.wallets if changed[_WALLETS] <= since else _frozen(self._wallets)
                positions = base.positions if changed[_POSITIONS] <= since else _frozen(self._positions)
                offers = base.funding_offers if changed[_OFFERS] <= since else _frozen(self._offers)
                credits = base.funding_credits if changed[_CREDITS] <= since else _frozen(self._credits)
                loans = base.funding_loans if changed[_LOANS] <= since else _frozen(self._loans)
                live = base.tracked if changed[_LIVE] <= since else _frozen(self._live)
                synced, balance = self._synced, self._balance
            except RuntimeError:  # a dict changed while copied (only without a GIL): again
                continue
            if self._version != version:
                continue
            snapshot = AccountSnapshot(version, synced, orders, wallets, positions, balance, offers, credits, loans, live)
            with self._publish_lock:
                if self._published.version < version:
                    self._published = snapshot
            return snapshot

    def order(self, cid: int) -> Optional[TrackedOrder]:
        """The order this client queued with this cid, as known now; ``None`` for a cid it did
        not queue (yet: called from another thread than the client's, ``new_order`` returns
        before the reactor thread has taken the order), or a finished order older than the
        ``keep_closed`` latest."""
        return self._tracked.get(cid)

    def orders(self, *states: OrderState) -> list[TrackedOrder]:
        """The orders remembered (every unfinished one, the ``keep_closed`` latest finished
        ones) that are in any of ``states`` (all, without), by cid."""
        while True:
            try:
                records = list(self._tracked.values())
                break
            except RuntimeError:  # changed while copied (only without a GIL)
                continue
        records.sort(key=lambda record: record.cid)
        if not states:
            return records
        wanted = frozenset(states)
        return [record for record in records if record.state in wanted]

    def counts(self) -> dict[OrderState, int]:
        """How many remembered orders are in each state (states without any are left out)."""
        return dict(collections.Counter(record.state for record in self.orders()))

    def wait_for(self, cid: int, *states: OrderState, timeout: Optional[float] = None) -> TrackedOrder:
        """Block this thread until the order with this cid has been in one of ``states`` (any
        final state when none is given), or is finished; return its record.

        It returns as soon as the order *reached* one of the states, even if it moved on at
        once (:meth:`TrackedOrder.has_reached
        <bitfinex.protocol.orderstate.TrackedOrder.has_reached>`), and returns a finished order
        too (an order rejected never becomes active: look at ``.state``). It may be called
        before the reactor thread has taken the order.

        :param timeout: seconds to wait at most; ``None`` waits as long as it takes.
        :raises TimeoutError: if neither happened in time (the message says where the order is).
        :raises RuntimeError: if it would have to wait on the reactor thread, which would then
            never deliver what it waits for (use :meth:`listen` there).
        """
        wanted = sum(state.bit for state in (states or FINAL_STATES))

        def ready() -> Optional[TrackedOrder]:
            record = self._tracked.get(cid)
            if record is not None and (record.reached_bits & wanted or record.state.final):
                return record
            return None

        def failure() -> str:
            record = self._tracked.get(cid)
            where = record.state.value if record is not None else "not queued"
            names = ", ".join(sorted(state.value for state in (states or FINAL_STATES)))
            return f"order {cid} is {where} after {timeout} s, not {names}"

        return self._wait(ready, timeout, failure)

    def wait_until(self, predicate: Callable[[AccountSnapshot], bool], timeout: Optional[float] = None) -> AccountSnapshot:
        """Block this thread until ``predicate(snapshot)`` holds for a snapshot of the account;
        return that snapshot. ``predicate`` runs in this thread, once per version, and should
        not raise (what it raises comes out of this call). Example: ``lambda s: s.synced``.

        :param timeout: seconds to wait at most; ``None`` waits as long as it takes.
        :raises TimeoutError: if it did not hold in time.
        :raises RuntimeError: if it would have to wait on the reactor thread.
        """

        def ready() -> Optional[AccountSnapshot]:
            snapshot = self.snapshot()
            return snapshot if predicate(snapshot) else None

        return self._wait(ready, timeout, lambda: f"the account did not get there within {timeout} s")

    def _wait(self, ready: Callable[[], Optional[W]], timeout: Optional[float], failure: Callable[[], str]) -> W:
        deadline = None if timeout is None else time.monotonic() + timeout  # the caller's time, not the reactor's
        condition = self._condition
        while True:
            seen = self._version
            found = ready()
            if found is not None:
                return found
            if self._writer == threading.get_ident():
                raise RuntimeError("waiting on the reactor thread would block what it waits for; use listen()")
            with condition:
                self._waiting += 1
                try:
                    while self._version == seen:
                        remaining = None if deadline is None else deadline - time.monotonic()
                        if remaining is not None and remaining <= 0:
                            raise TimeoutError(failure())
                        condition.wait(remaining)
                finally:
                    self._waiting -= 1

    def listen(self, listener: TransitionListener) -> None:
        """Have ``listener`` called, on the reactor thread, with a
        :class:`~bitfinex.protocol.orderstate.Transition` each time an order moves to another
        state or gets a fill, in order, once the change is visible to :meth:`snapshot`. It
        must return quickly (hand long work to another thread); what it raises is reported as
        ``callback_error``.

        :raises TypeError: if ``listener`` is not callable.
        """
        if not callable(listener):
            raise TypeError(f"listener must be callable, got {type(listener).__name__}")
        with self._listeners_lock:
            self._listeners = (*self._listeners, listener)

    def unlisten(self, listener: TransitionListener) -> None:
        """Stop calling ``listener`` (nothing happens if it was not listening)."""
        with self._listeners_lock:
            kept = list(self._listeners)
            if listener in kept:
                kept.remove(listener)
            self._listeners = tuple(kept)

    # -- the authenticated connection's side (reactor thread) ----------------------------

    def input_queued(self, pending: PendingInput) -> None:
        """A new order (``on``, or the ``on`` operations of an ``ox_multi``) starts ``QUEUED``."""
        payloads = _new_orders(pending)
        if not payloads:
            return
        self._begin()
        now = self._clock()
        for payload in payloads:
            cid: int = payload["cid"]
            known = self._tracked.get(cid)
            if known is not None and not known.state.final:
                log.warning("order cid %d queued again while the first is %s: following the first", cid, known.state.value)
                continue
            record = TrackedOrder(cid, _S.QUEUED, None, "", None, None, types.MappingProxyType(dict(payload)), (),
                                  _S.QUEUED.bit, now)
            self._tracked[cid] = self._live[cid] = record
            self._changed[_LIVE] = self._version
            if self._listeners:
                self._changes.append(Transition(record, None))
        self._end()

    def input_written(self, pending: PendingInput) -> None:
        """Its new orders are ``WRITTEN``."""
        self._inputs(pending, _S.WRITTEN, "")

    def input_not_sent(self, pending: PendingInput, reason: str) -> None:
        """Its new orders are ``NOT_SENT``, for ``reason``."""
        self._inputs(pending, _S.NOT_SENT, reason)

    def input_unconfirmed(self, pending: PendingInput, reason: str) -> None:
        """Its new orders, written and unanswered, are ``IN_DOUBT``."""
        self._inputs(pending, _S.IN_DOUBT, f"written, then the connection closed ({reason}) before Bitfinex answered")

    def _inputs(self, pending: PendingInput, state: OrderState, reason: str) -> None:
        payloads = _new_orders(pending)
        if not payloads:
            return
        self._begin()
        for payload in payloads:
            record = self._tracked.get(payload["cid"])
            if record is not None:
                self._move(record, state, reason)
        self._end()

    def authenticated(self) -> None:
        """The socket is authenticated: the next ``os`` settles the orders in doubt."""
        self._begin()
        self._settle_pending = True
        self._synced = False
        self._end()

    def connection_closed(self, reason: str) -> None:
        """The socket closed: every order written, accepted or open is ``IN_DOUBT`` until the
        order snapshot after the next authentication."""
        self._begin()
        self._synced = False
        self._settle_pending = False
        for record in list(self._live.values()):
            if record.state in _DOUBTFUL:
                why = f"the connection closed ({reason}) while it was {record.state.value}"
                if self.dead_man_switch and record.state in OPEN_STATES:
                    why += "; the dead man's switch has Bitfinex cancel it"
                self._move(record, _S.IN_DOUBT, why)
        self._end()

    def account_message(self, msg: list[Any]) -> None:
        """Apply one frame of the account channel (``[0, KIND, DATA]``, shape checked):
        snapshots replace, updates patch, in arrival order; other kinds (``miu``, ``fiu``...)
        are not kept.

        Orders this client queued move on by cid: an ``on-req`` notification accepts
        (``SUCCESS``) or rejects (``ERROR``, with Bitfinex's text) one; ``on``/``ou``/``os`` show
        it open (``ACTIVE``, or ``PARTIALLY_FILLED`` once it has a fill); ``te``/``tu`` add a
        fill; ``oc`` ends it: ``EXECUTED`` if its status starts with ``EXECUTED`` (or nothing
        is left), ``CANCELED`` otherwise. The ``os`` after a (re)authentication settles every
        order in doubt:

        - found in the snapshot: open again (``ACTIVE``/``PARTIALLY_FILLED``);
        - not in it, with fills that add up to its amount: ``EXECUTED``;
        - not in it, seen open before the socket closed, with the dead man's switch on:
          ``CANCELED`` (Bitfinex cancelled it as the socket closed);
        - otherwise ``MISSING``, reported once (a transition, a warning in the log), with what
          is known (its state when the socket closed, what was filled): it never arrived, or it
          was filled or cancelled while the client was away, and Bitfinex does not re-send
          those trades, so nothing later can tell which. Nothing is re-sent.

        Never raises: what it cannot read is skipped (logged if it is a bug of its own).
        """
        handler = self._handlers.get(msg[1])
        if handler is None:
            return
        self._version += 1
        try:
            handler(msg[2])
        except Exception:
            log.exception("account mirror: could not apply a %r message; the next snapshot repairs it", msg[1])
        self._version += 1
        if self._changes or self._waiting:
            self._deliver()

    # -- the writer's machinery -----------------------------------------------------------

    def _begin(self) -> None:
        self._writer = threading.get_ident()
        self._version += 1

    def _end(self) -> None:
        self._version += 1
        if self._changes or self._waiting:
            self._deliver()

    def _deliver(self) -> None:
        """Call the listeners with the changes of the message just applied; wake the waiters."""
        if self._changes:
            changes, self._changes = self._changes, []
            runner = self._runner
            for change in changes:
                for listener in self._listeners:
                    if runner is not None:
                        runner.run(listener, change, "account mirror")
                    else:
                        listener(change)
        if self._waiting:
            with self._condition:
                self._condition.notify_all()

    def _move(
        self,
        record: TrackedOrder,
        state: OrderState,
        reason: Optional[str] = None,
        order: Optional[Order] = None,
        fills: Optional[tuple[Fill, ...]] = None,
        fill: Optional[Fill] = None,
    ) -> None:
        """Record a change of ``record``: to ``state`` (if the table allows it), with new data.
        (The hot path of the mirror: one tuple, two dictionary writes.)"""
        old = record[1]
        cid = record[0]
        order_id = record[5]
        if order is None:
            order = record[4]
        elif order_id is None:
            identifier = order[0]
            if type(identifier) is int:
                order_id = identifier
                self._cid_by_order_id[identifier] = cid
        if state is old:
            new: TrackedOrder = _tuple_new(TrackedOrder, (
                cid, state, record[2], record[3] if reason is None else reason, order, order_id, record[6],
                record[7] if fills is None else fills, record[8], self._clock(),
            ))
            self._tracked[cid] = new
            if not state._final:
                self._live[cid] = new
                self._changed[_LIVE] = self._version
            if fill is not None and self._listeners:
                self._changes.append(Transition(new, old, fill))
            return
        if not state._bit & old._next:
            log.debug("order %d: %s -> %s is not a transition; ignored", cid, old.name, state.name)
            return
        new = _tuple_new(TrackedOrder, (
            cid, state, old, "" if reason is None else reason, order, order_id, record[6],
            record[7] if fills is None else fills, record[8] | state._bit, self._clock(),
        ))
        self._tracked[cid] = new
        if state._final:
            if self._live.pop(cid, None) is not None:
                self._changed[_LIVE] = self._version
            self._finished(cid)
        else:
            self._live[cid] = new
            self._changed[_LIVE] = self._version
        if state is _IN_DOUBT:
            self._in_doubt[cid] = None
        elif old is _IN_DOUBT:
            del self._in_doubt[cid]
        if self._listeners:
            self._changes.append(Transition(new, old, fill))

    def _finished(self, cid: int) -> None:
        closed = self._closed
        closed.append(cid)
        while len(closed) > self._keep:
            gone = closed.popleft()
            record = self._tracked.get(gone)
            if record is not None and record.state._final:
                del self._tracked[gone]
                order_id = record.order_id
                if order_id is not None and self._cid_by_order_id.get(order_id) == gone:
                    del self._cid_by_order_id[order_id]

    def _match(self, row: Sequence[Any]) -> Optional[TrackedOrder]:
        """The followed order an order array is about, if any (same cid, and the same order)."""
        cid = row[_CID] if len(row) > _CID else None
        if type(cid) is not int:
            return None
        record = self._tracked.get(cid)
        if record is None:
            return None
        known = record[5]
        if known is not None and row[0] != known:
            return None  # the same cid, another order (of another day, or another client)
        return record

    # -- orders -----------------------------------------------------------------------------

    def _open(self, record: TrackedOrder, order: Order) -> None:
        if record[1] is _S.PARTIALLY_FILLED or record[7]:
            self._move(record, _S.PARTIALLY_FILLED, None, order)
            return
        status = order[_STATUS] if len(order) > _STATUS else None
        partly = type(status) is str and status.startswith("PARTIALLY FILLED")
        self._move(record, _S.PARTIALLY_FILLED if partly else _S.ACTIVE, None, order)

    def _order_snapshot(self, rows: list[list[Any]]) -> None:
        orders = {row[0]: Order(row) for row in rows if row and type(row[0]) is int}
        self._orders = orders
        self._changed[_ORDERS] = self._version
        seen: set[int] = set()
        for order in orders.values():
            record = self._match(order)
            if record is not None:
                seen.add(record.cid)
                self._open(record, order)
        if self._settle_pending:
            self._settle_pending = False
            for cid in list(self._in_doubt):
                if cid not in seen:
                    self._settle(self._tracked[cid])
        self._synced = True

    def _settle(self, record: TrackedOrder) -> None:
        """An order in doubt that the order snapshot after re-authentication does not hold."""
        before = record.previous
        ordered = _ordered(record)
        filled = record.filled
        if ordered != _ZERO and filled == ordered:
            self._move(record, _S.EXECUTED, "filled entirely, and not open after the reconnect")
        elif self.dead_man_switch and before in OPEN_STATES:
            self._move(record, _S.CANCELED, "cancelled by the dead man's switch when the connection closed")
        else:
            was = before.value if before is not None else "unknown"
            why = (f"not in the order snapshot after re-authentication: it was {was} when the connection closed, "
                   f"filled {filled} of {ordered}; it never arrived, or it was filled or cancelled while the "
                   "client was away (Bitfinex does not re-send those trades)")
            log.warning("order %d missing after the reconnect: %s", record.cid, why)
            self._move(record, _S.MISSING, why)

    def _order_open(self, row: list[Any]) -> None:
        order_id = row[0]
        if type(order_id) is not int:
            return
        order: Order = _tuple_new(Order, row)
        self._orders[order_id] = order
        self._changed[_ORDERS] = self._version
        cid = row[_CID] if len(row) > _CID else None
        if type(cid) is not int:
            return
        record = self._tracked.get(cid)
        if record is None or (record[5] is not None and record[5] != order_id):
            return
        state = record[1]
        if state is _PARTIAL or record[7]:
            target = _PARTIAL
        else:
            status = row[_STATUS] if len(row) > _STATUS else None
            target = _PARTIAL if type(status) is str and status.startswith("PARTIALLY FILLED") else _ACTIVE
        if target is not state or record[5] is None:
            self._move(record, target, None, order)
            return
        # The same state, new figures (an amendment, a fill): the hot path, inlined.
        new: TrackedOrder = _tuple_new(TrackedOrder, (
            cid, state, record[2], record[3], order, order_id, record[6], record[7], record[8], self._clock(),
        ))
        self._tracked[cid] = self._live[cid] = new
        self._changed[_LIVE] = self._version

    def _order_closed(self, row: list[Any]) -> None:
        order_id = row[0]
        if type(order_id) is not int:
            return
        self._orders.pop(order_id, None)
        self._changed[_ORDERS] = self._version
        cid = row[_CID] if len(row) > _CID else None
        record = self._tracked.get(cid) if type(cid) is int else None
        if record is None or (record[5] is not None and record[5] != order_id):
            return
        status = row[_STATUS] if len(row) > _STATUS else None
        if type(status) is not str:
            status = ""
        amount = row[_AMOUNT] if len(row) > _AMOUNT else None
        executed = status.startswith(_EXECUTED) or amount == 0 or (type(amount) is str and exact(amount) == 0)  # DEC_S
        self._move(record, _S.EXECUTED if executed else _S.CANCELED, status, _tuple_new(Order, row))

    def _trade(self, row: list[Any]) -> None:
        trade_id = row[0]
        if type(trade_id) is not int or len(row) <= _TRADE_ORDER_ID:
            return
        cid = row[_TRADE_CID] if len(row) > _TRADE_CID else None
        if type(cid) is not int:
            cid = self._cid_by_order_id.get(row[_TRADE_ORDER_ID])
            if cid is None:
                return
        record = self._tracked.get(cid)
        if record is None:
            return
        known = record[5]
        if known is not None and row[_TRADE_ORDER_ID] != known:
            return
        fill: Fill = _tuple_new(Fill, row)
        fills = record[7]
        for index in range(len(fills) - 1, -1, -1):  # a tu finds its te at once: the last one
            earlier = fills[index]
            if earlier[0] == trade_id:
                if (row[_FEE] if len(row) > _FEE else None) is None and len(earlier) > _FEE and earlier[_FEE] is not None:
                    return  # a te after its tu: nothing new
                self._move(record, record[1], None, None, (*fills[:index], fill, *fills[index + 1:]), fill)
                return
        fills = (*fills, fill)
        state = record[1]
        if state is _ACTIVE or state is _S.ACCEPTED or state is _S.WRITTEN:
            state = _PARTIAL
        elif state is _S.MISSING:
            ordered = _ordered(record)
            if ordered and sum((exact(f.amount) for f in fills), _ZERO) == ordered:
                state = _S.EXECUTED
        self._move(record, state, None, None, fills, fill)

    def _notification(self, body: list[Any]) -> None:
        request = body[1]
        if request == "on-req":
            info = body[4]
            if type(info) is not list or len(info) <= _CID or type(info[_CID]) is not int:
                return
            status, text = body[6], body[7]
            if type(text) is str and text.startswith(NOT_SENT):
                return  # the client's own: input_not_sent told already
            record = self._tracked.get(info[_CID])
            if record is None:
                return
            if status == "SUCCESS":
                if record[5] is None or record[5] == info[0]:
                    self._move(record, _S.ACCEPTED, None, _tuple_new(Order, info))
            elif status in _ERRORS:
                self._move(record, _S.REJECTED, text if type(text) is str else str(text), _tuple_new(Order, info))
        elif request == "ox_multi-req" and type(body[4]) is list:
            for item in body[4]:
                if type(item) is list and len(item) > 7 and type(item[1]) is str:
                    self._notification(item)

    # -- wallets, positions, balance, funding ----------------------------------------------

    def _wallet_snapshot(self, rows: list[list[Any]]) -> None:
        self._wallets = {(row[0], row[1]): Wallet(row) for row in rows
                         if len(row) > 1 and type(row[0]) is str and type(row[1]) is str}
        self._changed[_WALLETS] = self._version

    def _wallet_update(self, row: list[Any]) -> None:
        if len(row) > 1 and type(row[0]) is str and type(row[1]) is str:
            self._wallets[(row[0], row[1])] = _tuple_new(Wallet, row)
            self._changed[_WALLETS] = self._version

    def _position_snapshot(self, rows: list[list[Any]]) -> None:
        self._positions = {row[0]: Position(row) for row in rows
                           if row and type(row[0]) is str and (len(row) < 2 or row[1] != "CLOSED")}
        self._changed[_POSITIONS] = self._version

    def _position_update(self, row: list[Any]) -> None:
        symbol = row[0]
        if type(symbol) is not str:
            return
        if len(row) > 1 and row[1] == "CLOSED":
            self._positions.pop(symbol, None)
        else:
            self._positions[symbol] = _tuple_new(Position, row)
        self._changed[_POSITIONS] = self._version

    def _position_closed(self, row: list[Any]) -> None:
        if type(row[0]) is str:
            self._positions.pop(row[0], None)
            self._changed[_POSITIONS] = self._version

    def _balance_update(self, row: list[Any]) -> None:
        self._balance = _tuple_new(Balance, row)

    def _keyed_snapshot(self, part: int, name: str, kind: Callable[[Iterable[Any]], R]) -> Callable[[list[list[Any]]], None]:
        def apply(rows: list[list[Any]]) -> None:
            setattr(self, name, {row[0]: kind(row) for row in rows if row and type(row[0]) is int})
            self._changed[part] = self._version

        return apply

    def _keyed_update(self, part: int, name: str, kind: Callable[[Iterable[Any]], R]) -> Callable[[list[Any]], None]:
        def apply(row: list[Any]) -> None:
            if type(row[0]) is int:
                getattr(self, name)[row[0]] = kind(row)
                self._changed[part] = self._version

        return apply

    def _keyed_close(self, part: int, name: str) -> Callable[[list[Any]], None]:
        def apply(row: list[Any]) -> None:
            if type(row[0]) is int:
                getattr(self, name).pop(row[0], None)
                self._changed[part] = self._version

        return apply
