"""Private Twisted reactors run in a thread of their own.

Twisted's global reactor can run once per process and is shared by everything that imports it.
A client (or a local exchange) that owns a *private* reactor instead can be started and stopped
any number of times in one process, and several can run side by side. Nothing here imports
``twisted.internet.reactor``, so an application stays free to install the reactor it wants
(asyncio, for instance) and pass it in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Optional, TypeVar

log = logging.getLogger("bitfinex.transport")

T = TypeVar("T")


def new_reactor() -> Any:
    """Return a fresh reactor that is not installed as Twisted's global one: on Linux a
    :class:`~bitfinex.transport.epoll.LeanEPollReactor`."""
    try:
        from bitfinex.transport.epoll import LeanEPollReactor

        return LeanEPollReactor()  # type: ignore[no-untyped-call]
    except ImportError:  # pragma: no cover - not Linux
        pass
    try:  # pragma: no cover - not Linux
        from twisted.internet.pollreactor import PollReactor

        return PollReactor()  # type: ignore[no-untyped-call]
    except ImportError:  # pragma: no cover - Windows
        from twisted.internet.selectreactor import SelectReactor

        return SelectReactor()


class ReactorTimer:
    """The timer interface autobahn's factories use (``call_later`` returning something with
    ``cancel()``), on an explicit reactor.

    autobahn schedules its handshake, ping and close timeouts through ``factory._batched_timer``,
    which txaio builds on Twisted's *global* reactor (``txaio.with_config(loop=...)`` ignores its
    argument for Twisted). On a private reactor those timers would never fire and would import,
    and so install, the global reactor. :func:`bind_timers` swaps this in.
    """

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    def call_later(self, delay: float, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Schedule ``function(*args, **kwargs)`` in ``delay`` seconds; the result has ``cancel()``."""
        return self.reactor.callLater(delay, function, *args, **kwargs)


def bind_timers(factory: Any, reactor: Any) -> None:
    """Make an autobahn factory schedule its timeouts on ``reactor`` (see :class:`ReactorTimer`)."""
    factory._batched_timer = ReactorTimer(reactor)


def call_and_wait(reactor: Any, function: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
    """Run ``function(*args)`` on the running ``reactor``'s thread from another thread, wait,
    and return its result (or raise its exception in the caller's thread).

    :raises TimeoutError: if it has not run within ``timeout`` seconds.
    """
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error
        finally:
            done.set()

    reactor.callFromThread(run)
    if not done.wait(timeout):
        raise TimeoutError(f"the reactor thread did not answer within {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


class ReactorThread:
    """A reactor running in a daemon thread, with thread-safe calls into it.

    :param reactor: a reactor to run; a private one from :func:`new_reactor` when ``None``.
    :param name: the thread's name (shows in thread dumps and logs).
    """

    def __init__(self, reactor: Any = None, name: str = "bitfinex-reactor") -> None:
        self.reactor = reactor if reactor is not None else new_reactor()
        self._name = name
        self._thread: Optional[threading.Thread] = None
        self._running = threading.Event()
        self._stopped = False

    @property
    def thread(self) -> Optional[threading.Thread]:
        """The thread the reactor runs in, once started."""
        return self._thread

    def start(self, timeout: float = 10.0) -> None:
        """Run the reactor in a new daemon thread; return once it is running.

        :raises RuntimeError: if this reactor ran before (reactors cannot be restarted) or does
            not come up within ``timeout`` seconds.
        """
        if self._stopped:
            raise RuntimeError("this reactor was stopped; a stopped reactor cannot run again")
        if self._thread is not None:
            return
        self.reactor.callWhenRunning(self._running.set)
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        if not self._running.wait(timeout):
            raise RuntimeError(f"reactor thread {self._name!r} did not start in {timeout} s")

    def _run(self) -> None:
        try:
            self.reactor.run(installSignalHandlers=False)
        except Exception:  # pragma: no cover - a reactor that fails to run at all
            log.exception("reactor thread %s crashed", self._name)
        finally:
            self._running.clear()

    def in_reactor_thread(self) -> bool:
        """Tell whether the caller runs on the reactor's thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the reactor thread, in call order (thread-safe)."""
        self.reactor.callFromThread(function, *args)

    def run_sync(self, function: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run ``function(*args)`` on the reactor thread and return its result.

        :raises TimeoutError: if it has not run within ``timeout`` seconds.
        """
        if self.in_reactor_thread() or not self._running.is_set():
            return function(*args)
        return call_and_wait(self.reactor, function, *args, timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the reactor and join its thread.

        :raises TimeoutError: if the thread is still alive after ``timeout`` seconds.
        """
        self._stopped = True
        thread = self._thread
        if thread is None:
            return
        if thread.is_alive():
            self.reactor.callFromThread(self._stop_if_running)
            if threading.current_thread() is not thread:
                thread.join(timeout)
                if thread.is_alive():
                    raise TimeoutError(f"reactor thread {self._name!r} did not stop in {timeout} s")

    def _stop_if_running(self) -> None:
        if self.reactor.running:
            self.reactor.stop()
