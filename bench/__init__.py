"""The benchmark suite of bitfinex-wss: ``python -m bench`` (see ``bench/README.md``).

Modules:

- :mod:`bench.stream`: the frames every client gets (seeded, pre-encoded) and the markers and
  timestamps they carry;
- :mod:`bench.feeder`: the feed server, an autobahn server on a private reactor in its own
  process that answers ``conf``/``subscribe`` like Bitfinex and streams the frames;
- :mod:`bench.bookstream`: the book workload's stream (many books, a true ``cs`` after every
  update) and the final books every client is held to;
- :mod:`bench.standin`: the order workload's exchange stand-in, answering every order at once;
- :mod:`bench.harness`: what runs inside one client process: the plan it was given, the probe
  its callbacks report to, and the result it writes;
- :mod:`bench.clients`: the clients under test (the rows of every workload), one adapter module
  per kind of client;
- :mod:`bench.workloads`: what each workload (firehose, books, orders, channels) runs and how it
  reports (:mod:`bench.report`, :mod:`bench.report_books`, :mod:`bench.report_orders`,
  :mod:`bench.report_channels`);
- :mod:`bench.run`: the runner: starts the servers, runs every client round-robin, prints the
  table and writes the JSON under ``bench/results/``; :mod:`bench.plot` draws a run's rates.

Client processes of the peers (``bitfinex-api-py``, ``cryptofeed``, ``ccxt``) may run under another
interpreter than the runner's, so nothing imported by :mod:`bench.harness` and the peer adapters
needs more than the standard library.
"""
