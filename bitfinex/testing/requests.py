"""Reading client frames: the one guard every session of the local exchange puts around its
request handlers.

Both the simulated exchange's :class:`~bitfinex.testing.session.ExchangeSession` and a replay's
:class:`~bitfinex.testing.replay.ReplaySession` are :class:`RequestSession`\\ s: one client frame
is decoded, events are routed by name through the session's table, arrays go to its
:meth:`~RequestSession.on_input`, and anything else is answered as Bitfinex answers garbage, with
an ``error`` event (10020 for an unknown event, 10000 for the rest). A handler that raises is
logged once and answered with an error; nothing ever raises out of
:meth:`~RequestSession.receive`, whatever the client sent (numbers past the float range, ``NaN``,
arrays nested thousands deep).

:func:`echoable` makes a request's fields safe to send back in an answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, Callable, ClassVar, Optional

from bitfinex.protocol.codec import loads
from bitfinex.protocol.constants import ErrorCode

__all__ = ["ECHO_DEPTH", "EventHandler", "RequestSession", "echoable"]

EventHandler = Callable[[dict[str, Any]], None]
"""Handles one decoded event (``{"event": "subscribe", ...}``)."""

ECHO_DEPTH = 16
"""How deep an echoed value may nest (arrays and objects); anything deeper is echoed as
``null``. No Bitfinex request field nests more than a few levels."""


def echoable(value: Any, max_depth: int = ECHO_DEPTH) -> Any:
    """Return a copy of a decoded request value that JSON can carry back to the client.

    Non-finite numbers (which a client may send as ``1e400`` or ``NaN``, and a lax decoder such
    as :func:`json.loads` reads as ``inf`` and ``nan``) become ``None``, and so do arrays and objects nested deeper than
    ``max_depth``. The copy is made without recursion, so no input can exhaust the stack.
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
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RequestSession:
    """The server side of one connection, as far as reading its frames goes.

    A subclass sets :attr:`_events` (event name to handler) and implements :meth:`send_event`;
    it may override :meth:`on_input` (arrays: order inputs and the like) and
    :meth:`after_receive` (runs after every frame, handled or not).
    """

    _log: ClassVar[logging.Logger] = logging.getLogger("bitfinex.testing.requests")
    """Where handler failures are logged (each subclass uses its own module's logger)."""

    _events: Mapping[str, EventHandler]

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
            self._error(ErrorCode.REQUEST_PARAMETERS, "request failed")
        except Exception:  # already logged: the frame's own failure is the one to read
            self._log.debug("could not answer a failed request", exc_info=True)

    def _dispatch(self, data: bytes) -> None:
        try:
            message = loads(data)
        except (ValueError, RecursionError):
            self._error(ErrorCode.REQUEST_PARAMETERS, "invalid JSON")
            return
        if isinstance(message, dict):
            event = message.get("event")
            handler = self._events.get(event) if isinstance(event, str) else None
            if handler is None:
                self._error(ErrorCode.UNKNOWN_EVENT, "Unknown event", message)
            else:
                handler(message)
        elif isinstance(message, list):
            self.on_input(message)
        else:
            self._error(ErrorCode.REQUEST_PARAMETERS, "invalid request")

    def on_input(self, message: list[Any]) -> None:
        """Handle an array frame (``[0, "on", null, {...}]``); by default, refuse it."""
        self._error(ErrorCode.REQUEST_PARAMETERS, "input: invalid")

    def after_receive(self) -> None:
        """Runs after every frame, whatever became of it (by default, nothing)."""

    def _error(self, code: int, msg: str, request: Optional[Mapping[str, Any]] = None) -> None:
        """Send an ``error`` event echoing the request's fields (made :func:`echoable`)."""
        event: dict[str, Any] = {"event": "error", "msg": msg, "code": int(code)}
        if request:
            event.update((k, echoable(v)) for k, v in request.items() if k not in ("event", "msg", "code"))
        self.send_event(event)
