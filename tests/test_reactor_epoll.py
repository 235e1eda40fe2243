"""The lean epoll reactor (``bitfinex/transport/epoll.py``): the private reactor on Linux.

It must behave as Twisted's own wherever a socket is ready: handlers called, a handler's
exception turned into that connection's loss, an exception that escapes even that logged, and
the reactor running on for every other connection. Each behaviour test runs on both reactors.
The first test fails, and names it, if a Twisted upgrade changes the method it replaces.
"""

from __future__ import annotations

import inspect
import socket
from typing import Any

import pytest
from twisted.internet import epollreactor
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import globalLogPublisher

from bitfinex.transport.epoll import LeanEPollReactor
from bitfinex.transport.reactor import ReactorThread

TIMEOUT = 10.0


def test_twisted_dispatches_ready_sockets_as_the_lean_reactor_replaces():
    source = inspect.getsource(epollreactor.EPollReactor.doPoll)
    assert "l = self._poller.poll(timeout, len(self._selectables))" in source
    assert "if err.errno == errno.EINTR:" in source
    assert "_drdw = self._doReadOrWrite" in source
    assert "log.callWithLogger(selectable, _drdw, selectable, fd, event)" in source
    assert epollreactor.EPollReactor.doIteration is epollreactor.EPollReactor.doPoll


def test_the_private_reactor_on_linux_is_the_lean_one():
    thread = ReactorThread(name="test-epoll-default")  # as a client makes it: new_reactor()
    thread.start()
    try:
        assert type(thread.reactor) is LeanEPollReactor
        assert thread.run_sync(lambda: thread.reactor.running)
    finally:
        thread.stop()


class _Echo(Protocol):
    """Echoes; ``boom`` raises in dataReceived, and its connectionLost raises too."""

    def dataReceived(self, data: bytes) -> None:
        if data == b"boom":
            self.exploded = True
            raise RuntimeError("handler failed")
        self.transport.write(data)  # type: ignore[union-attr]

    def connectionLost(self, reason: Any = None) -> None:
        if getattr(self, "exploded", False):
            raise RuntimeError("connectionLost failed too")


@pytest.mark.parametrize("reactor_type", [epollreactor.EPollReactor, LeanEPollReactor], ids=["twisted", "lean"])
def test_a_failing_handler_loses_its_connection_is_logged_and_the_reactor_serves_on(reactor_type):
    logged: list[str] = []

    def observer(event: dict[str, Any]) -> None:
        failure = event.get("log_failure") or event.get("failure")  # Twisted's log.err sends the legacy key
        if failure is not None:
            logged.append(failure.getErrorMessage())

    globalLogPublisher.addObserver(observer)
    thread = ReactorThread(reactor_type(), name="test-epoll")
    thread.start()
    try:
        port = thread.run_sync(lambda: thread.reactor.listenTCP(0, Factory.forProtocol(_Echo), interface="127.0.0.1"))
        address = ("127.0.0.1", port.getHost().port)
        with socket.create_connection(address, timeout=TIMEOUT) as failing:
            failing.sendall(b"boom")
            assert failing.recv(10) == b""  # the reactor dropped the connection whose handler raised
        with socket.create_connection(address, timeout=TIMEOUT) as other:
            other.sendall(b"hello")
            assert other.recv(10) == b"hello"
        assert logged == ["handler failed", "connectionLost failed too"]
        thread.run_sync(port.stopListening)
    finally:
        globalLogPublisher.removeObserver(observer)
        thread.stop()
    assert thread.thread is not None and not thread.thread.is_alive()
