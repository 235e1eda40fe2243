"""The maintained order book and its feeder, against a naive reference model written here.

The reference keeps each side in a dict, sorts it on every read, prints numbers with its own
JavaScript layout (from ``repr`` digits, by string slicing) and hashes with ``binascii``: it
shares no code with :mod:`bitfinex.protocol.book`, :mod:`~bitfinex.protocol.checksum` or
:mod:`~bitfinex.protocol.jsnum`.
"""

from __future__ import annotations

import binascii
import json
import struct
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitfinex.protocol.book import (
    HIDDEN_LEVELS,
    BookEntryError,
    FundingBook,
    FundingLevel,
    OrderBook,
    PriceLevel,
    RawFundingBook,
    RawFundingOffer,
    RawOrder,
    RawTradingBook,
    TradingBook,
)
from bitfinex.protocol.bookfeed import BookFeed, FeedKind

DATA = Path(__file__).parent / "data"

# -- the reference -----------------------------------------------------------------------------


def reference_js_text(value: Any) -> str:
    """JavaScript's ``String(number)``: shortest digits from ``repr``, laid out by ECMA-262."""
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or "0")
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    digits = significant.rstrip("0")
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{body}e{'+' if power >= 0 else '-'}{abs(power)}"


def reference_checksum_text(bids: list[tuple[Any, Any]], asks: list[tuple[Any, Any]]) -> str:
    parts: list[str] = []
    for index in range(25):
        for side in (bids, asks):
            if index < len(side):
                parts.append(reference_js_text(side[index][0]))
                parts.append(reference_js_text(side[index][1]))
    return ":".join(parts)


def reference_checksum(bids: list[tuple[Any, Any]], asks: list[tuple[Any, Any]]) -> int:
    crc = binascii.crc32(reference_checksum_text(bids, asks).encode())
    (signed,) = struct.unpack("<i", struct.pack("<I", crc))
    return int(signed)


class ReferenceBook:
    """The documented semantics, written the slow and obvious way.

    ``kind`` is ``trading``, ``funding``, ``raw_trading`` or ``raw_funding``. Each side is a dict
    from identity (price / (rate, period) / order id) to entry; a side that grows past
    ``length + 25`` loses its worst entry; reads see the best ``length``.
    """

    def __init__(self, kind: str, length: int) -> None:
        self.kind = kind
        self.length = length
        self.bids: dict[Any, list[Any]] = {}
        self.asks: dict[Any, list[Any]] = {}

    def is_bid(self, entry: list[Any]) -> bool:
        amount = entry[-1]
        return bool(amount < 0) if "funding" in self.kind else bool(amount > 0)

    def identity(self, entry: list[Any]) -> Any:
        return (entry[0], entry[1]) if self.kind == "funding" else entry[0]

    def sort_key(self, entry: list[Any], bid: bool) -> tuple[Any, ...]:
        sign = -1 if bid else 1
        if self.kind == "trading":
            return (sign * entry[0],)
        if self.kind == "funding":
            return (sign * entry[0], entry[1])
        price = entry[1] if self.kind == "raw_trading" else entry[2]
        return (sign * price, entry[0])

    def ordered(self, bid: bool) -> list[list[Any]]:
        side = self.bids if bid else self.asks
        return sorted(side.values(), key=lambda entry: self.sort_key(entry, bid))

    def view(self, bid: bool) -> list[list[Any]]:
        return self.ordered(bid)[: self.length]

    def apply(self, entry: list[Any]) -> None:
        bid = self.is_bid(entry)
        side, other = (self.bids, self.asks) if bid else (self.asks, self.bids)
        identity = self.identity(entry)
        if self.kind in ("trading", "funding"):
            count = entry[1] if self.kind == "trading" else entry[2]
            if count == 0:
                if side.pop(identity, None) is None:
                    other.pop(identity, None)
                return
        else:
            self.bids.pop(identity, None)
            self.asks.pop(identity, None)
            price = entry[1] if self.kind == "raw_trading" else entry[2]
            if price == 0:
                return
        side[identity] = list(entry)
        if len(side) > self.length + 25:
            worst = self.ordered(bid)[-1]
            del side[self.identity(worst)]

    def snapshot(self) -> list[list[Any]]:
        return self.view(True) + self.view(False)

    def pairs(self, bid: bool) -> list[tuple[Any, Any]]:
        return [(entry[0], entry[-1]) for entry in self.view(bid)[:25]]

    def checksum(self) -> int:
        return reference_checksum(self.pairs(True), self.pairs(False))

    def price(self, entry: list[Any]) -> Any:
        return {"trading": entry[0], "funding": entry[0], "raw_trading": entry[1]}.get(
            self.kind, entry[2]
        )


def assert_same(book: OrderBook, reference: ReferenceBook) -> None:
    """Every read of the book agrees with the reference."""
    bids = reference.view(True)
    asks = reference.view(False)
    assert book.checksum_text() == reference_checksum_text(reference.pairs(True), reference.pairs(False))
    assert book.checksum() == reference.checksum()
    assert book.verify(reference.checksum() & 0xFFFFFFFF)
    assert book.snapshot() == bids + asks
    assert [list(level) for level in book.bids()] == bids
    assert [list(level) for level in book.asks(3)] == asks[:3]
    assert [list(level) for level in book] == bids[::-1] + asks
    assert len(book) == len(bids) + len(asks)
    assert book.is_empty == (not bids and not asks)
    assert (list(book.best_bid) if book.best_bid else None) == (bids[0] if bids else None)
    assert (list(book.best_ask) if book.best_ask else None) == (asks[0] if asks else None)
    if bids and asks:
        best_bid, best_ask = reference.price(bids[0]), reference.price(asks[0])
        assert book.spread == best_ask - best_bid
        assert book.mid == (best_ask + best_bid) / 2
    else:
        assert book.spread is None and book.mid is None


# -- strategies --------------------------------------------------------------------------------

PRICE_POOL = [2e-8, 1e-8, 1.1e-7, 1.7e-7, 9.1e-7, 0.000001, 0.0000011, 0.00002505, 0.021013]
PRICE_POOL += [7254.7, 7254.8, 7255, 7255.5, 19203.444049780002, 1e16, 1e21, 0.5, 1, 2, 3]
PRICE_POOL += [round(100 + step * 0.1, 1) for step in range(40)]
PRICE_POOL += [round(200 + step * 0.01, 2) for step in range(80)]
AMOUNTS = st.one_of(
    st.sampled_from([2e-8, 1e-7, 0.5, 1, 3.3, 1000000, 143270.81954564, 86.2067634199999]),
    st.floats(1e-9, 1e7, allow_nan=False),
)
SIGNED_AMOUNTS = st.tuples(AMOUNTS, st.sampled_from([1, -1])).map(lambda pair: pair[0] * pair[1])
LENGTHS = st.sampled_from([1, 3, 25, 100])


def trading_entries() -> tuple[st.SearchStrategy[list[Any]], st.SearchStrategy[list[Any]]]:
    setting = st.tuples(st.sampled_from(PRICE_POOL), st.integers(1, 9), SIGNED_AMOUNTS)
    removal = st.tuples(st.sampled_from(PRICE_POOL), st.just(0), st.sampled_from([1, -1]))
    return setting.map(list), removal.map(list)


def funding_entries() -> tuple[st.SearchStrategy[list[Any]], st.SearchStrategy[list[Any]]]:
    rates = st.sampled_from(PRICE_POOL[:30])
    periods = st.sampled_from([2, 7, 30])
    setting = st.tuples(rates, periods, st.integers(1, 9), SIGNED_AMOUNTS)
    removal = st.tuples(rates, periods, st.just(0), st.sampled_from([1, -1]))
    return setting.map(list), removal.map(list)


def raw_trading_entries() -> tuple[st.SearchStrategy[list[Any]], st.SearchStrategy[list[Any]]]:
    ids = st.integers(34753002900, 34753003050)
    setting = st.tuples(ids, st.sampled_from(PRICE_POOL[:40]), SIGNED_AMOUNTS)
    removal = st.tuples(ids, st.just(0), st.sampled_from([1, -1]))
    return setting.map(list), removal.map(list)


def raw_funding_entries() -> tuple[st.SearchStrategy[list[Any]], st.SearchStrategy[list[Any]]]:
    ids = st.integers(1, 150)
    rates = st.sampled_from(PRICE_POOL[:12])
    setting = st.tuples(ids, st.sampled_from([2, 30]), rates, SIGNED_AMOUNTS)
    removal = st.tuples(ids, st.sampled_from([2, 30]), st.just(0), st.sampled_from([1, -1]))
    return setting.map(list), removal.map(list)


EntryStrategies = Callable[[], tuple[st.SearchStrategy[list[Any]], st.SearchStrategy[list[Any]]]]
KINDS: dict[str, tuple[str, str, EntryStrategies]] = {
    "trading": ("tBTCUSD", "P0", trading_entries),
    "funding": ("fUSD", "P1", funding_entries),
    "raw_trading": ("tBTCUSD", "R0", raw_trading_entries),
    "raw_funding": ("fUSD", "R0", raw_funding_entries),
}


def reference_snapshot(kind: str, entries: list[list[Any]]) -> list[list[Any]]:
    """A consistent snapshot: the reference's content after applying ``entries`` to nothing."""
    reference = ReferenceBook(kind, 10**6)
    for entry in entries:
        reference.apply(entry)
    return reference.snapshot()


def run_stream(kind: str, length: int, seed: list[list[Any]], batches: list[list[list[Any]]], bulk: list[bool]) -> None:
    symbol, precision, _ = KINDS[kind]
    book = OrderBook.create(symbol, precision, length)
    feed = BookFeed(book, verify_funding_checksums=True)
    reference = ReferenceBook(kind, length)
    snapshot = reference_snapshot(kind, seed)
    for entry in snapshot:
        reference.apply(entry)
    assert feed.feed([7, snapshot, 1]).kind is FeedKind.SNAPSHOT
    assert_same(book, reference)
    for batch, as_bulk in zip(batches, bulk):
        for entry in batch:
            reference.apply(entry)
        if as_bulk:
            assert feed.feed([7, batch, 2]).kind is FeedKind.UPDATE
        else:
            for entry in batch:
                assert feed.feed([7, entry]).kind is FeedKind.UPDATE
        assert feed.feed([7, "cs", reference.checksum(), 3]).kind is FeedKind.CHECKSUM_OK
        assert_same(book, reference)


def stream_test(kind: str) -> Callable[..., None]:
    setting, removal = KINDS[kind][2]()
    entry = st.one_of(setting, setting, removal)
    identity = ReferenceBook(kind, 1).identity
    dense = st.lists(setting, min_size=40, max_size=120, unique_by=lambda e: (identity(e), e[-1] > 0))

    @settings(max_examples=60)
    @given(
        length=LENGTHS,
        seed=st.one_of(st.lists(entry, max_size=30), dense),
        batches=st.lists(st.lists(entry, min_size=1, max_size=6), max_size=40),
        bulk=st.lists(st.booleans(), min_size=40, max_size=40),
    )
    def test(
        length: int, seed: list[list[Any]], batches: list[list[list[Any]]], bulk: list[bool]
    ) -> None:
        run_stream(kind, length, seed, batches, bulk)

    test.__doc__ = f"Random {kind} streams (single and bulk frames) match the reference."
    return test


test_trading_streams_match_reference = pytest.mark.slow(stream_test("trading"))
test_funding_streams_match_reference = pytest.mark.slow(stream_test("funding"))
test_raw_trading_streams_match_reference = pytest.mark.slow(stream_test("raw_trading"))
test_raw_funding_streams_match_reference = pytest.mark.slow(stream_test("raw_funding"))


def test_reference_formatter_is_not_naive() -> None:
    cases = {2e-8: "2e-8", 7255.0: "7255", 0.000001: "0.000001", 1e21: "1e+21", 1e16: "1" + "0" * 16}
    assert {value: reference_js_text(value) for value in cases} == cases


# -- creating books ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "precision", "book_class", "level_class"),
    [
        ("tBTCUSD", "P0", TradingBook, PriceLevel),
        ("tTESTBTC:TESTUSD", "P4", TradingBook, PriceLevel),
        ("fUSD", "P2", FundingBook, FundingLevel),
        ("tBTCUSD", "R0", RawTradingBook, RawOrder),
        ("fUSD", "R0", RawFundingBook, RawFundingOffer),
    ],
)
def test_create_picks_the_book_kind(
    symbol: str, precision: str, book_class: type, level_class: type
) -> None:
    book = OrderBook.create(symbol, precision, "100")
    assert type(book) is book_class
    assert book.level_type is level_class
    assert (book.symbol, book.precision, book.length) == (symbol, precision, 100)
    assert book.is_funding == symbol.startswith("f")
    assert book.is_raw == (precision == "R0")
    assert not book.valid and book.is_empty and len(book) == 0
    assert book.best_bid is None and book.best_ask is None and book.spread is None
    assert OrderBook.create(symbol).length == 25


@pytest.mark.parametrize(
    ("symbol", "precision", "length"),
    [("BTCUSD", "P0", 25), ("", "P0", 25), ("tBTCUSD", "P5", 25), ("tBTCUSD", "R1", 25),
     ("tBTCUSD", "P0", 0), ("tBTCUSD", "P0", -1), ("tBTCUSD", "P0", "abc"),
     ("tBTCUSD", "P0", True), ("tBTCUSD", "P0", 2.5), ("tBTCUSD", "P0", "-5")],
)
def test_create_refuses_bad_parameters(symbol: str, precision: str, length: Any) -> None:
    with pytest.raises(ValueError):
        OrderBook.create(symbol, precision, length)


# -- reads ---------------------------------------------------------------------------------------


def load_fixture(name: str) -> list[Any]:
    frame: list[Any] = json.loads(
        (DATA / f"bitfinex-api-node-response-ws2-server-order-book-{name}.json").read_text()
    )
    return frame


def test_aggregated_reads() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot(load_fixture("P0")[1])
    assert book.best_bid == PriceLevel(1921.8, 1, 0.17974513)
    assert book.best_ask == PriceLevel(1921.9, 1, -5.12)
    assert book.best_bid is not None and book.best_bid.count == 1
    assert book.spread == pytest.approx(0.1)
    assert book.mid == pytest.approx(1921.85)
    assert [level.price for level in book.bids(3)] == [1921.8, 1920.1, 1920]
    assert [level.price for level in book.asks(2)] == [1921.9, 1922]
    assert book.bids(0) == [] and len(book.bids(1000)) == 25
    prices = [level.price for level in book]
    assert prices == sorted(prices)
    assert "TradingBook tBTCUSD P0 len=25 valid=True bids=25 asks=25" in repr(book)


def test_funding_levels_and_sign_convention() -> None:
    book = OrderBook.create("fUSD", "P0", 25)
    book.apply_snapshot([
        [0.0002, 2, 1, -100.0], [0.0002, 30, 2, -50.0], [0.00019, 2, 1, -10.0],
        [0.00021, 2, 3, 500.0], [0.00025, 30, 1, 20.0],
    ])
    best_bid, best_ask = book.best_bid, book.best_ask
    assert best_bid == FundingLevel(0.0002, 2, 1, -100.0) and best_bid.price == 0.0002
    assert best_ask == FundingLevel(0.00021, 2, 3, 500.0)
    assert book.spread == pytest.approx(0.00001)
    assert [level[:2] for level in book.bids()] == [(0.0002, 2), (0.0002, 30), (0.00019, 2)]
    book.apply([0.0002, 30, 0, -1])
    assert [level[:2] for level in book.bids()] == [(0.0002, 2), (0.00019, 2)]
    book.apply([0.00021, 2, 0, 1])
    assert book.best_ask == FundingLevel(0.00025, 30, 1, 20.0)
    assert book.checksum_text() == "0.0002:-100:0.00025:20:0.00019:-10"


def test_raw_book_orders_move_and_ties_sort_by_id() -> None:
    book = OrderBook.create("tBTCUSD", "R0", 25)
    book.apply_snapshot(load_fixture("R0")[1])
    assert book.best_bid == RawOrder(2567606289, 1876.5, 1.4305)
    assert book.best_ask == RawOrder(2567594844, 1878.1, -0.42265059)
    assert [order[0] for order in book.bids(3)] == [2567606289, 2567590859, 2567602139]
    book.apply([2567602139, 1877, 2.0])
    assert [order[0] for order in book.bids(2)] == [2567602139, 2567606289]
    book.apply([2567602139, 1879, -2.0])
    assert book.best_bid == RawOrder(2567606289, 1876.5, 1.4305)
    assert [order[0] for order in book.asks(5)] == [
        2567594844, 2567600874, 2567604766, 2567593507, 2567602139
    ]
    book.apply([2567602139, 0, -1])
    assert len(book) == 49
    book.apply([42, 0, 1])
    assert len(book) == 49


def test_raw_funding_book() -> None:
    book = OrderBook.create("fUSD", "R0", 25)
    book.apply_snapshot([[11, 2, 0.0002, -100.0], [10, 30, 0.0002, -5.0], [12, 2, 0.00021, 50.0]])
    assert book.best_bid == RawFundingOffer(10, 30, 0.0002, -5.0)
    assert book.best_bid is not None and book.best_bid.price == 0.0002
    assert book.checksum_text() == "10:-5:12:50:11:-100"
    book.apply([10, 30, 0, -5.0])
    assert book.best_bid == RawFundingOffer(11, 2, 0.0002, -100.0)


def test_snapshot_round_trips_the_fixtures() -> None:
    for name, precision in (("P0", "P0"), ("P1", "P1"), ("R0", "R0")):
        frame = load_fixture(name)
        book = OrderBook.create("tBTCUSD", precision, 25)
        book.apply_snapshot(frame[1])
        assert book.snapshot() == frame[1]


# -- depth and memory --------------------------------------------------------------------------


@pytest.mark.parametrize("removal_first", [True, False])
def test_level_entering_at_the_end_survives_either_message_order(removal_first: bool) -> None:
    """The exchange may send the level entering the window before the removal that makes room."""
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[100 - i, 1, 1.0] for i in range(25)] + [[101, 1, -1.0]])
    messages: list[list[Any]] = [[100, 0, 1], [75, 1, 2.0]]
    for entry in messages if removal_first else messages[::-1]:
        book.apply(entry)
    assert len(book.bids()) == 25
    assert book.bids()[-1] == PriceLevel(75, 1, 2.0)
    assert book.best_bid == PriceLevel(99, 1, 1.0)


@pytest.mark.parametrize("removal_first", [True, False])
def test_better_level_pushes_the_last_out_either_order(removal_first: bool) -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[100 - i, 1, 1.0] for i in range(25)] + [[101, 1, -1.0]])
    messages: list[list[Any]] = [[100.5, 1, 3.0], [76, 0, 1]]
    for entry in messages[::-1] if removal_first else messages:
        book.apply(entry)
    assert [level.price for level in book.bids()] == [100.5] + [100 - i for i in range(24)]


def test_memory_is_bounded_when_removals_never_come() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([])
    for step in range(1000):
        book.apply([1000 + step, 1, 1.0])
        book.apply([5000 + step, 1, -1.0])
        book.apply([3000 + step, 1, 1.0])
    assert len(book) == 50
    assert book.best_bid == PriceLevel(3999, 1, 1.0)
    assert book.bids()[-1].price == 3999 - 24
    assert len(book._bids.keys) == len(book._bids.entries) == 25 + HIDDEN_LEVELS
    raw = OrderBook.create("tBTCUSD", "R0", 1)
    assert isinstance(raw, RawTradingBook)
    for order_id in range(500):
        raw.apply([order_id, 100 + order_id, 1.0])
    assert len(raw) == 1 and raw.best_bid == RawOrder(499, 599, 1.0)
    assert len(raw._orders) == 1 + HIDDEN_LEVELS


def test_checksum_cache_follows_every_change() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[10, 1, 1.0], [11, 1, -1.0]])
    first = book.checksum()
    book.apply([10, 2, 5.0])
    book.checksum_text()
    assert book.checksum() != first
    assert book.checksum() == reference_checksum([(10, 5.0)], [(11, -1.0)])
    book.apply([10, 1, 1.0])
    assert book.checksum() == first


# -- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "precision", "entry"),
    [
        ("tBTCUSD", "P0", [1.0, 1]),
        ("tBTCUSD", "P0", ["1.0", 1, 1.0]),
        ("tBTCUSD", "P0", [1.0, None, 1.0]),
        ("tBTCUSD", "P0", [1.0, 1, "x"]),
        ("tBTCUSD", "P0", {"price": 1}),
        ("tBTCUSD", "P0", None),
        ("fUSD", "P0", [0.0002, [2], 1, -1.0]),
        ("fUSD", "P0", [0.0002, 2, 1]),
        ("tBTCUSD", "R0", [[1], 100.0, 1.0]),
        ("tBTCUSD", "R0", [1, None, 1.0]),
        ("fUSD", "R0", [1, 2, "0.1", 1.0]),
    ],
)
def test_unreadable_entries_leave_the_book_unchanged(symbol: str, precision: str, entry: Any) -> None:
    book = OrderBook.create(symbol, precision, 25)
    good = {"P0": [[1.0, 1, 1.0], [2.0, 1, -1.0]], "R0": [[5, 1.0, 1.0], [6, 2.0, -1.0]]}[precision]
    if symbol.startswith("f"):
        good = [[0.0001, 2, 1, -1.0], [0.0002, 2, 1, 1.0]] if precision == "P0" else [[5, 2, 0.0001, -1.0]]
    book.apply_snapshot(good)
    before = (book.snapshot(), book.checksum())
    with pytest.raises(BookEntryError):
        book.apply(entry)
    assert (book.snapshot(), book.checksum()) == before


def test_malformed_snapshot_leaves_the_book_cleared_and_invalid() -> None:
    book = OrderBook.create("tBTCUSD", "P0", 25)
    book.apply_snapshot([[1.0, 1, 1.0]])
    with pytest.raises(BookEntryError):
        book.apply_snapshot([[1.0, 1, 1.0], [2.0]])
    assert book.is_empty and not book.valid


# -- the feeder ----------------------------------------------------------------------------------


def make_feed(symbol: str = "tBTCUSD", precision: str = "P0", **options: bool) -> BookFeed:
    return BookFeed(OrderBook.create(symbol, precision, 25), **options)


def test_feed_first_data_frame_is_the_snapshot_even_if_shaped_like_bulk() -> None:
    feed = make_feed()
    awaiting_at_start = feed.awaiting_snapshot
    assert awaiting_at_start
    assert feed.feed([5, "hb"]).kind is FeedKind.HEARTBEAT
    assert feed.feed([5, "hb", 17]).kind is FeedKind.HEARTBEAT
    assert feed.feed([5, "cs", 0]).kind is FeedKind.IGNORED
    assert feed.feed([5, [[10, 1, 1.0], [11, 1, -2.0]], 18]).kind is FeedKind.SNAPSHOT
    assert not feed.awaiting_snapshot and feed.book.valid
    assert feed.feed([5, [[10, 2, 3.0], [11, 0, -1]], 19]).kind is FeedKind.UPDATE
    assert feed.book.snapshot() == [[10, 2, 3.0]]
    assert feed.feed([5, [12, 1, -1.0]]).kind is FeedKind.UPDATE
    assert feed.feed([5, []]).kind is FeedKind.UPDATE
    assert feed.book.snapshot() == [[10, 2, 3.0], [12, 1, -1.0]]


def test_feed_empty_snapshot() -> None:
    feed = make_feed()
    assert feed.feed([5, []]).kind is FeedKind.SNAPSHOT
    assert feed.book.valid and feed.book.is_empty
    assert feed.feed([5, "cs", 0]).kind is FeedKind.CHECKSUM_OK


@pytest.mark.parametrize(
    "frame", [[5], [5, "te", [1, 2, 3, 4]], [5, "cs"], [5, "cs", "123"], [5, "cs", 1.5], [5, None], {"event": "x"}]
)
def test_feed_ignores_frames_it_does_not_handle(frame: Any) -> None:
    feed = make_feed()
    feed.feed([5, [[10, 1, 1.0]]])
    result = feed.feed(frame)
    assert result.kind is FeedKind.IGNORED and result.reason and not result.resubscribe_needed
    assert feed.book.valid


def test_feed_flat_first_frame_is_not_a_snapshot() -> None:
    feed = make_feed()
    result = feed.feed([5, [10, 1, 1.0]])
    assert result.kind is FeedKind.MALFORMED and result.resubscribe_needed
    assert not feed.book.valid and feed.book.is_empty


def test_feed_malformed_update_invalidates_until_reset() -> None:
    feed = make_feed()
    feed.feed([5, [[10, 1, 1.0]]])
    result = feed.feed([5, [10, 1]])
    assert result.kind is FeedKind.MALFORMED and result.resubscribe_needed and "10" in result.reason
    assert not feed.book.valid
    assert feed.feed([5, [11, 1, 1.0]]).kind is FeedKind.IGNORED
    assert feed.feed([5, "cs", 1]).kind is FeedKind.IGNORED
    assert feed.feed([5, "hb"]).kind is FeedKind.HEARTBEAT
    feed.reset()
    assert feed.feed([5, [[10, 1, 1.0]]]).kind is FeedKind.SNAPSHOT
    assert feed.book.valid


def test_feed_malformed_snapshot_entry() -> None:
    feed = make_feed()
    result = feed.feed([5, [[10, 1, 1.0], [11, "x", None]]])
    assert result.kind is FeedKind.MALFORMED
    assert not feed.book.valid and feed.book.is_empty
    assert feed.feed([5, [[12, 1, 1.0]]]).kind is FeedKind.IGNORED


def test_funding_checksum_mismatch_is_tolerated_unless_asked() -> None:
    entries = [[0.0002, 2, 1, -100.0], [0.00021, 2, 1, 50.0]]
    lenient = make_feed("fUSD")
    lenient.feed([5, entries])
    good = reference_checksum([(0.0002, -100.0)], [(0.00021, 50.0)])
    assert lenient.feed([5, "cs", good]).kind is FeedKind.CHECKSUM_OK
    result = lenient.feed([5, "cs", good + 1])
    assert result.kind is FeedKind.CHECKSUM_MISMATCH_IGNORED and not result.resubscribe_needed
    assert (result.expected_checksum, result.computed_checksum) == (good + 1, good)
    assert lenient.book.valid
    strict = make_feed("fUSD", verify_funding_checksums=True)
    strict.feed([5, entries])
    assert strict.feed([5, "cs", good + 1]).kind is FeedKind.CHECKSUM_MISMATCH
    assert not strict.book.valid


def test_checksum_frame_accepts_the_unsigned_form() -> None:
    feed = make_feed()
    feed.feed([5, [[7254.7, 3, 3.3], [7254.8, 1, -1.2]]])
    assert feed.feed([5, "cs", 1043014182]).kind is FeedKind.CHECKSUM_OK
    feed = make_feed(precision="R0")
    feed.feed([5, [[34753002978, 1.0, 1.54340371], [34753002980, 2.0, -0.5]]])
    assert feed.feed([5, "cs", 2658557309, 12]).kind is FeedKind.CHECKSUM_OK


def test_corrupted_update_is_detected_and_invalidates_the_book() -> None:
    """The right checksum comes from the uncorrupted stream applied to the reference."""
    frame = load_fixture("P0")
    reference = ReferenceBook("trading", 25)
    for entry in frame[1]:
        reference.apply(entry)
    feed = BookFeed(OrderBook.create("tBTCUSD", "P0", 25))
    assert feed.feed(frame).kind is FeedKind.SNAPSHOT
    assert feed.feed([300, "cs", reference.checksum()]).kind is FeedKind.CHECKSUM_OK

    update = [1921.8, 2, 0.37974513]
    reference.apply(update)
    correct = reference.checksum()
    corrupted = [1921.8, 2, 0.37974514]
    assert feed.feed([300, corrupted]).kind is FeedKind.UPDATE
    result = feed.feed([300, "cs", correct, 41])
    assert result.kind is FeedKind.CHECKSUM_MISMATCH and result.resubscribe_needed
    assert result.expected_checksum == correct
    assert result.computed_checksum == feed.book.checksum() != correct
    assert feed.book.valid is False
    assert feed.feed([300, [1921.7, 1, 1.0]]).kind is FeedKind.IGNORED

    feed.reset()
    assert feed.book.is_empty and not feed.book.valid and feed.awaiting_snapshot
    assert feed.feed(frame).kind is FeedKind.SNAPSHOT
    assert feed.feed([300, update]).kind is FeedKind.UPDATE
    assert feed.feed([300, "cs", correct]).kind is FeedKind.CHECKSUM_OK
    assert feed.book.valid is True


@pytest.mark.parametrize("position", [0, 1, 2])
def test_any_corrupted_number_is_caught(position: int) -> None:
    frame = load_fixture("P0")
    reference = ReferenceBook("trading", 25)
    for entry in frame[1]:
        reference.apply(entry)
    update = [1920.1, 3, 2.5]
    reference.apply(update)
    corrupted: list[Optional[Any]] = list(update)
    corrupted[position] = {0: 1920.2, 1: 0, 2: 2.50000001}[position]
    feed = BookFeed(OrderBook.create("tBTCUSD", "P0", 25))
    feed.feed(frame)
    feed.feed([300, corrupted])
    assert feed.feed([300, "cs", reference.checksum()]).kind is FeedKind.CHECKSUM_MISMATCH
