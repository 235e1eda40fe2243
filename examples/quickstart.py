"""The quickstart: authenticate, candles for BTCUSD 1m and ETHUSD 5m, then a LIMIT order.

The order (a buy of 0.004 BTC at 1000 USD, far below the market) rests on the book; the
example cancels it before it exits.
"""

from bitfinex import utils

from _common import Messages, account_message, connect, data_frame

with connect(__doc__) as my_client:
    account = Messages("account: ")
    my_candle_handler = Messages("candles: ")
    my_client.authenticate(account)
    my_client.subscribe_to_candles(symbol="BTCUSD", timeframe="1m", callback=my_candle_handler)
    my_client.subscribe_to_candles(symbol="ETHUSD", timeframe="5m", callback=my_candle_handler)
    my_client.start()
    my_candle_handler.wait_for(data_frame)

    order_client_id = my_client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1000.0)
    account.wait_for(account_message("on", order_client_id))
    my_client.cancel_order_cid(order_client_id, utils.cid_to_date(order_client_id))
    account.wait_for(account_message("oc", order_client_id))
