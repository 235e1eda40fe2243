"""The feeder that drives an :class:`~bitfinex.protocol.book.OrderBook` from the frames of its
book channel, and what each frame did.

Sans-I/O: the connection layer hands every decoded frame of a maintained book's channel to a
:class:`BookFeed`, which keeps its book in step with the exchange, verifies each ``cs`` checksum
and says what the frame did (:class:`FeedResult`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

from bitfinex.protocol.book import UNSIGNED_MASK, BookEntryError, OrderBook
from bitfinex.protocol.constants import CHECKSUM, HEARTBEAT

__all__ = ["BookFeed", "FeedKind", "FeedResult"]

class FeedKind(enum.Enum):
    """What a book-channel frame did (see :class:`FeedResult`)."""

    SNAPSHOT = "snapshot"
    """The first data frame after (re)subscription replaced the book; the book is valid."""
    UPDATE = "update"
    """One entry, or a ``BULK_UPDATES`` batch of entries, was applied."""
    CHECKSUM_OK = "checksum_ok"
    """A ``cs`` frame matched the book."""
    CHECKSUM_MISMATCH = "checksum_mismatch"
    """A ``cs`` frame did not match: the book is now invalid; resubscribe to rebuild it."""
    CHECKSUM_MISMATCH_IGNORED = "checksum_mismatch_ignored"
    """A funding book's ``cs`` frame did not match and funding checksums are not enforced
    (their algorithm is unconfirmed): the book stays valid; worth a log line."""
    HEARTBEAT = "heartbeat"
    """A ``[CHAN_ID, "hb"]`` heartbeat."""
    IGNORED = "ignored"
    """Nothing applied: a frame of a shape the feeder does not handle, a ``cs`` frame before the
    snapshot, or an update while the book is invalid (waiting for :meth:`BookFeed.reset`)."""
    MALFORMED = "malformed"
    """A snapshot or update entry could not be read: the book is now invalid; resubscribe."""


class FeedResult(NamedTuple):
    """What :meth:`BookFeed.feed` did with a frame (an immutable named tuple)."""

    kind: FeedKind
    """The outcome."""
    expected_checksum: Optional[int] = None
    """For checksum results: the checksum the exchange sent."""
    computed_checksum: Optional[int] = None
    """For checksum results: the checksum of the local book."""
    reason: str = ""
    """For :attr:`FeedKind.IGNORED` and :attr:`FeedKind.MALFORMED`: why, for a log line."""

    @property
    def resubscribe_needed(self) -> bool:
        """True when the book is no longer trustworthy: unsubscribe, resubscribe, then reset."""
        return self.kind is FeedKind.CHECKSUM_MISMATCH or self.kind is FeedKind.MALFORMED


_SNAPSHOT_RESULT = FeedResult(FeedKind.SNAPSHOT)
_UPDATE_RESULT = FeedResult(FeedKind.UPDATE)
_HEARTBEAT_RESULT = FeedResult(FeedKind.HEARTBEAT)
_CHECKSUM_OK = FeedKind.CHECKSUM_OK
_new_result = tuple.__new__
"""Makes a :class:`FeedResult` from all its fields without the Python-level ``__new__`` (the
result of every verified checksum is one)."""


class BookFeed:
    """Drive an :class:`OrderBook` from the frames of its book channel.

    The connection layer passes every decoded frame of the channel to :meth:`feed`, whole:
    ``[CHAN_ID, [entries...]]`` (snapshot or bulk update), ``[CHAN_ID, [entry]]`` (update),
    ``[CHAN_ID, "hb"]``, ``[CHAN_ID, "cs", CHECKSUM]``. Elements after those (the ``SEQ_ALL``
    sequence number, anything the exchange may append) are ignored, so frames work with or
    without sequence numbers; checking them is :class:`~bitfinex.protocol.sequence.SequenceChecker`'s
    job.

    The first data frame after construction or :meth:`reset` is the snapshot, whatever its shape
    (``BULK_UPDATES`` makes snapshots and batches look alike). After a checksum mismatch or an
    unreadable entry the book is invalid and updates are ignored until the caller resubscribes
    and calls :meth:`reset`.
    """

    __slots__ = ("_awaiting_snapshot", "book", "verify_funding_checksums")

    def __init__(self, book: OrderBook, *, verify_funding_checksums: bool = False) -> None:
        """Feed ``book``, which should be empty or about to be replaced by a snapshot.

        :param book: the book to maintain, e.g. from :meth:`OrderBook.create`.
        :param verify_funding_checksums: enforce checksums on funding books too. Off by default
            because the funding checksum is unconfirmed (the official Node client skips it): a
            mismatch then gives :attr:`FeedKind.CHECKSUM_MISMATCH_IGNORED` and the book stays
            valid.
        """
        self.book = book
        """The book this feeder maintains."""
        self.verify_funding_checksums = verify_funding_checksums
        """Whether funding-book checksum mismatches invalidate the book."""
        self._awaiting_snapshot = True

    @property
    def awaiting_snapshot(self) -> bool:
        """True until the snapshot after construction or :meth:`reset` has arrived."""
        return self._awaiting_snapshot

    def reset(self) -> None:
        """Prepare for a new subscription: clear the book; the next data frame is a snapshot.

        Call it when the ``subscribed`` event of the new subscription arrives, not when the
        request is sent: updates of the old subscription may still be in flight until then.
        """
        self.book.clear()
        self._awaiting_snapshot = True

    def feed(self, msg: Sequence[Any]) -> FeedResult:
        """Apply one frame of the book channel and say what it did.

        :param msg: the whole decoded frame, ``[CHAN_ID, ...]``, optionally with trailing
            sequence numbers.
        :returns: a :class:`FeedResult`; act on :attr:`FeedResult.resubscribe_needed`.
        """
        try:
            payload = msg[1]
        except (IndexError, TypeError, KeyError):
            return FeedResult(FeedKind.IGNORED, reason="frame without payload")
        book = self.book
        if type(payload) is list:
            if self._awaiting_snapshot:
                return self._snapshot(payload)
            if not book.valid:
                return FeedResult(FeedKind.IGNORED, reason="book invalid: waiting for a snapshot")
            try:
                if payload:
                    if type(payload[0]) is list:
                        book.apply_many(payload)
                    else:
                        book.apply(payload)
            except BookEntryError as error:
                book.invalidate()
                return FeedResult(FeedKind.MALFORMED, reason=str(error))
            return _UPDATE_RESULT
        if payload == CHECKSUM:
            return self._checksum(msg)
        if payload == HEARTBEAT:
            return _HEARTBEAT_RESULT
        return FeedResult(FeedKind.IGNORED, reason=f"unhandled frame type {payload!r}")

    def _snapshot(self, payload: list[Any]) -> FeedResult:
        book = self.book
        if payload and type(payload[0]) is not list:
            book.clear()
            return FeedResult(FeedKind.MALFORMED, reason="snapshot is not a list of entries")
        self._awaiting_snapshot = False
        try:
            book.apply_snapshot(payload)
        except BookEntryError as error:
            return FeedResult(FeedKind.MALFORMED, reason=str(error))
        return _SNAPSHOT_RESULT

    def _checksum(self, msg: Sequence[Any]) -> FeedResult:
        book = self.book
        expected = msg[2] if len(msg) > 2 else None
        if type(expected) is not int:
            return FeedResult(FeedKind.IGNORED, reason="checksum frame without an integer")
        if not book.valid:
            return FeedResult(
                FeedKind.IGNORED,
                expected_checksum=expected,
                reason="checksum before a valid snapshot",
            )
        computed = book.checksum()
        if (expected - computed) & UNSIGNED_MASK == 0:
            return _new_result(FeedResult, (_CHECKSUM_OK, expected, computed, ""))
        if book.is_funding and not self.verify_funding_checksums:
            return FeedResult(FeedKind.CHECKSUM_MISMATCH_IGNORED, expected, computed)
        book.invalidate()
        return FeedResult(FeedKind.CHECKSUM_MISMATCH, expected, computed)
