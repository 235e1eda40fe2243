"""Symbols, candle timeframes and book parameters, normalised and checked.

``"BTCUSD"`` means the trading pair ``"tBTCUSD"``; ``"tBTCUSD"``, ``"fUSD"`` and colon pairs
(``"tTESTBTC:TESTUSD"``) pass through; a bare three-letter currency (``"USD"``) is the funding
symbol ``"fUSD"``, as in the seed library.
"""

from __future__ import annotations

import re

from bitfinex.protocol.constants import (
    BOOK_FREQUENCIES,
    BOOK_LENGTHS,
    BOOK_PRECISIONS,
    CANDLE_TIMEFRAME_ALIASES,
    CANDLE_TIMEFRAMES,
)

_PREFIXED = re.compile(r"[tf][A-Z0-9]+(?::[A-Z0-9]+)?\Z")
_BARE = re.compile(r"[A-Z0-9]+(?::[A-Z0-9]+)?\Z")


def normalize_symbol(symbol: object, name: str = "symbol") -> str:
    """Return the protocol symbol for ``symbol`` (``"btcusd"`` → ``"tBTCUSD"``, ``"USD"`` → ``"fUSD"``).

    :raises TypeError: if ``symbol`` is not a string.
    :raises ValueError: if it is empty or has characters no Bitfinex symbol has.
    """
    if not isinstance(symbol, str):
        raise TypeError(f"{name} must be a str such as 'BTCUSD', not {type(symbol).__name__}")
    text = symbol.strip()
    if _PREFIXED.match(text):
        return text
    upper = text.upper()
    if not _BARE.match(upper) or len(upper) < 3:
        raise ValueError(f"{name} {symbol!r} is not a Bitfinex symbol (e.g. 'BTCUSD', 'tBTCUSD', 'fUSD')")
    return ("f" if len(upper) == 3 else "t") + upper


def trading_symbol(symbol: object, name: str = "symbol") -> str:
    """Return the trading symbol for ``symbol`` (orders trade pairs, never funding currencies).

    :raises ValueError: for a funding symbol such as ``"fUSD"``.
    """
    normalized = normalize_symbol(symbol, name)
    if not normalized.startswith("t"):
        raise ValueError(f"{name} must be a trading pair such as 'BTCUSD', got {symbol!r}")
    return normalized


def normalize_timeframe(timeframe: object) -> str:
    """Return the protocol's candle timeframe (the seed's ``"7D"`` is the protocol's ``"1W"``).

    :raises ValueError: for a timeframe Bitfinex does not have.
    """
    if not isinstance(timeframe, str):
        raise TypeError(f"timeframe must be a str such as '1m', not {type(timeframe).__name__}")
    resolved = CANDLE_TIMEFRAME_ALIASES.get(timeframe, timeframe)
    if resolved not in CANDLE_TIMEFRAMES:
        accepted = ", ".join(CANDLE_TIMEFRAMES + tuple(CANDLE_TIMEFRAME_ALIASES))
        raise ValueError(f"timeframe must be one of {accepted}; got {timeframe!r}")
    return resolved


def candle_key(symbol: str, timeframe: str) -> str:
    """Return the candles channel key, ``trade:TIMEFRAME:SYMBOL``."""
    return f"trade:{timeframe}:{symbol}"


def book_precision(precision: object) -> str:
    """Check a book precision (``P0``-``P4`` aggregated, ``R0`` raw).

    :raises ValueError: for any other value.
    """
    if not isinstance(precision, str):
        raise TypeError(f"precision must be a str such as 'P0', not {type(precision).__name__}")
    upper = precision.upper()
    if upper not in BOOK_PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(BOOK_PRECISIONS)}; got {precision!r}")
    return upper


def book_frequency(frequency: object) -> str:
    """Check a book frequency (``F0`` realtime, ``F1`` every two seconds).

    :raises ValueError: for any other value.
    """
    if not isinstance(frequency, str) or frequency.upper() not in BOOK_FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(BOOK_FREQUENCIES)}; got {frequency!r}")
    return frequency.upper()


def book_length(length: object) -> str:
    """Check a book length (1, 25, 100 or 250 levels per side) and return it as the wire's string.

    :raises ValueError: for any other value.
    """
    if isinstance(length, bool) or not isinstance(length, (int, str)) or str(length) not in BOOK_LENGTHS:
        raise ValueError(f"length must be one of {', '.join(BOOK_LENGTHS)}; got {length!r}")
    return str(length)
