"""The seeded market simulation: history before the exchange started, and the flow after.

Everything here draws from a :class:`random.Random` it is given and reads time only from the
``now`` values it is passed, so two simulations with the same seed make the same market.
The simulated participants act only through :class:`PlaceLiquidity`, :class:`CancelLiquidity`
and :class:`TakeLiquidity` actions that the exchange core executes in its matching engine, the
same engine client orders go through, so client orders rest among simulated ones and fill
against the simulated flow.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional, Union

from bitfinex.testing.candles import MINUTE_MS, SNAPSHOT_SIZE, Backfill, Candle, CandleSeries, period_start
from bitfinex.testing.engine import MatchingBook
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.numbers import quantize_amount, round_price, significant_step, wire

HISTORY_MINUTES = 1440
"""Minutes of 1m history synthesized before the start (a day: the ticker's window)."""

SNAPSHOT_TRADES = 30
"""Trades in a trades snapshot."""

_MIN_DEPTH = 60
_MAX_DEPTH = 140
_REVERSION = 0.02
_BASIS_REVERSION = 0.1


@dataclass(frozen=True)
class PublicTrade:
    """A trade as the public trades channel shows it.

    :param amount: signed by the taker: ``> 0`` a buy (funding: the taker lent, as Bitfinex
        signs funding trades), ``< 0`` a sell.
    :param price: the price, or the rate for funding.
    :param period: the funding period in days; ``0`` for trading pairs.
    :param fixed: funding: whether the contract's rate is fixed (every trade but those of
        FRRDELTAVAR offers, whose rate follows the FRR); only fixed-rate trades make the FRR.
    """

    trade_id: int
    mts: int
    amount: Decimal
    price: Decimal
    period: int = 0
    fixed: bool = True

    def wire(self) -> list[object]:
        """``[ID, MTS, AMOUNT, PRICE]`` or, for funding, ``[ID, MTS, AMOUNT, RATE, PERIOD]``."""
        entry: list[object] = [self.trade_id, self.mts, wire(self.amount), wire(self.price)]
        if self.period:
            entry.append(self.period)
        return entry


@dataclass(frozen=True)
class PlaceLiquidity:
    """The simulation rests an order (never crossing the book)."""

    price: Decimal
    amount: Decimal
    period: int = 0


@dataclass(frozen=True)
class CancelLiquidity:
    """The simulation withdraws one of its resting orders."""

    order_id: int


@dataclass(frozen=True)
class TakeLiquidity:
    """The simulation sends a market order of ``amount`` (signed)."""

    amount: Decimal


Action = Union[PlaceLiquidity, CancelLiquidity, TakeLiquidity]


def _factor(rng: random.Random, spread: float) -> Decimal:
    return Decimal(math.exp(rng.gauss(0.0, spread)))


def _size(instrument: Instrument, rng: random.Random) -> Decimal:
    size = quantize_amount(instrument.typical_size * Decimal(rng.lognormvariate(0.0, 0.7)))
    return max(size, instrument.min_order_size)


def synthesize_history(
    instrument: Instrument, now: int, rng: random.Random, trade_ids: Iterator[int], backfill_seed: str
) -> tuple[list[PublicTrade], dict[int, CandleSeries]]:
    """Make up the market's past: the latest trades and a day of 1m candles before ``now``.

    The newest trade is at the instrument's start price; 1m candles of the minutes with trades
    are built from those trades, older minutes follow a random walk back in time (a day of them
    for the all-trades series, a snapshot's worth per funding period), and coarser timeframes
    aggregate them. The older minutes are made up when a series is first read (a ticker or
    candles subscription), from a random source of their own, so an exchange whose candles
    nobody reads never pays for them, and the same seed gives the same minutes whenever they
    are made.

    :param trade_ids: where the trades' ids come from (oldest trade first).
    :param backfill_seed: seeds the older minutes and the candles made up further back (see
        :class:`~bitfinex.testing.candles.Backfill`).
    :returns: the trades (oldest first) and the candle series: key ``0`` for all trades, and
        for funding one more per period.
    """
    periods = instrument.funding_periods or (0,)
    streams = (0, *instrument.funding_periods)
    step = instrument.volatility * 3
    trades_backwards: list[tuple[int, Decimal, Decimal, int]] = []
    price, mts = instrument.start_price, now - rng.randint(500, 5000)
    for _ in range(SNAPSHOT_TRADES):
        amount = _size(instrument, rng) * (1 if rng.random() < 0.5 else -1)
        trades_backwards.append((mts, round_price(price), amount, rng.choice(periods)))
        price *= _factor(rng, step)
        mts -= rng.randint(2_000, 40_000)
    trades = [
        PublicTrade(next(trade_ids), mts, amount, price, period) for mts, price, amount, period in reversed(trades_backwards)
    ]
    minute_volatility = instrument.volatility * 5
    series: dict[int, CandleSeries] = {}
    for stream in streams:
        own = [trade for trade in trades if stream in (0, trade.period)]
        recent: dict[int, Candle] = {}
        for trade in own:
            start = period_start("1m", trade.mts)
            candle = recent.get(start)
            if candle is None:
                recent[start] = Candle(start, trade.price, trade.price, trade.price, trade.price, abs(trade.amount))
            else:
                candle.add(trade.price, trade.amount)
        oldest = min(recent) if recent else period_start("1m", now)
        close = recent[oldest].open if recent else instrument.start_price
        minutes = (HISTORY_MINUTES if stream == 0 else SNAPSHOT_SIZE) - len(recent)
        seed = f"{backfill_seed}:{instrument.symbol}:{stream}"
        older = functools.partial(_older_minutes, instrument, oldest, close, minutes, f"{seed}:minutes")
        backfill = Backfill(seed, minute_volatility, instrument.typical_size * 2)
        series[stream] = CandleSeries([recent[start] for start in sorted(recent)], backfill, older)
    return trades, series


def _older_minutes(instrument: Instrument, oldest: int, close: Decimal, minutes: int, seed: str) -> list[Candle]:
    """``minutes`` made-up 1m candles before ``oldest`` (ascending), the newest closing at
    ``close``: a random walk back in time."""
    rng = random.Random(seed)
    minute_volatility = instrument.volatility * 5
    older: list[Candle] = []
    for minute in range(1, minutes + 1):
        open_ = round_price(close * Decimal(math.exp(rng.gauss(0.0, minute_volatility))))
        wick = Decimal(abs(rng.gauss(0.0, minute_volatility / 2)))
        volume = quantize_amount(instrument.typical_size * Decimal(rng.uniform(0.5, 4)))
        older.append(
            Candle(
                oldest - minute * MINUTE_MS,
                open_,
                close,
                round_price(max(open_, close) * (1 + wick)),
                round_price(min(open_, close) * (1 - wick)),
                volume,
            )
        )
        close = open_
    older.reverse()
    return older


class MarketSimulator:
    """The simulated participants of every listed market.

    A spot pair's fair price walks around the price it was last moved to (its start price at
    first); a perpetual contract's walks around its underlying pair's fair price, a small premium
    or discount that fades (:data:`_BASIS_REVERSION` per tick), so the contract trades around
    the spot market as Bitfinex's do (docs rest-public-derivatives-status: DERIV_PRICE and
    SPOT_PRICE, the book mids of the contract and of its spot pair).

    :param instruments: the listed symbols (a perpetual's underlying listed before it).
    :param rng: the random source; the simulation is a pure function of its seeds and of the
        books it is shown.
    :param own_rngs: random sources of their own for some symbols (the perpetual contracts), so
        listing them does not change the flow of the others.
    :raises ValueError: for a perpetual whose underlying is not a listed spot pair.
    """

    def __init__(
        self,
        instruments: tuple[Instrument, ...],
        rng: random.Random,
        own_rngs: Optional[Mapping[str, random.Random]] = None,
    ) -> None:
        self._instruments = {instrument.symbol: instrument for instrument in instruments}
        for instrument in instruments:
            underlying = self._instruments.get(instrument.underlying) if instrument.is_derivative else None
            if instrument.is_derivative and (underlying is None or underlying.is_funding or underlying.is_derivative):
                raise ValueError(f"{instrument.symbol}: its underlying {instrument.underlying!r} is not a listed spot pair")
        self._rngs = {i.symbol: (own_rngs or {}).get(i.symbol, rng) for i in instruments}
        self._log_fair = {i.symbol: math.log(float(i.start_price)) for i in instruments if not i.is_derivative}
        self._anchor = dict(self._log_fair)
        self._basis = {i.symbol: 0.0 for i in instruments if i.is_derivative}
        """A perpetual's log premium over its underlying's fair price."""

    def _log_price(self, symbol: str) -> float:
        instrument = self._instruments[symbol]
        if instrument.is_derivative:
            return self._log_fair[instrument.underlying] + self._basis[symbol]
        return self._log_fair[symbol]

    def fair_price(self, symbol: str) -> Decimal:
        """The price the simulation currently steers ``symbol`` towards."""
        return round_price(Decimal(math.exp(self._log_price(symbol))))

    def move(self, symbol: str, price: Decimal) -> None:
        """Set ``symbol``'s fair price to ``price`` now. A spot pair's walk goes on around its new
        price (and its perpetuals move with it); a perpetual's premium over its underlying fades
        again from there."""
        target = math.log(float(price))
        instrument = self._instruments[symbol]
        if instrument.is_derivative:
            self._basis[symbol] = target - self._log_fair[instrument.underlying]
        else:
            self._log_fair[symbol] = self._anchor[symbol] = target

    def opening_liquidity(self, symbol: str, book: MatchingBook) -> list[Action]:
        """The orders that fill an empty book at the start."""
        actions: list[Action] = []
        for _ in range(_MIN_DEPTH + 20):
            actions.append(self._maker(symbol, book, is_bid=True, spread_scale=1.5))
            actions.append(self._maker(symbol, book, is_bid=False, spread_scale=1.5))
        return actions

    def step(self, symbol: str, book: MatchingBook) -> list[Action]:
        """Move the fair price one tick and return what the participants do now.

        Makers quote around the fair price without crossing the book; takers lean towards the
        fair price, so trades pull the last price after it; the book depth stays between
        bounds by adding orders to a thin side and withdrawing the farthest from a thick one.
        """
        instrument = self._instruments[symbol]
        rng = self._rngs[symbol]
        if instrument.is_derivative:
            basis = self._basis[symbol]
            self._basis[symbol] = basis * (1 - _BASIS_REVERSION) + rng.gauss(0.0, instrument.volatility / 4)
        else:
            fair = self._log_fair[symbol]
            self._log_fair[symbol] = fair + _REVERSION * (self._anchor[symbol] - fair) + rng.gauss(0.0, instrument.volatility)
        simulated = book.owned_by(None)
        bids = [order for order in simulated if order.is_bid]
        asks = [order for order in simulated if not order.is_bid]
        actions: list[Action] = []
        roll = rng.random()
        if roll < 0.3:
            actions.append(self._taker(symbol, book))
        elif roll < 0.7:
            actions.append(self._maker(symbol, book, is_bid=rng.random() < 0.5))
        elif simulated:
            actions.append(CancelLiquidity(rng.choice(simulated).order_id))
        for side_orders, is_bid in ((bids, True), (asks, False)):
            if len(side_orders) < _MIN_DEPTH:
                actions.append(self._maker(symbol, book, is_bid=is_bid))
            elif len(side_orders) > _MAX_DEPTH:
                farthest = min(side_orders, key=lambda o: o.price) if is_bid else max(side_orders, key=lambda o: o.price)
                actions.append(CancelLiquidity(farthest.order_id))
        return actions

    def _maker(self, symbol: str, book: MatchingBook, is_bid: bool, spread_scale: float = 1.0) -> PlaceLiquidity:
        instrument = self._instruments[symbol]
        rng = self._rngs[symbol]
        fair = self.fair_price(symbol)
        offset = Decimal(rng.expovariate(1.0) * instrument.volatility * 8 * spread_scale)
        tick = significant_step(fair, 5)
        price = round_price(fair * (1 - offset) if is_bid else fair * (1 + offset))
        price = price - tick if is_bid and price >= fair else price
        price = price + tick if not is_bid and price <= fair else price
        opposite = book.best_ask() if is_bid else book.best_bid()
        if opposite is not None and (price >= opposite if is_bid else price <= opposite):
            step = significant_step(opposite, 5)
            price = opposite - step if is_bid else opposite + step
        size = _size(instrument, rng)
        period = rng.choice(instrument.funding_periods) if instrument.funding_periods else 0
        return PlaceLiquidity(price, size if is_bid else -size, period)

    def _taker(self, symbol: str, book: MatchingBook) -> TakeLiquidity:
        instrument = self._instruments[symbol]
        best_bid, best_ask = book.best_bid(), book.best_ask()
        fair = self.fair_price(symbol)
        lean = 0.5
        if best_bid is not None and best_ask is not None:
            mid = (best_bid + best_ask) / 2
            lean = 0.7 if fair > mid else 0.3
        rng = self._rngs[symbol]
        size = _size(instrument, rng)
        return TakeLiquidity(size if rng.random() < lean else -size)
