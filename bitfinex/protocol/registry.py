"""The channels of one connection and their states.

Each subscription moves ``PENDING`` (waiting for an open connection) → ``REQUESTED``
(``subscribe`` sent) → ``ACTIVE`` (``subscribed`` received; frames route by its ``chanId``) and,
when the user ends it, ``UNSUBSCRIBING`` until the server confirms. A lost connection sends every
live channel back to ``PENDING`` so it is requested again, with the same spec and callback, on the
next connection; ``chanId`` values are per connection and never reused across one.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Optional

from bitfinex.protocol.dispatch import Callback, FrameHandler
from bitfinex.protocol.subscriptions import SubscriptionSpec


class ChannelState(enum.Enum):
    """Where a channel is in its life on a connection."""

    PENDING = "pending"
    REQUESTED = "requested"
    ACTIVE = "active"
    UNSUBSCRIBING = "unsubscribing"


@dataclasses.dataclass(eq=False)
class Channel:
    """One subscription on one connection.

    :param spec: what is subscribed.
    :param callback: receives the channel's events (``subscribed``, ``unsubscribed``, ``error``,
        ``pong``); ``None`` for none.
    :param handler: the per-frame route for this channel's ``chanId``.
    :param conf_flags: ``conf`` flags the channel needs on its connection (OB_CHECKSUM for a
        maintained book).
    :param on_activate: called each time the channel goes live (a maintained book waits for
        its new snapshot).
    """

    spec: SubscriptionSpec
    callback: Optional[Callback]
    handler: FrameHandler
    conf_flags: int = 0
    on_activate: Optional[Callable[[], None]] = None
    state: ChannelState = ChannelState.PENDING
    chan_id: Optional[int] = None
    requested_at: Optional[float] = None
    times_subscribed: int = 0
    cancel_when_subscribed: bool = False
    resubscribe_when_unsubscribed: bool = False

    @property
    def identifier(self) -> str:
        """The subscription's identifier."""
        return self.spec.identifier


class ChannelRegistry:
    """The channels of one connection: lookups by identifier and the ``chanId`` route table."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.routes: dict[int, FrameHandler] = {}
        """``chanId`` → frame handler: the hot-path table."""

    def __len__(self) -> int:
        return len(self.channels)

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self.channels.values()))

    def __contains__(self, identifier: object) -> bool:
        return identifier in self.channels

    def get(self, identifier: str) -> Optional[Channel]:
        """Return the channel named ``identifier``, if this connection has it."""
        return self.channels.get(identifier)

    def add(self, channel: Channel) -> None:
        """Add a channel in the ``PENDING`` state."""
        channel.state = ChannelState.PENDING
        channel.chan_id = None
        self.channels[channel.identifier] = channel

    def remove(self, channel: Channel) -> None:
        """Forget a channel and its route."""
        self.channels.pop(channel.identifier, None)
        if channel.chan_id is not None and self.routes.get(channel.chan_id) is channel.handler:
            del self.routes[channel.chan_id]
        channel.chan_id = None

    def requested(self, channel: Channel, now: float) -> None:
        """Mark that ``subscribe`` was sent for ``channel`` at ``now``."""
        channel.state = ChannelState.REQUESTED
        channel.requested_at = now

    def oldest_request(self) -> Optional[float]:
        """When the oldest still unanswered ``subscribe`` was sent, if any is."""
        times = [
            c.requested_at for c in self.channels.values()
            if c.state is ChannelState.REQUESTED and c.requested_at is not None
        ]
        return min(times) if times else None

    def activate(self, channel: Channel, chan_id: int) -> None:
        """Route ``chan_id`` to ``channel`` after its ``subscribed`` event."""
        channel.state = ChannelState.ACTIVE
        channel.chan_id = chan_id
        channel.times_subscribed += 1
        self.routes[chan_id] = channel.handler

    def deactivate(self, channel: Channel) -> None:
        """Stop routing ``channel``'s frames and mark it ``UNSUBSCRIBING``."""
        if channel.chan_id is not None and self.routes.get(channel.chan_id) is channel.handler:
            del self.routes[channel.chan_id]
        channel.state = ChannelState.UNSUBSCRIBING

    def replace_handler(self, channel: Channel, handler: FrameHandler) -> None:
        """Give ``channel`` a new frame handler (and route to it if it is live)."""
        if channel.chan_id is not None and self.routes.get(channel.chan_id) is channel.handler:
            self.routes[channel.chan_id] = handler
        channel.handler = handler

    def awaiting(self, event: Mapping[str, Any]) -> Optional[Channel]:
        """Return the requested channel a ``subscribed``/``error`` event answers, if any."""
        for channel in self.channels.values():
            if channel.state is ChannelState.REQUESTED and channel.spec.matches(event):
                return channel
        return None

    def by_chan_id(self, chan_id: object) -> Optional[Channel]:
        """Return the channel that holds ``chan_id`` (live or unsubscribing)."""
        for channel in self.channels.values():
            if channel.chan_id == chan_id:
                return channel
        return None

    def connection_lost(self) -> list[Channel]:
        """Reset for a new connection; return the channels that ended with it.

        Live and requested channels go back to ``PENDING``; channels the user was ending (or had
        cancelled before their ``subscribed`` arrived) are dropped, since a closed connection
        ends every subscription on the server.
        """
        self.routes.clear()
        ended = []
        for channel in list(self.channels.values()):
            channel.chan_id = None
            channel.resubscribe_when_unsubscribed = False
            if channel.state is ChannelState.UNSUBSCRIBING or channel.cancel_when_subscribed:
                del self.channels[channel.identifier]
                ended.append(channel)
            else:
                channel.state = ChannelState.PENDING
        return ended
