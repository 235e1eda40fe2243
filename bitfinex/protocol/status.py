"""Status events: everything that happens to the client's connections, in one place.

Pass ``status_callback=`` to :class:`~bitfinex.WssClient` to receive a :class:`StatusEvent`
for each of the kinds below. Every event is also logged on the ``bitfinex`` logger (warnings
for the ones that need attention). Status events never carry secrets.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Optional

log = logging.getLogger("bitfinex.status")

CONNECTED = "connected"
"""A connection is open (``connection``: its name, ``data``: the URL)."""
DISCONNECTED = "disconnected"
"""A connection closed (``reason``: why)."""
RECONNECTING = "reconnecting"
"""A connection will be retried (``attempt``: 1, 2, ...; ``delay``: seconds until it is)."""
GAVE_UP = "gave_up"
"""A connection stopped retrying after ``max_retries`` failed attempts in a row (``attempt``:
how many). It comes back when it is needed again: a new subscription (public connections) or
``authenticate()`` called again (the authenticated one)."""
AUTHENTICATED = "authenticated"
"""The server accepted the ``auth`` event."""
AUTH_FAILED = "auth_failed"
"""The server refused the ``auth`` event (``code``, ``reason``: its message)."""
SUBSCRIBED = "subscribed"
"""A subscription is live for the first time (``subscription``: its identifier)."""
RESUBSCRIBED = "resubscribed"
"""A subscription is live again after a reconnect or maintenance."""
UNSUBSCRIBED = "unsubscribed"
"""A subscription ended at the user's request."""
SUBSCRIPTION_FAILED = "subscription_failed"
"""The server refused a subscription (``code``, ``reason``)."""
PAUSED = "paused"
"""Maintenance began (info 20060 or platform status 0): orders wait in the queue."""
RESUMED = "resumed"
"""Maintenance ended (info 20061): queued orders go out, channels are resubscribed."""
SERVER_ERROR = "server_error"
"""The server sent an ``error`` event not tied to a subscription (``code``, ``reason``)."""
SERVER_INFO = "server_info"
"""The server sent an ``info`` event with a code (``code``, ``reason``)."""
ORDER_NOT_SENT = "order_not_sent"
"""A queued order input was never written (``cid``, ``reason``, ``data``: the input)."""
ORDER_UNCONFIRMED = "order_unconfirmed"
"""An input was written but its connection closed before the exchange answered about its
``cid``: it may or may not have arrived, and it is not re-sent (at most once). Reconcile with the
``os`` snapshot that follows re-authentication."""
CHECKSUM_MISMATCH = "checksum_mismatch"
"""A maintained book failed its checksum; it is being rebuilt (``subscription``)."""
SEQUENCE_GAP = "sequence_gap"
"""SEQ_ALL numbering skipped (``data``: expected and received); the connection is resynced."""
INTERNAL_ERROR = "internal_error"
"""A bug in this library while handling a frame (logged with its traceback; ``reason``: the
exception, ``subscription``: the channel, if any). The channel is recovered: a public one is
resubscribed, the authenticated connection reconnects."""
CALLBACK_ERROR = "callback_error"
"""A user callback raised; the stream goes on (``subscription``, ``reason``)."""
SLOW_CALLBACK = "slow_callback"
"""A user callback blocked the reactor thread for ``delay`` seconds."""
STOPPED = "stopped"
"""``stop()`` finished: every connection is closed."""

CLOSED_BY_CLIENT = "closed by the client"
"""The ``reason`` of a ``disconnected`` event for a connection the client closed itself."""

ERROR_KINDS = frozenset((AUTH_FAILED, GAVE_UP, ORDER_NOT_SENT, ORDER_UNCONFIRMED))
"""Kinds logged at ERROR: they reach stderr even when the application configured no logging
(see :mod:`bitfinex.logs`)."""

WARNING_KINDS = frozenset(
    (AUTH_FAILED, DISCONNECTED, RECONNECTING, GAVE_UP, SUBSCRIPTION_FAILED, PAUSED, SERVER_ERROR,
     ORDER_NOT_SENT, ORDER_UNCONFIRMED, CHECKSUM_MISMATCH, SEQUENCE_GAP, INTERNAL_ERROR, CALLBACK_ERROR,
     SLOW_CALLBACK)
)


@dataclasses.dataclass(frozen=True)
class StatusEvent:
    """One thing that happened to the client.

    :param kind: one of the kind constants of this module (``"connected"``, ...).
    :param connection: the connection's name: ``"auth"`` or ``"public-N"``; empty when the
        event concerns the whole client.
    """

    kind: str
    connection: str = ""
    reason: str = ""
    code: Optional[int] = None
    attempt: Optional[int] = None
    delay: Optional[float] = None
    subscription: Optional[str] = None
    cid: Optional[int] = None
    data: Any = None

    def describe(self) -> str:
        """Return a one-line, human-readable account of the event."""
        parts = [self.kind]
        if self.connection:
            parts.append(f"on {self.connection}")
        for label, value in (
            ("subscription", self.subscription), ("cid", self.cid), ("code", self.code),
            ("attempt", self.attempt),
        ):
            if value is not None:
                parts.append(f"{label}={value}")
        if self.delay is not None:
            parts.append(f"delay={self.delay:.3f}s")
        if self.reason:
            parts.append(f"({self.reason})")
        return " ".join(parts)


StatusSink = Callable[[StatusEvent], None]


class StatusReporter:
    """Logs each event and hands it to the user's status callback, which may not break us.

    :param callback: the user's status callback, or ``None``.
    """

    def __init__(self, callback: Optional[StatusSink] = None) -> None:
        self.callback = callback

    def __call__(self, event: StatusEvent) -> None:
        if event.kind in ERROR_KINDS:
            level = logging.ERROR
        elif event.kind in WARNING_KINDS and event.reason != CLOSED_BY_CLIENT:
            level = logging.WARNING
        else:
            level = logging.INFO
        log.log(level, "%s", event.describe())
        callback = self.callback
        if callback is not None:
            try:
                callback(event)
            except Exception:
                log.exception("status callback raised on %s", event.kind)
