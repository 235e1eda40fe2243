"""What the library shows when the application set up no logging: its errors, on stderr.

The library logs on the ``bitfinex`` logger and its children and never prints. Routine events
(connects, reconnects, subscriptions) stay quiet by default, but some things must not go
unseen, as :mod:`threading` and :mod:`asyncio` show their unhandled exceptions: an exception in
one of your callbacks, a connection that gave up, an order the exchange refused or that could
not be sent, a bug in this library. They are logged at ERROR; while the application has
configured no logging at all (no handler on the root logger, none of its own on the ``bitfinex``
logger), :class:`ErrorsToStderr` writes those records to stderr. Once you configure logging
(``logging.basicConfig(...)``, a handler on ``bitfinex``), they go where you said, and only there.
"""

from __future__ import annotations

import logging
import sys

LOGGER = "bitfinex"


class ErrorsToStderr(logging.Handler):
    """Writes ERROR records of the ``bitfinex`` loggers to stderr while nothing else would show
    them (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.setFormatter(logging.Formatter("bitfinex-wss: %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` to stderr, unless the application configured logging."""
        if logging.getLogger().handlers or any(h is not self for h in logging.getLogger(LOGGER).handlers):
            return
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # stderr closed or broken: nothing better to do
            self.handleError(record)


def install() -> None:
    """Give the ``bitfinex`` logger its :class:`ErrorsToStderr` (once)."""
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(handler, ErrorsToStderr) for handler in logger.handlers):
        logger.addHandler(ErrorsToStderr())
