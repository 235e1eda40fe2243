"""Immutable, typed views of the arrays of the authenticated channel.

Each record *is* the array Bitfinex sent, as a tuple (so it is immutable, compares equal to the
array's items and costs one copy to make), with a named, read-only attribute per field of its
layout in :mod:`bitfinex.protocol.fields`. A field past the end of a short array reads as
``None``; fields Bitfinex appends later are kept (``record[i]``, :attr:`AccountRecord.raw`)
even before they have a name here. Values are as decoded, unchecked: floats (or ints) for
numbers, strings, ``None``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Optional, TypeVar, overload

from bitfinex.protocol.fields import (
    BALANCE_FIELDS,
    FUNDING_CREDIT_FIELDS,
    FUNDING_LOAN_FIELDS,
    FUNDING_OFFER_FIELDS,
    ORDER_FIELDS,
    POSITION_FIELDS,
    TRADE_FIELDS,
    WALLET_FIELDS,
)

__all__ = [
    "DAY_MS",
    "AccountRecord",
    "Balance",
    "Field",
    "Fill",
    "FundingCredit",
    "FundingLoan",
    "FundingOffer",
    "Order",
    "Position",
    "Wallet",
    "status_head",
    "utc_date",
]

T = TypeVar("T")


class Field(Generic[T]):
    """A named field of an :class:`AccountRecord`: reads item ``index``, or ``None`` past the end.

    :param index: where the field sits in the array.
    :param doc: what the field means.
    """

    def __init__(self, index: int, doc: str) -> None:
        self.index = index
        self.__doc__ = doc

    @overload
    def __get__(self, record: None, owner: type[Any]) -> Field[T]: ...

    @overload
    def __get__(self, record: AccountRecord, owner: type[Any]) -> Optional[T]: ...

    def __get__(self, record: Optional[AccountRecord], owner: type[Any]) -> Any:
        if record is None:
            return self
        index = self.index
        return record[index] if index < len(record) else None

    def __repr__(self) -> str:
        return f"<Field {self.index}>"


class AccountRecord(tuple[Any, ...]):
    """One array of the authenticated channel, immutable (a tuple of its items)."""

    __slots__ = ()
    FIELDS: ClassVar[Mapping[str, int]] = {}
    """Field name → index of the layout."""
    _SHOWN: ClassVar[tuple[str, ...]] = ()

    @property
    def raw(self) -> tuple[Any, ...]:
        """The array's items, exactly as Bitfinex sent them."""
        return tuple(self)

    def field(self, name: str) -> Any:
        """The field called ``name`` (a key of :attr:`FIELDS`); ``None`` past the array's end.

        :raises KeyError: for a name the layout does not have.
        """
        index = self.FIELDS[name]
        return self[index] if index < len(self) else None

    def as_dict(self) -> dict[str, Any]:
        """Every named field, ``{name: value}``."""
        return {name: self.field(name) for name in self.FIELDS}

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._SHOWN)
        return f"{type(self).__name__}({shown})"


DAY_MS = 86_400_000
"""Milliseconds in a day."""

_DATES: dict[int, str] = {}
_DATES_KEPT = 4096


def utc_date(mts: object) -> Optional[str]:
    """The UTC date (``"YYYY-MM-DD"``) of a millisecond timestamp; ``None`` for anything else.

    Cheap for timestamps of recent days (their dates are remembered): an order's ``cid_date``
    is read on every update.
    """
    if type(mts) is int:
        day = mts // DAY_MS
    elif type(mts) is float and mts == mts and abs(mts) < 1e16:
        day = int(mts // DAY_MS)
    else:
        return None
    date = _DATES.get(day)
    if date is None:
        try:
            moment = datetime.datetime.fromtimestamp(day * 86_400, tz=datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
        date = moment.strftime("%Y-%m-%d")
        if len(_DATES) < _DATES_KEPT:
            _DATES[day] = date
    return date


def status_head(status: object) -> str:
    """The head of an order status, before ``" @"`` and ``" was:"``: ``"EXECUTED"`` for
    ``"EXECUTED @ 107.6(-0.2): was PARTIALLY FILLED @ ..."``, ``"CANCELED"`` for
    ``"CANCELED was: PARTIALLY FILLED @ ..."``, ``"INSUFFICIENT MARGIN"``...; ``""`` for a
    status that is not a string."""
    if type(status) is not str:
        return ""
    return status.split(" @", 1)[0].split(" was:", 1)[0].strip()


_O = ORDER_FIELDS


class Order(AccountRecord):
    """An order (``os``/``on``/``ou``/``oc``, the info of ``on-req``...): docs ws-auth-orders."""

    __slots__ = ()
    FIELDS = ORDER_FIELDS
    _SHOWN = ("id", "cid", "symbol", "amount", "amount_orig", "price", "status")

    id: Field[int] = Field(_O["id"], "The order id Bitfinex gave the order.")
    gid: Field[int] = Field(_O["gid"], "The group id, or ``None``.")
    cid: Field[int] = Field(_O["cid"], "The client id (unique per UTC day of :attr:`mts_create`).")
    symbol: Field[str] = Field(_O["symbol"], "The pair, ``tBTCUSD``.")
    mts_create: Field[int] = Field(_O["mts_create"], "Creation time, ms.")
    mts_update: Field[int] = Field(_O["mts_update"], "Time of the last change, ms.")
    amount: Field[float] = Field(_O["amount"], "What is left to fill, signed: > 0 buys, < 0 sells.")
    amount_orig: Field[float] = Field(_O["amount_orig"], "The amount ordered (amended by ``ou``).")
    order_type: Field[str] = Field(_O["type"], "The order type, ``EXCHANGE LIMIT``...")
    type_prev: Field[str] = Field(_O["type_prev"], "The type before the last change (a stop that triggered).")
    mts_tif: Field[int] = Field(_O["mts_tif"], "Time in force, ms, or ``None``.")
    flags: Field[int] = Field(_O["flags"], "The order flags, summed.")
    status: Field[str] = Field(_O["status"], "``ACTIVE``, ``EXECUTED @ P(A)``, ``PARTIALLY FILLED @ ...``, ``CANCELED``...")
    price: Field[float] = Field(_O["price"], "The limit (or stop) price.")
    price_avg: Field[float] = Field(_O["price_avg"], "The average fill price.")
    price_trailing: Field[float] = Field(_O["price_trailing"], "The trailing distance of a TRAILING STOP.")
    price_aux_limit: Field[float] = Field(_O["price_aux_limit"], "The limit of a STOP LIMIT.")
    notify: Field[int] = Field(_O["notify"], "1 if Bitfinex notifies the account's devices.")
    hidden: Field[int] = Field(_O["hidden"], "1 for a hidden order.")
    placed_id: Field[int] = Field(_O["placed_id"], "The id of the order that placed this one (OCO).")
    routing: Field[str] = Field(_O["routing"], "Where the order came from, ``API>BFX``.")
    meta: Field[Any] = Field(_O["meta"], "Extra fields kept with the order (``aff_code``...).")

    @property
    def cid_date(self) -> Optional[str]:
        """The UTC date of :attr:`mts_create`: with :attr:`cid`, what identifies the order."""
        return utc_date(self.mts_create)

    @property
    def status_head(self) -> str:
        """:attr:`status` before ``" @"``/``" was:"`` (see :func:`status_head`)."""
        return status_head(self.status)


_W = WALLET_FIELDS


class Wallet(AccountRecord):
    """A wallet (``ws``/``wu``): docs ws-auth-wallets."""

    __slots__ = ()
    FIELDS = WALLET_FIELDS
    _SHOWN = ("wallet_type", "currency", "balance", "available")

    wallet_type: Field[str] = Field(_W["type"], "``exchange``, ``margin`` or ``funding``.")
    currency: Field[str] = Field(_W["currency"], "The currency, ``USD``, ``BTC``...")
    balance: Field[float] = Field(_W["balance"], "The balance.")
    unsettled_interest: Field[float] = Field(_W["unsettled_interest"], "Interest not settled yet.")
    available: Field[float] = Field(
        _W["balance_available"],
        "The balance not held by open orders (``None`` when Bitfinex left it out: ask ``calc``).",
    )
    description: Field[str] = Field(_W["description"], "What changed the balance last, in words.")
    meta: Field[Any] = Field(_W["meta"], "Details of the last change.")

    @property
    def key(self) -> tuple[Optional[str], Optional[str]]:
        """``(type, currency)``: where the wallet sits in :attr:`AccountSnapshot.wallets
        <bitfinex.protocol.mirror.AccountSnapshot.wallets>`."""
        return (self.wallet_type, self.currency)


_P = POSITION_FIELDS


class Position(AccountRecord):
    """A margin or derivative position (``ps``/``pn``/``pu``/``pc``): docs ws-auth-positions."""

    __slots__ = ()
    FIELDS = POSITION_FIELDS
    _SHOWN = ("symbol", "status", "amount", "base_price")

    symbol: Field[str] = Field(_P["symbol"], "The pair, ``tBTCUSD``.")
    status: Field[str] = Field(_P["status"], "``ACTIVE`` or ``CLOSED``.")
    amount: Field[float] = Field(_P["amount"], "The size, signed: > 0 long, < 0 short.")
    base_price: Field[float] = Field(_P["base_price"], "The average entry price.")
    margin_funding: Field[float] = Field(_P["margin_funding"], "Funding used by the position.")
    margin_funding_type: Field[int] = Field(_P["margin_funding_type"], "0 daily, 1 term.")
    pl: Field[float] = Field(_P["pl"], "Profit and loss at the price of the message (may be ``None``).")
    pl_perc: Field[float] = Field(_P["pl_perc"], "Profit and loss, percent.")
    price_liq: Field[float] = Field(_P["price_liq"], "The liquidation price.")
    leverage: Field[float] = Field(_P["leverage"], "The leverage.")
    id: Field[int] = Field(_P["position_id"], "The position id.")
    mts_create: Field[int] = Field(_P["mts_create"], "Creation time, ms.")
    mts_update: Field[int] = Field(_P["mts_update"], "Time of the last change, ms.")
    position_type: Field[int] = Field(_P["type"], "0 margin, 1 derivative.")
    collateral: Field[float] = Field(_P["collateral"], "Collateral held by the position.")
    collateral_min: Field[float] = Field(_P["collateral_min"], "The least collateral before liquidation.")
    meta: Field[Any] = Field(_P["meta"], "Extra details.")


_B = BALANCE_FIELDS


class Balance(AccountRecord):
    """The balance info (``bu``): the account's total worth in USD (docs ws-auth-balance)."""

    __slots__ = ()
    FIELDS = BALANCE_FIELDS
    _SHOWN = ("aum", "aum_net")

    aum: Field[float] = Field(_B["aum"], "Assets under management.")
    aum_net: Field[float] = Field(_B["aum_net"], "Net assets under management (open positions' profit included).")


_F = FUNDING_OFFER_FIELDS


class FundingOffer(AccountRecord):
    """A funding offer (``fos``/``fon``/``fou``/``foc``): docs ws-auth-funding-offers."""

    __slots__ = ()
    FIELDS = FUNDING_OFFER_FIELDS
    _SHOWN = ("id", "symbol", "amount", "rate", "period", "status")

    id: Field[int] = Field(_F["id"], "The offer id.")
    symbol: Field[str] = Field(_F["symbol"], "The funding currency, ``fUSD``.")
    mts_create: Field[int] = Field(_F["mts_create"], "Creation time, ms.")
    mts_update: Field[int] = Field(_F["mts_update"], "Time of the last change, ms.")
    amount: Field[float] = Field(_F["amount"], "What is left, signed: > 0 lends, < 0 borrows.")
    amount_orig: Field[float] = Field(_F["amount_orig"], "The amount offered.")
    offer_type: Field[str] = Field(_F["type"], "``LIMIT``, ``FRRDELTAVAR`` or ``FRRDELTAFIX``.")
    flags: Field[int] = Field(_F["flags"], "The offer flags.")
    status: Field[str] = Field(_F["status"], "``ACTIVE``, ``EXECUTED``, ``PARTIALLY FILLED``, ``CANCELED``.")
    rate: Field[float] = Field(_F["rate"], "The daily rate.")
    period: Field[int] = Field(_F["period"], "Days.")
    notify: Field[int] = Field(_F["notify"], "1 if Bitfinex notifies the account's devices.")
    hidden: Field[int] = Field(_F["hidden"], "1 for a hidden offer.")
    renew: Field[int] = Field(_F["renew"], "1 if the offer renews itself.")


_C = FUNDING_CREDIT_FIELDS


class FundingLoan(AccountRecord):
    """Funds lent or borrowed, not used in a position (``fls``/``fln``/``flu``/``flc``): docs
    ws-auth-funding-loans."""

    __slots__ = ()
    FIELDS = FUNDING_LOAN_FIELDS
    _SHOWN = ("id", "symbol", "side", "amount", "rate", "period", "status")

    id: Field[int] = Field(_C["id"], "The loan (or credit) id.")
    symbol: Field[str] = Field(_C["symbol"], "The funding currency, ``fUSD``.")
    side: Field[int] = Field(_C["side"], "1 lender, -1 borrower, 0 both.")
    mts_create: Field[int] = Field(_C["mts_create"], "Creation time, ms.")
    mts_update: Field[int] = Field(_C["mts_update"], "Time of the last change, ms.")
    amount: Field[float] = Field(_C["amount"], "The amount.")
    flags: Field[Any] = Field(_C["flags"], "Flags.")
    status: Field[str] = Field(_C["status"], "``ACTIVE``...")
    rate_type: Field[str] = Field(_C["rate_type"], "``FIXED``, or ``VAR`` for FRR funding.")
    rate: Field[float] = Field(_C["rate"], "The daily rate.")
    period: Field[int] = Field(_C["period"], "Days.")
    mts_opening: Field[int] = Field(_C["mts_opening"], "When the funding opened, ms.")
    mts_last_payout: Field[int] = Field(_C["mts_last_payout"], "The last payout, ms.")
    notify: Field[int] = Field(_C["notify"], "1 if Bitfinex notifies the account's devices.")
    hidden: Field[int] = Field(_C["hidden"], "1 if hidden.")
    renew: Field[int] = Field(_C["renew"], "1 if it renews itself.")
    rate_real: Field[float] = Field(_C["rate_real"], "The rate of FRR and FRRDELTAFIX funding.")
    no_close: Field[int] = Field(_C["no_close"], "1 if it stays open when the position closes.")


class FundingCredit(FundingLoan):
    """Funds lent or borrowed and used in a position (``fcs``/``fcn``/``fcu``/``fcc``): docs
    ws-auth-funding-credits. A loan's fields and the position's pair."""

    __slots__ = ()
    FIELDS = FUNDING_CREDIT_FIELDS

    position_pair: Field[str] = Field(_C["position_pair"], "The pair of the position the funds are used in.")


_T = TRADE_FIELDS


class Fill(AccountRecord):
    """An own trade (``te``, then ``tu`` with the fee): docs ws-auth-trades. :attr:`fee` and
    :attr:`fee_currency` are ``None`` until the ``tu`` came."""

    __slots__ = ()
    FIELDS = TRADE_FIELDS
    _SHOWN = ("id", "order_id", "amount", "price", "fee", "fee_currency")

    id: Field[int] = Field(_T["id"], "The trade id.")
    symbol: Field[str] = Field(_T["symbol"], "The pair.")
    mts_create: Field[int] = Field(_T["mts_create"], "When it traded, ms.")
    order_id: Field[int] = Field(_T["order_id"], "The order it filled.")
    amount: Field[float] = Field(_T["exec_amount"], "The amount filled, signed.")
    price: Field[float] = Field(_T["exec_price"], "The price it filled at.")
    order_type: Field[str] = Field(_T["order_type"], "The order's type.")
    order_price: Field[float] = Field(_T["order_price"], "The order's price.")
    maker: Field[int] = Field(_T["maker"], "1 if the order was the maker, -1 the taker.")
    fee: Field[float] = Field(_T["fee"], "The fee (negative: paid), from the ``tu``.")
    fee_currency: Field[str] = Field(_T["fee_currency"], "The fee's currency, from the ``tu``.")
    cid: Field[int] = Field(_T["cid"], "The order's cid.")
