"""``python -m bitfinex.testing``: run a local Bitfinex-compatible exchange until interrupted.

The first line on stdout is the URL to connect to; without ``--key`` the generated demo key and
secret follow it (``key=...`` and ``secret=...``). SIGINT or SIGTERM stops the server (exit 0).

``--replay FILE`` serves a recording (``WssClient(record=FILE)``, ``bitfinex-wss stream --record
FILE``) instead of the simulated market, at the recorded pace, ``--speed`` times faster, or
``--as-fast-as-possible`` (see :mod:`bitfinex.testing.replay`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, Optional

from bitfinex.testing.exchange import LocalExchange


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bitfinex.testing",
        description="Run a local Bitfinex-compatible WebSocket API v2 exchange.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--key", help="API key of the funded account (default: a generated demo key)")
    parser.add_argument("--secret", help="its API secret (default: generated)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the market simulation (default 0)")
    parser.add_argument("--heartbeat", type=float, default=15.0, help="heartbeat interval in seconds (default 15)")
    parser.add_argument("--tick", type=float, default=0.25, help="seconds between simulation steps (default 0.25)")
    parser.add_argument("--tls", action="store_true", help="serve wss:// with a generated CA (its path is printed)")
    parser.add_argument("--verbose", action="store_true", help="log at DEBUG level to stderr")
    parser.add_argument("--replay", metavar="FILE", help="serve this recording instead of the simulated market")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=1.0, metavar="FACTOR",
                      help="with --replay: replay this many times faster than recorded (default 1)")
    pace.add_argument("--as-fast-as-possible", action="store_true", help="with --replay: send the recorded frames at once")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the exchange until SIGINT/SIGTERM; return the exit status."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    if (arguments.key is None) != (arguments.secret is None):
        parser.error("--key and --secret go together")
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.INFO, stream=sys.stderr)
    try:
        exchange = LocalExchange(
            arguments.key,
            arguments.secret,
            host=arguments.host,
            port=arguments.port,
            seed=arguments.seed,
            heartbeat_interval=arguments.heartbeat,
            tick_interval=arguments.tick,
            tls=arguments.tls,
            replay=arguments.replay,
            replay_speed=None if arguments.as_fast_as_possible else arguments.speed,
        )
    except (OSError, ValueError) as error:
        parser.error(f"--replay: {error}")
    stopping = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    url = exchange.start()
    try:
        print(url, flush=True)
        if arguments.key is None:
            print(f"key={exchange.key}", flush=True)
            print(f"secret={exchange.secret}", flush=True)
        if exchange.ca_path is not None:
            print(f"ca={exchange.ca_path}", flush=True)
        stopping.wait()
    finally:
        exchange.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
