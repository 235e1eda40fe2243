"""JSON in and out, with one verdict whichever decoder runs.

:data:`loads` is the ``orjson`` decoder when the ``fast`` extra (``orjson``) is installed and the
standard library's otherwise; :data:`DECODERS` holds every decoder available in this process,
by name, so a connection (or a test) can pick one. They all keep one contract, so a frame is
accepted or refused the same way, and decodes to the same value, whichever runs:

- **Input**: ``bytes``, ``bytearray`` or a C-contiguous ``memoryview`` (read as its raw bytes)
  holding UTF-8 text, or a ``str`` (taken as text already decoded). Anything else, subclasses
  of these types included, is refused with :exc:`ValueError`, as orjson refuses it.
- **Strict RFC 8259 JSON, nothing else**: one value, with only JSON whitespace (space, tab,
  line feed, carriage return) around it; no ``NaN``, ``Infinity`` or ``-Infinity``; no byte
  order mark; no invalid UTF-8 (overlong forms, encoded surrogates, truncated sequences); no
  lone surrogate, as an escape (``"\\ud800"``) or in a ``str`` input; no raw control character
  in a string.
- **Numbers are finite doubles**: a number whose value overflows a double (``1e400``, a
  400-digit integer or decimal) is refused; one that underflows reads as ``0.0`` (or ``-0.0``).
  Numbers with a fraction or an exponent are floats. Integers from ``-2**63`` to ``2**64 - 1``
  are ints, read exactly. Wider integers (Bitfinex, written in JavaScript, never sends one past
  ``2**53``) are the one difference: orjson reads them as the nearest float, the standard
  library as the exact int.
- **Nesting**: at most :data:`MAX_DEPTH` levels of arrays and objects.
- **Objects**: a repeated key keeps its last value.
- **Errors**: anything else raises :exc:`ValueError` (:exc:`json.JSONDecodeError`, or a
  :exc:`UnicodeError` for text that is not UTF-8); never :exc:`RecursionError`,
  :exc:`OverflowError` or :exc:`TypeError`, whatever the input and however deep the caller's
  stack.

What it costs, per frame: the orjson decoder is ``orjson.loads`` plus a length comparison and
a type test for frames of at most :data:`SHORT_INPUT_LENGTH` bytes (no shorter text can nest
deeper than :data:`MAX_DEPTH`), and two byte counts past that; only a frame holding more than
:data:`MAX_DEPTH` brackets gets its nesting measured (linear time, no recursion). A caller that
inlines the length comparison can skip even the Python call around ``orjson.loads``: see
:data:`SHORT_INPUT_DECODERS`. The standard-library decoder skips
:func:`json.loads`'s pure-Python layers (encoding detection, regular-expression whitespace
matches) and calls the C scanner directly, which makes it about twice as fast as
:func:`json.loads` on Bitfinex frames; its extra checks are gated by C-level searches, so a
frame pays for a check only when it holds what the check is about (an exponent, a run of 309
digits, a ``\\u`` escape, more than :data:`MAX_DEPTH` bytes).

Where the exact text of a number matters (checksums), it is rebuilt from the float with
:func:`~bitfinex.protocol.jsnum.js_number_text`, so no frame pays for keeping text nobody reads.
"""

from __future__ import annotations

import _thread
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from itertools import accumulate
from types import MappingProxyType
from typing import Any, Union

from bitfinex.protocol.jsnum import js_number_text

__all__ = [
    "DECODERS",
    "DECODER_NAME",
    "MAX_DEPTH",
    "SHORT_INPUT_DECODERS",
    "SHORT_INPUT_LENGTH",
    "Decoder",
    "dumps",
    "dumps_js",
    "loads",
]

Decoder = Callable[[Union[bytes, bytearray, memoryview, str]], Any]
"""A JSON decoder keeping the contract above: one document in, its value out, or
:exc:`ValueError`."""

MAX_DEPTH = 512
"""Most levels of nested arrays and objects a document may have; deeper ones are refused.

Bitfinex frames are at most about 5 levels deep (a raw book snapshot of 250 levels per side is
2 levels deep, with 501 opening brackets). 512 is half of orjson's own limit (1024) and is safe
for the standard library's recursive C scanner on Python 3.9-3.13: on 3.9-3.11 it shares the
interpreter's recursion limit (1000 by default) with the caller's Python frames, so 512 levels
leave the caller about 480 frames of its own; a caller deeper than that still gets its verdict,
at the price of a thread started for that one document. On 3.12 and later the scanner counts
C recursion only (1500 levels on 3.12, about 10,000 on 3.13)."""

SHORT_INPUT_LENGTH = 2 * MAX_DEPTH + 1
"""Length (bytes, or characters of a ``str``) up to which a valid document cannot nest deeper
than :data:`MAX_DEPTH` (each level takes an opening and a closing bracket)."""

_WHITESPACE = " \t\n\r"
_LONG_NUMBER = 309
"""Digits an integer part needs to overflow a double (the largest double is about 1.8e308)."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:
        raise ValueError(f"number overflows a double: {text[:40]}")
    return value


def _finite_int(text: str) -> int:
    value = int(text)
    if len(text) >= _LONG_NUMBER:
        try:
            float(value)
        except OverflowError:
            raise ValueError(f"number overflows a double: {text[:40]}...") from None
    return value


_Scanner = Callable[[str, int], tuple[Any, int]]

_scan_plain: _Scanner = json.JSONDecoder(parse_constant=_refuse_constant).scan_once  # type: ignore[attr-defined]
"""The C scanner of :mod:`json` (``JSONDecoder.raw_decode`` without its Python layer)."""
_scan_numbers: _Scanner = json.JSONDecoder(  # type: ignore[attr-defined]
    parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_finite_int
).scan_once
"""The C scanner again, reading every number through a check (only for frames that may hold one
out of range: it costs a Python call per number)."""

_NUMBER_MARKS = bytes.maketrans(b"0123456789E", b"0000000000e")
_LONG_DIGIT_RUN = b"0" * _LONG_NUMBER
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEPS = bytes.maketrans(b"[]", b"\x02\x00")
_PEELS = 16
"""Rounds of removing innermost bracket pairs before measuring the rest in one pass."""


def _nesting_exceeds(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text ``data`` (UTF-8) nests arrays and objects deeper than ``limit`` levels.

    Exact for valid JSON. For invalid JSON it never reports less than the depth the decoders'
    scanners reach before they find the first error (they read strings the same way), so a text
    reported shallow enough cannot make the standard library's recursive scanner go deeper.
    Iterative and linear in the length of ``data``.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    if b'"' in data:
        if b"\\" in data:
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        data = b"".join(data.split(b'"')[::2])
    brackets = data.translate(_BRACKETS, _NOT_BRACKETS)
    if brackets.count(b"[") <= limit:
        return False
    # Each round removes every innermost pair, which lowers the deepest level by exactly one in
    # a balanced text (and by at most one otherwise): shallow texts vanish in a few rounds.
    peeled = 0
    while brackets and peeled < _PEELS:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets = shorter
        peeled += 1
    remaining = limit - peeled
    if not brackets:
        return remaining < 0
    if b"[" * (remaining + 1) in brackets:
        return True
    steps = brackets.translate(_STEPS)  # prefix sum of 2 per opening bracket, minus the count so far
    deepest: int = max(map(operator.sub, accumulate(steps), range(1, len(steps) + 1)))
    return deepest > remaining


def _too_deep(text: str, position: int = 0) -> json.JSONDecodeError:
    return json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, position)


def _lone_surrogate(value: Any) -> bool:
    """Whether a decoded value holds a string (value or key) with a lone surrogate."""
    stack = [value]
    pop = stack.pop
    push = stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif kind is list:
            push(item)
        elif kind is dict:
            push(item)
            push(item.values())
    return False


def _scan_on_fresh_stack(scan: _Scanner, text: str, start: int) -> tuple[Any, int]:
    """Run ``scan`` on a new thread, whose recursion budget is untouched by the caller's stack
    (the scanner hit the recursion limit only because the caller was already deep)."""
    outcome: list[Any] = []
    done = _thread.allocate_lock()
    done.acquire()

    def run() -> None:
        try:
            outcome.append((True, scan(text, start)))
        except BaseException as error:  # handed back to the caller's thread
            outcome.append((False, error))
        finally:
            done.release()

    try:
        _thread.start_new_thread(run, ())
    except RuntimeError:  # no new thread now (interpreter shutting down)
        raise json.JSONDecodeError("nesting too deep for the caller's stack", text, start) from None
    done.acquire()
    succeeded, result = outcome[0]
    if succeeded:
        return result  # type: ignore[no-any-return]
    if isinstance(result, RecursionError):
        raise json.JSONDecodeError("nesting too deep for this interpreter", text, start) from None
    raise result


def _scan_document(scan: _Scanner, text: str) -> tuple[Any, int]:
    """The slow start of a scan: leading whitespace, no value at all, a deep caller's stack."""
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        try:
            return scan(text, start)
        except RecursionError:
            return _scan_on_fresh_stack(scan, text, start)
    except StopIteration:
        raise json.JSONDecodeError("Expecting value", text, start) from None


def _json_loads(data: Union[bytes, bytearray, memoryview, str]) -> Any:
    """Decode one JSON document with the standard library's C scanner, under the module's
    contract (see :mod:`bitfinex.protocol.codec`).

    :param data: the document: UTF-8 bytes (``bytes``, ``bytearray``, contiguous ``memoryview``)
        or a ``str``.
    :raises ValueError: for anything that is not a JSON document under the contract.
    """
    if type(data) is bytes:
        raw = data
        text = raw.decode("utf-8")
    elif type(data) is str:
        text = data
        raw = text.encode("utf-8")  # UnicodeEncodeError (a ValueError) for a lone surrogate
    elif type(data) is bytearray or (type(data) is memoryview and data.c_contiguous):
        raw = bytes(data)
        text = raw.decode("utf-8")
    else:
        raise json.JSONDecodeError("Input must be bytes, bytearray, contiguous memoryview, or str", "", 0)
    if len(raw) > MAX_DEPTH and _nesting_exceeds(raw):
        raise _too_deep(text)
    scan = _scan_plain
    if "e" in text or "E" in text or len(raw) >= _LONG_NUMBER:
        marks = raw.translate(_NUMBER_MARKS)
        if marks.find(b"0e") >= 0 or (len(marks) >= _LONG_NUMBER and marks.find(_LONG_DIGIT_RUN) >= 0):
            scan = _scan_numbers
    try:
        value, end = scan(text, 0)
    except (StopIteration, RecursionError):
        value, end = _scan_document(scan, text)
    if end != len(text) and text[end:].strip(_WHITESPACE):
        raise json.JSONDecodeError("Extra data", text, end)
    if "\\" in text:
        found = _SURROGATE_ESCAPE.search(text)
        if found is not None and _lone_surrogate(value):
            raise json.JSONDecodeError("lone surrogate in a string", text, found.start())
    return value


try:
    import orjson
except ImportError:  # pragma: no cover - depends on the installed extras
    orjson = None  # type: ignore[assignment]

if orjson is not None:
    _orjson_decode: Callable[[Union[bytes, bytearray, memoryview, str]], Any] = orjson.loads

    def _orjson_loads(data: Union[bytes, bytearray, memoryview, str]) -> Any:
        """Decode one JSON document with orjson, under the module's contract (see
        :mod:`bitfinex.protocol.codec`).

        :param data: the document: UTF-8 bytes (``bytes``, ``bytearray``, contiguous
            ``memoryview``) or a ``str``.
        :raises ValueError: for anything that is not a JSON document under the contract
            (:exc:`orjson.JSONDecodeError`, a :exc:`json.JSONDecodeError` subclass).
        """
        value = _orjson_decode(data)
        if len(data) > SHORT_INPUT_LENGTH or type(data) is memoryview:
            _check_long_input(data)
        return value

    def _check_long_input(data: Union[bytes, bytearray, memoryview, str]) -> None:
        """The depth check of a document orjson accepted, for inputs long enough to need it."""
        if isinstance(data, str):
            if len(data) > SHORT_INPUT_LENGTH and _nesting_exceeds(data.encode("utf-8")):
                raise _too_deep(data)
            return
        raw = data.tobytes() if type(data) is memoryview else bytes(data)  # len(memoryview) counts items
        if len(raw) > SHORT_INPUT_LENGTH and _nesting_exceeds(raw):
            raise _too_deep("")


def _available() -> dict[str, Decoder]:
    decoders: dict[str, Decoder] = {"json": _json_loads}
    if orjson is not None:
        decoders["orjson"] = _orjson_loads
    return decoders


DECODERS: Mapping[str, Decoder] = MappingProxyType(_available())
"""Every decoder available in this process, by name: ``"json"`` (the standard library) always,
``"orjson"`` when orjson is installed. All keep the module's contract: the same verdict and the
same values on every input (but for integers wider than 64 bits, see above)."""

SHORT_INPUT_DECODERS: Mapping[str, Decoder] = MappingProxyType(
    {"json": _json_loads, **({"orjson": orjson.loads} if orjson is not None else {})}
)
"""For a caller that inlines the length test: ``SHORT_INPUT_DECODERS[name](data)`` gives the
same verdict and value as ``DECODERS[name](data)`` for any ``data`` of at most
:data:`SHORT_INPUT_LENGTH` bytes (or characters of a ``str``), and saves the Python call that
wraps orjson (``orjson.loads`` itself; the standard library's decoder needs its checks at every
length, so it is the same function)."""

DECODER_NAME: str = "orjson" if orjson is not None else "json"
"""``"orjson"`` or ``"json"``: which decoder :data:`loads` is."""

loads: Decoder = DECODERS[DECODER_NAME]
"""Decode one JSON document (bytes or str) with the best decoder available (orjson if installed);
raises ``ValueError`` for anything that is not JSON under the module's contract."""


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""The options every outgoing message is encoded with."""

_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)

_encode_chunks: Callable[[Any, Any], Iterable[str]] = (
    _COMPACT.iterencode  # an interpreter without the C accelerator: (obj, 0) takes its Python path
    if _c_make_encoder is None
    else _c_make_encoder(None, _COMPACT.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)
)
"""The chunks of one message's text, called as ``(obj, 0)``: the standard library's C encoder
with :data:`_COMPACT`'s options, made once (0 is the indent level it starts at; for
``iterencode``, no ``_one_shot``). ``JSONEncoder.encode`` makes one on every call, through two
Python layers, which was most of an order's encoding. It keeps no record of the containers it is
inside (``markers`` is None), so a structure that contains itself raises ``RecursionError``
rather than ``ValueError``; outgoing messages are the library's own, and the one part a caller
supplies (an order's ``meta``) is checked before it is queued."""


def dumps(obj: Any) -> bytes:
    """Encode an outgoing message compactly; refuses NaN and infinities."""
    return "".join(_encode_chunks(obj, 0)).encode()


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
