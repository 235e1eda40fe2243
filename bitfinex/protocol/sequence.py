"""Sequence numbers of a connection with the ``SEQ_ALL`` flag (65536), checked and stripped.

Sans-I/O: feed every decoded frame of one connection to :meth:`SequenceChecker.check`, in
arrival order, and reconnect when it reports a :class:`SequenceGap`. Call
:meth:`SequenceChecker.reset` when the connection is replaced.

Where the numbers are (protocol reference, section 2; the official Node client's
``_validateMessageSeq``; the recorded session in ``tests/data``):

- every public frame ends with ``PUB_SEQ``, one counter per connection across all its
  channels, heartbeats included, +1 per frame: ``[CHAN_ID, [..], PUB_SEQ]``,
  ``[CHAN_ID, "hb", PUB_SEQ]``, ``[CHAN_ID, "te", [..], PUB_SEQ]``,
  ``[CHAN_ID, "cs", CHECKSUM, PUB_SEQ]``;
- channel-0 (account) frames other than heartbeats end with ``PUB_SEQ, AUTH_SEQ``:
  ``[0, "on", [..], PUB_SEQ, AUTH_SEQ]``. ``AUTH_SEQ`` counts account events only:
  notifications repeat the current value instead of advancing it, and ``0`` means the account
  is still syncing (both are accepted, and neither moves the count);
- some channel-0 frames carry a single trailing number. The Node client says error
  notifications lack the auth number (so the one number is ``PUB_SEQ``); the protocol reference
  reads it as ``*-req`` notifications lacking ``PUB_SEQ`` (so it is ``AUTH_SEQ``). No capture
  settles it, so the checker takes the number as ``PUB_SEQ`` when it is the next public number
  (or the first one seen), and otherwise as an ``AUTH_SEQ``;
- events (JSON objects) carry no numbers.

Positions come from the frame's structure, not its length: the payload of a public frame is
``msg[1]`` (``msg[1:3]`` when ``msg[1]`` is a type string other than ``"hb"``), the payload of
a channel-0 frame is ``msg[1:3]`` (``msg[1:2]`` for ``"hb"``), and every integer after the
payload is a sequence number.

Callbacks should see frames in the shape they have without ``SEQ_ALL``, so the original library's contract
holds whatever the flags: ``check(msg, strip=True)`` removes
the trailing numbers from the frame in place, after reading them.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from bitfinex.protocol.constants import AUTH_CHANNEL_ID, HEARTBEAT

__all__ = [
    "AUTH",
    "PUBLIC",
    "SequenceChecker",
    "SequenceGap",
]

PUBLIC = "public"
"""Name of the per-connection public counter (:attr:`SequenceGap.stream`)."""

AUTH = "auth"
"""Name of the account-event counter of channel 0 (:attr:`SequenceGap.stream`)."""

class SequenceGap(NamedTuple):
    """A frame whose sequence number is not the one expected: frames were lost or reordered."""

    stream: str
    """:data:`PUBLIC` or :data:`AUTH`: which counter jumped."""
    expected: int
    """The number that should have come next."""
    received: int
    """The number that came."""
    channel_id: int
    """Channel of the frame that carried it."""

    @property
    def missing(self) -> int:
        """How many numbers were skipped; zero or negative for a repeated or older number."""
        return self.received - self.expected


class SequenceChecker:
    """Check the ``SEQ_ALL`` sequence numbers of one connection (see the module docstring).

    The first number seen on each counter sets its start; every later one must be the next.
    After a gap the checker continues from the number received, so one loss is reported once;
    the caller is expected to reconnect (the exchange cannot replay frames) and call
    :meth:`reset`.
    """

    __slots__ = ("last_auth", "last_public")

    def __init__(self) -> None:
        """Start with no numbers seen."""
        self.last_public: Optional[int] = None
        """The last ``PUB_SEQ`` accepted, or None before the first."""
        self.last_auth: Optional[int] = None
        """The last non-zero ``AUTH_SEQ`` accepted, or None before the first."""

    def reset(self) -> None:
        """Forget the counters: call it for each new connection (numbers restart)."""
        self.last_public = None
        self.last_auth = None

    def check(self, msg: Any, *, strip: bool = False) -> Optional[SequenceGap]:
        """Check one frame's sequence numbers and record them.

        :param msg: a decoded frame of this connection, in arrival order. Events (dicts) and
            frames without numbers are accepted as they are.
        :param strip: also remove the numbers from ``msg`` in place (default False), so the
            frame has the shape it would have without ``SEQ_ALL``.
        :returns: None if the numbers follow on, else the first :class:`SequenceGap` found.
        """
        if type(msg) is not list or len(msg) < 2:
            return None
        channel_id = msg[0]
        kind = msg[1]
        if channel_id == AUTH_CHANNEL_ID and kind != HEARTBEAT:
            return self._check_account(msg, strip)
        end = 3 if type(kind) is str and kind != HEARTBEAT else 2
        if len(msg) <= end:
            return None
        number = msg[-1]
        if strip:
            del msg[end:]
        if type(number) is not int:
            return None
        return self._advance_public(number, channel_id)

    def _advance_public(self, number: int, channel_id: Any) -> Optional[SequenceGap]:
        last = self.last_public
        self.last_public = number
        if last is None or number == last + 1:
            return None
        return SequenceGap(PUBLIC, last + 1, number, channel_id)

    def _check_account(self, msg: list[Any], strip: bool) -> Optional[SequenceGap]:
        trailing = [value for value in msg[3:] if type(value) is int]
        if strip and len(msg) > 3:
            del msg[3:]
        if len(trailing) >= 2:
            gap = self._advance_public(trailing[-2], AUTH_CHANNEL_ID)
            auth_gap = self._advance_auth(trailing[-1])
            return gap if gap is not None else auth_gap
        if not trailing:
            return None
        number = trailing[0]
        last = self.last_public
        if last is None or number == last + 1:
            return self._advance_public(number, AUTH_CHANNEL_ID)
        if self._accepts_auth(number):
            return self._advance_auth(number)
        return self._advance_public(number, AUTH_CHANNEL_ID)

    def _accepts_auth(self, number: int) -> bool:
        last = self.last_auth
        return number == 0 or last is None or number == last or number == last + 1

    def _advance_auth(self, number: int) -> Optional[SequenceGap]:
        last = self.last_auth
        if number == 0 or number == last:
            return None
        self.last_auth = number
        if last is None or number == last + 1:
            return None
        return SequenceGap(AUTH, last + 1, number, AUTH_CHANNEL_ID)
