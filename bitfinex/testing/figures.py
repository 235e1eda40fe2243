"""What an account's holdings are worth: the wallet, position, balance and margin figures.

Pure computations on an account and the market's last prices. They build the account messages
that report holdings (``wu``, ``pu``, ``bu``, ``miu``, ``fiu``), answer ``calc`` requests, and
give the order desk its margin exposure.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Optional

from bitfinex.testing.accounts import (
    INITIAL_MARGIN,
    MAINTENANCE_MARGIN,
    WALLET_TYPES,
    Account,
    AccountMessage,
    Position,
)
from bitfinex.testing.channels import MarketData
from bitfinex.testing.engine import MatchingBook
from bitfinex.testing.fundingstate import DAY_MS, FundingContract
from bitfinex.testing.instruments import Instrument, collateral_currencies
from bitfinex.testing.numbers import ZERO, quantize_amount, round_significant, wire
from bitfinex.testing.orderinput import DEFAULT_LEVERAGE

DOLLARS = ("USD", "TESTUSD", "USTF0")
"""Currencies valued at 1 USD (USTF0, the derivatives collateral, is Tether: chosen, no USDt/USD
pair is listed)."""


class AccountFigures:
    """Computes account figures at the market's last prices.

    :param instruments: listed instruments by symbol.
    :param market: public market data by symbol (for last prices).
    :param clock: the exchange clock (ms), for the remaining durations of ``fiu``.
    :param books: the engine's books by symbol (for book mid prices, hence mark prices).
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        market: Mapping[str, MarketData],
        clock: Callable[[], int] = lambda: 0,
        books: Optional[Mapping[str, MatchingBook]] = None,
    ) -> None:
        self._instruments = instruments
        self._market = market
        self._clock = clock
        self._books = books or {}
        self.currencies = {s: (i.base, i.quote) for s, i in instruments.items() if not i.is_funding}
        """``symbol -> (base, quote)`` of every listed trading pair and perpetual contract."""
        self._collateral = frozenset(collateral_currencies(tuple(instruments.values())))

    def reference_price(self, symbol: str) -> Decimal:
        """The last trade price of ``symbol`` (its start price before any trade)."""
        return self._market[symbol].last_price() or self._instruments[symbol].start_price

    def mid_price(self, symbol: str) -> Decimal:
        """The mid of ``symbol``'s best bid and best ask (its last price while a side is empty):
        what Bitfinex calls a book mid price (docs rest-public-derivatives-status, DERIV_PRICE and
        SPOT_PRICE)."""
        book = self._books.get(symbol)
        bid, ask = (book.best_bid(), book.best_ask()) if book is not None else (None, None)
        if bid is None or ask is None:
            return self.reference_price(symbol)
        return (bid + ask) / 2

    def mark_price(self, symbol: str) -> Decimal:
        """What a position in ``symbol`` is valued at: a perpetual's mark price, the book mid of
        its underlying spot pair; the last price for anything else.

        Bitfinex's mark price is the BFX Composite Index, an equally weighted index of the
        underlying pair's prices on Bitfinex and up to three other exchanges
        (bitfinex.com/legal/derivative_product), used for liquidations and funding payments
        (bitfinex.com/posts/422); the local exchange is the only exchange there is, so its book
        mid is the index (chosen).
        """
        instrument = self._instruments[symbol]
        if instrument.is_derivative:
            return self.mid_price(instrument.underlying)
        return self.reference_price(symbol)

    def usd_value(self, currency: str) -> Decimal:
        """The USD price of one unit of ``currency`` (0 if no USD pair lists it)."""
        if currency in DOLLARS:
            return Decimal(1)
        for symbol, (base, quote) in self.currencies.items():
            if base == currency and quote in DOLLARS:
                return self.reference_price(symbol)
        return ZERO

    def unrealized_profit(self, position: Position) -> Decimal:
        """A position's profit (in its quote currency) at the last price (derivatives: the mark)."""
        return position.profit_at(self.mark_price(position.symbol))

    def wallet_message(self, account: Account, wallet_type: str, currency: str) -> AccountMessage:
        """The ``wu`` of one wallet (its available balance net of open exchange orders)."""
        wallet = account.wallet(wallet_type, currency)
        available = wallet.balance - account.reserved(wallet_type, currency, self.currencies)
        return AccountMessage("wu", wallet.wire(available), ("wallet", wallet_type, currency))

    def position_array(self, position: Position) -> list[Any]:
        """A position's array, profit and loss at the symbol's last price (derivatives: the mark)."""
        return position.wire(self.mark_price(position.symbol))

    def balance_message(self, account: Account) -> AccountMessage:
        """``bu``: ``[AUM, AUM_NET]``, every wallet (and, net, every position) valued in USD."""
        total = sum((w.balance * self.usd_value(w.currency) for w in account.wallets.values()), ZERO)
        profit = sum(
            (self.unrealized_profit(p) * self.usd_value(self._instruments[p.symbol].quote) for p in account.positions.values()),
            ZERO,
        )
        return AccountMessage("bu", [wire(quantize_amount(total)), wire(quantize_amount(total + profit))], ("balance",))

    def exposure(
        self,
        account: Account,
        quote: str,
        extra: Optional[tuple[str, Decimal, Decimal]] = None,
        skip: Optional[int] = None,
    ) -> Decimal:
        """The worst-case margin notional in ``quote``: positions plus open margin orders.

        :param extra: ``(symbol, amount, price)`` of an order being placed, counted too.
        :param skip: the id of an order to leave out (one being updated).
        """
        total = ZERO
        for symbol, (_, symbol_quote) in self.currencies.items():
            if symbol_quote != quote:
                continue
            position = account.positions.get(symbol)
            held = position.amount if position else ZERO
            amounts = [
                o.amount
                for o in account.orders.values()
                if o.symbol == symbol and not o.is_exchange and o.order_id != skip and not account.is_oco_stop_leg(o)
            ]  # an OCO pair counts once: one of its legs fills, never both
            price = self.reference_price(symbol)
            if extra is not None and extra[0] == symbol:
                price = extra[2]
                amounts.append(extra[1])
            buys = sum((a for a in amounts if a > 0), ZERO)
            sells = sum((a for a in amounts if a < 0), ZERO)
            total += max(abs(held + buys), abs(held + sells)) * price
        return total

    def margin_base(self, account: Account) -> list[Any]:
        """``miu`` base figures of the margin (spot) account: ``[USER_PL, USER_SWAPS, MARGIN_BALANCE,
        MARGIN_NET, MARGIN_MIN]`` (USD); derivative positions and their collateral wallet are not
        in them (chosen: they are margined apart, each position on its own collateral)."""
        positions = [p for p in account.positions.values() if not p.is_derivative]
        profit = sum((self.unrealized_profit(p) for p in positions), ZERO)
        balance = sum(
            (
                w.balance
                for w in account.wallets.values()
                if w.wallet_type == "margin" and w.currency in DOLLARS and w.currency not in self._collateral
            ),
            ZERO,
        )
        minimum = sum((p.notional * MAINTENANCE_MARGIN for p in positions), ZERO)
        return [wire(profit), 0, wire(balance), wire(balance + profit), wire(minimum)]

    def margin_symbol(self, account: Account, symbol: str) -> list[Any]:
        """``miu`` figures of one pair: ``[TRADABLE_BALANCE, GROSS_BALANCE, BUY, SELL]``. For a
        perpetual: what the collateral wallet's free balance (less what derivative positions and
        orders hold) opens at :data:`~bitfinex.testing.orderinput.DEFAULT_LEVERAGE` (chosen: the
        leverage a new order gets), in the quote currency, and in contracts at the mark price."""
        instrument = self._instruments[symbol]
        quote = instrument.quote
        balance = account.wallet("margin", quote).balance
        if instrument.is_derivative:
            free = balance - account.collateral_held(quote, self.currencies)
            tradable = quantize_amount(max(ZERO, free) * DEFAULT_LEVERAGE)
            price = self.mark_price(symbol)
        else:
            tradable = max(ZERO, balance / INITIAL_MARGIN - self.exposure(account, quote))
            price = self.reference_price(symbol)
        amount = wire(quantize_amount(tradable / price))
        return [wire(tradable), wire(tradable), amount, amount]

    def funding_info(self, account: Account, symbol: str) -> list[Any]:
        """``fiu`` figures of one funding currency: ``[YIELD_LOAN, YIELD_LEND, DURATION_LOAN,
        DURATION_LEND]``: the amount-weighted average daily rate of the account's open loans and
        of its credits, and their amount-weighted average remaining days (0 without any).

        The docs (ws-auth-info-funding) name the fields only; a live answer
        (``[0.0005959698630136986,0.0008444547945205479,20.66662037037037,29.999953703703703]``,
        leehillz/bfxqa-ws ``Auth/NewFundingOffer.js``) shows daily rates and fractional days.
        """
        now = self._clock()

        def average(contracts: list[FundingContract]) -> tuple[Decimal, Decimal]:
            total = sum((c.amount for c in contracts), ZERO)
            if not total:
                return ZERO, ZERO
            rate = sum((c.amount * c.current_rate() for c in contracts), ZERO) / total
            days = sum((c.amount * Decimal(max(0, c.mts_end - now)) for c in contracts), ZERO) / total / DAY_MS
            return round_significant(rate, 12), round_significant(days, 12)

        loan_yield, loan_days = average([c for c in account.funding.loans.values() if c.symbol == symbol])
        lend_yield, lend_days = average([c for c in account.funding.credits.values() if c.symbol == symbol])
        return [wire(loan_yield), wire(lend_yield), wire(loan_days), wire(lend_days)]

    def calculation(self, account: Account, request: str) -> Optional[list[AccountMessage]]:
        """The messages answering one ``calc`` request; ``None`` if the request is unknown.

        Requests: ``margin_base``, ``margin_sym_SYMBOL``, ``funding_sym_SYMBOL``,
        ``position_SYMBOL`` (nothing without a position), ``wallet_TYPE_CURRENCY``, ``balance``.
        """
        if request == "margin_base":
            return [AccountMessage("miu", ["base", self.margin_base(account)], ("trading", None))]
        if request == "balance":
            return [self.balance_message(account)]
        kind, _, rest = request.partition("_")
        symbol = rest[len("sym_") :] if rest.startswith("sym_") else ""
        if kind == "margin" and symbol in self.currencies:
            return [AccountMessage("miu", ["sym", symbol, self.margin_symbol(account, symbol)], ("trading", symbol))]
        if kind == "funding" and symbol in self._instruments and self._instruments[symbol].is_funding:
            return [AccountMessage("fiu", ["sym", symbol, self.funding_info(account, symbol)], ("funding", symbol))]
        if kind == "position" and rest in self.currencies:
            position = account.positions.get(rest)
            return [] if position is None else [AccountMessage("pu", self.position_array(position), ("trading", rest))]
        wallet_type, _, currency = rest.partition("_")
        if kind == "wallet" and wallet_type in WALLET_TYPES and currency:
            return [self.wallet_message(account, wallet_type, currency)]
        return None
