"""ping: on the authenticated connection and on a public one; each pong goes to that channel's
callback."""

from _common import Messages, connect, data_frame, event, show

with connect(__doc__) as my_client:
    account, ticker = Messages("account: "), Messages("ticker: ")
    my_client.authenticate(account)
    identifier = my_client.subscribe_to_ticker(symbol="BTCUSD", callback=ticker)
    my_client.start()
    ticker.wait_for(data_frame)
    auth_cid = my_client.ping()
    ticker_cid = my_client.ping(identifier)
    show("pinged:", auth_cid, ticker_cid)
    account.wait_for(lambda message: event("pong")(message) and message["cid"] == auth_cid)
    ticker.wait_for(lambda message: event("pong")(message) and message["cid"] == ticker_cid)
