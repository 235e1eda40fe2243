"""Subscribe to the BTCUSD order book at precision P1: the snapshot, then updates; then the
same book maintained for you and verified against Bitfinex's checksums."""

from _common import Messages, connect, data_frame, show

with connect(__doc__) as my_client:
    my_handler = Messages()
    my_client.subscribe_to_orderbook(symbol="BTCUSD", precision="P1", callback=my_handler)

    def show_book(book):
        show(f"maintained P0 book: best bid {book.best_bid}, best ask {book.best_ask}, spread {book.spread}")

    my_client.subscribe_to_orderbook(symbol="BTCUSD", precision="P0", callback=show_book, maintained=True)
    my_client.start()
    for _ in range(3):
        my_handler.wait_for(data_frame)
