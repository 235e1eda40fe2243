"""The workloads of ``python -m bench --workload NAME``: what each one runs and how it reports.

- ``firehose`` (the default): the stream of :mod:`bench.stream` counted at the callback,
  latency at fixed rates, memory with many subscriptions, order round trips against the local
  exchange, and the book's in-process figures (:data:`bench.clients.CLIENTS`);
- ``books``: many checksummed books (:mod:`bench.bookstream`), every client's final books
  compared with the feeder's (:data:`bench.clients.BOOK_CLIENTS`, :mod:`bench.report_books`);
- ``orders``: ``new_order`` → ``on-req`` against the stand-in exchange (:mod:`bench.standin`,
  :data:`bench.clients.ROUND_TRIP_CLIENTS`, :mod:`bench.report_orders`);
- ``channels``: many public channels, sharded over connections or all on one
  (:data:`bench.clients.CHANNEL_CLIENTS`, :mod:`bench.report_channels`).

Every workload runs in the same harness: one process per client per measurement, repetitions
interleaved, ratios to its baseline measured in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

from bench import report, report_books, report_channels, report_orders
from bench.clients import (
    BASELINE,
    BOOK_BASELINE,
    BOOK_CLIENTS,
    BOOK_REVISION_ROWS,
    CHANNEL_BASELINE,
    CHANNEL_CLIENTS,
    CHANNEL_REVISION_ROWS,
    CLIENTS,
    REVISION_ROWS,
    ROUND_TRIP_BASELINE,
    ROUND_TRIP_CLIENTS,
    ROUND_TRIP_WSSCLIENT,
    ClientConfig,
)
from bench.harness import BOOKS_RUN, CHANNELS_RUN, LATENCY_RUN, ORDERS_RUN, SUBSCRIPTIONS_RUN, THROUGHPUT_RUN
from bench.settings import Measurement, Settings


def firehose_measurements(settings: Settings) -> list[Measurement]:
    """Every measurement of a firehose repetition, in order."""
    found = [Measurement(THROUGHPUT_RUN, THROUGHPUT_RUN, frames=settings.frames)]
    found += [Measurement(LATENCY_RUN, f"latency@{rate}", frames, rate) for rate, frames in settings.latency_runs]
    found.append(Measurement(SUBSCRIPTIONS_RUN, f"subscriptions@{settings.subscriptions}"))
    found.append(Measurement(ORDERS_RUN, ORDERS_RUN, frames=settings.orders))
    return found


@dataclass(frozen=True)
class Workload:
    """One workload: its rows, baseline, measurements, servers and report.

    :param name: what ``--workload`` calls it.
    :param clients: its rows, in table order.
    :param baseline: the row every ratio divides by (always run).
    :param revision_rows: the rows ``--against REF`` measures again, built from REF.
    :param measurements: a repetition's measurements.
    :param targets: the measured targets of a finished document.
    :param render: the printed report of a finished document.
    :param stream: have the feeder build the firehose stream (others get a two-frame one).
    :param exchange: start the local exchange (order runs of the firehose).
    :param standin: start the order stand-in (:mod:`bench.standin`).
    :param one_cpu: run the servers and every client process on one CPU (unless ``--no-pin``).
    :param book_stream: have the feeder build the book stream.
    :param in_process_books: add ``bench/book.py``'s in-process figures.
    :param revision_measures: the measures of the revision rows (``None``: the rows' own).
    :param check: judges each successful run's figures against the feeder's stream (the
        error, or ``None``); may trim the figures.
    """

    name: str
    clients: tuple[ClientConfig, ...]
    baseline: str
    revision_rows: tuple[str, ...]
    measurements: Callable[[Settings], list[Measurement]]
    targets: Callable[[dict[str, Any]], list[dict[str, Any]]]
    render: Callable[[dict[str, Any]], str]
    stream: bool = False
    exchange: bool = False
    standin: bool = False
    one_cpu: bool = False
    book_stream: bool = False
    in_process_books: bool = False
    revision_measures: Optional[tuple[str, ...]] = None
    check: Optional[Callable[[dict[str, Any], dict[str, Any]], Optional[str]]] = None

    @property
    def feeder(self) -> bool:
        """Whether the workload needs the feeder (every workload but the order one)."""
        return not self.standin


WORKLOADS = {
    workload.name: workload
    for workload in (
        Workload("firehose", CLIENTS, BASELINE, REVISION_ROWS, firehose_measurements, report.targets, report.render,
                 stream=True, exchange=True, in_process_books=True, revision_measures=(THROUGHPUT_RUN, LATENCY_RUN)),
        Workload("books", BOOK_CLIENTS, BOOK_BASELINE, BOOK_REVISION_ROWS,
                 lambda settings: [Measurement(BOOKS_RUN, BOOKS_RUN, frames=settings.book_stream_updates)],
                 report_books.targets, report_books.render, book_stream=True, check=report_books.check),
        Workload("orders", ROUND_TRIP_CLIENTS, ROUND_TRIP_BASELINE, (ROUND_TRIP_WSSCLIENT,),
                 lambda settings: [Measurement(ORDERS_RUN, ORDERS_RUN, frames=settings.round_trips)],
                 report_orders.targets, report_orders.render, standin=True, one_cpu=True),
        Workload("channels", CHANNEL_CLIENTS, CHANNEL_BASELINE, CHANNEL_REVISION_ROWS,
                 lambda settings: [Measurement(CHANNELS_RUN, f"{CHANNELS_RUN}@{settings.channels}",
                                               frames=settings.channel_frames)],
                 report_channels.targets, report_channels.render),
    )
}
"""Every workload by name; ``firehose`` is the default."""
