"""Every script in examples/ runs with --local against the local exchange and prints what it
promises.

Slow tier: every example is a Python process, against an exchange of its own.
"""

import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

EXPECTED = {
    "quickstart.py": ["account: {'event': 'auth', 'status': 'OK'", "candles: [", "account: [0, 'on', [", "'CANCELED'"],
    "authenticate.py": ["{'event': 'auth', 'status': 'OK'", "[0, 'ws', [['exchange'"],
    "subscribe_to_ticker.py": ["{'event': 'subscribed', 'channel': 'ticker'", "'symbol': 'tBTCUSD'"],
    "subscribe_to_trades.py": ["{'event': 'subscribed', 'channel': 'trades'"],
    "subscribe_to_orderbook.py": ["'prec': 'P1'", "maintained P0 book: best bid PriceLevel(price="],
    "subscribe_to_candles.py": ["'key': 'trade:1m:tBTCUSD'", "'key': 'trade:5m:tETHUSD'"],
    "multi_order.py": ["cids: [", "'oc-req'", "'CANCELED'"],
    "new_order.py": ["cid: ", "status: SUCCESS", "account: [0, 'oc', ["],
    "cancel_order.py": ["'oc-req'", "'CANCELED'"],
    "cancel_order_cid.py": ["'oc-req'", "'CANCELED'"],
    "update_order.py": ["now: 0.005 @ 1010.5", "'ou-req'"],
    "funding_offer.py": ["FRR: ", "status: SUCCESS - Submitting funding offer of 150.0 USD at ", "offer: ", " ACTIVE at ",
                         "cancel: SUCCESS", "cancelled: CANCELED"],
    "calc.py": ["[0, 'miu', ['sym', 'tBTCUSD'", "[0, 'fiu', ['sym', 'fUSD'", "[0, 'wu', ['exchange', 'USD'"],
    "derivatives_status.py": ["'key': 'deriv:tBTCF0:USTF0'", "'key': 'liq:global'", "mark price ", "long 0.001 @ ",
                              ", liquidation price ", "closed: tBTCF0:USTF0 CLOSED"],
    "ping.py": ["pinged: ", "account: {'event': 'pong'", "ticker: {'event': 'pong'"],
    "order_lifecycle.py": ["queued -> written", "accepted -> active", "active -> partially_filled", "fee -0.0002 BTC",
                           "filled so far: 0.2 of 0.5", "amended: now 0.3 @", "partially_filled -> canceled CANCELED was: "
                           "PARTIALLY FILLED @", "final: canceled", "open orders: 0"],
}


def test_every_example_is_covered():
    assert sorted(EXPECTED) == sorted(p.name for p in EXAMPLES.glob("[a-z]*.py"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_locally(name):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--local"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for expected in EXPECTED[name]:
        assert expected in result.stdout, (expected, result.stdout[-2000:])
