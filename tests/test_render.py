"""render(): a bounded text of anything, for log lines; never raises, never walks far."""

from __future__ import annotations

import collections
from typing import Any, NamedTuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bitfinex.protocol.render import ELLIPSIS, render


def nest(levels: int, kind: type = list) -> Any:
    """A value ``levels`` deep, built without recursion."""
    value: Any = [] if kind is list else {}
    for _ in range(levels - 1):
        value = [value] if kind is list else {"a": value}
    return value


class Level(NamedTuple):
    price: float
    count: int
    amount: float


class Sub(list):  # keeps list.__repr__
    pass


class Shouting(list):
    def __repr__(self) -> str:
        return "SHOUT"


class RaisingRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class NotAStringRepr:
    def __repr__(self) -> Any:
        return 42


class RecursiveRepr:
    def __repr__(self) -> str:
        return repr(nest(100_000))


class HugeRepr:
    def __repr__(self) -> str:
        return "x" * 1_000_000


class NamelessMeta(type):
    def __getattribute__(cls, name: str) -> Any:
        raise RuntimeError("no attributes")


class Nameless(metaclass=NamelessMeta):
    def __repr__(self) -> str:
        raise RuntimeError("nothing")


class BadLength(list):
    def __len__(self) -> int:
        raise RuntimeError("no length")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | st.binary(max_size=10),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=5)
    | st.tuples(children) | st.tuples(children, children) | st.frozensets(st.integers(), max_size=3),
    max_leaves=30,
)


@pytest.mark.slow  # a property test: hundreds of generated examples
@given(JSONISH)
@settings(max_examples=500)
def test_a_value_that_fits_renders_as_repr(value):
    expected = repr(value)
    assert render(value, limit=len(expected)) == expected
    assert render(value, limit=len(expected) + 50) == expected


@pytest.mark.slow  # a property test: hundreds of generated examples
@given(JSONISH, st.integers(1, 80))
@example([(None,), ("0000'",)], 12)  # a prefix without the quote repr chose for the whole
@example(["a'b\"c" * 3], 6)
@settings(max_examples=500)
def test_a_value_that_does_not_fit_is_cut_with_an_ellipsis(value, limit):
    expected = repr(value)
    text = render(value, limit)
    assert len(text) <= limit
    if len(expected) <= limit:
        assert text == expected
    else:
        assert text == expected[: limit - 1] + ELLIPSIS


@pytest.mark.parametrize("value", [
    [], (), {}, set(), frozenset(), (1,), (1, 2), {1, 2}, frozenset({3}), [1, [2, 3], {"a": (4,)}], {1: "x", (1, 2): [None]},
    Level(1.5, 2, -3.0), Sub([1, 2]), collections.OrderedDict(a=1), collections.Counter("aab"), range(3), "it's \"q\"",
    b"\x00\xff", bytearray(b"ab"), -0.0, float("nan"), float("inf"), 10**150, True, None, Shouting([1]),
])
def test_known_values_render_as_repr(value):
    assert render(value) == repr(value)


def test_cycles_render_as_repr_does():
    cycle: list[Any] = [1]
    cycle.append(cycle)
    mapping: dict[str, Any] = {}
    mapping["self"] = mapping
    assert render(cycle) == repr(cycle) == "[1, [...]]"
    assert render(mapping) == repr(mapping) == "{'self': {...}}"


@pytest.mark.parametrize("levels", [1000, 100_000])
@pytest.mark.parametrize("kind", [list, dict])
def test_deep_nests_render_without_recursion(levels, kind):
    value = nest(levels, kind)
    text = render(value)
    assert len(text) == 200 and text.endswith(ELLIPSIS)
    assert text.startswith("[[[[" if kind is list else "{'a': {'a': ")


class Counted:
    """An element that counts how often it is rendered."""

    seen = 0

    def __repr__(self) -> str:
        Counted.seen += 1
        return "c"


def test_huge_values_are_cut_short():
    values = [
        list(range(1_000_000)), {index: index for index in range(200_000)}, set(range(200_000)), "x" * 10_000_000,
        b"\xff" * 10_000_000, bytearray(10_000_000), memoryview(b"y" * 10_000_000), [nest(50_000)] * 1000,
        10**100_000, (list(range(100_000)),) * 3,
    ]
    for value in values:
        assert len(render(value, 100)) <= 100, type(value)


@pytest.mark.parametrize("container", [list, tuple, set, lambda items: dict(enumerate(items))])
def test_a_huge_container_is_walked_no_further_than_the_limit(container):
    Counted.seen = 0
    render(container([Counted() for _ in range(100_000)]), 100)
    assert 0 < Counted.seen <= 100


def test_bytes_that_are_not_utf8_render_as_escapes():
    text = render(b"[1,\xff\xfe\xc3(]" * 100, 60)
    assert text.startswith("b'[1,\\xff\\xfe\\xc3(][1,") and text[:-1].isascii() and len(text) == 60
    assert render(memoryview(b"ab\xff")) == "memoryview(b'ab\\xff')"
    assert render(bytes(range(256)), 1000) == repr(bytes(range(256)))


def test_big_ints_render_by_size():
    assert render(10**5000) == f"<int of {(10**5000).bit_length()} bits>"
    assert render(2**1024 - 1) == repr(2**1024 - 1)[:199] + ELLIPSIS


@pytest.mark.parametrize("hostile", [RaisingRepr(), NotAStringRepr(), Nameless()])
def test_hostile_objects_never_raise(hostile):
    text = render(hostile)
    assert text.startswith("<") and text.endswith("object>")
    assert render([1, hostile, 2]).startswith("[1, <")


class HostileListMeta(type):
    def __getattribute__(cls, name: str) -> Any:
        raise RuntimeError("no attributes")


class HostileList(list, metaclass=HostileListMeta):
    pass


def test_containers_are_read_with_the_builtin_methods():
    assert render(BadLength([1, 2])) == "[1, 2]"  # its raising __len__ is never called
    assert render([0, HostileList([1]), 2]) == "[0, [1], 2]"  # list.__repr__ would say the same


def test_an_objects_own_repr_is_cut():
    assert render(HugeRepr(), 50) == "x" * 49 + ELLIPSIS
    assert render(RecursiveRepr()) == "<RecursiveRepr object>"
    assert render([Shouting([1])] * 3) == "[SHOUT, SHOUT, SHOUT]"


@pytest.mark.parametrize(("limit", "expected"), [
    (1, ELLIPSIS), (0, ELLIPSIS), (-5, ELLIPSIS), (2, "[" + ELLIPSIS), (9, "[1, [2, " + ELLIPSIS), (20, "[1, [2, 3], 'four']"),
    (1.5, "[1, [2, 3], 'four']"), (None, "[1, [2, 3], 'four']"),
])
def test_limits(limit, expected):
    assert render([1, [2, 3], "four"], limit) == expected


def test_the_default_limit_is_200():
    assert len(render(list(range(1000)))) == 200
    assert len(render("x" * 1000)) == 200
