"""Running the local exchange: determinism, lifecycle, the caller's reactor, the CLI and the
pytest fixture.

Slow tier: the command line runs as processes, a pytester session runs the fixture,
and the determinism check starts three exchanges.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet.error import CannotListenError

from bitfinex.protocol.constants import ConfFlag
from bitfinex.protocol.signing import Secret, auth_message
from bitfinex.testing import LocalExchange, ManualClock
from bitfinex.transport.reactor import ReactorThread

from helpers import KEY, SECRET, OutputLines, RawClient, is_account

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parent.parent


def scripted_session(client_reactor, seed: int) -> list[bytes]:
    """Run one fixed client script against a fresh reproducible exchange; return every frame."""
    clock = ManualClock()
    with LocalExchange(key=KEY, secret=SECRET, seed=seed, clock=clock, tick_interval=None, heartbeat_interval=None) as exchange:
        client = RawClient(client_reactor, exchange.url).connect()
        client.send({"event": "conf", "flags": int(ConfFlag.SEQ_ALL | ConfFlag.OB_CHECKSUM | ConfFlag.TIMESTAMP)})
        client.wait_event("conf")
        for request in (
            {"channel": "book", "symbol": "tBTCUSD", "prec": "P1"},
            {"channel": "book", "symbol": "tBTCUSD", "prec": "R0", "len": "100"},
            {"channel": "book", "symbol": "fUSD"},
            {"channel": "trades", "symbol": "tBTCUSD"},
            {"channel": "ticker", "symbol": "tETHUSD"},
            {"channel": "candles", "key": "trade:1m:tBTCUSD"},
            {"channel": "status", "key": "deriv:tBTCF0:USTF0"},
        ):
            client.subscribe(**request)
        client.send({"event": "subscribe", "channel": "status", "key": "liq:global"})  # no snapshot
        client.wait_event("subscribed", key="liq:global")
        client.send(auth_message(KEY, Secret(SECRET), 1_700_000_000_000_000))
        client.wait_for(is_account("bu"))
        for step in range(6):
            clock.advance(700)
            exchange.tick(5)
            start = client.mark()
            client.send(
                [
                    0,
                    "on",
                    None,
                    {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.1", "price": "29990", "cid": step},
                ]
            )
            client.wait_for(lambda f: isinstance(f, list) and f[0] == 0 and f[1] == "n", start=start)
        client.send([0, "oc_multi", None, {"all": 1}])
        client.send({"event": "ping", "cid": 1})
        client.wait_event("pong")
        client.close()
        return list(client.raw)


def test_same_seed_same_actions_give_byte_identical_frames(client_reactor):
    first = scripted_session(client_reactor, seed=7)
    second = scripted_session(client_reactor, seed=7)
    assert len(first) > 100
    assert first == second
    assert scripted_session(client_reactor, seed=8) != first


def test_start_and_stop_are_idempotent_and_stop_closes_clients(connect):
    exchange = LocalExchange(heartbeat_interval=None)
    assert exchange.start() == exchange.start()
    assert exchange.key.startswith("demo-") and len(exchange.secret) >= 32
    client = connect(exchange.url)
    exchange.stop()
    assert client.wait_closed() == 1001
    exchange.stop()
    with pytest.raises(RuntimeError):
        exchange.start()
    assert not any(t.name == "bitfinex-local-exchange" for t in threading.enumerate())


def test_a_start_that_cannot_listen_takes_down_what_it_set_up():
    with LocalExchange(tick_interval=None, heartbeat_interval=None) as taken:
        threads = {t.ident for t in threading.enumerate()}
        for tls in (False, True):
            blocked = LocalExchange(port=taken.port, tls=tls, tick_interval=None, heartbeat_interval=None)
            with pytest.raises(CannotListenError):
                blocked.start()
            assert {t.ident for t in threading.enumerate()} == threads  # its reactor thread stopped and joined
            assert blocked.ca_path is None or not blocked.ca_path.exists()  # its certificates removed
            with pytest.raises(RuntimeError, match="create a new one"):
                blocked.start()
            assert blocked.stop() is None  # harmless
        assert taken.connection_count == 0  # the running one is untouched


@pytest.mark.parametrize("name", ["heartbeat_interval", "tick_interval"])
@pytest.mark.parametrize("value", [0, -1, -0.25, float("nan"), float("inf"), True, "1"])
def test_intervals_must_be_positive_numbers_and_the_error_names_them(name, value):
    with pytest.raises(ValueError, match=name):
        LocalExchange(**{name: value})
    assert not any(t.name == "bitfinex-local-exchange" and t.is_alive() for t in threading.enumerate())


def test_runs_in_the_callers_reactor(connect):
    application = ReactorThread(name="application-reactor")
    application.start()
    try:
        exchange = LocalExchange(key=KEY, secret=SECRET, reactor=application.reactor, heartbeat_interval=0.1)
        url = application.run_sync(exchange.start)
        client = connect(url)
        chan_id, _ = client.subscribe(channel="ticker", symbol="tBTCUSD")
        client.wait_for(lambda f: f == [chan_id, "hb"])
        assert exchange.connection_count == 1
        exchange.tick(3)
        stopped = threading.Event()
        application.run_sync(lambda: exchange.stop().addBoth(lambda _: stopped.set()))
        assert stopped.wait(5)
        assert client.wait_closed() == 1001
        assert not any(t.name == "bitfinex-local-exchange" for t in threading.enumerate())
    finally:
        application.stop()


@contextlib.contextmanager
def running_cli(*arguments: str) -> Iterator[subprocess.Popen]:
    """``python -m bitfinex.testing ARGUMENTS`` as a process, killed afterwards if still alive."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "bitfinex.testing", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPOSITORY,
        env=env,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_the_url_first_and_exits_cleanly(connect, stop_signal):
    with running_cli("--host", "127.0.0.1", "--port", "0", "--seed", "3", "--heartbeat", "0.2") as process:
        output = OutputLines(process.stdout, "serve")
        url = output.next()
        assert url.startswith("ws://127.0.0.1:")
        key = output.next().removeprefix("key=")
        secret = output.next().removeprefix("secret=")
        client = connect(url)
        assert client.authenticate(key, secret, 1)["status"] == "OK"
        client.wait_for(lambda f: f == [0, "hb"])
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        assert client.wait_closed() in (1001, 1006)
        assert output.next() is None  # the output ended


def test_cli_with_a_key_prints_only_the_url(connect):
    with running_cli("--key", "cli-key", "--secret", "cli-secret") as process:
        output = OutputLines(process.stdout, "serve")
        url = output.next()
        assert connect(url).authenticate("cli-key", "cli-secret", 1)["status"] == "OK"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert output.next() is None  # the output ended


def test_pytest_fixture_and_markers_merged_key_by_key(pytester):
    pytester.makepyfile(
        """
        import socket

        import pytest

        import bitfinex.testing.exchange

        pytestmark = pytest.mark.bitfinex_exchange(seed=9, tick_interval=None)
        DEFAULTS = {"key": "test-key", "secret": "test-secret", "heartbeat_interval": 1.0}
        given = []
        started = []

        @pytest.fixture(autouse=True)
        def record_options(monkeypatch):
            made = bitfinex.testing.exchange.LocalExchange

            def record(**options):
                given.append(options)
                return made(**options)

            monkeypatch.setattr(bitfinex.testing.exchange, "LocalExchange", record)

        def test_the_module_marker_over_the_defaults(bitfinex_exchange):
            assert given == [{**DEFAULTS, "seed": 9, "tick_interval": None}]
            assert bitfinex_exchange.url.startswith("ws://127.0.0.1:")
            assert (bitfinex_exchange.key, bitfinex_exchange.secret) == ("test-key", "test-secret")
            socket.create_connection(("127.0.0.1", bitfinex_exchange.port), timeout=2).close()
            started.append(bitfinex_exchange)

        @pytest.mark.bitfinex_exchange(key="other", secret="x", seed=3)
        def test_a_test_marker_overrides_only_what_it_names(bitfinex_exchange):
            assert given[-1] == {**DEFAULTS, "key": "other", "secret": "x", "seed": 3, "tick_interval": None}
            assert bitfinex_exchange.key == "other"
            with pytest.raises(OSError):  # the previous test's exchange was stopped
                socket.create_connection(("127.0.0.1", started[0].port), timeout=2)

        @pytest.mark.bitfinex_exchange(seed=4, heartbeat_interval=None)
        class TestAClass:
            @pytest.mark.bitfinex_exchange(seed=5)
            def test_the_closest_marker_wins(self, bitfinex_exchange):
                assert given[-1] == {**DEFAULTS, "seed": 5, "heartbeat_interval": None, "tick_interval": None}

        @pytest.mark.bitfinex_exchange("tBTCUSD")
        def test_positional_arguments_are_refused(bitfinex_exchange):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*TypeError: the bitfinex_exchange marker takes keyword arguments only*"])


def test_fixture_from_the_installed_plugin(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    assert client.authenticate("test-key", "test-secret", 1)["status"] == "OK"
