"""The local exchange users start: :class:`LocalExchange`."""

from __future__ import annotations

import logging
import math
import secrets
import shutil
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

from bitfinex.protocol.codec import DECODERS
from bitfinex.protocol.constants import CALCS_PER_SECOND, MAX_CHANNELS_PER_CONNECTION
from bitfinex.recording import PathArgument
from bitfinex.testing.channels import F1_INTERVAL_MS
from bitfinex.testing.faults import Faults
from bitfinex.testing.instruments import DEFAULT_INSTRUMENTS, Instrument
from bitfinex.testing.market import PublicTrade
from bitfinex.testing.numbers import parse_decimal
from bitfinex.testing.replay import Replay
from bitfinex.testing.server import (
    SEND_BUFFER_LIMIT,
    ConnectionLog,
    ExchangeServer,
    ReceivedFrame,
    ReceiveLogLimits,
    ServerOptions,
)
from bitfinex.testing.session import SessionLimits
from bitfinex.testing.tls import TestCertificates, generate_certificates
from bitfinex.testing.venue import Clock, Venue
from bitfinex.transport.reactor import ReactorThread, call_and_wait

log = logging.getLogger("bitfinex.testing.exchange")

DEFAULT_RECEIVE_LOG = ReceiveLogLimits()
"""The receive log's bounds by default: the latest 10,000 frames and 4 MiB, 16 KiB per frame."""

T = TypeVar("T")


@dataclass(frozen=True)
class AccountState:
    """A copy of an account's state at one moment.

    :param wallets: balances by ``(wallet_type, currency)``.
    :param orders: open orders, as their 32-field order arrays.
    :param positions: open positions, as their position arrays.
    :param funding_offers: open funding offers, as their 21-field offer arrays.
    :param funding_credits: open funding credits (funds lent), as their credit arrays.
    :param funding_loans: open funding loans (funds borrowed), as their loan arrays.
    """

    user_id: int
    wallets: dict[tuple[str, str], Decimal]
    orders: list[list[Any]]
    positions: list[list[Any]]
    funding_offers: list[list[Any]] = field(default_factory=list)
    funding_credits: list[list[Any]] = field(default_factory=list)
    funding_loans: list[list[Any]] = field(default_factory=list)


def _check_interval(name: str, value: Optional[float]) -> None:
    """Refuse an interval in seconds that is not ``None`` or a positive finite number.

    :raises ValueError: naming ``name``.
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive number of seconds or None, not {value!r}")


class LocalExchange:
    """A Bitfinex-compatible WebSocket API v2 server on this machine.

    Use it as a context manager (``with LocalExchange(...) as exchange:``) or call
    :meth:`start` and :meth:`stop`. Every method is thread-safe.

    :param key: the API key of the account it opens; a random demo key when ``None``.
    :param secret: that key's secret; random when ``None`` (read it back from :attr:`secret`).
    :param host: interface to listen on.
    :param port: port to listen on; ``0`` picks a free one (read it back from :attr:`port`).
    :param seed: seeds the market history, the simulation and every id: equal seeds and equal
        client actions give byte-identical frames (with ``tick_interval=None``, a
        :class:`~bitfinex.testing.venue.ManualClock` and no heartbeats).
    :param heartbeat_interval: seconds of silence on a channel before ``[CHAN_ID, "hb"]``
        (15 like Bitfinex); ``None`` sends no heartbeats.
    :param tick_interval: seconds between simulation steps (0.25); ``None`` keeps the market
        still until :meth:`tick` is called.
    :param clock: the exchange clock, ms since the epoch; the wall clock by default.
    :param instruments: the listed symbols (tBTCUSD, tETHUSD, tLTCUSD, tETHBTC,
        tTESTBTC:TESTUSD, fUSD, fBTC and the perpetuals tBTCF0:USTF0 and tETHF0:USTF0 by default).
    :param balances: starting balances of the account, ``{("exchange", "USD"): "1000", ...}``;
        funded exchange and margin wallets in every listed currency, and funding wallets in
        USD (10 000) and BTC (1), and the derivatives collateral wallet (margin USTF0, 100 000), by
        default.
    :param max_subscriptions: channels per connection before error 10305 (25).
    :param calcs_per_second: ``calc`` messages per second per connection before an error (8).
    :param connection_rate_limit: ``(handshakes, seconds)``: refuse handshakes beyond that
        rate with HTTP 429; ``None`` (default) accepts every connection.
    :param tls: serve ``wss://`` with a freshly made certificate authority; give clients
        :attr:`ca_certificate` or :attr:`ca_path` to trust.
    :param f1_interval: milliseconds between publications of ``freq: F1`` books (2000).
    :param reactor: a reactor to serve on (the application's, already running or about to);
        by default the exchange runs its own private reactor in a daemon thread. With your own
        reactor call :meth:`start` and :meth:`stop` from its thread (or before it runs).
    :param replay: a recording (``WssClient(record=...)``) to serve instead of the simulated
        market: clients that subscribe to its channels get the recorded frames (see
        :mod:`bitfinex.testing.replay`). The simulation does not tick then.
    :param replay_speed: how many times faster than recorded to replay (1.0: as recorded);
        ``None`` sends the recorded frames as fast as possible.
    :param receive_log: how much of what clients send to keep for :attr:`received` and
        :meth:`received_inputs`: a window of the latest 10,000 frames and 4 MiB by default, each
        frame's text cut past 16 KiB (:class:`~bitfinex.testing.server.ReceiveLogLimits`);
        ``None`` keeps nothing.
    :param send_buffer_limit: bytes that may wait in a connection's send buffer (4 MiB): past
        it the exchange stops reading that client's requests, and drops the client (it sees
        1006) if it reads nothing for 2 seconds, or at once past 16 times the limit; ``None``
        never drops.
    :param decoder: ``"orjson"`` or ``"json"`` (a name of
        :data:`bitfinex.protocol.codec.DECODERS`): what reads client frames; ``None``, the
        installed decoder. Both give the same answers (see :mod:`bitfinex.protocol.codec`).
    :raises ValueError: for a ``replay`` file that is not a recording, a speed that is not
        positive, an unknown decoder, or a heartbeat or tick interval that is not a positive
        number (the message names the argument).
    """

    def __init__(
        self,
        key: Optional[str] = None,
        secret: Optional[str] = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        heartbeat_interval: Optional[float] = 15.0,
        tick_interval: Optional[float] = 0.25,
        clock: Optional[Clock] = None,
        instruments: Iterable[Instrument] = DEFAULT_INSTRUMENTS,
        balances: Optional[Mapping[tuple[str, str], Any]] = None,
        max_subscriptions: int = MAX_CHANNELS_PER_CONNECTION,
        calcs_per_second: int = CALCS_PER_SECOND,
        connection_rate_limit: Optional[tuple[int, float]] = None,
        tls: bool = False,
        f1_interval: int = F1_INTERVAL_MS,
        reactor: Any = None,
        replay: Optional[PathArgument] = None,
        replay_speed: Optional[float] = 1.0,
        receive_log: Optional[ReceiveLogLimits] = DEFAULT_RECEIVE_LOG,
        send_buffer_limit: Optional[int] = SEND_BUFFER_LIMIT,
        decoder: Optional[str] = None,
    ) -> None:
        if decoder is not None and decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}: one of {sorted(DECODERS)}")
        _check_interval("heartbeat_interval", heartbeat_interval)
        _check_interval("tick_interval", tick_interval)
        self.key = key if key is not None else "demo-" + secrets.token_hex(8)
        self.secret = secret if secret is not None else secrets.token_hex(24)
        self.host = host
        self._requested_port = port
        self._tls = tls
        self._venue = Venue(instruments, seed=seed, clock=clock, f1_interval=f1_interval)
        self._venue.add_account(self.key, self.secret, balances)
        replaying = Replay(replay, replay_speed) if replay is not None else None
        options = ServerOptions(
            heartbeat_interval=heartbeat_interval,
            tick_interval=tick_interval if replaying is None else None,
            limits=SessionLimits(max_subscriptions, calcs_per_second),
            connection_rate_limit=connection_rate_limit,
            receive_log=receive_log,
            send_buffer_limit=send_buffer_limit,
            decoder=DECODERS[decoder] if decoder is not None else None,
        )
        self._own_reactor = reactor is None
        self._thread = ReactorThread(name="bitfinex-local-exchange") if reactor is None else None
        self._reactor = self._thread.reactor if self._thread is not None else reactor
        self._reactor_thread_id: Optional[int] = None
        sessions = replaying.sessions(self._reactor, options.decoder) if replaying is not None else None
        self._server = ExchangeServer(self._venue, self._reactor, options, sessions)
        self.faults = Faults(self._server, self.call)
        """Inject faults: see :class:`~bitfinex.testing.faults.Faults`."""
        self._certificates: Optional[TestCertificates] = None
        self._port: Optional[int] = None
        self._state = "new"
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalExchange(url={self.url if self._port else None!r}, key={self.key!r}, state={self._state!r})"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> str:
        """Listen, start the simulation, and return :attr:`url`. Starting twice is harmless.

        If it cannot listen (the port is taken, the host is not this machine's), everything
        :meth:`start` set up is taken down again (the reactor thread stopped and joined, the
        certificates removed) before the error is raised; the exchange then counts as stopped.

        :raises RuntimeError: if the exchange was stopped (it cannot start again).
        :raises twisted.internet.error.CannotListenError: if it cannot listen.
        """
        with self._lock:
            if self._state == "running":
                return self.url
            if self._state == "stopped":
                raise RuntimeError("this LocalExchange was stopped; create a new one")
            try:
                if self._tls:
                    self._certificates = generate_certificates()
                if self._thread is not None:
                    self._thread.start()
                else:
                    self._reactor.callWhenRunning(self._note_reactor_thread)
                context = self._certificates.server_context_factory() if self._certificates else None
                self._port = self.call(self._server.listen, self.host, self._requested_port, context)
            except BaseException:
                self._state = "stopped"
                if self._thread is not None:
                    self._thread.stop()
                self._remove_certificates()
                raise
            self._state = "running"
        log.info("local exchange listening on %s", self.url)
        return self.url

    def _note_reactor_thread(self) -> None:
        self._reactor_thread_id = threading.get_ident()

    def stop(self, timeout: float = 10.0) -> Any:
        """Close every connection, stop listening and (own reactor) join the reactor thread.

        Safe to call twice. With your own reactor, called from its thread, it cannot wait: it
        returns a Deferred that fires once everything is closed (``None`` otherwise).

        :raises TimeoutError: if the reactor thread does not stop within ``timeout`` seconds.
        """
        with self._lock:
            running = self._state == "running"
            self._state = "stopped"
        if not running:
            return None
        if self._thread is None and self._in_reactor_thread():
            return self._server.shutdown().addBoth(self._remove_certificates)
        finished = threading.Event()
        self.call(lambda: self._server.shutdown().addBoth(lambda _: finished.set()))
        if not finished.wait(timeout):
            log.warning("connections did not close within %s s", timeout)
        if self._thread is not None:
            self._thread.stop(timeout)
        self._remove_certificates()
        return None

    def _remove_certificates(self, passthrough: Any = None) -> Any:
        if self._certificates is not None:
            shutil.rmtree(self._certificates.ca_path.parent, ignore_errors=True)
        return passthrough

    def __enter__(self) -> LocalExchange:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _in_reactor_thread(self) -> bool:
        if self._thread is not None:
            return self._thread.in_reactor_thread()
        return self._reactor_thread_id is None or self._reactor_thread_id == threading.get_ident()

    def call(self, function: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run ``function(*args)`` on the exchange's reactor thread and return its result.

        :raises TimeoutError: if it has not run within ``timeout`` seconds.
        """
        if self._thread is not None:
            return self._thread.run_sync(function, *args, timeout=timeout)
        if self._in_reactor_thread() or not self._reactor.running:
            return function(*args)
        return call_and_wait(self._reactor, function, *args, timeout=timeout)

    # -- addresses --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it listens on.

        :raises RuntimeError: before :meth:`start`.
        """
        if self._port is None:
            raise RuntimeError("the exchange is not started")
        return self._port

    @property
    def url(self) -> str:
        """``ws://HOST:PORT`` (``wss://`` with TLS)."""
        return f"{'wss' if self._tls else 'ws'}://{self.host}:{self.port}"

    @property
    def ca_certificate(self) -> Optional[bytes]:
        """The PEM certificate of the CA that signed the server's (TLS only, once started)."""
        return self._certificates.ca_pem if self._certificates else None

    @property
    def ca_path(self) -> Optional[Path]:
        """A file holding :attr:`ca_certificate` (TLS only; removed by :meth:`stop`)."""
        return self._certificates.ca_path if self._certificates else None

    # -- accounts ---------------------------------------------------------------------------

    def add_account(self, key: str, secret: str, balances: Optional[Mapping[tuple[str, str], Any]] = None) -> int:
        """Open another account; return its user id.

        :param balances: starting balances by ``(wallet_type, currency)``; funded exchange and
            margin wallets in every listed currency by default.
        :raises ValueError: if the key exists or a balance is not a number.
        """
        return self.call(lambda: self._venue.add_account(key, secret, balances).user_id)

    def account_state(self, key: Optional[str] = None) -> AccountState:
        """A copy of an account's wallets, open orders and positions (default: :attr:`key`'s)."""

        def read() -> AccountState:
            account = self._venue.accounts[key or self.key]
            return AccountState(
                user_id=account.user_id,
                wallets={k: w.balance for k, w in account.wallets.items()},
                orders=[order.wire() for order in account.orders.values()],
                positions=[self._venue.desk.figures.position_array(p) for p in account.positions.values()],
                funding_offers=[offer.wire() for offer in account.funding.offers.values()],
                funding_credits=[credit.wire() for credit in account.funding.credits.values()],
                funding_loans=[loan.wire() for loan in account.funding.loans.values()],
            )

        return self.call(read)

    # -- market -----------------------------------------------------------------------------

    def tick(self, count: int = 1) -> None:
        """Advance the simulation ``count`` steps now (any tick interval)."""

        def run() -> None:
            for _ in range(count):
                self._venue.tick()

        self.call(run)

    def simulate_order(self, symbol: str, amount: Any, price: Any = None) -> list[PublicTrade]:
        """Have a simulated participant trade now: a market order, or a limit order at ``price``
        whose unfilled part rests in the book. Use it to cross (and fill) client orders; for a
        funding symbol, :meth:`simulate_funding` says more (and signs amounts as Bitfinex does).

        :param amount: signed (``> 0`` buys; for a funding symbol ``> 0`` borrows, as the
            book's bids are borrowers), a number or decimal string.
        :returns: the trades it made.
        :raises ValueError: for an unknown symbol or a malformed amount or price.
        """
        size = parse_decimal(amount)
        limit = parse_decimal(price) if price is not None else None
        if symbol not in self._venue.instruments or not size or (price is not None and not limit):
            raise ValueError(f"cannot simulate an order of {amount!r} {symbol} at {price!r}")
        return self.call(self._venue.simulate_order, symbol, size, limit)

    def simulate_funding(self, symbol: str, amount: Any, rate: Any = None, period: Optional[int] = None) -> list[PublicTrade]:
        """Have a simulated lender or borrower act now in a funding market: the funding twin of
        :meth:`simulate_order`, to take (and so turn into credits and loans) client offers.

        :param symbol: a funding symbol (``"fUSD"``).
        :param amount: signed as Bitfinex signs offers: ``> 0`` lends (takes borrower bids),
            ``< 0`` borrows (takes lend offers); a number or decimal string.
        :param rate: the worst daily rate it accepts (a borrower pays at most, a lender earns at
            least this); the part that does not match then rests in the book. ``None`` takes
            any rate and rests nothing.
        :param period: days: a borrower takes only offers of at least ``period`` days, a lender
            only bids of at most ``period`` days (the contract runs for the offer's period);
            ``None`` takes any. The rest rests for ``period`` days (default: 2).
        :returns: the funding trades it made (:class:`~bitfinex.testing.PublicTrade`, PRICE the
            rate, AMOUNT signed by the taker: ``> 0`` lent).
        :raises ValueError: for a symbol that is not a listed funding currency, a malformed
            amount or rate, or a period outside 2 to 120.

        ``exchange.simulate_funding("fUSD", "-500", rate="0.0002", period=30)`` takes a client's
        lend offer of 500 USD at 0.0002 for 30 days (and any cheaper offer of 30 days or more
        before it).
        """
        size = parse_decimal(amount)
        limit = parse_decimal(rate) if rate is not None else None
        instrument = self._venue.instruments.get(symbol)
        bad_period = period is not None and (isinstance(period, bool) or not isinstance(period, int) or not 2 <= period <= 120)
        if instrument is None or not instrument.is_funding or not size or (rate is not None and not limit) or bad_period:
            raise ValueError(f"cannot simulate funding of {amount!r} {symbol} at {rate!r} for {period!r} days")
        return self.call(self._venue.simulate_funding, symbol, size, limit, period)

    def flash_return_rate(self, symbol: str) -> Decimal:
        """The FRR of a funding symbol now: the amount-weighted average rate of the fixed-rate
        funding trades of the last hour (what funding tickers show first, and what FRR offers
        rest at).

        :raises ValueError: for a symbol that is not a listed funding currency.
        """
        instrument = self._venue.instruments.get(symbol)
        if instrument is None or not instrument.is_funding:
            raise ValueError(f"{symbol!r} is not a listed funding currency")
        return self.call(lambda: self._venue.market[symbol].flash_return_rate(self._venue.now()))

    def mark_price(self, symbol: str) -> Decimal:
        """The mark price of a perpetual now (the book mid of its underlying spot pair): what its
        positions' profit, liquidations and funding payments are reckoned at.

        :raises ValueError: for a symbol that is not a listed perpetual.
        """
        instrument = self._venue.instruments.get(symbol)
        if instrument is None or not instrument.is_derivative:
            raise ValueError(f"{symbol!r} is not a listed perpetual contract")
        return self.call(self._venue.desk.figures.mark_price, symbol)

    def best_prices(self, symbol: str) -> tuple[Optional[Decimal], Optional[Decimal]]:
        """The best bid and ask of ``symbol`` (hidden orders included)."""
        return self.call(lambda: (self._venue.books[symbol].best_bid(), self._venue.books[symbol].best_ask()))

    # -- inspection -------------------------------------------------------------------------

    @property
    def received(self) -> list[ConnectionLog]:
        """What every connection (open or closed) sent, with timestamps: the frames still in
        the receive log's window (see ``receive_log``), each decoded when read."""
        return self._server.connection_logs()

    def received_inputs(self, operation: Optional[str] = None) -> list[ReceivedFrame]:
        """Every channel-0 input clients sent (``[0, OP, null, PAYLOAD]``) still in the receive
        log's window, in arrival order.

        :param operation: only this one (``"on"``, ``"oc"``...); all by default.
        """
        inputs = []
        for received in self._server.log.frames():
            raw = received.raw
            if received.binary or received.truncated or not isinstance(raw, str) or raw.lstrip()[:1] != "[":
                continue
            frame = received.frame
            if isinstance(frame, list) and len(frame) > 1 and frame[0] == 0 and (operation is None or frame[1] == operation):
                inputs.append(received)
        return inputs

    @property
    def connection_count(self) -> int:
        """How many connections are open now."""
        return self.call(lambda: len(self._server.connections))

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> None:
        """Wait until exactly ``count`` connections are open.

        :raises TimeoutError: if that does not happen within ``timeout`` seconds.
        """
        changed = self._server.connections_changed
        with changed:
            if not changed.wait_for(lambda: len(self._server.connections) == count, timeout):
                raise TimeoutError(f"{len(self._server.connections)} connections open, expected {count}")
