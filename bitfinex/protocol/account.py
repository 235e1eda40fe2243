"""The sans-I/O state of one WebSocket connection to Bitfinex.

The transport feeds a :class:`ConnectionCore` three things: :meth:`~ConnectionCore.opened` with a
function that writes to the socket, :meth:`~ConnectionCore.received` with each text message, and
:meth:`~ConnectionCore.closed`. The core decides everything else: the ``conf`` and ``subscribe``
requests to send, where each frame goes, what the server's events mean. When it needs the
transport (to reconnect, or to be woken up later) it calls the hooks the transport set:
:attr:`~ConnectionCore.request_reconnect` and :attr:`~ConnectionCore.request_wakeup`.

:class:`PublicConnection` carries public channels; :class:`AuthConnection` carries the
authenticated channel (``chanId`` 0), its orders and its account messages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Optional

from bitfinex.protocol import status as st
from bitfinex.protocol.codec import dumps, loads
from bitfinex.protocol.constants import (
    AUTH_CHANNEL_ID,
    HEARTBEAT,
    PROTOCOL_VERSION,
    ErrorCode,
    InfoCode,
)
from bitfinex.protocol.dispatch import Callback, CallbackRunner, MalformedFrame
from bitfinex.protocol.orders import calc_message
from bitfinex.protocol.pipeline import OrderPipeline, PendingInput, Writer
from bitfinex.protocol.registry import Channel, ChannelRegistry, ChannelState
from bitfinex.protocol.sequence import SequenceChecker
from bitfinex.protocol.signing import NonceGenerator, Secret, auth_message

log = logging.getLogger("bitfinex.connection")

DROP_LOG_FIRST = 10
"""Dropped frames logged in full per connection before the log switches to periodic summaries."""
DROP_LOG_EVERY = 1000


class ConnectionCore:
    """What one connection knows and does, without any I/O.

    :param name: ``"auth"`` or ``"public-N"``; appears in status events and logs.
    :param report: where status events go.
    :param runner: runs user callbacks.
    :param flags: ``conf`` flags to set when the connection opens (0 sends no ``conf``).
    :param clock: monotonic seconds, to date requests awaiting an answer.
    """

    def __init__(
        self, name: str, report: st.StatusSink, runner: CallbackRunner, flags: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.clock = clock
        self.report = report
        self.runner = runner
        self.flags = flags
        self.registry = ChannelRegistry()
        self.routes = self.registry.routes
        self.frames_received = 0
        """Count of messages received; the transport's watchdog reads it."""
        self.frames_dropped = 0
        self.frames_unrouted = 0
        """Frames for a channel id that is not live on this connection (skipped)."""
        self.paused = False
        self.pings: dict[int, Optional[Callback]] = {}
        self.pings_to_send: list[int] = []
        self.request_reconnect: Callable[[str], None] = lambda reason: None
        """Set by the transport: close this connection and open it again."""
        self.request_wakeup: Callable[[float], None] = lambda delay: None
        """Set by the transport: call :meth:`pump` after ``delay`` seconds."""
        self.channel_ended: Callable[[Channel], None] = lambda channel: None
        """Set by the session: a channel left this connection for good."""
        self.channel_refused: Callable[[Channel, dict[str, Any]], None] = lambda channel, event: None
        """Set by the session: the server refused a channel's subscription."""
        self._write: Optional[Writer] = None
        self.sequence: Optional[SequenceChecker] = None
        """Set to check SEQ_ALL numbers (and strip them before callbacks see frames)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} open={self.is_open} channels={len(self.registry)}>"

    @property
    def is_open(self) -> bool:
        """Whether the socket is open."""
        return self._write is not None

    # -- transport side -------------------------------------------------------------------

    def opened(self, write: Writer) -> None:
        """The socket is open; ``write`` sends one text message and returns False if it could not."""
        self._write = write
        self.paused = False
        if self.sequence is not None:
            self.sequence.reset()
        if self.flags:
            self.send({"event": "conf", "flags": self.flags})
        self._after_open()
        waiting, self.pings_to_send = self.pings_to_send, []
        for cid in waiting:
            self.send({"event": "ping", "cid": cid})

    def closed(self, reason: str) -> None:
        """The socket closed (for ``reason``); every live channel goes back to pending."""
        self._write = None
        for cid in list(self.pings):
            if cid not in self.pings_to_send:
                del self.pings[cid]
        for channel in self.registry.connection_lost():
            self.channel_ended(channel)

    def received(self, payload: bytes) -> None:
        """Route one text message: data frames by ``chanId``, events by name."""
        self.frames_received += 1
        try:
            msg = loads(payload)
        except ValueError:
            self.drop("not JSON", payload)
            return
        if type(msg) is list:
            if self.sequence is not None and self._sequence_gap(msg):
                return
            if msg and type(msg[0]) is int:
                handler = self.routes.get(msg[0])
                if handler is not None:
                    try:
                        handler(msg)
                    except Exception as error:
                        self.drop(f"malformed ({type(error).__name__})", msg)
                    return
                # Expected now and then: Bitfinex sends heartbeats before `subscribed`, and
                # frames already in flight after `unsubscribe`.
                self.frames_unrouted += 1
                log.debug("%s: frame for channel %r, which is not live here", self.name, msg[0])
                return
            self.drop("not a channel frame", msg)
        elif type(msg) is dict:
            try:
                self.on_event(msg)
            except Exception:
                log.exception("%s: could not handle event %.200r", self.name, msg)
        else:
            self.drop("neither event nor channel frame", msg)

    def _sequence_gap(self, msg: list[Any]) -> bool:
        assert self.sequence is not None
        gap = self.sequence.check(msg, strip=True)
        if gap is None:
            return False
        self.report(
            st.StatusEvent(
                st.SEQUENCE_GAP, self.name, f"expected {gap.stream} sequence {gap.expected}, got {gap.received}",
                data=gap._asdict(),
            )
        )
        self.request_reconnect("sequence gap: frames were lost")
        return True

    def pump(self) -> None:
        """Send what is waiting and may go now (the transport calls it after a wakeup)."""

    def oldest_unanswered(self) -> Optional[float]:
        """When the oldest request still awaiting the server's answer was sent (``None``: none
        is). A request unanswered for long means the answer was lost: the transport reconnects."""
        return self.registry.oldest_request()

    # -- sending --------------------------------------------------------------------------

    def send(self, message: Any) -> bool:
        """Encode and write ``message``; return False if the socket is not open."""
        write = self._write
        return write is not None and write(dumps(message))

    def set_flags(self, flags: int) -> None:
        """Change the ``conf`` flags (sent at once if the connection is open)."""
        if flags != self.flags:
            self.flags = flags
            self.send({"event": "conf", "flags": flags})

    def ping(self, cid: int, callback: Optional[Callback], wait_for_open: bool = False) -> bool:
        """Send ``{"event": "ping", "cid": cid}``; the pong goes to ``callback``.

        :param wait_for_open: if the socket is not open, send the ping once it is (instead of
            returning False).
        """
        self.pings[cid] = callback
        if self.send({"event": "ping", "cid": cid}):
            return True
        if wait_for_open:
            self.pings_to_send.append(cid)
            return True
        del self.pings[cid]
        return False

    # -- channels -------------------------------------------------------------------------

    def add_channel(self, channel: Channel) -> None:
        """Take a channel and request it as soon as the connection can."""
        self.registry.add(channel)
        self._request(channel)

    def end_channel(self, identifier: str) -> bool:
        """End a channel at the user's request; return False if this connection lacks it."""
        channel = self.registry.get(identifier)
        if channel is None:
            return False
        if channel.state is ChannelState.ACTIVE:
            self.registry.deactivate(channel)
            channel.resubscribe_when_unsubscribed = False
            if not self.send({"event": "unsubscribe", "chanId": channel.chan_id}):
                self.registry.remove(channel)
                self.channel_ended(channel)
        elif channel.state is ChannelState.REQUESTED:
            channel.cancel_when_subscribed = True
        elif channel.state is ChannelState.PENDING:
            self.registry.remove(channel)
            self.channel_ended(channel)
        return True

    def resubscribe_all(self) -> None:
        """Unsubscribe and subscribe every channel again (after maintenance ends)."""
        for channel in self.registry:
            self.resubscribe(channel)

    def resubscribe(self, channel: Channel) -> None:
        """Unsubscribe ``channel`` and subscribe it again once the server confirms (to rebuild
        a book that failed its checksum, or after maintenance)."""
        if channel.state is ChannelState.ACTIVE and not channel.cancel_when_subscribed:
            self.registry.deactivate(channel)
            channel.resubscribe_when_unsubscribed = True
            self.send({"event": "unsubscribe", "chanId": channel.chan_id})
        elif channel.state is ChannelState.PENDING:
            self._request(channel)

    def _request(self, channel: Channel) -> None:
        ready = self.is_open and not self.paused and channel.state is ChannelState.PENDING
        if ready and self.send(channel.spec.request()):
            self.registry.requested(channel, self.clock())

    def _after_open(self) -> None:
        for channel in self.registry:
            self._request(channel)

    # -- events ---------------------------------------------------------------------------

    def on_event(self, event: dict[str, Any]) -> None:
        """Handle one ``{"event": ...}`` message."""
        kind = event.get("event")
        if kind == "subscribed":
            self._on_subscribed(event)
        elif kind == "unsubscribed":
            self._on_unsubscribed(event)
        elif kind == "error":
            self._on_error(event)
        elif kind == "info":
            self._on_info(event)
        elif kind == "pong":
            self._on_pong(event)
        elif kind == "conf":
            if event.get("status") != "OK":
                self.report(st.StatusEvent(st.SERVER_ERROR, self.name, "conf failed", event.get("code"), data=event))
        else:
            log.debug("%s: unhandled event %.200r", self.name, event)

    def _on_subscribed(self, event: dict[str, Any]) -> None:
        channel = self.registry.awaiting(event)
        chan_id = event.get("chanId")
        if channel is None or type(chan_id) is not int:
            log.warning("%s: subscribed event for nothing we asked: %.200r", self.name, event)
            return
        self.registry.activate(channel, chan_id)
        if channel.on_activate is not None:
            channel.on_activate()
        if channel.cancel_when_subscribed:
            self.registry.deactivate(channel)
            self.send({"event": "unsubscribe", "chanId": chan_id})
            return
        kind = st.SUBSCRIBED if channel.times_subscribed == 1 else st.RESUBSCRIBED
        self.report(st.StatusEvent(kind, self.name, subscription=channel.identifier, data=chan_id))
        self.channel_subscribed(channel, event)

    def channel_subscribed(self, channel: Channel, event: dict[str, Any]) -> None:
        """A channel went live: tell its callback (the seed's contract)."""
        self.runner.run(channel.callback, event, channel.identifier)

    def _on_unsubscribed(self, event: dict[str, Any]) -> None:
        channel = self.registry.by_chan_id(event.get("chanId"))
        if channel is None or channel.state is not ChannelState.UNSUBSCRIBING:
            log.debug("%s: unsubscribed event for no channel we are ending: %.200r", self.name, event)
            return
        if channel.resubscribe_when_unsubscribed:
            channel.resubscribe_when_unsubscribed = False
            channel.state = ChannelState.PENDING
            channel.chan_id = None
            self._request(channel)
            return
        self.registry.remove(channel)
        self.report(st.StatusEvent(st.UNSUBSCRIBED, self.name, subscription=channel.identifier))
        self.runner.run(channel.callback, event, channel.identifier)
        self.channel_ended(channel)

    def _on_error(self, event: dict[str, Any]) -> None:
        channel = self.registry.awaiting(event)
        if channel is None:
            self.report(
                st.StatusEvent(st.SERVER_ERROR, self.name, str(event.get("msg", "")), _code(event), data=event)
            )
            return
        self.registry.remove(channel)
        self.channel_refused(channel, event)

    def _on_info(self, event: dict[str, Any]) -> None:
        code = event.get("code")
        if code is None:
            version = event.get("version")
            if version is not None and version != PROTOCOL_VERSION:
                self.report(
                    st.StatusEvent(st.SERVER_ERROR, self.name, f"server speaks protocol version {version}, not 2")
                )
            platform = event.get("platform")
            if isinstance(platform, dict) and platform.get("status") == 0:
                self.pause("platform in maintenance")
            return
        reason = str(event.get("msg", ""))
        if code == InfoCode.RECONNECT:
            self.report(st.StatusEvent(st.SERVER_INFO, self.name, reason or "server restarting", code))
            self.request_reconnect(f"server asked to reconnect (info {code})")
        elif code == InfoCode.MAINTENANCE_START:
            self.pause(reason or f"maintenance (info {code})")
        elif code == InfoCode.MAINTENANCE_END:
            self.resume(reason or f"maintenance over (info {code})")
        else:
            self.report(st.StatusEvent(st.SERVER_INFO, self.name, reason, _code(event), data=event))

    def pause(self, reason: str) -> None:
        """Hold requests and orders until :meth:`resume` (maintenance)."""
        if not self.paused:
            self.paused = True
            self.report(st.StatusEvent(st.PAUSED, self.name, reason))

    def resume(self, reason: str) -> None:
        """End a pause: resubscribe every channel and send what waited."""
        self.paused = False
        self.report(st.StatusEvent(st.RESUMED, self.name, reason))
        self.resubscribe_all()
        self.pump()

    def _on_pong(self, event: dict[str, Any]) -> None:
        cid = event.get("cid")
        if isinstance(cid, int) and cid in self.pings:
            self.runner.run(self.pings.pop(cid), event, self.name)

    # -- garbage --------------------------------------------------------------------------

    def drop(self, why: str, frame: object) -> None:
        """Log and skip a frame; the log is bounded however many arrive."""
        self.frames_dropped += 1
        count = self.frames_dropped
        if count <= DROP_LOG_FIRST:
            log.warning("%s: dropped a frame (%s): %.200r", self.name, why, frame)
        elif count % DROP_LOG_EVERY == 0:
            log.warning("%s: %d frames dropped so far; latest (%s): %.200r", self.name, count, why, frame)


class PublicConnection(ConnectionCore):
    """A connection carrying up to :attr:`capacity` public channels.

    :param capacity: channels this connection may carry (Bitfinex allows 25).
    """

    def __init__(self, name: str, report: st.StatusSink, runner: CallbackRunner, capacity: int, flags: int = 0) -> None:
        super().__init__(name, report, runner, flags)
        self.capacity = capacity

    @property
    def has_room(self) -> bool:
        """Whether one more channel fits."""
        return len(self.registry) < self.capacity


class AuthConnection(ConnectionCore):
    """The authenticated connection: the auth channel, orders and account messages.

    :param api_key: the API key (public, but not logged).
    :param secret: the API secret, used only to sign.
    :param nonces: where auth nonces come from.
    :param filters: the auth ``filter`` list, or ``None`` for everything.
    :param callback: the user's auth callback; gets every channel-0 message but heartbeats.
    :param pipeline: the order/calc outbox.
    :param wall_ms: wall clock in milliseconds, for the not-sent notifications.
    """

    def __init__(
        self,
        report: st.StatusSink,
        runner: CallbackRunner,
        api_key: str,
        secret: Secret,
        nonces: NonceGenerator,
        filters: Optional[list[str]],
        callback: Optional[Callback],
        pipeline: OrderPipeline,
        wall_ms: Callable[[], int],
        flags: int = 0,
        dms: Optional[int] = None,
    ) -> None:
        super().__init__("auth", report, runner, flags)
        self._api_key = api_key
        self._secret = secret
        self.nonces = nonces
        self.filters = filters
        self.callback = callback
        self.pipeline = pipeline
        self.wall_ms = wall_ms
        self.dms = dms
        self.authenticated = False
        self.auth_failed: Optional[str] = None
        """Why the last auth failed, until a new auth succeeds."""
        self.auth_sent_at: Optional[float] = None

    def _after_open(self) -> None:
        self.authenticated = False
        if self.send(auth_message(self._api_key, self._secret, self.nonces.next(), self.filters, dms=self.dms)):
            self.auth_sent_at = self.clock()

    def oldest_unanswered(self) -> Optional[float]:
        """Also counts an ``auth`` still awaiting its answer."""
        times = [t for t in (self.auth_sent_at, super().oldest_unanswered()) if t is not None]
        return min(times) if times else None

    def closed(self, reason: str) -> None:
        """The socket closed: queued orders wait for the next authentication; written ones the
        exchange had not answered yet are reported as unconfirmed (they are never re-sent)."""
        self.authenticated = False
        self.auth_sent_at = None
        for cid, pending in self.pipeline.take_unconfirmed():
            self.report(
                st.StatusEvent(
                    st.ORDER_UNCONFIRMED, self.name,
                    f"written before the connection closed ({reason}) and not answered; not re-sent: "
                    "check the order snapshot after re-authentication",
                    cid=cid, data=pending.message,
                )
            )
        super().closed(reason)

    def on_event(self, event: dict[str, Any]) -> None:
        """Handle ``auth`` here; hand the connection's other events to the user's callback too."""
        if event.get("event") == "auth":
            self._on_auth(event)
            return
        super().on_event(event)
        if event.get("event") in ("info", "error"):
            self.runner.run(self.callback, event, self.name)

    def _on_auth(self, event: dict[str, Any]) -> None:
        self.auth_sent_at = None
        if event.get("status") == "OK":
            self.authenticated = True
            self.auth_failed = None
            self.routes[AUTH_CHANNEL_ID] = self._deliver
            self.report(st.StatusEvent(st.AUTHENTICATED, self.name, data=event.get("userId")))
            self.runner.run(self.callback, event, self.name)
            self.pump()
            return
        self.authenticated = False
        reason = str(event.get("msg") or "authentication failed")
        code = _code(event)
        nonce_refused = code == ErrorCode.AUTH_NONCE or "nonce" in reason.lower()
        if nonce_refused:
            reason += " (this key saw larger nonces: raise nonce_multiplier if it keeps failing)"
        self.auth_failed = reason
        self.report(st.StatusEvent(st.AUTH_FAILED, self.name, reason, code))
        self.runner.run(self.callback, event, self.name)
        self.fail_queued(f"authentication failed: {reason}")
        if nonce_refused:
            # Time moves nonces up: a later attempt, with a fresh nonce, may pass.
            self.request_reconnect("retrying authentication with a fresh nonce")

    def _deliver(self, msg: list[Any]) -> None:
        kind = msg[1]
        if kind == HEARTBEAT:
            return
        if type(kind) is not str:
            raise MalformedFrame("account message without a type")
        if self.pipeline.unconfirmed:
            self.pipeline.confirm(order_cids(kind, msg[2] if len(msg) > 2 else None))
        self.runner.run(self.callback, msg, self.name)

    def submit(self, pending: PendingInput) -> None:
        """Queue an order input and send it as soon as the channel is authenticated."""
        if self.auth_failed is not None:
            self.report_not_sent([pending], f"authentication failed: {self.auth_failed}")
            return
        self.pipeline.submit(pending)
        self.pump()

    def submit_calc(self, names: list[str]) -> None:
        """Queue calc requests; they go out at most 8 per second."""
        if self.auth_failed is not None:
            self.report_not_sent([PendingInput("calc", calc_message(names))],
                                 f"authentication failed: {self.auth_failed}")
            return
        self.pipeline.submit_calc(names)
        self.pump()

    def pump(self) -> None:
        """Write queued inputs if authenticated and not paused; ask to be woken for throttled calcs."""
        if self.authenticated and not self.paused and self._write is not None:
            delay = self.pipeline.flush(self._write)
            if delay is not None:
                self.request_wakeup(delay)

    def fail_queued(self, reason: str) -> None:
        """Report every queued input as not sent (and forget it)."""
        self.report_not_sent(self.pipeline.drain(), reason)

    def report_not_sent(self, pending: list[PendingInput], reason: str) -> None:
        """Tell the status callback (once per cid) and the auth callback (an ``n`` notification
        per input, status ``ERROR``) that these inputs were never written."""
        for item in pending:
            payload = item.message[3]
            for cid in item.cids or (None,):
                self.report(st.StatusEvent(st.ORDER_NOT_SENT, self.name, reason, cid=cid, data=item.message))
            notification = [0, "n", [self.wall_ms(), f"{item.name}-req", None, None, payload, None, "ERROR",
                                     f"Not sent: {reason}"]]
            self.runner.run(self.callback, notification, self.name)


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
        return [row[_ORDER_CID] for row in rows if len(row) > _ORDER_CID and type(row[_ORDER_CID]) is int]
    if kind == "os":
        return [row[_ORDER_CID] for row in data if type(row) is list and len(row) > _ORDER_CID and type(row[_ORDER_CID]) is int]
    index = _ORDER_CID if kind in ("on", "ou", "oc") else _TRADE_CID if kind in ("te", "tu") else None
    if index is not None and len(data) > index and type(data[index]) is int:
        return [data[index]]
    return []


def _code(event: dict[str, Any]) -> Optional[int]:
    code = event.get("code")
    return code if isinstance(code, int) else None

