"""``python -m bench``: see :mod:`bench.run` and ``bench/README.md``."""

from bench.run import main

main()
