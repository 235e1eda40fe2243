"""The ``bitfinex-wss`` command (also ``python -m bitfinex``).

- ``demo``: the quickstart against an embedded local exchange (see :mod:`bitfinex.demo`);
- ``serve``: run the local exchange (the options of ``python -m bitfinex.testing``);
- ``stream ticker|trades|book|candles|status SYMBOL [SYMBOL ...]``: print a channel's frames as
  readable lines or JSON lines (see :mod:`bitfinex.cli.stream`);
- ``book SYMBOL``: a live top-of-book view (see :mod:`bitfinex.cli.book`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from bitfinex import __version__
from bitfinex.cli import book, stream


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bitfinex-wss", description="Bitfinex WebSocket API v2 client tools.")
    parser.add_argument("--version", action="version", version=f"bitfinex-wss {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "demo",
        help="run the quickstart against an embedded local exchange",
        description=(
            "Run the quickstart (authenticate, candles for BTCUSD 1m and ETHUSD 5m, a LIMIT order and its "
            "fill) against a local exchange started for the occasion, narrating each step. No network needed."
        ),
    )
    commands.add_parser("serve", help="run the local exchange (see `serve --help`)", add_help=False)
    stream.add_arguments(
        commands.add_parser(
            "stream",
            help="print a channel's frames as readable lines or JSON lines",
            description="Print every data frame of a channel, one line each, until Ctrl-C, --count or --seconds.",
        )
    )
    book.add_arguments(
        commands.add_parser(
            "book",
            help="a live top-of-book view of a maintained order book",
            description="Show the best levels of a maintained, checksum-verified order book, redrawn in place.",
        )
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parsed, rest = _parser().parse_known_args(arguments)
    if parsed.command == "serve":
        from bitfinex.testing.__main__ import main as serve

        return serve(rest, prog="bitfinex-wss serve")
    if rest:
        _parser().error(f"unrecognized arguments: {' '.join(rest)}")
    if parsed.command == "stream":
        return stream.run(parsed)
    if parsed.command == "book":
        return book.run(parsed)
    from bitfinex.demo import run

    return run()


if __name__ == "__main__":
    sys.exit(main())
