"""All of one client's connections: which channel lives where, books, pings, orders.

A :class:`Session` is what the facade hands every call to, on the reactor thread. It spreads
public channels over :class:`~bitfinex.protocol.connection.PublicConnection`\\ s, each carrying
at most ``max_channels`` (Bitfinex's cap is 25 per connection); a new connection is made only
when every existing one is full, and a connection left empty is closed. The authenticated
connection is kept apart. The session builds each channel's frame route (shape check, then the
user's callback or a maintained book), moves a channel the server refuses for lack of room,
rebuilds a book that fails its checksum, routes pings and order inputs. It tells the transport
which connections to open, close, revive or restart through the :class:`SessionEvents` it was
built with.

The one part used from other threads is :attr:`Session.names`, the identifiers of the
subscriptions, which the facade claims in the caller's thread so that a duplicate is refused
there, before anything is handed over.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any, Optional, Protocol

from bitfinex.protocol import status as st
from bitfinex.protocol import subscriptions as subs
from bitfinex.protocol.account import AUTH, AccountObserver, AuthConnection, Credentials
from bitfinex.protocol.book import OrderBook
from bitfinex.protocol.bookfeed import BookFeed, FeedResult
from bitfinex.protocol.callbacks import Callback, CallbackRunner
from bitfinex.protocol.connection import ConnectionCore, PublicConnection
from bitfinex.protocol.constants import ConfFlag, ErrorCode
from bitfinex.protocol.decimals import as_numbers
from bitfinex.protocol.pipeline import OrderPipeline, PendingInput
from bitfinex.protocol.registry import Channel
from bitfinex.protocol.routes import book_route, channel_route
from bitfinex.protocol.sequence import SequenceChecker
from bitfinex.protocol.shapes import Validator, validator_for

log = logging.getLogger("bitfinex.session")


class SessionEvents(Protocol):
    """What the session asks of the transport that keeps its connections' sockets."""

    def connection_added(self, connection: ConnectionCore) -> None:
        """A new connection: open its socket (once the client runs)."""

    def connection_unused(self, connection: ConnectionCore) -> None:
        """Nothing lives on ``connection`` any more: close it for good."""

    def connection_wanted(self, connection: ConnectionCore) -> None:
        """``connection`` is needed again: if it gave up retrying, try again now."""

    def connection_restart(self, connection: ConnectionCore, reason: str) -> None:
        """Drop ``connection``'s socket (if any) and connect again (new auth settings)."""


class SubscriptionNames:
    """The identifiers of a session's subscriptions, safe to use from any thread.

    The facade claims an identifier in the caller's thread before handing the subscription
    over; the session releases it when the subscription ends.
    """

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, identifier: str) -> bool:
        """Take ``identifier``; False if it is taken already."""
        with self._lock:
            if identifier in self._names:
                return False
            self._names.add(identifier)
            return True

    def release(self, identifier: str) -> None:
        """Free ``identifier`` (the subscription ended, or was never handed over)."""
        with self._lock:
            self._names.discard(identifier)

    def __contains__(self, identifier: object) -> bool:
        with self._lock:
            return identifier in self._names

    def __len__(self) -> int:
        with self._lock:
            return len(self._names)

    def sorted(self) -> list[str]:
        """The identifiers, sorted."""
        with self._lock:
            return sorted(self._names)


@dataclasses.dataclass(frozen=True)
class AuthSettings:
    """How the authenticated connection signs and behaves.

    :param credentials: key, secret and nonces.
    :param wall_ms: wall clock in milliseconds, for the not-sent notifications.
    :param dms: ``4`` for Bitfinex's dead man's switch, ``None`` for none.
    :param observer: told of every input's fate and every account message (an account
        mirror); ``None`` for none.
    """

    credentials: Credentials
    wall_ms: Callable[[], int]
    dms: Optional[int] = None
    observer: Optional[AccountObserver] = None


class Session:
    """The connections of one client and the channels on them (reactor thread, but :attr:`names`).

    :param events: the transport's side: opens, closes, revives and restarts connections.
    :param report: where status events go.
    :param runner: runs user callbacks.
    :param clock: the shell's clock in seconds (the reactor's): request times, the calc throttle.
    :param max_channels: channels per public connection.
    :param flags: ``conf`` flags every connection starts with.
    :param check_sequence: check ``SEQ_ALL`` numbers on every connection (``flags`` should
        then include SEQ_ALL).
    :param auth: how to authenticate; ``None`` for a client without keys.
    :param decoder: the name of every connection's JSON decoder (``"orjson"`` or ``"json"``;
        the best installed one when ``None``).
    :param decimals_as_strings: the connections ask for decimals as strings (DEC_S, which
        ``flags`` must then include): shapes are checked, and books kept, on the frames' numbers
        read from those strings (:mod:`bitfinex.protocol.decimals`); callbacks get the strings.
    """

    def __init__(
        self,
        *,
        events: SessionEvents,
        report: st.StatusSink,
        runner: CallbackRunner,
        clock: Callable[[], float],
        max_channels: int,
        flags: int = 0,
        check_sequence: bool = False,
        auth: Optional[AuthSettings] = None,
        decoder: Optional[str] = None,
        decimals_as_strings: bool = False,
    ) -> None:
        self.events = events
        self.decimals_as_strings = decimals_as_strings
        self.report = report
        self.runner = runner
        self.clock = clock
        self.max_channels = max_channels
        self.flags = flags
        self.check_sequence = check_sequence
        self.auth_settings = auth
        self.decoder = decoder
        self.names = SubscriptionNames()
        """The subscriptions' identifiers (thread-safe)."""
        self.pipeline = OrderPipeline(clock)
        """The authenticated connection's outbox."""
        self.auth: Optional[AuthConnection] = None
        self.public: list[PublicConnection] = []
        self.location: dict[str, ConnectionCore] = {}
        """Subscription identifier → the connection carrying it."""
        self._serial = 0

    # -- subscriptions --------------------------------------------------------------------

    def subscribe(self, spec: subs.SubscriptionSpec, callback: Callback) -> None:
        """Subscribe ``spec``: ``callback`` gets its events and every frame whose shape is right."""
        route = channel_route(self._validator(spec), self.runner, callback, spec.identifier)
        self._place(Channel(spec, callback, route))

    def _validator(self, spec: subs.SubscriptionSpec) -> Validator:
        validate = validator_for(spec)
        if not self.decimals_as_strings:
            return validate

        def validate_numbers(msg: list[Any]) -> bool:
            return validate(as_numbers(msg))

        return validate_numbers

    def subscribe_book(self, spec: subs.SubscriptionSpec, callback: Callback) -> None:
        """Subscribe a maintained book: ``callback`` gets the :class:`~bitfinex.protocol.book.OrderBook`
        after each snapshot and each verified checksum; a book that fails one is reported
        (``checksum_mismatch``), resubscribed and rebuilt, never handed over."""
        feed = BookFeed(OrderBook.create(spec.param("symbol"), spec.param("prec"), spec.param("len")))
        identifier = spec.identifier

        def broken(result: FeedResult) -> None:
            self._rebuild_book(identifier, result)

        prepare = as_numbers if self.decimals_as_strings else None
        route = book_route(validator_for(spec), feed, self.runner, callback, identifier, broken, prepare)
        self._place(
            Channel(spec, callback, route, conf_flags=int(ConfFlag.OB_CHECKSUM), on_activate=feed.reset,
                    events_to_callback=False)
        )

    def unsubscribe(self, identifier: str) -> None:
        """End a subscription (nothing happens for an identifier already gone)."""
        connection = self.location.get(identifier)
        if connection is not None:
            connection.end_channel(identifier)

    def _place(self, channel: Channel) -> None:
        connection = self._connection_with_room()
        self.location[channel.identifier] = connection
        connection.set_flags(connection.flags | channel.conf_flags)
        connection.add_channel(channel)
        self.events.connection_wanted(connection)

    def _connection_with_room(self) -> PublicConnection:
        for connection in self.public:
            if connection.has_room:
                return connection
        self._serial += 1
        connection = PublicConnection(
            f"public-{self._serial}", capacity=self.max_channels, **self._core_settings()
        )
        self.public.append(connection)
        self.events.connection_added(connection)
        return connection

    def _core_settings(self) -> dict[str, Any]:
        return {
            "events": self, "report": self.report, "runner": self.runner, "clock": self.clock,
            "flags": self.flags, "sequence": SequenceChecker() if self.check_sequence else None,
            "decoder": self.decoder,
        }

    def _rebuild_book(self, identifier: str, result: FeedResult) -> None:
        connection = self.location.get(identifier)
        channel = connection.registry.get(identifier) if connection is not None else None
        if connection is None or channel is None:
            return
        self.report(
            st.StatusEvent(
                st.CHECKSUM_MISMATCH, connection.name,
                result.reason or f"book checksum {result.computed_checksum} != exchange's {result.expected_checksum}",
                subscription=identifier,
                data={"expected": result.expected_checksum, "computed": result.computed_checksum},
            )
        )
        connection.rebuild(channel)

    # -- ChannelEvents: what the connections tell the session -----------------------------

    def channel_ended(self, connection: ConnectionCore, channel: Channel) -> None:
        """``channel`` left ``connection`` for good: free its identifier; close an empty connection."""
        if self.location.get(channel.identifier) is connection:
            del self.location[channel.identifier]
            self.names.release(channel.identifier)
        if isinstance(connection, PublicConnection) and not len(connection.registry):
            self.public.remove(connection)
            self.events.connection_unused(connection)

    def channel_refused(self, connection: ConnectionCore, channel: Channel, event: dict[str, Any]) -> None:
        """The server refused ``channel``: move it if the connection is full (10305), else report it."""
        code = event.get("code")
        if code == ErrorCode.CHANNEL_LIMIT and isinstance(connection, PublicConnection):
            connection.capacity = max(1, len(connection.registry))
            log.warning(
                "%s: server caps channels at %d per connection; moving %s",
                connection.name, connection.capacity, channel.identifier,
            )
            self.location.pop(channel.identifier, None)
            self._place(dataclasses.replace(channel))
            self.channel_ended(connection, channel)
            return
        self.report(
            st.StatusEvent(
                st.SUBSCRIPTION_FAILED, connection.name, str(event.get("msg", "")),
                code if type(code) is int else None, subscription=channel.identifier, data=event,
            )
        )
        self.runner.run(channel.event_callback, event, channel.identifier)
        self.channel_ended(connection, channel)

    # -- the authenticated connection -----------------------------------------------------

    def authenticate(self, callback: Optional[Callback], filters: Optional[list[str]]) -> None:
        """Open the authenticated connection, or re-authenticate it with a new callback and
        filters (on a new socket: Bitfinex allows one auth per socket).

        :raises RuntimeError: if the session has no :class:`AuthSettings`.
        """
        if self.auth_settings is None:
            raise RuntimeError("authenticate() needs the client's key and secret")
        if self.auth is not None:
            self.auth.reset(callback, filters)
            self.events.connection_restart(self.auth, "authenticate() called again")
            return
        settings = self.auth_settings
        self.auth = AuthConnection(
            credentials=settings.credentials, filters=filters, callback=callback, pipeline=self.pipeline,
            wall_ms=settings.wall_ms, dms=settings.dms, observer=settings.observer, **self._core_settings(),
        )
        self.events.connection_added(self.auth)

    def submit(self, pending: PendingInput) -> None:
        """Queue an order input on the authenticated connection (sent once it is authenticated)."""
        self._auth_connection().submit(pending)

    def submit_calc(self, names: list[str]) -> None:
        """Queue ``calc`` requests (sent at most 8 per second)."""
        self._auth_connection().submit_calc(names)

    def _auth_connection(self) -> AuthConnection:
        if self.auth is None:  # the facade checks authenticate() was called before any order
            raise RuntimeError("order submitted before authenticate()")
        return self.auth

    # -- pings and shutdown ---------------------------------------------------------------

    def ping(self, target: str, cid: int) -> None:
        """Ping the connection of ``target`` (:data:`~bitfinex.protocol.account.AUTH` or a
        subscription identifier); the pong goes to that channel's callback (for the
        authenticated connection, the auth callback). Sent once the socket is open."""
        if target == AUTH:
            if self.auth is not None:
                self.auth.ping(cid, self.auth.callback, wait_for_open=True)
            return
        connection = self.location.get(target)
        channel = connection.registry.get(target) if connection is not None else None
        if connection is not None and channel is not None:
            connection.ping(cid, channel.callback, wait_for_open=True)

    def close(self) -> None:
        """The client stops: report every order input still queued as not sent."""
        if self.auth is not None:
            self.auth.fail_queued("client stopped")
