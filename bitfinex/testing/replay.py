"""Replaying a recording to clients: reproducible bug reports and backtests.

A recording (:mod:`bitfinex.recording`, made with ``WssClient(record=...)``) holds every frame a
client received. A :class:`~bitfinex.testing.LocalExchange` made with ``replay=`` serves it
instead of its simulated market::

    from bitfinex.testing import LocalExchange

    with LocalExchange(replay="session.jsonl", replay_speed=1.0) as exchange:
        ...  # point a client at exchange.url and subscribe as the recorded client did

What a connecting client gets:

- the recorded ``info`` greeting, and ``ping`` and ``unauth`` answered as Bitfinex answers
  them; ``conf`` answered OK for flags the recorded client had (the union of every ``conf`` the
  recording confirms: its frames carry those), and refused with 10050 for any other flag, which
  the recorded frames could not honour; garbage and unknown events with Bitfinex's ``error`` events (the guard the
  simulated exchange has too: :class:`~bitfinex.testing.requests.RequestSession`);
- for a ``subscribe`` to a channel the recording holds, the recorded ``subscribed`` answer
  (chanId as recorded, ``subId`` echoed from the request), then the channel's recorded frames
  in their recorded order, each as many seconds after the answer as it came after it in the
  recording, divided by the speed (``replay_speed=None``: as fast as possible); a channel that
  is not in the recording is refused with error 10300;
- for an ``auth``, the recorded ``auth`` answer (the signature is not checked) and the recorded
  frames of the authenticated channel, timed the same way; order inputs (any array) are not
  answered;
- once a channel's recorded frames are all sent, heartbeats as on a quiet Bitfinex channel;
  the exchange logs it (``replay: ticker tBTCUSD: all 10 recorded frames sent``, at INFO on the
  ``bitfinex.testing.replay`` logger: ``serve`` prints it), and ``replay ended`` once every
  recorded channel was sent on a connection.

Each channel is replayed from its first subscription in the recording (a recording that spans a
reconnect holds more than one); timing is kept per channel, so frames of different channels may
interleave differently than recorded, never frames of one channel. Replay with the options the
recorded client had (a client that asks for ``sequence_check`` gets sequence numbers only if
the recorded one did).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from bitfinex.protocol.codec import Decoder, dumps_js, loads
from bitfinex.protocol.constants import AUTH_CHANNEL_ID, PROTOCOL_VERSION, ConfFlag
from bitfinex.protocol.symbols import normalize_symbol
from bitfinex.recording import PathArgument, read_recording
from bitfinex.testing.requests import EventHandler, RequestSession, echoable
from bitfinex.testing.server import SessionFactory

__all__ = [
    "AUTH_KEY",
    "BATCH_SIZE",
    "DEFAULT_GREETING",
    "ChannelKey",
    "RecordedChannel",
    "Recording",
    "Replay",
    "ReplaySession",
    "channel_key",
]

log = logging.getLogger("bitfinex.testing.replay")

ChannelKey = tuple[str, ...]
"""What identifies a channel in a request and in its answer: ``("ticker", "tBTCUSD")``,
``("book", "tBTCUSD", "P0", "F0", "25")``, ``("candles", "trade:1m:tBTCUSD")``, ``("auth",)``."""

AUTH_KEY: ChannelKey = ("auth",)
"""The key of the authenticated channel (channel 0)."""

BATCH_SIZE = 500
"""Frames sent per reactor turn when they are due at once, so a fast replay never starves the
reactor (closing, pings, other connections)."""


def channel_key(message: Mapping[str, Any]) -> Optional[ChannelKey]:
    """Return the key of the channel a ``subscribe`` request or ``subscribed`` answer names.

    Defaults are filled in as Bitfinex fills them (books: ``P0``, ``F0``, ``25``), so a request
    matches its answer whichever fields either spells out.

    :returns: ``None`` if the message names no channel this module knows.
    """
    channel = message.get("channel")
    if channel in ("candles", "status"):
        key = _key_field(message.get("key"))
        return (channel, key) if key is not None else None
    if channel not in ("ticker", "trades", "book"):
        return None
    try:
        symbol = normalize_symbol(message.get("symbol") or message.get("pair"))
    except (TypeError, ValueError):
        return None
    if channel != "book":
        return (channel, symbol)
    precision, frequency, length = (_key_field(message.get(k, v)) for k, v in (("prec", "P0"), ("freq", "F0"), ("len", "25")))
    if precision is None or frequency is None or length is None:
        return None
    return ("book", symbol, precision, frequency, length)


def _key_field(value: Any) -> Optional[str]:
    """A request field as its key text; ``None`` for an array or object, which names no channel
    (and whose ``str()``, nested deep enough, would exhaust the stack)."""
    return None if isinstance(value, (list, dict)) else str(value)


@dataclass
class RecordedChannel:
    """One channel of a recording: its answer and its frames.

    :param key: the channel's :data:`ChannelKey`.
    :param answer: the recorded ``subscribed`` (or ``auth``) event.
    :param answered_at: when the answer was received (Unix seconds).
    :param frames: ``(seconds after the answer, frame text)`` for each of the channel's frames,
        heartbeats included, in recorded order.
    """

    key: ChannelKey
    answer: dict[str, Any]
    answered_at: float
    frames: list[tuple[float, bytes]] = field(default_factory=list)


DEFAULT_GREETING: dict[str, Any] = {"event": "info", "version": PROTOCOL_VERSION, "platform": {"status": 1}}
"""The ``info`` event a replay greets with when the recording holds none."""


class Recording:
    """The channels of a recording, ready to replay.

    :param channels: the recorded channels by key.
    :param greeting: the recorded ``info`` event a connection opened with.
    :param flags: every ``conf`` flag the recording confirms (OR-ed together).
    """

    def __init__(
        self,
        channels: Mapping[ChannelKey, RecordedChannel],
        greeting: Mapping[str, Any] = DEFAULT_GREETING,
        flags: int = 0,
    ) -> None:
        self.flags = flags
        """Every ``conf`` flag the recorded client had: a replaying client may ask for these."""
        self.channels = dict(channels)
        """The recorded channels by key."""
        self.greeting = dict(greeting)
        """The ``info`` event each replayed connection opens with."""

    def __repr__(self) -> str:
        return f"<Recording channels={len(self.channels)} frames={sum(len(c.frames) for c in self.channels.values())}>"

    @classmethod
    def load(cls, path: PathArgument) -> Recording:
        """Read a recording made by :class:`~bitfinex.recording.FrameRecorder`.

        :raises ValueError: for a line that is not a recorded frame.
        :raises OSError: if the file cannot be read.
        """
        channels: dict[ChannelKey, RecordedChannel] = {}
        greeting: Optional[dict[str, Any]] = None
        flags = 0
        live: dict[str, dict[int, RecordedChannel]] = {}  # per recorded connection: its channels by chanId
        for entry in read_recording(path):
            try:
                message = loads(entry.frame)
            except (ValueError, RecursionError):
                continue
            on_connection = live.setdefault(entry.connection, {})
            if isinstance(message, list):
                channel = on_connection.get(message[0]) if message and type(message[0]) is int else None
                if channel is not None:
                    channel.frames.append((entry.t - channel.answered_at, entry.frame.encode()))
            elif isinstance(message, dict):
                if greeting is None and message.get("event") == "info" and "version" in message:
                    greeting = message
                if message.get("event") == "conf" and message.get("status") == "OK" and type(message.get("flags")) is int:
                    flags |= message["flags"]
                _track_event(message, entry.t, channels, on_connection)
        return cls(channels, greeting or DEFAULT_GREETING, flags)


class Replay:
    """A recording and the speed to replay it at: what ``LocalExchange(replay=...)`` serves.

    :param path: a recording made by :class:`~bitfinex.recording.FrameRecorder`.
    :param speed: how many times faster than recorded to replay (1.0: as recorded); ``None``
        for as fast as possible.
    :raises ValueError: if ``speed`` is not a positive number, or for a line of the file that
        is not a recorded frame.
    :raises OSError: if the file cannot be read.
    """

    def __init__(self, path: PathArgument, speed: Optional[float] = 1.0) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"replay speed must be a positive number or None, got {speed!r}")
        self.speed = speed
        """How many times faster than recorded (``None``: as fast as possible)."""
        self.recording = Recording.load(path)
        """The recording being replayed."""

    def __repr__(self) -> str:
        return f"<Replay {self.recording!r} speed={self.speed}>"

    def sessions(self, reactor: Any, decoder: Optional[Decoder] = None) -> SessionFactory:
        """Return what makes the :class:`ReplaySession` of each connection.

        :param reactor: the reactor the server runs on (its clock times the frames).
        :param decoder: reads client frames (``None``: the installed decoder).
        """
        return lambda send: ReplaySession(self.recording, send, reactor, self.speed, decoder)


def _track_event(
    event: dict[str, Any], t: float, channels: dict[ChannelKey, RecordedChannel], live: dict[int, RecordedChannel]
) -> None:
    """Follow one recorded event's effect on which channel each chanId of its connection is."""
    kind = event.get("event")
    if kind == "info" and "version" in event:
        live.clear()  # the greeting of a new socket: the chanIds of the previous one are void
        return
    chan_id = event.get("chanId")
    if type(chan_id) is not int:
        return
    if kind == "unsubscribed":
        live.pop(chan_id, None)
        return
    if kind == "subscribed":
        key = channel_key(event)
    elif kind == "auth" and event.get("status") == "OK":
        key = AUTH_KEY
    else:
        return
    if key is None:
        return
    if key in channels:
        live.pop(chan_id, None)  # a later subscription of a channel already recorded
        return
    channel = RecordedChannel(key, event, t)
    channels[key] = channel
    live[chan_id] = channel


class _Playback:
    """Sends one recorded channel's frames on time."""

    def __init__(
        self,
        channel: RecordedChannel,
        chan_id: int,
        send: Callable[[bytes], None],
        reactor: Any,
        speed: Optional[float],
        ended: Callable[[_Playback], None],
    ) -> None:
        self.chan_id = chan_id
        self.channel = channel
        self._ended = ended
        self._frames = channel.frames
        self._send = send
        self._reactor = reactor
        self._speed = speed
        self._next = 0
        self._started = reactor.seconds()
        self.last_sent = self._started
        self._call: Any = None

    @property
    def finished(self) -> bool:
        """Whether every recorded frame was sent."""
        return self._next >= len(self._frames)

    def pump(self) -> None:
        """Send every frame that is due, then wait for the next one."""
        self._call = None
        now = self._reactor.seconds()
        elapsed = now - self._started
        for _ in range(BATCH_SIZE):
            if self.finished:
                self._ended(self)
                return
            offset, frame = self._frames[self._next]
            due = offset / self._speed if self._speed is not None else 0.0
            if due > elapsed:
                self._call = self._reactor.callLater(due - elapsed, self.pump)
                return
            self._send(frame)
            self._next += 1
            self.last_sent = now
        if self.finished:
            self._ended(self)
            return
        self._call = self._reactor.callLater(0, self.pump)

    def stop(self) -> None:
        """Send nothing more."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None


class ReplaySession(RequestSession):
    """The server side of one connection of a replay.

    :param recording: what to replay.
    :param send: writes one text frame to the client.
    :param reactor: the server's reactor (timers and clock).
    :param speed: how many times faster than recorded; ``None``: as fast as possible.
    :param decoder: reads client frames (``None``: the installed decoder).
    """

    _log = log

    def __init__(
        self,
        recording: Recording,
        send: Callable[[bytes], None],
        reactor: Any,
        speed: Optional[float],
        decoder: Optional[Decoder] = None,
    ) -> None:
        self._decoder = decoder
        self._recording = recording
        self._send = send
        self._reactor = reactor
        self._speed = speed
        self._playbacks: dict[int, _Playback] = {}
        self._replayed: set[ChannelKey] = set()
        self._events: dict[str, EventHandler] = {
            "conf": self._on_conf,
            "subscribe": self._on_subscribe,
            "unsubscribe": self._on_unsubscribe,
            "ping": self._on_ping,
            "auth": self._on_auth,
            "unauth": self._on_unauth,
        }

    def open(self) -> None:
        """Greet the client with the recorded ``info`` event."""
        self.send_event(self._recording.greeting)

    def send_event(self, event: dict[str, Any]) -> None:
        """Send a control event as is."""
        self._send(dumps_js(event))

    def on_input(self, message: list[Any]) -> None:
        """Order inputs (and any other array) are not answered."""
        log.debug("replay: not answering an input of %d items", len(message))

    def heartbeat(self, interval: float) -> None:
        """Send ``[CHAN_ID, "hb"]`` on each channel whose recording is over and that was silent
        for ``interval`` seconds (recorded heartbeats are part of the replay before that)."""
        now = self._reactor.seconds()
        for playback in self._playbacks.values():
            if playback.finished and now - playback.last_sent >= interval:
                self._send(dumps_js([playback.chan_id, "hb"]))
                playback.last_sent = now

    def close(self) -> None:
        """The connection is gone: stop every playback."""
        for playback in self._playbacks.values():
            playback.stop()
        self._playbacks.clear()

    def _on_conf(self, message: dict[str, Any]) -> None:
        flags = message.get("flags")
        if isinstance(flags, bool) or not isinstance(flags, int) or not 0 <= flags < (1 << 31):
            self._refuse("CONF_INVALID", flags=flags)
            return
        missing = flags & ~int(self._recording.flags)
        if missing:
            names = [f"{flag.name} ({int(flag)})" for flag in ConfFlag if flag & missing]
            unknown = missing & ~sum(int(flag) for flag in ConfFlag)
            if unknown:
                names.append(f"unknown bits ({unknown})")
            self._refuse("REPLAY_CONF", flags=flags, names=", ".join(names))
            return
        self.send_event({"event": "conf", "status": "OK", "flags": flags})

    def _on_ping(self, message: dict[str, Any]) -> None:
        pong: dict[str, Any] = {"event": "pong", "ts": time.time_ns() // 1_000_000}
        if "cid" in message:
            pong["cid"] = echoable(message["cid"])
        self.send_event(pong)

    def _on_subscribe(self, message: dict[str, Any]) -> None:
        key = channel_key(message)
        channel = self._recording.channels.get(key) if key is not None else None
        if channel is None:
            self._refuse("REPLAY_NO_CHANNEL", message)
            return
        answer = {k: v for k, v in channel.answer.items() if k != "subId"}
        if "subId" in message:
            answer["subId"] = echoable(message["subId"])
        self._start(channel, answer, message)

    def _on_auth(self, message: dict[str, Any]) -> None:
        channel = self._recording.channels.get(AUTH_KEY)
        if channel is None:
            self._refuse("REPLAY_NO_AUTH")
            return
        self._start(channel, channel.answer, message)

    def _start(self, channel: RecordedChannel, answer: dict[str, Any], request: Mapping[str, Any]) -> None:
        chan_id = answer["chanId"]
        if chan_id in self._playbacks:
            if chan_id == AUTH_CHANNEL_ID:
                self._refuse("AUTH_DUP")
            else:
                self._refuse("SUBSCRIBE_DUP", request)
            return
        self.send_event(answer)
        playback = _Playback(channel, chan_id, self._send, self._reactor, self._speed, self._ended)
        self._playbacks[chan_id] = playback
        playback.pump()

    def _ended(self, playback: _Playback) -> None:
        """Say that a channel's recorded frames are all sent, and when the whole recording is."""
        self._replayed.add(playback.channel.key)
        log.info(
            "replay: %s: all %d recorded frames sent; heartbeats from now on",
            " ".join(playback.channel.key), len(playback.channel.frames),
        )
        if len(self._replayed) == len(self._recording.channels):
            log.info("replay ended: every recorded channel was sent on this connection (%d)", len(self._replayed))

    def _on_unsubscribe(self, message: dict[str, Any]) -> None:
        chan_id = message.get("chanId")
        playback = self._playbacks.pop(chan_id, None) if type(chan_id) is int else None
        if playback is None:
            self._refuse("UNSUBSCRIBE_INVALID", message)
            return
        playback.stop()
        self.send_event({"event": "unsubscribed", "status": "OK", "chanId": playback.chan_id})

    def _on_unauth(self, message: dict[str, Any]) -> None:
        playback = self._playbacks.pop(AUTH_CHANNEL_ID, None)
        if playback is None:
            self._refuse("UNAUTH_FAILED")
            return
        playback.stop()
        self.send_event({"event": "unauth", "status": "OK", "chanId": AUTH_CHANNEL_ID})
