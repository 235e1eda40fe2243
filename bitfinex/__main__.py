"""The ``bitfinex-wss`` command (also ``python -m bitfinex``).

- ``demo``: the quickstart against an embedded local exchange (see :mod:`bitfinex.demo`);
- ``serve``: run the local exchange (the options of ``python -m bitfinex.testing``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bitfinex-wss", description="Bitfinex WebSocket API v2 client tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the quickstart against an embedded local exchange")
    commands.add_parser("serve", help="run the local exchange (see `serve --help`)", add_help=False)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parsed, rest = _parser().parse_known_args(arguments)
    if parsed.command == "serve":
        from bitfinex.testing.__main__ import main as serve

        return serve(rest)
    if rest:
        _parser().error(f"unrecognized arguments: {' '.join(rest)}")
    from bitfinex.demo import run

    return run()


if __name__ == "__main__":
    sys.exit(main())
