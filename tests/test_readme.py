"""The README's quickstart, run as a user pastes it, against the local exchange: it
authenticates, gets its candles, places its order, and leaves nothing resting behind.

Slow tier: a Python process that sleeps five seconds, as the quickstart does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bitfinex.testing import LocalExchange

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    """The README's ```python blocks, in order."""
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_readme_quickstart_runs_and_leaves_no_order_resting(bitfinex_exchange: LocalExchange) -> None:
    (quickstart,) = python_blocks()
    environment = {
        **os.environ,
        "BITFINEX_WS_URL": bitfinex_exchange.url,
        "BITFINEX_KEY": bitfinex_exchange.key,
        "BITFINEX_SECRET": bitfinex_exchange.secret,
    }
    result = subprocess.run([sys.executable, "-c", quickstart], capture_output=True, text=True, env=environment,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "{'event': 'auth', 'status': 'OK'" in result.stdout
    assert "'key': 'trade:1m:tBTCUSD'" in result.stdout and "'key': 'trade:5m:tETHUSD'" in result.stdout
    assert "[0, 'on', [" in result.stdout  # the order was placed,
    assert [received.frame[1] for received in bitfinex_exchange.received_inputs()] == ["on", "oc"]
    assert bitfinex_exchange.account_state().orders == []  # and is not left on the book
