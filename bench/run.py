"""The runner: ``python -m bench`` (full run) or ``python -m bench --quick`` (CI smoke).

It starts the feeder (and, for order round trips, the local exchange) in processes of their
own, then for each repetition runs every measurement for every client, one fresh client process
per run, in an order rotated each repetition (round-robin: no client always goes first). Failed
runs are kept and shown; the baseline runs every time. At the end it prints one table (medians,
min–max, ratios to the baseline measured in the same run, targets) and writes every raw figure
as JSON under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bench import report
from bench.clients import BASELINE, CLIENTS, REVISION_ROWS, ClientConfig, Peer
from bench.harness import LATENCY_RUN, ORDERS_RUN, SUBSCRIPTIONS_RUN, THROUGHPUT_RUN, ClientPlan
from bench.wire import IDLE, LATENCY, STREAM_SUBSCRIPTIONS, THROUGHPUT, FeedPlan, feed_url, many_subscriptions

REPOSITORY = Path(__file__).resolve().parent.parent
RESULTS = REPOSITORY / "bench" / "results"
PEERS_DIRECTORY = Path(os.environ.get("BENCH_PEERS_DIR", Path.home() / ".cache" / "bitfinex-wss-bench" / "peers"))
"""Where ``--install-peers`` makes a virtualenv per peer that cannot share the project's."""
EXCHANGE_KEY = "bench-key"
EXCHANGE_SECRET = "bench-secret"
SERVER_START_TIMEOUT = 120.0
SERVER_STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Settings:
    """How much to measure.

    :param frames: frames per throughput run.
    :param repetitions: runs of every measurement per client.
    :param latency_runs: ``(frames/s, frames)`` per latency run.
    :param subscriptions: public subscriptions of the memory run.
    :param orders: orders per round-trip run.
    :param book_updates: updates per scenario of the in-process book figures.
    :param book_runs: runs per scenario of those.
    :param smoke_only: only the clients marked ``smoke`` (no peers).
    """

    frames: int
    repetitions: int
    latency_runs: tuple[tuple[int, int], ...]
    subscriptions: int
    orders: int
    book_updates: int
    book_runs: int
    smoke_only: bool = False

    @property
    def longest_stream(self) -> int:
        """The most frames any run asks the feeder for."""
        return max([self.frames, *(frames for _, frames in self.latency_runs)])


FULL = Settings(
    frames=200_000, repetitions=5, latency_runs=((1_000, 5_000), (10_000, 50_000), (50_000, 100_000)),
    subscriptions=200, orders=300, book_updates=50_000, book_runs=3,
)
QUICK = Settings(
    frames=3_000, repetitions=1, latency_runs=((10_000, 3_000),), subscriptions=50, orders=20,
    book_updates=2_000, book_runs=1, smoke_only=True,
)


@dataclass(frozen=True)
class Measurement:
    """One kind of run: a measure and its parameters, with a key for tables and JSON."""

    measure: str
    key: str
    frames: int = 0
    rate: int = 0


def measurements(settings: Settings) -> list[Measurement]:
    """Every measurement of a repetition, in order."""
    found = [Measurement(THROUGHPUT_RUN, THROUGHPUT_RUN, frames=settings.frames)]
    found += [Measurement(LATENCY_RUN, f"latency@{rate}", frames, rate) for rate, frames in settings.latency_runs]
    found.append(Measurement(SUBSCRIPTIONS_RUN, f"subscriptions@{settings.subscriptions}"))
    found.append(Measurement(ORDERS_RUN, ORDERS_RUN))
    return found


@dataclass
class Contender:
    """A client of this run: its configuration and the interpreter that runs it (or why not)."""

    config: ClientConfig
    python: Optional[str]
    skipped: Optional[str] = None
    version: Optional[str] = None


@dataclass
class Servers:
    """What the client processes connect to."""

    feeder_port: int
    stream: dict[str, Any]
    exchange_url: Optional[str]
    exchange_problem: Optional[str] = None


@dataclass
class Run:
    """One client process's outcome."""

    client: str
    measurement: str
    repetition: int
    ok: bool
    figures: dict[str, Any] = field(default_factory=dict)
    error: Optional[str] = None
    wall_seconds: float = 0.0


# -- peers --------------------------------------------------------------------------------


def installed_version(python: str, distribution: str) -> Optional[str]:
    """The version of ``distribution`` under interpreter ``python``, or ``None``."""
    probe = (f"import importlib.metadata as m\ntry: print(m.version({distribution!r}))\n"
             "except m.PackageNotFoundError: pass")
    try:
        answer = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return answer.stdout.strip() or None


def peer_python(peer: Peer) -> str:
    """The interpreter of the peer's own virtualenv (may not exist)."""
    return str(PEERS_DIRECTORY / peer.distribution / "bin" / "python")


def find_contender(config: ClientConfig) -> Contender:
    """Where the client can run: this interpreter, or the peer's own virtualenv."""
    peer = config.peer
    if peer is None:
        missing = [module for module in config.requires if importlib.util.find_spec(module) is None]
        if missing:
            return Contender(config, None, skipped=f"{', '.join(missing)} not installed (pip install -e '.[bench]')")
        return Contender(config, sys.executable)
    for python in (sys.executable, peer_python(peer)):
        if os.path.exists(python):
            version = installed_version(python, peer.distribution)
            if version == peer.version:
                return Contender(config, python, version=version)
    return Contender(config, None, skipped=(
        f"{peer.requirement} is not installed here or in {PEERS_DIRECTORY / peer.distribution}; "
        f"run python -m bench --install-peers ({peer.note})" if peer.note else
        f"{peer.requirement} is not installed; pip install it or run python -m bench --install-peers"
    ))


def install_peers() -> None:
    """Give every peer not installed in this interpreter a virtualenv of its own."""
    for config in CLIENTS:
        peer = config.peer
        if peer is None or installed_version(sys.executable, peer.distribution) == peer.version:
            continue
        target = PEERS_DIRECTORY / peer.distribution
        if not (target / "bin" / "python").exists():
            print(f"creating {target}", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        print(f"installing {peer.requirement} into {target}", file=sys.stderr)
        subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", peer.requirement],
                       check=True)


# -- servers ------------------------------------------------------------------------------


def _child_environment(source: Optional[str] = None) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [source, str(REPOSITORY), environment.get("PYTHONPATH")]))
    return environment


@contextmanager
def revision_source(ref: str, directory: Path) -> Iterator[str]:
    """A directory holding only the ``bitfinex`` package of revision ``ref`` (a git worktree of
    it, removed afterwards), to put first on a client's path: the bench's own code stays this
    checkout's, the client under test is ``ref``'s."""
    checkout = directory / "checkout"
    subprocess.run(["git", "-C", str(REPOSITORY), "worktree", "add", "--detach", "--quiet", str(checkout), ref],
                   check=True)
    try:
        source = directory / "import"
        source.mkdir()
        (source / "bitfinex").symlink_to(checkout / "bitfinex")
        yield str(source)
    finally:
        subprocess.run(["git", "-C", str(REPOSITORY), "worktree", "remove", "--force", str(checkout)], check=False)


def revision_rows(ref: str, source: str) -> list[ClientConfig]:
    """The :data:`~bench.clients.REVISION_ROWS`, again, built from revision ``ref``."""
    return [
        dataclasses.replace(config, name=f"{config.name} @{ref}", source=source, measures=(THROUGHPUT_RUN, LATENCY_RUN))
        for config in CLIENTS if config.name in REVISION_ROWS
    ]


def _read_first_line(process: subprocess.Popen[str], timeout: float, what: str) -> str:
    """The first line ``process`` prints, within ``timeout`` seconds."""
    lines: list[str] = []
    assert process.stdout is not None
    output = process.stdout
    reader = threading.Thread(target=lambda: lines.append(output.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        raise RuntimeError(f"{what} did not start within {timeout:.0f} s (exit status {process.poll()})")
    return lines[0].strip()


def _stop(process: subprocess.Popen[str], how: str) -> None:
    """End a server this runner started: close its stdin or send SIGTERM, then wait (kill late)."""
    if process.poll() is None:
        if how == "stdin" and process.stdin is not None:
            process.stdin.close()
        else:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(SERVER_STOP_TIMEOUT)


def _start_server(stack: ExitStack, command: list[str], log_path: Path, stop_by: str) -> subprocess.Popen[str]:
    """Start a server process that the stack stops (``stop_by``: ``"stdin"`` or ``"signal"``)."""
    log = stack.enter_context(log_path.open("w"))
    process = subprocess.Popen(command, stdin=subprocess.PIPE if stop_by == "stdin" else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPOSITORY, env=_child_environment())
    stack.callback(_stop, process, stop_by)
    return process


def start_feeder(stack: ExitStack, frames: int, seed: int, log_directory: Path) -> dict[str, Any]:
    """Start the feeder (stopped with the stack); return its greeting (``port``, ``stream``)."""
    command = [sys.executable, "-m", "bench.feeder", "--frames", str(frames), "--seed", str(seed)]
    feeder = _start_server(stack, command, log_directory / "feeder.log", "stdin")
    return json.loads(_read_first_line(feeder, SERVER_START_TIMEOUT, "the feeder"))  # type: ignore[no-any-return]


@contextmanager
def servers(settings: Settings, log_directory: Path, seed: int) -> Iterator[Servers]:
    """Start the feeder and the local exchange; stop both afterwards. An exchange that does
    not start (``bitfinex.testing`` unfinished or broken) skips the order runs, with the reason."""
    with ExitStack() as stack:
        hello = start_feeder(stack, settings.longest_stream, seed, log_directory)
        exchange_log = log_directory / "exchange.log"
        exchange = _start_server(
            stack, [sys.executable, "-m", "bitfinex.testing", "--key", EXCHANGE_KEY, "--secret", EXCHANGE_SECRET,
                    "--seed", str(seed)],
            exchange_log, "signal",
        )
        exchange_url: Optional[str] = None
        exchange_problem: Optional[str] = None
        try:
            exchange_url = _read_first_line(exchange, SERVER_START_TIMEOUT, "the local exchange")
        except RuntimeError as error:
            last_line = (exchange_log.read_text().strip().splitlines() or [""])[-1]
            exchange_problem = f"python -m bitfinex.testing: {error}; {last_line}"
        yield Servers(hello["port"], hello["stream"], exchange_url, exchange_problem)


# -- client runs --------------------------------------------------------------------------


def plan_for(contender: Contender, measurement: Measurement, settings: Settings, servers: Servers) -> ClientPlan:
    """The plan of one client process."""
    config = contender.config
    options = dict(config.options)
    if measurement.measure == THROUGHPUT_RUN:
        url = feed_url(servers.feeder_port, FeedPlan(THROUGHPUT, measurement.frames))
        subscriptions, timeout = list(STREAM_SUBSCRIPTIONS), 30 + measurement.frames / 10_000
    elif measurement.measure == LATENCY_RUN:
        url = feed_url(servers.feeder_port, FeedPlan(LATENCY, measurement.frames, measurement.rate))
        subscriptions, timeout = list(STREAM_SUBSCRIPTIONS), 30 + measurement.frames / measurement.rate
    elif measurement.measure == SUBSCRIPTIONS_RUN:
        url = feed_url(servers.feeder_port, FeedPlan(IDLE))
        subscriptions, timeout = many_subscriptions(settings.subscriptions, config.channels), 60.0
    else:
        assert servers.exchange_url is not None
        url, subscriptions, timeout = servers.exchange_url, [], 60.0
        options.update(key=EXCHANGE_KEY, secret=EXCHANGE_SECRET, orders=settings.orders)
    return ClientPlan(config.name, config.adapter, options, measurement.measure, url, measurement.frames,
                      subscriptions, timeout, config.block_orjson)


def run_client(contender: Contender, plan: ClientPlan, repetition: int, measurement: Measurement,
               log_directory: Path) -> Run:
    """Run one client process and read its result."""
    assert contender.python is not None
    stem = _log_stem(log_directory, repetition, measurement.key, plan.client)
    plan_path, result_path = stem.with_suffix(".plan.json"), stem.with_suffix(".result.json")
    plan_path.write_text(plan.to_json())
    started = time.monotonic()
    with open(stem.with_suffix(".log"), "w") as log, suppress(subprocess.TimeoutExpired):
        subprocess.run([contender.python, "-m", "bench.harness", str(plan_path), str(result_path)],
                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPOSITORY,
                       env=_child_environment(contender.config.source), timeout=plan.timeout + 30)
    wall = time.monotonic() - started
    try:
        result = json.loads(result_path.read_text())
    except (OSError, ValueError):
        result = {"ok": False, "error": f"no result (see {stem.with_suffix('.log')})"}
    if result.pop("ok"):
        return Run(plan.client, measurement.key, repetition, True, result, wall_seconds=wall)
    return Run(plan.client, measurement.key, repetition, False, error=result.get("error"), wall_seconds=wall)


def rotated(items: Sequence[Contender], by: int) -> list[Contender]:
    """``items`` starting at position ``by`` (mod length)."""
    if not items:
        return []
    shift = by % len(items)
    return list(items[shift:]) + list(items[:shift])


def progress(run: Run) -> str:
    """One line about a finished run."""
    if not run.ok:
        return f"FAILED: {run.error}"
    figures = run.figures
    if "frames_per_second" in figures and "latency_us" not in figures:
        return f"{figures['frames_per_second']:,.0f} frames/s"
    if "latency_us" in figures:
        latency = figures["latency_us"]
        return f"p99 {latency.get('p99', float('nan')) / 1000:.2f} ms ({latency['samples']} samples)"
    if "orders" in figures:
        return f"on p99 {figures['orders']['on_us']['p99'] / 1000:.2f} ms"
    return f"RSS {figures['rss_mb']:.1f} MB"


def measure_all(contenders: list[Contender], settings: Settings, servers: Servers, log_directory: Path) -> list[Run]:
    """Every repetition of every measurement of every runnable client, round-robin."""
    runnable = [contender for contender in contenders if contender.skipped is None]
    runs: list[Run] = []
    for repetition in range(1, settings.repetitions + 1):
        for measurement in measurements(settings):
            if measurement.measure == ORDERS_RUN and servers.exchange_url is None:
                continue
            for contender in rotated(runnable, repetition - 1):
                if measurement.measure not in contender.config.measures:
                    continue
                plan = plan_for(contender, measurement, settings, servers)
                run = run_client(contender, plan, repetition, measurement, log_directory)
                runs.append(run)
                print(f"[{repetition}/{settings.repetitions}] {measurement.key:<18} {contender.config.name:<40} "
                      f"{progress(run)} ({run.wall_seconds:.1f} s)", file=sys.stderr, flush=True)
    return runs


def book_figures(settings: Settings, log_directory: Path) -> dict[str, Any]:
    """``bench/book.py``'s scenarios, maintained book vs naive, in a process of their own."""
    result_path = log_directory / "book-figures.json"
    command = [sys.executable, "-m", "bench.book_figures", str(result_path),
               "--updates", str(settings.book_updates), "--runs", str(settings.book_runs)]
    with open(log_directory / "book-figures.log", "w") as log:
        completed = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPOSITORY,
                                   env=_child_environment(), timeout=900)
    if completed.returncode != 0:
        return {"ok": False, "error": f"exit status {completed.returncode} (see {log_directory / 'book-figures.log'})"}
    return {"ok": True, "scenarios": json.loads(result_path.read_text())}


# -- main ---------------------------------------------------------------------------------


def parse_arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke: a few thousand frames, one repetition, no peers")
    parser.add_argument("--repetitions", type=int, help="runs of every measurement per client")
    parser.add_argument("--frames", type=int, help="frames per throughput run")
    parser.add_argument("--clients",
                        help="comma-separated substrings of client names to run (the baseline always runs)")
    parser.add_argument("--no-peers", action="store_true", help="leave bitfinex-api-py and cryptofeed out")
    parser.add_argument("--seed", type=int, default=2021, help="seed of the stream")
    parser.add_argument("--output", type=Path, default=RESULTS, help="directory for the JSON results")
    parser.add_argument("--against", metavar="REF",
                        help="also measure WssClient (json and orjson) built from git revision REF, side by side")
    parser.add_argument("--install-peers", action="store_true",
                        help="make a virtualenv for each peer that cannot be installed here, then exit")
    return parser.parse_args(argv)


def choose_settings(arguments: argparse.Namespace) -> Settings:
    """The preset, with the command line's overrides."""
    settings = QUICK if arguments.quick else FULL
    overrides: dict[str, Any] = {}
    if arguments.repetitions:
        overrides["repetitions"] = arguments.repetitions
    if arguments.frames:
        overrides["frames"] = arguments.frames
    if arguments.no_peers:
        overrides["smoke_only"] = True
    return Settings(**{**settings.__dict__, **overrides}) if overrides else settings


def choose_clients(settings: Settings, selection: Optional[str], extra: Sequence[ClientConfig] = ()) -> list[Contender]:
    """The clients of this run (the baseline always), each with its interpreter or skip reason."""
    chosen = []
    wanted = [part.strip().lower() for part in selection.split(",")] if selection else None
    for config in (*CLIENTS, *extra):
        if config.name != BASELINE:
            if settings.smoke_only and not config.smoke:
                continue
            if wanted is not None and not any(part in config.name.lower() for part in wanted):
                continue
        chosen.append(find_contender(config))
    return chosen


def main(argv: Optional[Sequence[str]] = None) -> dict[str, Any]:
    """Run the benchmark; print the table; write and return the JSON document."""
    arguments = parse_arguments(argv)
    if arguments.install_peers:
        install_peers()
        return {}
    settings = choose_settings(arguments)
    started = datetime.datetime.now()
    clock = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as temporary, ExitStack() as stack:
        log_directory = Path(temporary)
        extra: list[ClientConfig] = []
        if arguments.against:
            revision = Path(tempfile.mkdtemp(prefix="bench-revision-", dir=temporary))
            extra = revision_rows(arguments.against, stack.enter_context(revision_source(arguments.against, revision)))
        contenders = choose_clients(settings, arguments.clients, extra)
        with servers(settings, log_directory, arguments.seed) as running:
            runs = measure_all(contenders, settings, running, log_directory)
        book = book_figures(settings, log_directory)
        failed_logs = {
            f"{run.repetition}/{run.measurement}/{run.client}": _log_tail(log_directory, run)
            for run in runs if not run.ok
        }
    document: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "duration_seconds": time.monotonic() - clock,
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "settings": settings.__dict__,
        "stream": running.stream,
        "clients": [{"name": contender.config.name, "python": contender.python, "version": contender.version,
                     "skipped": contender.skipped} for contender in contenders],
        "runs": [run.__dict__ for run in runs],
        "failed_run_logs": failed_logs,
        "book_in_process": book,
        "orders_skipped": running.exchange_problem,
    }
    document["summary"] = report.summarize(document)
    document["targets"] = report.targets(document)
    arguments.output.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if arguments.quick else ""
    path = arguments.output / f"{started.strftime('%Y%m%d-%H%M%S')}{suffix}.json"
    path.write_text(json.dumps(document, indent=1))
    print(report.render(document))
    print(f"\nraw figures: {path}")
    document["path"] = str(path)
    return document


def _log_stem(log_directory: Path, repetition: int, measurement: str, client: str) -> Path:
    """Where one run's plan, result and output go (without suffix)."""
    slug = "".join(character if character.isalnum() else "-" for character in client)
    return log_directory / f"{repetition}-{measurement.replace('@', '-')}-{slug}"


def _log_tail(log_directory: Path, run: Run, characters: int = 2000) -> str:
    """The end of a run's output (kept in the JSON for failed runs)."""
    try:
        return _log_stem(log_directory, run.repetition, run.measurement, run.client).with_suffix(".log").read_text()[
            -characters:]
    except OSError:
        return ""


if __name__ == "__main__":
    main()
