"""The ``bitfinex-wss`` command line (``python -m bitfinex``): ``stream``, ``book``, ``serve
--replay``, run as the user runs them, in subprocesses, against the local exchange.

Slow tier: every test starts Python processes.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bitfinex.cli.runner import Fifo, Newest
from bitfinex.testing import LocalExchange

from helpers import LIVE_MARKET, OutputLines, wait_until

pytestmark = [pytest.mark.slow, LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]

TIMEOUT = 30.0
CONSOLE_SCRIPT = Path(sys.executable).with_name("bitfinex-wss")


def environment() -> dict[str, str]:
    """The test's environment without an endpoint override, so only ``--url`` counts."""
    return {k: v for k, v in os.environ.items() if k != "BITFINEX_WS_URL"}


def cli(*arguments: str, program: Sequence[str] = (sys.executable, "-m", "bitfinex")) -> subprocess.CompletedProcess[str]:
    """Run one command to its end."""
    return subprocess.run(
        [*program, *arguments], capture_output=True, text=True, timeout=TIMEOUT, env=environment(), check=False
    )


class Running:
    """A command running in the background whose output lines the test can wait for."""

    def __init__(self, *arguments: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bitfinex", *arguments],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(),
        )
        assert self.process.stdout is not None
        self.output = OutputLines(self.process.stdout, arguments[0])

    def next_line(self, timeout: float = TIMEOUT) -> str:
        """The next line of its output. :raises AssertionError: if none comes in time."""
        line = self.output.next(timeout)
        assert line is not None, f"the command ended: {self.finish()}"
        return line

    def interrupt(self) -> tuple[int, str]:
        """Send SIGINT; return the exit status and the standard error once it ended."""
        self.process.send_signal(signal.SIGINT)
        return self.finish()

    def finish(self) -> tuple[int, str]:
        """Wait for the end; return the exit status and the standard error."""
        status = self.process.wait(TIMEOUT)
        self.output.lines.wait_for(lambda line: line is None, TIMEOUT)  # all of the output was read
        assert self.process.stderr is not None
        error = self.process.stderr.read()
        self.process.stderr.close()
        return status, error

    def kill(self) -> None:
        """Make sure it is gone (teardown)."""
        if self.process.poll() is None:
            self.process.kill()
            self.finish()


@pytest.fixture
def running() -> Iterator[list[Running]]:
    """Background commands of a test, killed at teardown if still running."""
    started: list[Running] = []
    yield started
    for command in started:
        command.kill()


def json_lines(output: str) -> list[dict[str, Any]]:
    """Every line of ``output``, parsed as JSON."""
    return [json.loads(line) for line in output.splitlines()]


def test_stream_prints_one_readable_line_per_frame(bitfinex_exchange: LocalExchange) -> None:
    result = cli("stream", "ticker", "BTCUSD", "ETHUSD", "--url", bitfinex_exchange.url, "--count", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert {line.split()[0] for line in lines} <= {"ticker_tBTCUSD", "ticker_tETHUSD"}
    assert all(" bid " in line and " ask " in line and " last " in line for line in lines), lines
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("channel", "options", "subscription"),
    [
        ("ticker", (), "ticker_tBTCUSD"),
        ("trades", (), "trades_tBTCUSD"),
        ("book", ("--precision", "P1", "--length", "100"), "book_tBTCUSD_P1_F0_100"),
        ("candles", ("--timeframe", "5m"), "candles_tBTCUSD_5m"),
    ],
)
def test_stream_json_prints_json_lines(
    bitfinex_exchange: LocalExchange, channel: str, options: tuple[str, ...], subscription: str
) -> None:
    result = cli("stream", channel, "BTCUSD", *options, "--json", "--url", bitfinex_exchange.url, "--count", "3")
    assert result.returncode == 0, result.stderr
    frames = json_lines(result.stdout)
    assert len(frames) == 3
    for entry in frames:
        assert set(entry) == {"t", "subscription", "frame"} and entry["subscription"] == subscription
        assert isinstance(entry["frame"], list) and isinstance(entry["frame"][0], int)
    assert isinstance(frames[0]["frame"][1], list)  # the snapshot comes first


def test_stream_shows_a_derivative_status(bitfinex_exchange: LocalExchange) -> None:
    result = cli("stream", "status", "deriv:tBTCF0:USTF0", "--url", bitfinex_exchange.url, "--count", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("status_deriv:tBTCF0:USTF0  price ") for line in lines), lines
    assert all(" mark " in line and " open interest " in line for line in lines), lines


def test_stream_stops_after_seconds(bitfinex_exchange: LocalExchange) -> None:
    started = time.monotonic()
    result = cli("stream", "book", "BTCUSD", "--url", bitfinex_exchange.url, "--seconds", "1")
    assert result.returncode == 0, result.stderr
    assert 1.0 <= time.monotonic() - started < TIMEOUT
    assert result.stdout.splitlines()[0].startswith("book_tBTCUSD_P0_F0_25  snapshot: 25 bids, 25 asks, best bid ")


def test_book_prints_plain_views_when_not_on_a_terminal(bitfinex_exchange: LocalExchange) -> None:
    result = cli("book", "BTCUSD", "--url", bitfinex_exchange.url, "--count", "2", "--depth", "3", "--interval", "0.1")
    assert result.returncode == 0, result.stderr
    views = result.stdout.strip("\n").split("\n\n")
    assert len(views) == 2
    for view in views:
        header, columns, *levels = view.splitlines()
        assert header.startswith("tBTCUSD P0  ") and " spread " in header and " mid " in header
        assert columns.split() == ["amount", "bid", "|", "ask", "amount"]
        assert len(levels) == 3
    assert "\x1b" not in result.stdout


def test_book_redraws_in_place_on_a_terminal_of_40_by_8(bitfinex_exchange: LocalExchange) -> None:
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 8, 40, 0, 0))  # lines, columns
    process = subprocess.Popen(
        [sys.executable, "-m", "bitfinex", "book", "BTCUSD", "--url", bitfinex_exchange.url, "--count", "3", "--interval", "0.1"],
        stdout=terminal, stderr=subprocess.PIPE, env=environment(),
    )
    os.close(terminal)
    output = bytearray()
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            output.extend(chunk)
        assert process.wait(TIMEOUT) == 0
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
        process.wait(TIMEOUT)
        assert process.stderr is not None
        process.stderr.close()
    text = output.decode()
    assert text.count("\x1b[2J") == 1  # the screen is cleared once,
    assert text.count("\x1b[H") == 3  # then each view starts at the top left corner
    assert text.count("tBTCUSD P0  ") == 3
    for drawing in text.split("\x1b[H")[1:]:
        lines = drawing.replace("\x1b[J", "").replace("\r", "").split("\x1b[K\n")
        assert lines[-1] == "" and 3 <= len(lines) - 1 <= 7  # never scrolls: at most 7 lines on 8
        assert all(len(line) <= 40 for line in lines), lines


def test_ctrl_c_stops_cleanly(bitfinex_exchange: LocalExchange, running: list[Running]) -> None:
    command = Running("stream", "trades", "BTCUSD", "--url", bitfinex_exchange.url)
    running.append(command)
    assert command.next_line().startswith("trades_tBTCUSD  snapshot: ")
    status, error = command.interrupt()
    assert status == 0
    assert "Traceback" not in error and "KeyboardInterrupt" not in error, error
    bitfinex_exchange.wait_for_connections(0)  # the command closed its connection before it left


def test_a_recording_replays_through_serve(bitfinex_exchange: LocalExchange, running: list[Running], tmp_path: Path) -> None:
    recording = tmp_path / "ticker.jsonl"
    live = bitfinex_exchange.url
    recorded = cli("stream", "ticker", "BTCUSD", "--json", "--url", live, "--count", "5", "--record", str(recording))
    assert recorded.returncode == 0, recorded.stderr
    server = Running("serve", "--replay", str(recording), "--as-fast-as-possible", "--heartbeat", "1")
    running.append(server)
    url = server.next_line()
    assert url.startswith("ws://127.0.0.1:")
    replayed = cli("stream", "ticker", "BTCUSD", "--json", "--url", url, "--count", "5")
    assert replayed.returncode == 0, replayed.stderr
    assert [e["frame"] for e in json_lines(replayed.stdout)] == [e["frame"] for e in json_lines(recorded.stdout)]
    status, error = server.interrupt()
    assert status == 0 and "Traceback" not in error
    assert "replay: ticker tBTCUSD: all " in error and "recorded frames sent; heartbeats from now on" in error
    assert "replay ended: every recorded channel was sent on this connection" in error


def test_serve_refuses_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "nonsense.jsonl"
    path.write_text("hello\n", encoding="utf-8")
    result = cli("serve", "--replay", str(path))
    assert result.returncode == 2 and "nonsense.jsonl:1: not a recorded frame" in result.stderr


def test_a_refused_subscription_ends_with_status_1(bitfinex_exchange: LocalExchange) -> None:
    result = cli("stream", "ticker", "ZZZQQQ", "--url", bitfinex_exchange.url, "--count", "1")
    assert result.returncode == 1
    assert "subscription_failed" in result.stderr and "symbol: invalid" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("stream", "ticker", "not a symbol!"), "is not a Bitfinex symbol"),
        (("stream", "candles", "BTCUSD", "--timeframe", "2m"), "timeframe"),
        (("stream", "book", "BTCUSD", "--precision", "P9"), "precision"),
        (("stream", "ticker", "BTCUSD", "--count", "0"), "must be positive"),
        (("stream", "volume", "BTCUSD"), "invalid choice"),
    ],
)
def test_bad_arguments_are_usage_errors(arguments: tuple[str, ...], message: str) -> None:
    result = cli(*arguments, "--url", "ws://127.0.0.1:9")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/ws/2", "garbage"])
def test_a_bad_url_is_a_usage_error_not_a_hang(url: str) -> None:
    result = cli("stream", "ticker", "BTCUSD", "--url", url)
    assert result.returncode == 2
    assert "url must be ws://" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the bitfinex-wss console script is not installed")
def test_the_console_script(bitfinex_exchange: LocalExchange) -> None:
    assert "stream" in cli("--help", program=[str(CONSOLE_SCRIPT)]).stdout
    result = cli("stream", "candles", "ETHUSD", "--url", bitfinex_exchange.url, "--count", "1", program=[str(CONSOLE_SCRIPT)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("candles_tETHUSD_1m  snapshot: ")


def test_a_fifo_drops_what_the_output_cannot_keep_up_with() -> None:
    fifo: Fifo[int] = Fifo(capacity=2)
    for item in range(5):
        fifo.put(item)
    assert (fifo.get(0), fifo.get(0), fifo.get(0), fifo.dropped) == (0, 1, None, 3)


def test_newest_hands_out_only_the_latest_and_not_too_often() -> None:
    newest: Newest[int] = Newest(interval=0.2)
    for item in range(3):
        newest.put(item)
    assert newest.get(1.0) == 2
    newest.put(3)
    newest.put(4)
    started = time.monotonic()
    assert newest.get(1.0) == 4
    assert time.monotonic() - started >= 0.15  # held back until the interval passed
    assert newest.get(0.05) is None


def test_version_and_demo_help() -> None:
    from bitfinex import __version__

    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"bitfinex-wss {__version__}"
    demo = cli("demo", "--help")
    assert demo.returncode == 0 and "quickstart" in demo.stdout and "local exchange" in demo.stdout


@pytest.mark.bitfinex_exchange(tls=True)
def test_stream_trusts_the_ca_serve_tls_prints_and_refuses_a_server_without_it(bitfinex_exchange: LocalExchange) -> None:
    assert bitfinex_exchange.url.startswith("wss://")
    trusted = cli("stream", "ticker", "BTCUSD", "--url", bitfinex_exchange.url, "--ca-file", str(bitfinex_exchange.ca_path),
                  "--count", "1")
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith("ticker_tBTCUSD")
    refused = cli("stream", "ticker", "BTCUSD", "--url", bitfinex_exchange.url, "--count", "1")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "certificate verify failed" in refused.stderr and "not retried" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_stream_says_when_a_dropped_connection_is_back(bitfinex_exchange: LocalExchange, running: list[Running]) -> None:
    command = Running("stream", "ticker", "BTCUSD", "--url", bitfinex_exchange.url)
    running.append(command)
    command.next_line()
    bitfinex_exchange.faults.drop_connections()


    def subscribed_again() -> bool:  # the client says so before it writes its subscribe
        logs = bitfinex_exchange.received
        return len(logs) == 2 and any(isinstance(f.frame, dict) and f.frame.get("event") == "subscribe" for f in logs[1].frames)

    wait_until(subscribed_again, TIMEOUT, "the command subscribed again")
    status, error = command.interrupt()
    assert status == 0
    assert "disconnected" in error and "public-1: connected again" in error, error


def test_serve_on_a_busy_port_says_so_in_one_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"bitfinex-wss serve: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_serve_names_itself_and_refuses_bad_numbers_as_usage_errors() -> None:
    assert cli("serve", "--help").stdout.startswith("usage: bitfinex-wss serve ")
    assert cli("-m", "bitfinex.testing", "--help", program=[sys.executable]).stdout.startswith(
        "usage: python -m bitfinex.testing "
    )
    for option, value in [("--tick", "-1"), ("--heartbeat", "0"), ("--speed", "nan")]:
        result = cli("serve", option, value)
        assert result.returncode == 2 and f"argument {option}: must be above zero" in result.stderr
        assert "Traceback" not in result.stderr
