"""The links of one client: a :class:`~bitfinex.transport.link.Link` for each connection the
session makes, started with the client, revived, restarted and closed as the session asks.

:class:`Links` is the transport's side of :class:`~bitfinex.protocol.session.SessionEvents`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Optional

from twisted.internet.defer import Deferred, DeferredList

from bitfinex.protocol import status as st
from bitfinex.protocol.account import AUTH
from bitfinex.protocol.connection import ConnectionCore
from bitfinex.protocol.constants import AUTH_CONNECTIONS_PER_15_SECONDS, PUBLIC_CONNECTIONS_PER_MINUTE
from bitfinex.protocol.pacing import Backoff, RateLimiter
from bitfinex.recording import FrameRecorder
from bitfinex.transport.link import Link
from bitfinex.transport.tls import CaSource


@dataclasses.dataclass(frozen=True)
class LinkSettings:
    """How every link of a client connects.

    :param public_url: the endpoint of public connections.
    :param auth_url: the endpoint of the authenticated connection.
    :param heartbeat_timeout: seconds of silence before a connection is dead (``None``: no watchdog).
    :param reconnect_base: upper bound of the first reconnect delay, seconds.
    :param reconnect_cap: longest reconnect delay, seconds.
    :param max_retries: failed attempts in a row before a link gives up (``None``: never).
    :param ca: a CA to trust for ``wss://`` instead of the system's.
    """

    public_url: str
    auth_url: str
    heartbeat_timeout: Optional[float]
    reconnect_base: float
    reconnect_cap: float
    max_retries: Optional[int]
    ca: Optional[CaSource] = None


class Links:
    """The links of one client's connections (reactor thread).

    :param reactor: the reactor every link runs on (its ``seconds()`` is the clock).
    :param settings: how links connect.
    :param report: where status events go.
    :param next_cid: ping cids for the watchdogs' probes.
    :param recorder: records every frame received, if given.
    """

    def __init__(
        self,
        reactor: Any,
        settings: LinkSettings,
        report: st.StatusSink,
        next_cid: Callable[[], int],
        recorder: Optional[FrameRecorder] = None,
    ) -> None:
        self.reactor = reactor
        self.settings = settings
        self.report = report
        self.next_cid = next_cid
        self.recorder = recorder
        self.links: dict[ConnectionCore, Link] = {}
        self.started = False
        self._public_limiter = RateLimiter(PUBLIC_CONNECTIONS_PER_MINUTE, 60.0)
        self._auth_limiter = RateLimiter(AUTH_CONNECTIONS_PER_15_SECONDS, 15.0)

    def start(self) -> None:
        """Start every link (and the ones made from now on)."""
        self.started = True
        for link in list(self.links.values()):
            link.start()

    def close_all(self) -> Deferred[Any]:
        """Close every link; the Deferred fires once all sockets are gone."""
        closing = [link.close() for link in self.links.values()]
        self.links.clear()
        return DeferredList(closing, consumeErrors=True)

    # -- SessionEvents --------------------------------------------------------------------

    def connection_added(self, connection: ConnectionCore) -> None:
        """Make the connection's link (started at once if the client runs)."""
        settings = self.settings
        is_auth = connection.name == AUTH
        recorder = self.recorder
        link = Link(
            connection,
            settings.auth_url if is_auth else settings.public_url,
            self.reactor,
            self.report,
            Backoff(settings.reconnect_base, settings.reconnect_cap),
            self._auth_limiter if is_auth else self._public_limiter,
            settings.heartbeat_timeout,
            self.next_cid,
            ca=settings.ca,
            max_retries=settings.max_retries,
            on_messages=recorder.wrap(connection.name, connection.received_many) if recorder is not None else None,
        )
        self.links[connection] = link
        if self.started:
            link.start()

    def connection_unused(self, connection: ConnectionCore) -> None:
        """Close the link of a connection nothing lives on any more."""
        link = self.links.pop(connection, None)
        if link is not None:
            link.close()

    def connection_wanted(self, connection: ConnectionCore) -> None:
        """Revive the connection's link if it gave up."""
        link = self.links.get(connection)
        if link is not None:
            link.revive()

    def connection_restart(self, connection: ConnectionCore, reason: str) -> None:
        """Reconnect the connection's link (reviving it if it gave up)."""
        link = self.links.get(connection)
        if link is not None:
            link.restart(reason)
