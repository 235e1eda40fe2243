"""The many-channels workload's targets and table: the same channels over many connections or
on one."""

from __future__ import annotations

from typing import Any, Optional

from bench import report
from bench.clients import CHANNEL_BASELINE, WSSCLIENT_SHARDED
from bench.harness import CHANNELS_RUN

RSS_LIMIT_MB = 100.0


def _key(document: dict[str, Any]) -> str:
    return f"{CHANNELS_RUN}@{document['settings']['channels']}"


def targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The channels targets: sharded WssClient against the same channels on one connection
    (paired ratio of frames/s), and its peak RSS."""
    key = _key(document)
    settings = document["settings"]
    spread = f"{settings['channels']:,} channels on {settings['channel_connections']} connections"
    ratio: Optional[float] = report.median_ratio(document, WSSCLIENT_SHARDED, CHANNEL_BASELINE, "frames_per_second", key)
    return [
        report.at_least(f"WssClient+orjson, {spread}: frames/s ≥ 0.80× all on one connection", ratio, 0.80),
        report.at_most(f"WssClient+orjson, {spread}: peak RSS ≤ {RSS_LIMIT_MB:.0f} MB",
                report.median_of(document["summary"], WSSCLIENT_SHARDED, key, "peak_rss_mb"), RSS_LIMIT_MB, "MB"),
    ]


def render(document: dict[str, Any]) -> str:
    """The channels workload's report."""
    settings = document["settings"]
    key = _key(document)

    columns = report.rate_columns(key, "frames_per_second", "frames/s (min–max)", "CPU µs/frame", cpu_factor=10)
    title = (f"bitfinex-wss bench, channels workload, {document['started']}: {settings['channels']:,} public "
             f"channels (ticker, trades, book, candles), {settings['channel_frames']:,} update frames per run over "
             f"all of them; sharded rows: {-(-settings['channels'] // settings['channel_connections'])} channels per "
             f"connection ({settings['channel_connections']} connections); {settings['repetitions']} repetition(s) "
             f"per client, interleaved; medians (min–max); ×base: median of per-repetition ratios to "
             f"'{document['baseline']}'; took {document['duration_seconds']:.0f} s")
    remark = ("WssClient opens at most 20 public connections a minute (Bitfinex's limit), so a sharded run waits about "
              "a minute before its stream starts; the clock starts at the first update frame.")
    return report.page(document, title, columns, ("frames_per_second", key, "frames/s"), [remark])
