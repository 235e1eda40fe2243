"""The order workload's exchange stand-in: ``python -m bench.standin``.

A minimal WebSocket server on 127.0.0.1, in a process of its own, that answers order inputs at
once, so that an order round trip measures the client, not an exchange. It is one thread and an
``epoll`` loop (:mod:`selectors`) over plain sockets, with the RFC 6455 handshake and framing
written out here (the unmasking is the client's own
:func:`~bitfinex.transport.websocket.apply_mask`): an order's two replies cost it a few
microseconds (their text is a template filled with the ids and the time, both frames go out in
one ``send``). An autobahn server on a
Twisted reactor, which this replaced, spent more per order than the clients it measured.

Per connection: an ``info`` event first; ``auth`` answered ``OK`` (any key: nothing is checked)
with empty ``ps``/``ws``/``os`` snapshots; ``conf`` and ``ping`` answered; each
``[0, "on", null, {...}]`` answered by its ``on-req`` SUCCESS notification and its ``on`` order
message, back to back (notification first, as Bitfinex and :mod:`bitfinex.testing` send them);
``oc_multi`` and ``ox_multi`` by an ``oc_multi-req`` notification. WebSocket pings are answered
with pongs and a close with a close. Nothing is kept: no book, no matching, no account.

On start it prints its URL on one line; it stops when its standard input closes. ``--cpu N``
runs it on CPU ``N`` only.

The same server is written in C in ``bench/standin.c``, answering the same inputs with the same
frames at the cost of its system calls alone: this server spent about 45 µs of user time per
order, and every row of the orders workload paid it. :func:`native_standin` builds it with the
machine's C compiler (``$CC``, else ``cc``), once per source, and ``python -m bench.standin``
runs it when it builds; ``--python`` (or no compiler) serves from this module instead. The
tests hold both to the same frames.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import os
import selectors
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from bitfinex.protocol.fields import order_array
from bitfinex.transport.websocket import apply_mask

from bench.harness import pin_to_cpu

FIRST_ORDER_ID = 120_000_000_000

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CONTINUATION, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
_MAX_MESSAGE = 1 << 20
_READ_SIZE = 65536

NATIVE_SOURCE = Path(__file__).with_name("standin.c")
BUILD_DIRECTORY = Path(__file__).with_name(".build")
"""Where :func:`native_standin` keeps the built program (one per source and compiler)."""

_ID, _CID, _MTS = "-1111111111111111", "-2222222222222222", "-3333333333333333"
"""Stand-ins for an order's id, cid and time in a reply template (no real reply holds them)."""


try:
    from orjson import loads as _loads
except ImportError:  # the stand-in runs without the fast extra too, a little slower
    _loads = json.loads


def _dumps(message: Any) -> str:
    return json.dumps(message, separators=(",", ":"))


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` answering a handshake's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key.strip().encode() + _GUID).digest()).decode()


def server_frame(payload: bytes, opcode: int = _TEXT) -> bytes:
    """One complete (FIN), unmasked frame, as a server sends it."""
    size = len(payload)
    if size <= 125:
        header = bytes((0x80 | opcode, size))
    elif size <= 0xFFFF:
        header = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return header + payload


class FrameReader:
    """A client's frames from the bytes that arrive: whole messages, fragments joined."""

    def __init__(self) -> None:
        self.buffer = b""
        self.fragments: list[bytes] = []
        self.fragments_opcode = _TEXT

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Every complete message in what has arrived, as ``(opcode, payload)``; the bytes of
        an incomplete frame wait for the next call.

        :raises ValueError: on a frame no client may send (unmasked, or a message over 1 MiB).
        """
        buffer = self.buffer + data
        offset = 0
        messages = []
        while len(buffer) - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            if not second & 0x80:
                raise ValueError("an unmasked client frame")
            size, start = second & 0x7F, offset + 2
            if size == 126:
                if len(buffer) - start < 2:
                    break
                size, start = int.from_bytes(buffer[start:start + 2], "big"), start + 2
            elif size == 127:
                if len(buffer) - start < 8:
                    break
                size, start = int.from_bytes(buffer[start:start + 8], "big"), start + 8
            if size > _MAX_MESSAGE:
                raise ValueError("a frame over 1 MiB")
            end = start + 4 + size
            if len(buffer) < end:
                break
            payload = apply_mask(buffer[start + 4:end], buffer[start:start + 4])
            offset = end
            message = self._message(first & 0x80, first & 0x0F, payload)
            if message is not None:
                messages.append(message)
        self.buffer = buffer[offset:]
        return messages

    def _message(self, final: int, opcode: int, payload: bytes) -> Optional[tuple[int, bytes]]:
        if opcode >= _CLOSE:
            return opcode, payload
        if opcode != _CONTINUATION:
            self.fragments_opcode, self.fragments = opcode, []
        self.fragments.append(payload)
        if sum(map(len, self.fragments)) > _MAX_MESSAGE:
            raise ValueError("a message over 1 MiB")
        if not final:
            return None
        whole, self.fragments = b"".join(self.fragments), []
        return self.fragments_opcode, whole


class OrderReplies:
    """The two frames answering ``on`` inputs, from a template per order shape."""

    def __init__(self) -> None:
        self.order_ids = itertools.count(FIRST_ORDER_ID)
        self.templates: dict[tuple[Any, ...], str] = {}

    def answer(self, request: dict[str, Any], now_ms: int) -> bytes:
        """The ``on-req`` notification and the ``on`` message for one ``on`` input, framed."""
        cid = request.get("cid")
        shape = (request.get("symbol"), request.get("type"), request.get("amount"), request.get("price"))
        try:
            template = self.templates.get(shape)
        except TypeError:  # a field that is no JSON scalar: answer it, do not keep a template
            template, shape = None, ()
        if template is None:
            template = self._template(request)
            if shape:
                self.templates[shape] = template
        text = template.replace(_ID, str(next(self.order_ids))).replace(_MTS, str(now_ms))
        notification, order = text.replace(_CID, str(cid) if type(cid) is int else _dumps(cid)).split("\n")
        return server_frame(notification.encode()) + server_frame(order.encode())

    @staticmethod
    def _template(request: dict[str, Any]) -> str:
        amount = float(request.get("amount") or 0)
        order = order_array({
            "id": int(_ID), "cid": int(_CID), "symbol": request.get("symbol"), "mts_create": int(_MTS),
            "mts_update": int(_MTS), "amount": amount, "amount_orig": amount, "type": request.get("type"),
            "flags": 0, "status": "ACTIVE", "price": float(request.get("price") or 0), "price_avg": 0,
            "notify": 0, "hidden": 0, "routing": "API>BFX",
        })
        side = "buy" if amount > 0 else "sell"
        text = f"Submitting {str(request.get('type', '')).lower()} {side} order for {abs(amount)}."
        notification = [int(_MTS), "on-req", None, None, order, None, "SUCCESS", text]
        return _dumps([0, "n", notification]) + "\n" + _dumps([0, "on", order])


def _event(event: dict[str, Any], now_ms: int) -> list[Any]:
    kind = event.get("event")
    if kind == "auth":
        return [{"event": "auth", "status": "OK", "chanId": 0, "userId": 1, "auth_id": "bench-standin", "caps": {}},
                [0, "ps", []], [0, "ws", []], [0, "os", []]]
    if kind == "conf":
        return [{"event": "conf", "status": "OK", "flags": event.get("flags", 0)}]
    if kind == "ping":
        return [{"event": "pong", "ts": now_ms, "cid": event.get("cid")}]
    return []


class Session:
    """One client connection: the handshake, then its messages and their answers.

    :param replies: the stand-in's order replies (one order id sequence for every connection).
    """

    def __init__(self, replies: OrderReplies) -> None:
        self.replies = replies
        self.handshake = b""
        self.reader: Optional[FrameReader] = None
        self.closing = False

    def received(self, data: bytes) -> bytes:
        """What to send back for ``data``; sets :attr:`closing` once the connection must end."""
        if self.reader is None:
            return self._handshake(data)
        answers = []
        try:
            for opcode, payload in self.reader.feed(data):
                if opcode in (_TEXT, _BINARY):
                    answers.append(self._answer(payload))
                elif opcode == _PING:
                    answers.append(server_frame(payload, _PONG))
                elif opcode == _CLOSE:
                    answers.append(server_frame(payload[:2], _CLOSE))
                    self.closing = True
                    break
        except ValueError:
            answers.append(server_frame((1002).to_bytes(2, "big"), _CLOSE))
            self.closing = True
        return b"".join(answers)

    def _handshake(self, data: bytes) -> bytes:
        self.handshake += data
        head, found, rest = self.handshake.partition(b"\r\n\r\n")
        if not found:
            if len(self.handshake) > 16384:
                self.closing = True
                return b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n"
            return b""
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key")
        if key is None or headers.get("upgrade", "").lower() != "websocket":
            self.closing = True
            return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
        self.reader = FrameReader()
        response = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode()
        greeting = {"event": "info", "version": 2, "serverId": "bench-standin", "platform": {"status": 1}}
        return response + server_frame(_dumps(greeting).encode()) + (self.received(rest) if rest else b"")

    def _answer(self, payload: bytes) -> bytes:
        try:
            message = _loads(payload)
        except ValueError:
            return b""
        now_ms = time.time_ns() // 1_000_000
        if type(message) is list and len(message) >= 4 and message[0] == 0:
            kind, request = message[1], message[3]
            if kind == "on" and type(request) is dict:
                return self.replies.answer(request, now_ms)
            if kind in ("oc_multi", "ox_multi"):
                return server_frame(_dumps([0, "n", [now_ms, "oc_multi-req", None, None, [], None, "SUCCESS",
                                                     "Submitting 0 order cancellations."]]).encode())
            return b""
        if type(message) is dict:
            return b"".join(server_frame(_dumps(answer).encode()) for answer in _event(message, now_ms))
        return b""


class StandIn:
    """The server: a listening socket and its sessions on one ``epoll`` loop.

    :param port: the port on 127.0.0.1 (0: any free one).
    """

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.replies = OrderReplies()
        self.pending: dict[socket.socket, bytes] = {}
        self.writing: set[socket.socket] = set()
        """Connections with bytes the kernel did not take yet, watched for writing."""

    @property
    def url(self) -> str:
        """The URL clients connect to."""
        return f"ws://127.0.0.1:{self.listener.getsockname()[1]}/ws/2"

    def serve(self, stop_fd: Optional[int] = None) -> None:
        """Serve until ``stop_fd`` (if given) reaches its end, then close every socket."""
        if stop_fd is not None:
            self.selector.register(stop_fd, selectors.EVENT_READ)
        try:
            while True:
                for key, events in self.selector.select():
                    if key.fileobj is self.listener:
                        self._accept()
                    elif key.fileobj == stop_fd:
                        if not os.read(stop_fd, 4096):
                            return
                    elif events & selectors.EVENT_WRITE:
                        self._flush(key.fileobj, key.data)
                    else:
                        self._read(key.fileobj, key.data)
        finally:
            for key in list(self.selector.get_map().values()):
                if isinstance(key.fileobj, socket.socket):
                    key.fileobj.close()
            self.selector.close()

    def _accept(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except BlockingIOError:
            return
        connection.setblocking(False)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.selector.register(connection, selectors.EVENT_READ, Session(self.replies))

    def _read(self, connection: socket.socket, session: Session) -> None:
        try:
            data = connection.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(connection)
            return
        answer = session.received(data)
        if answer:
            self.pending[connection] = self.pending.get(connection, b"") + answer
            self._flush(connection, session)
        elif session.closing:
            self._drop(connection)

    def _flush(self, connection: socket.socket, session: Session) -> None:
        waiting = self.pending.pop(connection, b"")
        try:
            sent = connection.send(waiting)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(connection)
            return
        if sent < len(waiting):
            self.pending[connection] = waiting[sent:]
            if connection not in self.writing:
                self.writing.add(connection)
                self.selector.modify(connection, selectors.EVENT_READ | selectors.EVENT_WRITE, session)
        elif session.closing:
            self._drop(connection)
        elif connection in self.writing:
            self.writing.discard(connection)
            self.selector.modify(connection, selectors.EVENT_READ, session)

    def _drop(self, connection: socket.socket) -> None:
        self.pending.pop(connection, None)
        self.writing.discard(connection)
        self.selector.unregister(connection)
        connection.close()


def native_standin() -> Optional[Path]:
    """The C stand-in (``bench/standin.c``) built with ``$CC`` (else ``cc``) under
    :data:`BUILD_DIRECTORY`, or ``None`` without a compiler or if it does not build (the
    compiler's errors go to standard error)."""
    compiler = shlex.split(os.environ.get("CC", ""))
    if not compiler:
        found = shutil.which("cc")
        if found is None:
            return None
        compiler = [found]
    source = NATIVE_SOURCE.read_bytes()
    digest = hashlib.sha256(source + " ".join(compiler).encode()).hexdigest()[:16]
    program = BUILD_DIRECTORY / f"standin-{digest}"
    if program.exists():
        return program
    BUILD_DIRECTORY.mkdir(exist_ok=True)
    building = program.with_name(f"{program.name}.{os.getpid()}.tmp")
    built = subprocess.run([*compiler, "-O2", "-o", str(building), str(NATIVE_SOURCE)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if built.returncode != 0:
        sys.stderr.write(f"bench.standin: {' '.join(compiler)} could not build {NATIVE_SOURCE.name}, serving in Python:\n"
                         f"{built.stdout}")
        building.unlink(missing_ok=True)
        return None
    os.replace(building, program)
    return program


def server_command(python: bool = False) -> tuple[list[str], str]:
    """How to start the stand-in (``--port`` and ``--cpu`` may follow), and the file it serves
    from: ``bench/standin.c`` where that builds (and ``python`` is not asked for), else
    ``bench/standin.py``."""
    program = None if python else native_standin()
    if program is None:
        return [sys.executable, "-m", "bench.standin", "--python"], f"bench/{Path(__file__).name}"
    return [str(program)], f"bench/{NATIVE_SOURCE.name}"


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Serve on 127.0.0.1, print the URL, run until stdin closes: the C server when it builds
    (this process becomes it), else this module's."""
    parser = argparse.ArgumentParser(prog="python -m bench.standin", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, help="run on this CPU only (as the clients it serves: see bench/README.md)")
    parser.add_argument("--python", action="store_true", help="serve from the Python module, not the C program")
    args = parser.parse_args(argv)
    command, source = server_command(args.python)
    if source.endswith(".c"):
        os.execv(command[0], [*command, "--port", str(args.port), *(["--cpu", str(args.cpu)] if args.cpu is not None else [])])
    if args.cpu is not None:
        pin_to_cpu(args.cpu)
    server = StandIn(args.port)
    print(server.url, flush=True)
    server.serve(sys.stdin.fileno())


if __name__ == "__main__":
    main()
