"""The funding desk: margin lending and borrowing on the local exchange.

:class:`FundingDesk` executes the funding inputs (``fon``: a new offer, ``foc``: cancel one)
against the funding books of the listed funding currencies (``fUSD``, ``fBTC``), the same
:class:`~bitfinex.testing.engine.MatchingBook` the simulated lenders and borrowers of
:mod:`bitfinex.testing.market` quote in, and settles every match on both sides. Messages queue
in the order desk's outbox (one outbox: an account's frames go out in the order they were made).

The model (each rule with its source; "chosen" where no source says what Bitfinex does):

- **Book.** Bids are borrowers, asks are lenders, the price is the daily rate (docs
  ws-public-books: funding entries ``[RATE, PERIOD, COUNT, AMOUNT]``, bids negative). A client
  offer rests at its rate: LIMIT at the rate given, FRRDELTAVAR and FRRDELTAFIX at FRR + offset,
  moved whenever the FRR moves (docs rest-auth-submit-funding-offer: "Before the order is
  matched, the rate updates against the FRR"). HIDDEN (64) offers never show in public books.
- **Matching.** An offer first takes what it crosses, best rate first, then rests. A lend
  offer of P days takes borrower bids of at most P days; a borrow offer of Q days takes lend
  offers of at least Q days; the contract runs for the resting side's period (live: a 2-day
  FRR bid became a 4-day loan, leehillz/bfxqa-ws ``Auth/NewFundingOffer.js``). An account's
  offers never match each other (chosen). Simulated takers take any period.
- **Notifications and offer events** (live texts, bfxqa-ws): ``fon-req`` SUCCESS "Submitting
  funding offer of 50.0 USD at 0.5000 for 2 days." (a bid: "funding bid"; FRR types "at FRR
  0.0000"), its info the offer's id, amount, rate and period with every other field ``null``;
  then ``fon`` (ACTIVE, or PARTIALLY FILLED when part matched on entry), ``fou`` after each
  fill of a resting offer ("PARTIALLY FILLED at FRR delta (50.0)", "PARTIALLY FILLED at
  0.0200% (50.0)"), ``foc`` when it is fully taken ("EXECUTED at 0.0099% (100.0)", "EXECUTED
  at FRR delta (50.0)") or cancelled ("CANCELED", also after partial fills, live). An offer
  taken entirely on entry gets no ``fon``, as orders get no ``on`` (live: the FRR bid of
  bfxqa-ws got ``n``, ``fte``/``ftu``, ``fln`` and ``foc`` EXECUTED). ``foc-req`` SUCCESS
  carries the offer array before the cancel (docs ws-auth-input-offer-cancel, status ACTIVE)
  and "Submitted for cancellation; waiting for confirmation (ID: N)." (chosen: the ``oc-req``
  text). Refusals are ``ERROR`` notifications with the rows of
  :data:`bitfinex.testing.errors.NOTIFICATIONS`, the offer array echoing what was sent.
- **Trades.** Each match is a public funding trade ``[ID, MTS, AMOUNT, RATE, PERIOD]`` on the
  trades channel (``fte`` then ``ftu``), AMOUNT signed by the taker (> 0 the taker lent; the
  docs say only "bought (positive) or sold (negative)": chosen to match the account's signs), and
  ``fte``/``ftu`` ``[ID, SYMBOL, MTS, OFFER_ID, AMOUNT, RATE, PERIOD, MAKER]`` on each client
  side's auth channel (docs ws-auth-funding-trades; MAKER ``null``, as live).
- **Credits and loans.** A matched lend becomes a credit of the lender (``fcn``, SIDE 1,
  POSITION_PAIR the first listed pair of the currency when the borrower is simulated); a
  matched borrow becomes a loan of the borrower (``fln``, SIDE -1; docs ws-auth-funding-loans:
  "funds not used in active positions"). This is how the local exchange models margin
  borrowing: a borrow offer that matches. Margin positions are not funded by loans (they use
  the margin wallet as before), and the borrowed funds are not added to a wallet (chosen).
  Contracts run their whole period (no early return; chosen), then close (``fcc``/``flc``,
  STATUS ``CLOSED``, live ``flc``).
- **Interest** accrues on the exchange clock as amount × daily rate × elapsed / 1 day, and is
  paid every 24 hours after the contract opened and when it closes: the lender gets it minus
  a 15 % fee into the funding wallet, the borrower pays it from the margin wallet of the
  currency (support.bitfinex.com "What do I get when I offer Margin Funding?":
  ``amount*(rate/100)*(seconds/86400)``, "minus a 15% fee"; a Bitfinex maintainer in
  bitfinex-api-py pull request 135: "the fee is always 15% on the funding earnings, maker and
  taker doesn't matter"; daily payouts chosen), each payout
  a ``wu`` (DESCRIPTION "Margin Funding Payment on wallet funding" for the lender, "Margin
  Funding Charge on wallet margin" for the borrower: chosen) and an ``fcu``/``flu`` with
  MTS_LAST_PAYOUT. A ``VAR`` contract (from an FRRDELTAVAR
  offer) accrues at FRR + offset, the FRR of each payout (its RATE shows the offset, RATE_REAL
  the rate; docs ws-auth-funding-credits).
- **Funding wallet.** Lending does not move the balance; open lend offers and credits hold
  it (BALANCE_AVAILABLE), so a lend beyond what is free is refused with "Invalid offer: not
  enough USD balance available in deposit wallet" (live). Borrow offers need no collateral
  here (chosen: Bitfinex's rule and text are unknown).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Optional

from bitfinex.protocol.constants import FUNDING_OFFER_TYPES, OrderFlag
from bitfinex.testing.accounts import Account
from bitfinex.testing.channels import MarketData
from bitfinex.testing.engine import BookOrder, Fill, MatchingBook
from bitfinex.testing.errors import notification
from bitfinex.testing.fundingstate import (
    DAY_MS,
    FundingContract,
    FundingOffer,
    amount_text,
    funding_trade,
    offer_echo,
    percent_text,
    status_percent,
)
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.market import PublicTrade
from bitfinex.testing.numbers import ZERO, quantize_amount, round_significant
from bitfinex.testing.orderinput import MAX_FLAGS, MAX_ORDER_ID, echo_text, read_integer, read_number
from bitfinex.testing.trading import OrderDesk

log = logging.getLogger("bitfinex.testing.funding")

MIN_PERIOD, MAX_PERIOD = 2, 120
"""Days an offer may run (docs rest-auth-submit-funding-offer: 2 to 120)."""

OFFER_FLAGS = int(OrderFlag.HIDDEN)
"""The only flag an offer takes (docs flag-values: HIDDEN for offers)."""

MIN_OFFER_USD = Decimal(150)
"""The smallest offer, in USD (live: "minimum is 150.0 dollar or equivalent in UST")."""

LENDER_FEE = Decimal("0.15")
"""What Bitfinex keeps of the interest a lender earns (support.bitfinex.com: "minus a 15% fee")."""

MAX_FRR_OFFSET = Decimal("0.3")
"""An FRR offset may be at most this share of the FRR (live: "FRR offset larger than 30% of
FRR, aborting.")."""

PAYOUT_INTERVAL_MS = DAY_MS
"""Time between interest payments of a contract (chosen: daily)."""

RATE_DIGITS = 8
"""Significant digits of an FRR offer's rate in the book."""

MAX_OPEN_OFFERS = 1000
"""Open offers an account may have (chosen; past it: "Limit: too many active offers")."""


class FundingRejected(Exception):
    """A funding input the exchange refuses.

    :param row: the name of its row in :data:`bitfinex.testing.errors.NOTIFICATIONS`.
    :param echo: the offer array the ``ERROR`` notification carries.
    :param fields: values for the row's placeholders.
    """

    def __init__(self, row: str, echo: list[Any], **fields: Any) -> None:
        self.row = notification(row)
        super().__init__(self.row.text_for(**fields))
        self.text = self.row.text_for(**fields)
        self.echo = echo


@dataclass(frozen=True)
class NewOffer:
    """A validated ``fon`` payload."""

    instrument: Instrument
    offer_type: str
    amount: Decimal
    rate: Decimal
    period: int
    flags: int


def offer_echo_for(payload: Mapping[str, Any]) -> list[Any]:
    """The offer array an ERROR answer to ``payload`` shows: what can be sent back of it."""
    amount = read_number(payload.get("amount"))
    return offer_echo(
        symbol=echo_text(payload.get("symbol")),
        offer_type=echo_text(payload.get("type")),
        amount=quantize_amount(amount) if amount is not None else None,
        rate=read_number(payload.get("rate")),
        period=read_integer(payload.get("period"), 0, MAX_ORDER_ID),
        flags=read_integer(payload.get("flags"), 0, MAX_FLAGS),
    )


def read_new_offer(payload: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> NewOffer:
    """Validate a ``fon`` payload's fields (docs ws-auth-input-offer-new: type, symbol, amount,
    rate, period, flags; other keys are not read, as for orders).

    :raises FundingRejected: naming the first field that is missing or malformed.
    """
    echo = offer_echo_for(payload)
    offer_type = payload.get("type")
    if not isinstance(offer_type, str) or offer_type not in FUNDING_OFFER_TYPES:
        raise FundingRejected("OFFER_TYPE", echo)
    symbol = payload.get("symbol")
    instrument = instruments.get(symbol) if isinstance(symbol, str) else None
    if instrument is None or not instrument.is_funding:
        raise FundingRejected("OFFER_SYMBOL", echo)
    raw_amount = read_number(payload.get("amount"))
    amount = quantize_amount(raw_amount) if raw_amount is not None else ZERO
    if not amount:
        raise FundingRejected("OFFER_AMOUNT", echo)
    rate = read_number(payload.get("rate"))
    if rate is None or (offer_type == "LIMIT" and rate <= 0) or (offer_type == "FRRDELTAVAR" and rate < 0):
        raise FundingRejected("OFFER_RATE", echo)
    period = read_integer(payload.get("period"), MIN_PERIOD, MAX_PERIOD)
    if period is None:
        raise FundingRejected("OFFER_PERIOD", echo)
    flags = 0
    if payload.get("flags") is not None:
        read = read_integer(payload.get("flags"), 0, MAX_FLAGS)
        if read is None or read & ~OFFER_FLAGS:
            raise FundingRejected("OFFER_FLAGS", echo)
        flags = read
    return NewOffer(instrument, offer_type, amount, rate, period, flags)


def read_offer_id(payload: Mapping[str, Any]) -> int:
    """The ``id`` of a ``foc`` payload.

    :raises FundingRejected: ``"id: invalid"``.
    """
    offer_id = read_integer(payload.get("id"), 1, MAX_ORDER_ID)
    if offer_id is None:
        raise FundingRejected("CANCEL_ID", offer_echo(None, None, None, None, None, None))
    return offer_id


class FundingDesk:
    """Executes funding inputs and settles funding matches, credits, loans and interest.

    Every input method answers with notifications and never raises (a bug is logged with its
    traceback and answered with an ERROR notification, ``"request failed"``).

    :param instruments: listed instruments by symbol.
    :param books: the engine's books by symbol.
    :param market: public market data by symbol.
    :param accounts: accounts by API key.
    :param desk: the order desk, whose outbox and wallet figures the funding desk shares.
    :param clock: the exchange clock (ms).
    :param ids: seeds the offer and contract ids.
    :param trade_ids: the exchange's trade ids (funding trades take theirs from it).
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        books: Mapping[str, MatchingBook],
        market: Mapping[str, MarketData],
        accounts: Mapping[str, Account],
        desk: OrderDesk,
        clock: Callable[[], int],
        ids: random.Random,
        trade_ids: Iterator[int],
    ) -> None:
        self._instruments = instruments
        self._books = books
        self._market = market
        self._accounts = accounts
        self._desk = desk
        self._clock = clock
        self._offer_ids = itertools.count(41_000_000 + ids.randrange(1_000_000))
        self._contract_ids = itertools.count(2_990_000 + ids.randrange(1_000_000))
        self._trade_ids = trade_ids
        self._contracts: dict[int, tuple[Account, FundingContract]] = {}
        self._following: dict[int, tuple[Account, FundingOffer]] = {}
        """Resting FRRDELTAVAR/FRRDELTAFIX offers, whose rate moves with the FRR."""
        self._due: Optional[int] = None
        self.symbols = tuple(symbol for symbol, instrument in instruments.items() if instrument.is_funding)
        """The listed funding symbols."""

    # -- inputs -----------------------------------------------------------------------------

    @contextmanager
    def _guarded(self, account: Account, request: str) -> Iterator[None]:
        try:
            yield
        except Exception:
            log.exception("the funding desk failed on a %s input", request)
            self._desk.notify(account, request, None, "ERROR", notification("FUNDING_FAILED").text)

    def submit(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``fon``: validate, acknowledge with ``fon-req``, then match and rest the offer."""
        with self._guarded(account, "fon-req"):
            try:
                new = read_new_offer(payload, self._instruments)
                self._check(account, new, offer_echo_for(payload))
            except FundingRejected as rejection:
                self._desk.notify(account, "fon-req", rejection.echo, "ERROR", rejection.text)
                return
            now = self._clock()
            offer = FundingOffer(
                offer_id=next(self._offer_ids),
                owner=account.api_key,
                symbol=new.instrument.symbol,
                offer_type=new.offer_type,
                amount=new.amount,
                amount_orig=new.amount,
                rate=new.rate,
                period=new.period,
                flags=new.flags,
                mts_create=now,
                mts_update=now,
            )
            offer.effective_rate = self._effective_rate(offer)
            self._desk.notify(account, "fon-req", offer.request_info(), "SUCCESS", self._describe(offer))
            account.funding.offers[offer.offer_id] = offer
            self._execute(account, offer, known=False)
            if offer.lends:
                self._desk.wallet_update(account, "funding", new.instrument.base)

    def cancel(self, account: Account, payload: Mapping[str, Any]) -> None:
        """``foc`` by ``id``: acknowledge with ``foc-req``, take the offer off the book, ``foc``."""
        with self._guarded(account, "foc-req"):
            try:
                offer_id = read_offer_id(payload)
                offer = account.funding.offers.get(offer_id)
                if offer is None:
                    raise FundingRejected("CANCEL_NOT_FOUND", offer_echo(None, None, None, None, None, None, offer_id))
            except FundingRejected as rejection:
                self._desk.notify(account, "foc-req", rejection.echo, "ERROR", rejection.text)
                return
            self._desk.notify(
                account,
                "foc-req",
                offer.wire(),
                "SUCCESS",
                f"Submitted for cancellation; waiting for confirmation (ID: {offer.offer_id}).",
            )
            self._books[offer.symbol].remove(offer.offer_id)
            offer.status = "CANCELED"
            offer.mts_update = self._clock()
            self._finish(account, offer)
            if offer.lends:
                self._desk.wallet_update(account, "funding", self._instruments[offer.symbol].base)

    def _check(self, account: Account, new: NewOffer, echo: list[Any]) -> None:
        """The market's rules: the minimum size, the FRR offset, the funding wallet."""
        instrument = new.instrument
        currency = instrument.base
        value = self._desk.figures.usd_value(currency)
        small = abs(new.amount) * value < MIN_OFFER_USD if value else abs(new.amount) < instrument.min_order_size
        if small:
            raise FundingRejected("OFFER_MINIMUM", echo, currency=currency)
        if new.offer_type != "LIMIT" and new.rate:
            frr = self._market[instrument.symbol].flash_return_rate(self._clock())
            if abs(new.rate) > MAX_FRR_OFFSET * frr:
                raise FundingRejected("OFFER_FRR_OFFSET", echo)
        if len(account.funding.offers) >= MAX_OPEN_OFFERS:
            raise FundingRejected("OFFER_LIMIT", echo)
        if new.amount > 0:
            wallet = account.wallet("funding", currency)
            if new.amount > wallet.balance - account.funding.lent(instrument.symbol):
                raise FundingRejected("OFFER_BALANCE", echo, currency=currency)

    def _describe(self, offer: FundingOffer) -> str:
        side = "offer" if offer.lends else "bid"
        rate = f"FRR {percent_text(offer.rate)}" if offer.follows_frr else percent_text(offer.rate)
        currency = self._instruments[offer.symbol].base
        return f"Submitting funding {side} of {amount_text(offer.amount_orig)} {currency} at {rate} for {offer.period} days."

    def _effective_rate(self, offer: FundingOffer) -> Decimal:
        if not offer.follows_frr:
            return offer.rate
        frr = self._market[offer.symbol].flash_return_rate(self._clock())
        return round_significant(frr + offer.rate, RATE_DIGITS)

    # -- matching ---------------------------------------------------------------------------

    def _execute(self, account: Account, offer: FundingOffer, known: bool, announce: bool = True) -> None:
        """Let ``offer`` take what it crosses, then rest it (``fon``/``fou``) or finish it
        (``foc`` EXECUTED).

        :param known: whether the account was told of the offer already (``fou``, not ``fon``).
        :param announce: whether to announce a resting offer that did not fill now.
        """
        book = self._books[offer.symbol]
        lends = offer.lends
        owner = account.api_key

        def fits(maker: BookOrder) -> bool:
            if maker.owner == owner:
                return False
            return maker.period <= offer.period if lends else maker.period >= offer.period

        fills = book.take_where(-offer.amount, offer.effective_rate, fits)
        self._settle(offer.symbol, fills, taker=(account, offer))
        if offer.amount == 0:
            self._finish(account, offer)
            return
        book.rest(BookOrder(offer.offer_id, offer.effective_rate, -offer.amount, owner, offer.hidden, offer.period))
        if offer.follows_frr:
            self._following[offer.offer_id] = (account, offer)
        if fills or announce:
            self._desk.emit(account, "fou" if known else "fon", offer.wire(), ("funding", offer.symbol))

    def fill_simulated(
        self, symbol: str, amount: Decimal, limit: Optional[Decimal] = None, period: Optional[int] = None
    ) -> list[Fill]:
        """Let the simulation take funding liquidity and settle the fills.

        :param amount: signed as in the engine: ``> 0`` borrows (takes lend offers), ``< 0``
            lends (takes borrower bids).
        :param limit: the worst rate accepted; ``None`` for any.
        :param period: the taker's period: a borrower takes offers of at least as many days, a
            lender bids of at most as many; ``None`` takes any period.
        """

        def fits(maker: BookOrder) -> bool:
            if period is None:
                return True
            return maker.period >= period if amount > 0 else maker.period <= period

        fills = self._books[symbol].take_where(amount, limit, fits)
        self._settle(symbol, fills, taker=None)
        return fills

    def _client_offer(self, maker: BookOrder) -> Optional[tuple[Account, FundingOffer]]:
        if maker.owner is None:
            return None
        account = self._accounts[maker.owner]
        return account, account.funding.offers[maker.order_id]

    def _settle(self, symbol: str, fills: list[Fill], taker: Optional[tuple[Account, FundingOffer]]) -> None:
        """Record each fill's public trade and settle the client offers on both sides."""
        data = self._market[symbol]
        now = self._clock()
        for fill in fills:
            trade_id = next(self._trade_ids)
            size = abs(fill.amount)
            period = fill.maker.period
            maker = self._client_offer(fill.maker)
            variable = any(side is not None and side[1].offer_type == "FRRDELTAVAR" for side in (maker, taker))
            taker_lends = fill.amount < 0
            data.record(PublicTrade(trade_id, now, size if taker_lends else -size, fill.price, period, fixed=not variable))
            if maker is not None:
                self._fill(maker[0], maker[1], trade_id, size, fill.price, period, taker[0] if taker else None)
                if maker[1].amount == 0:
                    self._finish(maker[0], maker[1])
                else:
                    self._desk.emit(maker[0], "fou", maker[1].wire(), ("funding", symbol))
            if taker is not None:
                self._fill(taker[0], taker[1], trade_id, size, fill.price, period, maker[0] if maker else None)

    def _fill(
        self,
        account: Account,
        offer: FundingOffer,
        trade_id: int,
        size: Decimal,
        rate: Decimal,
        period: int,
        counterpart: Optional[Account],
    ) -> None:
        """One match of a client offer: its funding trade (``fte``/``ftu``) and its new credit
        (lend) or loan (borrow)."""
        now = self._clock()
        signed = size if offer.lends else -size
        offer.amount -= signed
        offer.mts_update = now
        topic = ("funding", offer.symbol)
        trade = funding_trade(trade_id, offer.symbol, now, offer.offer_id, signed, rate, period)
        self._desk.emit(account, "fte", trade, topic)
        self._desk.emit(account, "ftu", trade, topic)
        variable = offer.offer_type == "FRRDELTAVAR"
        contract = FundingContract(
            contract_id=next(self._contract_ids),
            owner=account.api_key,
            symbol=offer.symbol,
            side=1 if offer.lends else -1,
            amount=size,
            rate=offer.rate if variable else rate,
            rate_type="VAR" if variable else "FIXED",
            period=period,
            mts_opening=now,
            mts_update=now,
            hidden=offer.hidden,
            rate_real=rate if offer.follows_frr else None,
            position_pair=self._position_pair(offer.symbol) if offer.lends and counterpart is None else None,
            offer_id=offer.offer_id,
        )
        if contract.is_credit:
            account.funding.credits[contract.contract_id] = contract
        else:
            account.funding.loans[contract.contract_id] = contract
        self._contracts[contract.contract_id] = (account, contract)
        self._schedule(contract)
        self._desk.emit(account, "fcn" if contract.is_credit else "fln", contract.wire(), topic)
        head = "EXECUTED" if offer.amount == 0 else "PARTIALLY FILLED"
        where = "FRR delta" if variable else status_percent(rate)
        offer.status = f"{head} at {where} ({amount_text(size)})"

    def _finish(self, account: Account, offer: FundingOffer) -> None:
        """The offer leaves the account (fully taken or cancelled): ``foc`` with its status."""
        offer.closed = True
        account.funding.offers.pop(offer.offer_id, None)
        self._following.pop(offer.offer_id, None)
        self._desk.emit(account, "foc", offer.wire(), ("funding", offer.symbol))

    def _position_pair(self, symbol: str) -> Optional[str]:
        """The pair a simulated borrower's position uses the funds in: the first listed
        trading pair that trades the currency (``tBTCUSD`` for ``fUSD`` and ``fBTC``)."""
        currency = self._instruments[symbol].base
        for instrument in self._instruments.values():
            if not instrument.is_funding and currency in (instrument.base, instrument.quote):
                return instrument.symbol
        return None

    # -- time: the FRR, interest, the end of contracts --------------------------------------

    def advance(self, now: int) -> None:
        """Bring the funding market to ``now``: move FRR offers to the current FRR (taking what
        they cross), pay the interest that fell due, close the contracts whose period ended."""
        for account, offer in list(self._following.values()):
            rate = self._effective_rate(offer)
            if offer.closed or rate == offer.effective_rate:
                continue
            self._books[offer.symbol].remove(offer.offer_id)
            offer.effective_rate = rate
            self._execute(account, offer, known=True, announce=False)
        if self._due is None or now < self._due:
            return
        for account, contract in list(self._contracts.values()):
            while not contract.closed and self._next_payout(contract) <= now:
                self._pay(account, contract, self._next_payout(contract))
        self._due = min((self._next_payout(c) for _, c in self._contracts.values()), default=None)

    @staticmethod
    def _next_payout(contract: FundingContract) -> int:
        last = contract.mts_last_payout or contract.mts_opening
        return min(last + PAYOUT_INTERVAL_MS, contract.mts_end)

    def _schedule(self, contract: FundingContract) -> None:
        due = self._next_payout(contract)
        self._due = due if self._due is None else min(self._due, due)

    def _pay(self, account: Account, contract: FundingContract, until: int) -> None:
        """Pay a contract's interest up to ``until``; close it if its period ends there."""
        start = contract.mts_last_payout or contract.mts_opening
        if contract.rate_type == "VAR":
            frr = self._market[contract.symbol].flash_return_rate(until)
            contract.rate_real = round_significant(frr + contract.rate, RATE_DIGITS)
        interest = quantize_amount(contract.amount * contract.current_rate() * (until - start) / DAY_MS)
        currency = self._instruments[contract.symbol].base
        if contract.is_credit:
            earned = quantize_amount(interest * (1 - LENDER_FEE))
            wallet = account.wallet("funding", currency)
            wallet.balance += earned
            wallet.description = "Margin Funding Payment on wallet funding"
            contract.interest_paid += earned
            wallet_type = "funding"
        else:
            wallet = account.wallet("margin", currency)
            wallet.balance -= interest
            wallet.description = "Margin Funding Charge on wallet margin"
            contract.interest_paid += interest
            wallet_type = "margin"
        contract.mts_last_payout = contract.mts_update = until
        topic = ("funding", contract.symbol)
        if until >= contract.mts_end:
            contract.status = "CLOSED"
            contract.closed = True
            self._contracts.pop(contract.contract_id, None)
            (account.funding.credits if contract.is_credit else account.funding.loans).pop(contract.contract_id, None)
            self._desk.emit(account, "fcc" if contract.is_credit else "flc", contract.wire(), topic)
        else:
            self._desk.emit(account, "fcu" if contract.is_credit else "flu", contract.wire(), topic)
        self._desk.wallet_update(account, wallet_type, currency)
