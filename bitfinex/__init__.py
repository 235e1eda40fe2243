"""A Twisted/autobahn client for the Bitfinex WebSocket API v2.

::

    from bitfinex import WssClient

    client = WssClient(key, secret)
    client.authenticate(print)
    client.subscribe_to_ticker("BTCUSD", print)
    client.start()

``bitfinex.testing`` holds a local Bitfinex-compatible exchange to run bots and tests against.

The library logs on the ``bitfinex`` logger and its children. Routine events are quiet by
default; errors (an exception in your callback, a connection that gave up, a refused order)
reach stderr until you configure logging (see :mod:`bitfinex.logs`). To see what it does::

    logging.basicConfig(level=logging.INFO)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bitfinex import logs

if TYPE_CHECKING:
    from bitfinex import utils
    from bitfinex.client import WssClient
    from bitfinex.protocol.mirror import MirrorOptions
    from bitfinex.protocol.orderstate import OrderState
    from bitfinex.protocol.status import StatusEvent

__version__ = "1.0.0"

logs.install()

__all__ = ["MirrorOptions", "OrderState", "StatusEvent", "WssClient", "__version__", "utils"]

# Imported on first use (PEP 562), so that importing a submodule (``bitfinex.protocol``, the
# pytest plugin) does not pay for Twisted and autobahn, which ``bitfinex.client`` loads.
_LAZY = {
    "MirrorOptions": "bitfinex.protocol.mirror",
    "OrderState": "bitfinex.protocol.orderstate",
    "StatusEvent": "bitfinex.protocol.status",
    "WssClient": "bitfinex.client",
    "utils": "bitfinex.utils",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    imported = importlib.import_module(module)
    value = imported if name == "utils" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
