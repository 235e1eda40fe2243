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
from bench.harness import ORDERS_RUN, THROUGHPUT_RUN

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
        f"orders/{kind}/{name}" for kind in ("on_req_us", "on_us") for name in ("p50", "p99", "max")
    ),
}


def summarize(document: dict[str, Any]) -> dict[str, Any]:
    """Per client and measurement: run counts, errors, spreads of every figure; ratios of
    throughput and CPU to the baseline."""
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
    for name, entry in summary.items():
        throughput = entry["measurements"].get(THROUGHPUT_RUN)
        if throughput is not None:
            throughput["ratio_to_baseline"] = paired_ratio(document["runs"], name, BASELINE, "frames_per_second")
            throughput["cpu_ratio_to_baseline"] = paired_ratio(document["runs"], name, BASELINE, "cpu_seconds_per_100k")
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


def _median(summary: dict[str, Any], client: str, measurement: str, figure: str) -> Optional[float]:
    measured = summary.get(client, {}).get("measurements", {}).get(measurement, {}).get(figure)
    return measured["median"] if measured else None


def _measurement_key(summary: dict[str, Any], prefix: str) -> Optional[str]:
    """The key of the measurement starting with ``prefix`` (``"subscriptions@"``), if any ran."""
    for entry in summary.values():
        for key in entry["measurements"]:
            if key.startswith(prefix):
                return str(key)
    return None


def targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets for WssClient, each measured (``met`` is ``None`` when not measured)."""
    summary = document["summary"]

    def median(client: str, measurement: Optional[str], figure: str) -> Optional[float]:
        return _median(summary, client, measurement, figure) if measurement else None

    def ratio(client: str, reference: str) -> Optional[float]:
        paired = paired_ratio(document["runs"], client, reference, "frames_per_second")
        return paired["median"] if paired else None

    def at_least(description: str, value: Optional[float], bound: float, unit: str = "×") -> dict[str, Any]:
        return {"target": description, "value": value, "met": None if value is None else value >= bound,
                "shown": "not measured" if value is None else f"{value:.2f}{unit}"}

    def at_most(description: str, value: Optional[float], bound: float, unit: str,
                below: bool = False) -> dict[str, Any]:
        met = None if value is None else (value < bound if below else value <= bound)
        return {"target": description, "value": value, "met": met,
                "shown": "not measured" if value is None else f"{value:.2f} {unit}"}

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


def _thousands(value: float) -> str:
    return f"{value / 1000:.1f}k"


def _rate_cell(measured: Optional[Spread]) -> str:
    if not measured:
        return "-"
    return f"{_thousands(measured['median'])} ({measured['min'] / 1000:.1f}–{measured['max'] / 1000:.1f})"


def _number_cell(measured: Optional[Spread], digits: int = 2) -> str:
    return f"{measured['median']:.{digits}f}" if measured else "-"


def _latency_cell(measurement: Optional[dict[str, Any]]) -> str:
    if not measurement:
        return "-"
    values = [measurement.get(f"latency_us/{name}") for name in LATENCY_NAMES]
    if any(value is None for value in values):
        return "failed" if measurement["failed"] else "-"
    return "/".join(f"{value['median'] / 1000:.2f}" for value in values)  # type: ignore[index]


def _runs_cell(entry: dict[str, Any]) -> str:
    runs = sum(measurement["runs"] for measurement in entry["measurements"].values())
    failed = sum(measurement["failed"] for measurement in entry["measurements"].values())
    return f"{runs - failed}/{runs}"


def render(document: dict[str, Any]) -> str:
    """The report printed at the end of a run."""
    summary = document["summary"]
    settings = document["settings"]
    latency_keys = [f"latency@{rate}" for rate, _ in settings["latency_runs"]]
    subscriptions_key = f"subscriptions@{settings['subscriptions']}"
    headers = ["client", "frames/s (min–max)", "×base", "CPU s/100k", "×base", "peak RSS MB",
               f"RSS {settings['subscriptions']} subs MB"]
    headers += [f"lat@{int(key.split('@')[1]) // 1000}k p50/p99/p99.9 ms" for key in latency_keys]
    headers.append("runs ok")
    rows: list[list[str]] = []
    notes: list[str] = []
    for name, entry in summary.items():
        label = f"{name} (BASELINE)" if name == BASELINE else name
        if entry["skipped"]:
            rows.append([label, f"skipped: see note {len(notes) + 1}"])
            notes.append(f"{name}: {entry['skipped']}")
            continue
        measurements = entry["measurements"]
        throughput = measurements.get(THROUGHPUT_RUN, {})
        ratio = (throughput.get("ratio_to_baseline") or {}).get("median")
        cpu_ratio = (throughput.get("cpu_ratio_to_baseline") or {}).get("median")
        rows.append([
            label,
            _rate_cell(throughput.get("frames_per_second")),
            f"{ratio:.2f}×" if ratio else "-",
            _number_cell(throughput.get("cpu_seconds_per_100k")),
            f"{cpu_ratio:.2f}×" if cpu_ratio else "-",
            _number_cell(throughput.get("peak_rss_mb"), 1),
            _number_cell(measurements.get(subscriptions_key, {}).get("rss_mb"), 1),
            *(_latency_cell(measurements.get(key)) for key in latency_keys),
            _runs_cell(entry),
        ])
        for key, measurement in measurements.items():
            for error in measurement["errors"]:
                notes.append(f"{name}, {key}: {measurement['failed']} failed run(s): {error}")
    lines = [_title(document), "", *_table(headers, rows), *_revision_lines(document)]
    lines += ["", *_orders_lines(document), "", *_book_lines(document), "", "Targets:"]
    for target in document["targets"]:
        mark = {True: "MET    ", False: "NOT MET", None: "n/a    "}[target["met"]]
        lines.append(f"  [{mark}] {target['target']}: {target['shown']}")
    lines += ["", *_stream_lines(document)]
    if notes:
        lines += ["", "Notes:", *(f"  {index}. {note}" for index, note in enumerate(notes, 1))]
    return "\n".join(lines)


def _revision_lines(document: dict[str, Any]) -> list[str]:
    """For each row measured again at another revision (``--against REF``): this checkout's
    frames/s over that revision's, paired per repetition."""
    lines = []
    for name in document["summary"]:
        if " @" not in name:
            continue
        current = name.split(" @")[0]
        paired = paired_ratio(document["runs"], current, name, "frames_per_second")
        if paired:
            lines.append(f"  {current}: {paired['median']:.3f}× the frames/s of {name} "
                         f"(min–max {paired['min']:.3f}–{paired['max']:.3f}, paired per repetition)")
    return ["", "This checkout against another revision:", *lines] if lines else []


def _title(document: dict[str, Any]) -> str:
    settings = document["settings"]
    return (f"bitfinex-wss bench, {document['started']}: {settings['frames']:,} frames per throughput run, "
            f"{settings['repetitions']} repetition(s) per client, interleaved; medians (min–max); ×base: median "
            f"of per-repetition ratios to '{BASELINE}' of this run; took {document['duration_seconds']:.0f} s")


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
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
        lines.append(f"  over the wire, {WSSCLIENT_BOOK}: {_thousands(updates['median'])} book updates/s "
                     f"({updates['min'] / 1000:.1f}–{updates['max'] / 1000:.1f}) while keeping up with the full stream")
    book = document["book_in_process"]
    if not book["ok"]:
        lines.append(f"  in process (bench/book.py scenarios): failed: {book['error']}")
        return lines
    lines.append("  in process (bench/book.py scenarios, BookFeed vs book.py's naive book):")
    for row in book["scenarios"]:
        lines.append(f"    {row['scenario']:<40} {_thousands(row['maintained_updates_per_second'])} updates/s, "
                     f"naive {_thousands(row['naive_updates_per_second'])}, {row['speedup']:.1f}×")
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
