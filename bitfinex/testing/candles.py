"""Candles for every timeframe, and the rolling 24-hour statistics a ticker shows.

A :class:`CandleSeries` is fed every trade of one stream (a trading pair, or one funding
currency at one period) and keeps the candles of all of
:data:`~bitfinex.protocol.constants.CANDLE_TIMEFRAMES` up to date at once, so a 1h candle always
agrees with the 1m candles inside it.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from bitfinex.protocol.constants import CANDLE_TIMEFRAMES
from bitfinex.testing.numbers import ZERO, quantize_amount, round_price, wire

MINUTE_MS = 60_000
DAY_MS = 86_400_000
_WEEK_ANCHOR_MS = 4 * DAY_MS  # Monday 1970-01-05: weeks start on Mondays

TIMEFRAME_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "3h": 180 * MINUTE_MS,
    "6h": 360 * MINUTE_MS,
    "12h": 720 * MINUTE_MS,
    "1D": DAY_MS,
    "1W": 7 * DAY_MS,
    "14D": 14 * DAY_MS,
    "1M": 30 * DAY_MS,
}
"""Length of each timeframe (``1M`` approximately: months are calendar months)."""

SNAPSHOT_SIZE = 240
"""Candles in a candles snapshot."""

_MINUTES_KEPT = 1500
"""1m candles kept: more than a day, for the ticker's 24-hour figures."""


def period_start(timeframe: str, mts: int) -> int:
    """Return the start (ms) of the ``timeframe`` candle that contains ``mts``.

    Timeframes up to ``1D`` align on the epoch, ``1W`` and ``14D`` on Mondays, ``1M`` on the
    first day of the UTC calendar month.
    """
    if timeframe == "1M":
        moment = datetime.datetime.fromtimestamp(mts / 1000, tz=datetime.timezone.utc)
        first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return int(first.timestamp() * 1000)
    span = TIMEFRAME_MS[timeframe]
    anchor = _WEEK_ANCHOR_MS if timeframe in ("1W", "14D") else 0
    return anchor + (mts - anchor) // span * span


def previous_period_start(timeframe: str, start: int) -> int:
    """Return the start of the candle before the one starting at ``start``."""
    if timeframe == "1M":
        return period_start("1M", start - DAY_MS)
    return start - TIMEFRAME_MS[timeframe]


@dataclass
class Candle:
    """One candle; prices and volume as Decimals."""

    mts: int
    open: Decimal
    close: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal

    def add(self, price: Decimal, amount: Decimal) -> None:
        """Account for one trade inside this candle."""
        self.close = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += abs(amount)

    def merge(self, later: Candle) -> None:
        """Extend this candle with a later one of a finer timeframe."""
        self.close = later.close
        self.high = max(self.high, later.high)
        self.low = min(self.low, later.low)
        self.volume += later.volume

    def wire(self) -> list[object]:
        """``[MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]`` as a frame carries it."""
        return [
            self.mts,
            wire(self.open),
            wire(self.close),
            wire(self.high),
            wire(self.low),
            wire(self.volume),
        ]


class DailyStats:
    """Rolling 24-hour open, high, low and volume, computed from 1m candles.

    Kept incrementally: a trade updates the figures in O(1); they are recomputed from the 1m
    candles only when the oldest minute leaves the window.
    """

    def __init__(self) -> None:
        self.open: Optional[Decimal] = None
        self.high: Optional[Decimal] = None
        self.low: Optional[Decimal] = None
        self.volume = ZERO
        self._window_start = -1

    def refresh(self, minutes: list[Candle], now: int) -> None:
        """Recompute from ``minutes`` (ascending) if the window moved since the last time."""
        start = period_start("1m", now) - DAY_MS + MINUTE_MS
        if start == self._window_start:
            return
        self._window_start = start
        inside = [candle for candle in minutes if candle.mts >= start]
        self.open = inside[0].open if inside else None
        self.high = max((c.high for c in inside), default=None)
        self.low = min((c.low for c in inside), default=None)
        self.volume = sum((c.volume for c in inside), ZERO)

    def add(self, price: Decimal, amount: Decimal) -> None:
        """Account for one trade that happened now."""
        if self.open is None:
            self.open = price
        self.high = price if self.high is None else max(self.high, price)
        self.low = price if self.low is None else min(self.low, price)
        self.volume += abs(amount)


_COARSER_FROM = {
    "5m": "1m",
    "15m": "5m",
    "30m": "15m",
    "1h": "30m",
    "3h": "1h",
    "6h": "3h",
    "12h": "6h",
    "1D": "12h",
    "1W": "1D",
    "14D": "1W",
    "1M": "1D",
}
"""The finer timeframe whose candles nest exactly in each coarser one."""


@dataclass(frozen=True)
class Backfill:
    """How to make up candles older than the 1m history (see :meth:`CandleSeries.snapshot`).

    :param seed: seeds the made-up candles of each timeframe (with the timeframe appended), so
        they do not depend on the order in which timeframes are first asked for.
    :param volatility: relative standard deviation of the price per minute.
    :param typical_volume: the usual volume of one minute.
    """

    seed: str
    volatility: float
    typical_volume: Decimal


class CandleSeries:
    """The candles of one trade stream in every timeframe, plus its daily statistics.

    :param history: 1m candles (ascending) from before the exchange started; every coarser
        timeframe is aggregated from them.
    :param backfill: how to make up older candles, so that each timeframe's first snapshot is
        full; ``None`` leaves snapshots as long as the history.
    :param older: makes more 1m history (ascending, before ``history``) when the series is
        first read (:meth:`snapshot`, :meth:`refresh_daily`, :meth:`minutes`); until then only
        the 1m candles follow trades, and the coarser timeframes are aggregated at that first
        read (the same candles an eager series would hold).
    """

    def __init__(
        self,
        history: Iterable[Candle] = (),
        backfill: Optional[Backfill] = None,
        older: Optional[Callable[[], list[Candle]]] = None,
    ) -> None:
        self._candles: dict[str, list[Candle]] = {"1m": list(history)}
        self._older = older
        self._built = False
        self._changed: dict[str, dict[int, Candle]] = {tf: {} for tf in CANDLE_TIMEFRAMES}
        self._backfill = backfill
        self._backfilled: set[str] = set()
        self.daily = DailyStats()
        if older is None:
            self._build()

    def _build(self) -> None:
        """Prepend the older minutes and aggregate every coarser timeframe from the 1m candles."""
        if self._older is not None:
            self._candles["1m"][:0] = self._older()
            self._older = None
        for timeframe, finer in _COARSER_FROM.items():
            coarse: list[Candle] = []
            for candle in self._candles[finer]:
                start = period_start(timeframe, candle.mts)
                if coarse and coarse[-1].mts == start:
                    coarse[-1].merge(candle)
                else:
                    coarse.append(Candle(start, candle.open, candle.close, candle.high, candle.low, candle.volume))
            self._candles[timeframe] = coarse
        minutes = self._candles["1m"]
        del minutes[: max(0, len(minutes) - _MINUTES_KEPT)]
        self._built = True

    def _ready(self) -> None:
        if not self._built:
            self._build()

    def _fill_back(self, timeframe: str) -> None:
        """Prepend made-up candles so ``timeframe`` has a full snapshot.

        Each older candle closes where the next one opens; its moves scale with the square
        root of its length.
        """
        self._backfilled.add(timeframe)
        candles = self._candles[timeframe]
        if self._backfill is None or not candles or len(candles) >= SNAPSHOT_SIZE:
            return
        rng = random.Random(f"{self._backfill.seed}:{timeframe}")
        minutes = TIMEFRAME_MS[timeframe] / MINUTE_MS
        spread = self._backfill.volatility * math.sqrt(minutes)
        older: list[Candle] = []
        start, close = candles[0].mts, candles[0].open
        for _ in range(SNAPSHOT_SIZE - len(candles)):
            start = previous_period_start(timeframe, start)
            open_ = round_price(close * Decimal(math.exp(rng.gauss(0.0, spread))))
            wick = Decimal(abs(rng.gauss(0.0, spread / 2)))
            high = round_price(max(open_, close) * (1 + wick))
            low = round_price(min(open_, close) * (1 - wick))
            volume = quantize_amount(self._backfill.typical_volume * Decimal(minutes * rng.uniform(0.5, 1.5)))
            older.append(Candle(start, open_, close, high, low, volume))
            close = open_
        candles[:0] = reversed(older)

    def minutes(self) -> list[Candle]:
        """A copy of the 1m candles kept (oldest first), each candle copied."""
        self._ready()
        return [Candle(c.mts, c.open, c.close, c.high, c.low, c.volume) for c in self._candles["1m"]]

    def add_trade(self, mts: int, price: Decimal, amount: Decimal) -> None:
        """Account for one trade in every timeframe and in the daily statistics."""
        for timeframe in CANDLE_TIMEFRAMES if self._built else ("1m",):
            candles = self._candles[timeframe]
            start = period_start(timeframe, mts)
            if candles and candles[-1].mts == start:
                candle = candles[-1]
                candle.add(price, amount)
            else:
                candle = Candle(start, price, price, price, price, abs(amount))
                candles.append(candle)
                if self._built:  # before, every minute is kept for the coarser timeframes
                    limit = _MINUTES_KEPT if timeframe == "1m" else SNAPSHOT_SIZE
                    del candles[: max(0, len(candles) - limit)]
            self._changed[timeframe][start] = candle
        self.daily.add(price, amount)

    def refresh_daily(self, now: int) -> None:
        """Slide the 24-hour window of :attr:`daily` to ``now``."""
        self._ready()
        self.daily.refresh(self._candles["1m"], now)

    def snapshot(self, timeframe: str) -> list[list[object]]:
        """The newest :data:`SNAPSHOT_SIZE` candles of ``timeframe``, newest first."""
        self._ready()
        if timeframe not in self._backfilled:
            self._fill_back(timeframe)
        return [candle.wire() for candle in reversed(self._candles[timeframe][-SNAPSHOT_SIZE:])]

    def changes(self, timeframe: str) -> list[list[object]]:
        """The candles of ``timeframe`` that changed since :meth:`clear_changes`, oldest first."""
        changed = self._changed[timeframe]
        return [changed[start].wire() for start in sorted(changed)]

    def clear_changes(self) -> None:
        """Forget which candles changed (after they were published)."""
        for changed in self._changed.values():
            changed.clear()
