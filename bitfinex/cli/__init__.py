"""The ``stream`` and ``book`` commands of ``bitfinex-wss`` (``python -m bitfinex``).

- :mod:`bitfinex.cli.stream`: print a channel's frames as readable lines or JSON lines;
- :mod:`bitfinex.cli.book`: a live top-of-book view of a maintained order book;
- :mod:`bitfinex.cli.runner`: what both share: the client, stopping (``--count``,
  ``--seconds``, Ctrl-C) and handing messages from the client's thread to the printing one.

These modules are programs: they print. The library never does.
"""
