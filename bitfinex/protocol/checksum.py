"""The order-book checksum Bitfinex sends in ``[CHAN_ID, "cs", CHECKSUM]`` frames.

The checksum is the signed CRC32 of the top 25 bids and asks, interleaved
(``bid0.key:bid0.amount:ask0.key:ask0.amount:bid1.key:...``), where the key is the price for
aggregated books (P0-P4) and the order id for raw books (R0), ask amounts are negative, and every
number is printed as JavaScript prints it (see :mod:`bitfinex.protocol.jsnum`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from itertools import islice

from bitfinex.protocol.jsnum import Number, js_number_text

CHECKSUM_DEPTH = 25
"""Levels per side that the checksum covers."""


def checksum_text(
    bids: Iterable[tuple[Number, Number]], asks: Iterable[tuple[Number, Number]]
) -> str:
    """Return the text Bitfinex hashes for a book.

    :param bids: ``(key, amount)`` pairs, best (highest price) first; only the first 25 count.
    :param asks: ``(key, amount)`` pairs, best (lowest price) first, amounts negative.
    """
    top_bids: Sequence[tuple[Number, Number]] = list(islice(bids, CHECKSUM_DEPTH))
    top_asks: Sequence[tuple[Number, Number]] = list(islice(asks, CHECKSUM_DEPTH))
    parts: list[str] = []
    for level in range(max(len(top_bids), len(top_asks))):
        if level < len(top_bids):
            parts.append(_text(top_bids[level][0]))
            parts.append(_text(top_bids[level][1]))
        if level < len(top_asks):
            parts.append(_text(top_asks[level][0]))
            parts.append(_text(top_asks[level][1]))
    return ":".join(parts)


def signed_crc32(text: str) -> int:
    """Return the CRC32 of ``text`` (UTF-8) as a signed 32-bit integer, as Bitfinex sends it."""
    crc = zlib.crc32(text.encode())
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def book_checksum(
    bids: Iterable[tuple[Number, Number]], asks: Iterable[tuple[Number, Number]]
) -> int:
    """Return the signed checksum of a book given its sides best-first (see :func:`checksum_text`)."""
    return signed_crc32(checksum_text(bids, asks))


def _text(value: Number) -> str:
    return value if type(value) is str else js_number_text(value)
