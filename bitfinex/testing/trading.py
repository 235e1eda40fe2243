"""The order desk: what happens to an account when it trades.

:class:`OrderDesk` executes the authenticated inputs (``on``, ``oc``, ``oc_multi``, ``ou``,
``ox_multi``, ``calc``) against the matching engine and settles every fill on both sides: order
status, own trades (``te``/``tu`` with fees), wallets (``wu``) for exchange orders, positions
(``pn``/``pu``/``pc``) for margin orders. It also watches the last price for stop and trailing
stop orders. Messages queue in :attr:`OrderDesk.outbox` for the exchange core to deliver.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Optional

from bitfinex.protocol.constants import MAX_OPS_PER_MULTI
from bitfinex.testing.accounts import (
    INITIAL_MARGIN,
    MAKER_FEE,
    TAKER_FEE,
    Account,
    AccountMessage,
    Order,
    Position,
    Topic,
    order_array,
)
from bitfinex.testing.channels import MarketData
from bitfinex.testing.engine import BookOrder, Fill, MatchingBook
from bitfinex.testing.figures import AccountFigures
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.market import PublicTrade
from bitfinex.testing.numbers import ZERO, quantize_amount, text, wire
from bitfinex.testing.orderinput import (
    STOP_TYPES,
    NewOrder,
    OrderRejected,
    read_new_order,
    read_order_changes,
)


@dataclass
class Counters:
    """Id sequences of the exchange (orders, trades, positions)."""

    orders: Iterator[int]
    trades: Iterator[int]
    positions: Iterator[int]

    @classmethod
    def starting_at(cls, order_id: int, trade_id: int, position_id: int) -> Counters:
        """Sequences counting up from the given first ids."""
        return cls(itertools.count(order_id), itertools.count(trade_id), itertools.count(position_id))


class OrderDesk:
    """Executes account inputs and settles fills.

    :param instruments: listed instruments by symbol.
    :param books: the engine's books by symbol.
    :param market: public market data by symbol (trades are recorded there).
    :param accounts: accounts by API key.
    :param counters: id sequences.
    :param clock: the exchange clock, milliseconds since the epoch.
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        books: Mapping[str, MatchingBook],
        market: Mapping[str, MarketData],
        accounts: Mapping[str, Account],
        counters: Counters,
        clock: Callable[[], int],
    ) -> None:
        self._instruments = instruments
        self._books = books
        self._market = market
        self._accounts = accounts
        self._counters = counters
        self._clock = clock
        self.figures = AccountFigures(instruments, market)
        """Account figures at the market's prices (wallet, position, balance messages)."""
        self._stops: dict[str, list[tuple[Account, Order]]] = {symbol: [] for symbol in instruments}
        self._triggered: deque[tuple[Account, Order]] = deque()
        self._collected: Optional[list[list[Any]]] = None
        self.outbox: list[tuple[Account, AccountMessage]] = []
        """Messages waiting for delivery, in order."""
        self.balances_changed: dict[str, Account] = {}
        """Accounts whose wallets changed since the last ``bu`` (by key)."""

    # -- messages ---------------------------------------------------------------------------

    def _emit(self, account: Account, kind: str, data: Any, topic: Topic) -> None:
        self.outbox.append((account, AccountMessage(kind, data, topic)))

    def _order_message(self, account: Account, kind: str, order: Order) -> None:
        self._emit(account, kind, order.wire(), ("trading", order.symbol))

    def _notify(self, account: Account, request: str, info: Any, status: str, message: str) -> None:
        body = [self._clock(), request, None, None, info, None, status, message]
        if self._collected is not None:
            self._collected.append(body)
        else:
            self._emit(account, "n", body, ("notify",))

    def _wallet_update(self, account: Account, wallet_type: str, currency: str) -> None:
        self.outbox.append((account, self.figures.wallet_message(account, wallet_type, currency)))
        self.balances_changed[account.api_key] = account

    # -- inputs -----------------------------------------------------------------------------

    def submit(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``on``: validate, acknowledge with ``on-req``, then execute or rest the order."""
        try:
            new = read_new_order(payload, self._instruments)
            order = self._create(account, new)
        except OrderRejected as rejection:
            self._notify(account, "on-req", rejection.echo, "ERROR", rejection.text)
            return
        self._notify(account, "on-req", order.wire(), "SUCCESS", f"Submitting {self._describe(order)}.")
        if order.base_type in STOP_TYPES:
            account.orders[order.order_id] = order
            self._stops[order.symbol].append((account, order))
            self._order_message(account, "on", order)
            self._watch_stop(account, order, self.figures.reference_price(order.symbol))
        else:
            self._execute(account, order)

    def cancel(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``oc`` by ``id``, or by ``cid`` and ``cid_date``."""
        order_id, cid, cid_date = payload.get("id"), payload.get("cid"), payload.get("cid_date")
        order = None
        if _is_int(order_id):
            order = account.find_order(order_id=order_id)
        elif _is_int(cid) and isinstance(cid_date, str):
            order = account.find_order(cid=cid, cid_date=cid_date)
        if order is None:
            echo = order_array(order_id=order_id if _is_int(order_id) else None, cid=cid if _is_int(cid) else None)
            self._notify(account, "oc-req", echo, "ERROR", "Order not found.")
            return
        self._notify(
            account,
            "oc-req",
            order.wire(),
            "SUCCESS",
            f"Submitted for cancellation; waiting for confirmation (ID: {order.order_id}).",
        )
        self._close(account, order, "CANCELED")

    def cancel_multi(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``oc_multi`` by id list, ``[cid, cid_date]`` list, gid list, or ``all``."""
        selected: dict[int, Order] = {}
        ids, cids, gids = payload.get("id", []), payload.get("cid", []), payload.get("gid", [])
        cancel_all = payload.get("all") in (1, True)
        well_formed = (
            isinstance(ids, list)
            and all(_is_int(i) for i in ids)
            and isinstance(gids, list)
            and all(_is_int(g) for g in gids)
            and isinstance(cids, list)
            and all(isinstance(c, list) and len(c) == 2 and _is_int(c[0]) and isinstance(c[1], str) for c in cids)
        )
        if not well_formed or not (ids or cids or gids or cancel_all):
            self._notify(account, "oc_multi-req", None, "ERROR", "oc_multi: invalid")
            return
        for order in list(account.orders.values()):
            if cancel_all or order.order_id in ids or order.gid in gids or [order.cid, order.cid_date] in cids:
                selected[order.order_id] = order
        if not selected and not cancel_all:
            self._notify(account, "oc_multi-req", [], "ERROR", "Orders not found.")
            return
        orders = list(selected.values())
        self._notify(
            account,
            "oc_multi-req",
            [order.wire() for order in orders],
            "SUCCESS",
            f"Submitting {len(orders)} order cancellations.",
        )
        for order in orders:
            self._close(account, order, "CANCELED")

    def update(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``ou``: change price, amount (or ``delta``), stop prices, flags, gid or tif."""
        order_id = payload.get("id")
        order = account.find_order(order_id=order_id) if _is_int(order_id) else None
        if order is None:
            self._notify(
                account,
                "ou-req",
                order_array(order_id=order_id if _is_int(order_id) else None),
                "ERROR",
                "Order not found.",
            )
            return
        try:
            changes = read_order_changes(payload, order.wire())
            amount = changes.amount if changes.amount is not None else order.amount
            if changes.delta is not None:
                amount = amount + changes.delta if amount > 0 else amount - changes.delta
            if amount == 0 or (amount > 0) != order.is_buy:
                raise OrderRejected("amount: invalid", order.wire())
            instrument = self._instruments[order.symbol]
            if abs(amount) < instrument.min_order_size:
                raise OrderRejected(
                    f"Invalid order: minimum size for {instrument.display_pair} is {text(instrument.min_order_size)}",
                    order.wire(),
                )
            price = changes.price or order.price
            self._check_funds(account, order, amount, price, changes.price_aux_limit or order.price_aux_limit)
        except OrderRejected as rejection:
            self._notify(account, "ou-req", rejection.echo, "ERROR", rejection.text)
            return
        book = self._books[order.symbol]
        resting = book.get(order.order_id)
        requeue = resting is not None and (price != order.price or abs(amount) > abs(order.amount))
        order.amount_orig += amount - order.amount
        order.amount, order.price = amount, price
        order.price_aux_limit = changes.price_aux_limit or order.price_aux_limit
        order.price_trailing = changes.price_trailing or order.price_trailing
        order.flags = order.flags if changes.flags is None else changes.flags
        order.gid = order.gid if changes.gid is None else changes.gid
        order.mts_tif = order.mts_tif if changes.mts_tif is None else changes.mts_tif
        order.mts_update = self._clock()
        self._notify(account, "ou-req", order.wire(), "SUCCESS", f"Submitting update to {self._describe(order)}.")
        if order.trigger is not None:
            order.trigger = None if order.base_type == "TRAILING STOP" else order.price
            self._order_message(account, "ou", order)
            self._watch_stop(account, order, self.figures.reference_price(order.symbol))
        elif requeue:
            book.remove(order.order_id)
            self._execute(account, order)
        elif resting is not None:
            book.resize(resting, amount)
            self._order_message(account, "ou", order)

    def multi(self, account: Account, operations: Any) -> None:
        """``ox_multi``: up to 75 ``on``/``oc``/``oc_multi``/``ou`` operations.

        One ``ox_multi-req`` notification carries the notification of every operation (in
        order); the events the operations cause follow it.
        """
        if not isinstance(operations, list) or not operations or len(operations) > MAX_OPS_PER_MULTI:
            self._notify(account, "ox_multi-req", None, "ERROR", f"ox_multi: invalid (1 to {MAX_OPS_PER_MULTI} operations)")
            return
        handlers: dict[str, Callable[[Account, Mapping[str, Any]], None]] = {
            "on": self.submit,
            "oc": self.cancel,
            "oc_multi": self.cancel_multi,
            "ou": self.update,
        }
        position = len(self.outbox)
        with self._collecting() as bodies:
            for operation in operations:
                valid = isinstance(operation, list) and len(operation) == 2 and isinstance(operation[1], dict)
                handler = handlers.get(operation[0]) if valid else None
                if handler is None:
                    bodies.append([self._clock(), "ox_multi-req", None, None, operation, None, "ERROR", "operation: invalid"])
                else:
                    handler(account, operation[1])
        failed = all(body[6] == "ERROR" for body in bodies)
        body = [
            self._clock(),
            "ox_multi-req",
            None,
            None,
            bodies,
            None,
            "ERROR" if failed else "SUCCESS",
            f"Submitting {len(bodies)} operations.",
        ]
        self.outbox.insert(position, (account, AccountMessage("n", body, ("notify",))))

    @contextmanager
    def _collecting(self) -> Iterator[list[list[Any]]]:
        bodies: list[list[Any]] = []
        self._collected = bodies
        try:
            yield bodies
        finally:
            self._collected = None

    def calc(self, account: Account, requests: list[str]) -> list[str]:
        """``calc``: answer each request with ``miu``, ``fiu``, ``pu``, ``wu`` or ``bu``.

        :returns: the requests it did not understand.
        """
        unknown: list[str] = []
        for request in requests:
            messages = self.figures.calculation(account, request)
            if messages is None:
                unknown.append(request)
            else:
                self.outbox.extend((account, message) for message in messages)
        return unknown

    def refuse_funding(self, account: Account, request: str) -> None:
        """``fon``/``foc``: answer ``fon-req``/``foc-req`` ERROR, as funding offers of clients
        are not supported (the funding book is simulated only)."""
        self._notify(account, request, None, "ERROR", "Funding offers are not supported by the local exchange.")

    def cancel_all(self, account: Account) -> None:
        """Cancel every open order of ``account`` (dead man's switch), with ``oc`` for each."""
        for order in list(account.orders.values()):
            self._close(account, order, "CANCELED")

    def expire(self, now: int) -> None:
        """Cancel the orders whose time in force has passed."""
        for account in self._accounts.values():
            for order in list(account.orders.values()):
                if order.mts_tif is not None and order.mts_tif <= now:
                    self._close(account, order, "CANCELED")

    # -- execution --------------------------------------------------------------------------

    def _create(self, account: Account, new: NewOrder) -> Order:
        symbol = new.instrument.symbol
        reference = self.figures.reference_price(symbol)
        price = new.price
        if new.base_type == "MARKET":
            price = self._market_price(symbol, new.amount)
        elif new.base_type == "TRAILING STOP":
            assert new.price_trailing is not None
            price = reference - new.price_trailing if new.amount < 0 else reference + new.price_trailing
        order = Order(
            order_id=0,
            owner=account.api_key,
            symbol=symbol,
            order_type=new.order_type,
            amount=new.amount,
            amount_orig=new.amount,
            price=price,
            mts_create=self._clock(),
            gid=new.gid,
            cid=new.cid,
            flags=new.flags,
            mts_tif=new.mts_tif,
            price_trailing=new.price_trailing,
            price_aux_limit=new.price_aux_limit,
            meta=new.meta,
        )
        if new.base_type in STOP_TYPES:
            order.trigger = price
        probe = order.price_aux_limit if new.base_type == "STOP LIMIT" else price
        self._check_funds(account, order, new.amount, probe, None)
        order.order_id = next(self._counters.orders)
        return order

    def _describe(self, order: Order) -> str:
        side = "buy" if order.is_buy else "sell"
        base = self._instruments[order.symbol].base
        return f"{order.order_type.lower()} {side} order for {text(order.amount_orig)} {base}"

    def _market_price(self, symbol: str, amount: Decimal) -> Decimal:
        """The worst price a market order of ``amount`` would reach now."""
        worst, left = self.figures.reference_price(symbol), abs(amount)
        for price, level in self._books[symbol].side(amount < 0).levels():
            worst = price
            left -= sum((abs(o.amount) for o in level), ZERO)
            if left <= 0:
                break
        return worst

    def _check_funds(
        self, account: Account, order: Order, amount: Decimal, price: Optional[Decimal], aux: Optional[Decimal]
    ) -> None:
        instrument = self._instruments[order.symbol]
        price = aux or price or self.figures.reference_price(order.symbol)
        skip = order.order_id or None
        if order.is_exchange:
            currency = instrument.quote if amount > 0 else instrument.base
            need = amount * price if amount > 0 else -amount
            available = account.wallet("exchange", currency).balance - account.reserved(
                "exchange", currency, self.figures.currencies, skip
            )
            if need > available:
                raise OrderRejected(
                    f"Invalid order: not enough exchange balance for {text(amount)} {instrument.pair} at {text(price)}",
                    order.wire(),
                )
        elif (
            self.figures.exposure(account, instrument.quote, (order.symbol, amount, price), skip) * INITIAL_MARGIN
            > account.wallet("margin", instrument.quote).balance
        ):
            raise OrderRejected(
                f"Invalid order: not enough tradable balance for {text(amount)} {instrument.pair} at {text(price)}",
                order.wire(),
            )

    def _execute(self, account: Account, order: Order) -> None:
        """Match ``order`` as a taker, then rest, cancel or finish it by its type."""
        known = order.order_id in account.orders
        book = self._books[order.symbol]
        limit = None if order.base_type == "MARKET" else order.price
        is_buy = order.amount > 0
        now = self._clock()
        if order.post_only and limit is not None and book.crosses(is_buy, limit):
            self._close(account, order, "POSTONLY CANCELED")
            return
        if order.base_type == "FOK" and book.fillable(is_buy, limit) < abs(order.amount):
            self._close(account, order, "FILLORKILL CANCELED")
            return
        self.settle(order.symbol, book.take(order.amount, limit), taker=(account, order))
        if order.amount == 0:
            account.orders.pop(order.order_id, None)
            self._order_message(account, "oc", order)
        elif order.base_type == "LIMIT":
            book.rest(BookOrder(order.order_id, order.price or ZERO, order.amount, account.api_key, order.hidden))
            account.orders[order.order_id] = order
            order.mts_update = now
            self._order_message(account, "ou" if known else "on", order)
        else:
            self._close(account, order, "IOC CANCELED" if order.base_type == "IOC" else "CANCELED")

    def _close(self, account: Account, order: Order, reason: str) -> None:
        """Take ``order`` off the book and the stop watch, and tell the account (``oc``)."""
        self._books[order.symbol].remove(order.order_id)
        self._stops[order.symbol] = [(a, o) for a, o in self._stops[order.symbol] if o is not order]
        account.orders.pop(order.order_id, None)
        order.finish(reason, self._clock())
        self._order_message(account, "oc", order)

    def settle(self, symbol: str, fills: list[Fill], taker: Optional[tuple[Account, Order]]) -> None:
        """Record the public trade of each fill and settle both sides' accounts.

        :param taker: the account and order that took liquidity; ``None`` for the simulation.
        """
        data = self._market[symbol]
        for fill in fills:
            trade_id = next(self._counters.trades)
            data.record(PublicTrade(trade_id, self._clock(), fill.amount, fill.price, fill.maker.period))
            if fill.maker.owner is not None:
                maker_account = self._accounts[fill.maker.owner]
                maker_order = maker_account.orders[fill.maker.order_id]
                self._book_trade(maker_account, maker_order, -fill.amount, fill.price, trade_id, maker=True)
                if maker_order.amount == 0:
                    maker_account.orders.pop(maker_order.order_id)
                    self._order_message(maker_account, "oc", maker_order)
                else:
                    self._order_message(maker_account, "ou", maker_order)
            if taker is not None:
                self._book_trade(taker[0], taker[1], fill.amount, fill.price, trade_id, maker=False)
            self._on_last_price(symbol, fill.price)

    def _book_trade(self, account: Account, order: Order, amount: Decimal, price: Decimal, trade_id: int, maker: bool) -> None:
        now = self._clock()
        instrument = self._instruments[order.symbol]
        order.record_fill(price, amount, now)
        rate = MAKER_FEE if maker and not order.hidden else TAKER_FEE
        trade = [
            trade_id,
            order.symbol,
            now,
            order.order_id,
            wire(amount),
            wire(price),
            order.order_type,
            wire(order.price),
            1 if maker else -1,
            None,
            None,
            order.cid,
        ]
        topic = ("trading", order.symbol)
        self._emit(account, "te", trade, topic)
        base, quote = instrument.base, instrument.quote
        cost = quantize_amount(amount * price)
        if order.is_exchange:
            fee_currency = base if amount > 0 else quote
            fee = quantize_amount(abs(amount) * rate) if amount > 0 else quantize_amount(abs(cost) * rate)
            account.wallet("exchange", base).balance += amount
            account.wallet("exchange", quote).balance -= cost
            account.wallet("exchange", fee_currency).balance -= fee
            description = f"Exchange {text(abs(amount))} {base} for {quote} @ {text(price)} on wallet exchange"
            account.wallet("exchange", base).description = account.wallet("exchange", quote).description = description
            self._wallet_update(account, "exchange", base)
            self._wallet_update(account, "exchange", quote)
        else:
            fee_currency, fee = quote, quantize_amount(abs(cost) * rate)
            realized = self._move_position(account, order.symbol, amount, price)
            margin = account.wallet("margin", quote)
            margin.balance += quantize_amount(realized) - fee
            margin.description = f"Trading fees for {text(abs(amount))} {base} ({order.symbol}) @ {text(price)} on wallet margin"
            self._wallet_update(account, "margin", quote)
        self._emit(account, "tu", [*trade[:9], wire(-fee), fee_currency, order.cid], topic)

    def _move_position(self, account: Account, symbol: str, amount: Decimal, price: Decimal) -> Decimal:
        """Apply a margin fill to the symbol's position; return the realized profit."""
        now = self._clock()
        topic = ("trading", symbol)
        position = account.positions.get(symbol)
        if position is None:
            position = Position(next(self._counters.positions), symbol, amount, price, now, now)
            account.positions[symbol] = position
            self._emit(account, "pn", self.figures.position_array(position), topic)
            return ZERO
        held = position.amount
        realized = ZERO
        if (held > 0) == (amount > 0):
            position.base_price = quantize_amount((held * position.base_price + amount * price) / (held + amount))
        else:
            closed = held if abs(amount) >= abs(held) else -amount
            realized = (price - position.base_price) * closed
            if abs(amount) > abs(held):
                position.base_price = price
        position.amount = held + amount
        position.mts_update = now
        if position.amount == 0:
            del account.positions[symbol]
            self._emit(account, "pc", self.figures.position_array(position), topic)
        else:
            self._emit(account, "pu", self.figures.position_array(position), topic)
        return realized

    # -- stops ------------------------------------------------------------------------------

    def _watch_stop(self, account: Account, order: Order, last: Decimal) -> None:
        if order.base_type == "TRAILING STOP" and order.price_trailing is not None:
            trail = last - order.price_trailing if order.amount < 0 else last + order.price_trailing
            if order.trigger is None or (trail > order.trigger if order.amount < 0 else trail < order.trigger):
                moved = order.trigger is not None
                order.trigger = order.price = trail
                if moved:
                    self._order_message(account, "ou", order)
        assert order.trigger is not None
        if (last >= order.trigger) if order.amount > 0 else (last <= order.trigger):
            self._stops[order.symbol] = [(a, o) for a, o in self._stops[order.symbol] if o is not order]
            self._triggered.append((account, order))

    def _on_last_price(self, symbol: str, price: Decimal) -> None:
        for account, order in list(self._stops[symbol]):
            self._watch_stop(account, order, price)

    def run_triggered(self) -> None:
        """Execute the stop orders the last trades triggered (they may trigger more)."""
        while self._triggered:
            account, order = self._triggered.popleft()
            if order.order_id not in account.orders:
                continue
            limit = order.base_type == "STOP LIMIT"
            order.type_prev = order.order_type
            order.order_type = ("EXCHANGE " if order.is_exchange else "") + ("LIMIT" if limit else "MARKET")
            order.price = order.price_aux_limit if limit else self._market_price(order.symbol, order.amount)
            order.trigger = None
            order.mts_update = self._clock()
            self._order_message(account, "ou", order)
            self._execute(account, order)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
