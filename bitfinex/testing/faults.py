"""Faults on demand: what a real server (or network) can do to a client, when a test says so.

:class:`FaultState` holds the switches the server and sessions read on the reactor thread;
:class:`Faults` is the thread-safe handle tests use (``exchange.faults``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from bitfinex.protocol.constants import ErrorCode, InfoCode

if TYPE_CHECKING:
    from bitfinex.testing.server import ExchangeServer

INFO_MESSAGES: dict[int, str] = {
    InfoCode.RECONNECT: "Stopping. Please try to reconnect",
    InfoCode.MAINTENANCE_START: (
        "Entering in Maintenance mode. Please pause any activity and resume after receiving "
        "the info message 20061 (it should take 120 seconds at most)."
    ),
    InfoCode.MAINTENANCE_END: (
        "Maintenance ended. You can resume normal activity. It is advised to unsubscribe/subscribe again all channels."
    ),
    InfoCode.GENERIC: "Info",
}
"""The ``msg`` Bitfinex sends with each info code."""


@dataclass(frozen=True)
class MalformedFrame:
    """A frame no Bitfinex client should choke on.

    :param name: what :meth:`Faults.send_malformed` calls it.
    :param payload: the frame's bytes.
    :param binary: sent as a binary (not text) WebSocket message.
    """

    name: str
    payload: bytes
    binary: bool = False


MALFORMED_FRAMES: tuple[MalformedFrame, ...] = (
    MalformedFrame("not-json", b"this is {not json"),
    MalformedFrame("wrong-types", b'{"event":42,"chanId":"seven","code":"x"}'),
    MalformedFrame("unknown-channel", b"[987654321,[1,2,3]]"),
    MalformedFrame("binary", b"\x00\xff\x10binary\x80", binary=True),
    MalformedFrame("huge-array", b"[" + b",".join([b"1"] * 100_000) + b"]"),
    MalformedFrame("truncated", b'[0,"n",[1700000000000,"on-req",null'),
    MalformedFrame("wrong-shape", b'["hb",0,{"a":[]}]'),
    MalformedFrame("scalar", b"null"),
)
"""Every kind of garbage :meth:`Faults.send_malformed` can send, in the order it cycles through."""


class FaultState:
    """The fault switches, read and written on the reactor thread only."""

    silent: bool
    """Send nothing (sockets stay open)."""
    ack_delay: float
    """Seconds to hold every client message before handling it."""
    reorder_remaining: int
    """How many more client messages to hold for reversing."""
    reorder_window: float
    """Seconds after which held messages are handled anyway."""
    _checksum_corruptions: int
    _auth_refusal: Optional[tuple[int, str]]
    _auth_refusals_left: Optional[int]

    def __init__(self) -> None:
        self.clear()

    def take_checksum_corruption(self) -> bool:
        """Whether the checksum about to be sent must be wrong (uses up one corruption)."""
        if self._checksum_corruptions <= 0:
            return False
        self._checksum_corruptions -= 1
        return True

    def corrupt_checksums(self, count: int) -> None:
        """Make the next ``count`` ``cs`` frames (any connection) wrong."""
        self._checksum_corruptions += count

    def refuse_auth(self, code: int, msg: str, times: Optional[int]) -> None:
        """Fail the next ``times`` auth attempts (``None``: all) with ``code`` and ``msg``."""
        self._auth_refusal = (code, msg)
        self._auth_refusals_left = times

    def take_auth_refusal(self) -> Optional[tuple[int, str]]:
        """The ``(code, msg)`` to fail this auth with, if a refusal is pending."""
        if self._auth_refusal is None:
            return None
        refusal = self._auth_refusal
        if self._auth_refusals_left is not None:
            self._auth_refusals_left -= 1
            if self._auth_refusals_left <= 0:
                self._auth_refusal = None
        return refusal

    def clear(self) -> None:
        """Switch every fault off."""
        self.silent = False
        self.ack_delay = 0.0
        self.reorder_remaining = 0
        self.reorder_window = 1.0
        self._checksum_corruptions = 0
        self._auth_refusal = None
        self._auth_refusals_left = 0


class Faults:
    """Thread-safe handle to inject faults into a running exchange.

    Every method takes effect on the exchange's reactor thread before it returns, so what a
    test does next already sees the fault.

    :param server: the running server.
    :param call: runs a function on the reactor thread and returns its result.
    """

    def __init__(self, server: ExchangeServer, call: Callable[..., Any]) -> None:
        self._server = server
        self._call = call

    def drop_connections(self, code: Optional[int] = None, reason: str = "") -> int:
        """Drop every connection.

        :param code: ``None`` (default) aborts the TCP connections without a close frame, like
            a network failure (clients see 1006); a close code (1001, 1011...) closes them
            with a closing handshake instead.
        :param reason: the close reason sent with ``code``.
        :returns: how many connections were dropped.
        """
        return int(self._call(self._server.drop_connections, code, reason))

    def go_silent(self, seconds: Optional[float] = None) -> None:
        """Stop sending anything (data, acks, heartbeats) while keeping sockets open.

        Frames the exchange would have sent meanwhile are lost, as in a stalled network.

        :param seconds: resume by itself after this long; ``None`` stays silent until
            :meth:`resume`.
        """
        self._call(self._server.go_silent, seconds)

    def resume(self) -> None:
        """End :meth:`go_silent`."""
        self._call(self._server.resume)

    def send_info(self, code: int, msg: Optional[str] = None) -> None:
        """Send ``{"event":"info","code":code,"msg":...}`` to every connection.

        :param code: 20051 (reconnect), 20060 (maintenance start), 20061 (maintenance end) or
            any other info code.
        :param msg: the text; Bitfinex's own for the known codes by default.
        """
        text = msg if msg is not None else INFO_MESSAGES.get(code, "Info")
        self._call(self._server.broadcast_event, {"event": "info", "code": int(code), "msg": text})

    def corrupt_next_checksum(self, count: int = 1) -> None:
        """Make the next ``count`` checksum frames wrong (whichever connection they go to)."""
        self._call(self._server.faults.corrupt_checksums, count)

    def send_malformed(self, count: int = 1, kinds: Optional[Sequence[str]] = None) -> None:
        """Send ``count`` malformed frames to every connection.

        :param kinds: names from :data:`MALFORMED_FRAMES` to cycle through (all by default):
            ``not-json``, ``wrong-types``, ``unknown-channel``, ``binary``, ``huge-array``,
            ``truncated``, ``wrong-shape``, ``scalar``.
        :raises ValueError: for an unknown kind.
        """
        frames = [f for f in MALFORMED_FRAMES if kinds is None or f.name in kinds]
        unknown = set(kinds or ()) - {f.name for f in MALFORMED_FRAMES}
        if unknown or not frames:
            raise ValueError(f"unknown malformed frame kinds: {sorted(unknown)}")
        self._call(self._server.send_raw, [frames[i % len(frames)] for i in range(count)])

    def delay_acks(self, seconds: float) -> None:
        """Handle every client message ``seconds`` late (0 to stop), so every answer —
        ``subscribed``, ``auth``, ``pong``, order notifications — comes that much later.
        Messages keep their order."""
        self._call(setattr, self._server.faults, "ack_delay", float(seconds))

    def reorder_acks(self, count: int = 2, window: float = 1.0) -> None:
        """Hold the next ``count`` client messages and handle them in reverse order, so their
        answers arrive reversed.

        :param window: seconds after which held messages are handled (reversed) even if fewer
            than ``count`` arrived.
        """

        def arm() -> None:
            self._server.faults.reorder_remaining = count
            self._server.faults.reorder_window = window

        self._call(arm)

    def refuse_auth(self, code: int = int(ErrorCode.AUTH_FAILED), msg: str = "apikey: invalid", times: Optional[int] = 1) -> None:
        """Fail the next ``times`` auth attempts (``None``: every one until :meth:`clear`)."""
        self._call(self._server.faults.refuse_auth, code, msg, times)

    def clear(self) -> None:
        """Switch every fault off (and resume if silent)."""

        def reset() -> None:
            self._server.faults.clear()
            self._server.resume()

        self._call(reset)
