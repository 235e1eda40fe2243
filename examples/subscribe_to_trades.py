"""Subscribe to the BTCUSD trades channel and print its snapshot and a few updates."""

from _common import Messages, connect

with connect(__doc__) as my_client:
    my_handler = Messages()
    my_client.subscribe_to_trades(symbol="BTCUSD", callback=my_handler)
    my_client.start()
    for _ in range(3):
        my_handler.wait_for(lambda message: isinstance(message, list) and message[1] != "hb")
