"""JSON in and out, with an optional fast decoder.

:data:`loads` is ``orjson.loads`` when the ``fast`` extra (``orjson``) is installed and
``json.loads`` otherwise; both give the same objects for Bitfinex frames (floats for
non-integers, ints for integers). Where the exact text of a number matters (checksums), it is
rebuilt from the float with :func:`~bitfinex.protocol.jsnum.js_number_text`, so no frame pays
for keeping text nobody reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bitfinex.protocol.jsnum import js_number_text

DECODER_NAME: str
"""``"orjson"`` or ``"json"``: which decoder :data:`loads` is."""

loads: Callable[[bytes | str], Any]
"""Decode one JSON document (bytes or str); raises ``ValueError`` for anything that is not JSON.
Both decoders read integers up to 64 bits exactly (Bitfinex, written in JavaScript, never sends
integers past 2**53); orjson reads wider ones as floats."""


def _pick_decoder() -> tuple[str, Callable[[bytes | str], Any]]:
    try:
        import orjson
    except ImportError:  # pragma: no cover - depends on the installed extras
        return "json", json.loads
    return "orjson", orjson.loads


DECODER_NAME, loads = _pick_decoder()


def dumps(obj: Any) -> bytes:
    """Encode an outgoing message compactly; refuses NaN and infinities."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def dumps_js(obj: Any) -> bytes:
    """Encode ``obj`` as the exchange does: floats printed as JavaScript prints them.

    ``dumps_js([1, [7255.0, 2e-8]])`` gives ``b'[1,[7255,2e-8]]'``.
    """
    parts: list[str] = []
    _write_js(obj, parts)
    return "".join(parts).encode()


_encode_string: Callable[[str], str] = json.encoder.encode_basestring


def _write_js(obj: Any, out: list[str]) -> None:
    kind = type(obj)
    if kind is str:
        out.append(_encode_string(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif kind is int:
        out.append(str(obj))
    elif kind is float:
        out.append(js_number_text(obj))
    elif kind is list or kind is tuple:
        out.append("[")
        for index, item in enumerate(obj):
            if index:
                out.append(",")
            _write_js(item, out)
        out.append("]")
    elif kind is dict:
        out.append("{")
        for index, (key, value) in enumerate(obj.items()):
            if index:
                out.append(",")
            out.append(_encode_string(str(key)))
            out.append(":")
            _write_js(value, out)
        out.append("}")
    else:
        try:
            out.append(js_number_text(obj))
        except TypeError:
            raise TypeError(f"cannot encode {kind.__name__} as JSON") from None
