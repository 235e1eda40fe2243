"""new_order_op + multi_order: one ``ox_multi`` that cancels an order by its cid and creates a
new one, then a second that cancels the new one."""

from bitfinex import utils

from _common import Messages, account_message, connect, show

with connect(__doc__) as my_client:
    account = Messages("account: ")
    my_client.authenticate(account)
    my_client.start()

    first = my_client.new_order(order_type="LIMIT", symbol="BTCUSD", amount="0.004", price="1000.0")
    account.wait_for(account_message("on", first))

    cancel_order_operation = {"cid": first, "cid_date": utils.cid_to_date(first)}
    new_order_operation = my_client.new_order_op(order_type="LIMIT", symbol="BTCUSD", amount="0.004", price="1000.0")
    order_client_ids = my_client.multi_order([cancel_order_operation, new_order_operation])
    show("cids:", order_client_ids)
    account.wait_for(account_message("on", new_order_operation["cid"]))

    second = new_order_operation["cid"]
    my_client.multi_order([("oc", {"cid": second, "cid_date": utils.cid_to_date(second)})])
    account.wait_for(account_message("oc", second))
