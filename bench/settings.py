"""How much the runner measures: the presets (full run, ``--quick``) and the measurements.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """How much to measure.

    :param frames: frames per throughput run.
    :param repetitions: runs of every measurement per client.
    :param latency_runs: ``(frames/s, frames)`` per latency run.
    :param subscriptions: public subscriptions of the memory run.
    :param orders: orders per round-trip run against the local exchange (firehose workload).
    :param book_updates: updates per scenario of the in-process book figures.
    :param book_runs: runs per scenario of those.
    :param smoke_only: only the clients marked ``smoke`` (no peers).
    :param books: books of the book workload's stream.
    :param book_stream_updates: update entries of that stream (each followed by its ``cs``).
    :param round_trips: orders per run of the order workload (against the stand-in).
    :param channels: public channels of the channels workload.
    :param channel_connections: connections the sharded rows of that workload spread them over.
    :param channel_frames: update frames of a channels run, over all channels.
    """

    frames: int
    repetitions: int
    latency_runs: tuple[tuple[int, int], ...]
    subscriptions: int
    orders: int
    book_updates: int
    book_runs: int
    smoke_only: bool = False
    books: int = 20
    book_stream_updates: int = 200_000
    round_trips: int = 10_000
    channels: int = 1_000
    channel_connections: int = 40
    channel_frames: int = 2_000_000

    @property
    def longest_stream(self) -> int:
        """The most frames any run asks the feeder for."""
        return max([self.frames, *(frames for _, frames in self.latency_runs)])

    @property
    def channels_per_connection(self) -> int:
        """Channels per connection of the sharded rows of the channels workload."""
        return -(-self.channels // self.channel_connections)


FULL = Settings(
    frames=200_000, repetitions=5, latency_runs=((1_000, 5_000), (10_000, 50_000), (50_000, 100_000)),
    subscriptions=200, orders=300, book_updates=50_000, book_runs=3,
)
QUICK = Settings(
    frames=3_000, repetitions=1, latency_runs=((10_000, 3_000),), subscriptions=50, orders=20,
    book_updates=2_000, book_runs=1, smoke_only=True,
    books=4, book_stream_updates=3_000, round_trips=200, channels=100, channel_connections=4, channel_frames=20_000,
)


@dataclass(frozen=True)
class Measurement:
    """One kind of run: a measure and its parameters, with a key for tables and JSON."""

    measure: str
    key: str
    frames: int = 0
    rate: int = 0
