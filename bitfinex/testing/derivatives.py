"""The derivatives desk: perpetual contracts' funding, liquidations and status.

:class:`DerivativesDesk` runs on the exchange clock next to the order desk (which trades the
contracts: orders, fills, positions with their leverage and collateral) and the funding desk.
It accrues each contract's funding and pays it every 8 hours, liquidates the derivative
positions whose mark price crossed their liquidation price, keeps the insurance fund, lets
simulated traders be liquidated too, and renders the ``deriv:`` status arrays and the
``liq:global`` entries the status channels publish (:mod:`bitfinex.testing.statuschannels`).

The model (each rule with its source; "chosen" where no source says what Bitfinex does). "A live
status" is ``GET /v2/status/deriv`` for tBTCF0:USTF0 captured with curl and quoted in a public
connector's test (``BitfinexConnectorTest.java``, package ``com.cryptobot.marketdata.bitfinex``):
``["tBTCF0:USTF0",1786586583000,null,63514.467255465,63470.5,null,64745826.62409877,null,
1786608000000,0.00016169,2362,null,0.00016712,null,null,63470.64,null,null,8872.19154966,null,
null,null,0.0005,0.0025]`` (the REST form: KEY first, then the 23 fields of a ``deriv:`` frame).

- **Prices.** DERIV_PRICE is the contract's book mid, SPOT_PRICE its underlying spot pair's
  (docs rest-public-derivatives-status: "Derivative book mid price", "Book mid price of the
  underlying Bitfinex spot trading pair"); MARK_PRICE is
  :meth:`~bitfinex.testing.figures.AccountFigures.mark_price` (the spot mid: the BFX Composite
  Index of one exchange).
- **Funding** (docs ws-public-status and rest-public-derivatives-status: NEXT_FUNDING_EVT
  "timestamp of next funding event", NEXT_FUNDING_ACCRUED "current accrued funding for next 8h
  period", NEXT_FUNDING_STEP "incremental accrual counter", CURRENT_FUNDING "funding applied in
  the current 8h period", CLAMP_MIN "range in the average spread that does not require a
  funding payment", CLAMP_MAX "funding payment cap"). Events fall at 00:00, 08:00 and 16:00
  UTC (the docs' example's next event is 2020-07-31 00:00 UTC; bitfinex.com/legal/
  derivative_funding: "three specific times a day"). Between events the premium
  ``(DERIV_PRICE - MARK_PRICE) / MARK_PRICE`` accrues time-weighted: NEXT_FUNDING_ACCRUED is its
  sum over the period so far, times elapsed / 8 h (a live REST status, premium 6.9e-4 a quarter of
  the way through a period, shows 1.6e-4 accrued); the step counts :data:`FUNDING_STEP_MS`. At an
  event the period's funding, capped at ±CLAMP_MAX, becomes CURRENT_FUNDING; when it exceeds
  CLAMP_MIN, every open position pays (longs, for a positive funding) or gets amount × mark ×
  funding, from or into the margin wallet of its collateral currency (``wu``, and the position's
  MARGIN_FUNDING in a ``pu``); a shortfall of the wallet's free balance comes out of the
  position's collateral (bitfinex.com/legal/derivative_funding). The CLAMP values are a live
  status's (0.0005, 0.0025).
- **Liquidation** when the mark price reaches a position's liquidation price (bitfinex.com/posts/
  422: "we will use mark price to dictate the funding payments and liquidation levels"): the
  system takes the position over at its liquidation price and the account forfeits the
  position's collateral (support.bitfinex.com "What is Termination on Bitfinex": "the system
  first tries to close the position using the margin collateral allocated to the newly
  liquidated position"; then "the liquidation fund will cover the remaining loss"). The account
  gets the ``pc`` (CLOSED, amount 0) and the ``wu`` of its collateral wallet, and no
  notification: no source shows the type and text of the one Bitfinex may send, and one made
  up here would be a message a bot could rely on and never see live; ``liq:global`` gets two entries,
  the trigger (IS_MATCH 0, no price) and the acquisition (IS_MATCH 1, IS_MARKET_SOLD 0, the
  liquidation price), as the live REST history pairs them (ccxt pull request 20989: a row
  without price, then the same position with one). IS_MARKET_SOLD follows docs
  rest-public-liquidations ("0: position acquired by the system"); docs ws-public-status words
  it the other way round. Open orders are left alone (chosen).
- **Insurance fund**: one per collateral currency, starting at :data:`INSURANCE_FUND_START`
  (chosen); a liquidation adds the forfeited collateral less the loss of closing the taken
  position at the mark price (the taken position's equity), which can be negative. Termination,
  the third stage when the fund is empty, is not emulated.
- **Open interest**: the simulated traders' (a random walk) plus the clients' positions
  (chosen).
- **Simulated liquidations**: on each simulation tick each contract has a
  :data:`SIMULATED_LIQUIDATION_CHANCE` of a simulated trader's liquidation, published like a
  client's (chosen: so the feed is alive, as Bitfinex's is).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Optional

from bitfinex.testing.accounts import DERIVATIVE_MAINTENANCE_MARGIN, Account, Position
from bitfinex.testing.instruments import Instrument, collateral_currencies
from bitfinex.testing.numbers import ZERO, quantize_amount, round_price, text, wire
from bitfinex.testing.trading import OrderDesk

FUNDING_INTERVAL_MS = 8 * 3_600_000
"""Time between funding events (docs: "next 8h period")."""

FUNDING_STEP_MS = 3_000
"""Time per accrual step (NEXT_FUNDING_STEP). Two known status frames count 6 steps 22 s and 2362
steps 2 h 3 min after an event (docs ws-public-status; a live REST status): about one every 3 s."""

CLAMP_MIN = Decimal("0.0005")
"""A period's funding within ±CLAMP_MIN is not paid (the live status's CLAMP_MIN)."""

CLAMP_MAX = Decimal("0.0025")
"""The cap of a period's funding (the live status's CLAMP_MAX)."""

INSURANCE_FUND_START = Decimal(10_000_000)
"""The insurance fund of each collateral currency at the start (chosen)."""

SIMULATED_LIQUIDATION_CHANCE = 0.004
"""Chance per simulation tick and contract of a simulated trader's liquidation (chosen: about
one a minute per contract at the default tick of 0.25 s)."""

STATUS_FIELDS = 23
"""Fields of a ``deriv:`` status array (docs ws-public-status; bitfinex-api-py 4 reads 23)."""


@dataclass
class Perpetual:
    """The funding state of one contract.

    :param period_start: the last funding event (ms), where the current period began.
    :param accrued: the premium accrued over the period so far (time-weighted).
    :param accrued_until: up to when :attr:`accrued` counts.
    :param current_funding: the funding of the period that ended at the last event.
    :param open_interest: the simulated traders' open interest (contracts).
    """

    instrument: Instrument
    period_start: int
    accrued_until: int
    open_interest: Decimal
    accrued: Decimal = ZERO
    current_funding: Decimal = ZERO


def liquidation_entries(
    position_id: int, mts: int, symbol: str, amount: Decimal, base: Decimal, price: Decimal
) -> list[list[Any]]:
    """The two ``liq:global`` entries of one liquidation: ``["pos", POS_ID, MTS, null, SYMBOL,
    AMOUNT, BASE_PRICE, null, IS_MATCH, IS_MARKET_SOLD, null, LIQUIDATION_PRICE]`` for the trigger
    (IS_MATCH 0, no price) and for the system acquiring the position at ``price`` (IS_MATCH 1,
    IS_MARKET_SOLD 0). Field order: docs ws-public-status, rest-public-liquidations."""
    head = ["pos", position_id, mts, None, symbol, wire(amount), wire(base), None]
    return [[*head, 0, 0, None, None], [*head, 1, 0, None, wire(price)]]


class DerivativesDesk:
    """Funding, liquidations, the insurance fund and the status of the listed perpetuals.

    :param instruments: listed instruments by symbol (the perpetuals' underlyings among them).
    :param accounts: accounts by API key.
    :param desk: the order desk, whose outbox, wallet updates and figures (mark prices) this desk
        shares.
    :param clock: the exchange clock (ms).
    :param rng: the simulated traders' random source.
    :param position_ids: the exchange's position ids (simulated liquidations take theirs there).
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        accounts: Mapping[str, Account],
        desk: OrderDesk,
        clock: Callable[[], int],
        rng: random.Random,
        position_ids: Iterator[int],
    ) -> None:
        self._accounts = accounts
        self._desk = desk
        self._clock = clock
        self._rng = rng
        self._position_ids = position_ids
        now = clock()
        start = now - now % FUNDING_INTERVAL_MS
        self.perpetuals: dict[str, Perpetual] = {}
        """The listed perpetual contracts' state, by symbol."""
        for symbol, instrument in instruments.items():
            if instrument.is_derivative:
                self.perpetuals[symbol] = Perpetual(instrument, start, now, instrument.typical_size * 20_000)
        self.insurance_funds = {currency: INSURANCE_FUND_START for currency in collateral_currencies(tuple(instruments.values()))}
        """The insurance fund of each collateral currency."""
        self.new_liquidations: list[list[Any]] = []
        """``liq:global`` entries made since the last publication, oldest first."""

    # -- status -----------------------------------------------------------------------------

    def premium(self, symbol: str) -> Decimal:
        """The contract's premium over its mark price now (a fraction, < 0 a discount)."""
        figures = self._desk.figures
        mark = figures.mark_price(symbol)
        return (figures.mid_price(symbol) - mark) / mark

    def status(self, symbol: str, now: int) -> list[Any]:
        """The ``deriv:`` status array of ``symbol`` at ``now`` (docs ws-public-status): MTS,
        DERIV_PRICE, SPOT_PRICE, INSURANCE_FUND_BALANCE, NEXT_FUNDING_EVT_TIMESTAMP_MS,
        NEXT_FUNDING_ACCRUED, NEXT_FUNDING_STEP, CURRENT_FUNDING, MARK_PRICE, OPEN_INTEREST,
        CLAMP_MIN, CLAMP_MAX at their places, ``null`` at the placeholders."""
        perpetual = self.perpetuals[symbol]
        instrument = perpetual.instrument
        figures = self._desk.figures
        accrued = perpetual.accrued + self.premium(symbol) * (now - perpetual.accrued_until) / FUNDING_INTERVAL_MS
        fields: list[Any] = [None] * STATUS_FIELDS
        fields[0] = now
        fields[2] = wire(figures.mid_price(symbol))
        fields[3] = wire(figures.mid_price(instrument.underlying))
        fields[5] = wire(quantize_amount(self.insurance_funds[instrument.quote]))
        fields[7] = perpetual.period_start + FUNDING_INTERVAL_MS
        fields[8] = wire(quantize_amount(accrued))
        fields[9] = (now - perpetual.period_start) // FUNDING_STEP_MS
        fields[11] = wire(perpetual.current_funding)
        fields[14] = wire(figures.mark_price(symbol))
        fields[17] = wire(quantize_amount(perpetual.open_interest + self._client_interest(symbol)))
        fields[21] = wire(CLAMP_MIN)
        fields[22] = wire(CLAMP_MAX)
        return fields

    def _client_interest(self, symbol: str) -> Decimal:
        return sum((abs(p.amount) for _, p in self._positions(symbol)), ZERO)

    def _positions(self, symbol: Optional[str] = None) -> list[tuple[Account, Position]]:
        return [
            (account, position)
            for account in self._accounts.values()
            for position in account.positions.values()
            if position.is_derivative and symbol in (None, position.symbol)
        ]

    # -- time -------------------------------------------------------------------------------

    def advance(self, now: int) -> None:
        """Bring the contracts to ``now``: accrue funding, hold the funding events that fell due
        (each period's premium at the prices of now: the exchange sees no prices in between),
        then liquidate the positions whose mark price crossed their liquidation price."""
        for symbol, perpetual in self.perpetuals.items():
            while perpetual.period_start + FUNDING_INTERVAL_MS <= now:
                event = perpetual.period_start + FUNDING_INTERVAL_MS
                self._accrue(symbol, perpetual, event)
                self._funding_event(symbol, perpetual, event)
            self._accrue(symbol, perpetual, now)
        for account, position in self._positions():
            mark = self._desk.figures.mark_price(position.symbol)
            limit = position.liquidation_price()
            if (mark <= limit) if position.amount > 0 else (mark >= limit):
                self._liquidate(account, position, mark, limit)

    def _accrue(self, symbol: str, perpetual: Perpetual, until: int) -> None:
        if until > perpetual.accrued_until:
            perpetual.accrued += self.premium(symbol) * (until - perpetual.accrued_until) / FUNDING_INTERVAL_MS
            perpetual.accrued_until = until

    def _funding_event(self, symbol: str, perpetual: Perpetual, event: int) -> None:
        funding = max(-CLAMP_MAX, min(CLAMP_MAX, quantize_amount(perpetual.accrued)))
        perpetual.current_funding = funding
        perpetual.accrued, perpetual.period_start = ZERO, event
        if abs(funding) <= CLAMP_MIN:
            return
        mark = self._desk.figures.mark_price(symbol)
        for account, position in self._positions(symbol):
            self._pay_funding(account, position, quantize_amount(position.amount * mark * funding))

    def _pay_funding(self, account: Account, position: Position, payment: Decimal) -> None:
        """``payment`` (> 0: the account pays) from the collateral wallet; what its free balance
        lacks comes out of the position's collateral."""
        quote = self._desk.figures.currencies[position.symbol][1]
        wallet = account.wallet("margin", quote)
        wallet.balance -= payment
        wallet.description = f"Funding payment of {text(-payment)} {quote} on {position.symbol} on wallet margin"
        position.margin_funding -= payment
        position.mts_update = self._clock()
        shortfall = account.collateral_held(quote, self._desk.figures.currencies) - wallet.balance
        if shortfall > 0:
            position.collateral = max(ZERO, position.collateral - shortfall)
        self._desk.emit(account, "pu", self._desk.figures.position_array(position), ("trading", position.symbol))
        self._desk.wallet_update(account, "margin", quote)

    def _liquidate(self, account: Account, position: Position, mark: Decimal, price: Decimal) -> None:
        """The system takes ``position`` over at its liquidation ``price``; the account forfeits
        its collateral, the insurance fund takes the position's equity at the ``mark`` price."""
        now = self._clock()
        symbol = position.symbol
        quote = self._desk.figures.currencies[symbol][1]
        entries = liquidation_entries(position.position_id, now, symbol, position.amount, position.base_price, price)
        self.new_liquidations.extend(entries)
        equity = position.collateral + position.profit_at(mark)
        self.insurance_funds[quote] = quantize_amount(self.insurance_funds[quote] + equity)
        del account.positions[symbol]
        position.amount = ZERO
        position.mts_update = now
        wallet = account.wallet("margin", quote)
        wallet.balance -= position.collateral
        wallet.description = f"Position #{position.position_id} {symbol} liquidated on wallet margin"
        self._desk.emit(account, "pc", self._desk.figures.position_array(position), ("trading", symbol))
        self._desk.wallet_update(account, "margin", quote)

    # -- the simulated traders --------------------------------------------------------------

    def simulate(self) -> None:
        """One simulation tick: the simulated open interest drifts, and now and then a simulated
        trader's position is liquidated (its entries go to ``liq:global``)."""
        rng = self._rng
        figures = self._desk.figures
        for symbol, perpetual in self.perpetuals.items():
            perpetual.open_interest = quantize_amount(perpetual.open_interest * Decimal(math.exp(rng.gauss(0.0, 0.0005))))
            if rng.random() >= SIMULATED_LIQUIDATION_CHANCE:
                continue
            instrument = perpetual.instrument
            side = 1 if rng.random() < 0.5 else -1
            amount = quantize_amount(instrument.typical_size * Decimal(rng.lognormvariate(1.0, 1.0))) * side
            leverage = rng.choice((5, 10, 20, 50, 100))
            price = round_price(figures.mark_price(symbol))
            base = round_price(price * (1 + side * (Decimal(1) / leverage - DERIVATIVE_MAINTENANCE_MARGIN)))
            entries = liquidation_entries(next(self._position_ids), self._clock(), symbol, amount, base, price)
            self.new_liquidations.extend(entries)

    def settle(self) -> None:
        """Forget the liquidations published (called after every flush)."""
        self.new_liquidations.clear()
