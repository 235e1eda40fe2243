"""What the tests that talk to the local exchange share (the fixtures are in ``conftest.py``;
the sans-I/O core's stand-ins are in ``core_helpers.py``).

- :class:`Inbox`: the one way a test waits for messages: a thread-safe callback that keeps
  what it is called with, and waits, with a timeout, for what matches a predicate. Every
  callback of a ``WssClient``, every frame a :class:`RawClient` receives and every line a
  process prints lands in one.
- predicates over Bitfinex messages (:func:`is_event`, :func:`is_data`, :func:`is_account`,
  :func:`is_notification`);
- :class:`RawClient`: a bare WebSocket client that shows exactly what the exchange sent;
- the hostile requests every session of the exchange must answer cleanly;
- :func:`wait_until`, only for what is not a message: threads ending, sockets closing, the
  exchange's own logs (it has no callback for what it received).

The key pair is the one the shipped ``bitfinex_exchange`` fixture opens (:data:`KEY`,
:data:`SECRET`); a test that has the fixture reads it from ``bitfinex_exchange.key`` /
``.secret``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import IO, Any, Optional
from urllib.parse import urlparse

import psutil
import pytest
from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import ssl
from twisted.protocols.tls import TLSMemoryBIOFactory

from bitfinex import StatusEvent
from bitfinex.protocol.signing import Secret, auth_message
from bitfinex.testing.pytest_plugin import FIXTURE_DEFAULTS
from bitfinex.testing.requests import ECHO_DEPTH
from bitfinex.transport.reactor import ReactorThread, bind_timers

KEY: str = FIXTURE_DEFAULTS["key"]
SECRET: str = FIXTURE_DEFAULTS["secret"]
"""The account of the ``bitfinex_exchange`` fixture, for exchanges a test makes itself (on a
memory network, a replay, a subprocess)."""
TIMEOUT = 10.0
"""Seconds any wait gives up after (a bound for a failing test, not a delay: waits return as
soon as what they wait for is there)."""

Predicate = Callable[[Any], bool]


# -- waiting for messages -----------------------------------------------------------------------


class Inbox:
    """A thread-safe callback that keeps what it is called with and lets a test wait for it.

    Positions (:meth:`mark`) let a test look only at what came after some point.
    """

    def __init__(self, name: str = "inbox") -> None:
        self.name = name
        self._items: list[Any] = []
        self._condition = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._condition:
            self._items.append(item)
            self._condition.notify_all()

    @property
    def items(self) -> list[Any]:
        """A copy of everything received so far."""
        with self._condition:
            return list(self._items)

    def mark(self) -> int:
        """How many items came so far: a ``start`` for later waits and reads."""
        with self._condition:
            return len(self._items)

    def since(self, start: int) -> list[Any]:
        """A copy of the items from position ``start`` on."""
        with self._condition:
            return self._items[start:]

    def matching(self, predicate: Predicate, start: int = 0) -> list[Any]:
        """The items (from position ``start`` on) that satisfy ``predicate``."""
        return [item for item in self.since(start) if _safe(predicate, item)]

    def wait_all(self, predicate: Predicate, count: int, timeout: float = TIMEOUT, start: int = 0) -> list[Any]:
        """Wait until ``count`` items from position ``start`` on satisfy ``predicate``; return
        the first ``count`` of them.

        :raises AssertionError: on timeout, showing how many matched and the last items.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [item for item in self._items[start:] if _safe(predicate, item)]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    tail = [str(item)[:160] for item in self._items[-8:]]
                    raise AssertionError(
                        f"{self.name}: {len(found)} of {count} matching item(s) within {timeout} s; last: {tail}"
                    )
                self._condition.wait(remaining)

    def wait_for(self, predicate: Predicate, timeout: float = TIMEOUT, count: int = 1, start: int = 0) -> Any:
        """Wait until ``count`` items from position ``start`` on satisfy ``predicate``; return
        the last of them (with ``count=1``, the first match).

        :raises AssertionError: on timeout.
        """
        return self.wait_all(predicate, count, timeout, start)[-1]

    def wait_next(self, start: int, timeout: float = TIMEOUT) -> Any:
        """Wait for the item at position ``start`` and return it."""
        return self.wait_for(lambda _: True, timeout, start=start)

    def wait_kind(self, kind: str, timeout: float = TIMEOUT, count: int = 1, **fields: Any) -> StatusEvent:
        """Wait for ``count`` status events of ``kind`` whose fields equal ``fields``."""
        return self.wait_for(  # type: ignore[no-any-return]
            lambda e: e.kind == kind and all(getattr(e, k) == v for k, v in fields.items()), timeout, count
        )


def _safe(predicate: Predicate, item: Any) -> bool:
    try:
        return bool(predicate(item))
    except (IndexError, KeyError, TypeError, AttributeError):
        return False


class OutputLines:
    """What a process prints on ``stream``, line by line (stripped) into an :class:`Inbox`,
    read by a daemon thread; ``None`` marks the end of the output."""

    def __init__(self, stream: IO[Any], name: str = "output") -> None:
        self.lines = Inbox(name)
        self._read = 0
        threading.Thread(target=self._pump, args=(stream,), name=f"read-{name}", daemon=True).start()

    def _pump(self, stream: IO[Any]) -> None:
        for line in stream:
            self.lines((line.decode() if isinstance(line, bytes) else line).rstrip("\r\n"))
        self.lines(None)

    def next(self, timeout: float = TIMEOUT) -> Optional[str]:
        """The next line (``None`` once the output ended). :raises AssertionError: if none
        comes in time."""
        line = self.lines.wait_next(self._read, timeout)
        self._read += 1
        return line  # type: ignore[no-any-return]


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll ``condition`` every 10 ms until it holds, for what no callback reports (threads,
    sockets, the exchange's logs); messages are waited for with :class:`Inbox`.

    :raises AssertionError: on timeout.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(0.01)


def open_sockets() -> int:
    """TCP sockets this process holds that are not just waiting out TIME_WAIT."""
    return sum(1 for c in psutil.Process().net_connections(kind="tcp") if c.status != psutil.CONN_TIME_WAIT)


# -- predicates ---------------------------------------------------------------------------------


def is_event(name: str, **fields: Any) -> Predicate:
    """A ``{"event": name, ...}`` dict with these fields."""
    return lambda m: isinstance(m, dict) and m.get("event") == name and all(m.get(k) == v for k, v in fields.items())


def is_data(chan_id: Optional[int] = None, body: Predicate = lambda body: True) -> Predicate:
    """A data frame ``[CHAN_ID, BODY, ...]`` that is not a heartbeat: of channel ``chan_id``
    (any when ``None``), whose ``BODY`` satisfies ``body``."""
    return lambda m: (
        isinstance(m, list) and len(m) > 1 and isinstance(m[0], int) and m[1] != "hb"
        and (chan_id is None or m[0] == chan_id) and body(m[1])
    )


def is_account(kind: str) -> Predicate:
    """An account frame ``[0, kind, DATA]``."""
    return lambda m: isinstance(m, list) and len(m) > 2 and m[0] == 0 and m[1] == kind


def is_notification(request: str, cid: Optional[int] = None, status: Optional[str] = None) -> Predicate:
    """An ``n`` notification ``[0, "n", [MTS, request, ...]]`` (``"on-req"``...), about the
    order with ``cid``, with ``status`` (``"SUCCESS"``, ``"ERROR"``), when given."""

    def match(m: Any) -> bool:
        if not (is_account("n")(m) and m[2][1] == request):
            return False
        info = m[2][4]
        if cid is not None:
            found = info.get("cid") if isinstance(info, dict) else info[2]
            if found != cid:
                return False
        return status is None or m[2][6] == status

    return match


# -- what the exchange received -----------------------------------------------------------------


def sent_frames(exchange: Any) -> list[Any]:
    """Every frame the exchange received from clients, decoded, in arrival order per connection."""
    return [entry.frame for log in exchange.received for entry in log.frames]


def sent_events(exchange: Any, name: str) -> list[dict[str, Any]]:
    """The ``{"event": name, ...}`` messages the exchange received from clients."""
    return [f for f in sent_frames(exchange) if isinstance(f, dict) and f.get("event") == name]


# -- a bare WebSocket client --------------------------------------------------------------------


class NotJson(str):
    """A text frame that was not JSON (kept as its text)."""


class _Protocol(WebSocketClientProtocol):
    client: RawClient

    def onOpen(self) -> None:
        self.client._opened(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.client._received(payload, isBinary)

    def onClose(self, wasClean: bool, code: Optional[int], reason: Optional[str]) -> None:
        self.client._closed(code, reason)


class RawClient:
    """One WebSocket connection to the exchange, on a private reactor thread.

    It knows nothing of the Bitfinex protocol beyond signing ``auth``, so a test sees exactly
    what the server sent: every text frame, decoded with the standard library (or kept as
    :class:`NotJson`), in :attr:`frames`, its bytes in :attr:`raw`; binary frames are only
    counted.

    :param reactor_thread: a running reactor thread to connect from (or anything with its
        ``reactor`` and ``call(function, *args)``: see ``test_memory.py``).
    :param url: ``ws://...`` or ``wss://...``.
    :param ca_pem: for ``wss://``, the CA certificate to trust (nothing else is trusted).
    """

    def __init__(self, reactor_thread: ReactorThread, url: str, ca_pem: Optional[bytes] = None) -> None:
        self._thread = reactor_thread
        self.url = url
        self._ca_pem = ca_pem
        self.frames = Inbox(f"frames from {url}")
        """Every text frame received, decoded."""
        self.raw: list[bytes] = []
        """Every text frame received, as its bytes (appended before the frame reaches :attr:`frames`)."""
        self.binary_count = 0
        self.lifecycle = Inbox(f"connection to {url}")
        """``"open"``, then ``"closed"``; or only ``"closed"`` when the connection failed."""
        self._protocol: Optional[_Protocol] = None
        self.close_code: Optional[int] = None
        self.close_reason: Optional[str] = None

    # -- connection -------------------------------------------------------------------------

    def start(self) -> RawClient:
        """Begin connecting and return at once (on a memory network, the test then moves the
        network until :attr:`lifecycle` has news)."""
        self._thread.call(self._connect)
        return self

    def connect(self, timeout: float = TIMEOUT) -> RawClient:
        """Open the connection; return once the handshake is done.

        :raises ConnectionError: if the handshake fails or is refused (see :attr:`close_code`).
        """
        self.start()
        if self.lifecycle.wait_next(0, timeout) != "open":
            raise ConnectionError(f"connection to {self.url} failed: {self.close_code} {self.close_reason}")
        return self

    @property
    def closed(self) -> bool:
        """Whether the connection has closed (or failed to open)."""
        return "closed" in self.lifecycle.items

    def _connect(self) -> None:
        reactor = self._thread.reactor
        factory = WebSocketClientFactory(self.url, reactor=reactor)
        factory.protocol = type("BoundProtocol", (_Protocol,), {"client": self})
        factory.setProtocolOptions(serverConnectionDropTimeout=0, closeHandshakeTimeout=1, maxMessagePayloadSize=0)
        bind_timers(factory, reactor)
        factory.clientConnectionFailed = lambda _connector, reason: self._closed(None, str(reason.value))
        address = urlparse(self.url)
        transport_factory: Any = factory
        if self._ca_pem is not None:
            # Not connectWS/connectSSL: their TLS layer would flush writes on Twisted's global reactor.
            options = ssl.optionsForClientTLS(address.hostname or "", trustRoot=ssl.Certificate.loadPEM(self._ca_pem))
            transport_factory = TLSMemoryBIOFactory(options, True, factory, clock=reactor)
        reactor.connectTCP(address.hostname, address.port, transport_factory, timeout=5)

    def _opened(self, protocol: _Protocol) -> None:
        self._protocol = protocol
        self.lifecycle("open")

    def _received(self, payload: bytes, is_binary: bool) -> None:
        if is_binary:
            self.binary_count += 1
            return
        self.raw.append(payload)
        try:
            frame = json.loads(payload)
        except (ValueError, RecursionError):  # RecursionError: arrays nested past the recursion limit
            frame = NotJson(payload.decode("utf-8", "replace"))
        self.frames(frame)

    def _closed(self, code: Optional[int], reason: Optional[str]) -> None:
        self.close_code, self.close_reason = code, reason
        self.lifecycle("closed")

    def close(self, timeout: float = TIMEOUT) -> None:
        """Close with a normal closing handshake and wait for the close."""
        if self._protocol is not None and not self.closed:
            self._thread.call(self._protocol.sendClose, 1000)
            self.wait_closed(timeout)

    def abort(self, timeout: float = TIMEOUT) -> None:
        """Drop the TCP connection without a closing handshake, and wait for the close."""
        if self._protocol is not None and not self.closed:
            self._thread.call(self._protocol.dropConnection, True)
            self.wait_closed(timeout)

    def wait_closed(self, timeout: float = TIMEOUT) -> Optional[int]:
        """Wait for the connection to close; return the close code.

        :raises AssertionError: if it stays open.
        """
        self.lifecycle.wait_for(lambda state: state == "closed", timeout)
        return self.close_code

    # -- sending ----------------------------------------------------------------------------

    def send(self, message: Any) -> None:
        """Send ``message`` as JSON text."""
        self.send_text(json.dumps(message))

    def send_text(self, text: str | bytes) -> None:
        """Send a text frame exactly as given."""
        data = text.encode() if isinstance(text, str) else text
        assert self._protocol is not None, "not connected"
        self._thread.call(self._protocol.sendMessage, data, False)

    def send_binary(self, data: bytes) -> None:
        """Send a binary frame."""
        assert self._protocol is not None, "not connected"
        self._thread.call(self._protocol.sendMessage, data, True)

    def authenticate(self, key: str, secret: str, nonce: int, **options: Any) -> dict[str, Any]:
        """Send a correctly signed ``auth`` and return the ``auth`` reply."""
        start = self.mark()
        self.send(auth_message(key, Secret(secret), nonce, **options))
        return self.wait_event("auth", start=start)

    # -- reading: short names for this client's :attr:`frames` ------------------------------

    def mark(self) -> int:
        """The number of frames received so far (a ``start`` for later waits)."""
        return self.frames.mark()

    def snapshot(self, start: int = 0) -> list[Any]:
        """A copy of the frames received from index ``start`` on."""
        return self.frames.since(start)

    def wait_for(self, predicate: Predicate, timeout: float = TIMEOUT, start: int = 0) -> Any:
        """The first frame from index ``start`` on that satisfies ``predicate``, once it came."""
        return self.frames.wait_for(predicate, timeout, start=start)

    def wait_count(self, predicate: Predicate, count: int, timeout: float = TIMEOUT, start: int = 0) -> list[Any]:
        """The first ``count`` frames from index ``start`` on that satisfy ``predicate``, once they came."""
        return self.frames.wait_all(predicate, count, timeout, start)

    def wait_event(self, event: str, timeout: float = TIMEOUT, start: int = 0, **fields: Any) -> dict[str, Any]:
        """Wait for a control event ``{"event": event, **fields}``."""
        return self.wait_for(is_event(event, **fields), timeout, start)  # type: ignore[no-any-return]

    def subscribe(self, timeout: float = TIMEOUT, **request: Any) -> tuple[int, Any]:
        """Subscribe, and return ``(chanId, snapshot payload)``.

        :raises AssertionError: if the server answers with an error.
        """
        start = self.mark()
        self.send({"event": "subscribe", **request})
        reply = self.wait_for(lambda f: isinstance(f, dict) and f.get("event") in ("subscribed", "error"), timeout, start)
        assert reply["event"] == "subscribed", reply
        chan_id = reply["chanId"]
        snapshot = self.wait_for(lambda f: isinstance(f, list) and f[0] == chan_id and f[1] != "cs", timeout, start)
        return chan_id, snapshot[1]

    def channel_frames(self, chan_id: int, start: int = 0) -> list[list[Any]]:
        """Every frame received on ``chan_id`` (from index ``start`` on), heartbeats included."""
        return [f for f in self.snapshot(start) if isinstance(f, list) and f and f[0] == chan_id]


# -- hostile requests ---------------------------------------------------------------------------

DEEP = "[" * 900 + "]" * 900
PAST_EVERY_DECODER = 150_000
"""Levels of nesting no decoder reads, plain :func:`json.loads` included on every supported
Python (3.13 reads 2,000 levels where 3.12 stopped near 1,000; 150,000 levels fit in the
exchange's 1 MiB frames)."""
"""An array nested 900 deep: within both decoders' limits, past what recursive code survives."""

HOSTILE_EVENTS: list[tuple[str, bytes]] = [
    (name, frame.replace("DEEP", DEEP).encode())
    for name, frame in [
        ("subscribe-overflow", '{"event":"subscribe","channel":"ticker","symbol":1e400,"subId":1e400}'),
        ("subscribe-nan", '{"event":"subscribe","channel":"book","symbol":"tBTCUSD","prec":NaN,"subId":NaN}'),
        ("subscribe-deep-subId", '{"event":"subscribe","channel":"ticker","symbol":"tNOPE","subId":DEEP}'),
        ("subscribe-deep-symbol", '{"event":"subscribe","channel":"ticker","symbol":DEEP}'),
        ("subscribe-deep-key", '{"event":"subscribe","channel":"candles","key":DEEP}'),
        ("subscribe-deep-prec", '{"event":"subscribe","channel":"book","symbol":"tBTCUSD","prec":DEEP,"len":DEEP}'),
        ("subscribe-deep-channel", '{"event":"subscribe","channel":DEEP}'),
        ("event-array", '{"event":["x"]}'),
        ("event-deep", '{"event":DEEP,"more":DEEP}'),
        ("unsubscribe-deep", '{"event":"unsubscribe","chanId":DEEP}'),
        ("unsubscribe-overflow", '{"event":"unsubscribe","chanId":1e400}'),
        ("nesting-past-the-decoders", "[" * PAST_EVERY_DECODER + "]" * PAST_EVERY_DECODER),
        ("object-nesting-past-the-decoders", '{"a":' * PAST_EVERY_DECODER + "1" + "}" * PAST_EVERY_DECODER),
        ("scalar-overflow", "1e400"),
        ("scalar", '"subscribe"'),
        ("not-json", "{"),
    ]
]
"""Requests every session of the exchange (simulated or replay) answers with an ``error`` event."""

HOSTILE_PINGS: list[tuple[str, bytes]] = [
    ("ping-dict-cid", b'{"event":"ping","cid":{"a":[1,{"b":2}]}}'),
    ("ping-overflow-cid", b'{"event":"ping","cid":{"a":1e400}}'),
    ("ping-nan-cid", b'{"event":"ping","cid":[NaN,-1e400]}'),
    ("ping-deep-cid", f'{{"event":"ping","cid":{DEEP}}}'.encode()),
    ("ping-bom", b'\xef\xbb\xbf{"event":"ping","cid":"bom"}'),
    ("ping-utf-16", '{"event":"ping","cid":"utf-16"}'.encode("utf-16-le")),
]
"""Pings answered with a ``pong`` (its cid made JSON-safe), or with an ``error`` by a decoder
that refuses the frame (orjson refuses non-finite numbers, BOMs and UTF-16)."""

HOSTILE_INPUTS: list[tuple[str, bytes]] = [
    ("input-overflow", b'[0,"on",null,{"type":"EXCHANGE LIMIT","symbol":"tBTCUSD","amount":1e400,"price":NaN}]'),
    ("input-deep", f'[0,"on",null,{DEEP}]'.encode()),
    ("input-deep-op", f"[0,{DEEP},null,{{}}]".encode()),
    ("input-deep-head", f"[{DEEP},1]".encode()),
]
"""Array frames (inputs) from a client that is not authenticated."""


def depth(value: Any) -> int:
    """How deep ``value`` nests arrays and objects (0 for a scalar); without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def answers_to(client: RawClient, frame: bytes, barrier_cid: int, timeout: float = TIMEOUT) -> list[Any]:
    """Send ``frame``, then a ``ping`` with ``barrier_cid``; return what came back in between.

    The pong proves the connection is still usable, and, as the exchange answers a connection's
    frames in order, that everything before it answered ``frame`` (wait for the ``info``
    greeting before the first call).

    :raises AssertionError: if the pong does not come (the connection died or the exchange hung).
    """
    start = client.mark()
    client.send_text(frame)
    client.send({"event": "ping", "cid": barrier_cid})
    barrier = client.wait_event("pong", timeout, start, cid=barrier_cid)
    frames = client.snapshot(start)
    return frames[: next(i for i, f in enumerate(frames) if f is barrier)]


DECODERS = ("installed", "stdlib")
"""What the exchange's sessions may read client frames with: the installed decoder
(:data:`bitfinex.protocol.codec.loads`) and plain :func:`json.loads`, the laxest there is: it
reads ``1e400`` as ``inf``, ``NaN``, a BOM or UTF-16 bytes, nests until ``RecursionError``. The
sessions' guard must hold whichever runs."""


def read_frames_with(monkeypatch: Any, decoder: str) -> None:
    """Make the exchange's sessions (running in this process) decode with ``decoder``, one of
    :data:`DECODERS`."""
    if decoder == "stdlib":
        monkeypatch.setattr("bitfinex.testing.requests.loads", json.loads)


def assert_nothing_escaped(caplog: Any) -> None:
    """No handler raised: nothing logged at ERROR, no traceback, no RecursionError."""
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def assert_clean_error(name: str, answers: list[Any]) -> dict[str, Any]:
    """``answers`` is one Bitfinex ``error`` event whose echoed fields are JSON-safe and shallow."""
    assert len(answers) == 1 and isinstance(answers[0], dict), (name, answers)
    error = answers[0]
    assert error["event"] == "error", (name, error)
    assert isinstance(error["code"], int) and 10000 <= error["code"] < 11000, (name, error)
    assert isinstance(error["msg"], str) and error["msg"], (name, error)
    assert all(depth(value) <= ECHO_DEPTH for value in error.values()), name
    return error


def assert_clean_pong(name: str, answers: list[Any], decoder: str) -> None:
    """``answers`` is one ``pong`` with a shallow cid (or, for a frame the installed decoder
    refuses, one ``error``)."""
    assert len(answers) == 1 and isinstance(answers[0], dict), (name, answers)
    answer = answers[0]
    if answer["event"] == "error":
        assert decoder == "installed" and answer["code"] == 10020, (name, answer)
        return
    assert answer["event"] == "pong", (name, answer)
    assert depth(answer["cid"]) <= ECHO_DEPTH, name


# -- exchange presets ---------------------------------------------------------------------------

LIVE_MARKET = pytest.mark.bitfinex_exchange(heartbeat_interval=0.5, tick_interval=0.05)
"""A market that moves every 50 ms, with half-second heartbeats: for tests of ``WssClient``
that wait for data to flow (``pytestmark`` of their module)."""

STILL_MARKET = pytest.mark.bitfinex_exchange(seed=1, heartbeat_interval=None, tick_interval=None)
"""A market that moves only on ``exchange.tick()``, no heartbeats, seed 1: for tests that
look at the exchange's frames one by one (``pytestmark`` of their module)."""
