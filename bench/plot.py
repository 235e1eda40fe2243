"""A bar chart of a run's rates, as a self-contained SVG: ``python -m bench.plot RESULT.json``.

One bar per client that ran: the median rate of its runs (updates/s for the book workload,
frames/s for the firehose and channels workloads), a line from the slowest run to the fastest,
and the median written at the end of the bar. WssClient's rows are drawn in one colour, the
others in another, the baseline marked; in the book workload, the rows that verify every
checksum are marked "verifies cs". No plotting library: the SVG is written by hand, so the
bench needs nothing more to make the figure the docs show (``docs/_static/``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any, Optional

from bench.harness import BOOKS_RUN, CHANNELS_RUN, THROUGHPUT_RUN
from bench.report import RATE_FIGURES
from bench.report_books import VERIFIES_CHECKSUMS

PLOT_WIDTH = 440
CHARACTER_WIDTH = 6.8
"""Width of a 12 px label character, near enough (labels are right-aligned to the bars)."""
ROW_HEIGHT = 30
BAR_HEIGHT = 18
TOP = 56
BOTTOM = 40
RIGHT = 90
OURS = "#2b6cb0"
THEIRS = "#a0aec0"
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"


def measurement_key(document: dict[str, Any]) -> Optional[str]:
    """The measurement whose rate the chart shows (``None`` for a workload without one)."""
    for entry in document["summary"].values():
        for key in entry["measurements"]:
            if key.split("@")[0] in (BOOKS_RUN, CHANNELS_RUN, THROUGHPUT_RUN):
                return str(key)
    return None


def bars(document: dict[str, Any], key: str) -> list[tuple[str, float, float, float]]:
    """``(client, median, min, max)`` of the rate, for every client that has one (rows built
    from another revision with ``--against`` are left out: the chart shows the field)."""
    figure = RATE_FIGURES[key.split("@")[0]]
    found = []
    for name, entry in document["summary"].items():
        measured = entry["measurements"].get(key, {}).get(figure) if " @" not in name else None
        if measured:
            found.append((name, measured["median"], measured["min"], measured["max"]))
    return found


def svg(document: dict[str, Any]) -> str:
    """The chart of ``document`` (a result written by ``python -m bench``)."""
    key = measurement_key(document)
    if key is None:
        raise ValueError(f"the {document.get('workload', 'firehose')} workload has no rate to plot")
    rows = [(_label(document, key, name), *figures) for name, *figures in bars(document, key)]
    unit = RATE_FIGURES[key.split("@")[0]].replace("_per_second", "/s")
    scale_to = max(high for _, _, _, high in rows) * 1.05
    label_width = round(max(len(label) for label, *_ in rows) * CHARACTER_WIDTH) + 16
    plot_width = PLOT_WIDTH
    width = label_width + plot_width + RIGHT
    height = TOP + ROW_HEIGHT * len(rows) + BOTTOM
    machine = document.get("machine", {})
    title = (f"bitfinex-wss bench, {document.get('workload', 'firehose')} workload: {unit} per client "
             f"(median of {document['settings']['repetitions']} interleaved runs, line: slowest to fastest)")
    subtitle = (f"{document['started']}, Python {machine.get('python', '?')}, {machine.get('cpus', '?')} CPUs; "
                f"baseline: {document.get('baseline', '')}")
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"{FONT} font-size='12'>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='10' y='20' font-size='14' font-weight='bold'>{escape(title)}</text>",
        f"<text x='10' y='38' fill='#4a5568'>{escape(subtitle)}</text>",
    ]
    for index, (label, median, low, high) in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        middle = y + BAR_HEIGHT / 2
        colour = OURS if label.startswith("WssClient") else THEIRS
        length = median / scale_to * plot_width
        parts += [
            f"<text x='{label_width - 8}' y='{middle + 4:.1f}' text-anchor='end'>{escape(label)}</text>",
            f"<rect x='{label_width}' y='{y}' width='{length:.1f}' height='{BAR_HEIGHT}' fill='{colour}'/>",
            f"<line x1='{label_width + low / scale_to * plot_width:.1f}' y1='{middle:.1f}' "
            f"x2='{label_width + high / scale_to * plot_width:.1f}' y2='{middle:.1f}' stroke='#1a202c' "
            "stroke-width='1.5'/>",
            f"<text x='{label_width + max(length, high / scale_to * plot_width) + 6:.1f}' y='{middle + 4:.1f}'>"
            f"{median / 1000:,.1f}k</text>",
        ]
    axis_y = TOP + ROW_HEIGHT * len(rows) + 4
    parts.append(f"<line x1='{label_width}' y1='{axis_y}' x2='{label_width + plot_width}' y2='{axis_y}' "
                 "stroke='#718096'/>")
    for tick in _ticks(scale_to):
        x = label_width + tick / scale_to * plot_width
        parts += [
            f"<line x1='{x:.1f}' y1='{axis_y}' x2='{x:.1f}' y2='{axis_y + 5}' stroke='#718096'/>",
            f"<text x='{x:.1f}' y='{axis_y + 18}' text-anchor='middle' fill='#4a5568'>{tick / 1000:,.0f}k</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _label(document: dict[str, Any], key: str, name: str) -> str:
    """A row's label: its name, the baseline marked, and in the book workload whether it
    verifies every checksum."""
    label = f"{name} (baseline)" if name == document.get("baseline") else name
    if key == BOOKS_RUN and VERIFIES_CHECKSUMS.get(name) == "yes":
        label += " ✓ verifies cs"
    return label


def _ticks(top: float) -> list[float]:
    """Round tick values from 0 to ``top``, five or so."""
    step = 10 ** len(str(int(top / 5))) / 10
    for factor in (1, 2, 5, 10):
        if top / (step * factor) <= 6:
            step *= factor
            break
    return [index * step for index in range(int(top // step) + 1)]


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Write the chart of a result file."""
    parser = argparse.ArgumentParser(prog="python -m bench.plot", description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="a JSON result written by python -m bench")
    parser.add_argument("--output", type=Path, help="the SVG to write (default: next to the result)")
    args = parser.parse_args(argv)
    document = json.loads(args.result.read_text())
    output = args.output or args.result.with_suffix(".svg")
    output.write_text(svg(document))
    print(output)


if __name__ == "__main__":
    main()
