"""A short, bounded text of any value, for log lines: :func:`render`.

Log lines about dropped frames must show what was dropped without risking the log call itself.
``"%.200r" % frame`` is not safe: it builds the whole ``repr`` before cutting it (all of a
100,000-element list), it recurses (a 980-deep frame, which orjson decodes, makes it raise
:exc:`RecursionError` inside the logging call), and it runs whatever ``__repr__`` an object
has. :func:`render` walks the value itself, without recursion, and stops as soon as it has
written ``limit`` characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, repeat
from typing import Any, Optional

__all__ = ["ELLIPSIS", "render"]

ELLIPSIS = "…"
"""Ends a rendering that was cut short."""

_BIG_INT_BITS = 1024
"""Ints wider than this are shown by size: their decimal text costs time quadratic in their
length (and Python 3.11+ refuses to make it past 4300 digits)."""

_Items = Iterator[tuple[str, Any]]
"""What a container yields while it is written: (text before the item, the item)."""
_Frame = tuple[_Items, str, int]
"""A container being written: its items, its closing text, its id (to spot cycles)."""


def render(value: object, limit: int = 200) -> str:
    """Return a text of ``value`` of at most ``limit`` characters; never raises.

    A value whose ``repr`` fits in ``limit`` characters is rendered exactly as ``repr`` renders
    it (lists, tuples, dicts, sets, strings, bytes, numbers, ``None``, named tuples, and any
    object with a ``__repr__`` of its own). A longer one is cut to ``limit - 1`` characters
    followed by :data:`ELLIPSIS`. The walk is iterative and stops once it has ``limit``
    characters, so its time is bounded by ``limit`` whatever the size or depth of ``value``: a
    list of a million items, a nest 100,000 levels deep, a list that contains itself (shown as
    ``[...]``, as ``repr`` shows it).

    Bytes are shown as their ``repr`` (``b'...'``), so bytes that are not UTF-8 come out as
    ``\\x..`` escapes, never as text that could garble a log line. Ints wider than 1024 bits
    are shown as ``<int of N bits>``. An object whose ``__repr__`` raises (or whose class
    misbehaves in any other way) is shown as ``<TypeName object>``. The time an object's own
    ``__repr__`` takes is that method's business; its text is cut to ``limit``.

    :param value: anything: a decoded frame, a raw ``bytes`` or ``str`` payload, any object.
    :param limit: the most characters to return; values below 1 count as 1, and a ``limit``
        that is not an int counts as 200.
    :returns: the text, at most ``limit`` characters long.
    """
    size = max(limit, 1) if type(limit) is int else 200
    try:
        return _render(value, size)
    except Exception:  # a class whose machinery raises (attribute lookups, __len__...)
        return _type_text(value)[:size]


def _render(value: object, limit: int) -> str:
    parts: list[str] = []
    written = 0
    budget = limit + 1  # one character past the limit tells that the text was cut
    stack: list[_Frame] = []
    on_stack: set[int] = set()
    prefix = ""
    item: Any = value
    while True:
        if prefix:
            parts.append(prefix)
            written += len(prefix)
            if written >= budget:
                break
        piece = _scalar_text(item, budget - written)
        if piece is None:
            piece, frame = _open(item, on_stack, budget - written)
            if frame is not None:
                stack.append(frame)
                on_stack.add(frame[2])
        parts.append(piece)
        written += len(piece)
        if written >= budget:
            break
        # The next item: from the innermost open container, closing the finished ones.
        while stack:
            items, close, ident = stack[-1]
            following = next(items, None)
            if following is not None:
                prefix, item = following
                break
            stack.pop()
            on_stack.discard(ident)
            parts.append(close)
            written += len(close)
            if written >= budget:
                break
        else:
            break
        if written >= budget:
            break
    text = "".join(parts)
    if len(text) > limit:
        return text[: limit - 1] + ELLIPSIS
    return text


def _scalar_text(value: Any, room: int) -> Optional[str]:
    """The text of a value that is not a container (only its first ``room`` characters are
    sure to be right), or None for a container."""
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return repr(value)
    if kind is str or kind is bytes or kind is bytearray:
        return _text_repr(value, kind, room)
    if kind is int:
        bits = value.bit_length()
        return repr(value) if bits <= _BIG_INT_BITS else f"<int of {bits} bits>"
    if kind in _CONTAINERS or kind is memoryview:
        return None if kind is not memoryview else _memoryview_text(value, room)
    base = _builtin_base(kind)
    if base is None:
        return _own_repr(value, room)
    if base is str or base is bytes:
        return _text_repr(value, base, room)
    return None


def _text_repr(value: Any, kind: Any, room: int) -> str:
    """``repr`` of a str, bytes or bytearray, of its first ``room + 1`` characters if it is
    longer, quoted as ``repr`` quotes the whole: in double quotes when it holds a single quote
    and no double quote (a prefix alone may not)."""
    if len(value) <= room:
        return repr(value)
    single, double = ("'", '"') if kind is str else (b"'", b'"')
    quote = '"' if kind.__contains__(value, single) and not kind.__contains__(value, double) else "'"
    text = repr(kind.__getitem__(value, slice(0, room + 1)))
    end = len(text) - (2 if kind is bytearray else 1)  # the closing quote
    start = text.index(text[end])  # the opening one: the first quote of the text
    if text[start] == quote:
        return text
    body = text[start + 1 : end]
    if quote == "'":  # the prefix was in double quotes: it holds single quotes, which need escaping
        body = body.replace("'", "\\'")
    return f"{text[:start]}{quote}{body}{quote}{text[end + 1 :]}"


def _open(value: Any, on_stack: set[int], room: int) -> tuple[str, Optional[_Frame]]:
    """Start writing a container: its opening text and its frame (None when the opening text
    is the whole rendering: empty, or the container is already being written higher up)."""
    kind = type(value)
    base = kind if kind in _CONTAINERS else _builtin_base(kind)
    ident = id(value)
    if ident in on_stack:
        return ("[...]" if base is list else "{...}" if base is dict else "(...)", None)
    if base is dict:
        if not dict.__len__(value):
            return ("{}", None)
        return ("{", (_dict_items(dict.items(value)), "}", ident))
    if base is list:
        if not list.__len__(value):
            return ("[]", None)
        return ("[", (_sequence_items(list.__iter__(value)), "]", ident))
    if base is tuple:
        if kind is not tuple and _is_named_tuple(kind):
            fields: tuple[str, ...] = kind._fields
            names = chain((f"{fields[0]}=",), (f", {name}=" for name in fields[1:])) if fields else iter(())
            return (f"{kind.__name__}(", (zip(names, tuple.__iter__(value)), ")", ident))
        length = tuple.__len__(value)
        if not length:
            return ("()", None)
        close = ",)" if length == 1 else ")"
        return ("(", (_sequence_items(tuple.__iter__(value)), close, ident))
    if base is set or base is frozenset:
        name = "set" if base is set else "frozenset"
        if kind is not base:
            name = kind.__name__
        if not base.__len__(value):
            return (f"{name}()", None)
        opening, close = ("{", "}") if kind is set else (f"{name}({{", "})")
        return (opening, (_sequence_items(base.__iter__(value)), close, ident))
    return (_own_repr(value, room), None)


def _sequence_items(items: Iterator[Any]) -> _Items:
    return zip(chain(("",), repeat(", ")), items)


def _dict_items(pairs: Any) -> _Items:
    separator = ""
    for key, item in pairs:
        yield separator, key
        yield ": ", item
        separator = ", "


_CONTAINERS = frozenset((list, tuple, dict, set, frozenset))
_BUILTIN_REPRS: dict[type, Any] = {
    list: list.__repr__, tuple: tuple.__repr__, dict: dict.__repr__, set: set.__repr__,
    frozenset: frozenset.__repr__, str: str.__repr__, bytes: bytes.__repr__,
}


def _builtin_base(kind: type) -> Optional[type]:
    """For a subclass of a builtin container, ``str`` or ``bytes`` that renders as the builtin
    does (it keeps the builtin ``__repr__``, or it is a named tuple): that builtin. None for
    anything else, a class whose attributes cannot be read included (the object's own
    ``__repr__`` then speaks for it, guarded)."""
    try:
        for base, builtin_repr in _BUILTIN_REPRS.items():
            if issubclass(kind, base):
                if kind.__repr__ is builtin_repr:
                    return base
                if base is tuple and _is_named_tuple(kind):
                    return tuple
                return None
    except Exception:
        return None
    return None


def _is_named_tuple(kind: type) -> bool:
    fields = getattr(kind, "_fields", None)
    return (
        issubclass(kind, tuple)
        and type(fields) is tuple
        and all(type(name) is str for name in fields)
        and type(kind.__name__) is str
        and callable(getattr(kind, "_make", None))
    )


def _memoryview_text(view: memoryview, room: int) -> str:
    if view.ndim == 1 and view.itemsize == 1 and view.c_contiguous:
        return f"memoryview({view[: room + 1].tobytes()!r})"
    return f"<memoryview of {view.nbytes} bytes>"


def _own_repr(value: object, room: int) -> str:
    """``repr(value)`` cut to ``room`` characters, or ``<TypeName object>`` if it fails."""
    try:
        text = repr(value)
    except Exception:
        return _type_text(value)
    return text[:room] if type(text) is str else _type_text(value)


def _type_text(value: object) -> str:
    """``<TypeName object>``, or ``<object>`` if even the class's name cannot be had."""
    try:
        name = type(value).__name__
    except Exception:
        name = None
    return f"<{name} object>" if type(name) is str else "<object>"
