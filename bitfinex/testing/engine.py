"""The matching engine: one price-time-priority order book per symbol.

Pure Python, no clock and no I/O. Amounts are signed (``> 0`` buys/bids, ``< 0`` sells/asks).
For funding books the price is the daily rate, bids are borrowers and asks are lenders; the
frames flip the sign for display (see :mod:`bitfinex.testing.bookviews`).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from bitfinex.testing.numbers import ZERO


@dataclass(eq=False)
class BookOrder:
    """An order resting in a book.

    :param order_id: the exchange-wide order (or funding offer) id.
    :param price: the limit price (funding: rate).
    :param amount: what is left to fill; ``> 0`` bid, ``< 0`` ask.
    :param owner: the API key of the account that placed it; ``None`` for simulated liquidity.
    :param hidden: hidden orders match but never show in public books.
    :param period: funding period in days (``0`` for trading orders).
    """

    order_id: int
    price: Decimal
    amount: Decimal
    owner: Optional[str] = None
    hidden: bool = False
    period: int = 0

    @property
    def is_bid(self) -> bool:
        """Whether the order is on the bid side."""
        return self.amount > 0


@dataclass(frozen=True)
class Fill:
    """One match between a taker and a resting order.

    :param maker: the resting order (its ``amount`` is what is left after this fill).
    :param price: the execution price, the maker's.
    :param amount: the executed amount, signed in the taker's direction.
    """

    maker: BookOrder
    price: Decimal
    amount: Decimal


class BookSide:
    """One side of a book: price levels best first, orders first-in first-out within a level.

    :param is_bid: bids sort by price descending, asks ascending.
    """

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self._sort_keys: list[Decimal] = []
        self._levels: dict[Decimal, list[BookOrder]] = {}
        self.version = 0
        """Goes up whenever a visible order of this side changes."""

    def _sort_key(self, price: Decimal) -> Decimal:
        return -price if self.is_bid else price

    def add(self, order: BookOrder) -> None:
        """Queue ``order`` at the back of its price level."""
        level = self._levels.get(order.price)
        if level is None:
            level = self._levels[order.price] = []
            insort(self._sort_keys, self._sort_key(order.price))
        level.append(order)

    def remove(self, order: BookOrder) -> None:
        """Take ``order`` out of its level (dropping the level when it empties)."""
        level = self._levels[order.price]
        level.remove(order)
        if not level:
            del self._levels[order.price]
            key = self._sort_key(order.price)
            del self._sort_keys[bisect_left(self._sort_keys, key)]

    def best_price(self) -> Optional[Decimal]:
        """The best price on this side, hidden orders included."""
        return self._sort_key(self._sort_keys[0]) if self._sort_keys else None

    def levels(self) -> Iterator[tuple[Decimal, list[BookOrder]]]:
        """Yield ``(price, orders)`` best first; orders in time priority. Do not mutate while iterating."""
        for key in self._sort_keys:
            price = self._sort_key(key)
            yield price, self._levels[price]


class MatchingBook:
    """The book of one symbol.

    :param symbol: the symbol the book trades (``tBTCUSD``, ``fUSD``).

    :attr:`version` (and each side's :attr:`BookSide.version`) goes up whenever something a
    public book shows changes, so views can skip work when nothing did.
    """

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        self._orders: dict[int, BookOrder] = {}
        self.version = 0

    def side(self, is_bid: bool) -> BookSide:
        """The bid or the ask side."""
        return self.bids if is_bid else self.asks

    def get(self, order_id: int) -> Optional[BookOrder]:
        """The resting order with this id, if any."""
        return self._orders.get(order_id)

    def _touch(self, order: BookOrder, side: BookSide) -> None:
        if not order.hidden:
            self.version += 1
            side.version += 1

    def rest(self, order: BookOrder) -> None:
        """Add ``order`` to the book. The caller makes sure it does not cross the other side."""
        side = self.side(order.is_bid)
        side.add(order)
        self._orders[order.order_id] = order
        self._touch(order, side)

    def remove(self, order_id: int) -> Optional[BookOrder]:
        """Take an order out of the book; ``None`` if it is not there."""
        order = self._orders.pop(order_id, None)
        if order is not None:
            side = self.side(order.is_bid)
            side.remove(order)
            self._touch(order, side)
        return order

    def resize(self, order: BookOrder, amount: Decimal) -> None:
        """Change a resting order's remaining amount in place (same sign), keeping its priority."""
        order.amount = amount
        self._touch(order, self.side(order.is_bid))

    def set_hidden(self, order: BookOrder, hidden: bool) -> None:
        """Hide a resting order from the public books or show it, keeping its priority."""
        if order.hidden != hidden:
            order.hidden = False
            self._touch(order, self.side(order.is_bid))
            order.hidden = hidden

    def best_bid(self) -> Optional[Decimal]:
        """The highest bid price, hidden orders included."""
        return self.bids.best_price()

    def best_ask(self) -> Optional[Decimal]:
        """The lowest ask price, hidden orders included."""
        return self.asks.best_price()

    def crosses(self, is_buy: bool, price: Decimal) -> bool:
        """Whether an order at ``price`` would trade at once against the other side."""
        best = self.best_ask() if is_buy else self.best_bid()
        return best is not None and (best <= price if is_buy else best >= price)

    def crosses_visible(self, is_buy: bool, limit: Optional[Decimal]) -> bool:
        """Whether an order at ``limit`` (``None``: a market order) would match a resting order
        that is not hidden (what POST_ONLY refuses; docs flag-values)."""
        for price, level in self.side(not is_buy).levels():
            if limit is not None and (price > limit if is_buy else price < limit):
                return False
            if any(not order.hidden for order in level):
                return True
        return False

    def fillable(self, is_buy: bool, limit: Optional[Decimal]) -> Decimal:
        """How much a taker could fill now, up to ``limit`` (``None``: any price)."""
        total = ZERO
        for price, level in self.side(not is_buy).levels():
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            total += sum((abs(order.amount) for order in level), ZERO)
        return total

    def take(
        self, amount: Decimal, limit: Optional[Decimal], admit: Optional[Callable[[BookOrder, Decimal], bool]] = None
    ) -> list[Fill]:
        """Match a taker of ``amount`` (signed) against the other side, best price first.

        Filled makers leave the book; a partly filled maker keeps its place.

        :param limit: the worst price the taker accepts; ``None`` for a market order.
        :param admit: asked before each fill with the maker and the amount about to execute
            (signed in the taker's direction); a maker it refuses leaves the book unfilled (the
            caller cancels it) and matching goes on with the next one.
        :returns: the fills, in execution order; their amounts sum to at most ``amount``.
        """
        is_buy = amount > 0
        opposite = self.side(not is_buy)
        remaining = abs(amount)
        fills: list[Fill] = []
        while remaining > 0:
            best = opposite.best_price()
            if best is None or (limit is not None and (best > limit if is_buy else best < limit)):
                break
            maker = next(opposite.levels())[1][0]
            executed = min(remaining, abs(maker.amount))
            if admit is not None and not admit(maker, executed if is_buy else -executed):
                self.remove(maker.order_id)
                continue
            remaining -= executed
            fills.append(self._execute(maker, best, executed, is_buy))
        return fills

    def _execute(self, maker: BookOrder, price: Decimal, executed: Decimal, is_buy: bool) -> Fill:
        """Take ``executed`` (unsigned) of the resting ``maker`` at ``price``: it leaves the book
        when nothing is left, else shrinks in place."""
        left = abs(maker.amount) - executed
        if left == 0:
            self.remove(maker.order_id)
            maker.amount = ZERO
        else:
            self.resize(maker, left if maker.amount > 0 else -left)
        return Fill(maker, price, executed if is_buy else -executed)

    def take_where(self, amount: Decimal, limit: Optional[Decimal], eligible: Callable[[BookOrder], bool]) -> list[Fill]:
        """Match a taker of ``amount`` (signed) against the resting orders ``eligible`` accepts,
        best price first, time priority within a price; the others keep their place (funding:
        offers whose period does not fit, or the taker's own).

        :param limit: the worst price the taker accepts; ``None`` for any price.
        :returns: the fills, in execution order.
        """
        is_buy = amount > 0
        remaining = abs(amount)
        chosen: list[tuple[BookOrder, Decimal, Decimal]] = []
        for price, level in self.side(not is_buy).levels():
            if remaining <= 0 or (limit is not None and (price > limit if is_buy else price < limit)):
                break
            for order in level:
                if remaining <= 0:
                    break
                if eligible(order):
                    executed = min(remaining, abs(order.amount))
                    chosen.append((order, price, executed))
                    remaining -= executed
        return [self._execute(order, price, executed, is_buy) for order, price, executed in chosen]

    def owned_by(self, owner: Optional[str]) -> list[BookOrder]:
        """The resting orders of one owner (``None``: the simulation), oldest id first."""
        return sorted(
            (order for order in self._orders.values() if order.owner == owner),
            key=lambda order: order.order_id,
        )
