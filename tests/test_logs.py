"""What a program that configured no logging sees: the library's errors on stderr, nothing else.

Each case runs in a fresh interpreter, as a user's script would, against a local exchange.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

PROGRAM = """
import logging, threading
from bitfinex import WssClient
from bitfinex.testing import LocalExchange
{setup}
done = threading.Event()

def on_ticker(message):
    if isinstance(message, list):
        done.set()
        message[1][99]  # a bug in the user's callback

def on_account(message):
    if isinstance(message, list) and message[1] == "n":
        done.set()

with LocalExchange(key="k", secret="s", heartbeat_interval=None, tick_interval=None) as exchange:
    client = WssClient("k", "s", url=exchange.url)
    {action}
    client.start()
    assert done.wait(10)
    client.stop()
print("done")
"""

TICKER = 'client.subscribe_to_ticker("BTCUSD", on_ticker)'
REFUSED_ORDER = 'client.authenticate(on_account); client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.00001", "1000")'


def run(action: str, setup: str = "") -> subprocess.CompletedProcess[str]:
    source = textwrap.dedent(PROGRAM).format(setup=setup, action=action)
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=60, check=False)


def test_an_exception_in_a_callback_reaches_stderr_with_its_traceback_and_routine_events_stay_quiet():
    result = run(TICKER)
    assert result.returncode == 0 and result.stdout.strip() == "done", result.stderr
    assert "callback for ticker_tBTCUSD raised" in result.stderr and "IndexError" in result.stderr
    assert "Traceback" in result.stderr
    for routine in ("connected", "subscribed", "stopped", "disconnected"):
        assert routine not in result.stderr


def test_an_order_the_exchange_refuses_reaches_stderr():
    result = run(REFUSED_ORDER)
    assert result.returncode == 0, result.stderr
    assert "on-req refused by the exchange: Invalid order: minimum size" in result.stderr


def test_once_the_application_configures_logging_errors_go_only_where_it_said():
    result = run(TICKER, setup="logging.basicConfig(format='APP %(name)s %(message)s', level=logging.ERROR)")
    assert result.returncode == 0, result.stderr
    assert "APP bitfinex.callbacks callback for ticker_tBTCUSD raised" in result.stderr
    assert "bitfinex-wss: ERROR" not in result.stderr
