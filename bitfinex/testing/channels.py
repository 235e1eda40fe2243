"""Public channels: parsing ``subscribe`` requests, and producing snapshots and updates.

One channel object exists per distinct subscription (:class:`ChannelSpec`) however many
connections share it; it renders the state of one symbol's :class:`MarketData` and book. The
exchange core (:mod:`bitfinex.testing.venue`) asks every live channel for its updates after each
change and hands them to the subscribed sessions, which add chanIds, sequence numbers and
checksum frames as each connection configured.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Optional, Union

from bitfinex.protocol.constants import (
    BOOK_FREQUENCIES,
    BOOK_LENGTHS,
    BOOK_PRECISIONS,
    CANDLE_TIMEFRAME_ALIASES,
    CANDLE_TIMEFRAMES,
)
from bitfinex.protocol.symbols import normalize_symbol
from bitfinex.testing.bookviews import BookRenderer, BookView, Entry
from bitfinex.testing.candles import Backfill, Candle, CandleSeries
from bitfinex.testing.engine import MatchingBook
from bitfinex.testing.instruments import Instrument
from bitfinex.testing.market import SNAPSHOT_TRADES, PublicTrade
from bitfinex.testing.numbers import ZERO, round_significant, wire

F1_INTERVAL_MS = 2000
"""How often ``freq: F1`` books publish."""

FRR_WINDOW_MS = 3_600_000
"""The FRR is the average of the fixed-rate funding of the last hour (docs ws-public-ticker,
FRR: "Flash Return Rate - average of all fixed rate funding over the last hour")."""

CANDLE_AGGREGATIONS = (10, 30, 120)
"""The ``aN`` of an aggregate funding candle key (``trade:1m:fUSD:a30:p2:p30``, docs
ws-public-candles: ``trade:TIMEFRAME:SYMBOL:aAGGR:pPER_START:pEND``). The docs show only ``a30``;
10, 30 and 120 are what a public Bitfinex client (a Rust crate's ``CandleAggPeriod``) sends.
The value is checked and echoed; the candles aggregate the trades whose period lies from
PER_START to PER_END (what the aggregation itself changes beyond that is not documented)."""

_FUNDING_KEY = re.compile(r"(f[A-Z0-9]{1,12}):(?:p([0-9]{1,3})|a([0-9]{1,3}):p([0-9]{1,3}):p([0-9]{1,3}))\Z")

PUBLIC_CHANNELS = ("ticker", "trades", "book", "candles", "status")
"""Channel names Bitfinex knows."""

STATUS_FEEDS = ("liq:global",)
"""The ``status`` keys that name no symbol (docs ws-public-status: the liquidation feed)."""


class SubscriptionError(Exception):
    """A ``subscribe`` request the exchange refuses; becomes an ``error`` event.

    :param error: the name of its row in :data:`bitfinex.testing.errors.ERRORS`.
    """

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class ChannelSpec:
    """What a subscription is to, normalized: two equal specs are one channel.

    :param channel: ``ticker``, ``trades``, ``book``, ``candles`` or ``status``.
    :param symbol: the symbol (``tBTCUSD``, ``fUSD``; a ``deriv:`` status key's contract,
        ``tBTCF0:USTF0``; empty for ``liq:global``).
    :param precision: book precision (``P0``..``P4``, ``R0``).
    :param frequency: book frequency (``F0``, ``F1``).
    :param length: book length per side.
    :param timeframe: candle timeframe, ``7D`` already mapped to ``1W``.
    :param period: funding candles' period (the ``p30`` of ``trade:1m:fUSD:p30``; of an
        aggregate key ``trade:1m:fUSD:a30:p2:p30``, the first period, ``2``).
    :param period_end: an aggregate funding key's last period (``30``); ``0`` otherwise.
    :param aggregation: an aggregate funding key's ``aN`` (``30``); ``0`` otherwise.
    :param key: a ``status`` key, normalized (``deriv:tBTCF0:USTF0``, ``liq:global``).
    """

    channel: str
    symbol: str
    precision: str = ""
    frequency: str = ""
    length: int = 0
    timeframe: str = ""
    period: int = 0
    period_end: int = 0
    aggregation: int = 0
    key: str = ""


def parse_subscription(request: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> tuple[ChannelSpec, dict[str, Any]]:
    """Validate a ``subscribe`` request.

    :param request: the decoded event.
    :param instruments: listed instruments by symbol.
    :returns: the spec and the fields the ``subscribed`` event echoes after ``chanId``.
    :raises SubscriptionError: naming the row Bitfinex answers with (``errors.py``): 10302
        unknown channel, 10300 unknown symbol (``symbol: invalid``, live), bad candle or status
        key, bad frequency; 10011 precision, 10012 length.
    """
    channel = request.get("channel")
    if not isinstance(channel, str) or channel not in PUBLIC_CHANNELS:
        raise SubscriptionError("UNKNOWN_CHANNEL")
    if channel == "status":
        return _parse_status(request, instruments)
    if channel == "candles":
        return _parse_candles(request, instruments)
    instrument = _instrument(request.get("symbol") or request.get("pair"), instruments)
    echo: dict[str, Any] = {"symbol": instrument.symbol}
    if channel != "book":
        echo.update(instrument.echo_fields())
        return ChannelSpec(channel, instrument.symbol), echo
    precision = request.get("prec", "P0")
    if not isinstance(precision, str) or precision not in BOOK_PRECISIONS:
        raise SubscriptionError("PREC_INVALID")
    frequency = request.get("freq", "F0")
    if not isinstance(frequency, str) or frequency not in BOOK_FREQUENCIES:
        raise SubscriptionError("FREQ_INVALID")
    length = request.get("len", "25")
    if isinstance(length, bool) or not isinstance(length, (str, int)) or str(length) not in BOOK_LENGTHS:
        raise SubscriptionError("LEN_INVALID")
    echo.update(prec=precision, freq=frequency, len=str(length), **instrument.echo_fields())
    spec = ChannelSpec("book", instrument.symbol, precision, frequency, int(length))
    return spec, echo


def _instrument(symbol: object, instruments: Mapping[str, Instrument], error: str = "SYMBOL_INVALID") -> Instrument:
    try:
        instrument = instruments.get(normalize_symbol(symbol))
    except (TypeError, ValueError):
        instrument = None
    if instrument is None:
        raise SubscriptionError(error)
    return instrument


def _parse_status(request: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> tuple[ChannelSpec, dict[str, Any]]:
    """``deriv:SYMBOL`` for a listed perpetual (``deriv:tBTCF0:USTF0``; ``deriv:BTCF0:USTF0``
    means the same, as a bare symbol means its ``t`` form elsewhere) or ``liq:global`` (docs
    ws-public-status). The ``subscribed`` event echoes the key as sent (docs: ``key: KEY``)."""
    key = request.get("key")
    if isinstance(key, str) and key in STATUS_FEEDS:
        return ChannelSpec("status", "", key=key), {"key": key}
    kind, _, symbol = key.partition(":") if isinstance(key, str) else ("", "", "")
    if kind != "deriv":
        raise SubscriptionError("KEY_INVALID")
    instrument = _instrument(symbol, instruments, "KEY_INVALID")
    if not instrument.is_derivative:
        raise SubscriptionError("KEY_INVALID")
    return ChannelSpec("status", instrument.symbol, key=f"deriv:{instrument.symbol}"), {"key": key}


def _parse_candles(request: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> tuple[ChannelSpec, dict[str, Any]]:
    """``trade:TF:tSYMBOL``, ``trade:TF:fSYMBOL:pN`` or ``trade:TF:fSYMBOL:aA:pS:pE`` (docs
    ws-public-candles gives both funding forms); periods 2 to 120, S not after E, A one of
    :data:`CANDLE_AGGREGATIONS`."""
    key = request.get("key")
    if not isinstance(key, str) or key.count(":") < 2:
        raise SubscriptionError("KEY_INVALID")
    kind, timeframe, rest = key.split(":", 2)
    timeframe = CANDLE_TIMEFRAME_ALIASES.get(timeframe, timeframe)
    if kind != "trade" or timeframe not in CANDLE_TIMEFRAMES:
        raise SubscriptionError("KEY_INVALID")
    period = period_end = aggregation = 0
    if rest.startswith("f"):
        found = _FUNDING_KEY.match(rest)
        if found is None:
            raise SubscriptionError("KEY_INVALID")
        symbol, single, aggregate, first, last = found.groups()
        if single is not None:
            period = int(single)
            periods = [period]
        else:
            aggregation, period, period_end = int(aggregate), int(first), int(last)
            periods = [period, period_end]
            if aggregation not in CANDLE_AGGREGATIONS or period > period_end:
                raise SubscriptionError("KEY_INVALID")
        if not all(2 <= days <= 120 for days in periods):
            raise SubscriptionError("KEY_INVALID")
    else:
        symbol = rest
    instrument = _instrument(symbol, instruments, "KEY_INVALID")
    spec = ChannelSpec(
        "candles", instrument.symbol, timeframe=timeframe, period=period, period_end=period_end, aggregation=aggregation
    )
    return spec, {"key": key}


@dataclass
class MarketData:
    """The public state of one symbol besides its book: recent trades and candles, and for a
    funding currency its Flash Return Rate.

    :param instrument: the symbol.
    :param series: candle series by funding period; ``0`` holds every trade.
    :param backfill_seed: seeds the candles made up for aggregate funding series (see
        :meth:`range_series`).
    """

    instrument: Instrument
    series: dict[int, CandleSeries]
    tape: deque[PublicTrade] = field(default_factory=lambda: deque(maxlen=SNAPSHOT_TRADES))
    new_trades: list[PublicTrade] = field(default_factory=list)
    backfill_seed: str = ""
    ranges: dict[tuple[int, int], CandleSeries] = field(default_factory=dict)
    _fixed: deque[tuple[int, Decimal, Decimal]] = field(default_factory=deque)
    _fixed_amount: Decimal = ZERO
    _fixed_weighted: Decimal = ZERO
    _frr: Optional[Decimal] = None

    def load(self, trades: list[PublicTrade]) -> None:
        """Take the trades made before the exchange started (oldest first): the tape, and the
        FRR's window (their candles are in :attr:`series` already)."""
        self.tape.extend(trades)
        for trade in trades:
            self._remember_rate(trade)

    def record(self, trade: PublicTrade) -> None:
        """Account for a trade that just happened."""
        self.tape.append(trade)
        self.new_trades.append(trade)
        for period in (0, trade.period) if trade.period else (0,):
            self.series_for(period).add_trade(trade.mts, trade.price, trade.amount)
        for (first, last), series in self.ranges.items():
            if first <= trade.period <= last:
                series.add_trade(trade.mts, trade.price, trade.amount)
        self._remember_rate(trade)

    def _remember_rate(self, trade: PublicTrade) -> None:
        if trade.period and trade.fixed:
            size = abs(trade.amount)
            self._fixed.append((trade.mts, size, trade.price))
            self._fixed_amount += size
            self._fixed_weighted += size * trade.price
            self.flash_return_rate(trade.mts)

    def flash_return_rate(self, now: int) -> Decimal:
        """The FRR: the amount-weighted average rate of the fixed-rate funding trades of the
        hour before ``now`` (8 significant digits); through an hour without such trades, the
        average of the hour before the last one (the start rate before any)."""
        cutoff = now - FRR_WINDOW_MS
        while self._fixed and self._fixed[0][0] < cutoff:
            _, size, rate = self._fixed.popleft()
            self._fixed_amount -= size
            self._fixed_weighted -= size * rate
        if self._fixed and self._fixed_amount > 0:
            self._frr = round_significant(self._fixed_weighted / self._fixed_amount, 8)
        if self._frr is None:
            self._frr = self.instrument.start_price
        return self._frr

    def series_for(self, period: int) -> CandleSeries:
        """The candle series of one funding period (``0``: all trades), created on first use."""
        series = self.series.get(period)
        if series is None:
            series = self.series[period] = CandleSeries()
        return series

    def range_series(self, first: int, last: int) -> CandleSeries:
        """The candle series of the funding trades whose period is from ``first`` to ``last``
        days (aggregate keys), created on first use from the series of those periods: their
        1m candles merged minute by minute, older candles made up from :attr:`backfill_seed`."""
        series = self.ranges.get((first, last))
        if series is not None:
            return series
        merged: dict[int, Candle] = {}
        for period in sorted(p for p in self.series if p and first <= p <= last):
            for candle in self.series[period].minutes():
                known = merged.get(candle.mts)
                if known is None:
                    merged[candle.mts] = candle
                else:
                    known.merge(candle)
        instrument = self.instrument
        backfill = Backfill(
            f"{self.backfill_seed}:{instrument.symbol}:{first}-{last}", instrument.volatility * 5, instrument.typical_size * 2
        )
        series = self.ranges[(first, last)] = CandleSeries([merged[mts] for mts in sorted(merged)], backfill)
        return series

    def last_price(self) -> Optional[Decimal]:
        """The price of the latest trade."""
        return self.tape[-1].price if self.tape else None

    def settle(self) -> None:
        """Forget what changed since the last publication (called after every flush)."""
        self.new_trades.clear()
        for series in self.series.values():
            series.clear_changes()
        for series in self.ranges.values():
            series.clear_changes()


@dataclass(frozen=True)
class DataUpdate:
    """A frame ``[CHAN_ID, PAYLOAD]`` (ticker and candle updates)."""

    payload: Any


@dataclass(frozen=True)
class TradeUpdate:
    """A frame ``[CHAN_ID, KIND, TRADE]`` with KIND ``te``/``tu`` (funding ``fte``/``ftu``)."""

    kind: str
    trade: list[Any]


@dataclass(frozen=True)
class BookUpdate:
    """Book entries that changed, and how to get the checksum of the book after them.

    :param checksum: computes the checksum (only connections with OB_CHECKSUM ask; the view
        computes it once).
    """

    entries: list[Entry]
    checksum: Callable[[], int]


Update = Union[DataUpdate, TradeUpdate, BookUpdate]


class TickerChannel:
    """``ticker``: best bid/ask, daily change, last price, 24 h volume, high and low."""

    def __init__(self, data: MarketData, book: MatchingBook) -> None:
        self._data = data
        self._book = book
        self._published: Optional[list[Any]] = None

    def _top(self, is_bid: bool) -> tuple[Optional[Decimal], Decimal, int]:
        for price, level in self._book.side(is_bid).levels():
            visible = [order for order in level if not order.hidden]
            if visible:
                return price, sum((abs(o.amount) for o in visible), ZERO), visible[0].period
        return None, ZERO, 0

    def _render(self, now: int) -> list[Any]:
        series = self._data.series[0]
        series.refresh_daily(now)
        daily = series.daily
        last = self._data.last_price()
        change = relative = ZERO
        if last is not None and daily.open:
            change = last - daily.open
            relative = round(change / daily.open, 4)
        bid, bid_size, bid_period = self._top(True)
        ask, ask_size, ask_period = self._top(False)
        stats = [wire(change), float(relative), wire(last), wire(daily.volume), wire(daily.high), wire(daily.low)]
        if not self._data.instrument.is_funding:
            return [wire(bid), wire(bid_size), wire(ask), wire(ask_size), *stats]
        frr = self._data.flash_return_rate(now)
        at_frr = ZERO  # the lending a borrower could take at the FRR or better
        for rate, level in self._book.side(False).levels():
            if rate > frr:
                break
            at_frr += sum((abs(o.amount) for o in level if not o.hidden), ZERO)
        return [
            wire(frr),
            wire(bid),
            bid_period,
            wire(bid_size),
            wire(ask),
            ask_period,
            wire(ask_size),
            *stats,
            None,
            None,
            wire(at_frr),
        ]

    def snapshot(self, now: int) -> Any:
        """The ticker array last published (every subscriber shares what updates compare to)."""
        if self._published is None:
            self._published = self._render(now)
        return self._published

    def updates(self, now: int) -> list[Update]:
        """A new ticker array if anything in it changed."""
        current = self._render(now)
        if current == self._published:
            return []
        self._published = current
        return [DataUpdate(current)]


class TradesChannel:
    """``trades``: the latest trades newest first, then ``te`` and ``tu`` for each new trade."""

    def __init__(self, data: MarketData) -> None:
        self._data = data
        prefix = "f" if data.instrument.is_funding else ""
        self._executed, self._updated = prefix + "te", prefix + "tu"

    def snapshot(self, now: int) -> Any:
        """The recent trades, newest first."""
        return [trade.wire() for trade in reversed(self._data.tape)]

    def updates(self, now: int) -> list[Update]:
        """``te`` for every trade since the last flush, then ``tu`` for each."""
        trades = [trade.wire() for trade in self._data.new_trades]
        updates: list[Update] = [TradeUpdate(self._executed, t) for t in trades]
        updates.extend(TradeUpdate(self._updated, t) for t in trades)
        return updates


class CandlesChannel:
    """``candles``: the latest candles newest first, then each candle a trade changed."""

    def __init__(self, data: MarketData, timeframe: str, period: int, period_end: int = 0) -> None:
        self._series = data.range_series(period, period_end) if period_end else data.series_for(period)
        self._timeframe = timeframe

    def snapshot(self, now: int) -> Any:
        """The latest candles, newest first."""
        return self._series.snapshot(self._timeframe)

    def updates(self, now: int) -> list[Update]:
        """Every candle of this timeframe that changed since the last flush, oldest first."""
        return [DataUpdate(candle) for candle in self._series.changes(self._timeframe)]


class BookChannel:
    """``book``: a :class:`~bitfinex.testing.bookviews.BookView`, published at its frequency.

    :param renderer: renders the symbol's book.
    :param f1_interval: milliseconds between publications of an ``F1`` book.
    """

    def __init__(self, renderer: BookRenderer, spec: ChannelSpec, f1_interval: int) -> None:
        self._view = BookView(renderer, spec.precision, spec.length)
        self._interval = f1_interval if spec.frequency == "F1" else 0
        self._published_at: Optional[int] = None

    def snapshot(self, now: int) -> Any:
        """The published book: bids best first, then asks."""
        if self._published_at is None:
            self._published_at = now
        return self._view.snapshot()

    def checksum(self) -> int:
        """The checksum of the published book."""
        return self._view.checksum()

    def updates(self, now: int) -> list[Update]:
        """The changed entries, if the book changed and (for ``F1``) its interval has passed."""
        if self._published_at is not None and now - self._published_at < self._interval:
            return []
        entries = self._view.updates()
        if not entries:
            return []
        self._published_at = now
        return [BookUpdate(entries, self._view.checksum)]


PublicChannel = Union[TickerChannel, TradesChannel, CandlesChannel, BookChannel]


def open_channel(spec: ChannelSpec, data: MarketData, renderer: BookRenderer, f1_interval: int = F1_INTERVAL_MS) -> PublicChannel:
    """Create the channel object that serves ``spec``.

    :param renderer: renders the symbol's book (for the ticker's best prices and for books).
    """
    if spec.channel == "ticker":
        return TickerChannel(data, renderer.book)
    if spec.channel == "trades":
        return TradesChannel(data)
    if spec.channel == "candles":
        return CandlesChannel(data, spec.timeframe, spec.period, spec.period_end)
    return BookChannel(renderer, spec, f1_interval)
