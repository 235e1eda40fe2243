"""``bitfinex-wss book SYMBOL``: a live top-of-book view of a maintained, checksum-verified book.

It subscribes with ``subscribe_to_orderbook(..., maintained=True)`` and shows the best
``--depth`` levels of each side, at most once per ``--interval`` seconds::

    tBTCUSD P0  12:00:01.250 UTC  spread 0.1  mid 27000.05
            amount            bid  |  ask                    amount
            1.2345        27000.0  |  27000.1                   0.5
               0.8        26999.9  |  27000.2                  1.75

On a terminal the view redraws in place (ANSI escape codes); when the output is a file or a
pipe, each view is printed as a block of lines followed by an empty line.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from typing import Callable, NamedTuple, Optional, TextIO

from bitfinex.cli import runner
from bitfinex.client import WssClient
from bitfinex.protocol.book import Level, OrderBook

COLUMN = 14
"""Width of each column of the view, in characters."""

HOME = "\x1b[H"
"""ANSI: move the cursor to the top left corner."""
CLEAR_SCREEN = "\x1b[2J"
"""ANSI: clear the whole screen."""
CLEAR_LINE_END = "\x1b[K"
"""ANSI: clear from the cursor to the end of the line."""
CLEAR_BELOW = "\x1b[J"
"""ANSI: clear from the cursor to the end of the screen."""


class BookView(NamedTuple):
    """What one drawing of the view shows: a copy of the top of a book at one moment."""

    symbol: str
    precision: str
    bids: list[Level]
    """The best bids, best first."""
    asks: list[Level]
    """The best asks, best first."""
    spread: Optional[float]
    mid: Optional[float]
    at: float
    """When the book was in this state, Unix seconds."""

    @classmethod
    def of(cls, book: OrderBook, depth: int) -> BookView:
        """Copy the top ``depth`` levels of each side of ``book`` (on the thread that owns it)."""
        return cls(book.symbol, book.precision, book.bids(depth), book.asks(depth), book.spread, book.mid, time.time())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``book``'s arguments and options to its sub-parser."""
    parser.add_argument("symbol", metavar="SYMBOL", help="the symbol (BTCUSD, tETHUSD, ...)")
    parser.add_argument("--depth", type=runner.positive(int), default=10, help="levels per side to show (default 10)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between redraws (default 0.5)")
    runner.add_book_arguments(parser)
    runner.add_common_arguments(parser)


def run(arguments: argparse.Namespace) -> int:
    """Show the book until told to stop; return the exit status (see :func:`bitfinex.cli.runner.run`).

    ``--count N`` stops after N views were drawn.
    """
    screen = Screen(sys.stdout)
    mailbox: runner.Newest[BookView] = runner.Newest(arguments.interval)
    return runner.run(arguments, mailbox, lambda client, put: subscribe(client, arguments, put), screen.draw)


def subscribe(client: WssClient, arguments: argparse.Namespace, put: Callable[[BookView], None]) -> None:
    """Subscribe to the maintained book of ``arguments.symbol``; each verified state goes to
    ``put`` as a :class:`BookView`.

    :raises ValueError, TypeError: for a symbol, precision or length the client refuses.
    """
    depth = arguments.depth
    client.subscribe_to_orderbook(
        arguments.symbol,
        arguments.precision,
        lambda book: put(BookView.of(book, depth)),
        length=arguments.length,
        maintained=True,
    )


def render(view: BookView) -> list[str]:
    """Return the lines of one drawing of ``view``."""
    clock = datetime.fromtimestamp(view.at, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    header = f"{view.symbol} {view.precision}  {clock} UTC  spread {_number(view.spread)}  mid {_number(view.mid)}"
    lines = [header, f"{'amount':>{COLUMN}} {'bid':>{COLUMN}}  |  {'ask':<{COLUMN}} {'amount':>{COLUMN}}"]
    for row in range(max(len(view.bids), len(view.asks))):
        bid = view.bids[row] if row < len(view.bids) else None
        ask = view.asks[row] if row < len(view.asks) else None
        lines.append(
            f"{_amount(bid):>{COLUMN}} {_price(bid):>{COLUMN}}  |  {_price(ask):<{COLUMN}} {_amount(ask):>{COLUMN}}"
        )
    return lines


def _number(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.10g}"


def _price(level: Optional[Level]) -> str:
    return "" if level is None else str(level.price)


def _amount(level: Optional[Level]) -> str:
    return "" if level is None else str(abs(level.amount))


class Screen:
    """Draws views on ``out``: in place with ANSI codes on a terminal, as blocks otherwise.

    :param out: the stream to draw on.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.in_place = out.isatty()
        self._drawn = False

    def draw(self, view: BookView) -> bool:
        """Draw ``view``; always counts towards ``--count``."""
        lines = render(view)
        if self.in_place:
            start = HOME if self._drawn else CLEAR_SCREEN + HOME
            text = start + "".join(line + CLEAR_LINE_END + "\n" for line in lines) + CLEAR_BELOW
        else:
            text = "\n".join(lines) + "\n\n"
        self.out.write(text)
        self.out.flush()
        self._drawn = True
        return True
