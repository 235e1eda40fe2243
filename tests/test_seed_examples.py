"""The API reference's own examples, run verbatim against the local exchange.

Each example below is copied character for character from the reference users know (only the
leading indentation removed). The test gives it what the reference assumes exists — ``key`` and
``secret`` read from the environment, ``WssClient``, ``datetime`` — sets only
``BITFINEX_WS_URL``, runs it, waits until the exchange received what the example sends, and
calls ``stop()``. This is the one run of these examples: ``test_docs.py`` checks that the docs
carry them and skips them.

Slow tier: the quickstart sleeps 5 s, as the reference's does.
"""

from __future__ import annotations

import datetime
import os
import textwrap

import pytest

from bitfinex import WssClient

from helpers import LIVE_MARKET, sent_frames, wait_until

pytestmark = [pytest.mark.slow, LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]

QUICKSTART = '''
def my_candle_handler(message):
    # Here you can do stuff with the candle bar messages
    print(message)

# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate(print)

my_client.subscribe_to_candles(
    symbol="BTCUSD",
    timeframe="1m",
    callback=my_candle_handler
)
my_client.subscribe_to_candles(
    symbol="ETHUSD",
    timeframe="5m",
    callback=my_candle_handler
)
my_client.start()

# Wait a bit for the connection to go live
import time
time.sleep(5)

# Then create a new order
order_client_id = my_client.new_order(
    order_type="LIMIT",
    symbol="BTCUSD",
    amount=0.004,
    price=1000.0
)
'''

AUTHENTICATE = '''
def handle_account_messages(message):
    print(message)

 # You should only need to create and authenticate a client once.
 # Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate(
   callback=handle_account_messages
)
my_client.start()
'''

TICKER = '''
def my_handler(message):
    # Here you can do stuff with the messages
    print(message)

# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate(print)
my_client.subscribe_to_ticker(
    symbol="BTCUSD",
    callback=my_handler
)
my_client.start()
'''

TRADES = TICKER.replace("subscribe_to_ticker", "subscribe_to_trades")

ORDERBOOK = '''
def my_handler(message):
    # Here you can do stuff with the messages
    print(message)

# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)

my_client.subscribe_to_orderbook(
    symbol="BTCUSD",
    precision="P1",
    callback=my_handler
)
my_client.start()
'''

CANDLES = '''
def my_candle_handler(message):
    # Here you can do stuff with the candle bar messages
    print(message)

# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)

my_client.subscribe_to_candles(
    symbol="BTCUSD",
    timeframe="1m",
    callback=my_candle_handler
)
my_client.subscribe_to_candles(
    symbol="ETHUSD",
    timeframe="5m",
    callback=my_candle_handler
)
my_client.start()
'''

NEW_ORDER_OP = '''
# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate()
my_client.start()

order_operation = my_client.new_order_op(
    order_type="LIMIT",
    symbol="BTCUSD",
    amount=0.004,
    price=1000.0
)

# Usefull to keep track of an order by its client id, for later
# operations (like cancel order).
clinet_id = order_operation["cid"]

my_client.multi_order(
    operations=[order_operation]
)
'''

NEW_ORDER = '''
# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate()
my_client.start()

order_client_id = my_client.new_order(
    order_type="LIMIT",
    symbol="BTCUSD",
    amount=0.004,
    price=1000.0
)
'''

MULTI_ORDER = '''
# You should only need to create and authenticate a client once.
# Then simply reuse it later
from bitfinex import utils
my_client = WssClient(key, secret)
my_client.authenticate()
my_client.start()

example_order_cid_to_cancel = 153925861909296

# docs: http://bit.ly/2BVqwW6
cancel_order_operation = {
    'cid': example_order_cid_to_cancel,
    'cid_date': utils.cid_to_date(example_order_cid_to_cancel)
}

new_order_operation = my_client.new_order_op(
    order_type="LIMIT",
    symbol="BTCUSD",
    amount="0.004",
    price="1000.0"
)

order_client_id = my_client.multi_order([
    cancel_order_operation,
    new_order_operation
])
'''

CANCEL_ORDER = '''
# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate()
my_client.start()

my_client.cancel_order(
    order_id=1234
)
'''

CANCEL_ORDER_CID = '''
# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate()
my_client.start()

# order_cid created by this library is always a milliseconds
# time stamp. So you can just divide it by 1000 to get the timestamp.
my_client.cancel_order(
    order_cid=1538911910035,
    order_date=(
        datetime.utcfromtimestamp(
            1538911910035/1000.0
        ).strftime("%Y-%m-%d")
    )
)
'''

CALC = '''
# You should only need to create and authenticate a client once.
# Then simply reuse it later
my_client = WssClient(key, secret)
my_client.authenticate(print)
my_client.start()

my_client.calc(["margin_sym_tBTCUSD", "funding_sym_fUSD"])
my_client.calc(["margin_sym_tBTCUSD"])
my_client.calc(["position_tBTCUSD"])
my_client.calc(["wallet_exachange_USD"])
'''


def subscribed_to(*keys):
    def check(frames):
        requests = [f for f in frames if isinstance(f, dict) and f.get("event") == "subscribe"]
        return sorted(r.get("key") or f"{r['channel']}:{r['symbol']}:{r.get('prec', '')}" for r in requests) == sorted(keys)
    return check


def inputs(operation, expected):
    return lambda frames: [f[3] for f in frames if isinstance(f, list) and f[1] == operation] == expected


def seed_order(cid):
    """What the examples' LIMIT order must look like on the wire."""
    return {"cid": cid, "type": "LIMIT", "symbol": "tBTCUSD", "amount": "0.004", "price": "1000.0"}


def authenticated(frames):
    return any(isinstance(f, dict) and f.get("event") == "auth" for f in frames)


EXAMPLES = {
    "quickstart": (QUICKSTART, lambda ns: [
        subscribed_to("trade:1m:tBTCUSD", "trade:5m:tETHUSD"),
        inputs("on", [seed_order(ns["order_client_id"])]),
    ]),
    "authenticate": (AUTHENTICATE, lambda ns: [authenticated]),
    "subscribe_to_ticker": (TICKER, lambda ns: [authenticated, subscribed_to("ticker:tBTCUSD:")]),
    "subscribe_to_trades": (TRADES, lambda ns: [authenticated, subscribed_to("trades:tBTCUSD:")]),
    "subscribe_to_orderbook": (ORDERBOOK, lambda ns: [subscribed_to("book:tBTCUSD:P1")]),
    "subscribe_to_candles": (CANDLES, lambda ns: [subscribed_to("trade:1m:tBTCUSD", "trade:5m:tETHUSD")]),
    "new_order_op": (NEW_ORDER_OP, lambda ns: [
        inputs("ox_multi", [[["on", ns["order_operation"]]]]),
    ]),
    "new_order": (NEW_ORDER, lambda ns: [
        inputs("on", [seed_order(ns["order_client_id"])]),
    ]),
    "multi_order": (MULTI_ORDER, lambda ns: [
        inputs("ox_multi", [[["oc", {"cid": 153925861909296, "cid_date": "2018-10-11"}], ["on", ns["new_order_operation"]]]]),
    ]),
    "cancel_order": (CANCEL_ORDER, lambda ns: [inputs("oc", [{"id": 1234}])]),
    "cancel_order_cid": (CANCEL_ORDER_CID, lambda ns: [inputs("oc", [{"cid": 1538911910035, "cid_date": "2018-10-07"}])]),
    "calc": (CALC, lambda ns: [inputs("calc", [
        [["margin_sym_tBTCUSD"], ["funding_sym_fUSD"]], [["margin_sym_tBTCUSD"]], [["position_tBTCUSD"]],
        [["wallet_exachange_USD"]],
    ])]),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_seed_example_runs_verbatim(name, bitfinex_exchange, monkeypatch, capsys):
    code, expectations = EXAMPLES[name]
    monkeypatch.setenv("BITFINEX_WS_URL", bitfinex_exchange.url)
    monkeypatch.setenv("BITFINEX_KEY", bitfinex_exchange.key)
    monkeypatch.setenv("BITFINEX_SECRET", bitfinex_exchange.secret)
    namespace = {
        "WssClient": WssClient,
        "key": os.environ.get("BITFINEX_KEY"),
        "secret": os.environ.get("BITFINEX_SECRET"),
        "datetime": datetime.datetime,
    }
    try:
        exec(compile(textwrap.dedent(code), f"<seed example {name}>", "exec"), namespace)
        for check in expectations(namespace):
            wait_until(lambda check=check: check(sent_frames(bitfinex_exchange)), what=f"{name}: its frames reached the exchange")
    finally:
        if "my_client" in namespace:
            namespace["my_client"].stop()
