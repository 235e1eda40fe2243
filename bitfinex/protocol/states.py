"""Every state of the client and every transition between them, in one place.

Three things have a life cycle: a subscription on a connection (:class:`ChannelState`), the
authentication of the authenticated connection (:class:`AuthState`), and the socket a
:class:`~bitfinex.transport.link.Link` keeps up (:class:`LinkState`). Each is a
:class:`StateMachine` driven by named events through one table below; an event a table does not
list for the current state raises :class:`IllegalTransition` instead of happening, so a state
cannot be reached by a path nobody wrote down. (The model is h11's ``_state.py``.)

The tables are the documentation: read them as "in this state, this event leads there".

Channels (one subscription on one connection; ``chanId`` values live only as long as it):

==================  ===============================================================  ===============
state               meaning                                                          frames routed
==================  ===============================================================  ===============
``PENDING``         waiting for an open connection (or the end of a maintenance)     no
``REQUESTED``       ``subscribe`` sent, no answer yet                                no
``CANCELLING``      ``subscribe`` sent, then ended by the user: unsubscribe on the   no
                    answer
``ACTIVE``          ``subscribed`` received: frames route by its ``chanId``          yes
``RESUBSCRIBING``   ``unsubscribe`` sent to rebuild it: subscribe again once the     no
                    server confirms (a book that failed its checksum, maintenance
                    over, a bug while handling one of its frames)
``UNSUBSCRIBING``   ``unsubscribe`` sent at the user's request                       no
``ENDED``           gone for good (refused, unsubscribed, or ended by a lost         no
                    connection while it was being ended)
==================  ===============================================================  ===============

Authentication (the authenticated connection only):

=================  =============================================================================
state              meaning
=================  =============================================================================
``OFFLINE``        no socket: order inputs wait in the queue
``AWAITING``       ``auth`` sent, no answer yet (the watchdog reconnects if none comes)
``AUTHENTICATED``  order inputs flow
``REFUSED``        the server refused the ``auth``: queued inputs were reported as not sent, new
                   ones are refused until :meth:`~bitfinex.WssClient.authenticate` is called
                   again (or a retry after a "nonce: small" refusal succeeds)
``RETRYING``       ``auth`` sent again after a refusal; inputs are still refused
=================  =============================================================================

Links (the socket of one connection):

================  ==============================================================================
state             meaning
================  ==============================================================================
``IDLE``          made, not started
``WAITING``       an attempt is scheduled (first connect, backoff, or the connection-rate limit)
``CONNECTING``    TCP, TLS and the WebSocket handshake under way
``OPEN``          handshake done: the connection core has the socket
``GAVE_UP``       ``max_retries`` attempts failed in a row; waits to be revived (a new
                  subscription on it, or ``authenticate()`` again)
``CLOSING``       closed by the client; the closing handshake is under way
``CLOSED``        final
================  ==============================================================================
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Generic, TypeVar


class IllegalTransition(RuntimeError):
    """An event arrived in a state whose table does not list it: a bug in this library."""


class ChannelState(enum.Enum):
    """Where one subscription is in its life on a connection (see the module docstring)."""

    PENDING = "pending"
    REQUESTED = "requested"
    CANCELLING = "cancelling"
    ACTIVE = "active"
    RESUBSCRIBING = "resubscribing"
    UNSUBSCRIBING = "unsubscribing"
    ENDED = "ended"


class ChannelEvent(enum.Enum):
    """What can happen to a subscription."""

    SEND = "send"
    """The ``subscribe`` request was written."""
    SUBSCRIBED = "subscribed"
    """The server's ``subscribed`` answer arrived."""
    REFUSED = "refused"
    """The server answered the ``subscribe`` with an ``error``."""
    END = "end"
    """The user ended the subscription."""
    REBUILD = "rebuild"
    """Unsubscribe and subscribe again (the ``unsubscribe`` was written)."""
    UNSUBSCRIBED = "unsubscribed"
    """The server confirmed an ``unsubscribe``."""
    CONNECTION_LOST = "connection_lost"
    """The socket closed."""


_C = ChannelState
_CE = ChannelEvent
CHANNEL_TRANSITIONS: Mapping[ChannelState, Mapping[ChannelEvent, ChannelState]] = {
    _C.PENDING: {_CE.SEND: _C.REQUESTED, _CE.END: _C.ENDED, _CE.CONNECTION_LOST: _C.PENDING},
    _C.REQUESTED: {
        _CE.SUBSCRIBED: _C.ACTIVE, _CE.REFUSED: _C.ENDED, _CE.END: _C.CANCELLING,
        _CE.CONNECTION_LOST: _C.PENDING,
    },
    _C.CANCELLING: {
        _CE.SUBSCRIBED: _C.UNSUBSCRIBING, _CE.REFUSED: _C.ENDED, _CE.END: _C.CANCELLING,
        _CE.CONNECTION_LOST: _C.ENDED,
    },
    _C.ACTIVE: {
        _CE.END: _C.UNSUBSCRIBING, _CE.REBUILD: _C.RESUBSCRIBING, _CE.CONNECTION_LOST: _C.PENDING,
    },
    _C.RESUBSCRIBING: {
        _CE.UNSUBSCRIBED: _C.PENDING, _CE.END: _C.UNSUBSCRIBING, _CE.CONNECTION_LOST: _C.PENDING,
    },
    _C.UNSUBSCRIBING: {_CE.UNSUBSCRIBED: _C.ENDED, _CE.END: _C.UNSUBSCRIBING, _CE.CONNECTION_LOST: _C.ENDED},
    _C.ENDED: {},
}
"""Channel transitions: ``CHANNEL_TRANSITIONS[state][event]`` is the next state."""


class AuthState(enum.Enum):
    """Where the authenticated connection's authentication is (see the module docstring)."""

    OFFLINE = "offline"
    AWAITING = "awaiting"
    AUTHENTICATED = "authenticated"
    REFUSED = "refused"
    RETRYING = "retrying"


class AuthEvent(enum.Enum):
    """What can happen to the authentication."""

    SENT = "sent"
    """The ``auth`` event was written."""
    ACCEPTED = "accepted"
    """The server answered ``status: OK``."""
    REFUSED = "refused"
    """The server answered ``status: FAILED``."""
    SOCKET_CLOSED = "socket_closed"
    """The socket closed."""
    RESET = "reset"
    """The user called ``authenticate()`` again: start over."""


_A = AuthState
_AE = AuthEvent
AUTH_TRANSITIONS: Mapping[AuthState, Mapping[AuthEvent, AuthState]] = {
    _A.OFFLINE: {_AE.SENT: _A.AWAITING, _AE.SOCKET_CLOSED: _A.OFFLINE, _AE.RESET: _A.OFFLINE},
    _A.AWAITING: {
        _AE.ACCEPTED: _A.AUTHENTICATED, _AE.REFUSED: _A.REFUSED, _AE.SOCKET_CLOSED: _A.OFFLINE,
        _AE.RESET: _A.OFFLINE,
    },
    _A.AUTHENTICATED: {_AE.SOCKET_CLOSED: _A.OFFLINE, _AE.RESET: _A.OFFLINE},
    _A.REFUSED: {_AE.SENT: _A.RETRYING, _AE.SOCKET_CLOSED: _A.REFUSED, _AE.RESET: _A.OFFLINE},
    _A.RETRYING: {
        _AE.ACCEPTED: _A.AUTHENTICATED, _AE.REFUSED: _A.REFUSED, _AE.SOCKET_CLOSED: _A.REFUSED,
        _AE.RESET: _A.OFFLINE,
    },
}
"""Authentication transitions: ``AUTH_TRANSITIONS[state][event]`` is the next state."""


class LinkState(enum.Enum):
    """Where the socket of one connection is (see the module docstring)."""

    IDLE = "idle"
    WAITING = "waiting"
    CONNECTING = "connecting"
    OPEN = "open"
    GAVE_UP = "gave_up"
    CLOSING = "closing"
    CLOSED = "closed"


class LinkEvent(enum.Enum):
    """What can happen to a socket."""

    START = "start"
    """The client started: schedule the first attempt."""
    ATTEMPT = "attempt"
    """An attempt began (TCP connect)."""
    OPENED = "opened"
    """The WebSocket handshake completed."""
    RETRY = "retry"
    """The attempt failed or the connection dropped; another attempt is scheduled."""
    GIVE_UP = "give_up"
    """The attempt failed or the connection dropped, and ``max_retries`` attempts failed in a row."""
    REVIVE = "revive"
    """Someone needs the connection again after a give-up: schedule an attempt."""
    CLOSE = "close"
    """The client closes the connection for good."""
    CLOSED = "closed"
    """The socket of a closing connection is gone."""


_L = LinkState
_LE = LinkEvent
LINK_TRANSITIONS: Mapping[LinkState, Mapping[LinkEvent, LinkState]] = {
    _L.IDLE: {_LE.START: _L.WAITING, _LE.CLOSE: _L.CLOSED},
    _L.WAITING: {_LE.ATTEMPT: _L.CONNECTING, _LE.CLOSE: _L.CLOSED},
    _L.CONNECTING: {
        _LE.OPENED: _L.OPEN, _LE.RETRY: _L.WAITING, _LE.GIVE_UP: _L.GAVE_UP, _LE.CLOSE: _L.CLOSING,
    },
    _L.OPEN: {_LE.RETRY: _L.WAITING, _LE.GIVE_UP: _L.GAVE_UP, _LE.CLOSE: _L.CLOSING},
    _L.GAVE_UP: {_LE.REVIVE: _L.WAITING, _LE.CLOSE: _L.CLOSED},
    _L.CLOSING: {_LE.CLOSED: _L.CLOSED, _LE.CLOSE: _L.CLOSING},
    _L.CLOSED: {_LE.CLOSE: _L.CLOSED},
}
"""Link transitions: ``LINK_TRANSITIONS[state][event]`` is the next state."""


S = TypeVar("S", bound=enum.Enum)
E = TypeVar("E", bound=enum.Enum)


class StateMachine(Generic[S, E]):
    """A state and the table of its transitions.

    :param table: ``table[state][event]`` gives the next state; anything missing is illegal.
    :param initial: the state to start in.
    :param name: names the machine in :class:`IllegalTransition` messages.
    """

    __slots__ = ("name", "state", "table")

    def __init__(self, table: Mapping[S, Mapping[E, S]], initial: S, name: str) -> None:
        self.table = table
        self.state = initial
        """The current state."""
        self.name = name

    def __repr__(self) -> str:
        return f"<StateMachine {self.name} {self.state.value}>"

    def can(self, event: E) -> bool:
        """Whether ``event`` is legal in the current state."""
        return event in self.table[self.state]

    def fire(self, event: E) -> S:
        """Move to the state ``event`` leads to from the current one, and return it.

        :raises IllegalTransition: if the table does not list ``event`` for the current state.
        """
        try:
            self.state = self.table[self.state][event]
        except KeyError:
            raise IllegalTransition(f"{self.name}: {event.value!r} is not possible in state {self.state.value!r}") from None
        return self.state


def channel_machine(name: str) -> StateMachine[ChannelState, ChannelEvent]:
    """A new subscription's machine, ``PENDING``."""
    return StateMachine(CHANNEL_TRANSITIONS, ChannelState.PENDING, name)


def auth_machine() -> StateMachine[AuthState, AuthEvent]:
    """A new authenticated connection's machine, ``OFFLINE``."""
    return StateMachine(AUTH_TRANSITIONS, AuthState.OFFLINE, "auth")


def link_machine(name: str) -> StateMachine[LinkState, LinkEvent]:
    """A new link's machine, ``IDLE``."""
    return StateMachine(LINK_TRANSITIONS, LinkState.IDLE, name)
