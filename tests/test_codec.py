"""The codec's contract: one verdict, and one value, whichever decoder runs.

Every available decoder (the standard library's always, orjson's when installed) runs in this
process through :data:`bitfinex.protocol.codec.DECODERS`; each input must be refused with
``ValueError`` by all of them or accepted by all with equal values. Without orjson the
comparisons are skipped and the standard-library decoder is still held to the contract.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bitfinex.protocol import codec
from bitfinex.protocol.codec import DECODERS, MAX_DEPTH, SHORT_INPUT_DECODERS, SHORT_INPUT_LENGTH
from bitfinex.protocol.orders import meta_fields

NAMES = sorted(DECODERS)
BOTH = len(NAMES) > 1
needs_orjson = pytest.mark.skipif(not BOTH, reason="orjson is not installed: nothing to compare with")

REFUSED = "refused"


def verdict(name: str, data: Any) -> Any:
    """What decoder ``name`` makes of ``data``: its value, or ``REFUSED``; anything raised but
    ``ValueError`` fails the test."""
    try:
        return ("ok", DECODERS[name](data))
    except ValueError:
        return REFUSED


def normalized(value: Any) -> list[Any]:
    """A value as a flat list of tokens, comparable across decoders (and built without
    recursion, for deep documents): ints outside the 64-bit range become the float orjson reads
    them as (the one documented difference); floats keep their sign (``-0.0`` stays ``-0.0``)."""
    tokens: list[Any] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is _Close:
            tokens.append(item.text)
        elif kind is list:
            tokens.append("[")
            stack.append(_Close("]"))
            stack.extend(reversed(item))
        elif kind is dict:
            tokens.append("{")
            stack.append(_Close("}"))
            for key, element in reversed(list(item.items())):
                stack.append(element)
                stack.append(_Key(key))
        elif kind is _Key:
            tokens.append(("key", item.text))
        elif kind is int and not -(2**63) <= item < 2**64:
            tokens.append(("float", float(item).hex()))
        elif kind is float:
            tokens.append(("float", item.hex()))
        else:
            tokens.append((kind.__name__, item))
    return tokens


class _Close:
    def __init__(self, text: str) -> None:
        self.text = text


class _Key(_Close):
    pass


def assert_one_verdict(data: Any) -> Any:
    """Check that every decoder gives the same verdict on ``data``; return it."""
    verdicts = {name: verdict(name, data) for name in NAMES}
    shapes = {name: REFUSED if result == REFUSED else ("ok", normalized(result[1])) for name, result in verdicts.items()}
    assert len(set(map(repr, shapes.values()))) == 1, f"{data[:80]!r}: {shapes}"
    return verdicts[NAMES[0]]


def deep(levels: int, kind: str = "[") -> bytes:
    """A document nested exactly ``levels`` deep: arrays, objects, or both in turn."""
    if kind == "[":
        return b"[" * levels + b"]" * levels
    if kind == "{":
        return b'{"a":' * levels + b"1" + b"}" * levels
    opens = b"".join(b"[" if level % 2 else b'{"a":' for level in range(levels))
    closes = b"".join(b"]" if level % 2 else b"}" for level in reversed(range(levels)))
    return opens + b"0" + closes


# -- the corpus ---------------------------------------------------------------------------

REFUSED_CORPUS = [
    # not JSON in the strict sense
    b"NaN", b"Infinity", b"-Infinity", b"[NaN]", b"[1,Infinity]", b'{"a":-Infinity}', b"nan", b"inf",
    # numbers out of range
    b"1e400", b"-1e400", b"1E400", b"1e+400", b"1e0400", b"1" + b"0" * 400, b"-" + b"9" * 400,
    b"1" + b"0" * 400 + b".5", b"[1e999999999999]", b"1.7976931348623159e308", str(2**1024 - 2**970).encode(),
    b"9" * 309, b"1" * 5000, b"[1e400,2]",
    # encodings
    "[1]".encode("utf-16"), "[1]".encode("utf-16-le"), "[1]".encode("utf-32"), b"\xef\xbb\xbf[1]", b"\xef\xbb\xbf",
    b'"\xff"', b"\xff", b'"\xc0\x80"', b'"\xe0\x80\x80"', b'"\xf0\x80\x80\x80"', b'"\xf4\x90\x80\x80"', b'"\xf8\x88\x80\x80\x80"',
    b'"\xed\xa0\x80"', b'"\xed\xb0\x80"', b'"\xe2\x82"', b'["\xc3"]', b"[1,\xa02]",
    # lone surrogates as escapes
    b'"\\ud800"', b'"\\udc00"', b'"\\uDBFF"', b'"\\ud800\\u0041"', b'"\\ude00\\ud83d"', b'{"\\ud800":1}', b'["x","\\udfff"]',
    b'"\\ud800\\ud800"',
    # syntax
    b"", b" ", b"\t\n\r ", b"[", b"]", b"[1,]", b"[,1]", b"[1 2]", b'{"a"}', b'{"a":}', b'{"a":1,}', b"{1:2}", b"{'a':1}",
    b"01", b"-01", b"1.", b".5", b"-", b"+1", b"1e", b"1e+", b"0x10", b"--1", b"1.5.5", b"True", b"nul", b"nulll", b"tru",
    b"[1]]", b"[1][2]", b"1 2", b'"a', b'"\\x41"', b'"\\u12"', b'"\\u12G4"', b"'a'",
    # control characters and stray bytes
    b"\x00", b"[1]\x00", b"\x00[1]", b'"a\x00"', b'"a\x01"', b'"\t"', b'"\n"', b'"\x1f"', b"\x0c[1]", b"[1]\x0c", b"[1,\x0b2]",
    b"\xc2\xa0[1]", b"[1]\xc2\xa0", "\u2028[1]".encode(),
    # truncated frames
    b'[17082,[7254.5,0,', b'[17081,"te",[1600000114,1', b'[17080,[7254.6,41.3', b'{"event":"info","version":',
    b'[0,"n",[1,"on-req"',
    # nesting beyond the limit
    deep(MAX_DEPTH + 1), deep(MAX_DEPTH + 1, "{"), deep(MAX_DEPTH + 2, "mixed"), deep(1024), deep(1025), deep(2000),
    b"[" * 2000, b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000, b"[17082," + b"[" * 2000 + b"]" * 2001,
    b"[" * 990 + b"1" + b"]" * 990, b"[" * MAX_DEPTH + b"[" + b"]" * MAX_DEPTH,
]

ACCEPTED_CORPUS = [
    b"0", b"-0", b"-0.0", b"0.0", b"0e0", b"-0e-0", b"1E5", b"1e+5", b"1e-5", b"2e-8", b"1e-999999999", b"1e-400",
    b"-1e-999999999", b"0e400", b"0.0e99999", b"4.9e-324", b"2e-324", b"1.7976931348623157e308", b"1.7976931348623158e308",
    b"1" + b"0" * 308, b"1" + b"0" * 308 + b".9", b"0." + b"0" * 400 + b"1", b"0." + b"1" * 5000, b"1" * 5000 + b"e-4990",
    str(2**63 - 1).encode(), str(-(2**63)).encode(), str(2**64 - 1).encode(), str(2**64).encode(), str(-(2**63) - 1).encode(),
    str(2**70).encode(), str(2**1024 - 2**970 - 1).encode(), b"9007199254740993",
    b"true", b"false", b"null", b'""', b'"a"', b"[]", b"{}", b"[[]]", b'{"a":{}}',
    b' [1] ', b"[1]\r\n", b"\t[1]\t", b"\n\n[1]", b"[ 1 , 2 ]", b'{ "a" : 1 }', b"[1]" + b" " * 5000,
    b'{"a":1,"a":2}', b'{"a":1,"b":{"a":3},"a":[2]}',
    b'"\\u0000"', b'"\\/"', b'"\\"\\\\\\b\\f\\n\\r\\t"', b'"\\ud83d\\ude00"', b'"\\uD83D\\uDE00"', b'"\\uffff"', b'"\\u2028"',
    '"é€😀"'.encode(), b'"\xef\xbf\xbf"', b'"\xef\xbf\xbe"', b'"\xf4\x8f\xbf\xbf"', b'"a\x7f"', b'"\\\\ud800"',
    # real frames
    b'[17082,[7254.5,0,1]]', b'[17082,"cs",-957201176]', b'[17081,"te",[1600000114,1000000000000000000,0.27199335,7254.7]]',
    b'[17080,[7254.6,41.31689207,7254.8,68.11893038,-656.4,-0.0139,7254.7,7378.30171733,7472.4,7037]]', b'[204928,[2e-8,0,1],50]',
    b'{"event":"info","version":2,"serverId":"083bd8d4-aca7-4690-a573-eabfc8103de8","platform":{"status":1}}',
    # nesting up to the limit, and brackets that are not nesting
    deep(MAX_DEPTH), deep(MAX_DEPTH, "{"), deep(MAX_DEPTH, "mixed"), deep(MAX_DEPTH - 1), deep(10),
    b'["' + b"[" * 2000 + b'"]', b'["\\"' + b"[" * 2000 + b'"]', b'["\\\\", ' + deep(MAX_DEPTH - 1) + b"]",
    b'{"[[[[":"{{{{' + b"[" * 600 + b'"}', b"[" + b",".join([b"[1.5,2,3]"] * 2000) + b"]",
    b"[" + b",".join([deep(MAX_DEPTH - 1)] * 20) + b"]",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("data", REFUSED_CORPUS, ids=lambda data: repr(data[:30]))
def test_hostile_inputs_are_refused_with_value_error(name, data):
    assert verdict(name, data) == REFUSED


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("data", ACCEPTED_CORPUS, ids=lambda data: repr(data[:30]))
def test_valid_inputs_are_accepted(name, data):
    assert verdict(name, data) != REFUSED


@needs_orjson
@pytest.mark.parametrize("data", REFUSED_CORPUS + ACCEPTED_CORPUS, ids=lambda data: repr(data[:30]))
def test_both_decoders_give_one_verdict_and_equal_values(data):
    assert_one_verdict(data)
    if len(data) < 100_000:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        assert_one_verdict(text)


@pytest.mark.parametrize("name", NAMES)
def test_values_and_types(name):
    decode = DECODERS[name]
    assert decode(b'[17082,[7254.5,0,1]]') == [17082, [7254.5, 0, 1]]
    assert type(decode(b"1")) is int and type(decode(b"1.0")) is float and type(decode(b"1e2")) is float
    assert math.copysign(1.0, decode(b"-0.0")) == -1.0 and decode(b"-0") == 0
    assert decode(str(2**64 - 1).encode()) == 2**64 - 1 and decode(str(-(2**63)).encode()) == -(2**63)
    assert decode(b"1e-999999999") == 0.0 and decode(b"1.7976931348623158e308") == sys.float_info.max
    assert decode(b'{"a":1,"a":2}') == {"a": 2}
    assert decode(b'"\\ud83d\\ude00"') == "\U0001f600"
    assert decode(b'"\\\\ud800"') == "\\ud800"
    wide = decode(str(2**64).encode())
    assert wide == 2**64 and type(wide) is (float if name == "orjson" else int)
    nested = decode(deep(MAX_DEPTH))
    for _ in range(MAX_DEPTH - 1):
        (nested,) = nested
    assert nested == []


@pytest.mark.parametrize("name", NAMES)
def test_input_types(name):
    decode = DECODERS[name]
    assert decode("[1]") == [1] and decode(bytearray(b"[1]")) == [1] and decode(memoryview(b"[1,2]")) == [1, 2]
    assert decode(memoryview(b"x[1]")[1:]) == [1]

    class Text(str):
        pass

    class Data(bytes):
        pass

    for data in (None, 1, 1.5, [b"[1]"], Text("[1]"), Data(b"[1]"), memoryview(b"[1, 2]")[::2], object()):
        with pytest.raises(ValueError):
            decode(data)
    for text in ('"\ud800"', "[\"\udfff\"]", "\ufeff[1]", "[1]\x00"):
        with pytest.raises(ValueError):
            decode(text)


@pytest.mark.parametrize("name", NAMES)
def test_a_memoryview_is_read_as_its_bytes(name):
    import array

    wide = array.array("I")
    wide.frombytes((b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)).ljust(4 * 260, b" "))
    assert len(memoryview(wide)) <= SHORT_INPUT_LENGTH < memoryview(wide).nbytes
    assert verdict(name, memoryview(wide)) == REFUSED
    shallow = array.array("I")
    shallow.frombytes(b"[[1]]   ")
    assert verdict(name, memoryview(shallow)) == ("ok", [[1]])


def test_loads_is_the_best_decoder_available():
    assert codec.loads is DECODERS[codec.DECODER_NAME]
    assert "json" in DECODERS
    assert ("orjson" if "orjson" in DECODERS else "json") == codec.DECODER_NAME
    assert SHORT_INPUT_LENGTH == 2 * MAX_DEPTH + 1 and set(SHORT_INPUT_DECODERS) == set(DECODERS)


# -- depth --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["[", "{", "mixed"])
def test_the_depth_limit_is_exact(name, kind):
    for levels in (MAX_DEPTH - 1, MAX_DEPTH):
        assert verdict(name, deep(levels, kind)) != REFUSED, levels
        assert verdict(name, b" " * 2000 + deep(levels, kind)) != REFUSED, levels
    for levels in (MAX_DEPTH + 1, MAX_DEPTH + 2, 1000, 1024, 1025):
        assert verdict(name, deep(levels, kind)) == REFUSED, levels


@pytest.mark.parametrize("name", NAMES)
def test_huge_deep_documents_get_their_verdict(name):
    assert verdict(name, b"[" * 1_000_000) == REFUSED
    assert verdict(name, b"[" * 300_000 + b"]" * 300_000) == REFUSED
    assert verdict(name, b'["' + b"[" * 1_000_000 + b'"]') != REFUSED


def call_at_depth(depth: int, function: Any) -> Any:
    if depth <= 0:
        return function()
    return call_at_depth(depth - 1, function)


@pytest.mark.parametrize("name", NAMES)
def test_the_verdict_does_not_depend_on_the_callers_stack(name):
    """On Python 3.9-3.11 the standard library's scanner shares the recursion limit with the
    caller's frames; a caller near the limit still gets the verdict (never RecursionError)."""
    documents = [deep(MAX_DEPTH), deep(MAX_DEPTH, "{"), deep(MAX_DEPTH + 1), b"[" * 600, b"[1,2]"]
    expected = [verdict(name, data) for data in documents]
    for margin in (400, 100, 40):
        depth = sys.getrecursionlimit() - margin - len(_stack())
        got = call_at_depth(depth, lambda: [verdict(name, data) for data in documents])
        assert got == expected, margin


def _stack() -> list[Any]:
    import inspect

    return inspect.stack(0)


@pytest.mark.parametrize("name", NAMES)
def test_threads_decode_deep_documents_at_once(name):
    results: list[Any] = []

    def work() -> None:
        results.append([verdict(name, deep(MAX_DEPTH)) != REFUSED for _ in range(20)])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[True] * 20] * 4


# -- hypothesis ---------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | TEXT
)
JSON_VALUES = st.recursive(SCALARS, lambda children: st.lists(children, max_size=6) | st.dictionaries(TEXT, children, max_size=6),
                           max_leaves=40)


def encodings(value: Any) -> list[bytes]:
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return [compact, json.dumps(value).encode(), json.dumps(value, indent=1).encode()]


@pytest.mark.slow  # a property test: hundreds of generated examples
@needs_orjson
@given(JSON_VALUES)
@settings(max_examples=400)
def test_valid_json_decodes_to_its_value_with_every_decoder(value):
    for data in encodings(value):
        result = assert_one_verdict(data)
        assert result != REFUSED
        assert normalized(result[1]) == normalized(json.loads(data))


@pytest.mark.slow  # a property test: hundreds of generated examples
@given(JSON_VALUES)
@settings(max_examples=200)
def test_valid_json_decodes_with_the_standard_library_decoder(value):
    data = json.dumps(value).encode()
    assert normalized(DECODERS["json"](data)) == normalized(json.loads(data))


HOSTILE_BYTES = st.sampled_from(
    [b"[", b"]", b"{", b"}", b'"', b"\\", b"u", b"d800", b"e", b"E", b"-", b"+", b"9" * 320, b"0", b".", b",", b":", b" ",
    b"\x00",
     b"\xff", b"\xc3", b"\xed\xa0\x80", b"NaN", b"Infinity", b"true", b"null", b"\\ud800", b"\\udc00", b"\\ud83d\\ude00",
     b"\xef\xbb\xbf", b"\t", b"\x0c", b"1e400", b"[" * 600, b"]" * 600]
)


@st.composite
def mutated(draw: Any) -> bytes:
    data = bytearray(draw(st.sampled_from(encodings(draw(JSON_VALUES)))))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        if action == "insert":
            data[position:position] = draw(HOSTILE_BYTES)
        elif action == "delete":
            del data[position:position + draw(st.integers(1, 3))]
        elif action == "replace":
            data[position:position + 1] = draw(HOSTILE_BYTES)
        else:
            del data[position:]
    return bytes(data)


@pytest.mark.slow  # a property test: hundreds of generated examples
@needs_orjson
@given(mutated())
@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_mutated_json_gets_one_verdict(data):
    assert_one_verdict(data)


@pytest.mark.slow  # a property test: hundreds of generated examples
@needs_orjson
@given(st.binary(max_size=64) | st.lists(HOSTILE_BYTES, max_size=12).map(b"".join))
@settings(max_examples=1500)
def test_random_bytes_get_one_verdict(data):
    assert_one_verdict(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    assert_one_verdict(text)


DIGITS = "0123456789"


@st.composite
def numbers(draw: Any) -> str:
    """JSON number texts, around the limits: 64-bit ints, 309-digit runs, big exponents."""
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.just("0") | st.integers(1, 2**70).map(str) | st.integers(10**299, 10**330).map(str)
                 | st.sampled_from([str(2**63), str(2**64 - 1), str(2**64), str(2**1024 - 2**970), str(2**1024 - 2**970 - 1)]))
    fraction = draw(st.none() | st.text(DIGITS, min_size=1, max_size=40))
    exponent = draw(st.none() | st.tuples(st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), st.text(DIGITS, min_size=1,
    max_size=4)))
    text = sign + whole
    if fraction is not None:
        text += "." + fraction
    if exponent is not None:
        text += "".join(exponent)
    return text


NUMBERS = numbers()


@pytest.mark.slow  # a property test: hundreds of generated examples
@needs_orjson
@given(NUMBERS)
@settings(max_examples=1500)
def test_numbers_get_one_verdict_and_one_value(text):
    result = assert_one_verdict(text.encode())
    value = float(text)
    if math.isinf(value):
        assert result == REFUSED
    else:
        assert result != REFUSED and float(result[1]) == value


@needs_orjson
@given(st.text(max_size=20))
@settings(max_examples=800)
def test_strings_with_surrogates_get_one_verdict(text):
    assume(text)
    escaped = json.dumps(text).encode()  # lone surrogates become \\udXXX escapes
    assert_one_verdict(escaped)
    assert_one_verdict(escaped.decode())
    assert_one_verdict(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass"))


@pytest.mark.slow  # a property test: hundreds of generated examples
@given(st.binary(max_size=SHORT_INPUT_LENGTH) | mutated().filter(lambda data: len(data) <= SHORT_INPUT_LENGTH))
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_the_short_input_decoders_agree_with_the_full_ones(data):
    for name in NAMES:
        try:
            full: Any = ("ok", normalized(DECODERS[name](data)))
        except ValueError:
            full = REFUSED
        try:
            short: Any = ("ok", normalized(SHORT_INPUT_DECODERS[name](data)))
        except ValueError:
            short = REFUSED
        assert repr(full) == repr(short)


@given(st.integers(1, 40), st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3), st.sampled_from(["[", "{", "mixed"]))
@settings(max_examples=60)
def test_depth_limit_with_noise_around(padding, levels, kind):
    document = b"[" + b'"[[[{{",' * padding + deep(levels, kind) + b',"]]]"' * padding + b"]"
    result = assert_one_verdict(document)
    assert (result == REFUSED) == (levels + 1 > MAX_DEPTH)


@pytest.mark.slow  # a property test: hundreds of generated examples
@given(JSON_VALUES | st.floats(allow_nan=False, allow_infinity=False) | st.integers())
@settings(max_examples=300)
def test_dumps_writes_what_json_dumps_writes_with_the_same_options(value):
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    assert codec.dumps(value) == expected
    assert codec.dumps(value) == expected  # the encoder made once keeps no state between messages
    assert "".join(codec._COMPACT.iterencode(value, False)).encode() == expected  # the path without the C accelerator


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, [1, {"a": math.nan}]])
def test_dumps_refuses_what_json_cannot_carry_and_goes_on_encoding(value):
    with pytest.raises(ValueError):
        codec.dumps(value)
    with pytest.raises(TypeError):
        codec.dumps({"a": [object()]})
    assert codec.dumps([0, "on", None, {"a": "é"}]) == '[0,"on",null,{"a":"é"}]'.encode()


def test_an_order_meta_that_contains_itself_is_refused_naming_meta():
    meta: dict[str, Any] = {"aff_code": "x"}
    meta["self"] = [meta]
    with pytest.raises(ValueError, match="meta"):
        meta_fields(meta)
