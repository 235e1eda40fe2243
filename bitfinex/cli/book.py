"""``bitfinex-wss book SYMBOL``: a live top-of-book view of a maintained, checksum-verified book.

It subscribes with ``subscribe_to_orderbook(..., maintained=True)`` and shows the best
``--depth`` levels of each side, at most once per ``--interval`` seconds::

    tBTCUSD P0  12:00:01.250 UTC  spread 0.1  mid 27000.05
     amount      bid  |  ask        amount
     1.2345  27000.0  |  27000.1   0.5
     0.8     26999.9  |  27000.25  1.75
    12.5     26990.0  |  27100.0   0.00001

Prices and amounts are aligned on their decimal point. On a terminal the view redraws in place
(ANSI escape codes) and fits the window as it is at each drawing: the levels that do not fit are
left out, then the amount columns, so the header never scrolls away and no line wraps. When the
output is a file or a pipe, each view is printed whole, as a block of lines followed by an empty
line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable, NamedTuple, Optional, TextIO, Union

from bitfinex.cli import runner
from bitfinex.client import WssClient
from bitfinex.protocol.book import Level, OrderBook

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


class Size(NamedTuple):
    """The room a drawing has: columns and lines of the terminal."""

    columns: int
    lines: int


SEPARATOR = "  |  "
"""Between the bid side and the ask side."""


def render(view: BookView, size: Optional[Size] = None) -> list[str]:
    """Return the lines of one drawing of ``view``.

    Prices and amounts are aligned on their decimal point, each column as wide as its widest
    figure. With a ``size`` (a terminal's), the drawing fits it: at most ``size.lines - 1``
    lines (so the last newline never scrolls the header away), the levels that do not fit left
    out; the amounts, then the clock and the mid, left out when the columns would not fit; no
    line longer than ``size.columns``.
    """
    rows = max(len(view.bids), len(view.asks))
    if size is not None:
        rows = min(rows, max(1, size.lines - 3))
    bids, asks = view.bids[:rows], view.asks[:rows]
    columns = [
        _column("amount", [_plain(level.amount, absolute=True) for level in bids], rows),
        _column("bid", [_plain(level.price) for level in bids], rows),
        _column("ask", [_plain(level.price) for level in asks], rows, left=True),
        _column("amount", [_plain(level.amount, absolute=True) for level in asks], rows),
    ]
    width = None if size is None else size.columns
    table = _table(columns)
    if width is not None and len(table[0]) > width:
        table = _table(columns[1:3])
    header = _header(view, width)
    lines = [header, *table]
    if width is not None:
        lines = [line[:width] for line in lines]
    return lines


def _header(view: BookView, width: Optional[int]) -> str:
    """The first line: symbol, clock, spread and mid; the clock, then the mid, dropped to fit."""
    clock = datetime.fromtimestamp(view.at, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    name, spread, mid = f"{view.symbol} {view.precision}", f"spread {_number(view.spread)}", f"mid {_number(view.mid)}"
    for parts in ([name, f"{clock} UTC", spread, mid], [name, spread, mid], [name, spread]):
        header = "  ".join(parts)
        if width is None or len(header) <= width:
            break
    return header


def _table(columns: list[list[str]]) -> list[str]:
    """The column headers and the level lines: the columns side by side, the two sides split by
    :data:`SEPARATOR` (two columns: prices only; four: amounts outside), no trailing blanks."""
    middle = len(columns) // 2
    return [
        ("  ".join(cells[:middle]) + SEPARATOR + "  ".join(cells[middle:])).rstrip()
        for cells in zip(*columns)
    ]


def _column(title: str, figures: list[str], rows: int, left: bool = False) -> list[str]:
    """A column: its title, then ``figures`` aligned on the decimal point (blank below the last
    one down to ``rows``), every cell as wide as the widest, the title aligned to the figures'
    side (right, or ``left`` for the ask prices next to the separator)."""
    whole = [figure.partition(".")[0] for figure in figures]
    fractions = [figure.partition(".")[2] for figure in figures]
    whole_width = max(map(len, whole), default=0)
    fraction_width = max(map(len, fractions), default=0)
    cells = [
        w.rjust(whole_width) + (("." + f) if f else "").ljust(fraction_width + 1 if fraction_width else 0)
        for w, f in zip(whole, fractions)
    ]
    width = max(len(title), *(len(cell) for cell in cells)) if cells else len(title)
    cells += [""] * (rows - len(cells))
    if left:
        return [title.ljust(width), *(cell.ljust(width) for cell in cells)]
    return [title.rjust(width), *(cell.rjust(width) for cell in cells)]


def _number(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.10g}"


def _plain(value: Union[float, Decimal, str], absolute: bool = False) -> str:
    """A price or amount as plain decimal digits (never ``1e-05``), without its sign if
    ``absolute``; it may be a float, a :class:`~decimal.Decimal` or, with
    ``decimals_as_strings``, the text Bitfinex sent."""
    text = value if isinstance(value, str) else repr(value) if isinstance(value, (int, float)) else str(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text.lstrip("-") if absolute else text


class Screen:
    """Draws views on ``out``: in place with ANSI codes on a terminal, as blocks otherwise.

    :param out: the stream to draw on.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.in_place = out.isatty()
        self._drawn = False

    def draw(self, view: BookView) -> bool:
        """Draw ``view`` (to the terminal's size at this moment); always counts towards ``--count``."""
        lines = render(view, self._size() if self.in_place else None)
        if self.in_place:
            start = HOME if self._drawn else CLEAR_SCREEN + HOME
            text = start + "".join(line + CLEAR_LINE_END + "\n" for line in lines) + CLEAR_BELOW
        else:
            text = "\n".join(lines) + "\n\n"
        self.out.write(text)
        self.out.flush()
        self._drawn = True
        return True

    def _size(self) -> Size:
        """The terminal's size now (it may have been resized since the last drawing)."""
        try:
            columns, lines = os.get_terminal_size(self.out.fileno())
        except (OSError, ValueError):
            columns, lines = shutil.get_terminal_size()
        return Size(columns, lines)
