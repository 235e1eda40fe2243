"""The route of each public channel: check the frame's shape, then deliver it.

A route is what the connection's ``chanId`` table holds for a live channel (a
:data:`~bitfinex.protocol.registry.FrameHandler`). It first checks the frame against the
channel's documented shape (:mod:`bitfinex.protocol.shapes`; a wrong one raises
:class:`~bitfinex.protocol.shapes.FrameShapeError`, which the connection drops and logs), so a
callback never sees garbage. It calls the user's callback directly and reports an exception
through the :class:`~bitfinex.protocol.callbacks.CallbackRunner`; the connection times each
frame, the route and its callback together
(:meth:`~bitfinex.protocol.connection.ConnectionCore.received_many`). Then:

- :func:`channel_route` hands the frame, as Bitfinex sent it, to the user's callback, leaving
  out what the validator says is no data: heartbeats, and the ``cs`` checksum frames a book
  channel gets when its connection also carries a maintained book;
- :func:`book_route` feeds it to a :class:`~bitfinex.protocol.bookfeed.BookFeed` and hands the
  user the book after each snapshot and each checksum that verified it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional

from bitfinex.protocol.bookfeed import BookFeed, FeedKind, FeedResult
from bitfinex.protocol.callbacks import Callback, CallbackRunner
from bitfinex.protocol.registry import FrameHandler
from bitfinex.protocol.shapes import Validator

log = logging.getLogger("bitfinex.routes")


def channel_route(validate: Validator, runner: CallbackRunner, callback: Callback, source: str) -> FrameHandler:
    """Return the route of a public channel delivering raw frames to ``callback``.

    :param validate: the channel's shape check.
    :param runner: reports the callback's exceptions (its slowness is the connection's to time:
        see :meth:`~bitfinex.protocol.connection.ConnectionCore.received_many`); the route does
        what :meth:`~bitfinex.protocol.callbacks.CallbackRunner.call` does inline, as it runs
        once per frame.
    :param source: the subscription's identifier, in reports.
    """
    failed = runner.failed

    def route(msg: list[Any]) -> None:
        if validate(msg):
            try:
                callback(msg)
            except Exception as error:
                failed(source, error)

    return route


def book_route(
    validate: Validator,
    feed: BookFeed,
    runner: CallbackRunner,
    callback: Callback,
    source: str,
    broken: Callable[[FeedResult], None],
    prepare: Optional[Callable[[list[Any]], list[Any]]] = None,
) -> FrameHandler:
    """Return the route of a maintained book.

    Frames go through ``feed``; ``callback`` gets the book after its snapshot and after each
    checksum that verified it, so it never sees a book that failed one. Funding books are the
    exception: their checksum is not enforced (see :class:`~bitfinex.protocol.bookfeed.BookFeed`),
    so after a ``cs`` frame that differs the callback gets the book too, and the first
    difference of a subscription is logged at INFO. A failed checksum or an
    unreadable entry goes to ``broken`` (which resubscribes to rebuild the book).

    :param prepare: turns each frame into what the book reads before it is checked and fed
        (:func:`~bitfinex.protocol.decimals.as_numbers` with DEC_S); ``None`` feeds frames as
        they come.
    """
    book = feed.book
    call = runner.call
    feed_frame = feed.feed
    applied = FeedKind.UPDATE
    snapshot = FeedKind.SNAPSHOT
    verified = FeedKind.CHECKSUM_OK
    tolerated = FeedKind.CHECKSUM_MISMATCH_IGNORED

    differed = False

    def route(msg: list[Any]) -> None:
        nonlocal differed
        if prepare is not None:
            msg = prepare(msg)
        validate(msg)
        result = feed_frame(msg)
        kind = result.kind
        if kind is applied:
            return
        if kind is verified or kind is snapshot:
            call(callback, book, source)
        elif result.resubscribe_needed:
            broken(result)
        elif kind is tolerated:
            if not differed:
                differed = True
                log.info("%s: a funding book checksum differs from Bitfinex's; funding checksums are not "
                         "enforced (no client is known to match them): %s", source, result)
            else:
                log.debug("%s: funding book checksum differs (not enforced): %s", source, result)
            call(callback, book, source)

    return route
