"""The benchmark's other workloads (books, orders, channels), each run in its quick setting, and
the parts that judge them: the book stream, the final-book check, the plot.

``python -m bench --workload NAME --quick``: seconds per workload, the project's own clients and
the bare baselines (no peers). As in ``test_bench_smoke.py``, nothing here asserts a timing:
every client that ran must have produced every figure, and the checks must catch what they are
for (a book that differs fails its run).

The quick runs are the slow tier (a few seconds each, subprocesses); the rest is fast.
"""

from __future__ import annotations

import copy
import json
import os
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

from bitfinex.protocol.book import OrderBook
from bitfinex.protocol.bookfeed import BookFeed, FeedKind

from bench import plot, report_books, run
from bench.bookstream import MARKER_AMOUNT, BookStream
from bench.harness import BOOKS_RUN
from bench.standin import native_standin
from bench.wire import MANY_CHANNELS, FeedPlan, feed_url, plan_from_query
from bench.workloads import WORKLOADS

FIGURES = {
    "books": ("updates_per_second", "cpu_seconds_per_100k", "peak_rss_mb"),
    "orders": ("orders/on_req_us/p50", "orders/on_req_us/p99", "orders/on_req_us/p99.9", "orders/on_us/p99"),
    "channels": ("frames_per_second", "cpu_seconds_per_100k", "peak_rss_mb"),
}


@pytest.fixture(scope="module", params=sorted(FIGURES))
def quick_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One quick run of a workload."""
    pytest.importorskip("orjson", reason="the workloads' baselines decode with orjson (the bench extra)")
    output = tmp_path_factory.mktemp(f"results-{request.param}")
    return run.main(["--workload", request.param, "--quick", "--output", str(output)])


@pytest.mark.slow
def test_every_client_that_ran_has_every_figure(quick_run: dict[str, Any]) -> None:
    workload = WORKLOADS[quick_run["workload"]]
    names = [client["name"] for client in quick_run["clients"]]
    assert names == [config.name for config in workload.clients if config.smoke]
    assert workload.baseline in names
    for client in quick_run["clients"]:
        if client["skipped"]:
            assert client["name"] != workload.baseline, "the baseline must always run"
            continue
        measurements = quick_run["summary"][client["name"]]["measurements"]
        assert measurements, client["name"]
        for key, measured in measurements.items():
            assert measured["failed"] == 0, f"{client['name']}, {key}: {measured['errors']}"
            for figure in FIGURES[quick_run["workload"]]:
                assert measured[figure] is not None, f"{client['name']}, {key}: no {figure}"


@pytest.mark.slow
def test_only_the_order_workload_runs_on_one_cpu(quick_run: dict[str, Any]) -> None:
    if quick_run["workload"] != "orders" or not hasattr(os, "sched_getaffinity"):
        assert quick_run["cpu"] is None
    else:
        assert quick_run["cpu"] == max(os.sched_getaffinity(0))


@pytest.mark.slow
def test_the_order_runs_are_served_by_the_c_stand_in_where_it_builds(quick_run: dict[str, Any]) -> None:
    if quick_run["workload"] != "orders":
        assert quick_run["standin"] is None
        return
    expected = "bench/standin.py" if native_standin() is None else "bench/standin.c"
    assert quick_run["standin"] == expected
    assert f"{expected} answers each at once" in WORKLOADS["orders"].render(quick_run)


@pytest.mark.slow
def test_targets_are_measured_for_the_rows_that_ran(quick_run: dict[str, Any]) -> None:
    targets = quick_run["targets"]
    assert targets
    peers = ("cryptofeed", "bitfinex-api-py")
    for target in targets:
        if not any(peer in target["target"] for peer in peers):
            assert target["met"] is not None, target


@pytest.mark.slow
def test_every_kept_book_was_compared_with_the_feeders(quick_run: dict[str, Any]) -> None:
    if quick_run["workload"] != "books":
        pytest.skip("books workload only")
    verdicts = {entry["client"]: entry["figures"]["books_verified"] for entry in quick_run["runs"]}
    assert verdicts.pop("WssClient, orjson, raw frames (no book)") is None
    assert verdicts and all(verdict is True for verdict in verdicts.values()), verdicts


@pytest.mark.slow
def test_the_plot_has_a_bar_per_client(quick_run: dict[str, Any]) -> None:
    if quick_run["workload"] == "orders":
        with pytest.raises(ValueError):
            plot.svg(quick_run)
        return
    root = ElementTree.fromstring(plot.svg(quick_run))
    rectangles = root.iter("{http://www.w3.org/2000/svg}rect")
    bars = [element for element in rectangles if element.get("height") != root.get("height")]
    assert len(bars) == sum(1 for client in quick_run["clients"] if not client["skipped"])


def small_stream() -> BookStream:
    return BookStream(books=3, updates=400, seed=7)


def test_book_stream_verifies_in_the_maintained_book_and_ends_on_its_marker() -> None:
    stream = small_stream()
    feeds = {}
    for subscription in stream.subscriptions:
        feed = BookFeed(OrderBook.create(subscription.symbol, "P0", 25))
        assert feed.feed(json.loads(stream.snapshots[subscription.key])).kind is FeedKind.SNAPSHOT
        feeds[stream.chan_ids[subscription.key]] = feed
    kinds = [feeds[frame[0]].feed(frame).kind for frame in (json.loads(item.payload) for item in stream.frames)]
    assert kinds == [FeedKind.UPDATE, FeedKind.CHECKSUM_OK] * 400
    last_update = json.loads(stream.frames[-2].payload)
    assert last_update[1][2] == MARKER_AMOUNT == stream.marker["amount"]
    for subscription in stream.subscriptions:
        book = feeds[stream.chan_ids[subscription.key]].book
        final = {"bids": [[level.price, level.amount] for level in book.bids()],
                 "asks": [[level.price, -level.amount] for level in book.asks()]}
        assert final == stream.final_books[subscription.symbol]
    assert stream.final_books[stream.marker["symbol"]]["bids"][0] == [stream.marker["price"], MARKER_AMOUNT]


def test_a_run_whose_books_differ_fails() -> None:
    stream = small_stream()
    described = {"books": {"final_books": stream.final_books}}
    assert report_books.check({"books": copy.deepcopy(stream.final_books)}, described) is None
    differing = copy.deepcopy(stream.final_books)
    symbol = stream.subscriptions[1].symbol
    differing[symbol]["asks"][3][1] += 0.5
    error = report_books.check({"books": differing}, described)
    assert error is not None and f"{symbol} asks level 3" in error
    missing = copy.deepcopy(stream.final_books)
    del missing[symbol]
    assert "no final book" in str(report_books.check({"books": missing}, described))
    raw: dict[str, Any] = {"books": None}
    assert report_books.check(raw, described) is None and raw["books_verified"] is None


def test_channels_feed_plan_round_trips_through_its_url() -> None:
    plan = FeedPlan(MANY_CHANNELS, 1000, channels=40, run="abc")
    url = feed_url(4242, plan)
    query = dict(part.split("=") for part in url.split("?")[1].split("&"))
    assert plan_from_query({name: [value] for name, value in query.items()}) == plan
    with pytest.raises(ValueError):
        FeedPlan(MANY_CHANNELS, 1000)


def test_every_workload_measures_what_its_rows_take_part_in() -> None:
    settings = run.QUICK
    for workload in WORKLOADS.values():
        measures = {measurement.measure for measurement in workload.measurements(settings)}
        for config in workload.clients:
            assert set(config.measures) & measures, (workload.name, config.name)
        assert workload.baseline in {config.name for config in workload.clients}
    assert {m.measure for m in WORKLOADS["books"].measurements(settings)} == {BOOKS_RUN}
