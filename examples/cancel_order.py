"""cancel_order by the id Bitfinex gave the order, and by its cid and date."""

from bitfinex import utils

from _common import Messages, account_message, connect

with connect(__doc__) as my_client:
    account = Messages("account: ")
    my_client.authenticate(account)
    my_client.start()
    by_id = my_client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1000.0)
    by_cid = my_client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1001.0)
    order = account.wait_for(account_message("on", by_id))
    account.wait_for(account_message("on", by_cid))

    my_client.cancel_order(order_id=order[2][0])
    my_client.cancel_order(order_cid=by_cid, order_date=utils.cid_to_date(by_cid))
    account.wait_for(account_message("oc", by_id))
    account.wait_for(account_message("oc", by_cid))
