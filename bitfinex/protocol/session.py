"""All of one client's connections: which channel lives where, and what happens when the
server refuses one.

Public channels are spread over :class:`~bitfinex.protocol.connection.PublicConnection`\\ s, each
carrying at most ``max_channels`` (Bitfinex's cap is 25 per connection); a new connection is
made only when every existing one is full, and a connection left empty is closed. The
authenticated connection is kept apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional

from bitfinex.protocol import status as st
from bitfinex.protocol.connection import AuthConnection, ConnectionCore, PublicConnection
from bitfinex.protocol.constants import ErrorCode
from bitfinex.protocol.dispatch import CallbackRunner
from bitfinex.protocol.registry import Channel
from bitfinex.protocol.sequence import SequenceChecker

log = logging.getLogger("bitfinex.session")


class Session:
    """The connections of one client and the channels on them.

    :param report: where status events go.
    :param runner: runs user callbacks.
    :param max_channels: channels per public connection.
    :param flags: ``conf`` flags every public connection starts with.
    :param check_sequence: check SEQ_ALL numbers on every connection (``flags`` should then
        include SEQ_ALL).
    """

    def __init__(
        self, report: st.StatusSink, runner: CallbackRunner, max_channels: int, flags: int = 0,
        check_sequence: bool = False,
    ) -> None:
        self.report = report
        self.runner = runner
        self.max_channels = max_channels
        self.flags = flags
        self.check_sequence = check_sequence
        self.auth: Optional[AuthConnection] = None
        self.public: list[PublicConnection] = []
        self.location: dict[str, ConnectionCore] = {}
        """Subscription identifier → the connection carrying it."""
        self.connection_added: Callable[[ConnectionCore], None] = lambda connection: None
        """Set by the transport: open this new connection."""
        self.connection_unused: Callable[[ConnectionCore], None] = lambda connection: None
        """Set by the transport: close this connection, nothing lives on it any more."""
        self.subscription_ended: Callable[[str], None] = lambda identifier: None
        """Set by the facade: this identifier is free again."""
        self._serial = 0

    def connections(self) -> list[ConnectionCore]:
        """Every connection, the authenticated one first."""
        found: list[ConnectionCore] = [self.auth] if self.auth is not None else []
        return found + list(self.public)

    def set_auth(self, connection: AuthConnection) -> None:
        """Adopt the authenticated connection."""
        self.auth = connection
        self._adopt(connection)

    def subscribe(self, channel: Channel) -> PublicConnection:
        """Put ``channel`` on a public connection with room (a new one if none has)."""
        connection = self._connection_with_room()
        self.location[channel.identifier] = connection
        connection.set_flags(connection.flags | channel.conf_flags)
        connection.add_channel(channel)
        return connection

    def unsubscribe(self, identifier: str) -> bool:
        """End a subscription; return False if there is none by that identifier."""
        connection = self.location.get(identifier)
        return connection is not None and connection.end_channel(identifier)

    def _connection_with_room(self) -> PublicConnection:
        for connection in self.public:
            if connection.has_room:
                return connection
        self._serial += 1
        connection = PublicConnection(f"public-{self._serial}", self.report, self.runner, self.max_channels, self.flags)
        self.public.append(connection)
        self._adopt(connection)
        self.connection_added(connection)
        return connection

    def _adopt(self, connection: ConnectionCore) -> None:
        if self.check_sequence:
            connection.sequence = SequenceChecker()
        def ended(channel: Channel) -> None:
            self._channel_ended(connection, channel)

        def refused(channel: Channel, event: dict[str, Any]) -> None:
            self._channel_refused(connection, channel, event)

        connection.channel_ended = ended
        connection.channel_refused = refused

    def _channel_ended(self, connection: ConnectionCore, channel: Channel) -> None:
        if self.location.get(channel.identifier) is connection:
            del self.location[channel.identifier]
            self.subscription_ended(channel.identifier)
        if isinstance(connection, PublicConnection) and not len(connection.registry):
            self.public.remove(connection)
            self.connection_unused(connection)

    def _channel_refused(self, connection: ConnectionCore, channel: Channel, event: dict[str, Any]) -> None:
        code = event.get("code")
        if code == ErrorCode.CHANNEL_LIMIT and isinstance(connection, PublicConnection):
            connection.capacity = max(1, len(connection.registry))
            log.warning(
                "%s: server caps channels at %d per connection; moving %s",
                connection.name, connection.capacity, channel.identifier,
            )
            self.location.pop(channel.identifier, None)
            self.subscribe(channel)
            self._channel_ended(connection, channel)
            return
        self.report(
            st.StatusEvent(
                st.SUBSCRIPTION_FAILED, connection.name, str(event.get("msg", "")),
                code if isinstance(code, int) else None, subscription=channel.identifier, data=event,
            )
        )
        self.runner.run(channel.callback, event, channel.identifier)
        self._channel_ended(connection, channel)
