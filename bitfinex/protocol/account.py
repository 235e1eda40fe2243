"""The authenticated connection: authentication, the order outbox and the account channel.

An :class:`AuthConnection` is a :class:`~bitfinex.protocol.connection.ConnectionCore` that
authenticates as soon as its socket opens (a fresh nonce each time), follows its authentication
through :data:`~bitfinex.protocol.states.AUTH_TRANSITIONS`, writes queued order inputs once it
is authenticated (at most once: see :mod:`bitfinex.protocol.pipeline`), and hands every message
of the account channel (``chanId`` 0) whose shape is right to the user's auth callback.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Optional, Protocol

from bitfinex.protocol import status as st
from bitfinex.protocol.callbacks import Callback
from bitfinex.protocol.connection import ConnectionCore, event_code, event_text
from bitfinex.protocol.constants import AUTH_CHANNEL_ID, HEARTBEAT, ErrorCode
from bitfinex.protocol.echoes import replies
from bitfinex.protocol.orders import calc_message
from bitfinex.protocol.pipeline import OrderPipeline, PendingInput
from bitfinex.protocol.registry import Channel
from bitfinex.protocol.render import render
from bitfinex.protocol.shapes import validate_account
from bitfinex.protocol.signing import NonceGenerator, Secret, auth_message
from bitfinex.protocol.states import AuthEvent, AuthState, auth_machine

log = logging.getLogger("bitfinex.account")

AUTH = "auth"
"""The name of the authenticated connection (in status events, and ``ping()``'s default)."""

NOT_SENT = "Not sent: "
"""How the TEXT of a notification the client makes up for an input it could not send starts."""


class AccountObserver(Protocol):
    """What the authenticated connection tells an observer of the account (an account mirror),
    on the reactor thread, as it happens. Every method must return quickly and never raise."""

    def input_queued(self, pending: PendingInput) -> None:
        """An input was queued (it waits for authentication, or goes at once)."""

    def input_written(self, pending: PendingInput) -> None:
        """An input was written to the socket (exactly once)."""

    def input_not_sent(self, pending: PendingInput, reason: str) -> None:
        """An input will never be written (authentication refused, client stopped)."""

    def input_unconfirmed(self, pending: PendingInput, reason: str) -> None:
        """An input was written but its socket closed before the exchange answered about it."""

    def account_message(self, msg: list[Any]) -> None:
        """A frame of the account channel (``[0, KIND, DATA]``, no heartbeats), shape checked,
        in arrival order, before the user's callback gets it."""

    def authenticated(self) -> None:
        """The socket is authenticated; the snapshots (``ps``, ``ws``, ``os``...) follow."""

    def connection_closed(self, reason: str) -> None:
        """The authenticated socket closed."""


@dataclasses.dataclass(frozen=True)
class Credentials:
    """What signs the ``auth`` event.

    :param api_key: the API key (public, but not logged).
    :param secret: the API secret, used only to sign.
    :param nonces: where auth nonces come from.
    """

    api_key: str = dataclasses.field(repr=False)
    secret: Secret = dataclasses.field(repr=False)
    nonces: NonceGenerator = dataclasses.field(repr=False)


class AuthConnection(ConnectionCore):
    """The authenticated connection: the auth channel, orders and account messages.

    :param credentials: key, secret and nonces.
    :param filters: the auth ``filter`` list, or ``None`` for everything.
    :param callback: the user's auth callback; gets every channel-0 message but heartbeats.
    :param pipeline: the order/calc outbox.
    :param wall_ms: wall clock in milliseconds, for the not-sent notifications.
    :param dms: ``4`` to have Bitfinex cancel the account's orders when this socket closes.
    :param observer: told of every input's fate and every account message (an account mirror);
        ``None`` for none.
    :param core: the other arguments of :class:`~bitfinex.protocol.connection.ConnectionCore`
        (its name is :data:`AUTH`).
    """

    def __init__(
        self,
        *,
        credentials: Credentials,
        filters: Optional[list[str]],
        callback: Optional[Callback],
        pipeline: OrderPipeline,
        wall_ms: Callable[[], int],
        dms: Optional[int] = None,
        observer: Optional[AccountObserver] = None,
        **core: Any,
    ) -> None:
        super().__init__(AUTH, **core)
        self.observer = observer
        self._credentials = credentials
        self.filters = filters
        self.callback = callback
        self.pipeline = pipeline
        self.wall_ms = wall_ms
        self.dms = dms
        self.auth = auth_machine()
        """The authentication's state machine (see :mod:`bitfinex.protocol.states`)."""
        self.auth_sent_at: Optional[float] = None
        """When the ``auth`` awaiting its answer was sent (clock seconds)."""
        self.refusal: Optional[str] = None
        """Why the server refused the last ``auth`` (while ``REFUSED`` or ``RETRYING``)."""
        self._events["auth"] = self._on_auth

    @property
    def authenticated(self) -> bool:
        """Whether the server accepted this socket's ``auth``."""
        return self.auth.state is AuthState.AUTHENTICATED

    @property
    def refused(self) -> bool:
        """Whether order inputs are refused (the last ``auth`` was refused)."""
        return self.auth.state in (AuthState.REFUSED, AuthState.RETRYING)

    def reset(self, callback: Optional[Callback], filters: Optional[list[str]]) -> None:
        """Start over with a new callback and filters (``authenticate()`` called again); the
        caller reconnects, so the next socket authenticates with them."""
        self.callback = callback
        self.filters = filters
        self.refusal = None
        self.auth.fire(AuthEvent.RESET)

    def _after_open(self) -> None:
        credentials = self._credentials
        message = auth_message(credentials.api_key, credentials.secret, credentials.nonces.next(), self.filters, dms=self.dms)
        if self.send(message):
            self.auth.fire(AuthEvent.SENT)
            self.auth_sent_at = self.clock()

    def oldest_unanswered(self) -> Optional[float]:
        """Also counts an ``auth`` still awaiting its answer."""
        times = [t for t in (self.auth_sent_at, super().oldest_unanswered()) if t is not None]
        return min(times) if times else None

    def closed(self, reason: str) -> None:
        """The socket closed: queued orders wait for the next authentication; written ones the
        exchange had not answered yet are reported as unconfirmed (they are never re-sent)."""
        self.auth.fire(AuthEvent.SOCKET_CLOSED)
        self.auth_sent_at = None
        self.routes.pop(AUTH_CHANNEL_ID, None)
        observer = self.observer
        for cid, pending in self.pipeline.take_unconfirmed():
            if observer is not None:
                observer.input_unconfirmed(pending, reason)
            self.report(
                st.StatusEvent(
                    st.ORDER_UNCONFIRMED, self.name,
                    f"written before the connection closed ({reason}) and not answered; not re-sent: "
                    "check the order snapshot after re-authentication",
                    cid=cid, data=pending.message,
                )
            )
        if observer is not None:
            observer.connection_closed(reason)
        super().closed(reason)

    def _on_info(self, event: dict[str, Any]) -> None:
        super()._on_info(event)
        self.runner.run(self.callback, event, self.name)

    def _on_error(self, event: dict[str, Any]) -> None:
        super()._on_error(event)
        self.runner.run(self.callback, event, self.name)

    def _on_auth(self, event: dict[str, Any]) -> None:
        accepted = event.get("status") == "OK"
        if not self.auth.can(AuthEvent.ACCEPTED if accepted else AuthEvent.REFUSED):
            self.drop(f"auth answer in state {self.auth.state.value}", event)
            return
        self.auth_sent_at = None
        if accepted:
            self.auth.fire(AuthEvent.ACCEPTED)
            self.refusal = None
            self.routes[AUTH_CHANNEL_ID] = self._deliver
            if self.observer is not None:
                self.observer.authenticated()
            self.report(st.StatusEvent(st.AUTHENTICATED, self.name, data=event.get("userId")))
            self.runner.run(self.callback, event, self.name)
            self.pump()
            return
        self.auth.fire(AuthEvent.REFUSED)
        reason = event_text(event.get("msg")) or "authentication failed"
        code = event_code(event)
        nonce_refused = code == ErrorCode.AUTH_NONCE or "nonce" in reason.lower()
        if nonce_refused:
            reason += " (this key saw larger nonces: raise nonce_multiplier if it keeps failing)"
        self.refusal = reason
        self.report(st.StatusEvent(st.AUTH_FAILED, self.name, reason, code))
        self.runner.run(self.callback, event, self.name)
        self.fail_queued(f"authentication failed: {reason}")
        if nonce_refused:
            # Time moves nonces up: a later attempt, with a fresh nonce, may pass.
            self.reconnect("retrying authentication with a fresh nonce")

    def _deliver(self, msg: list[Any]) -> None:
        validate_account(msg)
        kind = msg[1]
        if kind == HEARTBEAT:
            return
        if kind == "n":
            self._log_refusal(msg[2])
        if self.pipeline.unconfirmed:
            self.pipeline.confirm(order_cids(kind, msg[2]))
        if self.observer is not None:
            self.observer.account_message(msg)
        self.runner.run(self.callback, msg, self.name)

    @staticmethod
    def _log_refusal(notification: list[Any]) -> None:
        """Log an input the exchange refused (``ERROR``/``FAILURE`` notification) at ERROR, so
        it reaches stderr even when the application configured no logging."""
        status = notification[6]
        if status == "ERROR" or status == "FAILURE":
            info = notification[4]
            cids = order_cids("n", notification)
            log.error(
                "%s refused by the exchange: %s%s", notification[1], event_text(notification[7]),
                f" (cid {', '.join(map(str, cids))})" if cids else f" ({render(info, 120)})" if info is not None else "",
            )

    def recover(self, chan_id: Optional[int], channel: Optional[Channel]) -> None:
        """A bug while handling an account frame: reconnect, so re-authentication brings fresh
        snapshots (written orders are reported as unconfirmed, never re-sent)."""
        if chan_id == AUTH_CHANNEL_ID:
            self.reconnect("internal error on the account channel: resyncing with fresh snapshots")
        else:
            super().recover(chan_id, channel)

    # -- orders ---------------------------------------------------------------------------

    def submit(self, pending: PendingInput) -> None:
        """Queue an order input and send it as soon as the channel is authenticated."""
        if self.refused:
            self.report_not_sent([pending], f"authentication failed: {self.refusal}")
            return
        self.pipeline.submit(pending)
        if self.observer is not None:
            self.observer.input_queued(pending)
        self.pump()

    def submit_calc(self, names: list[str]) -> None:
        """Queue calc requests; they go out at most 8 per second."""
        if self.refused:
            self.report_not_sent([PendingInput("calc", calc_message(names))], f"authentication failed: {self.refusal}")
            return
        self.pipeline.submit_calc(names)
        self.pump()

    def pump(self) -> None:
        """Write queued inputs if authenticated and not paused; ask to be woken for throttled calcs."""
        transport = self._transport
        if transport is not None and self.authenticated and not self.paused:
            observer = self.observer
            delay = self.pipeline.flush(transport.write, observer.input_written if observer is not None else None)
            if delay is not None:
                transport.wake_after(delay)

    def fail_queued(self, reason: str) -> None:
        """Report every queued input as not sent (and forget it)."""
        self.report_not_sent(self.pipeline.drain(), reason)

    def report_not_sent(self, pending: list[PendingInput], reason: str) -> None:
        """Tell the status callback (once per cid) and the auth callback that these inputs were
        never written: the auth callback gets, per input, a notification shaped like Bitfinex's
        ``{input}-req`` ``ERROR`` (``[0, "n", [MTS, "on-req", null, null, ORDER_ARRAY, null,
        "ERROR", TEXT]]``, the order array echoing the input, its cid at index 2), so code that
        reads Bitfinex's notifications reads these too (an ``ox_multi`` gets one per operation,
        as Bitfinex answers it). They are the client's own: their TEXT
        starts with :data:`NOT_SENT` (Bitfinex's never does) and MTS is the client's clock."""
        for item in pending:
            if self.observer is not None:
                self.observer.input_not_sent(item, reason)
            for cid in item.cids or (None,):
                self.report(st.StatusEvent(st.ORDER_NOT_SENT, self.name, reason, cid=cid, data=item.message))
            for request, info in replies(item.name, item.message[3]):
                notification = [0, "n", [self.wall_ms(), request, None, None, info, None, "ERROR", f"{NOT_SENT}{reason}"]]
                self.runner.run(self.callback, notification, self.name)

    def __repr__(self) -> str:
        return f"<AuthConnection {self.auth.state.value} open={self.is_open} queued={len(self.pipeline)}>"


_ORDER_CID = 2
_TRADE_CID = 11


def order_cids(kind: str, data: Any) -> list[int]:
    """The cids an account message mentions: orders (``os``/``on``/``ou``/``oc``), own trades
    (``te``/``tu``) and notifications (``n``, whose info is an order or a list of orders)."""
    if type(data) is not list:
        return []
    if kind == "n":
        info = data[4] if len(data) > 4 else None
        if type(info) is not list:
            return []
        rows = info if info and type(info[0]) is list else [info]
        return [row[_ORDER_CID] for row in rows if type(row) is list and len(row) > _ORDER_CID and type(row[_ORDER_CID]) is int]
    if kind == "os":
        return [row[_ORDER_CID] for row in data if type(row) is list and len(row) > _ORDER_CID and type(row[_ORDER_CID]) is int]
    index = _ORDER_CID if kind in ("on", "ou", "oc") else _TRADE_CID if kind in ("te", "tu") else None
    if index is not None and len(data) > index and type(data[index]) is int:
        return [data[index]]
    return []
