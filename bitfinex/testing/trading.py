"""The order desk: what happens to an account when it trades.

:class:`OrderDesk` executes the authenticated inputs (``on``, ``oc``, ``oc_multi``, ``ou``,
``ox_multi``, ``calc``) against the matching engine and settles every fill on both sides: order
status, own trades (``te``/``tu`` with fees), wallets (``wu``) for exchange orders, positions
(``pn``/``pu``/``pc``) for margin orders, and for derivative orders positions with the order's
leverage and the collateral it takes (funding and liquidations of those:
:mod:`bitfinex.testing.derivatives`). It also watches the last price for stop and trailing
stop orders, keeps the two legs of OCO orders together, and guards REDUCE_ONLY and CLOSE orders
against increasing or flipping a position. Messages queue in :attr:`OrderDesk.outbox` for the
exchange core to deliver.

How each order flag and option is handled, with its source, is listed in
:data:`bitfinex.testing.orderinput.ORDER_FLAGS` and :data:`~bitfinex.testing.orderinput.ORDER_OPTIONS`.

Replies (each input gets its notification first, then the events it causes):

- ``on`` → ``on-req`` (SUCCESS with the order array, or ERROR with the echo), then ``on``/``te``/
  ``tu``/``ou``/``oc``... An order cancelled on entry (POST_ONLY, FOK, REDUCE_ONLY...) gets
  ``on-req`` SUCCESS and an ``oc`` with its status, no ``on`` (as Bitfinex: docs
  abbreviations-glossary statuses are order statuses, so the order was accepted first).
- ``oc``/``oc_multi``/``ou`` → ``oc-req``/``oc_multi-req``/``ou-req``, then the events.
- ``ox_multi`` → for each operation, in order, exactly what the operation sends on its own:
  its ``on-req``/``oc-req``/``oc_multi-req``/``ou-req`` notification (order array, cid at
  index 2, at NOTIFY_INFO) and its events. No notification sums the batch up; only a batch that
  is not 1 to 75 ``[op, {...}]`` pairs gets one ``ox_multi-req`` ERROR (and nothing runs).
  Sources: docs ws-auth-input-order-multi-op ("You will receive messages to confirm your
  requests through 'n' (notification) events and ... other event messages ('on', 'oc', 'ou',
  etc.)"); bitfinex-api-node ``lib/transports/ws2.js``, whose order buffer sends ``on``/``oc`` as
  ``ox_multi`` and still resolves each ``submitOrder``/``cancelOrder`` from its own
  ``on-req``/``oc-req`` notification (cid at ``[4][2]``, id at ``[4][0]``), and whose
  ``submitOrderMultiOp`` says "no confirmation is available for this message type". For
  ``[0, "ox_multi", null, [["on", {"cid": 1, ...}], ["oc", {"id": 99}]]]``::

      [0, "n", [MTS, "on-req", null, null, [ID, null, 1, "tBTCUSD", ...], null, "SUCCESS",
                "Submitting exchange limit buy order for 0.1 BTC."]]
      [0, "on", [ID, null, 1, "tBTCUSD", ...]]
      [0, "n", [MTS, "oc-req", null, null, [99, null, null, ...], null, "ERROR", "Order not found."]]
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Optional

from bitfinex.protocol.constants import OrderFlag
from bitfinex.testing.accounts import (
    DERIVATIVE_MAKER_FEE,
    DERIVATIVE_TAKER_FEE,
    INITIAL_MARGIN,
    MAKER_FEE,
    TAKER_FEE,
    Account,
    AccountMessage,
    Order,
    Position,
    Topic,
    opening_margin,
)
from bitfinex.testing.channels import MarketData
from bitfinex.testing.engine import BookOrder, Fill, MatchingBook
from bitfinex.testing.figures import AccountFigures
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.market import PublicTrade
from bitfinex.testing.numbers import ZERO, quantize_amount, text, wire
from bitfinex.testing.orderinput import (
    DEFAULT_LEVERAGE,
    STOP_LEG_FLAGS,
    STOP_TYPES,
    NewOrder,
    OrderKey,
    OrderRejected,
    echo_identifiers,
    read_cancel_selection,
    read_new_order,
    read_operations,
    read_order_changes,
    read_order_key,
)

log = logging.getLogger("bitfinex.testing.trading")

Admission = Callable[[BookOrder, Decimal], bool]
"""Asked by :meth:`MatchingBook.take` before each fill: may this maker fill now?"""


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

    Every input method answers with notifications and never raises: malformed inputs are
    refused by :mod:`bitfinex.testing.orderinput`, and a bug is logged with its traceback and
    answered with an ERROR notification (``"request failed"``).

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
        self.figures = AccountFigures(instruments, market, clock, books)
        """Account figures at the market's prices (wallet, position, balance messages)."""
        self._stops: dict[str, list[tuple[Account, Order]]] = {symbol: [] for symbol in instruments}
        self._triggered: deque[tuple[Account, Order]] = deque()
        self.outbox: list[tuple[Account, AccountMessage]] = []
        """Messages waiting for delivery, in order."""
        self.balances_changed: dict[str, Account] = {}
        """Accounts whose wallets changed since the last ``bu`` (by key)."""

    # -- messages ---------------------------------------------------------------------------

    def _emit(self, account: Account, kind: str, data: Any, topic: Topic) -> None:
        self.outbox.append((account, AccountMessage(kind, data, topic)))

    def emit(self, account: Account, kind: str, data: Any, topic: Topic) -> None:
        """Queue ``[0, kind, data]`` for ``account`` (the funding desk shares this outbox, so
        every account message goes out in the order it was made)."""
        self._emit(account, kind, data, topic)

    def notify(self, account: Account, request: str, info: Any, status: str, message: str) -> None:
        """Queue an ``n`` notification ``[MTS, request, null, null, info, null, status, message]``."""
        self._notify(account, request, info, status, message)

    def wallet_update(self, account: Account, wallet_type: str, currency: str) -> None:
        """Queue the ``wu`` of one wallet (and a ``bu`` at the next flush)."""
        self._wallet_update(account, wallet_type, currency)

    def _order_message(self, account: Account, kind: str, order: Order) -> None:
        self._emit(account, kind, order.wire(), ("trading", order.symbol))

    def _notify(self, account: Account, request: str, info: Any, status: str, message: str) -> None:
        self._emit(account, "n", [self._clock(), request, None, None, info, None, status, message], ("notify",))

    def _wallet_update(self, account: Account, wallet_type: str, currency: str) -> None:
        self.outbox.append((account, self.figures.wallet_message(account, wallet_type, currency)))
        self.balances_changed[account.api_key] = account

    @contextmanager
    def _guarded(self, account: Account, request: str) -> Iterator[None]:
        """Answer a bug in handling one input with an ERROR notification instead of raising
        (logged with its traceback: tests fail on it)."""
        try:
            yield
        except Exception:
            log.exception("the order desk failed on a %s input", request)
            self._notify(account, request, None, "ERROR", "request failed")

    # -- inputs -----------------------------------------------------------------------------

    def submit(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``on``: validate, acknowledge with ``on-req``, then execute or rest the order."""
        with self._guarded(account, "on-req"):
            try:
                new = read_new_order(payload, self._instruments)
                order = self._create(account, new)
            except OrderRejected as rejection:
                self._notify(account, "on-req", rejection.echo, "ERROR", rejection.text)
                return
            self._notify(account, "on-req", order.wire(), "SUCCESS", f"Submitting {self._describe(order)}.")
            self._place(account, order, new.price_oco_stop)

    def cancel(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``oc`` by ``id``, or by ``cid`` and ``cid_date``."""
        with self._guarded(account, "oc-req"):
            try:
                order = self._find(account, read_order_key(payload), payload)
            except OrderRejected as rejection:
                self._notify(account, "oc-req", rejection.echo, "ERROR", rejection.text)
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
        """``oc_multi`` by id list, ``[cid, cid_date]`` list, gid list, or ``all``
        (docs ws-auth-input-order-cancel-multi: NOTIFY_INFO lists every order it cancels)."""
        with self._guarded(account, "oc_multi-req"):
            try:
                selection = read_cancel_selection(payload)
            except OrderRejected as rejection:
                self._notify(account, "oc_multi-req", rejection.echo, "ERROR", rejection.text)
                return
            orders = [
                order
                for order in account.orders.values()
                if selection.every
                or order.order_id in selection.ids
                or (order.gid is not None and order.gid in selection.gids)
                or (order.cid is not None and (order.cid, order.cid_date) in selection.cids)
            ]
            if not orders and not selection.every:
                self._notify(account, "oc_multi-req", [], "ERROR", "Orders not found.")
                return
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
        """``ou``: change price, amount (or ``delta``), stop prices, flags, gid, tif or meta."""
        with self._guarded(account, "ou-req"):
            try:
                order = self._find(account, read_order_key(payload), payload)
            except OrderRejected as rejection:
                self._notify(account, "ou-req", rejection.echo, "ERROR", rejection.text)
                return
            self._update(account, order, payload)

    def _update(self, account: Account, order: Order, payload: Mapping[str, Any]) -> None:
        try:
            changes = read_order_changes(payload, order)
            amount = changes.amount if changes.amount is not None else order.amount
            if changes.delta is not None:
                amount = amount + changes.delta if amount > 0 else amount - changes.delta
            if amount == 0 or (amount > 0) != order.is_buy:
                raise OrderRejected("amount: invalid", order.wire())
            instrument = self._instruments[order.symbol]
            resized = changes.amount is not None or changes.delta is not None
            if resized and abs(amount) < instrument.min_order_size:
                raise OrderRejected(
                    f"Invalid order: minimum size for {instrument.display_pair} is {text(instrument.min_order_size)}",
                    order.wire(),
                )
            price = changes.price or order.price
            aux = changes.price_aux_limit or order.price_aux_limit
            self._check_funds(account, order, amount, price, aux, changes.lev)
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
        if changes.flags is not None:
            order.flags = changes.flags
            if resting is not None:
                book.set_hidden(resting, order.hidden)
        order.gid = order.gid if changes.gid is None else changes.gid
        order.lev = order.lev if changes.lev is None else changes.lev
        order.mts_tif = order.mts_tif if changes.mts_tif is None else changes.mts_tif
        if changes.meta is not None:
            order.meta = {**(order.meta or {}), **changes.meta}
        order.mts_update = self._clock()
        self._notify(account, "ou-req", order.wire(), "SUCCESS", f"Submitting update to {self._describe(order)}.")
        if order.trigger is not None:
            order.trigger = None if order.base_type == "TRAILING STOP" else order.price
            self._order_message(account, "ou", order)
            self._refuse_if_position_forbids(account, order)
            if not order.closed:
                self._watch_stop(account, order, self.figures.reference_price(order.symbol))
        elif requeue:
            book.remove(order.order_id)
            self._execute(account, order)
        elif resting is not None:
            book.resize(resting, amount)
            self._order_message(account, "ou", order)
            self._refuse_if_position_forbids(account, order)

    def multi(self, account: Account, operations: Any) -> None:
        """``ox_multi``: up to 75 ``on``/``oc``/``oc_multi``/``ou`` operations, each answered in
        order exactly as if sent alone (see the module docstring for the sources)."""
        with self._guarded(account, "ox_multi-req"):
            try:
                checked = read_operations(operations)
            except OrderRejected as rejection:
                self._notify(account, "ox_multi-req", rejection.echo, "ERROR", rejection.text)
                return
            handlers: dict[str, Callable[[Account, Mapping[str, Any]], None]] = {
                "on": self.submit,
                "oc": self.cancel,
                "oc_multi": self.cancel_multi,
                "ou": self.update,
            }
            for name, payload in checked:
                handlers[name](account, payload)

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

    def fill_simulated(self, symbol: str, amount: Decimal, limit: Optional[Decimal]) -> list[Fill]:
        """Let the simulation take liquidity (``amount`` signed, ``limit`` ``None`` for a market
        order) and settle the fills; clients' REDUCE_ONLY and CLOSE orders are guarded as for any
        taker. The part that does not fill is the caller's."""
        fills = self._books[symbol].take(amount, limit, admit=self._admission(None))
        self.settle(symbol, fills, taker=None)
        return fills

    # -- finding and creating orders --------------------------------------------------------

    def _find(self, account: Account, key: OrderKey, payload: Mapping[str, Any]) -> Order:
        """The open order ``key`` names: by id (a cid and cid_date given too must match it), or
        by cid and cid_date.

        :raises OrderRejected: ``"cid_date: invalid"`` for a cid without its date, ``"Order not
            found."`` otherwise.
        """
        echo = echo_identifiers(payload)
        if key.order_id is None and key.cid is not None and key.cid_date is None:
            raise OrderRejected("cid_date: invalid", echo)
        order = None
        if key.order_id is not None:
            order = account.find_order(order_id=key.order_id)
            if order is not None and key.cid is not None and (order.cid, order.cid_date) != (key.cid, key.cid_date):
                order = None
        elif key.cid is not None:
            order = account.find_order(cid=key.cid, cid_date=key.cid_date)
        if order is None:
            raise OrderRejected("Order not found.", echo)
        return order

    def _create(self, account: Account, new: NewOrder) -> Order:
        symbol = new.instrument.symbol
        reference = self.figures.reference_price(symbol)
        amount = new.amount
        if new.flags & OrderFlag.CLOSE and not new.is_exchange:
            position = account.positions.get(symbol)
            if position is not None:  # docs flag-values: "Close position if position present"
                amount = -position.amount
        price = new.price
        if new.base_type == "MARKET":
            price = self._market_price(symbol, amount)
        elif new.base_type == "TRAILING STOP":
            assert new.price_trailing is not None
            price = reference - new.price_trailing if amount < 0 else reference + new.price_trailing
        order = Order(
            order_id=0,
            owner=account.api_key,
            symbol=symbol,
            order_type=new.order_type,
            amount=amount,
            amount_orig=amount,
            price=price,
            mts_create=self._clock(),
            gid=new.gid,
            cid=new.cid,
            flags=new.flags,
            mts_tif=new.mts_tif,
            price_trailing=new.price_trailing,
            price_aux_limit=new.price_aux_limit,
            meta=new.meta,
            lev=(new.lev or DEFAULT_LEVERAGE) if new.instrument.is_derivative else None,
        )
        if new.base_type in STOP_TYPES:
            order.trigger = price
        probe = order.price_aux_limit if new.base_type == "STOP LIMIT" else price
        self._check_funds(account, order, amount, probe, None)
        order.order_id = next(self._counters.orders)
        return order

    def _describe(self, order: Order) -> str:
        """``limit sell order for 0.5 BTC``: the amount unsigned, as the live server writes it
        (bitfinex-api-node issue 327: a sell of -0.5 reads "for 0.5 BTC"; the docs'
        ws-auth-input-order-new example writes "-2.5 ETH": live wins)."""
        side = "buy" if order.is_buy else "sell"
        base = self._instruments[order.symbol].base
        return f"{order.order_type.lower()} {side} order for {text(abs(order.amount_orig))} {base}"

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
        self,
        account: Account,
        order: Order,
        amount: Decimal,
        price: Optional[Decimal],
        aux: Optional[Decimal],
        lev: Optional[int] = None,
    ) -> None:
        """Refuse an order the account cannot afford: an exchange order's wallet; a margin
        order's tradable balance (the margin wallet at 5x); a derivative order's collateral, the
        margin wallet of its quote currency less what derivative positions and orders hold.

        :param lev: the leverage an update gives a derivative order (its own otherwise).
        """
        instrument = self._instruments[order.symbol]
        price = aux or price or self.figures.reference_price(order.symbol)
        skip = order.order_id or None
        if order.is_exchange:
            currency = instrument.quote if amount > 0 else instrument.base
            need = amount * price if amount > 0 else -amount
            available = account.wallet("exchange", currency).balance - account.reserved(
                "exchange", currency, self.figures.currencies, skip
            )
            short = need > available
        elif order.lev is not None:
            position = account.positions.get(order.symbol)
            need = opening_margin(position.amount if position else ZERO, amount, price, lev or order.lev)
            held = account.collateral_held(instrument.quote, self.figures.currencies, skip)
            short = need > account.wallet("margin", instrument.quote).balance - held
        else:
            exposure = self.figures.exposure(account, instrument.quote, (order.symbol, amount, price), skip)
            short = exposure * INITIAL_MARGIN > account.wallet("margin", instrument.quote).balance
        if short:
            kind = "exchange" if order.is_exchange else "tradable"
            raise OrderRejected(
                f"Invalid order: not enough {kind} balance for {text(amount)} {instrument.pair} at {text(price)}",
                order.wire(),
            )

    # -- placing and executing --------------------------------------------------------------

    def _place(self, account: Account, order: Order, price_oco_stop: Optional[Decimal]) -> None:
        """Put an accepted order to work: wait (stops), or execute and rest (the rest); an OCO
        limit order that did not fill on entry gets its stop leg."""
        if order.base_type in STOP_TYPES:
            if not self._refuse_if_position_forbids(account, order):
                self._wait(account, order)
            return
        self._execute(account, order)
        if price_oco_stop is not None and not order.closed and not order.fills:
            self._place_stop_leg(account, order, price_oco_stop)

    def _place_stop_leg(self, account: Account, order: Order, price: Decimal) -> None:
        """The STOP order of an OCO pair: same amount, group, cid, tif and meta; PLACED_ID is
        the limit order's id (docs rest-auth-submit-order, PLACED_ID)."""
        stop = Order(
            order_id=next(self._counters.orders),
            owner=account.api_key,
            symbol=order.symbol,
            order_type=("EXCHANGE " if order.is_exchange else "") + "STOP",
            amount=order.amount,
            amount_orig=order.amount,
            price=price,
            mts_create=self._clock(),
            gid=order.gid,
            cid=order.cid,
            flags=order.flags & STOP_LEG_FLAGS,
            mts_tif=order.mts_tif,
            meta=order.meta,
            trigger=price,
            placed_id=order.order_id,
            oco_peer=order.order_id,
        )
        order.oco_peer = stop.order_id
        self._wait(account, stop)

    def _wait(self, account: Account, order: Order) -> None:
        """Register a stop order, announce it (``on``) and check its trigger at once."""
        account.orders[order.order_id] = order
        self._stops[order.symbol].append((account, order))
        self._order_message(account, "on", order)
        self._watch_stop(account, order, self.figures.reference_price(order.symbol))

    def _execute(self, account: Account, order: Order) -> None:
        """Match ``order`` as a taker, then rest, cancel or finish it by its type."""
        known = order.order_id in account.orders
        book = self._books[order.symbol]
        limit = None if order.base_type == "MARKET" else order.price
        is_buy = order.amount > 0
        now = self._clock()
        if self._refuse_if_position_forbids(account, order):
            return
        if order.post_only and book.crosses_visible(is_buy, limit):
            self._close(account, order, "POSTONLY CANCELED")
            return
        if order.base_type == "FOK" and book.fillable(is_buy, limit) < abs(order.amount):
            self._close(account, order, "FILLORKILL CANCELED")
            return
        fills = book.take(order.amount, limit, admit=self._admission((account, order)))
        self.settle(order.symbol, fills, taker=(account, order))
        if order.amount == 0:
            self._finish_executed(account, order)
        elif order.base_type == "LIMIT":
            book.rest(BookOrder(order.order_id, order.price or ZERO, order.amount, account.api_key, order.hidden))
            account.orders[order.order_id] = order
            order.mts_update = now
            self._order_message(account, "ou" if known else "on", order)
        else:
            self._close(account, order, "IOC CANCELED" if order.base_type == "IOC" else "CANCELED")

    # -- positions: REDUCE_ONLY and CLOSE ---------------------------------------------------

    def _position_refusal(self, account: Account, order: Order, pending: Decimal = ZERO) -> Optional[str]:
        """Why a REDUCE_ONLY or CLOSE order may not execute its remaining amount now, as the
        order status Bitfinex gives (docs abbreviations-glossary, Order Status), or ``None``.

        :param pending: fills of this account's position in the symbol not yet settled (makers
            checked in the middle of one taker's match).
        """
        if not order.reduces_only:
            return None
        if order.is_exchange:
            return "RSN_POS_NOTFOUND"  # the exchange wallet holds no positions (chosen)
        position = account.positions.get(order.symbol)
        held = (position.amount if position is not None else ZERO) + pending
        if held == 0:
            return "RSN_POS_NOTFOUND"
        if (held > 0) == (order.amount > 0):
            return "RSN_POS_REDUCE_INCR"
        if abs(order.amount) > abs(held):
            return "RSN_POS_REDUCE_FLIP"
        return None

    def _refuse_if_position_forbids(self, account: Account, order: Order) -> bool:
        """Cancel ``order`` with its position status if it may not execute; whether it did."""
        refusal = self._position_refusal(account, order)
        if refusal is None:
            return False
        self._close(account, order, refusal)
        return True

    def _admission(self, taker: Optional[tuple[Account, Order]]) -> Admission:
        """The check :meth:`MatchingBook.take` runs before each fill of one taker: a resting
        REDUCE_ONLY or CLOSE order that would now increase or flip its position is cancelled
        (with its status) instead of filled. Positions move only when the fills settle, so the
        fills admitted so far are counted as pending, per account."""
        pending: dict[str, Decimal] = {}
        taker_key = taker[0].api_key if taker is not None and not taker[1].is_exchange else None

        def admit(maker: BookOrder, amount: Decimal) -> bool:
            if maker.owner is not None:
                maker_account = self._accounts[maker.owner]
                maker_order = maker_account.orders.get(maker.order_id)
                if maker_order is not None:
                    refusal = self._position_refusal(maker_account, maker_order, pending.get(maker.owner, ZERO))
                    if refusal is not None:
                        self._close(maker_account, maker_order, refusal)
                        return False
                    if not maker_order.is_exchange:
                        pending[maker.owner] = pending.get(maker.owner, ZERO) - amount
            if taker_key is not None:
                pending[taker_key] = pending.get(taker_key, ZERO) + amount
            return True

        return admit

    # -- closing ----------------------------------------------------------------------------

    def _close(self, account: Account, order: Order, reason: str) -> None:
        """Take ``order`` off the book and the stop watch, and tell the account (``oc``); the
        other leg of an OCO pair goes with it. Closing a closed order does nothing."""
        if order.closed:
            return
        order.closed = True
        self._books[order.symbol].remove(order.order_id)
        self._stops[order.symbol] = [(a, o) for a, o in self._stops[order.symbol] if o is not order]
        account.orders.pop(order.order_id, None)
        order.finish(reason, self._clock())
        self._order_message(account, "oc", order)
        self._cancel_peer(account, order)

    def _finish_executed(self, account: Account, order: Order) -> None:
        """A fully filled order leaves the account (``oc`` with its EXECUTED status)."""
        order.closed = True
        account.orders.pop(order.order_id, None)
        self._order_message(account, "oc", order)
        self._cancel_peer(account, order)

    def _cancel_peer(self, account: Account, order: Order) -> None:
        """Cancel the other leg of ``order``'s OCO pair, if it is still open (docs flag-values:
        "if one order is executed fully or partially, then the other is automatically
        canceled"; its status is plain CANCELED, chosen: the glossary has no OCO status)."""
        peer_id, order.oco_peer = order.oco_peer, None
        peer = account.orders.get(peer_id) if peer_id is not None else None
        if peer is not None:
            peer.oco_peer = None
            self._close(account, peer, "CANCELED")

    # -- fills ------------------------------------------------------------------------------

    def settle(self, symbol: str, fills: list[Fill], taker: Optional[tuple[Account, Order]]) -> None:
        """Record the public trade of each fill and settle both sides' accounts.

        :param taker: the account and order that took liquidity; ``None`` for the simulation.
        """
        data = self._market[symbol]
        book = self._books[symbol]
        for fill in fills:
            trade_id = next(self._counters.trades)
            data.record(PublicTrade(trade_id, self._clock(), fill.amount, fill.price, fill.maker.period))
            if fill.maker.owner is not None:
                maker_account = self._accounts[fill.maker.owner]
                maker_order = maker_account.orders[fill.maker.order_id]
                self._book_trade(maker_account, maker_order, -fill.amount, fill.price, trade_id, maker=True)
                if maker_order.amount == 0:
                    self._finish_executed(maker_account, maker_order)
                else:
                    if maker_order.hidden and maker_order.make_visible and book.get(maker_order.order_id) is fill.maker:
                        book.set_hidden(fill.maker, False)  # 'visible on hit' (docs flag-values)
                    self._order_message(maker_account, "ou", maker_order)
            if taker is not None:
                self._book_trade(taker[0], taker[1], fill.amount, fill.price, trade_id, maker=False)
            self._on_last_price(symbol, fill.price)

    def _book_trade(self, account: Account, order: Order, amount: Decimal, price: Decimal, trade_id: int, maker: bool) -> None:
        now = self._clock()
        instrument = self._instruments[order.symbol]
        order.record_fill(price, amount, now)
        makes = maker and not order.hidden
        if instrument.is_derivative:
            rate = DERIVATIVE_MAKER_FEE if makes else DERIVATIVE_TAKER_FEE
        else:
            rate = MAKER_FEE if makes else TAKER_FEE
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
            realized = self._move_position(account, order.symbol, amount, price, order.lev)
            margin = account.wallet("margin", quote)
            margin.balance += quantize_amount(realized) - fee
            margin.description = f"Trading fees for {text(abs(amount))} {base} ({order.symbol}) @ {text(price)} on wallet margin"
            self._wallet_update(account, "margin", quote)
        self._emit(account, "tu", [*trade[:9], wire(-fee), fee_currency, order.cid], topic)
        self._cancel_peer(account, order)

    def _move_position(self, account: Account, symbol: str, amount: Decimal, price: Decimal, lev: Optional[int]) -> Decimal:
        """Apply a margin fill to the symbol's position; return the realized profit.

        A derivative fill (``lev`` set) moves the position's collateral too: what opens or adds
        to it takes notional / lev, what reduces it releases its share, a flip takes notional /
        lev of the new side (docs rest-auth-deriv-pos-collateral-set: collateral is assigned to
        the position; notional / lev: the live ``pn`` of leehillz/bfxqa-ws, 0.72 for 0.0008 at
        9000 and lev 10). A closed position's ``pc`` shows its last collateral, as live.
        """
        now = self._clock()
        topic = ("trading", symbol)
        position = account.positions.get(symbol)
        if position is None:
            collateral = _collateral(amount, price, lev)
            position = Position(next(self._counters.positions), symbol, amount, price, now, now, lev, collateral)
            account.positions[symbol] = position
            self._emit(account, "pn", self.figures.position_array(position), topic)
            return ZERO
        held = position.amount
        realized = ZERO
        if (held > 0) == (amount > 0):
            position.base_price = quantize_amount((held * position.base_price + amount * price) / (held + amount))
            if lev is not None:
                position.collateral += _collateral(amount, price, lev)
                position.lev = lev
        else:
            closed = held if abs(amount) >= abs(held) else -amount
            realized = (price - position.base_price) * closed
            if abs(amount) > abs(held):
                position.base_price = price
                if lev is not None:
                    position.collateral, position.lev = _collateral(held + amount, price, lev), lev
            elif position.is_derivative and held + amount != 0:
                position.collateral = quantize_amount(position.collateral * abs(held + amount) / abs(held))
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
        """Execute the stop orders the last trades triggered (they may trigger more). A
        triggered OCO stop leg cancels its limit order first (it executes now)."""
        while self._triggered:
            account, order = self._triggered.popleft()
            if order.order_id not in account.orders:
                continue
            self._cancel_peer(account, order)
            limit = order.base_type == "STOP LIMIT"
            order.type_prev = order.order_type
            order.order_type = ("EXCHANGE " if order.is_exchange else "") + ("LIMIT" if limit else "MARKET")
            order.price = order.price_aux_limit if limit else self._market_price(order.symbol, order.amount)
            order.trigger = None
            order.mts_update = self._clock()
            self._order_message(account, "ou", order)
            self._execute(account, order)


def _collateral(amount: Decimal, price: Decimal, lev: Optional[int]) -> Decimal:
    """The collateral ``amount`` at ``price`` takes at leverage ``lev`` (none for a spot position)."""
    return quantize_amount(abs(amount) * price / lev) if lev is not None else ZERO
