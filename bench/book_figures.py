"""In-process order-book figures, from ``bench/book.py``'s own functions.

``python -m bench.book_figures RESULT.json --updates N --runs R`` feeds each scenario of
``bench/book.py`` (the same seeded streams, checksums verified) to the maintained book
(:class:`bitfinex.protocol.book.BookFeed`) and to ``book.py``'s naive baseline, and writes
updates/s for both (medians of R runs). The runner shows them next to the over-the-wire
"maintained book" row.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from typing import Any, Optional

from bench.book import SCENARIOS, check_correct, make_stream, run_book, run_naive, time_stream


def measure(updates: int, runs: int, seed: int) -> list[dict[str, Any]]:
    """updates/s of the maintained and the naive book for every scenario."""
    rows = []
    for scenario in SCENARIOS:
        frames, entries, checksums = make_stream(scenario, updates, seed)
        check_correct(frames, scenario.length)
        rates = {}
        for name, run in (("maintained", run_book), ("naive", run_naive)):
            seconds = statistics.median(time_stream(run, frames, scenario.length) for _ in range(runs))
            rates[name] = entries / seconds
        rows.append({
            "scenario": scenario.name,
            "updates": entries,
            "checksums": checksums,
            "maintained_updates_per_second": rates["maintained"],
            "naive_updates_per_second": rates["naive"],
            "speedup": rates["maintained"] / rates["naive"],
        })
    return rows


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Measure and write the JSON rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result")
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    with open(args.result, "w") as output:
        json.dump(measure(args.updates, args.runs, args.seed), output)


if __name__ == "__main__":
    main()
