"""update_order: move a resting LIMIT order's price and amount, then cancel it."""

from _common import Messages, account_message, connect, show

with connect(__doc__) as my_client:
    account = Messages("account: ")
    my_client.authenticate(account)
    my_client.start()
    cid = my_client.new_order(order_type="LIMIT", symbol="BTCUSD", amount=0.004, price=1000.0)
    order_id = account.wait_for(account_message("on", cid))[2][0]
    my_client.update_order(id=order_id, price="1010.5", amount="0.005")
    updated = account.wait_for(account_message("ou", cid))
    show("now:", updated[2][6], "@", updated[2][16])
    my_client.cancel_order(order_id=order_id)
    account.wait_for(account_message("oc", cid))
