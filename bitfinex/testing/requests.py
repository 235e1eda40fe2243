"""Reading client frames: the one guard every session of the local exchange puts around its
request handlers.

Both the simulated exchange's :class:`~bitfinex.testing.session.ExchangeSession` and a replay's
:class:`~bitfinex.testing.replay.ReplaySession` are :class:`RequestSession`\\ s: one client frame
is decoded, events are routed by name through the session's table, arrays go to its
:meth:`~RequestSession.on_input`, and anything else is answered as Bitfinex answers garbage, with
an ``error`` event (10000 for an unknown event, 10020 for the rest: see
:mod:`bitfinex.testing.errors`). A handler that raises is logged once and answered with an
error; nothing ever raises out of :meth:`~RequestSession.receive`, whatever the client sent
(numbers past the float range, ``NaN``, arrays nested thousands deep), and nothing on the way
recurses on client data.

:func:`echoable` makes a request's fields safe to send back in an answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, Callable, ClassVar, Optional, Union

from bitfinex.protocol.codec import Decoder, loads
from bitfinex.protocol.constants import MAX_SAFE_INTEGER
from bitfinex.testing.errors import ErrorRow, row

__all__ = ["ECHO_DEPTH", "EventHandler", "RequestSession", "echoable", "nests_deeper"]

EventHandler = Callable[[dict[str, Any]], None]
"""Handles one decoded event (``{"event": "subscribe", ...}``)."""

ECHO_DEPTH = 16
"""How deep an echoed value may nest (arrays and objects); anything deeper is echoed as
``null``. No Bitfinex request field nests more than a few levels."""


def echoable(value: Any, max_depth: int = ECHO_DEPTH) -> Any:
    """Return a copy of a decoded request value that JSON can carry back to the client, as
    Bitfinex (whose server reads JSON with JavaScript) would send it back.

    Non-finite numbers (which a lax decoder such as :func:`json.loads` reads from ``1e400`` or
    ``NaN``) become ``None``, as ``JSON.stringify`` writes them; integers past
    ``Number.MAX_SAFE_INTEGER`` become the float JavaScript reads them as (``2**70`` is echoed
    ``1.1805916207174113e+21`` whichever decoder read it); arrays and objects nested deeper
    than ``max_depth`` become ``None``. The copy is made without recursion, so no input can
    exhaust the stack.
    """
    if not isinstance(value, (list, dict)):
        return _echoable_scalar(value)
    if max_depth < 1:
        return None
    root: Any = [] if isinstance(value, list) else {}
    pending: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while pending:
        source, target, depth = pending.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            copy: Any
            if isinstance(item, (list, dict)):
                if depth >= max_depth:
                    copy = None
                else:
                    copy = [] if isinstance(item, list) else {}
                    pending.append((item, copy, depth + 1))
            else:
                copy = _echoable_scalar(item)
            if isinstance(target, list):
                target.append(copy)
            else:
                target[key] = copy
    return root


def _echoable_scalar(value: Any) -> Any:
    kind = type(value)
    if kind is float and not math.isfinite(value):
        return None
    if kind is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return float(value)  # what JavaScript's JSON.parse makes of it
    return value


def nests_deeper(value: Any, limit: int) -> bool:
    """Whether a decoded value nests arrays and objects more than ``limit`` levels (a scalar
    is level 0); iterative, and it stops at the first branch past the limit."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (list, dict)):
            level += 1
            if level > limit:
                return True
            pending.extend((child, level) for child in (item.values() if isinstance(item, dict) else item))
    return False


class RequestSession:
    """The server side of one connection, as far as reading its frames goes.

    A subclass sets :attr:`_events` (event name to handler) and implements :meth:`send_event`;
    it may override :meth:`on_input` (arrays: order inputs and the like) and
    :meth:`after_receive` (runs after every frame, handled or not). It may set
    :attr:`_decoder`; by default frames are read with this module's :data:`loads` (the
    installed decoder of :mod:`bitfinex.protocol.codec`), looked up on every frame.
    """

    _log: ClassVar[logging.Logger] = logging.getLogger("bitfinex.testing.requests")
    """Where handler failures are logged (each subclass uses its own module's logger)."""

    _events: Mapping[str, EventHandler]
    _decoder: Optional[Decoder] = None

    def send_event(self, event: dict[str, Any]) -> None:
        """Send a control event (``info``, ``error``...) as is."""
        raise NotImplementedError

    def receive(self, data: bytes) -> None:
        """Handle one text frame; answer garbage with an ``error`` event, never raise."""
        try:
            self._dispatch(data)
        except Exception:
            self._log.exception("handling a client frame failed: %.200r", data)
            self._answer_failure()
        finally:
            try:
                self.after_receive()
            except Exception:
                self._log.exception("finishing a client frame failed")

    def _answer_failure(self) -> None:
        try:
            self._refuse("REQUEST_FAILED")
        except Exception:  # already logged: the frame's own failure is the one to read
            self._log.debug("could not answer a failed request", exc_info=True)

    def _dispatch(self, data: bytes) -> None:
        decode = self._decoder or loads
        try:
            message = decode(data)
        except (ValueError, RecursionError):
            self._refuse("INVALID_JSON")
            return
        if isinstance(message, dict):
            event = message.get("event")
            handler = self._events.get(event) if isinstance(event, str) else None
            if handler is None:
                self._refuse("UNKNOWN_EVENT", message)
            else:
                handler(message)
        elif isinstance(message, list):
            self.on_input(message)
        else:
            self._refuse("NOT_A_REQUEST")

    def on_input(self, message: list[Any]) -> None:
        """Handle an array frame (``[0, "on", null, {...}]``); by default, refuse it."""
        self._refuse("INPUT_INVALID")

    def after_receive(self) -> None:
        """Runs after every frame, whatever became of it (by default, nothing)."""

    def _refuse(self, error: Union[str, ErrorRow], request: Optional[Mapping[str, Any]] = None, **fields: Any) -> None:
        """Send the answer of one row of :data:`~bitfinex.testing.errors.ERRORS` (by name),
        echoing the request's fields (made :func:`echoable`) as the row says."""
        spec = row(error) if isinstance(error, str) else error
        safe = {k: echoable(v) for k, v in request.items()} if request else None
        self.send_event(spec.frame(safe, **{k: echoable(v) for k, v in fields.items()}))
