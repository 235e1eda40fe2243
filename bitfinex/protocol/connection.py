"""The sans-I/O state of one WebSocket connection to Bitfinex.

The transport drives a :class:`ConnectionCore` with three calls: :meth:`~ConnectionCore.opened`
with a :class:`Transport` (what the core may do to the socket while it is open),
:meth:`~ConnectionCore.received` with each text message, and :meth:`~ConnectionCore.closed`. The
core decides everything else: the ``conf`` and ``subscribe`` requests to send, where each frame
goes, what the server's events mean. It tells the session it belongs to about its channels
through the :class:`ChannelEvents` it was built with, and it reads time only from the clock it
was given (the shell's).

:class:`PublicConnection` carries public channels; :class:`~bitfinex.protocol.account.AuthConnection`
carries the authenticated channel (``chanId`` 0), its orders and its account messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Optional, Protocol

from bitfinex.protocol import codec
from bitfinex.protocol import status as st
from bitfinex.protocol.callbacks import Callback, CallbackRunner
from bitfinex.protocol.constants import PROTOCOL_VERSION, InfoCode
from bitfinex.protocol.registry import Channel, ChannelRegistry
from bitfinex.protocol.render import render
from bitfinex.protocol.sequence import SequenceChecker
from bitfinex.protocol.shapes import FrameShapeError
from bitfinex.protocol.states import ChannelEvent, ChannelState

log = logging.getLogger("bitfinex.connection")

LOG_FIRST = 10
"""Dropped frames (and internal errors) logged in full per connection before the log switches
to periodic summaries."""
LOG_EVERY = 1000
"""After the first :data:`LOG_FIRST`, one summary line per this many."""


class Transport(Protocol):
    """What a connection core may do to its socket while it is open (given to
    :meth:`ConnectionCore.opened`, taken back at :meth:`ConnectionCore.closed`)."""

    def write(self, data: bytes) -> bool:
        """Send one text message; return False if the socket can take no more (it is closing)."""

    def reconnect(self, reason: str) -> None:
        """Drop the connection and connect again (with backoff)."""

    def wake_after(self, delay: float) -> None:
        """Call the core's :meth:`~ConnectionCore.pump` in ``delay`` seconds (once, however
        often asked before then)."""


class ChannelEvents(Protocol):
    """What a connection core tells the session that owns it."""

    def channel_ended(self, connection: ConnectionCore, channel: Channel) -> None:
        """``channel`` left ``connection`` for good (unsubscribed, or ended with its socket)."""

    def channel_refused(self, connection: ConnectionCore, channel: Channel, event: dict[str, Any]) -> None:
        """The server answered ``channel``'s ``subscribe`` with the ``error`` ``event``."""


_SHORT_INPUT_LENGTH = codec.SHORT_INPUT_LENGTH


class ConnectionCore:
    """What one connection knows and does, without any I/O.

    :param name: ``"auth"`` or ``"public-N"``; appears in status events and logs.
    :param events: the session to tell about channels that end or are refused.
    :param report: where status events go.
    :param runner: runs user callbacks.
    :param clock: the shell's clock in seconds (the reactor's), to date requests awaiting an
        answer.
    :param flags: ``conf`` flags to set when the connection opens (0 sends no ``conf``).
    :param sequence: checks ``SEQ_ALL`` numbers and strips them before callbacks see frames;
        ``None`` checks nothing.
    :param decoder: the name of the JSON decoder (a key of
        :data:`bitfinex.protocol.codec.DECODERS`: ``"orjson"`` or ``"json"``); the best
        installed one (:data:`~bitfinex.protocol.codec.DECODER_NAME`) by default.
    """

    def __init__(
        self,
        name: str,
        *,
        events: ChannelEvents,
        report: st.StatusSink,
        runner: CallbackRunner,
        clock: Callable[[], float],
        flags: int = 0,
        sequence: Optional[SequenceChecker] = None,
        decoder: Optional[str] = None,
    ) -> None:
        self.name = name
        self.events = events
        self.report = report
        self.runner = runner
        self.clock = clock
        self.flags = flags
        self.sequence = sequence
        self.registry = ChannelRegistry()
        self.routes = self.registry.routes
        name = decoder if decoder is not None else codec.DECODER_NAME
        self.decoder = name
        """Which JSON decoder reads this connection's frames."""
        self._loads = codec.DECODERS[name]
        self._loads_short = codec.SHORT_INPUT_DECODERS[name]
        self.frames_received = 0
        """Count of messages received; the transport's watchdog reads it."""
        self.frames_dropped = 0
        """Frames dropped as malformed (not JSON, or the wrong shape for their channel)."""
        self.frames_unrouted = 0
        """Frames for a channel id that is not live on this connection (skipped)."""
        self.internal_errors = 0
        """Frames whose handling hit a bug in this library (see :meth:`received`)."""
        self.paused = False
        """True during a maintenance (info 20060 until 20061): requests and orders wait."""
        self.pings: dict[int, Optional[Callback]] = {}
        self.pings_to_send: list[int] = []
        self._transport: Optional[Transport] = None
        self._events: dict[str, Callable[[dict[str, Any]], None]] = {
            "subscribed": self._on_subscribed,
            "unsubscribed": self._on_unsubscribed,
            "error": self._on_error,
            "info": self._on_info,
            "pong": self._on_pong,
            "conf": self._on_conf,
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} open={self.is_open} channels={len(self.registry)}>"

    @property
    def is_open(self) -> bool:
        """Whether the socket is open."""
        return self._transport is not None

    # -- transport side -------------------------------------------------------------------

    def opened(self, transport: Transport) -> None:
        """The socket is open: send ``conf``, the requests and pings that waited for it."""
        self._transport = transport
        self.paused = False
        if self.sequence is not None:
            self.sequence.reset()
        if self.flags:
            self.send({"event": "conf", "flags": self.flags})
        self._after_open()
        waiting, self.pings_to_send = self.pings_to_send, []
        for cid in waiting:
            self.send({"event": "ping", "cid": cid})

    def closing(self) -> None:
        """The transport started closing the socket (a close, or a drop to reconnect): nothing
        more is sent or read on it; :meth:`closed` follows once it is gone."""
        self._transport = None

    def closed(self, reason: str) -> None:
        """The socket closed (for ``reason``); every live channel goes back to ``PENDING``."""
        self._transport = None
        for cid in list(self.pings):
            if cid not in self.pings_to_send:
                del self.pings[cid]
        for channel in self.registry.connection_lost():
            self.events.channel_ended(self, channel)

    def received(self, payload: bytes) -> None:
        """Handle one text message from the server. Never raises.

        Each kind of input has one outcome:

        - **not JSON** (the decoder's verdict, the same with orjson and with the standard
          library: invalid UTF-8, ``NaN``, numbers that overflow, nesting deeper than
          :data:`~bitfinex.protocol.codec.MAX_DEPTH`...), a JSON value that is neither an array
          nor an object, an array that does not start with an integer channel id: dropped,
          counted in :attr:`frames_dropped`, logged (a bounded rendering; the first
          :data:`LOG_FIRST` in full, then one line per :data:`LOG_EVERY`);
        - **a frame for a channel id not live here**: skipped quietly and counted in
          :attr:`frames_unrouted` (Bitfinex sends heartbeats before ``subscribed``, and frames
          already in flight after ``unsubscribe``);
        - **a frame of the wrong shape for its channel** (see :mod:`bitfinex.protocol.shapes`):
          dropped like garbage; it never reaches a callback;
        - **a ``SEQ_ALL`` gap**: reported (``sequence_gap``) and the connection resynced by
          reconnecting;
        - **an event with fields of the wrong type** (a ``subscribed`` without an integer
          ``chanId``, an answer to nothing asked): logged and ignored, no state changes;
        - **anything raised while handling it** other than the above is a bug in this library:
          logged with its traceback, reported as an ``internal_error`` status event, counted in
          :attr:`internal_errors`, and the channel recovered: a public channel is unsubscribed
          and subscribed again (a maintained book rebuilds from a new snapshot), the
          authenticated channel reconnects (fresh snapshots after re-authentication; orders are
          never re-sent).

        An exception in a user callback is not among these: the callback runner reports it
        (``callback_error``) and the stream goes on. After calling this the caller has nothing
        to do: every effect goes through the transport, callbacks and status events.

        The transport hands over every message of one read at once, with
        :meth:`received_many`; this is the same for one message.
        """
        self.received_many((payload,))

    def received_many(self, payloads: Sequence[bytes]) -> None:
        """Handle text messages in arrival order, each as :meth:`received` says. Never raises.

        Once the socket starts closing (the core asked to reconnect, on a sequence gap for
        example, or the transport called :meth:`closing`, say because a callback stopped the
        client), the messages still in ``payloads`` are not read: they belong to a connection
        that is going away, and its successor starts from fresh snapshots.

        One call per read of the socket, not per message: the loop keeps its lookups local, so a
        message costs no method call and no attribute lookups of its own before its route.

        The loop also times each message, one clock reading per message (from the end of the one
        before): a public channel's frame that held the thread longer than the runner's
        threshold, its callback's time included, is reported as that subscription's slow
        callback (:meth:`~bitfinex.protocol.callbacks.CallbackRunner.slow`). Routes call their
        callbacks directly for that reason; everything else runs them through
        :meth:`~bitfinex.protocol.callbacks.CallbackRunner.run`, which times them itself.
        """
        self.frames_received += len(payloads)
        loads = self._loads
        loads_short = self._loads_short
        short = _SHORT_INPUT_LENGTH
        routes = self.routes
        sequence = self.sequence
        events = self._events
        transport = self._transport
        stopwatch = self.runner.stopwatch
        threshold = self.runner.slow_threshold
        started = stopwatch()
        for payload in payloads:
            msg: Any = payload
            routed: Optional[int] = None
            try:
                msg = loads_short(payload) if len(payload) <= short else loads(payload)
                if type(msg) is list:
                    if sequence is not None and self._sequence_gap(msg):
                        return
                    chan_id = msg[0] if msg else None
                    if type(chan_id) is not int:
                        self.drop("not a channel frame", msg)
                    elif (handler := routes.get(chan_id)) is None:
                        self.frames_unrouted += 1
                        log.debug("%s: frame for channel %r, which is not live here", self.name, chan_id)
                    else:
                        handler(msg)
                        routed = chan_id
                elif type(msg) is dict:
                    kind = msg.get("event")
                    handle = events.get(kind) if type(kind) is str else None
                    if handle is None:
                        log.debug("%s: unhandled event %s", self.name, render(msg))
                    else:
                        handle(msg)
                else:
                    self.drop("neither event nor channel frame", msg)
            except FrameShapeError as error:
                self.drop(str(error), msg)
            except ValueError as error:
                if msg is payload:
                    self.drop("not JSON", payload)
                else:
                    self.internal_error(msg, error)
            except Exception as error:
                self.internal_error(msg, error)
            finished = stopwatch()
            if finished - started > threshold and routed is not None:
                self._held(routed, finished - started)
            started = finished
            if self._transport is not transport:
                return

    def _held(self, chan_id: int, elapsed: float) -> None:
        """A frame of channel ``chan_id`` held the thread for ``elapsed`` seconds."""
        channel = self.registry.by_chan_id(chan_id)
        if channel is not None:
            self.runner.slow(channel.identifier, elapsed)

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
        self.reconnect("sequence gap: frames were lost")
        return True

    def pump(self) -> None:
        """Send what is waiting and may go now (the transport calls it after a wakeup)."""

    def oldest_unanswered(self) -> Optional[float]:
        """When (on the core's clock) the oldest request still awaiting the server's answer was
        sent (``None``: none is). A request unanswered for long means the answer was lost: the
        transport reconnects."""
        return self.registry.oldest_request()

    # -- sending --------------------------------------------------------------------------

    def send(self, message: Any) -> bool:
        """Encode and write ``message``; return False if the socket is not open."""
        transport = self._transport
        return transport is not None and transport.write(codec.dumps(message))

    def reconnect(self, reason: str) -> None:
        """Ask the transport to drop the connection and connect again (if it is open)."""
        if self._transport is not None:
            self._transport.reconnect(reason)

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
        was_active = channel.state is ChannelState.ACTIVE
        state = self.registry.fire(channel, ChannelEvent.END, self.clock())
        if was_active:
            self.send({"event": "unsubscribe", "chanId": channel.chan_id})
        elif state is ChannelState.ENDED:
            self.events.channel_ended(self, channel)
        return True

    def rebuild_all(self) -> None:
        """Unsubscribe and subscribe every channel again (after maintenance ends)."""
        for channel in self.registry:
            self.rebuild(channel)

    def rebuild(self, channel: Channel) -> None:
        """Unsubscribe ``channel`` and subscribe it again once the server confirms (to rebuild
        a book that failed its checksum, after maintenance, after a bug while handling one of
        its frames). A channel not live yet is simply requested when it can be."""
        if channel.state is ChannelState.ACTIVE:
            self.registry.fire(channel, ChannelEvent.REBUILD, self.clock())
            self.send({"event": "unsubscribe", "chanId": channel.chan_id})
        elif channel.state is ChannelState.PENDING:
            self._request(channel)

    def _request(self, channel: Channel) -> None:
        ready = self.is_open and not self.paused and channel.state is ChannelState.PENDING
        if ready and self.send(channel.spec.request()):
            self.registry.fire(channel, ChannelEvent.SEND, self.clock())

    def _after_open(self) -> None:
        for channel in self.registry:
            self._request(channel)

    # -- events ---------------------------------------------------------------------------

    def _on_subscribed(self, event: dict[str, Any]) -> None:
        channel = self.registry.awaiting(event)
        chan_id = event.get("chanId")
        if channel is None or type(chan_id) is not int:
            log.warning("%s: subscribed event for nothing we asked: %s", self.name, render(event))
            return
        state = self.registry.activate(channel, chan_id, self.clock())
        if state is ChannelState.UNSUBSCRIBING:  # ended by the user while it was requested
            self.send({"event": "unsubscribe", "chanId": chan_id})
            return
        if channel.on_activate is not None:
            channel.on_activate()
        kind = st.SUBSCRIBED if channel.times_subscribed == 1 else st.RESUBSCRIBED
        self.report(st.StatusEvent(kind, self.name, subscription=channel.identifier, data=chan_id))
        self.runner.run(channel.event_callback, event, channel.identifier)

    def _on_unsubscribed(self, event: dict[str, Any]) -> None:
        channel = self.registry.by_chan_id(event.get("chanId"))
        if channel is None or channel.state not in (ChannelState.UNSUBSCRIBING, ChannelState.RESUBSCRIBING):
            log.debug("%s: unsubscribed event for no channel we are ending: %s", self.name, render(event))
            return
        if self.registry.fire(channel, ChannelEvent.UNSUBSCRIBED) is ChannelState.PENDING:
            self._request(channel)
            return
        self.report(st.StatusEvent(st.UNSUBSCRIBED, self.name, subscription=channel.identifier))
        self.runner.run(channel.event_callback, event, channel.identifier)
        self.events.channel_ended(self, channel)

    def _on_error(self, event: dict[str, Any]) -> None:
        channel = self.registry.awaiting(event)
        if channel is None:
            self.report(st.StatusEvent(st.SERVER_ERROR, self.name, event_text(event.get("msg")), event_code(event), data=event))
            return
        self.registry.fire(channel, ChannelEvent.REFUSED)
        self.events.channel_refused(self, channel, event)

    def _on_info(self, event: dict[str, Any]) -> None:
        code = event.get("code")
        if code is None:
            version = event.get("version")
            if version is not None and version != PROTOCOL_VERSION:
                self.report(
                    st.StatusEvent(st.SERVER_ERROR, self.name, f"server speaks protocol version {render(version)}, not 2")
                )
            platform = event.get("platform")
            if type(platform) is dict and platform.get("status") == 0:
                self.pause("platform in maintenance")
            return
        reason = event_text(event.get("msg"))
        if code == InfoCode.RECONNECT:
            self.report(st.StatusEvent(st.SERVER_INFO, self.name, reason or "server restarting", code))
            self.reconnect(f"server asked to reconnect (info {code})")
        elif code == InfoCode.MAINTENANCE_START:
            self.pause(reason or f"maintenance (info {code})")
        elif code == InfoCode.MAINTENANCE_END:
            self.resume(reason or f"maintenance over (info {code})")
        else:
            self.report(st.StatusEvent(st.SERVER_INFO, self.name, reason, event_code(event), data=event))

    def _on_conf(self, event: dict[str, Any]) -> None:
        if event.get("status") != "OK":
            self.report(st.StatusEvent(st.SERVER_ERROR, self.name, "conf failed", event_code(event), data=event))

    def pause(self, reason: str) -> None:
        """Hold requests and orders until :meth:`resume` (maintenance)."""
        if not self.paused:
            self.paused = True
            self.report(st.StatusEvent(st.PAUSED, self.name, reason))

    def resume(self, reason: str) -> None:
        """End a pause: resubscribe every channel and send what waited."""
        self.paused = False
        self.report(st.StatusEvent(st.RESUMED, self.name, reason))
        self.rebuild_all()
        self.pump()

    def _on_pong(self, event: dict[str, Any]) -> None:
        cid = event.get("cid")
        if type(cid) is int and cid in self.pings:
            self.runner.run(self.pings.pop(cid), event, self.name)

    # -- what goes wrong ------------------------------------------------------------------

    def drop(self, why: str, frame: object) -> None:
        """Log and skip a malformed frame; the log is bounded however many arrive."""
        self.frames_dropped += 1
        count = self.frames_dropped
        if count <= LOG_FIRST:
            log.warning("%s: dropped a frame (%s): %s", self.name, why, render(frame))
        elif count % LOG_EVERY == 0:
            log.warning("%s: %d frames dropped so far; latest (%s): %s", self.name, count, why, render(frame))

    def internal_error(self, frame: object, error: Exception) -> None:
        """A bug in this library while handling ``frame``: log it with its traceback, report
        it, and recover the frame's channel (see :meth:`received`)."""
        self.internal_errors += 1
        count = self.internal_errors
        if count <= LOG_FIRST or count % LOG_EVERY == 0:
            log.error(
                "%s: internal error #%d while handling %s (a bug in bitfinex-wss; please report it)",
                self.name, count, render(frame), exc_info=error,
            )
        chan_id = frame[0] if type(frame) is list and frame and type(frame[0]) is int else None
        channel = self.registry.by_chan_id(chan_id) if chan_id is not None else None
        self.report(
            st.StatusEvent(
                st.INTERNAL_ERROR, self.name, f"{type(error).__name__}: {error}",
                subscription=channel.identifier if channel is not None else None,
            )
        )
        self.recover(chan_id, channel)

    def recover(self, chan_id: Optional[int], channel: Optional[Channel]) -> None:
        """Bring the channel of a frame that hit a bug back to a known state: rebuild it."""
        if channel is not None:
            self.rebuild(channel)


class PublicConnection(ConnectionCore):
    """A connection carrying up to :attr:`capacity` public channels.

    :param capacity: channels this connection may carry (Bitfinex allows 25); the other
        arguments are :class:`ConnectionCore`'s.
    """

    def __init__(self, name: str, *, capacity: int, **core: Any) -> None:
        super().__init__(name, **core)
        self.capacity = capacity

    @property
    def has_room(self) -> bool:
        """Whether one more channel fits."""
        return len(self.registry) < self.capacity


def event_code(event: dict[str, Any]) -> Optional[int]:
    """An event's ``code`` if it is an integer, else ``None``."""
    code = event.get("code")
    return code if type(code) is int else None


def event_text(value: object) -> str:
    """An event's text field as a string, whatever the server put there."""
    if value is None:
        return ""
    return value if type(value) is str else render(value)
