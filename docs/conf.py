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

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "sphinx_autodoc_typehints",
    "sphinx_copybutton",
]

autodoc_member_order = "bysource"
autodoc_preserve_defaults = False  # defaults as values (``25``, ``'auth'``), as a caller writes them
autoclass_content = "class"
autosummary_generate = False  # the summary tables list members of pages written by hand

# Type hints as users write them: evaluated (no module aliases such as ``st.StatusEvent``), in the
# description of each parameter, ``X | None`` rather than ``Optional[X]``, linked where they can be.
typehints_document_rtype = True
typehints_use_signature = False
typehints_use_signature_return = False
always_use_bars_union = True
typehints_defaults = None

copybutton_prompt_text = r"\$ |>>> |\.\.\. "  # console prompts are not copied
copybutton_prompt_is_regexp = True

default_role = "code"
highlight_language = "python"
exclude_patterns = ["_build"]

# furo: the theme of websockets and of much of the Python packaging world; a wide, readable
# column, a light and a dark mode, a sidebar that folds away on small screens.
html_theme = "furo"
html_title = f"bitfinex-wss {release}"
html_static_path = ["_static"]
html_css_files = ["wide-code.css"]
pygments_style = "sphinx"
pygments_dark_style = "monokai"
