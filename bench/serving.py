"""How the bench's Twisted server process (the feeder) runs: until its standard input closes."""

from __future__ import annotations

import sys
import threading
from typing import Any


def run_until_stdin_closes(reactor: Any) -> None:
    """Run ``reactor`` until this process's standard input closes (so a server never outlives
    the runner that started it)."""

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        reactor.callFromThread(reactor.stop)

    threading.Thread(target=stop_when_stdin_closes, name="stdin-watch", daemon=True).start()
    reactor.run(installSignalHandlers=False)
