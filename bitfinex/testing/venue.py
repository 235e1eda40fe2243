"""The exchange core without I/O: markets, accounts, subscriptions, and who gets what.

A :class:`Venue` owns the clock, the seeded random sources, the matching engine's books, the
market simulation, the order desk, the funding desk and the derivatives desk, the public
channels and the accounts.
Connections talk to it through two small interfaces: a :class:`PublicSink` receives channel
updates, an :class:`AccountSink` receives account messages. After every change (a client
message, a simulation tick, a test helper) the caller runs :meth:`Venue.flush`, which delivers
account messages first, then the public updates of every live channel, in a fixed order, so a
seed and a sequence of actions always give the same frames.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Callable, Optional, Protocol, Union

from bitfinex.protocol.signing import Secret
from bitfinex.testing.accounts import Account, AccountMessage, default_balances
from bitfinex.testing.bookviews import BookRenderer
from bitfinex.testing.channels import (
    F1_INTERVAL_MS,
    BookChannel,
    ChannelSpec,
    MarketData,
    PublicChannel,
    Update,
    open_channel,
)
from bitfinex.testing.derivatives import DerivativesDesk
from bitfinex.testing.engine import BookOrder, MatchingBook
from bitfinex.testing.funding import FundingDesk
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS, Instrument, collateral_currencies, currencies
from bitfinex.testing.market import (
    Action,
    CancelLiquidity,
    MarketSimulator,
    PlaceLiquidity,
    PublicTrade,
    synthesize_history,
)
from bitfinex.testing.numbers import parse_decimal, round_price
from bitfinex.testing.statuschannels import StatusChannel, open_status_channel
from bitfinex.testing.trading import Counters, OrderDesk

log = logging.getLogger("bitfinex.testing.venue")

Clock = Callable[[], int]
"""A clock: milliseconds since the epoch."""


def wall_clock() -> int:
    """The system clock in milliseconds (the default :data:`Clock`)."""
    return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to, for reproducible runs.

    :param start: the initial time in ms since the epoch (default 2023-11-14T22:13:20Z).
    """

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, milliseconds: int) -> None:
        """Move the clock forward."""
        self.now += milliseconds


class PublicSink(Protocol):
    """Receives the updates of the channels a connection subscribed."""

    def deliver_public(self, chan_id: int, update: Update) -> None:
        """Send one update on ``chan_id``."""


class AccountSink(Protocol):
    """Receives the messages of the account a connection authenticated as."""

    def deliver_account(self, message: AccountMessage) -> None:
        """Send one message on channel 0."""


class Venue:
    """The whole exchange, minus the network.

    :param instruments: what it lists; :data:`~bitfinex.testing.instruments.DEFAULT_INSTRUMENTS`
        by default.
    :param seed: seeds the market history, the simulation and every id, so equal seeds give
        equal markets.
    :param clock: where time comes from (ms); the wall clock by default, a
        :class:`ManualClock` for reproducible runs.
    :param f1_interval: milliseconds between publications of ``freq: F1`` books (2000 as on
        Bitfinex).
    """

    def __init__(
        self,
        instruments: Iterable[Instrument] = DEFAULT_INSTRUMENTS,
        seed: int = 0,
        clock: Optional[Clock] = None,
        f1_interval: int = F1_INTERVAL_MS,
    ) -> None:
        self.clock: Clock = clock or wall_clock
        self.instruments: dict[str, Instrument] = {i.symbol: i for i in instruments}
        self._ids = random.Random(f"{seed}:ids")
        self.server_id = self.new_uuid()
        """The ``serverId`` of the ``info`` event."""
        self._f1_interval = f1_interval
        perpetuals = {s: random.Random(f"{seed}:market:{s}") for s, i in self.instruments.items() if i.is_derivative}
        self.simulator = MarketSimulator(tuple(self.instruments.values()), random.Random(seed), perpetuals)
        counters = Counters.starting_at(
            order_id=1_000_000_000 + self._ids.randrange(100_000_000),
            trade_id=1_300_000_000 + self._ids.randrange(100_000_000),
            position_id=150_000_000 + self._ids.randrange(10_000_000),
        )
        self._counters = counters
        self.books: dict[str, MatchingBook] = {}
        self.market: dict[str, MarketData] = {}
        now = self.clock()
        for symbol, instrument in self.instruments.items():
            history = random.Random(f"{seed}:history:{symbol}")
            trades, series = synthesize_history(instrument, now, history, counters.trades, f"{seed}:backfill")
            self.market[symbol] = MarketData(instrument, series, backfill_seed=f"{seed}:backfill")
            self.market[symbol].load(trades)
            self.books[symbol] = MatchingBook(symbol)
            for action in self.simulator.opening_liquidity(symbol, self.books[symbol]):
                self._apply(symbol, action)
        self._renderers = {symbol: BookRenderer(self.instruments[symbol], book) for symbol, book in self.books.items()}
        self.accounts: dict[str, Account] = {}
        self.desk = OrderDesk(self.instruments, self.books, self.market, self.accounts, counters, self.clock)
        self.funding = FundingDesk(
            self.instruments,
            self.books,
            self.market,
            self.accounts,
            self.desk,
            self.clock,
            random.Random(f"{seed}:funding-ids"),
            counters.trades,
        )
        """Funding offers, credits, loans and interest (:mod:`bitfinex.testing.funding`)."""
        self.derivatives = DerivativesDesk(
            self.instruments, self.accounts, self.desk, self.clock, random.Random(f"{seed}:derivatives"), counters.positions
        )
        """Perpetuals' funding, liquidations and status (:mod:`bitfinex.testing.derivatives`)."""
        self._channels: dict[ChannelSpec, Union[PublicChannel, StatusChannel]] = {}
        self._subscribers: dict[ChannelSpec, list[tuple[PublicSink, int]]] = {}
        self._account_sinks: dict[str, list[AccountSink]] = {}

    def now(self) -> int:
        """The exchange time in ms."""
        return self.clock()

    def new_uuid(self) -> str:
        """A UUID4 string drawn from the seeded id source (server ids, ``auth_id``)."""
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def draw_channel_base(self) -> int:
        """A seeded starting point for a new connection's chanIds."""
        return 10_000 + self._ids.randrange(200_000)

    # -- accounts ---------------------------------------------------------------------------

    def add_account(
        self,
        api_key: str,
        secret: str | Secret,
        balances: Optional[Mapping[tuple[str, str], Any]] = None,
    ) -> Account:
        """Open an account.

        :param balances: starting balances by ``(wallet_type, currency)``, e.g.
            ``{("exchange", "USD"): "5000"}``; by default funded exchange and margin wallets in
            every listed currency and a funding wallet per funding currency
            and a margin wallet in every derivatives collateral currency (USTF0)
            (:func:`~bitfinex.testing.accounts.default_balances`).
        :raises ValueError: if the key exists or a balance is not a number.
        """
        if api_key in self.accounts:
            raise ValueError(f"an account with key {api_key!r} exists already")
        if balances is None:
            listed = tuple(self.instruments.values())
            funding = tuple(i.base for i in listed if i.is_funding)
            start = default_balances(currencies(listed), funding, tuple(collateral_currencies(listed)))
        else:
            start = {}
            for key, value in balances.items():
                amount = parse_decimal(value)
                if amount is None:
                    raise ValueError(f"balance {key!r} is not a number: {value!r}")
                start[key] = amount
        account = Account(api_key, Secret(secret), 1_000_000 + len(self.accounts) + 1, start)
        self.accounts[api_key] = account
        return account

    def attach(self, account: Account, sink: AccountSink) -> None:
        """Send ``account``'s messages to ``sink`` from now on."""
        self._account_sinks.setdefault(account.api_key, []).append(sink)

    def detach(self, account: Account, sink: AccountSink) -> None:
        """Stop sending ``account``'s messages to ``sink``."""
        sinks = self._account_sinks.get(account.api_key, [])
        if sink in sinks:
            sinks.remove(sink)

    # -- public channels --------------------------------------------------------------------

    def subscribe(self, spec: ChannelSpec, sink: PublicSink, chan_id: int) -> Any:
        """Add a subscriber to a channel (opening it if needed); return its snapshot payload
        (``None`` for a channel without a snapshot: ``liq:global``)."""
        channel = self._channels.get(spec)
        if channel is None:
            if spec.channel == "status":
                channel = open_status_channel(spec, self.derivatives)
            else:
                channel = open_channel(spec, self.market[spec.symbol], self._renderers[spec.symbol], self._f1_interval)
            self._channels[spec] = channel
            self._subscribers[spec] = []
        self._subscribers[spec].append((sink, chan_id))
        return channel.snapshot(self.now())

    def unsubscribe(self, spec: ChannelSpec, sink: PublicSink, chan_id: int) -> None:
        """Remove a subscriber; a channel nobody subscribes to is closed."""
        subscribers = self._subscribers.get(spec, [])
        if (sink, chan_id) in subscribers:
            subscribers.remove((sink, chan_id))
        if not subscribers and spec in self._channels:
            del self._channels[spec]
            del self._subscribers[spec]

    def book_checksum(self, spec: ChannelSpec) -> int:
        """The checksum of a book channel's published state."""
        channel = self._channels[spec]
        assert isinstance(channel, BookChannel)
        return channel.checksum()

    # -- simulation -------------------------------------------------------------------------

    def tick(self) -> None:
        """Advance the simulation one step in every market, expire orders, and publish."""
        for symbol, book in self.books.items():
            for action in self.simulator.step(symbol, book):
                self._apply(symbol, action)
        self.derivatives.simulate()
        self.desk.expire(self.now())
        self.flush()

    def move_price(self, symbol: str, price: Decimal) -> None:
        """Move the market of ``symbol`` to ``price`` now, and publish (a test's fault).

        The simulated quotes are withdrawn; a simulated trader takes every client order the move
        crosses (asks up to ``price`` on the way up, bids down to it on the way down); the
        simulation then quotes around ``price`` and trades once there, so the last price follows.
        Moving a spot pair moves the perpetuals priced around it by as much (their books, and
        their mark price, which is the spot pair's mid): how a test forces a liquidation.

        :raises ValueError: for a symbol that is not a listed trading pair or contract.
        """
        instrument = self.instruments.get(symbol)
        if instrument is None or instrument.is_funding:
            raise ValueError(f"{symbol!r} is not a listed trading pair or perpetual contract")
        ratio = price / self.simulator.fair_price(symbol)
        followers = [s for s, i in self.instruments.items() if i.underlying == symbol]
        targets = {symbol: price, **{s: round_price(self.simulator.fair_price(s) * ratio) for s in followers}}
        for target, level in targets.items():
            self._reprice(target, level)
        self.flush()

    def _reprice(self, symbol: str, price: Decimal) -> None:
        book = self.books[symbol]
        up = price > self.desk.figures.reference_price(symbol)
        for order in book.owned_by(None):
            book.remove(order.order_id)
        crossed = book.fillable(up, price)
        if crossed:
            self.desk.fill_simulated(symbol, crossed if up else -crossed, price)
        self.simulator.move(symbol, price)
        for action in self.simulator.opening_liquidity(symbol, book):
            self._apply(symbol, action)
        size = self.instruments[symbol].min_order_size
        self.desk.fill_simulated(symbol, size if up else -size, None)

    def simulate_order(self, symbol: str, amount: Decimal, price: Optional[Decimal] = None) -> list[PublicTrade]:
        """Let a simulated participant trade now, and publish.

        :param amount: signed: ``> 0`` buys (funding symbols: see :meth:`simulate_funding`,
            whose signs are Bitfinex's; here ``> 0`` borrows, as the engine signs bids).
        :param price: a limit; the part that does not fill at once rests in the book. ``None``
            sends a market order.
        :returns: the trades it made.
        """
        if self.instruments[symbol].is_funding:
            return self.simulate_funding(symbol, -amount, price)
        data = self.market[symbol]
        before = len(data.new_trades)
        book = self.books[symbol]
        self.desk.fill_simulated(symbol, amount, price)
        left = amount - sum((trade.amount for trade in data.new_trades[before:]), Decimal(0))
        if price is not None and left:
            book.rest(BookOrder(next(self._counters.orders), price, left))
        trades = data.new_trades[before:]
        self.flush()
        return trades

    def simulate_funding(
        self, symbol: str, amount: Decimal, rate: Optional[Decimal] = None, period: Optional[int] = None
    ) -> list[PublicTrade]:
        """Let a simulated lender (``amount > 0``) or borrower (``amount < 0``) act now in the
        funding market of ``symbol``, and publish.

        A borrower takes lend offers (client offers included) at rates up to ``rate`` and of at
        least ``period`` days; a lender takes borrower bids at rates from ``rate`` and of at
        most ``period`` days. With a ``rate``, the part that does not match rests in the book
        (for ``period`` days, by default the currency's shortest simulated period).

        :returns: the funding trades it made.
        """
        data = self.market[symbol]
        before = len(data.new_trades)
        engine_amount = -amount
        fills = self.funding.fill_simulated(symbol, engine_amount, rate, period)
        left = engine_amount - sum((fill.amount for fill in fills), Decimal(0))
        if rate is not None and left:
            days = period or self.instruments[symbol].funding_periods[0]
            self.books[symbol].rest(BookOrder(next(self._counters.orders), rate, left, period=days))
        trades = data.new_trades[before:]
        self.flush()
        return trades

    def _apply(self, symbol: str, action: Action) -> None:
        book = self.books[symbol]
        if isinstance(action, PlaceLiquidity):
            if not book.crosses(action.amount > 0, action.price):
                book.rest(BookOrder(next(self._counters.orders), action.price, action.amount, period=action.period))
        elif isinstance(action, CancelLiquidity):
            book.remove(action.order_id)
        elif self.instruments[symbol].is_funding:
            self.funding.fill_simulated(symbol, action.amount)
        else:
            self.desk.fill_simulated(symbol, action.amount, None)

    # -- publication ------------------------------------------------------------------------

    def flush(self) -> None:
        """Run triggered stops, the funding market's clock (FRR offers, interest, contracts that
        end) and the derivatives' (funding events, liquidations), then deliver account messages
        and public updates."""
        self.desk.run_triggered()
        self.funding.advance(self.now())
        self.derivatives.advance(self.now())
        outbox, self.desk.outbox = self.desk.outbox, []
        for account, message in outbox:
            self._deliver(account, message)
        changed, self.desk.balances_changed = self.desk.balances_changed, {}
        for account in changed.values():
            self._deliver(account, self.desk.figures.balance_message(account))
        now = self.now()
        for spec, channel in list(self._channels.items()):
            updates = channel.updates(now)
            for sink, chan_id in list(self._subscribers.get(spec, ())):
                for update in updates:
                    try:
                        sink.deliver_public(chan_id, update)
                    except Exception:
                        log.exception("delivering %s on channel %s failed", type(update).__name__, chan_id)
        for data in self.market.values():
            data.settle()
        self.derivatives.settle()

    def _deliver(self, account: Account, message: AccountMessage) -> None:
        for sink in list(self._account_sinks.get(account.api_key, ())):
            try:
                sink.deliver_account(message)
            except Exception:
                log.exception("delivering %r to account %s failed", message.kind, account.user_id)
