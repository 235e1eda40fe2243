"""Inside one client process: the plan it runs, the probe its callbacks report to, its result.

``python -m bench.harness PLAN.json RESULT.json`` runs one client through one measurement and
writes one JSON result. The runner starts a fresh process per client and measurement, so each
gets clean CPU and peak-RSS figures and its own JSON decoder (a plan with ``block_orjson`` makes
``import orjson`` fail before anything else is imported).

Every client adapter (``bench/clients/*.py``) has the same entry point, ``run(plan, probe)``: it
connects to ``plan.url``, subscribes ``plan.subscriptions``, hands what its callbacks receive to
the :class:`Probe`, returns once ``probe.done`` is set (or raises), and shuts its client down.
The probe does all the measuring, the same way for every client:

- throughput and latency runs: the clock (``monotonic_ns``) and process CPU time are read when
  the stream's start and end markers reach a callback; latency samples are taken from the send
  times the feeder stamped into the trades;
- subscription runs: done when every subscription has delivered its snapshot; the RSS then is
  the figure;
- book and channel runs: the adapter calls :meth:`Probe.update` for every stream event (a book
  update applied, or verified where the client verifies checksums; a channel frame after its
  snapshot); the first starts the clock, the plan's ``frames``-th stops it;
- order runs (against the local exchange or the stand-in): the adapter times each order itself
  and marks the start and end of the run.

Standard library only (peers run this under their own interpreter).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
import threading
import time
import traceback
from array import array
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from bench.wire import END_TRADE_ID, START_TRADE_ID, TS_OFFSET, Subscription

THROUGHPUT_RUN = "throughput"
LATENCY_RUN = "latency"
SUBSCRIPTIONS_RUN = "subscriptions"
ORDERS_RUN = "orders"
BOOKS_RUN = "books"
CHANNELS_RUN = "channels"
MEASURES = (THROUGHPUT_RUN, LATENCY_RUN, SUBSCRIPTIONS_RUN, ORDERS_RUN, BOOKS_RUN, CHANNELS_RUN)

SHUTDOWN_GRACE_SECONDS = 10.0
"""How long after its timeout a client process may take to shut down before it is ended."""

PERCENTILES = {"p50": 0.50, "p99": 0.99, "p99.9": 0.999}


@dataclass
class ClientPlan:
    """One client process's job.

    :param client: the client's name in :data:`bench.clients.CLIENTS`.
    :param adapter: the module under ``bench.clients`` that drives it.
    :param options: the adapter's settings for this client.
    :param measure: one of :data:`MEASURES`.
    :param url: the feed URL (its query is the feeder's plan).
    :param frames: frames in the stream, markers included (0 for subscription runs); book
        runs: update entries; channel runs: update frames over all channels.
    :param subscriptions: what to subscribe.
    :param timeout: seconds the measurement may take once started.
    :param block_orjson: make ``import orjson`` fail in this process.
    :param cpu: the one CPU this process runs on (``None``: any), as the order workload's
        stand-in does (see :func:`pin_to_cpu`).
    """

    client: str
    adapter: str
    options: dict[str, Any]
    measure: str
    url: str
    frames: int
    subscriptions: list[Subscription]
    timeout: float
    block_orjson: bool = False
    cpu: Optional[int] = None

    def to_json(self) -> str:
        """The plan as JSON (subscriptions as ``[channel, symbol]`` pairs)."""
        data = asdict(self)
        data["subscriptions"] = [[item.channel, item.symbol] for item in self.subscriptions]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ClientPlan:
        """Read a plan written by :meth:`to_json`."""
        data = json.loads(text)
        data["subscriptions"] = [Subscription(channel, symbol) for channel, symbol in data["subscriptions"]]
        return cls(**data)


@dataclass
class Probe:
    """Where a client's callbacks report; measures the same way for every client.

    Callbacks call :meth:`frame` for every frame they get and :meth:`trade` (instead) for
    ``te``/``tu`` trades; subscription runs call :meth:`seen` with the subscription's key for
    every data frame; book and channel runs call :meth:`update` for every stream event. Clients
    that cannot count (the count-only ceiling, ccxt's coalesced books) call :meth:`mark_start`
    and :meth:`mark_end` themselves.
    """

    measure: str
    expected_subscriptions: int = 0
    expected_updates: int = 0
    callbacks: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    on_done: Callable[[], None] = lambda: None
    """Called on the callback's thread right after the last figure is taken."""
    latencies_ns: array[int] = field(default_factory=lambda: array("q"))
    started_ns: int = 0
    ended_ns: int = 0
    cpu_started: float = 0.0
    cpu_ended: float = 0.0
    callbacks_at_start: int = 0
    callbacks_at_end: int = 0
    rss_at_end: int = 0
    seen_keys: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.sampling = self.measure == LATENCY_RUN
        if self.measure == SUBSCRIPTIONS_RUN:
            self.mark_start()

    def frame(self, _message: object = None) -> None:
        """A callback got a frame (usable as a callback itself)."""
        self.callbacks += 1

    def trade(self, trade_id: int, mts: int) -> None:
        """A callback got a ``te``/``tu`` trade: spot the markers, sample the latency."""
        self.callbacks += 1
        if trade_id == START_TRADE_ID:
            self.mark_start()
        if self.sampling and self.started_ns:
            self.latencies_ns.append(time.monotonic_ns() - mts + TS_OFFSET)
        if trade_id == END_TRADE_ID:
            self.mark_end()

    def update(self, _message: object = None) -> None:
        """A stream event reached a callback: the first starts the clock, the
        :attr:`expected_updates`-th stops it (usable as a callback itself)."""
        self.callbacks += 1
        if self.callbacks == 1:
            self.mark_start()
        if self.callbacks == self.expected_updates:
            self.mark_end()

    def seen(self, key: str) -> None:
        """A subscription delivered data; the run ends when all have."""
        self.callbacks += 1
        if key not in self.seen_keys:
            self.seen_keys.add(key)
            if len(self.seen_keys) == self.expected_subscriptions:
                self.mark_end()

    def mark_start(self) -> None:
        """The stream's first frame reached a callback."""
        self.started_ns = time.monotonic_ns()
        self.cpu_started = time.process_time()
        self.callbacks_at_start = self.callbacks - 1 if self.callbacks else 0

    def mark_end(self) -> None:
        """The stream's last frame reached a callback (or every subscription is live)."""
        if self.done.is_set():
            return
        self.ended_ns = time.monotonic_ns()
        self.cpu_ended = time.process_time()
        self.callbacks_at_end = self.callbacks
        self.rss_at_end = current_rss_bytes()
        self.done.set()
        self.on_done()

    def figures(self, frames: int) -> dict[str, Any]:
        """The run's figures (call once :attr:`done` is set)."""
        seconds = (self.ended_ns - self.started_ns) / 1e9
        cpu = self.cpu_ended - self.cpu_started
        result: dict[str, Any] = {
            "seconds": seconds,
            "callbacks": self.callbacks_at_end - self.callbacks_at_start,
            "cpu_seconds": cpu,
            "rss_mb": self.rss_at_end / 2**20,
        }
        if self.measure in (THROUGHPUT_RUN, LATENCY_RUN, CHANNELS_RUN, BOOKS_RUN):
            unit = "updates" if self.measure == BOOKS_RUN else "frames"
            result[unit] = frames
            result[f"{unit}_per_second"] = (frames - 1) / seconds if seconds > 0 else None
            result["cpu_seconds_per_100k"] = cpu / frames * 100_000
        if self.sampling:
            result["latency_us"] = latency_summary(self.latencies_ns)
        return result


def latency_summary(samples_ns: Iterable[int]) -> dict[str, Any]:
    """p50 / p99 / p99.9 / max in microseconds (nearest rank), and the sample count."""
    ordered = sorted(samples_ns)
    count = len(ordered)
    summary: dict[str, Any] = {"samples": count}
    if not count:
        return summary
    for name, quantile in PERCENTILES.items():
        rank = max(1, math.ceil(quantile * count - 1e-9))
        summary[name] = ordered[rank - 1] / 1000
    summary["max"] = ordered[-1] / 1000
    return summary


def order_figures(sent_ns: dict[int, int], on_request_ns: dict[int, int], on_ns: dict[int, int]) -> dict[str, Any]:
    """An order run's figures from the times (``monotonic_ns``, by cid) each order was sent and
    its ``on-req`` notification and ``on`` message reached the client's callback."""
    return {
        "count": len(sent_ns),
        "on_req_us": latency_summary([on_request_ns[cid] - started for cid, started in sent_ns.items()]),
        "on_us": latency_summary([on_ns[cid] - started for cid, started in sent_ns.items()]),
    }


def _proc_status_kib(field_name: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (0 where unavailable)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def current_rss_bytes() -> int:
    """This process's resident set size now (``VmRSS``)."""
    return _proc_status_kib("VmRSS") * 1024


def peak_rss_mb() -> float:
    """This process's peak resident set size (``VmHWM``; unlike ``ru_maxrss`` it does not carry
    the forking parent's peak across ``exec``)."""
    return _proc_status_kib("VmHWM") / 1024


def raw_frame_callback(probe: Probe, subscription: Subscription) -> Callable[[Any], None]:
    """The callback for a client that hands over frames as Bitfinex sent them (``[chanId, ...]``;
    events as dicts): trades go to :meth:`Probe.trade`, the rest to :meth:`Probe.frame`. In a
    channel run every frame after the subscription's snapshot goes to :meth:`Probe.update`; in
    a book run every single-entry update does (a raw-frame client keeps no book)."""
    if probe.measure == CHANNELS_RUN:
        return _after_snapshot(probe.update)
    if probe.measure == BOOKS_RUN:
        update = probe.update

        def on_book_frame(message: Any) -> None:
            if type(message) is list:
                body = message[1]
                if type(body) is list and body and type(body[0]) is not list:
                    update()

        return on_book_frame
    if probe.measure == SUBSCRIPTIONS_RUN:
        key = subscription.key
        seen = probe.seen

        def on_data(message: Any) -> None:
            if type(message) is list:
                seen(key)

        return on_data
    if subscription.channel != "trades":
        return probe.frame
    frame = probe.frame
    trade = probe.trade

    def on_trades(message: Any) -> None:
        if type(message) is list and (message[1] == "te" or message[1] == "tu"):
            entry = message[2]
            trade(entry[0], entry[1])
        else:
            frame()

    return on_trades


def _after_snapshot(update: Callable[[], None]) -> Callable[[Any], None]:
    """A callback calling ``update`` for every channel frame after the first (the snapshot);
    events are ignored."""
    snapshot_seen = False

    def on_frame(message: Any) -> None:
        nonlocal snapshot_seen
        if type(message) is list:
            if snapshot_seen:
                update()
            else:
                snapshot_seen = True

    return on_frame


def book_sides(bids: Iterable[tuple[Any, Any]], asks: Iterable[tuple[Any, Any]],
               depth: int = Subscription.BOOK_LENGTH) -> dict[str, list[list[float]]]:
    """A client's final book in the form the runner compares: the best ``depth`` levels per
    side as ``[price, size]`` floats, best first, sizes positive on both sides.

    :param bids: ``(price, size)`` pairs, best first.
    :param asks: ``(price, size)`` pairs, best first (sizes positive).
    """
    return {name: [[float(price), float(size)] for price, size in side][:depth]
            for name, side in (("bids", list(bids)), ("asks", list(asks)))}


def block_orjson() -> None:
    """Make ``import orjson`` raise ImportError in this process (before anything imports it)."""
    sys.modules["orjson"] = None  # type: ignore[assignment]


def _bitfinex_directory() -> Optional[str]:
    """Where this process imported ``bitfinex`` from (``None``: it did not), so the runner can
    tell a revision row that ran the wrong code."""
    imported = sys.modules.get("bitfinex")
    location = getattr(imported, "__file__", None)
    return os.path.dirname(location) if location else None


def _write(path: str, result: dict[str, Any]) -> None:
    with open(path, "w") as output:
        json.dump(result, output)


def pin_to_cpu(cpu: int) -> None:
    """Run this process (and the threads it starts) on CPU ``cpu`` only (Linux; elsewhere a
    no-op)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def main(argv: Optional[list[str]] = None) -> None:
    """Run one plan; write ``{"ok": true, ...figures}`` or ``{"ok": false, "error": ...}``."""
    plan_path, result_path = argv if argv is not None else sys.argv[1:3]
    with open(plan_path) as source:
        plan = ClientPlan.from_json(source.read())
    if plan.block_orjson:
        block_orjson()
    if plan.cpu is not None:
        pin_to_cpu(plan.cpu)

    def give_up() -> None:
        limit = plan.timeout + SHUTDOWN_GRACE_SECONDS
        _write(result_path, {"ok": False, "error": f"did not finish within {limit:.0f} s"})
        os._exit(3)

    watchdog = threading.Timer(plan.timeout + SHUTDOWN_GRACE_SECONDS, give_up)
    watchdog.daemon = True
    watchdog.start()
    probe = Probe(plan.measure, expected_subscriptions=len(plan.subscriptions), expected_updates=plan.frames)
    try:
        adapter = importlib.import_module(f"bench.clients.{plan.adapter}")
        extra = adapter.run(plan, probe)
        if not probe.done.is_set():
            raise TimeoutError(f"no end of stream within {plan.timeout:.0f} s ({probe.callbacks} callbacks)")
        result = {"ok": True, **probe.figures(plan.frames), "peak_rss_mb": peak_rss_mb(), **(extra or {}),
                  "bitfinex_from": _bitfinex_directory()}
    except Exception as error:
        traceback.print_exc()
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    watchdog.cancel()
    _write(result_path, result)


if __name__ == "__main__":
    main()
