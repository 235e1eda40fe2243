"""Accounts of the local exchange: keys, wallets, orders, positions, and their wire arrays
(funding offers, credits and loans: :mod:`bitfinex.testing.fundingstate`)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from bitfinex.protocol.constants import OrderFlag
from bitfinex.protocol.signing import Secret
from bitfinex.testing.fundingstate import FundingBook
from bitfinex.testing.numbers import ZERO, quantize_amount, text, wire

MAKER_FEE = Decimal("0.001")
"""Fee rate of the resting side of a trade (0.1 %)."""

TAKER_FEE = Decimal("0.002")
"""Fee rate of the side that took liquidity, and of hidden orders (0.2 %)."""

INITIAL_MARGIN = Decimal("0.2")
"""Collateral a margin position needs per unit of notional (leverage 5)."""

MAINTENANCE_MARGIN = Decimal("0.02")
"""Collateral below which a position would be liquidated (shown as ``COLLATERAL_MIN``)."""

DERIVATIVE_MAINTENANCE_MARGIN = Decimal("0.005")
"""A derivative position is liquidated when its collateral plus its profit at the mark price falls
to this share of its notional at the base price: 0.5 %, half the minimum collateral. Derived from
a live ``pu`` (leehillz/bfxqa-ws ``Auth/DerivativesOrder.js``): 0.0008 BTCF0 long at 9000, lev 10,
COLLATERAL 0.72, COLLATERAL_MIN 0.072, PRICE_LIQ 8145 = 9000 - (0.72 - 0.036) / 0.0008."""

DERIVATIVE_MIN_COLLATERAL = Decimal("0.01")
"""The least collateral a derivative position may hold per unit of notional (``COLLATERAL_MIN``,
1 %: the live ``pu`` above, and the maximum leverage of 100, docs rest-auth-submit-order)."""

DERIVATIVE_MAKER_FEE = Decimal("-0.0002")
"""Fee rate of the resting side of a derivatives trade: a rebate of 0.02 % (chosen: what public
summaries of Bitfinex's fee schedule give for its base tier; no frame shows it)."""

DERIVATIVE_TAKER_FEE = Decimal("0.00065")
"""Fee rate of the side that took liquidity in a derivatives trade, 0.065 % (chosen, as
:data:`DERIVATIVE_MAKER_FEE`)."""

WALLET_TYPES = ("exchange", "margin", "funding")

Topic = tuple[Any, ...]
"""What ``auth`` filters an account message falls under (see :class:`AccountMessage`)."""


@dataclass(frozen=True)
class AccountMessage:
    """A frame for an account's authenticated connections: ``[0, KIND, DATA]``.

    :param topic: what ``auth`` filters it falls under: ``("trading", SYMBOL)``,
        ``("wallet", TYPE, CURRENCY)``, ``("funding", SYMBOL)``, ``("balance",)`` or
        ``("notify",)``.
    """

    kind: str
    data: Any
    topic: Topic


_STARTING_AMOUNTS = {"USD": 100_000, "TESTUSD": 100_000, "USTF0": 100_000, "BTC": 10, "TESTBTC": 10, "ETH": 100}


def default_balances(
    currencies: list[str], funding: tuple[str, ...] = ("USD",), collateral: tuple[str, ...] = ()
) -> dict[tuple[str, str], Decimal]:
    """The starting wallets of an account: exchange and margin wallets in every currency,
    a funding wallet in every funding currency, a margin wallet in every derivatives collateral
    currency.

    USD, TESTUSD and USTF0 start at 100 000, BTC at 10, ETH at 100, any other currency at 1000; a
    funding wallet holds a tenth of that (USD 10 000, BTC 1).

    :param funding: the currencies of the listed funding symbols (``USD`` for ``fUSD``).
    :param collateral: the currencies perpetual contracts are margined in (``USTF0``).
    """
    balances: dict[tuple[str, str], Decimal] = {}
    for wallet_type in ("exchange", "margin"):
        for currency in currencies:
            balances[(wallet_type, currency)] = Decimal(_STARTING_AMOUNTS.get(currency, 1000))
    for currency in funding:
        balances[("funding", currency)] = Decimal(_STARTING_AMOUNTS.get(currency, 1000)) / 10
    for currency in collateral:
        balances[("margin", currency)] = Decimal(_STARTING_AMOUNTS.get(currency, 1000))
    return balances


def utc_date(mts: int) -> str:
    """The UTC date (``YYYY-MM-DD``) of a millisecond timestamp: an order's ``cid_date``."""
    moment = datetime.datetime.fromtimestamp(mts / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d")


@dataclass
class Order:
    """A client order, live or just finished.

    :param amount: what is left to fill, signed (``> 0`` buy).
    :param order_type: as the client gave it (``LIMIT``, ``EXCHANGE STOP LIMIT``...).
    :param price: the limit price (the stop price for stops; for market orders the price at
        submission).
    :param trigger: for stop and trailing orders, the last price that triggers them; ``None``
        once triggered or for other types.
    :param placed_id: the id of the order that placed this one: an OCO order's stop leg shows
        its limit order's id (PLACED_ID, index 25; docs rest-auth-submit-order).
    :param oco_peer: the id of the other leg of an OCO pair while both are live (not on the wire).
    :param closed: set once the order left the account (cancelled or fully executed).
    :param lev: a derivative order's leverage (``None`` for spot orders); its array's META then
        carries ``{"lev": LEV, "$F33": LEV}``, as every live derivative order's does (leehillz/
        bfxqa-ws ``Auth/DerivativesOrder.js``: ``on-req``, ``on``, ``oc``).
    """

    order_id: int
    owner: str
    symbol: str
    order_type: str
    amount: Decimal
    amount_orig: Decimal
    price: Optional[Decimal]
    mts_create: int
    gid: Optional[int] = None
    cid: Optional[int] = None
    flags: int = 0
    mts_tif: Optional[int] = None
    price_trailing: Optional[Decimal] = None
    price_aux_limit: Optional[Decimal] = None
    meta: Optional[dict[str, Any]] = None
    status: str = "ACTIVE"
    type_prev: Optional[str] = None
    trigger: Optional[Decimal] = None
    mts_update: int = 0
    fills: list[tuple[Decimal, Decimal]] = field(default_factory=list)
    placed_id: Optional[int] = None
    oco_peer: Optional[int] = None
    closed: bool = False
    lev: Optional[int] = None

    @property
    def base_type(self) -> str:
        """The type without its ``EXCHANGE`` prefix: ``LIMIT``, ``MARKET``, ``STOP``..."""
        return self.order_type[len("EXCHANGE ") :] if self.is_exchange else self.order_type

    @property
    def is_exchange(self) -> bool:
        """Whether the order trades the exchange wallet (else the margin wallet)."""
        return self.order_type.startswith("EXCHANGE ")

    @property
    def is_buy(self) -> bool:
        """Whether the order buys."""
        return self.amount_orig > 0

    @property
    def hidden(self) -> bool:
        """Whether the HIDDEN flag (64) is set."""
        return bool(self.flags & OrderFlag.HIDDEN)

    @property
    def post_only(self) -> bool:
        """Whether the POST_ONLY flag (4096) is set."""
        return bool(self.flags & OrderFlag.POST_ONLY)

    @property
    def reduces_only(self) -> bool:
        """Whether REDUCE_ONLY (1024) or CLOSE (512) is set: the order may only shrink the
        position (docs flag-values)."""
        return bool(self.flags & (OrderFlag.REDUCE_ONLY | OrderFlag.CLOSE))

    @property
    def make_visible(self) -> bool:
        """Whether a hidden order shows once hit (meta ``{make_visible: 1}``, docs flag-values)."""
        return bool(self.meta and self.meta.get("make_visible"))

    @property
    def cid_date(self) -> str:
        """The UTC date of creation, which with the cid identifies the order."""
        return utc_date(self.mts_create)

    @property
    def executed(self) -> Decimal:
        """The amount filled so far, signed."""
        return sum((amount for _, amount in self.fills), ZERO)

    def average_price(self) -> Decimal:
        """The volume-weighted price of the fills so far (0 before any fill)."""
        executed = self.executed
        if executed == 0:
            return ZERO
        return sum((price * amount for price, amount in self.fills), ZERO) / executed

    def record_fill(self, price: Decimal, amount: Decimal, mts: int) -> None:
        """Account for a fill of ``amount`` (signed) at ``price``; sets the status.

        A CLOSE order's full execution reads ``EXECUTED @ P(A) was ACTIVE (note:POSCLOSE)``
        (docs abbreviations-glossary, Order Status).
        """
        self.fills.append((price, amount))
        self.amount -= amount
        self.mts_update = mts
        head = "EXECUTED" if self.amount == 0 else "PARTIALLY FILLED"
        if head == "EXECUTED" and self.flags & OrderFlag.CLOSE:
            self.status = f"EXECUTED @ {text(price)}({text(amount)}) was {self.status} (note:POSCLOSE)"
            return
        earlier = f": was {self.status}" if self.status != "ACTIVE" else ""
        self.status = f"{head} @ {text(price)}({text(amount)}){earlier}"

    def finish(self, reason: str, mts: int) -> None:
        """Mark the order cancelled: ``reason`` is ``CANCELED``, ``IOC CANCELED``..."""
        self.status = f"{reason} was: {self.status}" if self.fills else reason
        self.mts_update = mts

    def wire(self) -> list[Any]:
        """The 32-field order array of ``os``/``on``/``ou``/``oc`` and ``*-req`` notifications."""
        return order_array(
            order_id=self.order_id,
            gid=self.gid,
            cid=self.cid,
            symbol=self.symbol,
            mts_create=self.mts_create,
            mts_update=self.mts_update or self.mts_create,
            amount=wire(self.amount),
            amount_orig=wire(self.amount_orig),
            order_type=self.order_type,
            type_prev=self.type_prev,
            mts_tif=self.mts_tif,
            flags=self.flags,
            status=self.status,
            price=wire(self.price),
            price_avg=wire(self.average_price()),
            price_trailing=wire(self.price_trailing) if self.price_trailing is not None else 0,
            price_aux_limit=wire(self.price_aux_limit) if self.price_aux_limit is not None else 0,
            hidden=1 if self.hidden else 0,
            placed_id=self.placed_id,
            meta=self.meta if self.lev is None else {**(self.meta or {}), "lev": self.lev, "$F33": self.lev},
        )


def order_array(**fields: Any) -> list[Any]:
    """Lay out an order's fields in the 32-field array; missing fields are ``null``.

    Field names are those of :meth:`Order.wire`; ``notify`` defaults to 0 and ``routing`` to
    ``"API>BFX"`` as on Bitfinex.
    """
    array: list[Any] = [None] * 32
    for index, name in _ORDER_FIELDS.items():
        array[index] = fields.get(name)
    array[23] = fields.get("notify", 0)
    array[28] = fields.get("routing", "API>BFX")
    return array


_ORDER_FIELDS = {
    0: "order_id",
    1: "gid",
    2: "cid",
    3: "symbol",
    4: "mts_create",
    5: "mts_update",
    6: "amount",
    7: "amount_orig",
    8: "order_type",
    9: "type_prev",
    10: "mts_tif",
    12: "flags",
    13: "status",
    16: "price",
    17: "price_avg",
    18: "price_trailing",
    19: "price_aux_limit",
    24: "hidden",
    25: "placed_id",
    31: "meta",
}


@dataclass
class Wallet:
    """One wallet: a currency in the exchange, margin or funding wallet type."""

    wallet_type: str
    currency: str
    balance: Decimal = ZERO
    description: Optional[str] = None

    def wire(self, available: Decimal) -> list[Any]:
        """``[TYPE, CURRENCY, BALANCE, UNSETTLED_INTEREST, BALANCE_AVAILABLE, DESCRIPTION, META]``."""
        return [self.wallet_type, self.currency, wire(self.balance), 0, wire(available), self.description, None]


@dataclass
class Position:
    """A margin position in one symbol, or a derivative position (:attr:`lev` set).

    :param lev: a derivative position's leverage (that of the order that last opened or added to
        it); ``None`` for a spot margin position.
    :param collateral: a derivative position's collateral (assigned from the margin wallet of its
        quote currency when it opens: notional / lev; docs rest-auth-deriv-pos-collateral-set).
    :param margin_funding: a derivative position's funding payments so far (< 0 paid), shown as
        MARGIN_FUNDING (a live derivative ``pu`` shows ``-0.0025`` there).
    """

    position_id: int
    symbol: str
    amount: Decimal
    base_price: Decimal
    mts_create: int
    mts_update: int
    lev: Optional[int] = None
    collateral: Decimal = ZERO
    margin_funding: Decimal = ZERO

    @property
    def is_open(self) -> bool:
        """Whether the position still holds an amount."""
        return self.amount != 0

    @property
    def is_derivative(self) -> bool:
        """Whether this is a derivative position."""
        return self.lev is not None

    @property
    def notional(self) -> Decimal:
        """What the position is worth at its base price."""
        return abs(self.amount) * self.base_price

    def profit_at(self, price: Decimal) -> Decimal:
        """The profit (quote currency) of closing the position at ``price``."""
        return (price - self.base_price) * self.amount

    def liquidation_price(self) -> Decimal:
        """The price at which the position is liquidated: a derivative position's, where its
        collateral plus its profit is :data:`DERIVATIVE_MAINTENANCE_MARGIN` of its notional; a
        spot margin position's, the base price moved by the initial less the maintenance margin."""
        if self.lev is not None:
            cushion = self.collateral - DERIVATIVE_MAINTENANCE_MARGIN * self.notional
            return quantize_amount(self.base_price - cushion / self.amount)
        direction = 1 if self.amount > 0 else -1
        return self.base_price * (1 - direction * (INITIAL_MARGIN - MAINTENANCE_MARGIN))

    def wire(self, price: Decimal) -> list[Any]:
        """The 20-field position array, profit and loss at ``price`` (the last price; a
        derivative's mark price). TYPE is 1 for a derivative, 0 otherwise, as live."""
        notional = self.notional
        profit = self.profit_at(price)
        percent = round(profit / notional * 100, 4) if notional else ZERO
        derivative = self.lev is not None
        return [
            self.symbol,
            "ACTIVE" if self.is_open else "CLOSED",
            wire(self.amount),
            wire(self.base_price),
            wire(self.margin_funding) if derivative else 0,
            0,
            wire(profit),
            wire(percent),
            wire(self.liquidation_price()) if self.is_open else None,
            self.lev if derivative else wire(1 / INITIAL_MARGIN),
            None,
            self.position_id,
            self.mts_create,
            self.mts_update,
            None,
            1 if derivative else 0,
            None,
            wire(self.collateral if derivative else notional * INITIAL_MARGIN),
            wire(notional * (DERIVATIVE_MIN_COLLATERAL if derivative else MAINTENANCE_MARGIN)),
            None,
        ]


def opening_margin(held: Decimal, amount: Decimal, price: Decimal, lev: int) -> Decimal:
    """The collateral a derivative order of ``amount`` at ``price`` takes from the margin wallet:
    notional / lev of the part that opens or adds to the position ``held`` (a part that reduces
    it takes none; chosen)."""
    return max(ZERO, abs(held + amount) - abs(held)) * price / lev


class Account:
    """One customer of the exchange.

    :param api_key: the key clients authenticate with.
    :param secret: the API secret (kept in a :class:`~bitfinex.protocol.signing.Secret`).
    :param user_id: the ``userId`` the ``auth`` event reports.
    :param balances: starting balances by ``(wallet_type, currency)``.
    """

    def __init__(
        self,
        api_key: str,
        secret: Secret,
        user_id: int,
        balances: Mapping[tuple[str, str], Decimal],
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.user_id = user_id
        self.last_nonce: Decimal = ZERO
        self.wallets: dict[tuple[str, str], Wallet] = {
            key: Wallet(key[0], key[1], Decimal(value)) for key, value in balances.items()
        }
        self.orders: dict[int, Order] = {}
        self.positions: dict[str, Position] = {}
        self.funding = FundingBook()
        """Open funding offers, credits and loans."""

    def __repr__(self) -> str:
        return f"Account(api_key={self.api_key!r}, user_id={self.user_id})"

    def wallet(self, wallet_type: str, currency: str) -> Wallet:
        """The wallet of that type and currency, created empty on first use."""
        key = (wallet_type, currency)
        if key not in self.wallets:
            self.wallets[key] = Wallet(wallet_type, currency)
        return self.wallets[key]

    def reserved(
        self,
        wallet_type: str,
        currency: str,
        currencies_of: Mapping[str, tuple[str, str]],
        skip: Optional[int] = None,
    ) -> Decimal:
        """What open exchange orders hold in a wallet (buys hold quote, sells hold base); in a
        funding wallet, what open lend offers and credits hold; in a margin wallet, what derivative
        positions and orders hold (:meth:`collateral_held`).

        :param currencies_of: ``symbol -> (base, quote)`` of the listed pairs.
        :param skip: the id of an order to leave out (one being updated).
        """
        if wallet_type == "funding":
            return self.funding.lent("f" + currency)
        if wallet_type == "margin":
            return self.collateral_held(currency, currencies_of, skip)
        if wallet_type != "exchange":
            return ZERO
        held = ZERO
        for order in self.orders.values():
            if not order.is_exchange or order.order_id == skip or (self.is_oco_stop_leg(order) and order.oco_peer != skip):
                continue
            hold = self._hold(order, currency, currencies_of)
            peer = self.orders.get(order.oco_peer) if order.oco_peer is not None else None
            if peer is not None and peer.order_id != skip:
                hold = max(hold, self._hold(peer, currency, currencies_of))  # one pair, one reservation
            held += hold
        return held

    def collateral_held(self, currency: str, currencies_of: Mapping[str, tuple[str, str]], skip: Optional[int] = None) -> Decimal:
        """What the margin wallet of ``currency`` holds for derivatives: the collateral of open
        derivative positions, and what open derivative orders would take
        (:func:`opening_margin`; an OCO pair once).

        :param skip: the id of an order to leave out (one being updated).
        """
        held = sum(
            (p.collateral for p in self.positions.values() if p.lev is not None and currencies_of[p.symbol][1] == currency),
            ZERO,
        )
        for order in self.orders.values():
            if order.lev is None or order.order_id == skip or currencies_of[order.symbol][1] != currency:
                continue
            if self.is_oco_stop_leg(order):
                continue
            position = self.positions.get(order.symbol)
            price = order.price_aux_limit or order.price or ZERO
            held += opening_margin(position.amount if position else ZERO, order.amount, price, order.lev)
        return held

    @staticmethod
    def _hold(order: Order, currency: str, currencies_of: Mapping[str, tuple[str, str]]) -> Decimal:
        base, quote = currencies_of[order.symbol]
        if order.amount > 0 and quote == currency:
            return order.amount * (order.price_aux_limit or order.price or ZERO)
        if order.amount < 0 and base == currency:
            return -order.amount
        return ZERO

    def is_oco_stop_leg(self, order: Order) -> bool:
        """Whether ``order`` is the stop leg of an OCO pair whose limit order is still open:
        the pair reserves funds and margin once (either leg fills, never both)."""
        return order.placed_id is not None and order.oco_peer is not None and order.oco_peer in self.orders

    def find_order(
        self, order_id: Optional[int] = None, cid: Optional[int] = None, cid_date: Optional[str] = None
    ) -> Optional[Order]:
        """The open order with ``order_id``, or with ``cid`` created on ``cid_date``."""
        if order_id is not None:
            return self.orders.get(order_id)
        for order in self.orders.values():
            if order.cid == cid and order.cid_date == cid_date:
                return order
        return None
