"""The channels of one connection: their states and the ``chanId`` route table.

Each subscription is a :class:`Channel` whose life follows
:data:`~bitfinex.protocol.states.CHANNEL_TRANSITIONS`; the :class:`ChannelRegistry` of a
connection moves channels through that table and keeps :attr:`ChannelRegistry.routes`, the
``chanId`` → frame handler dict the receive path looks every frame up in, exactly in step:
a channel's ``chanId`` is routed while, and only while, it is ``ACTIVE``. ``chanId`` values
are per connection and never reused across one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Optional

from bitfinex.protocol.callbacks import Callback
from bitfinex.protocol.states import ChannelEvent, ChannelState, StateMachine, channel_machine
from bitfinex.protocol.subscriptions import SubscriptionSpec

FrameHandler = Callable[[list[Any]], None]
"""The route of one channel: takes each decoded frame of its ``chanId``.

It raises :class:`~bitfinex.protocol.shapes.FrameShapeError` for a frame whose shape the
channel does not carry (the connection drops and logs it); anything else it raises is a bug."""


@dataclasses.dataclass(eq=False)
class Channel:
    """One subscription on one connection.

    :param spec: what is subscribed.
    :param callback: receives the channel's events (``subscribed``, ``unsubscribed``,
        ``error``) and the ``pong`` of a ``ping`` on it; ``None`` for none.
    :param handler: the route of the channel's frames.
    :param conf_flags: ``conf`` flags the channel needs on its connection (OB_CHECKSUM for a
        maintained book).
    :param on_activate: called each time the channel goes live (a maintained book then waits
        for its new snapshot).
    :param events_to_callback: whether ``subscribed``/``unsubscribed``/``error`` events go to
        ``callback`` (a maintained book's callback takes books, not events).
    """

    spec: SubscriptionSpec
    callback: Optional[Callback]
    handler: FrameHandler
    conf_flags: int = 0
    on_activate: Optional[Callable[[], None]] = None
    events_to_callback: bool = True
    machine: StateMachine[ChannelState, ChannelEvent] = dataclasses.field(init=False)
    chan_id: Optional[int] = None
    requested_at: Optional[float] = None
    times_subscribed: int = 0

    def __post_init__(self) -> None:
        self.machine = channel_machine(self.spec.identifier)

    @property
    def identifier(self) -> str:
        """The subscription's identifier."""
        return self.spec.identifier

    @property
    def state(self) -> ChannelState:
        """Where the channel is (see :mod:`bitfinex.protocol.states`)."""
        return self.machine.state

    @property
    def event_callback(self) -> Optional[Callback]:
        """Where the channel's ``subscribed``/``unsubscribed``/``error`` events go."""
        return self.callback if self.events_to_callback else None


_AWAITING_UNSUBSCRIBED = frozenset((ChannelState.UNSUBSCRIBING, ChannelState.RESUBSCRIBING))


class ChannelRegistry:
    """The channels of one connection, by identifier, and the ``chanId`` route table."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.routes: dict[int, FrameHandler] = {}
        """``chanId`` → frame handler of every ``ACTIVE`` channel: the hot-path table."""

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
        """Take a new (``PENDING``) channel."""
        self.channels[channel.identifier] = channel

    def fire(self, channel: Channel, event: ChannelEvent, now: Optional[float] = None) -> ChannelState:
        """Move ``channel`` through ``event`` and keep the routes and the registry in step.

        :param now: the clock's time, for an event that sends a request (``SEND``, and ``END``
            or ``REBUILD`` of an ``ACTIVE`` channel, which send ``unsubscribe``): it dates the
            request, so one left unanswered can be noticed.
        :returns: the new state; an ``ENDED`` channel is no longer in the registry.
        :raises ~bitfinex.protocol.states.IllegalTransition: for an event the channel's state
            does not allow.
        """
        was_active = channel.state is ChannelState.ACTIVE
        state = channel.machine.fire(event)
        chan_id = channel.chan_id
        if was_active and chan_id is not None and self.routes.get(chan_id) is channel.handler:
            del self.routes[chan_id]
        if state is ChannelState.REQUESTED or (was_active and state in _AWAITING_UNSUBSCRIBED):
            channel.requested_at = now
        elif state is ChannelState.PENDING or state is ChannelState.ENDED:
            channel.chan_id = None
            channel.requested_at = None
        if state is ChannelState.ENDED:
            self.channels.pop(channel.identifier, None)
        return state

    def activate(self, channel: Channel, chan_id: int, now: float) -> ChannelState:
        """Apply a ``subscribed`` answer giving ``chan_id``: route it if the channel is now ``ACTIVE``
        (a channel the user ended meanwhile goes ``UNSUBSCRIBING`` instead: its ``unsubscribe``,
        sent now, is dated ``now``)."""
        channel.chan_id = chan_id
        state = channel.machine.fire(ChannelEvent.SUBSCRIBED)
        if state is ChannelState.ACTIVE:
            channel.requested_at = None
            channel.times_subscribed += 1
            self.routes[chan_id] = channel.handler
        else:
            channel.requested_at = now
        return state

    def oldest_request(self) -> Optional[float]:
        """When the oldest still unanswered ``subscribe`` or ``unsubscribe`` was sent, if any is."""
        times = [c.requested_at for c in self.channels.values() if c.requested_at is not None]
        return min(times) if times else None

    def awaiting(self, event: Mapping[str, Any]) -> Optional[Channel]:
        """Return the requested channel a ``subscribed``/``error`` event answers, if any."""
        for channel in self.channels.values():
            if channel.state in (ChannelState.REQUESTED, ChannelState.CANCELLING) and channel.spec.matches(event):
                return channel
        return None

    def by_chan_id(self, chan_id: object) -> Optional[Channel]:
        """Return the channel that holds ``chan_id`` (live or being unsubscribed)."""
        for channel in self.channels.values():
            if channel.chan_id == chan_id:
                return channel
        return None

    def connection_lost(self) -> list[Channel]:
        """Move every channel through ``CONNECTION_LOST``; return the ones that ended with it
        (those the user was ending: a closed connection ends every subscription on the server).
        The others are ``PENDING``, to be requested again on the next connection."""
        self.routes.clear()
        ended = []
        for channel in list(self.channels.values()):
            if self.fire(channel, ChannelEvent.CONNECTION_LOST) is ChannelState.ENDED:
                ended.append(channel)
        return ended
