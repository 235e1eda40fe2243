"""Profile WssClient's per-frame path: ``python -m bench.profile [--frames N] [--json] [--books N]``.

Starts the feeder, runs ``WssClient`` through one throughput run in this process with
:mod:`cProfile` enabled on the client's reactor thread only (from before the first frame until
the end marker), and prints where the time goes: each function's own time per frame, in
nanoseconds, most expensive first. With ``--books N`` the run is the book workload's instead
(N maintained books, ``--frames`` updates, each followed by its ``cs``), and the figures are
per update. cProfile's overhead inflates every function call, so read the
figures as a ranking and compare runs made the same way; frames/s from ``python -m bench`` are
the real measure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Optional
from unittest import mock

from bitfinex import WssClient

from bench.clients import wssclient
from bench.harness import BOOKS_RUN, THROUGHPUT_RUN, ClientPlan, Probe, block_orjson
from bench.run import start_feeder
from bench.wire import BOOKS, STREAM_SUBSCRIPTIONS, THROUGHPUT, FeedPlan, book_subscriptions, feed_url


def profile(frames: int, decoder: str, seed: int, books: int = 0) -> pstats.Stats:
    """Profile one WssClient throughput run of ``frames`` frames on its reactor thread (with
    ``books``: a books run of ``frames`` updates on that many maintained books)."""
    profiler = cProfile.Profile()
    with ExitStack() as stack:
        log_directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-profile-")))
        if books:
            hello = start_feeder(stack, 2, seed, log_directory, books, frames)
            options = {"decoder": decoder, "book": "maintained", "marker": hello["stream"]["books"]["marker"]}
            plan = ClientPlan("WssClient", "wssclient", options, BOOKS_RUN, feed_url(hello["port"], FeedPlan(BOOKS)),
                              frames, book_subscriptions(books), timeout=120.0)
        else:
            hello = start_feeder(stack, frames, seed, log_directory)
            url = feed_url(hello["port"], FeedPlan(THROUGHPUT, frames))
            plan = ClientPlan("WssClient", "wssclient", {"decoder": decoder}, THROUGHPUT_RUN, url, frames,
                              list(STREAM_SUBSCRIPTIONS), timeout=120.0)
        probe = Probe(plan.measure, expected_updates=frames)
        probe.on_done = profiler.disable  # runs on the reactor thread, right after the end marker
        original_start = WssClient.start

        def start_profiled(client: WssClient) -> None:
            client._reactor.callFromThread(profiler.enable)  # the first thing the reactor thread runs
            original_start(client)

        with mock.patch.object(WssClient, "start", start_profiled):
            wssclient.run(plan, probe)
    if not probe.done.is_set():
        raise SystemExit("the stream did not finish")
    return pstats.Stats(profiler)


def render(stats: pstats.Stats, frames: int, limit: int) -> str:
    """The most expensive functions by own time, per frame."""
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((own, cumulative, calls, f"{Path(filename).name}:{line}({name})"))
    rows.sort(reverse=True)
    total = sum(row[0] for row in rows)
    output = io.StringIO()
    output.write(f"{frames:,} frames; profiled reactor-thread time {total:.2f} s "
                 f"= {total / frames * 1e9:,.0f} ns/frame\n")
    output.write(f"{'own ns/frame':>12} {'own %':>6} {'cum ns/frame':>12} {'calls/frame':>11}  function\n")
    for own, cumulative, calls, where in rows[:limit]:
        output.write(f"{own / frames * 1e9:12,.0f} {own / total:6.1%} {cumulative / frames * 1e9:12,.0f} "
                     f"{calls / frames:11.2f}  {where}\n")
    return output.getvalue()


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Profile and print."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--json", action="store_true", help="profile with stdlib json (orjson blocked)")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--limit", type=int, default=25, help="rows to print")
    parser.add_argument("--books", type=int, default=0, help="profile a books run of this many maintained books")
    args = parser.parse_args(argv)
    if args.json:
        block_orjson()
    stats = profile(args.frames, "json" if args.json else "orjson", args.seed, args.books)
    sys.stdout.write(render(stats, args.frames, args.limit))


if __name__ == "__main__":
    main()
