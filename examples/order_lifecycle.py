"""order_lifecycle: follow one order through the account mirror: place it, see it partially
filled, amend it, cancel it; every transition is printed as it happens, then the account.

With --local another trader (``LocalExchange.simulate_order``) fills part of the order; on
Bitfinex the order rests far below the market and is never filled.
"""

import argparse
import contextlib
import os

from bitfinex import OrderState, WssClient

from _common import show

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--local", action="store_true", help="run against the local exchange, not Bitfinex")
arguments = parser.parse_args()


def print_transition(change):
    """Called on the client's thread at every change of state and every fill."""
    order, fill = change.order, change.fill
    if change.moved:
        before = change.previous.value if change.previous is not None else "new"
        show(f"order {order.cid}: {before} -> {order.state.value} {order.reason}".rstrip())
    if fill is not None:
        fee = "" if fill.fee is None else f", fee {fill.fee} {fill.fee_currency}"
        show(f"order {order.cid}: fill {fill.id} of {fill.amount} @ {fill.price}{fee}")


with contextlib.ExitStack() as stack:
    exchange = None
    if arguments.local:
        from bitfinex.testing import LocalExchange

        # A still market: only the simulated trader below fills the order.
        exchange = stack.enter_context(LocalExchange(heartbeat_interval=5.0, tick_interval=None))
        key, secret, url = exchange.key, exchange.secret, exchange.url
    else:
        key, secret, url = os.environ.get("BITFINEX_KEY"), os.environ.get("BITFINEX_SECRET"), None
    my_client = WssClient(key, secret, url=url, account_mirror=True)
    stack.callback(my_client.stop)
    account = my_client.account
    account.listen(print_transition)
    my_client.authenticate()
    my_client.start()
    account.wait_until(lambda snapshot: snapshot.synced, timeout=10)

    price = 1000
    if exchange is not None:
        best_bid, _ = exchange.best_prices("tBTCUSD")
        price = best_bid + 1  # the best bid: the next seller trades with it
    cid = my_client.new_order(order_type="EXCHANGE LIMIT", symbol="BTCUSD", amount="0.5", price=str(price))
    order = account.wait_for(cid, OrderState.ACTIVE, timeout=10)
    show("open:", order.order, "id", order.order_id)

    if exchange is not None:
        exchange.simulate_order("tBTCUSD", "-0.2", str(price))  # another trader sells 0.2
        order = account.wait_for(cid, OrderState.PARTIALLY_FILLED, timeout=10)
        show("filled so far:", order.filled, "of", order.request["amount"])

    my_client.update_order(id=order.order_id, price=str(price - 1))
    snapshot = account.wait_until(lambda s: s.orders[order.order_id].price == price - 1, timeout=10)
    show("amended: now", snapshot.orders[order.order_id].amount, "@", snapshot.orders[order.order_id].price)

    my_client.cancel_order(order_id=order.order_id)
    order = account.wait_for(cid, timeout=10)  # any final state
    show("final:", order.state.value, "-", order.reason, "- fills:", len(order.fills))
    snapshot = account.snapshot()
    show("open orders:", len(snapshot.orders), "- exchange USD:", snapshot.wallet("exchange", "USD"))
