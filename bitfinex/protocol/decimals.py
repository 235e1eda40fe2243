"""Frames with decimals as strings (the ``conf`` flag DEC_S, 8) read as numbers.

With DEC_S Bitfinex sends every decimal (prices, amounts, rates) as a string, so no precision is
lost to a float (docs ws-general: "DEC_S: enable all decimals as strings"): a ticker becomes
``[CHAN_ID, ["29997", "0.0683", ...]]``. Callbacks get such frames as Bitfinex sent them; the
client checks their shape, and keeps maintained books, on a copy whose decimal strings are read as
floats by :func:`as_numbers`. A decimal string is read as the double JavaScript would make of
it, so a checksum computed from the book prints every number back as the exchange wrote it.
"""

from __future__ import annotations

import re
from typing import Any

_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
"""A JSON number, as text (what DEC_S puts in a string)."""

DEPTH = 3
"""Levels of a frame searched for decimal strings: its body, the entries of a snapshot or batch,
and their fields (``[CHAN_ID, [[PRICE, COUNT, AMOUNT], ...]]``)."""


def as_number(value: Any) -> Any:
    """``value`` as a float if it is a decimal string, else ``value`` itself."""
    if type(value) is str and _DECIMAL.match(value):
        number = float(value)
        if number - number == 0.0:  # finite: a decimal string too large for a double stays text
            return number
    return value


def as_numbers(frame: list[Any], depth: int = DEPTH) -> list[Any]:
    """A copy of ``frame`` with every decimal string, down to ``depth`` levels, read as a float;
    ids, timestamps and type tags (``"te"``, ``"hb"``) are left as they are."""
    return [_convert(item, depth) for item in frame]


def _convert(value: Any, depth: int) -> Any:
    if type(value) is list and depth > 0:
        return [_convert(item, depth - 1) for item in value]
    return as_number(value)
