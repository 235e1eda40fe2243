"""``js_number_text`` against known cases and against Node.js itself (``String(Number(s))``).

The exchange prints numbers with JavaScript's ``Number.prototype.toString``; the order-book
checksum hashes that text. These tests prove :func:`js_number_text` gives the same text for the
floats a JSON decoder produces, with Node as the oracle (skipped when ``node`` is not installed).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitfinex.protocol.codec import loads
from bitfinex.protocol.jsnum import js_number_text

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node (Node.js) is not installed")

KNOWN = [
    (2e-8, "2e-8"),
    (-2e-8, "-2e-8"),
    (1.7e-7, "1.7e-7"),
    (1e-7, "1e-7"),
    (9.99e-7, "9.99e-7"),
    (9.999999999999997e-7, "9.999999999999997e-7"),
    (1.0000000000000002e-6, "0.0000010000000000000002"),
    (0.000001, "0.000001"),
    (0.0000011, "0.0000011"),
    (0.00001, "0.00001"),
    (0.00002505, "0.00002505"),
    (0.1, "0.1"),
    (7255.0, "7255"),
    (-7255.0, "-7255"),
    (7254.7, "7254.7"),
    (19203.444049780002, "19203.444049780002"),
    (86.2067634199999, "86.2067634199999"),
    (0.0, "0"),
    (-0.0, "0"),
    (1e15, "1000000000000000"),
    (1e16, "10000000000000000"),
    (1.5e16, "15000000000000000"),
    (1e20, "100000000000000000000"),
    (123456789012345680000.0, "123456789012345680000"),
    (1e21, "1e+21"),
    (1.5e21, "1.5e+21"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (5e-324, "5e-324"),
    (2.2250738585072014e-308, "2.2250738585072014e-308"),
    (0.30000000000000004, "0.30000000000000004"),
    (100, "100"),
    (-3, "-3"),
    (0, "0"),
    (34753002978, "34753002978"),
    (2**53, "9007199254740992"),
    (2**53 + 1, "9007199254740992"),
    (10**21, "1e+21"),
    (10**22 + 1, "1e+22"),
    (Decimal("2E-8"), "2e-8"),
    ("0.000001", "0.000001"),
    ("1e-7", "1e-7"),
]


@pytest.mark.parametrize(("value", "text"), KNOWN, ids=[repr(v) for v, _ in KNOWN])
def test_known_values(value: object, text: str) -> None:
    assert js_number_text(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_refuses_non_finite(value: float) -> None:
    with pytest.raises(ValueError):
        js_number_text(value)


@pytest.mark.parametrize("value", [True, None, [1], b"1"])
def test_refuses_non_numbers(value: object) -> None:
    with pytest.raises(TypeError):
        js_number_text(value)  # type: ignore[arg-type]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_text_reads_back_to_the_same_double(value: float) -> None:
    assert float(js_number_text(value)) == value


# -- Node.js as the oracle ---------------------------------------------------------------------

_NODE_LINES = r"""
const lines = require('fs').readFileSync(0, 'utf8').split('\n');
const out = [];
for (const s of lines) { if (s.length) out.push(String(Number(s))); }
process.stdout.write(out.join('\n') + '\n');
"""

_NODE_SERVER = r"""
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const values = JSON.parse(line);
  process.stdout.write(JSON.stringify(values.map((s) => String(Number(s)))) + '\n');
});
"""


def node_strings(texts: list[str]) -> list[str]:
    """``String(Number(s))`` for each text, from one ``node`` process."""
    assert NODE is not None
    completed = subprocess.run(
        [NODE, "-e", _NODE_LINES],
        input="\n".join(texts) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.splitlines()


class NodeOracle:
    """One ``node`` process answering batches: a JSON list of number texts per line."""

    def __init__(self) -> None:
        assert NODE is not None
        self.process = subprocess.Popen(
            [NODE, "-e", _NODE_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def strings(self, texts: list[str]) -> list[str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(texts) + "\n")
        self.process.stdin.flush()
        answer: list[str] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def node_oracle() -> Iterator[NodeOracle]:
    if NODE is None:
        pytest.skip("node (Node.js) is not installed")
    oracle = NodeOracle()
    yield oracle
    oracle.close()


def differences(values: list[float], node_texts: list[str]) -> list[tuple[float, str, str]]:
    assert len(node_texts) == len(values)
    return [
        (value, js_number_text(value), text)
        for value, text in zip(values, node_texts)
        if js_number_text(value) != text
    ]


@needs_node
@settings(max_examples=150)
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=200))
def test_matches_node_for_random_doubles(node_oracle: NodeOracle, values: list[float]) -> None:
    assert differences(values, node_oracle.strings([repr(v) for v in values])) == []


@needs_node
@settings(max_examples=60)
@given(
    values=st.lists(
        st.builds(
            lambda digits, exponent: float(f"{digits}e{exponent}"),
            st.integers(-(10**17), 10**17),
            st.integers(-30, 25),
        ),
        min_size=1,
        max_size=200,
    )
)
def test_matches_node_for_decimal_looking_doubles(
    node_oracle: NodeOracle, values: list[float]
) -> None:
    """Prices and amounts are short decimals; cover every layout boundary around them."""
    assert differences(values, node_oracle.strings([repr(v) for v in values])) == []


def _random_doubles(count: int, seed: int) -> list[float]:
    """Doubles from uniformly random bit patterns (every exponent, subnormals), finite only."""
    generator = random.Random(seed)
    values: list[float] = []
    while len(values) < count:
        (value,) = struct.unpack("<d", generator.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(value):
            values.append(value)
    return values


@pytest.mark.slow  # a property test: many generated cases
@needs_node
def test_matches_node_for_100k_bit_patterns_and_boundaries() -> None:
    values = _random_doubles(100_000, seed=7)
    for exponent in range(-330, 310):
        for mantissa in (1, 2.5, 9.99, 9.999999999999999):
            value = float(f"{mantissa}e{exponent}")
            if math.isfinite(value) and value != 0:
                values.extend((value, -value, math.nextafter(value, 0), math.nextafter(value, math.inf)))
    texts = node_strings([repr(v) for v in values])
    assert differences(values, texts) == []


@needs_node
def test_matches_node_for_integers() -> None:
    integers = [0, 1, -1, 7255, 34753002978, 2567606289, 10**15, 10**20, 10**21 - 1, 10**21]
    integers += [2**53 + delta for delta in range(-3, 4)] + [-(2**53) - 1, 2**63, 10**25 + 7]
    texts = node_strings([str(i) for i in integers])
    assert [js_number_text(i) for i in integers] == texts


_NODE_EMITTER = r"""
let seed = 12345;
function rnd() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; }
const out = [];
for (let i = 0; i < 20000; i++) {
  const exponent = Math.floor(rnd() * 40) - 20;
  const places = Math.floor(rnd() * 10);
  let x = Math.round(rnd() * Math.pow(10, places)) / Math.pow(10, places) * Math.pow(10, exponent);
  if (rnd() < 0.5) x = -x;
  out.push(x);
}
process.stdout.write(JSON.stringify(out));
"""


@needs_node
def test_exchange_text_survives_json_decoding() -> None:
    """Node prints a frame of numbers as the exchange would; decoding it and printing the
    floats again with js_number_text gives back every token exactly (orjson and json)."""
    assert NODE is not None
    raw = subprocess.run(
        [NODE, "-e", _NODE_EMITTER], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    tokens: list[str] = []
    json.loads(raw, parse_float=tokens.append, parse_int=tokens.append)
    assert any("e-" in token for token in tokens)
    for decoded in (loads(raw), json.loads(raw)):
        assert [js_number_text(value) for value in decoded] == tokens


def test_recorded_exchange_tokens_round_trip() -> None:
    """Every number token in the real capture reads back to its own text."""
    capture = Path(__file__).parent / "data" / "cryptofeed-BITFINEX.ws.11.0.txt"
    tokens: list[str] = []
    for line in capture.read_text().splitlines():
        if line and " <-" not in line:
            json.loads(line.partition(": ")[2], parse_float=tokens.append, parse_int=tokens.append)
    assert len(tokens) > 10_000
    assert {"2e-8", "1.7e-7", "1e-7", "9.1e-7"} <= set(tokens)
    assert [t for t in tokens if js_number_text(float(t)) != t] == []
