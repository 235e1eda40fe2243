"""Faults on demand: what a real server (or network) can do to a client, when a test says so.

:class:`FaultState` holds the switches the server and sessions read on the reactor thread;
:class:`Faults` is the thread-safe handle tests use (``exchange.faults``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from bitfinex.testing.errors import INFO_MESSAGES, row
from bitfinex.testing.numbers import parse_decimal

if TYPE_CHECKING:
    from bitfinex.testing.server import ExchangeServer

__all__ = ["DEEP_NESTING", "INFO_MESSAGES", "MALFORMED_FRAMES", "FaultState", "Faults", "HostileFrame"]


@dataclass(frozen=True)
class HostileFrame:
    """A frame the exchange can throw at its clients: garbage no Bitfinex client should choke on.

    :param name: what :meth:`Faults.send_malformed` calls it.
    :param payload: the frame's bytes.
    :param binary: sent as a binary (not text) WebSocket message.
    """

    name: str
    payload: bytes
    binary: bool = False


DEEP_NESTING = 2_000
"""How many arrays the ``deep-nesting`` frame nests: past the client's limit (512), orjson's
(1,024) and what :func:`json.loads` survives up to Python 3.12 (the recursion limit, 1,000 by
default; 3.13's reads it)."""

MALFORMED_FRAMES: tuple[HostileFrame, ...] = (
    HostileFrame("not-json", b"this is {not json"),
    HostileFrame("wrong-types", b'{"event":42,"chanId":"seven","code":"x"}'),
    HostileFrame("unknown-channel", b"[987654321,[1,2,3]]"),
    HostileFrame("binary", b"\x00\xff\x10binary\x80", binary=True),
    HostileFrame("huge-array", b"[" + b",".join([b"1"] * 100_000) + b"]"),
    HostileFrame("truncated", b'[0,"n",[1700000000000,"on-req",null'),
    HostileFrame("wrong-shape", b'["hb",0,{"a":[]}]'),
    HostileFrame("scalar", b"null"),
    HostileFrame("deep-nesting", b"[" * DEEP_NESTING + b"]" * DEEP_NESTING),
    HostileFrame("nan", b"[1,[NaN]]"),
    HostileFrame("overflow", b"[1,[1e400]]"),
    HostileFrame("bom", b'\xef\xbb\xbf[1,"hb"]'),
    HostileFrame("utf-16", '[1,"hb"]'.encode("utf-16-le")),
)
"""Every kind of garbage :meth:`Faults.send_malformed` can send, in the order it cycles through:

- ``not-json``: text that is not JSON;
- ``wrong-types``: an event whose fields have the wrong types;
- ``unknown-channel``: data for a channel nobody subscribed to;
- ``binary``: a binary WebSocket message (Bitfinex sends text only);
- ``huge-array``: an array of 100,000 numbers;
- ``truncated``: a notification cut short;
- ``wrong-shape``: an array that is no Bitfinex frame;
- ``scalar``: ``null``;
- ``deep-nesting``: 2,000 nested arrays (4 KB) that make a recursive decoder overflow its stack
  (orjson refuses them; :func:`json.loads` before Python 3.13 raises ``RecursionError``, not
  ``ValueError``);
- ``nan`` (``[1,[NaN]]``) and ``overflow`` (``[1,[1e400]]``): numbers JSON does not have,
  which orjson refuses and :func:`json.loads` reads as ``nan`` and ``inf``;
- ``bom``: a heartbeat behind a UTF-8 byte order mark (orjson refuses it; :func:`json.loads`
  reads it from bytes but not from ``str``);
- ``utf-16``: a heartbeat encoded as UTF-16 (little-endian, no byte order mark, so the frame
  is still valid UTF-8 text, with NUL bytes, and the WebSocket layer lets it through;
  :func:`json.loads` reads it from bytes, orjson refuses it).
"""


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
        text = msg if msg is not None else INFO_MESSAGES.get(code, INFO_MESSAGES[5000])
        self._call(self._server.broadcast_event, {"event": "info", "code": int(code), "msg": text})

    def corrupt_next_checksum(self, count: int = 1) -> None:
        """Make the next ``count`` checksum frames wrong (whichever connection they go to)."""
        self._call(self._server.faults.corrupt_checksums, count)

    def send_malformed(self, count: int = 1, kinds: Optional[Sequence[str]] = None) -> None:
        """Send ``count`` malformed frames to every connection.

        :param kinds: names from :data:`MALFORMED_FRAMES` to cycle through (all by default):
            ``not-json``, ``wrong-types``, ``unknown-channel``, ``binary``, ``huge-array``,
            ``truncated``, ``wrong-shape``, ``scalar``, ``deep-nesting``, ``nan``, ``overflow``,
            ``bom``, ``utf-16``.
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

    def refuse_auth(
        self, code: int = row("AUTH_APIKEY").code, msg: str = row("AUTH_APIKEY").msg, times: Optional[int] = 1
    ) -> None:
        """Fail the next ``times`` auth attempts (``None``: every one until :meth:`clear`)."""
        self._call(self._server.faults.refuse_auth, code, msg, times)

    def move_price(self, symbol: str, price: Any) -> None:
        """Move the market of ``symbol`` to ``price`` at once, as a crash or a spike would: the
        simulated quotes jump there, clients' orders the move crosses fill, the last price
        follows, and everything that watches prices reacts before this returns (stops trigger,
        derivative positions whose mark price crossed their liquidation price are liquidated).

        Moving a spot pair (``"tBTCUSD"``) moves the perpetuals priced around it too, and their
        mark price, which is the spot pair's book mid: ``exchange.faults.move_price("tBTCUSD",
        "25000")`` liquidates a ``tBTCF0:USTF0`` long whose liquidation price is above 25000.
        Moving a perpetual alone moves its book and trades, not its mark price (a premium, which
        funding then pays).

        :param price: a positive number or decimal string.
        :raises ValueError: for a symbol that is not a listed trading pair or perpetual, or a
            price that is not positive.
        """
        level = parse_decimal(price)
        if level is None or level <= 0:
            raise ValueError(f"price must be a positive number, not {price!r}")
        self._call(self._server.venue.move_price, symbol, level)

    def clear(self) -> None:
        """Switch every fault off (and resume if silent)."""

        def reset() -> None:
            self._server.faults.clear()
            self._server.resume()

        self._call(reset)
