"""The private reactor on Linux: Twisted's epoll reactor, handing each ready socket straight to
its handler.

Twisted's ``EPollReactor.doPoll`` wraps every ready socket's read or write in
``log.callWithLogger``: it asks the socket for its log prefix and pushes a legacy-log context
around the call. On an order's round trip that is about a tenth of the client's CPU (``bench/``'s
orders workload: with it gone, the round trip's median falls by 5 to 15 %). :class:`LeanEPollReactor`
calls ``_doReadOrWrite`` directly. That method already turns a handler's exception into a lost
connection and logs it; what escapes it (a ``connectionLost`` that raises) is logged to
Twisted's log here, as ``callWithLogger`` did. Only the ``system`` field of legacy-log messages
emitted during the call is gone: the library logs through :mod:`logging`.

``tests/test_reactor_epoll.py`` fails if a Twisted upgrade changes the method this replaces.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any, Optional

from twisted.internet.epollreactor import EPollReactor
from twisted.python import log


class LeanEPollReactor(EPollReactor):
    """Twisted's epoll reactor without the per-socket legacy-log context around each dispatch."""

    def doPoll(self, timeout: Optional[float]) -> None:
        """Wait up to ``timeout`` seconds (forever for None) for ready sockets, then read from
        or write to each, as Twisted's ``doPoll`` does."""
        try:
            events = self._poller.poll(-1 if timeout is None else timeout, len(self._selectables))
        except OSError as error:
            if error.errno == errno.EINTR:
                return
            raise
        selectables = self._selectables
        dispatch: Callable[[Any, int, int], None] = self._doReadOrWrite
        for fd, event in events:
            selectable = selectables.get(fd)
            if selectable is not None:
                try:
                    dispatch(selectable, fd, event)
                except Exception:
                    log.err(None, "error while handling a ready socket")  # type: ignore[no-untyped-call]

    doIteration = doPoll
