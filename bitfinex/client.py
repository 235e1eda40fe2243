"""``WssClient``: the original API's facade over the protocol core and the Twisted transport.

Every public method validates its arguments in the caller's thread (raising ``ValueError`` or
``TypeError`` before anything is sent), then hands the work to the reactor thread with
``callFromThread`` (or, called from a callback, on the client's own reactor thread, does it at
once), so every method is safe to call from any thread, before or after
:meth:`WssClient.start`. Callbacks run on the reactor thread, in arrival order per channel.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Optional, Union, overload

from twisted.internet.defer import Deferred

from bitfinex.protocol import funding, orders
from bitfinex.protocol import status as st
from bitfinex.protocol import subscriptions as subs
from bitfinex.protocol.account import AUTH, Credentials
from bitfinex.protocol.callbacks import Callback, CallbackRunner
from bitfinex.protocol.constants import AUTH_URL, MAX_CHANNELS_PER_CONNECTION, PUBLIC_URL, URL_ENVIRONMENT_VARIABLE, ConfFlag
from bitfinex.protocol.ids import PROCESS_CIDS, CidGenerator
from bitfinex.protocol.mirror import AccountMirror, MirrorOptions
from bitfinex.protocol.numbers import DecimalLike
from bitfinex.protocol.pacing import Backoff
from bitfinex.protocol.pipeline import PendingInput
from bitfinex.protocol.session import AuthSettings, Session
from bitfinex.protocol.signing import NonceGenerator, Secret
from bitfinex.recording import FrameRecorder
from bitfinex.transport.link import parse_url
from bitfinex.transport.links import Links, LinkSettings
from bitfinex.transport.reactor import ReactorThread
from bitfinex.transport.tls import CaSource

log = logging.getLogger("bitfinex.client")


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _check_callback(callback: object, name: str = "callback", optional: bool = False) -> None:
    if callback is None and optional:
        return
    if not callable(callback):
        raise TypeError(f"{name} must be callable, got {type(callback).__name__}")


def _check_seconds(value: object, name: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds{' or None' if optional else ''}, got {value!r}")


def _check_count(value: object, name: str, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int of at least {minimum}{' or None' if optional else ''}, got {value!r}")


class WssClient:
    """Websocket client for Bitfinex (API v2).

    :param key: your API key (needed for :meth:`authenticate` and orders).
    :param secret: your API secret; used only to sign, never logged or shown in ``repr``.
    :param nonce_multiplier: the original library's nonce scale. Nonces are the larger of the time in
        microseconds and the time in seconds times this multiplier, and always increase, so the
        default suits any key; raise it only if another client used this key with larger nonces.
    :param url: endpoint for every connection; defaults to ``$BITFINEX_WS_URL``, else Bitfinex's
        public and authenticated endpoints.
    :param status_callback: receives a :class:`~bitfinex.protocol.status.StatusEvent` for every
        connect, disconnect, reconnect, (re)subscription, auth result, pause, server error and
        order that could not be sent.
    :param reactor: a running or soon-running reactor of your application to use instead of a
        private one in a thread of its own; :meth:`start` then does not run it.
    :param heartbeat_timeout: seconds without any frame after which a connection is declared
        dead and reconnected (a ``ping`` probes it at half that time). ``None`` turns it off.
    :param max_channels_per_connection: public channels per connection (Bitfinex allows 25).
    :param reconnect_base: upper bound of the first reconnect delay in seconds; each further
        attempt doubles it, up to ``reconnect_cap``; delays have random jitter.
    :param reconnect_cap: longest reconnect delay in seconds.
    :param max_retries: how many reconnect attempts in a row may fail before a connection gives
        up (``None``, the default: keep trying). A connection that gave up is reported
        (``gave_up``) and comes back when it is needed again: a new subscription, or
        :meth:`authenticate` called again.
    :param ca_file: a CA certificate (PEM path or bytes) to trust for ``wss://`` instead of the
        system's; certificates and host names are always verified.
    :param slow_callback_threshold: seconds a callback may hold the reactor thread before it is
        reported as slow.
    :param dead_man_switch: have Bitfinex cancel all of the account's orders when the
        authenticated socket closes (auth ``dms: 4``).
    :param sequence_check: turn on SEQ_ALL and check every connection's sequence numbers; a
        gap (a lost frame) is reported and the connection resynced by reconnecting. Callbacks
        see frames without the numbers either way.
    :param record: a file to record every frame the client receives into, one timestamped JSON
        line each (see :mod:`bitfinex.recording`); the local exchange can replay it. ``None``
        (default) records nothing.
    :param account_mirror: keep a mirror of the account (:attr:`account`): open orders,
        wallets, positions, balance and funding, kept from the authenticated channel, and every
        order this client queues followed by its cid to its end (executed, cancelled, rejected,
        not sent, or missing after a reconnect). ``True`` for the defaults, or a
        :class:`~bitfinex.protocol.mirror.MirrorOptions` (how many finished orders to remember);
        ``False`` (default) keeps nothing. Needs ``key`` and ``secret``.
    :param decimals_as_strings: ask Bitfinex for every decimal (price, amount, rate) as a string
        (the ``conf`` flag DEC_S), so no precision is lost to a float: callbacks get frames such
        as ``[CHAN_ID, ["29997", "0.0683", ...]]``. Shapes are still checked and maintained books
        still verify every checksum (on the numbers those strings hold). Default ``False``.
    :raises OSError: if the ``record`` file cannot be opened for writing.
    :raises ValueError: for ``account_mirror`` without a key and secret.

    .. hint::
        Do not store your key or secret in code: read them from the environment,
        ``os.environ.get("BITFINEX_KEY")``.
    """

    def __init__(
        self,
        key: Optional[str] = None,
        secret: Optional[str] = None,
        nonce_multiplier: float = 1.0,
        *,
        url: Optional[str] = None,
        status_callback: Optional[Callable[[st.StatusEvent], Any]] = None,
        reactor: Any = None,
        heartbeat_timeout: Optional[float] = 30.0,
        max_channels_per_connection: int = MAX_CHANNELS_PER_CONNECTION,
        reconnect_base: float = 1.0,
        reconnect_cap: float = 30.0,
        max_retries: Optional[int] = None,
        ca_file: Optional[CaSource] = None,
        slow_callback_threshold: float = 0.25,
        dead_man_switch: bool = False,
        sequence_check: bool = False,
        record: Optional[Union[str, os.PathLike[str]]] = None,
        account_mirror: Union[bool, MirrorOptions] = False,
        decimals_as_strings: bool = False,
    ) -> None:
        if key is not None and not isinstance(key, str):
            raise TypeError(f"key must be a str, not {type(key).__name__}")
        self.key = key
        secret_value = Secret(secret) if secret is not None else None
        nonces = NonceGenerator(nonce_multiplier)
        self._cids: CidGenerator = PROCESS_CIDS
        _check_callback(status_callback, "status_callback", optional=True)
        self.public_url, self.auth_url = _endpoints(url)
        _check_seconds(heartbeat_timeout, "heartbeat_timeout", optional=True)
        _check_count(max_channels_per_connection, "max_channels_per_connection", minimum=1)
        Backoff(reconnect_base, reconnect_cap)  # validates now, in the caller's thread
        _check_count(max_retries, "max_retries", minimum=0, optional=True)
        _check_seconds(slow_callback_threshold, "slow_callback_threshold")
        if not isinstance(decimals_as_strings, bool):
            raise TypeError(f"decimals_as_strings must be a bool, not {type(decimals_as_strings).__name__}")
        if not isinstance(account_mirror, (bool, MirrorOptions)):
            raise TypeError(f"account_mirror must be a bool or MirrorOptions, not {type(account_mirror).__name__}")
        if account_mirror is not False and not (key and secret_value is not None):
            raise ValueError("account_mirror needs the client's key and secret: WssClient(key, secret, account_mirror=True)")
        if ca_file is not None:
            from bitfinex.transport.tls import client_tls

            client_tls("localhost", ca_file)  # a bad CA file fails here, not on the reactor

        recorder = FrameRecorder(record) if record is not None else None
        if reactor is None:
            self._thread: Optional[ReactorThread] = ReactorThread(name="bitfinex-wss")
            self._reactor = self._thread.reactor
        else:
            self._thread = None
            self._reactor = reactor
        self._recorder = recorder
        self._report = st.StatusReporter(status_callback)
        runner = CallbackRunner(self._report, time.perf_counter, slow_callback_threshold)
        self._links = Links(
            self._reactor,
            LinkSettings(self.public_url, self.auth_url, heartbeat_timeout, reconnect_base, reconnect_cap, max_retries, ca_file),
            self._report,
            self._cids.next,
            recorder,
        )
        self._mirror: Optional[AccountMirror] = None
        if account_mirror is not False:
            self._mirror = AccountMirror(
                account_mirror if isinstance(account_mirror, MirrorOptions) else MirrorOptions(),
                runner=runner, clock=self._reactor.seconds, dead_man_switch=dead_man_switch,
            )
        auth = None
        if key and secret_value is not None:
            auth = AuthSettings(
                Credentials(key, secret_value, nonces), _wall_ms, 4 if dead_man_switch else None, observer=self._mirror
            )
        self._session = Session(
            events=self._links,
            report=self._report,
            runner=runner,
            clock=self._reactor.seconds,
            max_channels=max_channels_per_connection,
            flags=(int(ConfFlag.SEQ_ALL) if sequence_check else 0) | (int(ConfFlag.DEC_S) if decimals_as_strings else 0),
            check_sequence=sequence_check,
            decimals_as_strings=decimals_as_strings,
            auth=auth,
        )
        self._lock = threading.Lock()
        self._auth_configured = False
        self._started = False
        self._stopped = False

    def __repr__(self) -> str:
        key = f"{self.key[:4]}…" if self.key else None
        state = "stopped" if self._stopped else "started" if self._started else "not started"
        return f"<WssClient key={key!r} subscriptions={len(self._session.names)} {state}>"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting (non-blocking).

        With a private reactor (the default) the reactor starts in a daemon thread. Subscriptions
        and orders made before ``start()`` go out once their connection is up.

        :raises RuntimeError: if the client was stopped (create a new client instead).
        """
        with self._lock:
            if self._stopped:
                raise RuntimeError("this WssClient was stopped and cannot start again; create a new WssClient")
            if self._started:
                return
            self._started = True
        if self._thread is not None:
            self._thread.start()
        elif getattr(self._reactor, "_startedBefore", False) and not self._reactor.running:
            raise RuntimeError(
                "the reactor passed as reactor= has run and stopped; Twisted reactors cannot be "
                "restarted, so this client would never connect"
            )
        self._reactor.callFromThread(self._links.start)

    def stop(self, timeout: float = 10.0) -> Optional[Deferred[None]]:
        """Close every connection with a normal close and stop the reactor this client started.

        Order inputs still queued (not yet written) are reported as not sent, to the auth
        callback and the status callback; so is any order a call made while ``stop()`` ran
        (every method either hands its work over before the close or raises ``RuntimeError``).
        With the private reactor this returns once its thread has ended, so the process can
        exit on its own. With your own ``reactor=``, it returns a Deferred that fires when every
        connection is closed.

        :param timeout: seconds to wait for the connections to close and the thread to end.
        """
        with self._lock:
            if self._stopped:
                return None
            self._stopped = True
        if self._thread is None:
            done: Deferred[None] = Deferred()
            self._reactor.callFromThread(lambda: self._close_all().chainDeferred(done))
            return done
        if self._thread.in_reactor_thread():
            thread = self._thread  # called from a callback: close, then let the thread end itself
            self._close_all().addBoth(lambda _: thread.stop())
            return None
        self._thread.start()  # never started: run what was queued, so it is reported, not lost
        closed = threading.Event()
        self._reactor.callFromThread(lambda: self._close_all().addBoth(lambda _: closed.set()))
        if not closed.wait(timeout):
            log.warning("connections did not close within %.1f s; stopping anyway", timeout)
        self._thread.stop(timeout)
        return None

    def _close_all(self) -> Deferred[None]:
        self._session.close()

        def finished(_: object) -> None:
            if self._recorder is not None:
                self._recorder.close()
            self._report(st.StatusEvent(st.STOPPED))

        return self._links.close_all().addCallback(finished)

    def _call(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the reactor thread, or raise if the client is stopped.

        From one of the client's callbacks (on its own reactor thread) it runs at once, so an
        order placed in a callback is written before the callback returns; from any other
        thread (or with your ``reactor=``) it is handed over with ``callFromThread``. Whether
        the client is stopped is read under the lock ``stop()`` takes, so a call either goes
        before the close (and what it queued is reported if it cannot be sent) or raises in the
        caller's thread: the close itself runs on the reactor thread, after a call made there.
        """
        with self._lock:
            if self._stopped:
                raise RuntimeError("this WssClient is stopped")
            at_once = self._thread is not None and self._thread.in_reactor_thread()
            if not at_once:
                self._reactor.callFromThread(function, *args)
        if at_once:
            function(*args)

    # -- authentication -------------------------------------------------------------------

    def authenticate(self, callback: Optional[Callback] = None, filters: Optional[Iterable[str]] = None) -> None:
        """Open the authenticated channel, which receives every account message and carries
        every order input. Call it before :meth:`start` (or after; it connects at once then).

        :param callback: receives every message of the authenticated channel: the ``auth``
            event, snapshots and updates (``os``/``on``/``ou``/``oc``, ``ps``/``pn``/..., ``ws``/
            ``wu``, ``te``/``tu``), ``n`` notifications (replies to ``new_order``, ``cancel_order``,
            ...), calc results, ``pong`` replies to ``ping()``, and a ``[0, "n", [..., "ERROR",
            "Not sent: ..."]]`` notification for any order that could not be sent. Optional.
        :param filters: auth channel filters (``"trading"``, ``"wallet"``, ``"funding"``,
            ``"balance"``, ``"notify"``, ``"algo"``, or scoped like ``"trading-tBTCUSD"``);
            ``None`` receives everything.
        :raises ValueError: if the client has no key and secret.

        Calling it again replaces the callback and filters and re-authenticates with a fresh
        nonce (on a new socket: Bitfinex allows one auth per socket).

        Example::

            def handle_account_messages(message):
                print(message)

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate(
                callback=handle_account_messages
            )
            my_client.start()
        """
        if self._session.auth_settings is None:
            raise ValueError("authenticate() needs the client's key and secret: WssClient(key, secret)")
        _check_callback(callback, optional=True)
        filter_list: Optional[list[str]] = None
        if filters is not None:
            if isinstance(filters, str) or not all(isinstance(item, str) for item in filters):
                raise TypeError("filters must be a list of strings such as ['trading', 'wallet']")
            filter_list = list(filters)
        self._call(self._session.authenticate, callback, filter_list)
        with self._lock:
            self._auth_configured = True

    # -- public channels ------------------------------------------------------------------

    def subscribe_to_ticker(self, symbol: str, callback: Callback) -> str:
        """Subscribe to the passed symbol ticks data channel.

        :param symbol: symbol to request data for (``"BTCUSD"`` means ``"tBTCUSD"``).
        :param callback: receives the channel's ``subscribed`` event, its snapshot and every
            update, as Bitfinex sends them (heartbeats are filtered out).
        :returns: the subscription's identifier (``"ticker_tBTCUSD"``).

        Example::

            def my_handler(message):
                # Here you can do stuff with the messages
                print(message)

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate(print)
            my_client.subscribe_to_ticker(
                symbol="BTCUSD",
                callback=my_handler
            )
            my_client.start()
        """
        return self._subscribe(subs.ticker(symbol), callback)

    def subscribe_to_trades(self, symbol: str, callback: Callback) -> str:
        """Subscribe to the passed symbol trades data channel.

        :param symbol: symbol to request data for.
        :param callback: receives the ``subscribed`` event, the snapshot, and ``te``/``tu``
            updates.
        :returns: the subscription's identifier (``"trades_tBTCUSD"``).

        Example::

            def my_handler(message):
                # Here you can do stuff with the messages
                print(message)

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate(print)
            my_client.subscribe_to_trades(
                symbol="BTCUSD",
                callback=my_handler
            )
            my_client.start()
        """
        return self._subscribe(subs.trades(symbol), callback)

    def subscribe_to_orderbook(
        self,
        symbol: str,
        precision: str,
        callback: Callback,
        frequency: str = "F0",
        length: int = 25,
        maintained: bool = False,
    ) -> str:
        """Subscribe to the orderbook of a given symbol.

        :param symbol: symbol to request data for.
        :param precision: ``"R0"`` (raw book), ``"P0"``, ``"P1"``, ``"P2"``, ``"P3"`` or ``"P4"``.
        :param callback: receives the ``subscribed`` event, the snapshot and updates, as
            Bitfinex sends them; with ``maintained=True``, the maintained book instead.
        :param frequency: ``"F0"`` realtime (default) or ``"F1"`` every two seconds.
        :param length: levels per side: 1, 25 (default), 100 or 250.
        :param maintained: keep the book for you: ``callback`` receives a
            :class:`~bitfinex.protocol.book.OrderBook` (``best_bid``, ``best_ask``, ``spread``,
            ``bids(n)``, ``asks(n)``, ``snapshot()``...), updated in place, after its snapshot and
            after every Bitfinex checksum that verified it. A book that fails a checksum is never
            handed over: it is reported (``checksum_mismatch``), dropped, resubscribed and rebuilt
            from the new snapshot.
        :returns: the subscription's identifier (``"book_tBTCUSD_P1_F0_25"``).

        Example::

            def my_handler(message):
                # Here you can do stuff with the messages
                print(message)

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)

            my_client.subscribe_to_orderbook(
                symbol="BTCUSD",
                precision="P1",
                callback=my_handler
            )
            my_client.start()
        """
        if not isinstance(maintained, bool):
            raise TypeError(f"maintained must be a bool, not {type(maintained).__name__}")
        return self._subscribe(subs.book(symbol, precision, frequency, length), callback, maintained)

    def subscribe_to_candles(self, symbol: str, timeframe: str, callback: Callback) -> str:
        """Subscribe to the passed symbol's OHLC data channel.

        :param symbol: symbol to request data for.
        :param timeframe: one of ``1m, 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1D, 7D (= 1W), 1W, 14D, 1M``.
        :param callback: receives the ``subscribed`` event, the snapshot (newest first) and
            updates; each candle is ``[MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]``.
        :returns: the socket identifier (``"candles_tBTCUSD_1m"``).

        Example::

            def my_candle_handler(message):
                # Here you can do stuff with the candle bar messages
                print(message)

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)

            my_client.subscribe_to_candles(
                symbol="BTCUSD",
                timeframe="1m",
                callback=my_candle_handler
            )
            my_client.subscribe_to_candles(
                symbol="ETHUSD",
                timeframe="5m",
                callback=my_candle_handler
            )
            my_client.start()
        """
        return self._subscribe(subs.candles(symbol, timeframe), callback)

    def subscribe_to_status(self, key: str, callback: Callback) -> str:
        """Subscribe to a ``status`` channel: a derivative's state, or every liquidation.

        :param key: ``"deriv:tBTCF0:USTF0"`` (a perpetual contract: derivative price, spot price,
            mark price, insurance fund, next funding event and accrued funding, open interest...)
            or ``"liq:global"`` (every liquidation on the platform).
        :param callback: receives the ``subscribed`` event and every frame as Bitfinex sends it:
            ``[CHAN_ID, [MTS, _, DERIV_PRICE, SPOT_PRICE, ...]]`` for ``deriv:`` keys,
            ``[CHAN_ID, [["pos", POS_ID, MTS, _, SYMBOL, AMOUNT, BASE_PRICE, ...], ...]]`` for
            ``liq:global`` (heartbeats are filtered out).
        :returns: the subscription's identifier (``"status_deriv:tBTCF0:USTF0"``).
        :raises ValueError, TypeError: for a key of another form (a well-formed key the exchange
            does not know is refused by it, reported as ``subscription_failed``).

        Example::

            def my_handler(message):
                print(message)

            my_client = WssClient(key, secret)
            my_client.subscribe_to_status(
                key="deriv:tBTCF0:USTF0",
                callback=my_handler
            )
            my_client.subscribe_to_status(
                key="liq:global",
                callback=my_handler
            )
            my_client.start()
        """
        return self._subscribe(subs.status(key), callback)

    def unsubscribe(self, identifier: str) -> None:
        """End a subscription made by one of the ``subscribe_to_*`` methods.

        :param identifier: what the ``subscribe_to_*`` call returned.
        :raises ValueError: if there is no such subscription.
        """
        if identifier not in self._session.names:
            raise ValueError(f"no subscription {identifier!r}; live: {self.subscriptions}")
        self._call(self._session.unsubscribe, identifier)

    @property
    def subscriptions(self) -> list[str]:
        """Identifiers of the live (or pending) subscriptions."""
        return self._session.names.sorted()

    @property
    def _conns(self) -> dict[str, str]:
        """The original library's way to list ping targets: identifier → connection name (``"auth"`` too)."""
        names = {identifier: "public" for identifier in self._session.names.sorted()}
        with self._lock:
            if self._auth_configured:
                names[AUTH] = AUTH
        return names

    def _subscribe(self, spec: subs.SubscriptionSpec, callback: Callback, maintained: bool = False) -> str:
        _check_callback(callback)
        names = self._session.names
        if not names.claim(spec.identifier):
            raise ValueError(f"already subscribed as {spec.identifier!r}; unsubscribe it first")
        try:
            self._call(self._session.subscribe_book if maintained else self._session.subscribe, spec, callback)
        except RuntimeError:
            names.release(spec.identifier)
            raise
        return spec.identifier

    # -- the account mirror ---------------------------------------------------------------

    @property
    def account(self) -> AccountMirror:
        """The account mirror (``WssClient(..., account_mirror=True)``): the account and every
        order this client queues, readable from any thread (see :doc:`/guides/orders`).

        - ``account.snapshot()``: an immutable :class:`~bitfinex.protocol.mirror.AccountSnapshot`
          of the account between two messages: ``orders`` (open, by id), ``order_by_cid()``,
          ``wallets`` (by ``(type, currency)``), ``positions``, ``balance``, funding
          ``funding_offers``/``funding_credits``/``funding_loans``, and ``synced`` (the
          snapshots after the latest authentication have arrived);
        - ``account.order(cid)``: the :class:`~bitfinex.protocol.orderstate.TrackedOrder` of an
          order this client queued: its :class:`~bitfinex.protocol.orderstate.OrderState`
          (queued, written, accepted, active, partially filled, in doubt; executed, cancelled,
          rejected, not sent, missing), Bitfinex's order array, its fills;
        - ``account.wait_for(cid, OrderState.ACTIVE, timeout=10)``: block until the order got
          there (or finished);
        - ``account.listen(callback)``: ``callback`` gets a
          :class:`~bitfinex.protocol.orderstate.Transition` on the reactor thread at every change
          of state and every fill.

        :raises RuntimeError: if the client was made without ``account_mirror``.

        Example::

            from bitfinex.protocol.orderstate import OrderState

            my_client = WssClient(key, secret, account_mirror=True)
            my_client.authenticate()
            my_client.start()

            cid = my_client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
            order = my_client.account.wait_for(cid, OrderState.ACTIVE, timeout=10)
            print(order.state, order.order_id)  # OrderState.ACTIVE and Bitfinex's id
            print(my_client.account.snapshot().wallet("exchange", "USD").balance)
        """
        if self._mirror is None:
            raise RuntimeError("this client keeps no account mirror: WssClient(key, secret, account_mirror=True)")
        return self._mirror

    # -- ping -----------------------------------------------------------------------------

    def ping(self, channel: str = "auth") -> int:
        """Ping Bitfinex on one connection; the ``pong`` event goes to that channel's callback.

        :param channel: ``"auth"`` (default) for the authenticated connection (the pong goes to
            the auth callback), or a subscription identifier for the connection carrying it (the
            pong goes to that subscription's callback; for a maintained book, the book callback
            gets the ``pong`` event).
        :returns: the ping's cid, echoed in the ``pong``.
        :raises ValueError: for an unknown channel.
        """
        with self._lock:
            known = channel == AUTH and self._auth_configured
        if not known and channel not in self._session.names:
            raise ValueError(f"ping(channel={channel!r}): no such channel; use 'auth' or one of {self.subscriptions}")
        cid = self._cids.next()
        self._call(self._session.ping, channel, cid)
        return cid

    # -- orders ---------------------------------------------------------------------------

    def new_order_op(
        self,
        order_type: str,
        symbol: str,
        amount: DecimalLike,
        price: Optional[DecimalLike],
        price_trailing: Optional[DecimalLike] = None,
        price_aux_limit: Optional[DecimalLike] = None,
        price_oco_stop: Optional[DecimalLike] = None,
        hidden: Union[bool, int] = 0,
        flags: Optional[Iterable[int]] = None,
        tif: Union[str, datetime.datetime, None] = None,
        set_cid: bool = True,
        *,
        lev: Optional[int] = None,
        gid: Optional[int] = None,
        meta: Optional[Mapping[str, Any]] = None,
    ) -> dict[str, Any]:
        """Create a new order operation (for :meth:`multi_order`), validated, without sending it.

        :param order_type: ``"LIMIT"``, ``"MARKET"``, ``"STOP"``, ``"STOP LIMIT"``,
            ``"TRAILING STOP"``, ``"FOK"``, ``"IOC"``, or any of them with ``"EXCHANGE "`` in
            front (exchange wallet; without it, the margin wallet and positions).
        :param symbol: the pair to trade, e.g. ``"BTCUSD"``.
        :param amount: decimal string, int, float or Decimal; positive buys, negative sells.
        :param price: the limit/stop price; may be ``None`` for MARKET orders.
        :param price_trailing: the trailing distance (TRAILING STOP).
        :param price_aux_limit: the limit price of a STOP LIMIT.
        :param price_oco_stop: the OCO stop price (sets the OCO flag).
        :param hidden: true makes the order hidden (the HIDDEN flag, 64).
        :param flags: order flags (e.g. ``[4096]`` for post-only), combined.
        :param tif: time in force: a UTC datetime or ``"YYYY-MM-DD HH:MM:SS"``.
        :param set_cid: give the order a cid (a unique millisecond timestamp).
        :param lev: leverage of a derivative order (``tBTCF0:USTF0``), 1 to 100; Bitfinex uses 10
            when it is not given. Refused on spot pairs and ``EXCHANGE`` orders.
        :param gid: a group id (an int32) the order belongs to: ``cancel_order_multi(gids=[...])``
            cancels a whole group.
        :param meta: extra fields Bitfinex keeps with the order, e.g. ``{"aff_code": "..."}``
            (a dict JSON can carry).
        :returns: the ``on`` payload: ``{"cid": ..., "type": ..., "symbol": ..., "amount": ...,
            "price": ..., ...}`` with amounts and prices as decimal strings.
        :raises ValueError, TypeError: for invalid input, naming the argument.

        Example::

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate()
            my_client.start()

            order_operation = my_client.new_order_op(
                order_type="LIMIT",
                symbol="BTCUSD",
                amount=0.004,
                price=1000.0
            )

            # Usefull to keep track of an order by its client id, for later
            # operations (like cancel order).
            clinet_id = order_operation["cid"]

            my_client.multi_order(
                operations=[order_operation]
            )
        """
        if not isinstance(set_cid, bool):
            raise TypeError(f"set_cid must be a bool, not {type(set_cid).__name__}")
        payload = orders.new_order_payload(
            order_type, symbol, amount, price, price_trailing, price_aux_limit, price_oco_stop,
            hidden, flags, tif, gid=gid, lev=lev, meta=meta,
        )
        if set_cid:
            return {"cid": self._cids.next(), **payload}
        return payload

    @overload
    def new_order(
        self,
        order_type: str,
        symbol: str,
        amount: DecimalLike,
        price: Optional[DecimalLike],
        price_trailing: Optional[DecimalLike] = None,
        price_aux_limit: Optional[DecimalLike] = None,
        price_oco_stop: Optional[DecimalLike] = None,
        hidden: Union[bool, int] = 0,
        flags: Optional[Iterable[int]] = None,
        tif: Union[str, datetime.datetime, None] = None,
        set_cid: Literal[True] = True,
        *,
        lev: Optional[int] = None,
        gid: Optional[int] = None,
        meta: Optional[Mapping[str, Any]] = None,
    ) -> int: ...

    @overload
    def new_order(
        self,
        order_type: str,
        symbol: str,
        amount: DecimalLike,
        price: Optional[DecimalLike],
        price_trailing: Optional[DecimalLike] = None,
        price_aux_limit: Optional[DecimalLike] = None,
        price_oco_stop: Optional[DecimalLike] = None,
        hidden: Union[bool, int] = 0,
        flags: Optional[Iterable[int]] = None,
        tif: Union[str, datetime.datetime, None] = None,
        set_cid: bool = True,
        *,
        lev: Optional[int] = None,
        gid: Optional[int] = None,
        meta: Optional[Mapping[str, Any]] = None,
    ) -> Optional[int]: ...

    def new_order(
        self,
        order_type: str,
        symbol: str,
        amount: DecimalLike,
        price: Optional[DecimalLike],
        price_trailing: Optional[DecimalLike] = None,
        price_aux_limit: Optional[DecimalLike] = None,
        price_oco_stop: Optional[DecimalLike] = None,
        hidden: Union[bool, int] = 0,
        flags: Optional[Iterable[int]] = None,
        tif: Union[str, datetime.datetime, None] = None,
        set_cid: bool = True,
        *,
        lev: Optional[int] = None,
        gid: Optional[int] = None,
        meta: Optional[Mapping[str, Any]] = None,
    ) -> Optional[int]:
        """Create a new order: sends ``[0, "on", null, {...}]`` on the authenticated channel.

        Takes the arguments of :meth:`new_order_op` (``lev``, ``gid`` and ``meta`` too). The
        order is queued until the channel is
        authenticated (so it may be called right after :meth:`start`) and written exactly once.
        The reply comes to the auth callback: an ``on-req`` notification, then ``on``/``oc``/
        ``te`` messages.

        :returns: the order's cid (a millisecond timestamp of its creation), or ``None`` if
            ``set_cid`` is false.
        :raises ValueError, TypeError: for invalid input, before anything is sent.
        :raises RuntimeError: if :meth:`authenticate` was not called.

        Example::

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate()
            my_client.start()

            order_client_id = my_client.new_order(
                order_type="LIMIT",
                symbol="BTCUSD",
                amount=0.004,
                price=1000.0
            )
        """
        payload = self.new_order_op(
            order_type, symbol, amount, price, price_trailing, price_aux_limit, price_oco_stop,
            hidden, flags, tif, set_cid, lev=lev, gid=gid, meta=meta,
        )
        cid = payload.get("cid")
        self._submit(PendingInput("on", orders.order_input("on", payload), (cid,) if cid is not None else ()))
        return cid

    def multi_order(self, operations: Iterable[Any]) -> list[Optional[int]]:
        """Send several order operations at once (``ox_multi``).

        :param operations: a list of: dicts from :meth:`new_order_op` (new orders);
            ``{"id": ID}`` or ``{"cid": CID, "cid_date": "YYYY-MM-DD"}`` (cancels);
            ``{"id": ID, "price": ..., ...}`` (updates); ``{"id": [...]}``, ``{"cid": [[CID,
            DATE], ...]}``, ``{"gid": [...]}`` or ``{"all": 1}`` (multi-cancels); or explicit
            ``("on" | "oc" | "oc_multi" | "ou", {...})`` pairs. More than 75 operations are sent
            as several ``ox_multi`` messages of at most 75, in order.
        :returns: the cid of each operation, in the order given (``None`` for operations
            without one).
        :raises ValueError, TypeError: for an invalid operation (nothing is sent).
        :raises RuntimeError: if :meth:`authenticate` was not called.

        Example::

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            from bitfinex import utils
            my_client = WssClient(key, secret)
            my_client.authenticate()
            my_client.start()

            example_order_cid_to_cancel = 153925861909296

            # docs: http://bit.ly/2BVqwW6
            cancel_order_operation = {
                'cid': example_order_cid_to_cancel,
                'cid_date': utils.cid_to_date(example_order_cid_to_cancel)
            }

            new_order_operation = my_client.new_order_op(
                order_type="LIMIT",
                symbol="BTCUSD",
                amount="0.004",
                price="1000.0"
            )

            order_client_id = my_client.multi_order([
                cancel_order_operation,
                new_order_operation
            ])
        """
        if isinstance(operations, (str, bytes, dict)) or not isinstance(operations, Iterable):
            raise TypeError("operations must be a list of order operations")
        checked = [orders.classify_operation(operation) for operation in operations]
        messages = orders.multi_messages(checked)
        cids = [payload.get("cid") if not isinstance(payload.get("cid"), list) else None for _, payload in checked]
        self._require_auth()
        offset = 0
        for message in messages:
            count = len(message[3])
            chunk_cids = tuple(cid for cid in cids[offset:offset + count] if cid is not None)
            offset += count
            self._submit(PendingInput("ox_multi", message, chunk_cids))
        return cids

    def cancel_order(
        self, order_id: Optional[int] = None, order_cid: Optional[int] = None, order_date: Optional[str] = None
    ) -> None:
        """Cancel an order by its Bitfinex id, or by its cid and the UTC date of the cid.

        :param order_id: the order id Bitfinex gave the order.
        :param order_cid: the order's cid (the original library's other spelling; needs ``order_date``).
        :param order_date: the cid's UTC date, ``"YYYY-MM-DD"`` (see :func:`bitfinex.utils.cid_to_date`).
        :raises ValueError: unless exactly one of the two ways is given.

        Example::

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate()
            my_client.start()

            my_client.cancel_order(
                order_id=1234
            )
        """
        payload = orders.cancel_payload(order_id, order_cid, order_date)
        self._submit(PendingInput("oc", orders.order_input("oc", payload), (payload["cid"],) if "cid" in payload else ()))

    def cancel_order_cid(self, order_cid: int, order_date: str) -> None:
        """Cancel an order using its client id and the UTC date of the cid.

        :param order_cid: the cid returned by :meth:`new_order` (an int or digit string).
        :param order_date: ISO date of the cid, e.g. ``"2012-01-23"``.

        Example::

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate()
            my_client.start()

            # A cid made by this library is a millisecond timestamp: cid_to_date gives
            # its UTC date, as datetime.fromtimestamp(cid / 1000, tz=timezone.utc) would.
            from bitfinex.utils import cid_to_date

            my_client.cancel_order_cid(1538911910035, cid_to_date(1538911910035))
        """
        self.cancel_order(order_cid=order_cid, order_date=order_date)

    def cancel_order_multi(
        self,
        ids: Optional[Iterable[int]] = None,
        cids: Optional[Iterable[Union[int, tuple[int, str]]]] = None,
        gids: Optional[Iterable[int]] = None,
        all: bool = False,
    ) -> None:
        """Cancel several orders at once (``oc_multi``): by Bitfinex id, by cid, by group id, or all.

        Queued until the channel is authenticated and written once, like every order input; the
        reply is an ``oc_multi-req`` notification, then an ``oc`` per cancelled order.

        :param ids: Bitfinex order ids.
        :param cids: cids this library made (their UTC date is read from them), or
            ``(cid, "YYYY-MM-DD")`` pairs.
        :param gids: group ids (``new_order(..., gid=...)``).
        :param all: cancel every open order of the account, derivatives included; not combined
            with the others.
        :raises ValueError, TypeError: for no selection, ``all`` with another, or a bad item.
        :raises RuntimeError: if :meth:`authenticate` was not called.

        Example::

            my_client = WssClient(key, secret)
            my_client.authenticate()
            my_client.start()

            first = my_client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.001", "1000", gid=7)
            second = my_client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.001", "1001", gid=7)
            my_client.cancel_order_multi(gids=[7])
        """
        payload = orders.cancel_multi_payload(ids, cids, gids, all)
        cids_sent = tuple(pair[0] for pair in payload.get("cid", ()))
        self._submit(PendingInput("oc_multi", orders.order_input("oc_multi", payload), cids_sent))

    def cancel_all_orders(self) -> None:
        """Cancel every open order of the account, derivatives included (``oc_multi`` with
        ``{"all": 1}``).

        :raises RuntimeError: if :meth:`authenticate` was not called.

        Example::

            my_client = WssClient(key, secret)
            my_client.authenticate()
            my_client.start()

            my_client.cancel_all_orders()
        """
        self.cancel_order_multi(all=True)

    # -- funding --------------------------------------------------------------------------

    def new_funding_offer(
        self,
        offer_type: str,
        symbol: str,
        amount: DecimalLike,
        rate: DecimalLike,
        period: int,
        flags: Optional[Iterable[int]] = None,
    ) -> None:
        """Offer to lend (positive ``amount``) or borrow (negative) a currency: sends
        ``[0, "fon", null, {...}]`` on the authenticated channel.

        Queued until the channel is authenticated and written once, like orders. The reply comes
        to the auth callback: a ``fon-req`` notification (its info is the offer array; the offer
        id is at index 0), then ``fon``/``fou``/``foc`` as the offer lives, and ``fcn``/``fln``
        when it is taken (a credit you lend, a loan you borrow).

        :param offer_type: ``"LIMIT"`` (a fixed daily rate), ``"FRRDELTAVAR"`` (an offset from
            the Flash Return Rate that follows it; rate 0 places an FRR offer) or
            ``"FRRDELTAFIX"`` (an offset fixed when the offer is taken).
        :param symbol: the funding currency, ``"fUSD"`` (``"USD"`` means the same).
        :param amount: decimal string, int, float or Decimal; positive lends, negative borrows.
        :param rate: the daily rate as a fraction (``"0.0002"`` is 0.02 % a day) for LIMIT, above
            0; for FRRDELTAVAR an offset of 0 or more; for FRRDELTAFIX an offset of either sign.
        :param period: days, 2 to 120.
        :param flags: offer flags; only HIDDEN (``[64]``).
        :raises ValueError, TypeError: for invalid input, before anything is sent.
        :raises RuntimeError: if :meth:`authenticate` was not called.

        Example::

            my_client = WssClient(key, secret)
            my_client.authenticate(print)
            my_client.start()

            my_client.new_funding_offer(
                offer_type="LIMIT",
                symbol="fUSD",
                amount="100",
                rate="0.0002",
                period=2
            )
        """
        payload = funding.funding_offer_payload(offer_type, symbol, amount, rate, period, flags)
        self._submit(PendingInput("fon", orders.order_input("fon", payload)))

    def cancel_funding_offer(self, offer_id: int) -> None:
        """Cancel a funding offer by its id (``foc``); the reply is a ``foc-req`` notification,
        then ``foc``.

        :param offer_id: the offer's id (index 0 of its ``fon`` array).
        :raises ValueError, TypeError: for an invalid id.
        :raises RuntimeError: if :meth:`authenticate` was not called.

        Example::

            my_client = WssClient(key, secret)
            my_client.authenticate(print)
            my_client.start()

            my_client.cancel_funding_offer(offer_id=41238934)
        """
        payload = funding.cancel_offer_payload(offer_id)
        self._submit(PendingInput("foc", orders.order_input("foc", payload)))

    def update_order(self, **order_settings: Any) -> None:
        """Update an order using its id (``ou``).

        :param order_settings: ``id`` (required), and any of ``gid``, ``cid``, ``cid_date``,
            ``price``, ``amount``, ``delta`` (change of amount), ``price_aux_limit``,
            ``price_trailing``, ``flags``, ``lev``, ``tif``, ``meta``.
        :raises TypeError: for a field ``ou`` does not have.
        :raises ValueError: without ``id`` or for a bad value.

        Example::

            my_client.update_order(id=1234, price="1010.5", amount="0.01")
        """
        payload = orders.update_payload(order_settings)
        self._submit(PendingInput("ou", orders.order_input("ou", payload)))

    def calc(self, *calculations: Any) -> None:
        """Ask the server to calculate account values; results come to the auth callback
        (``miu``, ``fiu``, ``pu``, ``wu``, ``bu``).

        :param calculations: names, or lists of names: ``margin_base``,
            ``margin_sym_SYMBOL``, ``funding_sym_SYMBOL``, ``position_SYMBOL``,
            ``wallet_TYPE_CURRENCY``, ``balance``; at most 30 per call. They are sent at most
            8 per second, the server's limit, so bursts do not get the client disconnected.
        :raises ValueError: for an unknown name or more than 30.

        Examples::

            # You should only need to create and authenticate a client once.
            # Then simply reuse it later
            my_client = WssClient(key, secret)
            my_client.authenticate(print)
            my_client.start()

            my_client.calc(["margin_sym_tBTCUSD", "funding_sym_fUSD"])
            my_client.calc(["margin_sym_tBTCUSD"])
            my_client.calc(["position_tBTCUSD"])
            my_client.calc(["wallet_exachange_USD"])
        """
        names = orders.calc_requests(calculations)
        self._require_auth()
        self._call(self._session.submit_calc, names)

    def _require_auth(self) -> None:
        with self._lock:
            configured = self._auth_configured
        if not configured:
            raise RuntimeError("orders go over the authenticated channel: call authenticate() first")

    def _submit(self, pending: PendingInput) -> None:
        self._require_auth()
        self._call(self._session.submit, pending)


def _endpoints(url: Optional[str]) -> tuple[str, str]:
    """The public and authenticated endpoints: ``url``, else ``$BITFINEX_WS_URL``, else Bitfinex's.

    :raises TypeError, ValueError: for a ``url`` (or environment variable) that is not a
        ``ws://`` or ``wss://`` URL with a host, naming where it came from.
    """
    if url is not None and not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    if url:
        parse_url(url, "url")
        return url, url
    override = os.environ.get(URL_ENVIRONMENT_VARIABLE)
    if override:
        parse_url(override, f"${URL_ENVIRONMENT_VARIABLE}")
        return override, override
    return PUBLIC_URL, AUTH_URL
