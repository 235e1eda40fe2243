"""cancel_order_cid: cancel an order by the cid new_order returned and the cid's UTC date."""

from bitfinex import utils

from _common import Messages, account_message, connect

with connect(__doc__) as my_client:
    account = Messages("account: ")
    my_client.authenticate(account)
    my_client.start()
    order_cid = my_client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1000.0)
    account.wait_for(account_message("on", order_cid))
    # A cid made by this library is a millisecond timestamp; cid_to_date gives its UTC date.
    my_client.cancel_order_cid(order_cid=order_cid, order_date=utils.cid_to_date(order_cid))
    account.wait_for(account_message("oc", order_cid))
