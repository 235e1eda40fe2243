"""Subscribe to BTCUSD 1m and ETHUSD 5m candles: ``[MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]``."""

from _common import Messages, connect, data_frame

with connect(__doc__) as my_client:
    my_candle_handler = Messages()
    my_client.subscribe_to_candles(symbol="BTCUSD", timeframe="1m", callback=my_candle_handler)
    my_client.subscribe_to_candles(symbol="ETHUSD", timeframe="5m", callback=my_candle_handler)
    my_client.start()
    for _ in range(2):
        my_candle_handler.wait_for(data_frame)
