"""Driving the official client, bitfinex-api-py 4, against the local exchange: a bot's events
recorded by name, a wait for the next one, and a session run on its own asyncio loop in a thread
of its own (its client must not share the test's thread)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Iterable
from typing import Any, Callable

POLLS = 1000
"""How many times (every 10 ms) :meth:`OfficialBot.next_event` looks before it gives up."""
SESSION_POLLS = 1500
"""How many times (every 10 ms) :meth:`OfficialBot.run` looks for the end of the session."""


class OfficialBot:
    """A ``bfxapi.Client`` pointed at ``url`` that records every event of ``names`` in
    ``events`` (name → the events' last arguments, in arrival order). Made on the loop it runs
    on."""

    def __init__(self, url: str, key: str, secret: str, names: Iterable[str], events: dict[str, list[Any]]) -> None:
        import bfxapi

        self.client = bfxapi.Client(api_key=key, api_secret=secret, wss_host=url)
        self.events = events
        for name in names:
            self.client.wss.on(name, lambda *args, name=name: self.events.setdefault(name, []).append(args[-1]))

    def count(self, name: str) -> int:
        """How many ``name`` events came so far."""
        return len(self.events.get(name, []))

    async def next_event(self, name: str, matches: Callable[[Any], bool] = lambda _: True, seen: int = 0) -> Any:
        """The first ``name`` event from index ``seen`` on that ``matches``, once it came.

        :raises AssertionError: if none comes within :data:`POLLS` × 10 ms.
        """
        for _ in range(POLLS):
            found = [event for event in self.events.get(name, [])[seen:] if matches(event)]
            if found:
                return found[0]
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {name} event; got {sorted(self.events)}")

    async def run(self, session: Callable[[], Awaitable[None]]) -> None:
        """Start the client, run ``session`` once it is authenticated, then close the client.
        An exception of the session, or of the client (a frame it could not parse), is raised."""
        sessions: list[asyncio.Future[None]] = []

        @self.client.wss.on("authenticated")
        async def on_authenticated(_: Any) -> None:
            sessions.append(asyncio.ensure_future(session()))

        running = asyncio.ensure_future(self.client.wss.start())
        try:
            for _ in range(SESSION_POLLS):
                if sessions and sessions[0].done():
                    break
                if running.done():
                    running.result()  # the client died: a frame it could not parse raises here
                await asyncio.sleep(0.01)
            assert sessions, "the official client never authenticated"
            sessions[0].result()
        finally:
            await self.client.wss.close()
            await asyncio.wait_for(running, timeout=5)


def run_in_thread(bot: Callable[[], Awaitable[None]], timeout: float = 60.0) -> None:
    """Run the coroutine ``bot()`` on an asyncio loop of its own in a thread of its own; raise
    what it raised. :raises AssertionError: if it has not ended within ``timeout`` seconds."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(bot())  # type: ignore[arg-type]
        except BaseException as error:  # reported below, in the test's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="bitfinex-api-py")
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the official client's session did not end"
    if failure:
        raise failure[0]
