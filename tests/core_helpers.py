"""Driving the sans-I/O core frame by frame: a socket stand-in and a transport stand-in.

The core is real (:class:`~bitfinex.protocol.session.Session` and its connections); only the
I/O edges are replaced: :class:`Wire` is the open socket a connection writes to (the
:class:`~bitfinex.protocol.connection.Transport`), :class:`Sockets` is the transport that would
open and close sockets for the session's connections (its
:class:`~bitfinex.protocol.session.SessionEvents`). Time is a list the test moves.
"""

from __future__ import annotations

import json
import time
from typing import Any, Optional

from bitfinex.protocol.account import Credentials
from bitfinex.protocol.callbacks import CallbackRunner
from bitfinex.protocol.connection import ConnectionCore
from bitfinex.protocol.session import AuthSettings, Session
from bitfinex.protocol.signing import NonceGenerator, Secret
from bitfinex.protocol.subscriptions import SubscriptionSpec


class Wire:
    """An open socket: collects what a connection writes (decoded), can refuse writes like a
    closing socket, and records reconnect requests and wakeups."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.accepting = True
        self.reconnects: list[str] = []
        self.wakeups: list[float] = []

    def write(self, data: bytes) -> bool:
        if not self.accepting:
            return False
        self.sent.append(json.loads(data))
        return True

    def reconnect(self, reason: str) -> None:
        self.reconnects.append(reason)

    def wake_after(self, delay: float) -> None:
        self.wakeups.append(delay)


class Recorder(list):
    """A callback (or status sink) that keeps what it gets."""

    def __call__(self, item: Any) -> None:
        self.append(item)

    def kinds(self) -> list[str]:
        return [event.kind for event in self]


class Sockets:
    """The transport side of a session: records which connections it was asked to open,
    close, revive and restart."""

    def __init__(self) -> None:
        self.added: list[ConnectionCore] = []
        self.unused: list[ConnectionCore] = []
        self.wanted: list[ConnectionCore] = []
        self.restarts: list[tuple[ConnectionCore, str]] = []

    def connection_added(self, connection: ConnectionCore) -> None:
        self.added.append(connection)

    def connection_unused(self, connection: ConnectionCore) -> None:
        self.unused.append(connection)

    def connection_wanted(self, connection: ConnectionCore) -> None:
        self.wanted.append(connection)

    def connection_restart(self, connection: ConnectionCore, reason: str) -> None:
        self.restarts.append((connection, reason))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_session(statuses: Recorder, *, clock: Optional[Clock] = None, max_channels: int = 25, **options: Any) -> Session:
    """A session with keys (``the-key``/``the-secret``), its transport stand-in on ``.events``."""
    auth = AuthSettings(Credentials("the-key", Secret("the-secret"), NonceGenerator()), lambda: 1_700_000_000_000)
    runner = CallbackRunner(statuses, time.perf_counter)
    return Session(events=Sockets(), report=statuses, runner=runner, clock=clock or Clock(), max_channels=max_channels,
                   auth=auth, **options)


def frame(obj: Any) -> bytes:
    """``obj`` as the text of a frame."""
    return json.dumps(obj).encode()


def subscribed(connection: ConnectionCore, wire: Wire, spec: SubscriptionSpec, chan_id: int) -> None:
    """Answer ``spec``'s ``subscribe`` request as Bitfinex does, with ``chan_id``."""
    request = next(m for m in wire.sent if isinstance(m, dict) and m.get("subId") == spec.identifier)
    connection.received(frame({"event": "subscribed", "channel": request["channel"], "chanId": chan_id,
                               **{k: v for k, v in request.items() if k not in ("event", "channel")}}))
