"""What ``bitfinex-wss book`` draws (:func:`bitfinex.cli.book.render`): figures aligned on the
decimal point, and a drawing that fits the terminal it is drawn on; and the lines ``stream``
prints for the status channel (:func:`bitfinex.cli.stream.describe`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bitfinex.cli.book import BookView, Size, render
from bitfinex.cli.stream import describe
from bitfinex.protocol.book import PriceLevel

BIDS = [PriceLevel(27000.0, 1, 1.2345), PriceLevel(26999.9, 2, 0.8), PriceLevel(26990.0, 1, 12.5)]
ASKS = [PriceLevel(27000.1, 1, -0.5), PriceLevel(27000.25, 1, -1.75), PriceLevel(27100.0, 1, -0.00001)]
VIEW = BookView("tBTCUSD", "P0", BIDS, ASKS, 0.1, 27000.05, 1_700_000_000.0)


def test_figures_are_aligned_on_the_decimal_point_and_never_in_exponent_form() -> None:
    header, titles, *levels = render(VIEW)
    assert header == "tBTCUSD P0  22:13:20.000 UTC  spread 0.1  mid 27000.05"
    assert titles.split() == ["amount", "bid", "|", "ask", "amount"]
    assert levels == [
        " 1.2345  27000.0  |  27000.1   0.5",
        " 0.8     26999.9  |  27000.25  1.75",
        "12.5     26990.0  |  27100.0   0.00001",
    ]
    assert {line.index(".", 9) for line in levels} == {14}  # the bid prices' points in one column

@pytest.mark.parametrize("kind", [Decimal, str])
def test_decimal_and_string_figures_are_drawn_as_sent(kind: type) -> None:
    bids = [PriceLevel(kind("27000.5"), 1, kind("0.00000100"))]
    asks = [PriceLevel(kind("27001"), 1, kind("-3"))]
    lines = render(BookView("tBTCUSD", "P0", bids, asks, 0.5, 27000.75, 0.0))
    assert lines[2] == "0.00000100  27000.5  |  27001       3"  # under its title


@pytest.mark.parametrize(("columns", "lines"), [(40, 8), (30, 5), (20, 3), (80, 24)])
def test_a_drawing_fits_the_terminal(columns: int, lines: int) -> None:
    many = BookView("tBTCUSD", "P0", BIDS * 10, ASKS * 10, 0.1, 27000.05, 0.0)
    drawing = render(many, Size(columns, lines))
    assert len(drawing) <= max(lines - 1, 3)  # the final newline never scrolls the header away
    assert all(len(line) <= columns for line in drawing)
    assert drawing[0].startswith("tBTCUSD P0")
    assert len(drawing) - 2 == min(30, max(1, lines - 3))  # as many levels as fit


def test_a_narrow_terminal_keeps_the_prices_and_drops_the_amounts_then_the_clock() -> None:
    header, titles, *levels = render(VIEW, Size(30, 8))
    assert titles.split() == ["bid", "|", "ask"]
    assert levels[1] == "26999.9  |  27000.25"
    assert header == "tBTCUSD P0  spread 0.1"
    wide = render(VIEW, Size(60, 8))
    assert wide[0] == render(VIEW)[0] and wide[1].split() == ["amount", "bid", "|", "ask", "amount"]


DERIVATIVE_STATUS = [  # the docs' example (ws-public-status), its channel id ours
    1596124822000, None, 0.896, 0.771995, None, 1396531.67460709, None, 1596153600000, 0.0001056, 6, None,
    -0.01381344, None, None, 0.7664, None, None, 6531.42, None, None, None, 0.0005, 0.0025,
]


def test_a_derivative_status_line_names_its_prices_funding_and_open_interest() -> None:
    line = describe("status_deriv:tBTCF0:USTF0", [7, DERIVATIVE_STATUS])
    assert line == (
        "price 0.896  spot 0.771995  mark 0.7664  funding -0.01381344, next 00:00 accrued 0.0001056  "
        "open interest 6531.42"
    )


def test_a_liquidation_line_says_whether_it_was_triggered_or_taken_over() -> None:
    head = ["pos", 145511, 1593342022000, None, "tBTCF0:USTF0", 0.1, 9196.9, None]
    triggered, taken = [*head, 0, 0, None, None], [*head, 1, 0, None, 9150]
    assert describe("status_liq:global", [8, [triggered]]) == "liquidation #145511 tBTCF0:USTF0 0.1 @ 9196.9: triggered"
    both = describe("status_liq:global", [8, [triggered, taken]])
    assert both.endswith("; liquidation #145511 tBTCF0:USTF0 0.1 @ 9196.9: taken over at 9150")
