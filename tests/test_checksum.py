"""Order-book checksums: known values, and Node.js as an independent oracle.

Corruption detection and the property tests against a reference model are in ``test_book.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitfinex.protocol.book import OrderBook
from bitfinex.protocol.checksum import book_checksum, checksum_text, signed_crc32

DATA = Path(__file__).parent / "data"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node (Node.js) is not installed")


def fixture_frame(name: str) -> list[Any]:
    frame: list[Any] = json.loads(
        (DATA / f"bitfinex-api-node-response-ws2-server-order-book-{name}.json").read_text()
    )
    return frame


# -- known values ------------------------------------------------------------------------------


def test_documented_aggregated_example() -> None:
    assert signed_crc32("7254.7:3.3:7254.8:-1.2") == 1043014182
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[7254.7, 3, 3.3], [7254.8, 1, -1.2]])
    assert book.checksum_text() == "7254.7:3.3:7254.8:-1.2"
    assert book.checksum() == 1043014182
    assert book.verify(1043014182)


def test_documented_raw_example_signed_and_unsigned() -> None:
    assert signed_crc32("34753002978:1.54340371:34753002980:-0.5") == -1636409987
    book = OrderBook.create("tBTCUSD", "R0", 25)
    book.apply_snapshot([[34753002978, 7000.5, 1.54340371], [34753002980, 7001, -0.5]])
    assert book.checksum_text() == "34753002978:1.54340371:34753002980:-0.5"
    assert book.checksum() == -1636409987
    assert book.verify(-1636409987)
    assert book.verify(2658557309)
    assert not book.verify(2658557308)


def test_numbers_are_printed_as_javascript_prints_them() -> None:
    book = OrderBook.create("tMNABTC", "P0", 25)
    book.apply_snapshot([[2e-8, 2, 45000.0], [1.7e-7, 1, 2941.18], [0.000001, 1, 500], [3e-8, 5, -1e6]])
    assert book.checksum_text() == "0.000001:500:3e-8:-1000000:1.7e-7:2941.18:2e-8:45000"
    assert checksum_text([(2e-8, 45000.0)], [(7255.0, -1.0)]) == "2e-8:45000:7255:-1"


def test_uneven_sides_and_short_books() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[10, 1, 1], [9, 1, 2], [8, 1, 3], [11, 1, -4]])
    assert book.checksum_text() == "10:1:11:-4:9:2:8:3"
    book.apply_snapshot([[11, 1, -4], [12, 1, -5]])
    assert book.checksum_text() == "11:-4:12:-5"
    book.apply_snapshot([])
    assert book.checksum_text() == ""
    assert book.checksum() == 0


def test_only_the_top_25_levels_count() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 100)
    book.apply_snapshot([[1000 - i, 1, 1 + i] for i in range(40)] + [[1001 + i, 1, -1] for i in range(40)])
    before = book.checksum()
    book.apply([1000 - 30, 2, 77])
    assert book.checksum() == before
    book.apply([1000 - 3, 2, 77])
    assert book.checksum() != before
    assert book.checksum_text().count(":") == 2 * 50 - 1


def test_length_below_25_covers_the_shown_levels_only() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 1)
    book.apply_snapshot([[10, 1, 1], [11, 1, -1]])
    book.apply([10.5, 1, 2])  # enters above; the exchange sends the removal of 10 next
    assert book.checksum_text() == "10.5:2:11:-1"
    book.apply([10, 0, 1])
    assert book.checksum_text() == "10.5:2:11:-1"


@pytest.mark.parametrize("name", ["P0", "P1", "R0"])
def test_book_matches_the_checksum_module(name: str) -> None:
    """The book's cached, incremental text equals the straightforward module function."""
    frame = fixture_frame(name)
    book = OrderBook.create("tBTCUSD", "R0" if name == "R0" else "P0", 25)
    book.apply_snapshot(frame[1])
    key = 0
    expected = checksum_text(
        [(level[key], level[-1]) for level in book.bids()],
        [(level[key], level[-1]) for level in book.asks()],
    )
    assert book.checksum_text() == expected
    assert book.checksum() == book_checksum(
        [(level[key], level[-1]) for level in book.bids()],
        [(level[key], level[-1]) for level in book.asks()],
    )


# -- Node.js computes the checksum the way the exchange does --------------------------------

_NODE_CHECKSUM = r"""
const zlib = require('zlib');
function checksum(raw, entries) {
  let bids, asks;
  if (raw) {
    bids = entries.filter((e) => e[2] > 0).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    asks = entries.filter((e) => e[2] < 0).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  } else {
    bids = entries.filter((e) => e[2] > 0).sort((a, b) => b[0] - a[0]);
    asks = entries.filter((e) => e[2] < 0).sort((a, b) => a[0] - b[0]);
  }
  const parts = [];
  for (let i = 0; i < 25; i++) {
    if (bids[i]) parts.push(bids[i][0], bids[i][2]);
    if (asks[i]) parts.push(asks[i][0], asks[i][2]);
  }
  return zlib.crc32(parts.join(':')) | 0;
}
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const request = JSON.parse(line);
  process.stdout.write(JSON.stringify(checksum(request.raw, request.entries)) + '\n');
});
"""


class NodeChecksums:
    """One ``node`` process that checksums books given as JSON: ``{"raw": bool, "entries": [...]}``."""

    def __init__(self) -> None:
        assert NODE is not None
        self.process = subprocess.Popen(
            [NODE, "-e", _NODE_CHECKSUM], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def checksum(self, raw_json_entries: str, *, raw: bool) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f'{{"raw":{json.dumps(raw)},"entries":{raw_json_entries}}}\n')
        self.process.stdin.flush()
        value: int = json.loads(self.process.stdout.readline())
        return value

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def node_checksums() -> Iterator[NodeChecksums]:
    if NODE is None:
        pytest.skip("node (Node.js) is not installed")
    oracle = NodeChecksums()
    yield oracle
    oracle.close()


@needs_node
@pytest.mark.parametrize("name", ["P0", "P1", "R0"])
def test_fixture_books_match_node(node_checksums: NodeChecksums, name: str) -> None:
    text = (DATA / f"bitfinex-api-node-response-ws2-server-order-book-{name}.json").read_text()
    payload_text = text[text.index(",") + 1 : text.rindex("]")]
    book = OrderBook.create("tBTCUSD", "R0" if name == "R0" else "P0", 25)
    book.apply_snapshot(json.loads(payload_text))
    assert book.checksum() == node_checksums.checksum(payload_text, raw=name == "R0")


PRICES = st.one_of(
    st.sampled_from([2e-8, 1e-8, 1.1e-7, 1.7e-7, 9.1e-7, 0.000001, 0.0000011, 0.00002505, 0.021013]),
    st.integers(1, 100_000),
    st.decimals("0.00001", "99999", places=5, allow_nan=False, allow_infinity=False).map(float),
    st.floats(1e-9, 1e9, allow_nan=False),
)
AMOUNTS = st.one_of(
    st.sampled_from([2e-8, 1e-7, 0.5, 1, 1000000, 143270.81954564, 86.2067634199999]),
    st.decimals("0.00000001", "999999", places=8, allow_nan=False, allow_infinity=False).map(float),
    st.floats(1e-9, 1e7, allow_nan=False),
)


@st.composite
def aggregated_snapshots(draw: st.DrawFn) -> list[list[Any]]:
    bids = draw(st.dictionaries(PRICES, st.tuples(st.integers(1, 20), AMOUNTS), max_size=40))
    asks = draw(st.dictionaries(PRICES, st.tuples(st.integers(1, 20), AMOUNTS), max_size=40))
    return [[p, c, a] for p, (c, a) in bids.items()] + [
        [p, c, -a] for p, (c, a) in asks.items() if p not in bids
    ]


@st.composite
def raw_snapshots(draw: st.DrawFn) -> list[list[Any]]:
    ids = draw(st.lists(st.integers(1, 2**50), unique=True, max_size=60))
    price_pool = draw(st.lists(PRICES, min_size=1, max_size=8))
    entries = []
    for order_id in ids:
        price = draw(st.sampled_from(price_pool))
        amount = draw(AMOUNTS) * draw(st.sampled_from([1, -1]))
        entries.append([order_id, price, amount])
    return entries


@pytest.mark.slow  # a property test: many generated cases
@needs_node
@settings(max_examples=120)
@given(entries=aggregated_snapshots())
def test_random_aggregated_books_match_node(
    node_checksums: NodeChecksums, entries: list[list[Any]]
) -> None:
    book = OrderBook.create("tBTCUSD", "P0", 250)
    book.apply_snapshot(entries)
    assert book.checksum() == node_checksums.checksum(json.dumps(entries), raw=False)


@pytest.mark.slow  # a property test: many generated cases
@needs_node
@settings(max_examples=120)
@given(entries=raw_snapshots())
def test_random_raw_books_match_node(
    node_checksums: NodeChecksums, entries: list[list[Any]]
) -> None:
    book = OrderBook.create("tBTCUSD", "R0", 250)
    book.apply_snapshot(entries)
    assert book.checksum() == node_checksums.checksum(json.dumps(entries), raw=True)
