"""The book workload's verdicts: final books against the feeder's, the targets, the table.

Every row that keeps a book returns its final books (:func:`bench.harness.book_sides`); a run
whose books differ from the feeder's (:attr:`bench.bookstream.BookStream.final_books`) fails,
with the first difference as its error, and is counted and listed like any failed run. A row
that counts its checksums (``checksums`` in its figures: ``checked``, ``matched``,
``too_few_levels``) shows the counts, summed over its runs, in its ``verifies cs`` cell.
"""

from __future__ import annotations

from typing import Any, Optional

from bench import report
from bench.clients import (
    BARE_BOOK_CHECKSUMS,
    BOOK_BASELINE,
    CCXT_BOOK,
    CRYPTOFEED_BOOK,
    OFFICIAL_BOOK,
    WSSCLIENT_BOOK_JSON,
    WSSCLIENT_BOOK_ORJSON,
    WSSCLIENT_BOOK_RAW,
)
from bench.harness import BOOKS_RUN

VERIFIES_CHECKSUMS = {
    BOOK_BASELINE: "no",
    BARE_BOOK_CHECKSUMS: "yes",
    WSSCLIENT_BOOK_ORJSON: "yes",
    WSSCLIENT_BOOK_JSON: "yes",
    WSSCLIENT_BOOK_RAW: "no (no book)",
    CRYPTOFEED_BOOK: "no",
    CCXT_BOOK: "yes",
    OFFICIAL_BOOK: "partly",
}
"""Which rows verify every ``cs`` frame (``partly``: some, with text that may not be Bitfinex's)."""


def book_difference(expected: dict[str, Any], got: dict[str, Any]) -> Optional[str]:
    """The first difference between two sets of final books, or ``None`` if they are equal."""
    for symbol in sorted(expected.keys() | got.keys()):
        if symbol not in got:
            return f"{symbol}: no final book"
        if symbol not in expected:
            return f"{symbol}: a book the feeder did not send"
        for side in ("bids", "asks"):
            mine, theirs = got[symbol][side], expected[symbol][side]
            if mine != theirs:
                level = next((index for index, (a, b) in enumerate(zip(mine, theirs)) if a != b), min(len(mine),
                                                                                                       len(theirs)))
                return (f"{symbol} {side} level {level}: {mine[level] if level < len(mine) else 'missing'} "
                        f"where the feeder has {theirs[level] if level < len(theirs) else 'none'}")
    return None


def check(figures: dict[str, Any], stream: dict[str, Any]) -> Optional[str]:
    """Compare a books run's final books with the feeder's; keep only the verdict in
    ``figures`` (``books_verified``: True, or None for a row that keeps no book)."""
    books = figures.pop("books", None)
    if books is None:
        figures["books_verified"] = None
        return None
    difference = book_difference(stream["books"]["final_books"], books)
    if difference is not None:
        return f"final books differ from the feeder's: {difference}"
    figures["books_verified"] = True
    return None


def targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The book targets: the maintained book, verifying every checksum, against cryptofeed's L2
    book and the bare client that verifies nothing (paired ratios of updates/s)."""

    def ratio(client: str, reference: str) -> Optional[float]:
        return report.median_ratio(document, client, reference, "updates_per_second", BOOKS_RUN)

    return [
        report.at_least("WssClient+orjson maintained book updates/s ≥ 2× cryptofeed's L2 book",
                 ratio(WSSCLIENT_BOOK_ORJSON, CRYPTOFEED_BOOK), 2.0),
        report.at_least("WssClient+orjson maintained book updates/s ≥ 1× the bare client verifying nothing",
                 ratio(WSSCLIENT_BOOK_ORJSON, BOOK_BASELINE), 1.0),
        report.at_least("WssClient+json maintained book updates/s ≥ 1.5× cryptofeed's L2 book",
                 ratio(WSSCLIENT_BOOK_JSON, CRYPTOFEED_BOOK), 1.5),
    ]


def _verified_cell(document: dict[str, Any], name: str) -> str:
    verdicts = {run["figures"].get("books_verified") for run in document["runs"] if run["client"] == name and run["ok"]}
    if not verdicts:
        return "-"
    return "not kept" if verdicts == {None} else "equal"


def _verifies_cell(document: dict[str, Any], name: str) -> str:
    """Whether the row verifies checksums, with its counts where it reports them."""
    verdict = VERIFIES_CHECKSUMS.get(name.split(" @")[0], "?")
    tallies = [run["figures"]["checksums"] for run in document["runs"]
               if run["client"] == name and run["ok"] and "checksums" in run["figures"]]
    if not tallies:
        return verdict
    checked, matched, too_few = (sum(tally[key] for tally in tallies) for key in ("checked", "matched", "too_few_levels"))
    return f"{verdict} ({matched:,} of {checked:,} matched; {too_few:,} with < 25 levels)"


def render(document: dict[str, Any]) -> str:
    """The book workload's report."""
    settings = document["settings"]

    columns: list[report.Column] = [
        *report.rate_columns(BOOKS_RUN, "updates_per_second", "updates/s (min–max)", "CPU s/100k updates"),
        ("verifies cs", lambda name, _entry: _verifies_cell(document, name)),
        ("final books", lambda name, _entry: _verified_cell(document, name)),
    ]
    title = (f"bitfinex-wss bench, books workload, {document['started']}: {settings['books']} P0 books of len 25, "
             f"{settings['book_stream_updates']:,} updates per run (changes, removals, insertions pushing a level "
             f"out), a true cs frame after every update; {settings['repetitions']} repetition(s) per client, "
             f"interleaved; medians (min–max); ×base: median of per-repetition ratios to '{document['baseline']}'; "
             f"final books compared with the feeder's; took {document['duration_seconds']:.0f} s")
    remark = ("An update counts when applied (rows that verify checksums: when its cs frame is verified); ccxt hands "
              "back books, not updates, so its clock runs from its first book after the snapshots to the stream's "
              "marker in its last book. bitfinex-api-py's example checks a cs only when both sides have 25 levels, "
              "with Python's text of each number; its counts are summed over its runs.")
    return report.page(document, title, columns, ("updates_per_second", BOOKS_RUN, "updates/s"), [remark])
