"""What every example shares: where to connect, and waiting for what the exchange answers.

By default an example connects to the real Bitfinex with ``BITFINEX_KEY``/``BITFINEX_SECRET``
from the environment (``BITFINEX_WS_URL`` overrides the endpoint). With ``--local`` it starts
the local exchange (``bitfinex.testing``) on a free port and uses its demo account instead.
When what an example waits for does not come, it says so in one line, with the last connection
problem the client reported (``DNSLookupError: ...`` without a network), and exits with 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from bitfinex import WssClient
from bitfinex.protocol.status import CLOSED_BY_CLIENT, DISCONNECTED, StatusEvent

_output = threading.Lock()
_problems: list[str] = []
"""The last connection problem the client reported, for the message of a wait that timed out."""


class NoAnswer(TimeoutError):
    """What an example waited for did not come."""


def show(*values: Any) -> None:
    """Print one line; safe from the callbacks' thread and the example's at once."""
    with _output:
        print(*values, flush=True)


class Messages:
    """A callback that prints each message it receives and lets the example wait for one."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._queue: queue.Queue[Any] = queue.Queue()

    def __call__(self, message: Any) -> None:
        show(f"{self.label}{message}")
        self._queue.put(message)

    def wait_for(self, matches: Callable[[Any], bool], timeout: float = 10.0) -> Any:
        """Return the first message (from now on) for which ``matches`` is true.

        :raises NoAnswer: if none comes within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise NoAnswer(f"no answer within {timeout} s") from None
            try:
                if matches(message):
                    return message
            except (IndexError, KeyError, TypeError):
                continue


def account_message(kind: str, cid: Any = None) -> Callable[[Any], bool]:
    """Matches ``[0, kind, DATA]`` (for order messages, the one about ``cid``)."""

    def match(message: Any) -> bool:
        if not (isinstance(message, list) and message[1] == kind):
            return False
        return cid is None or (message[2][4][2] if kind == "n" else message[2][2]) == cid

    return match


def event(name: str) -> Callable[[Any], bool]:
    """Matches ``{"event": name, ...}``."""
    return lambda message: isinstance(message, dict) and message.get("event") == name


def data_frame(message: Any) -> bool:
    """Matches a public channel's data frame."""
    return isinstance(message, list) and isinstance(message[1], list)


@contextlib.contextmanager
def connect(description: str) -> Iterator[WssClient]:
    """Parse ``--local``, make the client, and stop everything at the end."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--local", action="store_true", help="run against the local exchange, not Bitfinex")
    arguments = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if arguments.local:
            from bitfinex.testing import LocalExchange

            exchange = stack.enter_context(LocalExchange(heartbeat_interval=5.0, tick_interval=0.05))
            key, secret, url = exchange.key, exchange.secret, exchange.url
        else:
            key, secret, url = os.environ.get("BITFINEX_KEY"), os.environ.get("BITFINEX_SECRET"), None
        client = WssClient(key, secret, url=url, status_callback=_note_problem)
        stack.callback(client.stop)
        try:
            yield client
        except NoAnswer as error:
            where = "the local exchange" if arguments.local else "Bitfinex (--local: the local exchange instead)"
            problem = f"; the last connection problem: {_problems[-1]}" if _problems else ""
            print(f"{parser.prog}: {error} from {where}{problem}", file=sys.stderr)
            raise SystemExit(1) from None


def _note_problem(event: StatusEvent) -> None:
    """Keep the last reason a connection failed or closed."""
    if event.kind == DISCONNECTED and event.reason != CLOSED_BY_CLIENT:
        _problems.append(event.describe())
