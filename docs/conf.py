"""Sphinx configuration of the bitfinex-wss documentation.

Build it with ``python -m sphinx -W -b html docs docs/_build`` (warnings are errors in CI).
Every code example of these pages, docstrings included, runs in ``tests/test_docs.py``.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # the checkout's package, whether it is installed or not

from bitfinex import __version__

project = "bitfinex-wss"
author = "bitfinex-wss contributors"
copyright = "bitfinex-wss contributors, MIT licence"
version = release = __version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
autoclass_content = "class"

default_role = "code"
highlight_language = "python"
pygments_style = "sphinx"
exclude_patterns = ["_build"]

html_theme = "alabaster"
html_theme_options = {
    "description": "Bitfinex WebSocket API v2 client on Twisted, with a local exchange to test against",
    "fixed_sidebar": True,
}
html_static_path: list[str] = []
