"""A maintained order book and its checksum.

Sans-I/O: nothing here reads a socket, a clock or a logger. :class:`~bitfinex.protocol.bookfeed.BookFeed`
drives a book from the frames of its channel; the book itself only applies entries and answers
reads.

Four kinds of book, picked by :meth:`OrderBook.create` from the symbol and precision:

============================  ==========================  =====================================
book                          entry                       bid side / key / deletion
============================  ==========================  =====================================
:class:`TradingBook` (P0-P4)  ``[PRICE, COUNT, AMOUNT]``  AMOUNT > 0; price; COUNT 0
:class:`FundingBook` (P0-P4)  ``[RATE, PERIOD, COUNT,     AMOUNT < 0; (rate, period); COUNT 0
                              AMOUNT]``
:class:`RawTradingBook` (R0)  ``[ORDER_ID, PRICE,         AMOUNT > 0; order id; PRICE 0
                              AMOUNT]``
:class:`RawFundingBook` (R0)  ``[OFFER_ID, PERIOD, RATE,  AMOUNT < 0; offer id; RATE 0
                              AMOUNT]``
============================  ==========================  =====================================

Layout. Each side keeps a dict of entries, the list of their sort keys in best-first order
(maintained with :mod:`bisect`, never re-sorted) and the checksum text (``KEY:AMOUNT``) of each
of its levels the checksum covers, the best 25, and only those: a level's text is made once,
when the level enters the top 25 or changes there, and dropped when it leaves. An update costs
one dict operation, one binary search, at most one insert or delete in each list and, when it
reaches the top 25, the text of one level; a checksum is one join and one CRC over those texts,
and is cached until a change reaches the top 25 levels again.

Depth. A book subscribed with length ``N`` shows at most ``N`` levels per side, as Bitfinex
keeps them: every read (best prices, depth, iteration, :meth:`~OrderBook.snapshot`, ``len``,
the checksum) sees the best ``N``. Bitfinex sends a removal for a level that falls off the end,
but it may send the entering level before or after that removal, so the book holds a few levels
past ``N`` out of sight rather than dropping them at once; should removals never come, the
excess is trimmed at ``N + 25`` levels, so memory stays bounded by the subscribed length.

Numbers. Entries keep the floats and ints the JSON decoder produced; the checksum prints them
with :func:`~bitfinex.protocol.jsnum.js_number_text`, which gives the exchange's own text
(``2e-8``, ``7255``, ``0.000001``) because JavaScript and Python agree on the shortest digits of
a double. A level is printed when it enters the best 25, so an entry whose number cannot be
printed (not finite, not a number) is refused there as unreadable (:class:`BookEntryError`).

Funding books follow the sign convention of the exchange (a negative amount is a bid, a positive
one an offer). Two points about them are not confirmed by any source: aggregated levels are
keyed by ``(rate, period)`` because deletions carry the period, and their checksum is taken as
``RATE:AMOUNT`` (raw: ``OFFER_ID:AMOUNT``) with bids first. The official Node client skips their
verification, and so does :class:`BookFeed` unless told otherwise.
"""

from __future__ import annotations

import abc
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, NamedTuple, Optional, Union, cast
from zlib import crc32

from bitfinex.protocol.checksum import CHECKSUM_DEPTH
from bitfinex.protocol.constants import BOOK_PRECISIONS
from bitfinex.protocol.jsnum import js_number_text

__all__ = [
    "BookEntryError",
    "FundingBook",
    "FundingLevel",
    "Level",
    "OrderBook",
    "PriceLevel",
    "RawFundingBook",
    "RawFundingOffer",
    "RawOrder",
    "RawTradingBook",
    "TradingBook",
]

HIDDEN_LEVELS = CHECKSUM_DEPTH
"""Levels per side a book holds past its length before it trims (see the module docstring)."""

UNSIGNED_MASK = 0xFFFFFFFF
"""A checksum and its unsigned 32-bit form are equal under this mask."""
_SIGN_BIT = 0x80000000
"""Flips an unsigned CRC32 to the signed form Bitfinex sends: ``(crc ^ bit) - bit``."""
_ENTRY_ERRORS = (TypeError, IndexError, KeyError)
_MAX_EXACT_INTEGER = 2**53
"""Ints up to this size print the same in Python and JavaScript."""


class PriceLevel(NamedTuple):
    """A level of an aggregated trading book (P0-P4): ``[PRICE, COUNT, AMOUNT]``."""

    price: float
    """Price of the level."""
    count: int  # type: ignore[assignment]  # Bitfinex's name; shadows tuple.count
    """Number of orders at this price."""
    amount: float
    """Total amount: positive on the bid side, negative on the ask side."""


class FundingLevel(NamedTuple):
    """A level of an aggregated funding book (P0-P4): ``[RATE, PERIOD, COUNT, AMOUNT]``."""

    rate: float
    """Daily rate of the level."""
    period: int
    """Funding period in days."""
    count: int  # type: ignore[assignment]  # Bitfinex's name; shadows tuple.count
    """Number of offers at this rate and period."""
    amount: float
    """Total amount: negative on the bid (borrow) side, positive on the offer side."""

    @property
    def price(self) -> float:
        """The rate, so that every level type has a ``price``."""
        return self.rate


class RawOrder(NamedTuple):
    """An order of a raw trading book (R0): ``[ORDER_ID, PRICE, AMOUNT]``."""

    order_id: int
    """Exchange id of the order."""
    price: float
    """Limit price of the order."""
    amount: float
    """Remaining amount: positive for a bid, negative for an ask."""


class RawFundingOffer(NamedTuple):
    """An offer of a raw funding book (R0): ``[OFFER_ID, PERIOD, RATE, AMOUNT]``."""

    offer_id: int
    """Exchange id of the offer."""
    period: int
    """Funding period in days."""
    rate: float
    """Daily rate of the offer."""
    amount: float
    """Amount: negative for a bid (borrow), positive for an offer (lend)."""

    @property
    def price(self) -> float:
        """The rate, so that every level type has a ``price``."""
        return self.rate


Level = Union[PriceLevel, FundingLevel, RawOrder, RawFundingOffer]
"""Any level a book returns; each has ``price`` and ``amount``."""


class BookEntryError(ValueError):
    """A book entry that cannot be read: too short, or not numbers where numbers belong.

    The book is left exactly as it was before the entry.
    """


def _level_text(key: Any, amount: Any) -> str:
    """``KEY:AMOUNT`` as the checksum prints them (see :func:`~bitfinex.protocol.jsnum.js_number_text`).

    The common case, a float amount and a float (or exactly representable int) key whose
    ``repr`` has neither an exponent nor a trailing ``.0``, is JavaScript's text already, and is
    taken as it is; every other case goes through :func:`~bitfinex.protocol.jsnum.js_number_text`.

    :raises BookEntryError: for a number the checksum cannot print (not finite, or not a
        number: a bool, a fraction...).
    """
    if type(amount) is float and (
        type(key) is float or (type(key) is int and -_MAX_EXACT_INTEGER <= key <= _MAX_EXACT_INTEGER)
    ):
        text = f"{key!r}:{amount!r}"
        if "e" not in text and "n" not in text and ".0:" not in text and text[-2:] != ".0":
            return text
    try:
        return f"{js_number_text(key)}:{js_number_text(amount)}"
    except (ValueError, TypeError) as error:
        raise BookEntryError(f"a book level the checksum cannot print: {key!r}, {amount!r} ({error})") from error


def _joined(bid_texts: list[str], ask_texts: list[str]) -> str:
    """The checksum text from each side's level texts, best first: interleaved, bid first."""
    bid_count = len(bid_texts)
    ask_count = len(ask_texts)
    if bid_count == ask_count:
        parts = bid_texts * 2
        parts[0::2] = bid_texts
        parts[1::2] = ask_texts
    elif bid_count > ask_count:
        parts = ask_texts * 2
        parts[0::2] = bid_texts[:ask_count]
        parts[1::2] = ask_texts
        parts += bid_texts[ask_count:]
    else:
        parts = bid_texts * 2
        parts[0::2] = bid_texts
        parts[1::2] = ask_texts[:bid_count]
        parts += ask_texts[bid_count:]
    return ":".join(parts)


class _Side:
    """One side of a book: entries by sort key, keys best first, and the checksum texts of the
    best ``depth`` levels (``texts[i]`` is the text of ``entries[keys[i]]``, for every ``i``
    below ``min(depth, len(keys))``)."""

    __slots__ = ("entries", "keys", "texts")

    def __init__(self) -> None:
        self.entries: dict[Any, tuple[Any, ...]] = {}
        self.keys: list[Any] = []
        self.texts: list[str] = []

    def clear(self) -> None:
        self.entries.clear()
        self.keys.clear()
        self.texts.clear()


class OrderBook(abc.ABC):
    """A local copy of one Bitfinex book, kept by applying the snapshot and then each update.

    Create one with :meth:`create`. Apply frames through a :class:`BookFeed` (which also verifies
    checksums), or directly with :meth:`apply_snapshot`, :meth:`apply` and :meth:`apply_many`.

    Reads are cheap: :attr:`best_bid` and :attr:`best_ask` are O(1), :meth:`bids`/:meth:`asks`
    O(n), and :meth:`checksum` reuses its last result until a change reaches the levels it covers.
    Iterating a book yields every level from the lowest price to the highest: the bids from
    worst to best, then the asks from best to worst.
    """

    __slots__ = (
        "_asks",
        "_bids",
        "_capacity",
        "_checksum_value",
        "_depth",
        "length",
        "precision",
        "symbol",
        "valid",
    )

    level_type: ClassVar[type[Any]]
    """The :class:`~typing.NamedTuple` class of this book's levels."""
    is_funding: ClassVar[bool]
    """Whether this is a funding-currency book (symbols starting with ``f``)."""
    is_raw: ClassVar[bool]
    """Whether this is a raw (R0) book of single orders rather than price levels."""
    _PRICE_FIELD: ClassVar[int]
    _KEY_FIELD: ClassVar[int]
    _AMOUNT_FIELD: ClassVar[int]

    def __init__(self, symbol: str, precision: str, length: int) -> None:
        """Make an empty book; prefer :meth:`create`, which picks the right class.

        :param symbol: the subscribed symbol, e.g. ``"tBTCUSD"`` or ``"fUSD"``.
        :param precision: ``"P0"`` to ``"P4"``, or ``"R0"`` for a raw book.
        :param length: levels per side the book keeps (orders per side for raw books): the
            subscription's ``len``.
        """
        self.symbol = symbol
        """The subscribed symbol."""
        self.precision = precision
        """``"P0"``-``"P4"`` or ``"R0"``."""
        self.length = length
        """Levels per side the book shows (the subscription's ``len``)."""
        self.valid = False
        """True once a snapshot is applied; False before, and after :meth:`invalidate`."""
        self._bids = _Side()
        self._asks = _Side()
        self._capacity = length + HIDDEN_LEVELS
        self._depth = min(CHECKSUM_DEPTH, length)
        self._checksum_value: Optional[int] = None

    @staticmethod
    def create(symbol: str, precision: str = "P0", length: Union[int, str] = 25) -> OrderBook:
        """Return an empty book of the right kind for a subscription.

        :param symbol: ``t...`` for a trading pair, ``f...`` for a funding currency.
        :param precision: ``"P0"`` (the exchange's default) to ``"P4"``, or ``"R0"`` for raw.
        :param length: the subscription's ``len`` (25 by default, like the exchange), as an int
            or the string the ``subscribed`` event echoes.
        :raises ValueError: if the symbol does not start with ``t`` or ``f``, the precision is
            unknown, or the length is not a positive integer.
        """
        if not isinstance(symbol, str) or symbol[:1] not in ("t", "f"):
            raise ValueError(f"book symbol must start with 't' or 'f', got {symbol!r}")
        if precision not in BOOK_PRECISIONS:
            raise ValueError(f"book precision must be one of {BOOK_PRECISIONS}, got {precision!r}")
        size = _parse_length(length)
        funding = symbol[0] == "f"
        book_class: type[OrderBook]
        if precision == "R0":
            book_class = RawFundingBook if funding else RawTradingBook
        else:
            book_class = FundingBook if funding else TradingBook
        return book_class(symbol, precision, size)

    # -- updates --------------------------------------------------------------------------

    @abc.abstractmethod
    def apply(self, entry: Sequence[Any]) -> None:
        """Apply one update entry, in the book's entry shape (see the module docstring).

        Deletions of levels or orders the book does not hold are ignored.

        :raises BookEntryError: if the entry cannot be read; the book is unchanged.
        """

    def apply_many(self, entries: Iterable[Sequence[Any]]) -> None:
        """Apply a batch of update entries in order (a ``BULK_UPDATES`` frame).

        :raises BookEntryError: at the first entry that cannot be read; the entries before it
            stay applied.
        """
        apply = self.apply
        for entry in entries:
            apply(entry)

    def apply_snapshot(self, entries: Iterable[Sequence[Any]]) -> None:
        """Replace the book's content with a snapshot and mark the book :attr:`valid`.

        :raises BookEntryError: if an entry cannot be read; the book is then left cleared and
            not valid.
        """
        self.clear()
        try:
            self.apply_many(entries)
        except BookEntryError:
            self.clear()
            raise
        self.valid = True

    def clear(self) -> None:
        """Empty the book and mark it not valid (until the next snapshot)."""
        self._bids.clear()
        self._asks.clear()
        self._checksum_value = None
        self.valid = False

    def invalidate(self) -> None:
        """Mark the book not valid (a checksum failed); its content stays readable."""
        self.valid = False

    # -- reads ----------------------------------------------------------------------------

    @property
    def best_bid(self) -> Optional[Level]:
        """The best (highest) bid, or None if the bid side is empty."""
        side = self._bids
        if not side.keys:
            return None
        return cast(Level, self.level_type._make(side.entries[side.keys[0]]))

    @property
    def best_ask(self) -> Optional[Level]:
        """The best (lowest) ask or offer, or None if that side is empty."""
        side = self._asks
        if not side.keys:
            return None
        return cast(Level, self.level_type._make(side.entries[side.keys[0]]))

    @property
    def spread(self) -> Optional[float]:
        """Best ask price minus best bid price, or None if a side is empty."""
        bids = self._bids
        asks = self._asks
        if not bids.keys or not asks.keys:
            return None
        field = self._PRICE_FIELD
        ask_price: float = asks.entries[asks.keys[0]][field]
        bid_price: float = bids.entries[bids.keys[0]][field]
        return ask_price - bid_price

    @property
    def mid(self) -> Optional[float]:
        """The midpoint of the best bid and ask prices, or None if a side is empty."""
        bids = self._bids
        asks = self._asks
        if not bids.keys or not asks.keys:
            return None
        field = self._PRICE_FIELD
        ask_price: float = asks.entries[asks.keys[0]][field]
        bid_price: float = bids.entries[bids.keys[0]][field]
        return (ask_price + bid_price) / 2

    def bids(self, depth: Optional[int] = None) -> list[Level]:
        """The bids, best (highest price) first.

        :param depth: how many levels at most; None (the default) for all the book shows.
        """
        return self._levels(self._bids, depth)

    def asks(self, depth: Optional[int] = None) -> list[Level]:
        """The asks (funding: offers), best (lowest price) first.

        :param depth: how many levels at most; None (the default) for all the book shows.
        """
        return self._levels(self._asks, depth)

    def __iter__(self) -> Iterator[Level]:
        """Yield every level from the lowest price to the highest (bids, then asks)."""
        make = self.level_type._make
        bids = self._bids
        asks = self._asks
        for key in reversed(bids.keys[: self.length]):
            yield make(bids.entries[key])
        for key in asks.keys[: self.length]:
            yield make(asks.entries[key])

    def __len__(self) -> int:
        """Number of levels (raw books: orders) on both sides."""
        length = self.length
        return min(len(self._bids.keys), length) + min(len(self._asks.keys), length)

    @property
    def is_empty(self) -> bool:
        """True if both sides are empty."""
        return not self._bids.keys and not self._asks.keys

    def snapshot(self) -> list[list[Any]]:
        """The book as Bitfinex would send it: entry lists, bids best first, then asks best first."""
        length = self.length
        entries = [list(self._bids.entries[key]) for key in self._bids.keys[:length]]
        entries.extend(list(self._asks.entries[key]) for key in self._asks.keys[:length])
        return entries

    def __repr__(self) -> str:
        """A short description: class, symbol, precision, length, validity, level counts."""
        return (
            f"<{type(self).__name__} {self.symbol} {self.precision} len={self.length} "
            f"valid={self.valid} bids={min(len(self._bids.keys), self.length)} "
            f"asks={min(len(self._asks.keys), self.length)}>"
        )

    # -- checksum -------------------------------------------------------------------------

    def checksum_text(self) -> str:
        """The text Bitfinex hashes for this book: ``bid0.k:bid0.amount:ask0.k:ask0.amount:...``.

        ``k`` is the price for aggregated books and the order id for raw books (funding: the
        rate, or the offer id); up to 25 levels per side, numbers printed as JavaScript prints
        them.
        """
        return _joined(self._bids.texts, self._asks.texts)

    def checksum(self) -> int:
        """The book's checksum as a signed 32-bit integer, as Bitfinex sends it in ``cs`` frames."""
        value = self._checksum_value
        if value is None:
            text = _joined(self._bids.texts, self._asks.texts)
            value = self._checksum_value = (crc32(text.encode()) ^ _SIGN_BIT) - _SIGN_BIT
        return value

    def verify(self, checksum: int) -> bool:
        """Whether ``checksum`` (signed, or its unsigned 32-bit form) matches this book."""
        return (checksum - self.checksum()) & UNSIGNED_MASK == 0

    # -- internals ------------------------------------------------------------------------

    def _levels(self, side: _Side, depth: Optional[int]) -> list[Level]:
        limit = self.length if depth is None else min(depth, self.length)
        make = self.level_type._make
        entries = side.entries
        return [make(entries[key]) for key in side.keys[: max(limit, 0)]]

    def _put(self, side: _Side, key: Any, entry: tuple[Any, ...]) -> None:
        """Insert or replace the entry at ``key`` (its text is made before anything changes, so
        a number the checksum cannot print leaves the book as it was)."""
        entries = side.entries
        keys = side.keys
        index = bisect_left(keys, key)
        if index < self._depth:
            text = _level_text(entry[self._KEY_FIELD], entry[self._AMOUNT_FIELD])
            self._checksum_value = None
            texts = side.texts
            if key in entries:
                texts[index] = text
            else:
                texts.insert(index, text)
                if len(texts) > self._depth:
                    texts.pop()
                keys.insert(index, key)
        elif key not in entries:
            keys.insert(index, key)
        entries[key] = entry
        if len(keys) > self._capacity:
            self._forget(entries.pop(keys.pop()))

    def _remove(self, side: _Side, key: Any) -> bool:
        """Remove the entry at ``key``; False if there is none. The text of a level that
        moves up into the checksum's levels is made before anything changes."""
        entries = side.entries
        if key not in entries:
            return False
        keys = side.keys
        index = bisect_left(keys, key)
        depth = self._depth
        if index < depth:
            texts = side.texts
            if len(keys) > depth:
                rising = entries[keys[depth]]
                texts.append(_level_text(rising[self._KEY_FIELD], rising[self._AMOUNT_FIELD]))
            del texts[index]
            self._checksum_value = None
        del entries[key]
        del keys[index]
        return True

    def _forget(self, entry: tuple[Any, ...]) -> None:  # noqa: B027 (a hook raw books fill in)
        """Hook: an entry was trimmed off the end of a side."""


class TradingBook(OrderBook):
    """Aggregated trading book (P0-P4): levels ``[PRICE, COUNT, AMOUNT]`` keyed by price.

    COUNT > 0 sets a level (AMOUNT > 0 bid, < 0 ask); COUNT 0 deletes it (AMOUNT 1 bid, -1 ask).
    """

    __slots__ = ()
    level_type = PriceLevel
    is_funding = False
    is_raw = False
    _PRICE_FIELD = 0
    _KEY_FIELD = 0
    _AMOUNT_FIELD = 2

    def apply(self, entry: Sequence[Any]) -> None:
        """Apply one ``[PRICE, COUNT, AMOUNT]`` entry.

        :raises BookEntryError: if the entry cannot be read; the book is unchanged.
        """
        try:
            price = entry[0]
            count = entry[1]
            amount = entry[2]
            is_bid = amount > 0
            key = -price if is_bid else +price
            is_set = count > 0
        except _ENTRY_ERRORS as error:
            raise BookEntryError(f"unreadable book entry {entry!r}") from error
        if is_set:
            self._put(self._bids if is_bid else self._asks, key, (price, count, amount))
        elif not self._remove(self._bids if is_bid else self._asks, key):
            self._remove(self._asks if is_bid else self._bids, -key)


class FundingBook(OrderBook):
    """Aggregated funding book (P0-P4): levels ``[RATE, PERIOD, COUNT, AMOUNT]``.

    Levels are keyed by ``(rate, period)``. COUNT > 0 sets a level (AMOUNT < 0 bid, > 0 offer);
    COUNT 0 deletes it (AMOUNT -1 bid, 1 offer). Bids are sorted by rate descending, offers by
    rate ascending, then both by period ascending.
    """

    __slots__ = ()
    level_type = FundingLevel
    is_funding = True
    is_raw = False
    _PRICE_FIELD = 0
    _KEY_FIELD = 0
    _AMOUNT_FIELD = 3

    def apply(self, entry: Sequence[Any]) -> None:
        """Apply one ``[RATE, PERIOD, COUNT, AMOUNT]`` entry.

        :raises BookEntryError: if the entry cannot be read; the book is unchanged.
        """
        try:
            rate = entry[0]
            period = entry[1]
            count = entry[2]
            amount = entry[3]
            is_bid = amount < 0
            key = (-rate if is_bid else +rate, period)
            hash(period)
            is_set = count > 0
        except _ENTRY_ERRORS as error:
            raise BookEntryError(f"unreadable book entry {entry!r}") from error
        if is_set:
            self._put(self._bids if is_bid else self._asks, key, (rate, period, count, amount))
        elif not self._remove(self._bids if is_bid else self._asks, key):
            self._remove(self._asks if is_bid else self._bids, (-key[0], period))


class _RawBook(OrderBook):
    """Shared logic of raw books: orders by id, sorted by price then id."""

    __slots__ = ("_orders",)
    is_raw = True

    def __init__(self, symbol: str, precision: str, length: int) -> None:
        """Make an empty raw book (see :meth:`OrderBook.__init__`)."""
        super().__init__(symbol, precision, length)
        self._orders: dict[Any, tuple[_Side, Any]] = {}

    def clear(self) -> None:
        """Empty the book and mark it not valid (until the next snapshot)."""
        super().clear()
        self._orders.clear()

    def _set_order(self, order_id: Any, is_bid: bool, key: Any, entry: tuple[Any, ...]) -> None:
        side = self._bids if is_bid else self._asks
        orders = self._orders
        previous = orders.get(order_id)
        if previous is not None and (previous[0] is not side or previous[1] != key):
            self._remove(previous[0], previous[1])
        orders[order_id] = (side, key)
        self._put(side, key, entry)

    def _delete_order(self, order_id: Any) -> None:
        previous = self._orders.pop(order_id, None)
        if previous is not None:
            self._remove(previous[0], previous[1])

    def _forget(self, entry: tuple[Any, ...]) -> None:
        self._orders.pop(entry[0], None)


class RawTradingBook(_RawBook):
    """Raw trading book (R0): orders ``[ORDER_ID, PRICE, AMOUNT]`` keyed by order id.

    PRICE 0 deletes the order; otherwise the order is inserted or replaced (AMOUNT > 0 bid,
    < 0 ask). Bids are sorted by price descending, asks ascending, ties by order id ascending.
    """

    __slots__ = ()
    level_type = RawOrder
    is_funding = False
    _PRICE_FIELD = 1
    _KEY_FIELD = 0
    _AMOUNT_FIELD = 2

    def apply(self, entry: Sequence[Any]) -> None:
        """Apply one ``[ORDER_ID, PRICE, AMOUNT]`` entry.

        :raises BookEntryError: if the entry cannot be read; the book is unchanged.
        """
        try:
            order_id = entry[0]
            price = entry[1]
            amount = entry[2]
            is_bid = amount > 0
            key = (-price if is_bid else +price, order_id)
            hash(order_id)
            is_delete = price == 0
        except _ENTRY_ERRORS as error:
            raise BookEntryError(f"unreadable book entry {entry!r}") from error
        if is_delete:
            self._delete_order(order_id)
        else:
            self._set_order(order_id, is_bid, key, (order_id, price, amount))


class RawFundingBook(_RawBook):
    """Raw funding book (R0): offers ``[OFFER_ID, PERIOD, RATE, AMOUNT]`` keyed by offer id.

    RATE 0 deletes the offer; otherwise it is inserted or replaced (AMOUNT < 0 bid, > 0 offer).
    Bids are sorted by rate descending, offers ascending, ties by offer id ascending.
    """

    __slots__ = ()
    level_type = RawFundingOffer
    is_funding = True
    _PRICE_FIELD = 2
    _KEY_FIELD = 0
    _AMOUNT_FIELD = 3

    def apply(self, entry: Sequence[Any]) -> None:
        """Apply one ``[OFFER_ID, PERIOD, RATE, AMOUNT]`` entry.

        :raises BookEntryError: if the entry cannot be read; the book is unchanged.
        """
        try:
            offer_id = entry[0]
            period = entry[1]
            rate = entry[2]
            amount = entry[3]
            is_bid = amount < 0
            key = (-rate if is_bid else +rate, offer_id)
            hash(offer_id)
            is_delete = rate == 0
        except _ENTRY_ERRORS as error:
            raise BookEntryError(f"unreadable book entry {entry!r}") from error
        if is_delete:
            self._delete_order(offer_id)
        else:
            self._set_order(offer_id, is_bid, key, (offer_id, period, rate, amount))


def _parse_length(length: Union[int, str]) -> int:
    """Read a book length given as an int or as the digits the ``subscribed`` event echoes."""
    if isinstance(length, str) and length.strip().isdigit():
        size = int(length)
    elif isinstance(length, int) and not isinstance(length, bool):
        size = length
    else:
        size = 0
    if size < 1:
        raise ValueError(f"book length must be a positive integer, got {length!r}")
    return size
