"""new_order: a LIMIT buy of 0.004 BTC at 1000 USD; prints Bitfinex's notification and order
messages, then cancels the order."""

from _common import Messages, account_message, connect, show

with connect(__doc__) as my_client:
    account = Messages("account: ")
    my_client.authenticate(account)
    my_client.start()
    order_client_id = my_client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1000.0)
    show("cid:", order_client_id)
    notification = account.wait_for(account_message("n", order_client_id))
    show("status:", notification[2][6], "-", notification[2][7])
    order = account.wait_for(account_message("on", order_client_id))
    my_client.cancel_order(order_id=order[2][0])
    account.wait_for(account_message("oc", order_client_id))
