"""subscribe_to_status: a perpetual's status (mark price, next funding, open interest) and the
liquidation feed; then a long of 0.001 BTCF0 at 10x leverage, its collateral and liquidation
price, and its close."""

from _common import Messages, account_message, connect, data_frame, event, show

SYMBOL = "tBTCF0:USTF0"

with connect(__doc__) as my_client:
    status = Messages("status: ")
    liquidations = Messages("liquidations: ")
    account = Messages("account: ")
    my_client.subscribe_to_status(key="deriv:" + SYMBOL, callback=status)
    my_client.subscribe_to_status(key="liq:global", callback=liquidations)
    my_client.authenticate(account)
    my_client.start()
    liquidations.wait_for(event("subscribed"))
    fields = status.wait_for(data_frame)[1]
    show(f"mark price {fields[14]}, next funding at {fields[7]}, open interest {fields[17]}")
    account.wait_for(account_message("ws"))

    my_client.new_order("MARKET", SYMBOL, "0.001", None, lev=10)
    position = account.wait_for(account_message("pn"))[2]
    show(f"long {position[2]} @ {position[3]}: collateral {position[17]}, liquidation price {position[8]}")
    my_client.new_order("MARKET", SYMBOL, "-0.001", None, lev=10)
    closed = account.wait_for(account_message("pc"))[2]
    show(f"closed: {closed[0]} {closed[1]}")
