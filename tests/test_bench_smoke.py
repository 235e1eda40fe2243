"""The benchmark's quick mode, run as a test so the benchmark cannot rot.

``python -m bench --quick``: a few thousand frames, one repetition, the project's own clients and
the bare baselines (no peers). It asserts that every client that ran produced every figure of
every measurement it takes part in, and that the JSON was written. It asserts no timing: the
machine's speed is not what this test is about.

Slow tier: one whole (quick) benchmark run, over ten seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run
from bench.clients import BASELINE, CLIENTS
from bench.harness import LATENCY_RUN, ORDERS_RUN, SUBSCRIPTIONS_RUN, THROUGHPUT_RUN

pytestmark = pytest.mark.slow

FIGURES_EXPECTED = {
    THROUGHPUT_RUN: ("frames_per_second", "cpu_seconds_per_100k", "peak_rss_mb"),
    LATENCY_RUN: ("latency_us/p50", "latency_us/p99", "latency_us/p99.9"),
    SUBSCRIPTIONS_RUN: ("rss_mb",),
    ORDERS_RUN: ("orders/on_req_us/p99", "orders/on_us/p99"),
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One quick benchmark run, shared by the tests below."""
    return run.main(["--quick", "--output", str(tmp_path_factory.mktemp("results"))])


def test_quick_run_covers_the_main_clients_and_no_peer(quick_run: dict) -> None:
    names = [client["name"] for client in quick_run["clients"]]
    assert names[0] == BASELINE
    assert names == [config.name for config in CLIENTS if config.smoke]
    assert quick_run["settings"]["repetitions"] == 1


@pytest.mark.parametrize("config", [config for config in CLIENTS if config.smoke], ids=lambda config: config.name)
def test_every_client_that_ran_has_every_figure(quick_run: dict, config) -> None:
    client = next(client for client in quick_run["clients"] if client["name"] == config.name)
    if client["skipped"]:
        assert config.name != BASELINE, "the baseline must always run"
        pytest.skip(client["skipped"])
    measurements = quick_run["summary"][config.name]["measurements"]
    for measure in config.measures:
        if measure == ORDERS_RUN and quick_run["orders_skipped"]:
            continue
        keys = [key for key in measurements if key.split("@")[0] == measure]
        assert keys, f"{config.name}: no {measure} run"
        for key in keys:
            measured = measurements[key]
            assert measured["failed"] == 0, f"{config.name}, {key}: {measured['errors']}"
            for figure in FIGURES_EXPECTED[measure]:
                assert measured[figure] is not None, f"{config.name}, {key}: no {figure}"


def test_the_table_has_a_ratio_for_every_client_that_ran(quick_run: dict) -> None:
    for name, entry in quick_run["summary"].items():
        if not entry["skipped"]:
            assert entry["measurements"][THROUGHPUT_RUN]["ratio_to_baseline"] is not None, name


def test_raw_figures_are_written_as_json(quick_run: dict) -> None:
    written = json.loads(Path(quick_run["path"]).read_text())
    assert written["runs"] and all("ok" in item for item in written["runs"])
    assert written["book_in_process"]["ok"], written["book_in_process"]
