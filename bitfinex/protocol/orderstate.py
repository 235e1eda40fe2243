"""What happens to each order the client queues: its states, their transitions, its record.

An :class:`~bitfinex.protocol.mirror.AccountMirror` follows every new order the client queues
(``new_order``, and the ``on`` operations of ``multi_order``) by its cid, from the moment it is
queued to its end, through the states below. The table :data:`ORDER_TRANSITIONS` lists every
move there is; the mirror never makes another (an exchange message that would, such as an
``ou`` after the ``oc``, updates nothing).

====================  ==========  ==================================================================
state                 final       meaning
====================  ==========  ==================================================================
``QUEUED``            no          in the outbox: waits for the authenticated socket (or the end of
                                  a maintenance)
``WRITTEN``           no          written to the socket (exactly once); no answer yet
``ACCEPTED``          no          Bitfinex answered ``on-req`` ``SUCCESS``; not seen resting yet
``ACTIVE``            no          open on the book, nothing filled (``on``/``ou``/``os``)
``PARTIALLY_FILLED``  no          filled in part (a ``te``, or a ``PARTIALLY FILLED`` status),
                                  still open
``IN_DOUBT``          no          the authenticated socket closed while the order was written,
                                  accepted or open: what happens to it is unknown until the order
                                  snapshot after the next authentication settles it
``EXECUTED``          yes         filled entirely (``oc`` with ``EXECUTED @ ...``)
``CANCELED``          yes         closed before it filled entirely (``oc`` with ``CANCELED``,
                                  ``POSTONLY CANCELED``, ``IOC CANCELED``, ``FILLORKILL CANCELED``,
                                  ``INSUFFICIENT MARGIN was: ...``, ``RSN_...``; or cancelled by
                                  the dead man's switch); :attr:`TrackedOrder.reason` holds the
                                  status
``REJECTED``          yes         Bitfinex refused it (``on-req`` ``ERROR``): the reason is
                                  Bitfinex's text
``NOT_SENT``          yes         never written (authentication refused, client stopped): the
                                  reason is the client's
``MISSING``           yes         settled after a reconnect as neither in the order snapshot nor
                                  filled: it never arrived, or it was closed while the client was
                                  away (Bitfinex does not re-send those trades)
====================  ==========  ==================================================================

An order reported ``MISSING`` that the exchange later shows after all (an answer that was still
on its way on a connection the exchange had not yet seen close) is followed again: the one way
out of a final state, and the reason ``MISSING`` is reported, not assumed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, Optional

from bitfinex.protocol.accountdata import Fill, Order

__all__ = [
    "FINAL_STATES",
    "OPEN_STATES",
    "ORDER_TRANSITIONS",
    "OrderState",
    "TrackedOrder",
    "Transition",
    "exact",
    "states_of",
]


class OrderState(enum.Enum):
    """Where an order the client queued is (see the module's table)."""

    QUEUED = "queued"
    WRITTEN = "written"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    PARTIALLY_FILLED = "partially_filled"
    IN_DOUBT = "in_doubt"
    EXECUTED = "executed"
    CANCELED = "canceled"
    REJECTED = "rejected"
    NOT_SENT = "not_sent"
    MISSING = "missing"

    __hash__ = object.__hash__  # members are singletons: identity hashing, at C speed

    _bit: int
    _final: bool
    _next: int

    @property
    def final(self) -> bool:
        """Whether the order's life is over in this state."""
        return self._final

    @property
    def bit(self) -> int:
        """This state's bit in :attr:`TrackedOrder.reached_bits`."""
        return self._bit


_S = OrderState
FINAL_STATES: frozenset[OrderState] = frozenset((_S.EXECUTED, _S.CANCELED, _S.REJECTED, _S.NOT_SENT, _S.MISSING))
"""The states an order ends in."""

OPEN_STATES: frozenset[OrderState] = frozenset((_S.ACTIVE, _S.PARTIALLY_FILLED))
"""The states of an order seen resting on the book."""

_SETTLED = (_S.ACTIVE, _S.PARTIALLY_FILLED, _S.EXECUTED, _S.CANCELED)
ORDER_TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = {
    _S.QUEUED: frozenset((_S.WRITTEN, _S.NOT_SENT)),
    _S.WRITTEN: frozenset((_S.ACCEPTED, _S.REJECTED, _S.IN_DOUBT, *_SETTLED)),
    _S.ACCEPTED: frozenset((_S.IN_DOUBT, *_SETTLED)),
    _S.ACTIVE: frozenset((_S.PARTIALLY_FILLED, _S.EXECUTED, _S.CANCELED, _S.IN_DOUBT)),
    _S.PARTIALLY_FILLED: frozenset((_S.EXECUTED, _S.CANCELED, _S.IN_DOUBT)),
    _S.IN_DOUBT: frozenset((_S.ACCEPTED, _S.REJECTED, _S.MISSING, *_SETTLED)),
    _S.EXECUTED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.NOT_SENT: frozenset(),
    _S.MISSING: frozenset((_S.ACCEPTED, _S.REJECTED, *_SETTLED)),
}
"""``ORDER_TRANSITIONS[state]``: the states an order may move to from ``state``."""

for _index, _state in enumerate(OrderState):
    _state._bit = 1 << _index
for _state in OrderState:
    _state._final = _state in FINAL_STATES
    _state._next = sum(target._bit for target in ORDER_TRANSITIONS[_state])
del _index, _state


_ZERO = Decimal(0)


def exact(value: object) -> Decimal:
    """A decoded amount as the exact decimal it was written as (``0`` for what is not a number)."""
    if type(value) is float:
        try:
            return Decimal(repr(value))
        except InvalidOperation:  # nan, inf: never from the decoder
            return _ZERO
    if type(value) is int:
        return Decimal(value)
    if type(value) is str:
        try:
            return Decimal(value)
        except InvalidOperation:
            return _ZERO
    return _ZERO


def states_of(bits: int) -> frozenset[OrderState]:
    """The states whose :attr:`OrderState.bit` is set in ``bits``."""
    return frozenset(state for state in OrderState if state._bit & bits)


class TrackedOrder(NamedTuple):
    """An order the client queued, as the mirror knows it at one moment (immutable: each change
    makes a new record).

    ``order`` is the latest order array Bitfinex sent about it (``on-req``, ``os``, ``on``,
    ``ou``, ``oc``); ``request`` the ``on`` payload the client queued.
    """

    cid: int
    """The client id (what ``new_order`` returned)."""
    state: OrderState
    """Where the order is now."""
    previous: Optional[OrderState]
    """The state before this one (``None`` for ``QUEUED``)."""
    reason: str
    """Why it is in this state, when there is more to say: Bitfinex's text (``REJECTED``), the
    client's reason (``NOT_SENT``, ``IN_DOUBT``), the closing status (``CANCELED``,
    ``EXECUTED``), what is known (``MISSING``); else ``""``."""
    order: Optional[Order]
    """The latest order array about it; ``None`` before Bitfinex's first answer."""
    order_id: Optional[int]
    """Bitfinex's id for the order, once an answer carried it."""
    request: Mapping[str, Any]
    """The ``on`` payload queued (``cid``, ``type``, ``symbol``, ``amount``, ``price``...)."""
    fills: tuple[Fill, ...]
    """Its own trades, in arrival order (a ``tu`` replaces its ``te``, adding the fee)."""
    reached_bits: int
    r"""Every state it has been in, as :attr:`OrderState.bit`\ s (see :attr:`reached`)."""
    updated_at: float
    """When it last changed, on the client's clock (seconds)."""

    @property
    def final(self) -> bool:
        """Whether the order's life is over (see :data:`FINAL_STATES`)."""
        return self.state._final

    @property
    def filled(self) -> Decimal:
        """The sum of the fills' amounts, signed, exact (each amount read as the decimal it was
        written as)."""
        return sum((exact(fill.amount) for fill in self.fills), _ZERO)

    @property
    def reached(self) -> frozenset[OrderState]:
        """Every state it has been in (this one included)."""
        return states_of(self.reached_bits)

    def has_reached(self, *states: OrderState) -> bool:
        """Whether it has been in any of ``states``."""
        return any(state._bit & self.reached_bits for state in states)

    @property
    def symbol(self) -> Optional[str]:
        """The pair (``tBTCUSD``)."""
        order = self.order
        symbol = order.symbol if order is not None else self.request.get("symbol")
        return symbol if isinstance(symbol, str) else None

    @property
    def cid_date(self) -> Optional[str]:
        """The UTC date Bitfinex created it on (with the cid, what identifies it to ``oc``);
        ``None`` before Bitfinex's first answer."""
        return self.order.cid_date if self.order is not None else None

    def __repr__(self) -> str:
        reason = f", reason={self.reason!r}" if self.reason else ""
        return (f"TrackedOrder(cid={self.cid}, state={self.state.name}, order_id={self.order_id}, "
                f"filled={self.filled}, fills={len(self.fills)}{reason})")


class Transition(NamedTuple):
    """What a listener of the mirror hears: an order moved to another state, or got a fill."""

    order: TrackedOrder
    """The order after the change."""
    previous: Optional[OrderState]
    """Its state before the change (equal to ``order.state`` for a fill that moved nothing;
    ``None`` when it was just queued)."""
    fill: Optional[Fill] = None
    """The own trade that came, for a change made by a ``te``/``tu``."""

    @property
    def moved(self) -> bool:
        """Whether the state changed."""
        return self.previous is not self.order.state
