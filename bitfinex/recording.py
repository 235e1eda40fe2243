"""Recording every frame a client receives, for reproducible bug reports and backtests.

``WssClient(record="session.jsonl")`` writes each text message any of its connections
receives, the moment it arrives and before the client handles it, as one JSON line:

.. code-block:: json

    {"t": 1700000000.123456, "connection": "public-1", "frame": "[17,[27000.5,1,0.5]]"}

- ``t``: the arrival time, Unix seconds (``time.time()``);
- ``connection``: the client connection it came on, ``"auth"`` or ``"public-N"``;
- ``frame``: the message exactly as received (invalid UTF-8, which no Bitfinex message
  contains, is written with replacement characters).

Every line is flushed as it is written, so a crash loses nothing already received, and nothing
is kept in memory. :class:`~bitfinex.testing.LocalExchange` replays a recording
(``LocalExchange(replay="session.jsonl")``, see :mod:`bitfinex.testing.replay`), and
:func:`read_recording` reads one back.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Optional, Union

__all__ = ["FrameRecorder", "PathArgument", "RecordedFrame", "read_recording"]

PathArgument = Union[str, os.PathLike[str]]
"""A file path: a ``str`` or a :class:`pathlib.Path` (any :class:`os.PathLike`)."""


class RecordedFrame(NamedTuple):
    """One line of a recording."""

    t: float
    """Arrival time, Unix seconds."""
    connection: str
    """The client connection it came on: ``"auth"`` or ``"public-N"``."""
    frame: str
    """The message as received."""


class FrameRecorder:
    """Writes the frames a client receives to a file, one JSON line each (thread-safe).

    :param path: the file to write; created, or truncated if it exists.
    :param clock: the time source for ``t`` (Unix seconds); ``time.time`` by default.
    :raises OSError: if the file cannot be opened for writing.
    """

    def __init__(self, path: PathArgument, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        """The file being written."""
        self._clock = clock
        self._lock = threading.Lock()
        self._file = self.path.open("w", encoding="utf-8", newline="\n")
        self._frames = 0

    def __repr__(self) -> str:
        return f"<FrameRecorder {str(self.path)!r} frames={self._frames} {'closed' if self.closed else 'open'}>"

    @property
    def frames(self) -> int:
        """How many frames were written so far."""
        return self._frames

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._file.closed

    def record(self, connection: str, payload: bytes) -> None:
        """Write one received text message as a line, stamped with the current time.

        Frames that arrive after :meth:`close` are ignored.

        :param connection: the connection's name (``"auth"``, ``"public-1"``, ...).
        :param payload: the message as received (UTF-8 bytes).
        """
        line = json.dumps(
            {"t": self._clock(), "connection": connection, "frame": payload.decode("utf-8", "replace")},
            ensure_ascii=False,
        )
        with self._lock:
            if self._file.closed:
                return
            self._file.write(line + "\n")
            self._file.flush()
            self._frames += 1

    def wrap(
        self, connection: str, sink: Callable[[Sequence[bytes]], None]
    ) -> Callable[[Sequence[bytes]], None]:
        """Return a handler of the text messages of one read that records each message, then
        hands them all to ``sink``.

        :param connection: the connection's name, written with each of its frames.
        :param sink: the handler the messages go to afterwards (the connection's
            ``received_many``).
        """
        record = self.record

        def record_then_handle(payloads: Sequence[bytes]) -> None:
            for payload in payloads:
                record(connection, payload)
            sink(payloads)

        return record_then_handle

    def close(self) -> None:
        """Flush and close the file (closing twice is harmless)."""
        with self._lock:
            self._file.close()

    def __enter__(self) -> FrameRecorder:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()


def read_recording(path: PathArgument) -> Iterator[RecordedFrame]:
    """Yield the frames of a recording in the order they were received.

    :param path: a file written by :class:`FrameRecorder`.
    :raises ValueError: for a line that is not a recorded frame (with its line number).
    :raises OSError: if the file cannot be read.
    """
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                yield RecordedFrame(float(entry["t"]), str(entry["connection"]), str(entry["frame"]))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a recorded frame ({error})") from None
