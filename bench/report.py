"""From raw runs to figures: medians and min–max per client, ratios to the baseline, the
targets, and the printed table.

Ratios are paired: each repetition's figure of a client divided by the reference client's
figure of the same repetition (runs close in time share the machine's load), then the median of
those ratios. Runs that failed are counted and shown, never averaged in or silently dropped.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from typing import Any, Optional

from bench.clients import (
    BARE_TUNED_ORJSON,
    BASELINE,
    CRYPTOFEED_NAME,
    OFFICIAL,
    WSSCLIENT_BOOK,
    WSSCLIENT_JSON,
    WSSCLIENT_ORJSON,
)
from bench.harness import BOOKS_RUN, CHANNELS_RUN, ORDERS_RUN, THROUGHPUT_RUN

Spread = dict[str, float]
"""``{"median": ..., "min": ..., "max": ..., "n": ...}``."""

LATENCY_NAMES = ("p50", "p99", "p99.9")


def spread(values: Iterable[Optional[float]]) -> Optional[Spread]:
    """Median, min and max of the values that exist (``None`` if none do)."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    return {"median": statistics.median(present), "min": min(present), "max": max(present), "n": len(present)}


def _figure(path: str) -> Callable[[dict[str, Any]], Optional[float]]:
    """A getter for a slash-separated path into a run's figures (``"latency_us/p99.9"``)."""
    parts = path.split("/")

    def get(figures: dict[str, Any]) -> Optional[float]:
        value: Any = figures
        for part in parts:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value if isinstance(value, (int, float)) else None

    return get


FIGURES_BY_MEASURE = {
    THROUGHPUT_RUN: (
        "frames_per_second", "cpu_seconds_per_100k", "peak_rss_mb", "callbacks", "book/updates_per_second",
    ),
    "latency": (*(f"latency_us/{name}" for name in (*LATENCY_NAMES, "max", "samples")), "frames_per_second"),
    "subscriptions": ("rss_mb", "peak_rss_mb", "seconds"),
    ORDERS_RUN: tuple(
        f"orders/{kind}/{name}" for kind in ("on_req_us", "on_us") for name in ("p50", "p99", "p99.9", "max")
    ),
    BOOKS_RUN: ("updates_per_second", "cpu_seconds_per_100k", "peak_rss_mb"),
    CHANNELS_RUN: ("frames_per_second", "cpu_seconds_per_100k", "peak_rss_mb", "rss_mb"),
}

RATE_FIGURES = {THROUGHPUT_RUN: "frames_per_second", BOOKS_RUN: "updates_per_second", CHANNELS_RUN: "frames_per_second"}
"""The rate of each measurement that has one: what ``ratio_to_baseline`` divides."""


def summarize(document: dict[str, Any]) -> dict[str, Any]:
    """Per client and measurement: run counts, errors, spreads of every figure; ratios of
    rates and CPU to the document's ``baseline`` (the firehose's :data:`BASELINE` if it names
    none)."""
    summary: dict[str, Any] = {}
    for client in document["clients"]:
        name = client["name"]
        entry: dict[str, Any] = {"skipped": client["skipped"], "measurements": {}}
        by_measurement: dict[str, list[dict[str, Any]]] = {}
        for run in document["runs"]:
            if run["client"] == name:
                by_measurement.setdefault(run["measurement"], []).append(run)
        for key, runs in by_measurement.items():
            figures = [run["figures"] for run in runs if run["ok"]]
            kind = key.split("@")[0]
            entry["measurements"][key] = {
                "runs": len(runs),
                "failed": len(runs) - len(figures),
                "errors": sorted({run["error"] for run in runs if not run["ok"]}),
                "decoder": sorted({str(item.get("decoder")) for item in figures}),
                **{path: spread(_figure(path)(item) for item in figures) for path in FIGURES_BY_MEASURE[kind]},
            }
        summary[name] = entry
    baseline = document.get("baseline", BASELINE)
    for name, entry in summary.items():
        for key, measured in entry["measurements"].items():
            rate = RATE_FIGURES.get(key.split("@")[0])
            if rate is not None:
                measured["ratio_to_baseline"] = paired_ratio(document["runs"], name, baseline, rate, key)
                measured["cpu_ratio_to_baseline"] = paired_ratio(document["runs"], name, baseline,
                                                                 "cpu_seconds_per_100k", key)
    return summary


def paired_ratio(runs: list[dict[str, Any]], client: str, reference: str, figure: str,
                 measurement: str = THROUGHPUT_RUN) -> Optional[Spread]:
    """``client``'s figure over ``reference``'s, per repetition in which both succeeded."""

    def by_repetition(name: str) -> dict[int, Optional[float]]:
        get = _figure(figure)
        return {run["repetition"]: get(run["figures"]) for run in runs
                if run["client"] == name and run["measurement"] == measurement and run["ok"]}

    mine, theirs = by_repetition(client), by_repetition(reference)
    return spread(value / theirs[repetition] for repetition, value in mine.items()
                  if value is not None and theirs.get(repetition))


def median_of(summary: dict[str, Any], client: str, measurement: str, figure: str) -> Optional[float]:
    """The median of one figure of one client's measurement (``None`` if it has none)."""
    measured = summary.get(client, {}).get("measurements", {}).get(measurement, {}).get(figure)
    return measured["median"] if measured else None


def _measurement_key(summary: dict[str, Any], prefix: str) -> Optional[str]:
    """The key of the measurement starting with ``prefix`` (``"subscriptions@"``), if any ran."""
    for entry in summary.values():
        for key in entry["measurements"]:
            if key.startswith(prefix):
                return str(key)
    return None


def at_least(description: str, value: Optional[float], bound: float, unit: str = "×") -> dict[str, Any]:
    """A target met when ``value`` ≥ ``bound`` (``met`` is ``None`` when not measured)."""
    return {"target": description, "value": value, "met": None if value is None else value >= bound,
            "shown": "not measured" if value is None else f"{value:.2f}{unit}"}


def at_most(description: str, value: Optional[float], bound: float, unit: str, below: bool = False) -> dict[str, Any]:
    """A target met when ``value`` ≤ ``bound`` (< with ``below``)."""
    met = None if value is None else (value < bound if below else value <= bound)
    return {"target": description, "value": value, "met": met,
            "shown": "not measured" if value is None else f"{value:.2f} {unit}"}


def median_ratio(document: dict[str, Any], client: str, reference: str, figure: str,
                 measurement: str = THROUGHPUT_RUN) -> Optional[float]:
    """The median of ``client``'s paired ratios to ``reference`` (``None`` if never both ran)."""
    paired = paired_ratio(document["runs"], client, reference, figure, measurement)
    return paired["median"] if paired else None


def targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets for WssClient, each measured (``met`` is ``None`` when not measured)."""
    summary = document["summary"]

    def median(client: str, measurement: Optional[str], figure: str) -> Optional[float]:
        return median_of(summary, client, measurement, figure) if measurement else None

    def ratio(client: str, reference: str) -> Optional[float]:
        return median_ratio(document, client, reference, "frames_per_second")

    latency = _measurement_key(summary, "latency@10000")
    subscriptions = _measurement_key(summary, "subscriptions@")
    found = [
        at_least("WssClient+orjson frames/s ≥ 2.4× baseline", ratio(WSSCLIENT_ORJSON, BASELINE), 2.4),
        at_least("WssClient+orjson frames/s ≥ 0.90× bare tuned orjson", ratio(WSSCLIENT_ORJSON, BARE_TUNED_ORJSON), 0.90),
        at_least("WssClient+orjson frames/s ≥ 3× bitfinex-api-py", ratio(WSSCLIENT_ORJSON, OFFICIAL), 3.0),
        at_least("WssClient+json frames/s ≥ 1.5× baseline", ratio(WSSCLIENT_JSON, BASELINE), 1.5),
    ]
    for client in (WSSCLIENT_ORJSON, WSSCLIENT_JSON):
        p99 = median(client, latency, "latency_us/p99")
        p999 = median(client, latency, "latency_us/p99.9")
        found.append(at_most(f"{client}: latency p99 at 10k frames/s < 1 ms",
                             p99 / 1000 if p99 is not None else None, 1.0, "ms", below=True))
        found.append(at_most(f"{client}: latency p99.9 at 10k frames/s < 5 ms",
                             p999 / 1000 if p999 is not None else None, 5.0, "ms", below=True))
    found.append(at_most("WssClient+orjson CPU ≤ 0.45 s per 100k frames",
                         median(WSSCLIENT_ORJSON, THROUGHPUT_RUN, "cpu_seconds_per_100k"), 0.45, "s"))
    for client in (WSSCLIENT_ORJSON, WSSCLIENT_JSON):
        found.append(at_most(f"{client}: RSS ≤ 60 MB with {subscriptions.split('@')[1] if subscriptions else '200'} "
                             "public subscriptions", median(client, subscriptions, "rss_mb"), 60.0, "MB"))
    on_p99 = median(WSSCLIENT_ORJSON, ORDERS_RUN, "orders/on_us/p99")
    found.append(at_most("WssClient+orjson order round trip (new_order → on) p99 < 5 ms",
                         on_p99 / 1000 if on_p99 is not None else None, 5.0, "ms", below=True))
    return found


# -- rendering ----------------------------------------------------------------------------


def thousands(value: float) -> str:
    """``206.8k``."""
    return f"{value / 1000:.1f}k"


def rate_cell(measured: Optional[Spread]) -> str:
    """A median rate with its min–max, in thousands."""
    if not measured:
        return "-"
    return f"{thousands(measured['median'])} ({measured['min'] / 1000:.1f}–{measured['max'] / 1000:.1f})"


def number_cell(measured: Optional[Spread], digits: int = 2) -> str:
    """A median, or ``-``."""
    return f"{measured['median']:.{digits}f}" if measured else "-"


def latency_cell(measurement: Optional[dict[str, Any]], prefix: str = "latency_us") -> str:
    """Medians of p50/p99/p99.9 (figures ``prefix/p50``... in µs) in milliseconds."""
    if not measurement:
        return "-"
    values = [measurement.get(f"{prefix}/{name}") for name in LATENCY_NAMES]
    if any(value is None for value in values):
        return "failed" if measurement["failed"] else "-"
    return "/".join(f"{value['median'] / 1000:.2f}" for value in values)  # type: ignore[index]


def _runs_cell(entry: dict[str, Any]) -> str:
    runs = sum(measurement["runs"] for measurement in entry["measurements"].values())
    failed = sum(measurement["failed"] for measurement in entry["measurements"].values())
    return f"{runs - failed}/{runs}"


Column = tuple[str, Callable[[str, dict[str, Any]], str]]
"""A table column: its header, and its cell from a row's name and summary entry."""


def ratio_cell(measured: Optional[dict[str, Any]], key: str = "ratio_to_baseline") -> str:
    """A measurement's median ratio to the baseline, or ``-``."""
    ratio = ((measured or {}).get(key) or {}).get("median")
    return f"{ratio:.2f}×" if ratio else "-"


def rows_and_notes(document: dict[str, Any], columns: list[Column]) -> tuple[list[str], list[str]]:
    """The table of every row (the baseline marked, skipped rows pointing to their note) and
    the notes: why a row was skipped, every failed run's error."""
    baseline = document.get("baseline", BASELINE)
    rows: list[list[str]] = []
    notes: list[str] = []
    for name, entry in document["summary"].items():
        label = f"{name} (BASELINE)" if name == baseline else name
        if entry["skipped"]:
            rows.append([label, f"skipped: see note {len(notes) + 1}"])
            notes.append(f"{name}: {entry['skipped']}")
            continue
        rows.append([label, *(cell(name, entry) for _, cell in columns), _runs_cell(entry)])
        for key, measurement in entry["measurements"].items():
            for error in measurement["errors"]:
                notes.append(f"{name}, {key}: {measurement['failed']} failed run(s): {error}")
    return table(["client", *(header for header, _ in columns), "runs ok"], rows), notes


def target_lines(document: dict[str, Any]) -> list[str]:
    """The targets, each MET / NOT MET / n/a with the measured value."""
    lines = ["Targets:"]
    for target in document["targets"]:
        mark = {True: "MET    ", False: "NOT MET", None: "n/a    "}[target["met"]]
        lines.append(f"  [{mark}] {target['target']}: {target['shown']}")
    return lines


def note_lines(notes: list[str]) -> list[str]:
    """The numbered notes under a table (none: no lines)."""
    return ["", "Notes:", *(f"  {index}. {note}" for index, note in enumerate(notes, 1))] if notes else []


def rate_columns(key: str, rate: str, rate_header: str, cpu_header: str, cpu_factor: float = 1.0) -> list[Column]:
    """The columns of a measurement with a rate: the rate (median, min–max), its ratio to the
    baseline, CPU per unit of work (``cpu_factor`` × seconds per 100k) and its ratio, peak RSS.

    :param key: the measurement (``"throughput"``, ``"books"``...).
    :param rate: its rate figure (``"frames_per_second"``...).
    """

    def measured(entry: dict[str, Any]) -> dict[str, Any]:
        return entry["measurements"].get(key, {})  # type: ignore[no-any-return]

    def cpu(entry: dict[str, Any]) -> str:
        seconds = measured(entry).get("cpu_seconds_per_100k")
        return number_cell({"median": seconds["median"] * cpu_factor} if seconds else None)

    return [
        (rate_header, lambda _name, entry: rate_cell(measured(entry).get(rate))),
        ("×base", lambda _name, entry: ratio_cell(measured(entry))),
        (cpu_header, lambda _name, entry: cpu(entry)),
        ("×base", lambda _name, entry: ratio_cell(measured(entry), "cpu_ratio_to_baseline")),
        ("peak RSS MB", lambda _name, entry: number_cell(measured(entry).get("peak_rss_mb"), 1)),
    ]


def page(document: dict[str, Any], title: str, columns: list[Column], revision: tuple[str, str, str],
         remarks: Iterable[str] = ()) -> str:
    """A workload's report: its title, the table, the ``--against`` lines, the targets, remarks
    and notes.

    :param revision: the figure, measurement and name of what the revision lines compare.
    """
    rows, notes = rows_and_notes(document, columns)
    lines = [title, "", *rows, *revision_lines(document, *revision), "", *target_lines(document)]
    for remark in remarks:
        lines += ["", remark]
    return "\n".join([*lines, *note_lines(notes)])


def render(document: dict[str, Any]) -> str:
    """The firehose's report, printed at the end of a run."""
    settings = document["settings"]
    latency_keys = [f"latency@{rate}" for rate, _ in settings["latency_runs"]]
    subscriptions_key = f"subscriptions@{settings['subscriptions']}"

    def latency(key: str) -> Column:
        return (f"lat@{int(key.split('@')[1]) // 1000}k p50/p99/p99.9 ms",
                lambda _name, entry: latency_cell(entry["measurements"].get(key)))

    columns: list[Column] = [
        *rate_columns(THROUGHPUT_RUN, "frames_per_second", "frames/s (min–max)", "CPU s/100k"),
        (f"RSS {settings['subscriptions']} subs MB",
         lambda _name, entry: number_cell(entry["measurements"].get(subscriptions_key, {}).get("rss_mb"), 1)),
        *(latency(key) for key in latency_keys),
    ]
    rows, notes = rows_and_notes(document, columns)
    lines = [_title(document), "", *rows, *revision_lines(document, "frames_per_second", THROUGHPUT_RUN, "frames/s")]
    lines += ["", *_orders_lines(document), "", *_book_lines(document), "", *target_lines(document)]
    lines += ["", *_stream_lines(document), *note_lines(notes)]
    return "\n".join(lines)


def revision_lines(document: dict[str, Any], figure: str, measurement: str, what: str) -> list[str]:
    """For each row measured again at another revision (``--against REF``): this checkout's
    ``figure`` over that revision's, paired per repetition."""
    lines = []
    for name in document["summary"]:
        if " @" not in name:
            continue
        current = name.split(" @")[0]
        paired = paired_ratio(document["runs"], current, name, figure, measurement)
        if paired:
            lines.append(f"  {current}: {paired['median']:.3f}× the {what} of {name} "
                         f"(min–max {paired['min']:.3f}–{paired['max']:.3f}, paired per repetition)")
    return ["", "This checkout against another revision:", *lines] if lines else []


def _title(document: dict[str, Any]) -> str:
    settings = document["settings"]
    return (f"bitfinex-wss bench, {document['started']}: {settings['frames']:,} frames per throughput run, "
            f"{settings['repetitions']} repetition(s) per client, interleaved; medians (min–max); ×base: median "
            f"of per-repetition ratios to '{BASELINE}' of this run; took {document['duration_seconds']:.0f} s")


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [len(header) for header in headers]
    for row in rows:
        if len(row) == len(headers):
            widths = [max(width, len(cell)) for width, cell in zip(widths, row)]

    def line(cells: list[str]) -> str:
        if len(cells) != len(headers):
            return f"{cells[0]:<{widths[0]}}  " + "  ".join(cells[1:])
        return "  ".join(cell.ljust(width) if index == 0 else cell.rjust(width)
                         for index, (cell, width) in enumerate(zip(cells, widths)))

    return [line(headers), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]


def _orders_lines(document: dict[str, Any]) -> list[str]:
    if document["orders_skipped"]:
        return [f"Order round trip: skipped: {document['orders_skipped']}"]
    lines = [f"Order round trip against bitfinex.testing.LocalExchange ({document['settings']['orders']} orders "
             "per run, one at a time), new_order → auth callback, ms p50/p99 (max):"]
    for name in (WSSCLIENT_ORJSON, WSSCLIENT_JSON):
        measurement = document["summary"].get(name, {}).get("measurements", {}).get(ORDERS_RUN)
        if not measurement:
            continue
        cells = []
        for kind in ("on_req_us", "on_us"):
            p50, p99, worst = (measurement.get(f"orders/{kind}/{name}") for name in ("p50", "p99", "max"))
            cells.append(f"{kind[:-3].replace('_', '-')}: {p50['median'] / 1000:.2f}/{p99['median'] / 1000:.2f} "
                         f"({worst['max'] / 1000:.2f})" if p50 and p99 and worst else f"{kind[:-3]}: failed")
        lines.append(f"  {name:<20} " + "   ".join(cells))
    return lines


def _book_lines(document: dict[str, Any]) -> list[str]:
    wire = document["summary"].get(WSSCLIENT_BOOK, {}).get("measurements", {}).get(THROUGHPUT_RUN, {})
    updates = wire.get("book/updates_per_second")
    lines = ["Maintained book (checksums verified):"]
    if updates:
        lines.append(f"  over the wire, {WSSCLIENT_BOOK}: {thousands(updates['median'])} book updates/s "
                     f"({updates['min'] / 1000:.1f}–{updates['max'] / 1000:.1f}) while keeping up with the full stream")
    book = document["book_in_process"]
    if not book["ok"]:
        lines.append(f"  in process (bench/book.py scenarios): failed: {book['error']}")
        return lines
    lines.append("  in process (bench/book.py scenarios, BookFeed vs book.py's naive book):")
    for row in book["scenarios"]:
        lines.append(f"    {row['scenario']:<40} {thousands(row['maintained_updates_per_second'])} updates/s, "
                     f"naive {thousands(row['naive_updates_per_second'])}, {row['speedup']:.1f}×")
    return lines


def _stream_lines(document: dict[str, Any]) -> list[str]:
    stream = document["stream"]
    kinds = ", ".join(f"{kind} {count / stream['frames']:.0%}" for kind, count in sorted(stream["by_kind"].items()))
    lines = [f"Stream: 3 channels of tBTCUSD (ticker, trades, book P0/25), {kinds}; same frames for every client."]
    summary = document["summary"]
    if CRYPTOFEED_NAME in summary and not summary[CRYPTOFEED_NAME]["skipped"]:
        lines.append("cryptofeed hands its callbacks typed updates (no callback for tu or cs frames, one per trade "
                     "of a snapshot); its frames/s counts the frames it was sent, like every other row.")
    return lines
