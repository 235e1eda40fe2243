"""``python -m bitfinex.testing``: run a local Bitfinex-compatible exchange until interrupted.

The first line on stdout is the URL to connect to; without ``--key`` the generated demo key and
secret follow it (``key=...`` and ``secret=...``). SIGINT or SIGTERM stops the server (exit 0).

``--replay FILE`` serves a recording (``WssClient(record=FILE)``, ``bitfinex-wss stream --record
FILE``) instead of the simulated market, at the recorded pace, ``--speed`` times faster, or
``--as-fast-as-possible`` (see :mod:`bitfinex.testing.replay`).

Memory is bounded whatever clients send: ``--log-frames``, ``--log-bytes`` and
``--log-frame-bytes`` bound the receive log (``--no-receive-log`` keeps none), and
``--send-buffer-limit`` drops a client that does not read. ``--decoder`` picks what reads
client frames (``orjson`` or ``json``; the installed one by default).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, Optional

from twisted.internet.error import CannotListenError

from bitfinex.protocol.codec import DECODERS
from bitfinex.testing.exchange import LocalExchange
from bitfinex.testing.server import SEND_BUFFER_LIMIT, ReceiveLogLimits, map_large_allocations

_LOG = ReceiveLogLimits()


def _positive(text: str) -> float:
    """An argparse type: a number of seconds or a factor, finite and above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above zero: {text!r}")
    return value


def _parser(prog: str = "python -m bitfinex.testing") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local Bitfinex-compatible WebSocket API v2 exchange.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--key", help="API key of the funded account (default: a generated demo key)")
    parser.add_argument("--secret", help="its API secret (default: generated)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the market simulation (default 0)")
    parser.add_argument("--heartbeat", type=_positive, default=15.0, help="heartbeat interval in seconds (default 15)")
    parser.add_argument("--tick", type=_positive, default=0.25, help="seconds between simulation steps (default 0.25)")
    parser.add_argument("--tls", action="store_true", help="serve wss:// with a generated CA (its path is printed)")
    parser.add_argument("--verbose", action="store_true", help="log at DEBUG level to stderr")
    parser.add_argument("--replay", metavar="FILE", help="serve this recording instead of the simulated market")
    parser.add_argument("--decoder", choices=sorted(DECODERS), help="what reads client frames (default: the installed one)")
    parser.add_argument("--log-frames", type=int, default=_LOG.max_frames, metavar="N",
                        help=f"frames the receive log keeps, all connections together (default {_LOG.max_frames})")
    parser.add_argument("--log-bytes", type=int, default=_LOG.max_bytes, metavar="BYTES",
                        help=f"bytes of frame text the receive log keeps (default {_LOG.max_bytes})")
    parser.add_argument("--log-frame-bytes", type=int, default=_LOG.frame_bytes, metavar="BYTES",
                        help=f"bytes kept of one frame; longer ones are truncated (default {_LOG.frame_bytes})")
    parser.add_argument("--no-receive-log", action="store_true", help="keep nothing of what clients send")
    parser.add_argument("--send-buffer-limit", type=int, default=SEND_BUFFER_LIMIT, metavar="BYTES",
                        help=f"drop a client once this many bytes wait for it to read (default {SEND_BUFFER_LIMIT}; 0: never)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=_positive, default=1.0, metavar="FACTOR",
                      help="with --replay: replay this many times faster than recorded (default 1)")
    pace.add_argument("--as-fast-as-possible", action="store_true", help="with --replay: send the recorded frames at once")
    return parser


def _reason(error: CannotListenError) -> str:
    """The operating system's words for why a listen failed (``Address already in use``)."""
    cause = error.socketError
    return getattr(cause, "strerror", None) or str(cause)


def main(argv: Optional[Sequence[str]] = None, prog: str = "python -m bitfinex.testing") -> int:
    """Run the exchange until SIGINT/SIGTERM; return the exit status.

    ``prog`` names the command in usage and error lines (``bitfinex-wss serve`` calls it so).
    Exit status: 0 once stopped by a signal, 2 for bad arguments, 1 when the exchange cannot
    start (a port in use, an interface that does not exist), with a one-line reason on stderr.
    """
    parser = _parser(prog)
    arguments = parser.parse_args(argv)
    if (arguments.key is None) != (arguments.secret is None):
        parser.error("--key and --secret go together")
    logging.basicConfig(
        level=logging.DEBUG if arguments.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    map_large_allocations()  # a client's megabyte messages leave no pages behind once freed
    try:
        receive_log = None if arguments.no_receive_log else ReceiveLogLimits(
            arguments.log_frames, arguments.log_bytes, arguments.log_frame_bytes
        )
    except ValueError as error:
        parser.error(str(error))
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
            receive_log=receive_log,
            send_buffer_limit=arguments.send_buffer_limit or None,
            decoder=arguments.decoder,
        )
    except OSError as error:
        parser.error(f"--replay: {error}")
    except ValueError as error:
        parser.error(str(error))
    stopping = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        url = exchange.start()
    except CannotListenError as error:
        print(f"{prog}: error: cannot listen on {arguments.host}:{arguments.port}: {_reason(error)}", file=sys.stderr)
        return 1
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
