"""The README's first command: ``python -m bitfinex demo`` runs the quickstart against the
embedded local exchange and exits 0 by itself.

Slow tier: it runs Python processes.
"""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_the_quickstart_and_exits_zero():
    result = subprocess.run([sys.executable, "-m", "bitfinex", "demo"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for expected in ("local exchange listening on ws://127.0.0.1:", "authenticated as user", "candles_tBTCUSD_1m:",
                     "candles_tETHUSD_5m:", "LIMIT buy 0.004 tBTCUSD @ 1000.0", "CANCELED", "filled: bought 0.004",
                     "EXECUTED @", "demo complete", "every connection closed"):
        assert any(expected in line for line in lines), (expected, lines)
    assert result.stderr == ""


def test_unknown_command_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "bitfinex", "dance"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "invalid choice" in result.stderr
