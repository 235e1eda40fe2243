"""The sans-I/O protocol core: pure functions and small state machines, no sockets, no reactor.

Everything that turns user calls into Bitfinex messages and Bitfinex frames into events lives
here, so it can be tested without a network: payload builders, signing, nonces and cids,
validation, the channel registry, routing and the order book.
"""
