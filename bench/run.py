"""The runner: ``python -m bench [--workload NAME]`` (full run) or ``--quick`` (CI smoke).

It starts the servers the workload needs (:mod:`bench.workloads`: the feeder, the local
exchange, the order stand-in) in processes of their own, then for each repetition runs every
measurement for every client, one fresh client process per run, in an order rotated each
repetition (round-robin: no client always goes first). Failed runs are kept and shown; the
baseline runs every time. At the end it prints one table (medians, min–max, ratios to the
baseline measured in the same run, targets) and writes every raw figure as JSON under
``bench/results/``.
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
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bench import plot, report, wire
from bench.clients import ALL_CLIENTS, ClientConfig, Peer
from bench.harness import BOOKS_RUN, CHANNELS_RUN, LATENCY_RUN, ORDERS_RUN, SUBSCRIPTIONS_RUN, THROUGHPUT_RUN, ClientPlan
from bench.settings import FULL, QUICK, Measurement, Settings
from bench.standin import server_command
from bench.wire import FeedPlan, feed_url
from bench.workloads import WORKLOADS, Workload

REPOSITORY = Path(__file__).resolve().parent.parent
RESULTS = REPOSITORY / "bench" / "results"
PEERS_DIRECTORY = Path(os.environ.get("BENCH_PEERS_DIR", Path.home() / ".cache" / "bitfinex-wss-bench" / "peers"))
"""Where ``--install-peers`` makes a virtualenv per peer that cannot share the project's."""
EXCHANGE_KEY = "bench-key"
EXCHANGE_SECRET = "bench-secret"
SERVER_START_TIMEOUT = 120.0
SERVER_STOP_TIMEOUT = 10.0


@dataclass
class Contender:
    """A client of this run: its configuration and the interpreter that runs it (or why not)."""

    config: ClientConfig
    python: Optional[str]
    skipped: Optional[str] = None
    version: Optional[str] = None


@dataclass
class Servers:
    """What the client processes connect to (what the workload did not start is left empty)."""

    feeder_port: int = 0
    stream: dict[str, Any] = field(default_factory=dict)
    exchange_url: Optional[str] = None
    exchange_problem: Optional[str] = None
    standin_url: Optional[str] = None
    standin: Optional[str] = None
    """The file the order runs' stand-in serves from: ``bench/standin.c`` or ``bench/standin.py``."""
    cpu: Optional[int] = None
    """The one CPU the stand-in and every client process run on, or ``None`` (any CPU)."""

    @property
    def order_url(self) -> Optional[str]:
        """Where order runs go: the stand-in if it runs, else the local exchange."""
        return self.standin_url or self.exchange_url


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
    """Give every peer (of every workload) not installed in this interpreter a virtualenv of its
    own."""
    peers = {config.peer for config in ALL_CLIENTS if config.peer is not None}
    for peer in sorted(peers, key=lambda peer: peer.distribution):
        if installed_version(sys.executable, peer.distribution) == peer.version:
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


def revision_rows(ref: str, source: str, workload: Workload) -> list[ClientConfig]:
    """The workload's revision rows, again, built from revision ``ref``."""
    return [
        dataclasses.replace(config, name=f"{config.name} @{ref}", source=source,
                            measures=workload.revision_measures or config.measures)
        for config in workload.clients if config.name in workload.revision_rows
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


def start_feeder(stack: ExitStack, frames: int, seed: int, log_directory: Path, books: int = 0,
                 book_updates: int = 0) -> dict[str, Any]:
    """Start the feeder (stopped with the stack); return its greeting (``port``, ``stream``).

    :param books: books of the book stream (0: the feeder builds none).
    :param book_updates: update entries of the book stream.
    """
    command = [sys.executable, "-m", "bench.feeder", "--frames", str(frames), "--seed", str(seed),
               "--books", str(books), "--book-updates", str(book_updates)]
    feeder = _start_server(stack, command, log_directory / "feeder.log", "stdin")
    return json.loads(_read_first_line(feeder, SERVER_START_TIMEOUT, "the feeder"))  # type: ignore[no-any-return]


@contextmanager
def servers(settings: Settings, workload: Workload, log_directory: Path, seed: int,
            cpu: Optional[int] = None, python_standin: bool = False) -> Iterator[Servers]:
    """Start the servers the workload needs; stop them afterwards. An exchange that does not
    start (``bitfinex.testing`` unfinished or broken) skips the order runs, with the reason.

    :param cpu: run the stand-in, and later every client, on this CPU only.
    :param python_standin: serve the order runs from the Python stand-in even where the C one
        builds.
    """
    with ExitStack() as stack:
        running = Servers(cpu=cpu)
        if workload.feeder:
            books = (settings.books, settings.book_stream_updates) if workload.book_stream else (0, 0)
            frames = settings.longest_stream if workload.stream else 2
            hello = start_feeder(stack, frames, seed, log_directory, *books)
            running.feeder_port, running.stream = hello["port"], hello["stream"]
        if workload.standin:
            command, running.standin = server_command(python_standin)
            command += ["--cpu", str(cpu)] if cpu is not None else []
            standin = _start_server(stack, command, log_directory / "standin.log", "stdin")
            running.standin_url = _read_first_line(standin, SERVER_START_TIMEOUT, "the order stand-in")
        if not workload.exchange:
            yield running
            return
        exchange_log = log_directory / "exchange.log"
        exchange = _start_server(
            stack, [sys.executable, "-m", "bitfinex.testing", "--key", EXCHANGE_KEY, "--secret", EXCHANGE_SECRET,
                    "--seed", str(seed)],
            exchange_log, "signal",
        )
        try:
            running.exchange_url = _read_first_line(exchange, SERVER_START_TIMEOUT, "the local exchange")
        except RuntimeError as error:
            last_line = (exchange_log.read_text().strip().splitlines() or [""])[-1]
            running.exchange_problem = f"python -m bitfinex.testing: {error}; {last_line}"
        yield running


# -- client runs --------------------------------------------------------------------------


def plan_for(contender: Contender, measurement: Measurement, settings: Settings, servers: Servers) -> ClientPlan:
    """The plan of one client process."""
    config = contender.config
    options = dict(config.options)
    if measurement.measure == THROUGHPUT_RUN:
        url = feed_url(servers.feeder_port, FeedPlan(wire.THROUGHPUT, measurement.frames))
        subscriptions, timeout = list(wire.STREAM_SUBSCRIPTIONS), 30 + measurement.frames / 10_000
    elif measurement.measure == LATENCY_RUN:
        url = feed_url(servers.feeder_port, FeedPlan(wire.LATENCY, measurement.frames, measurement.rate))
        subscriptions, timeout = list(wire.STREAM_SUBSCRIPTIONS), 30 + measurement.frames / measurement.rate
    elif measurement.measure == SUBSCRIPTIONS_RUN:
        url = feed_url(servers.feeder_port, FeedPlan(wire.IDLE))
        subscriptions, timeout = wire.many_subscriptions(settings.subscriptions, config.channels), 60.0
    elif measurement.measure == BOOKS_RUN:
        url = feed_url(servers.feeder_port, FeedPlan(wire.BOOKS))
        subscriptions, timeout = wire.book_subscriptions(settings.books), 60 + measurement.frames / 1_000
        options.update(marker=servers.stream["books"]["marker"])
    elif measurement.measure == CHANNELS_RUN:
        plan = FeedPlan(wire.MANY_CHANNELS, measurement.frames, channels=settings.channels, run=uuid.uuid4().hex)
        url = feed_url(servers.feeder_port, plan)
        subscriptions, timeout = wire.many_subscriptions(settings.channels, config.channels), 120 + measurement.frames / 5_000
        options.update(per_connection=settings.channels_per_connection if options.get("sharded") else settings.channels)
    else:
        assert servers.order_url is not None
        url, subscriptions, timeout = servers.order_url, [], 60 + measurement.frames / 100
        options.update(key=EXCHANGE_KEY, secret=EXCHANGE_SECRET, orders=measurement.frames)
    return ClientPlan(config.name, config.adapter, options, measurement.measure, url, measurement.frames,
                      subscriptions, timeout, config.block_orjson, servers.cpu)


def run_client(contender: Contender, plan: ClientPlan, repetition: int, measurement: Measurement,
               log_directory: Path) -> Run:
    """Run one client process and read its result."""
    assert contender.python is not None
    stem = _log_stem(log_directory, repetition, measurement.key, plan.client)
    plan_path, result_path = stem.with_suffix(".plan.json"), stem.with_suffix(".result.json")
    plan_path.write_text(plan.to_json())
    started = time.monotonic()
    with open(stem.with_suffix(".log"), "w") as log, suppress(subprocess.TimeoutExpired):
        # ``-m`` puts the working directory first on the path: a revision row runs from its source,
        # or this checkout's ``bitfinex`` would shadow the revision's
        subprocess.run([contender.python, "-m", "bench.harness", str(plan_path), str(result_path)],
                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       cwd=contender.config.source or REPOSITORY, env=_child_environment(contender.config.source),
                       timeout=plan.timeout + 30)
    wall = time.monotonic() - started
    try:
        result = json.loads(result_path.read_text())
    except (OSError, ValueError):
        result = {"ok": False, "error": f"no result (see {stem.with_suffix('.log')})"}
    source = contender.config.source
    imported = result.get("bitfinex_from")
    if source and result.get("ok") and not str(imported).startswith(source):
        result = {"ok": False, "error": f"imported bitfinex from {imported}, not from the revision at {source}"}
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
    if "updates_per_second" in figures:
        return f"{figures['updates_per_second']:,.0f} updates/s"
    if "frames_per_second" in figures and "latency_us" not in figures:
        return f"{figures['frames_per_second']:,.0f} frames/s"
    if "latency_us" in figures:
        latency = figures["latency_us"]
        return f"p99 {latency.get('p99', float('nan')) / 1000:.2f} ms ({latency['samples']} samples)"
    if "orders" in figures:
        return f"on p99 {figures['orders']['on_us']['p99'] / 1000:.2f} ms"
    return f"RSS {figures['rss_mb']:.1f} MB"


def checked(run: Run, workload: Workload, servers: Servers) -> Run:
    """The run, failed if the workload's check finds its figures wrong."""
    if workload.check is None or not run.ok:
        return run
    error = workload.check(run.figures, servers.stream)
    if error is None:
        return run
    return Run(run.client, run.measurement, run.repetition, False, error=error, wall_seconds=run.wall_seconds)


def measure_all(contenders: list[Contender], settings: Settings, workload: Workload, servers: Servers,
                log_directory: Path) -> list[Run]:
    """Every repetition of every measurement of every runnable client, round-robin."""
    runnable = [contender for contender in contenders if contender.skipped is None]
    runs: list[Run] = []
    for repetition in range(1, settings.repetitions + 1):
        for measurement in workload.measurements(settings):
            if measurement.measure == ORDERS_RUN and servers.order_url is None:
                continue
            for contender in rotated(runnable, repetition - 1):
                if measurement.measure not in contender.config.measures:
                    continue
                plan = plan_for(contender, measurement, settings, servers)
                run = checked(run_client(contender, plan, repetition, measurement, log_directory), workload, servers)
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
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="firehose",
                        help="what to measure (see bench/README.md; default: firehose)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke: a few thousand frames, one repetition, no peers")
    parser.add_argument("--repetitions", type=int, help="runs of every measurement per client")
    parser.add_argument("--frames", type=int, help="frames per throughput run")
    parser.add_argument("--updates", type=int, help="book workload: update entries per run")
    parser.add_argument("--round-trips", type=int, help="orders workload: orders per run")
    parser.add_argument("--clients",
                        help="comma-separated substrings of client names to run (the baseline always runs)")
    parser.add_argument("--no-peers", action="store_true", help="leave bitfinex-api-py and cryptofeed out")
    parser.add_argument("--seed", type=int, default=2021, help="seed of the stream")
    parser.add_argument("--output", type=Path, default=RESULTS, help="directory for the JSON results")
    parser.add_argument("--plot", type=Path, metavar="SVG",
                        help="also draw the run's rates per client into this SVG file (see bench/plot.py)")
    parser.add_argument("--against", metavar="REF",
                        help="also measure the workload's WssClient rows built from git revision REF, side by side")
    parser.add_argument("--no-pin", action="store_true",
                        help="orders workload: let the stand-in and the clients run on any CPU (by default they share "
                             "one; see bench/README.md)")
    parser.add_argument("--python-standin", action="store_true",
                        help="orders workload: serve from the Python stand-in even where the C one builds "
                             "(see bench/standin.py)")
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
    if arguments.updates:
        overrides["book_stream_updates"] = arguments.updates
    if arguments.round_trips:
        overrides["round_trips"] = arguments.round_trips
    if arguments.no_peers:
        overrides["smoke_only"] = True
    return Settings(**{**settings.__dict__, **overrides}) if overrides else settings


def choose_clients(settings: Settings, selection: Optional[str], workload: Workload,
                   extra: Sequence[ClientConfig] = ()) -> list[Contender]:
    """The clients of this run (the baseline always), each with its interpreter or skip reason."""
    chosen = []
    wanted = [part.strip().lower() for part in selection.split(",")] if selection else None
    for config in (*workload.clients, *extra):
        if config.name != workload.baseline:
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
    workload = WORKLOADS[arguments.workload]
    started = datetime.datetime.now()
    clock = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as temporary, ExitStack() as stack:
        log_directory = Path(temporary)
        extra: list[ClientConfig] = []
        if arguments.against:
            revision = Path(tempfile.mkdtemp(prefix="bench-revision-", dir=temporary))
            source = stack.enter_context(revision_source(arguments.against, revision))
            extra = revision_rows(arguments.against, source, workload)
        contenders = choose_clients(settings, arguments.clients, workload, extra)
        cpu = None if arguments.no_pin else one_cpu(workload)
        with servers(settings, workload, log_directory, arguments.seed, cpu, arguments.python_standin) as running:
            runs = measure_all(contenders, settings, workload, running, log_directory)
        book = book_figures(settings, log_directory) if workload.in_process_books else None
        failed_logs = {
            f"{run.repetition}/{run.measurement}/{run.client}": _log_tail(log_directory, run)
            for run in runs if not run.ok
        }
    document: dict[str, Any] = {
        "workload": workload.name,
        "baseline": workload.baseline,
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
        "cpu": running.cpu,
        "standin": running.standin,
    }
    document["summary"] = report.summarize(document)
    document["targets"] = workload.targets(document)
    arguments.output.mkdir(parents=True, exist_ok=True)
    suffix = ("" if workload.name == "firehose" else f"-{workload.name}") + ("-quick" if arguments.quick else "")
    path = arguments.output / f"{started.strftime('%Y%m%d-%H%M%S')}{suffix}.json"
    path.write_text(json.dumps(document, indent=1))
    print(workload.render(document))
    print(f"\nraw figures: {path}")
    if arguments.plot:
        arguments.plot.write_text(plot.svg(document))
        print(f"plot: {arguments.plot}")
    document["path"] = str(path)
    return document


def one_cpu(workload: Workload) -> Optional[int]:
    """The CPU a workload that runs on one (:attr:`Workload.one_cpu`) runs on: the last this
    process may use; ``None`` for the others, or where affinity cannot be set."""
    if not workload.one_cpu or not hasattr(os, "sched_getaffinity"):
        return None
    return max(os.sched_getaffinity(0))


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
