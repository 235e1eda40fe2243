"""A Twisted/autobahn client for the Bitfinex WebSocket API v2.

::

    from bitfinex import WssClient

    client = WssClient(key, secret)
    client.authenticate(print)
    client.subscribe_to_ticker("BTCUSD", print)
    client.start()

``bitfinex.testing`` holds a local Bitfinex-compatible exchange to run bots and tests against.

The library logs on the ``bitfinex`` logger and its children and is quiet by default; to see
what it does::

    logging.basicConfig(level=logging.INFO)
"""

import logging

from bitfinex import utils
from bitfinex.client import WssClient
from bitfinex.protocol.status import StatusEvent

__version__ = "1.0.0"

logging.getLogger("bitfinex").addHandler(logging.NullHandler())

__all__ = ["StatusEvent", "WssClient", "__version__", "utils"]
