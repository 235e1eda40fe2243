"""Symbols, candle timeframes and book parameters, normalised and checked.

Bitfinex writes symbols in upper case after a one-letter prefix: ``t`` for a trading pair
(``tBTCUSD``, ``tTESTBTC:TESTUSD``, ``tBTCF0:USTF0``), ``f`` for a funding currency (``fUSD``).
The original library also took bare symbols, in any case: ``"BTCUSD"`` and ``"btcusd"`` mean
``"tBTCUSD"``, and a bare three-letter currency (``"USD"``) is the funding symbol ``"fUSD"``.
A symbol that cannot be read unambiguously is refused with a :exc:`ValueError` that names the
argument and says what to write, never rewritten into another symbol:

- a prefix followed by anything but upper case (``"tbtcUSD"``, ``"fUSD:p30"``): Bitfinex symbols
  are upper case after the prefix;
- a bare symbol that only makes sense as a prefix and a symbol (``"tbtcusd"``, ``"TBTCUSD"``,
  ``"fusd"``): it could be ``"tBTCUSD"`` or a pair called ``TBTCUSD``, so it is refused with
  that hint rather than turned into ``"tTBTCUSD"``.
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
_LOOKS_PREFIXED = re.compile(r"[tf][A-Z0-9]")
_FUNDING_LENGTH = 3
_PAIR_LENGTH = 6
_EXAMPLES = "e.g. 'BTCUSD', 'tBTCUSD', 'tTESTBTC:TESTUSD', 'fUSD'"


def _bare_symbol(text: str) -> bool:
    """Whether ``text`` (upper case) reads as a bare symbol on its own: a 3-letter currency, a
    6-letter pair, or two currencies joined by a colon."""
    return bool(_BARE.match(text)) and (":" in text or len(text) in (_FUNDING_LENGTH, _PAIR_LENGTH))


def normalize_symbol(symbol: object, name: str = "symbol") -> str:
    """Return the protocol symbol for ``symbol`` (``"btcusd"`` → ``"tBTCUSD"``, ``"USD"`` → ``"fUSD"``).

    :param name: the argument's name, for error messages.
    :raises TypeError: if ``symbol`` is not a string.
    :raises ValueError: if it is empty, has characters no Bitfinex symbol has, or cannot be read
        unambiguously (see the module docstring); the message says what to write instead.
    """
    if not isinstance(symbol, str):
        raise TypeError(f"{name} must be a str such as 'BTCUSD', not {type(symbol).__name__}")
    text = symbol.strip()
    if _PREFIXED.match(text):
        return text
    if _LOOKS_PREFIXED.match(text):
        raise ValueError(
            f"{name} {symbol!r} is not a Bitfinex symbol: after the {text[0]!r} prefix a symbol is upper case "
            f"({_EXAMPLES})"
        )
    upper = text.upper()
    if not _BARE.match(upper) or len(upper) < _FUNDING_LENGTH:
        raise ValueError(f"{name} {symbol!r} is not a Bitfinex symbol ({_EXAMPLES})")
    prefix, rest = upper[0].lower(), upper[1:]
    if prefix in "tf" and _bare_symbol(rest) and not _bare_symbol(upper):
        raise ValueError(
            f"{name} {symbol!r} is ambiguous: write {prefix + rest!r} for that symbol, or the pair in full "
            f"({_EXAMPLES}); Bitfinex symbols are upper case after their prefix"
        )
    return ("f" if len(upper) == _FUNDING_LENGTH else "t") + upper


def trading_symbol(symbol: object, name: str = "symbol") -> str:
    """Return the trading symbol for ``symbol`` (orders trade pairs, never funding currencies).

    :raises ValueError: for a funding symbol such as ``"fUSD"``.
    """
    normalized = normalize_symbol(symbol, name)
    if not normalized.startswith("t"):
        raise ValueError(f"{name} must be a trading pair such as 'BTCUSD', got {symbol!r}")
    return normalized


def is_derivative(symbol: str) -> bool:
    """Whether a trading symbol is a perpetual contract: both currencies end in ``F0``
    (``tBTCF0:USTF0``, ``tETHF0:USTF0``; docs ws-public-status)."""
    base, _, quote = symbol[1:].partition(":")
    return base.endswith("F0") and quote.endswith("F0")


def normalize_timeframe(timeframe: object) -> str:
    """Return the protocol's candle timeframe (the original library's ``"7D"`` is the protocol's ``"1W"``).

    :raises ValueError: for a timeframe Bitfinex does not have.
    """
    if not isinstance(timeframe, str):
        raise TypeError(f"timeframe must be a str such as '1m', not {type(timeframe).__name__}")
    resolved = CANDLE_TIMEFRAME_ALIASES.get(timeframe, timeframe)
    if resolved not in CANDLE_TIMEFRAMES:
        accepted = ", ".join(CANDLE_TIMEFRAMES + tuple(CANDLE_TIMEFRAME_ALIASES))
        raise ValueError(f"timeframe must be one of {accepted}; got {timeframe!r}")
    return resolved


_FUNDING_CANDLES = re.compile(r"(f[A-Z0-9]+):(?:p(\d+)|a(\d+):p(\d+):p(\d+))\Z")
_FUNDING_PERIODS = range(2, 121)


def candle_symbol(symbol: object, name: str = "symbol") -> str:
    """Return what follows the timeframe in a candles key: a trading symbol (``"BTCUSD"`` →
    ``"tBTCUSD"``), or a funding currency with its period, in either form the docs give
    (ws-public-candles): ``"fUSD:p30"`` (30-day funding) or ``"fUSD:a30:p2:p30"`` (aggregated
    over 30 days, periods 2 to 30).

    :raises ValueError: for a funding symbol without a period (``"fUSD"``), periods outside 2 to
        120 days, a range whose start is after its end, or what :func:`normalize_symbol` refuses.
    """
    text = symbol.strip() if isinstance(symbol, str) else symbol
    if isinstance(text, str) and not text.startswith("f"):
        text = normalize_symbol(text, name)
    if isinstance(text, str) and text.startswith("f"):
        found = _FUNDING_CANDLES.match(text)
        if found is None:
            raise ValueError(
                f"{name} {symbol!r}: funding candles need a period, as 'fUSD:p30' (30 days) or 'fUSD:a30:p2:p30' "
                "(aggregated over 30 days, periods 2 to 30)"
            )
        _, period, _, first, last = found.groups()
        periods = [int(period)] if period is not None else [int(first), int(last)]
        if not all(days in _FUNDING_PERIODS for days in periods) or periods != sorted(periods):
            raise ValueError(f"{name} {symbol!r}: funding periods are 2 to 120 days, the range in order")
        return text
    return normalize_symbol(text, name)


STATUS_KEYS = ("deriv", "liq")
"""The kinds of ``status`` channel keys (docs ws-public-status): ``deriv:SYMBOL``, ``liq:global``."""


_LIQUIDATION_FEED = re.compile(r"[a-z]+\Z")


def status_key(key: object) -> str:
    """Check a ``status`` channel key: ``"deriv:tBTCF0:USTF0"`` (the state of a derivative) or
    ``"liq:global"`` (every liquidation). ``"deriv:BTCF0:USTF0"`` (a bare symbol) means
    ``"deriv:tBTCF0:USTF0"``. Which symbols and feeds exist is the exchange's to say: a
    well-formed key it does not know (``"deriv:tNOPE:USTF0"``, ``"liq:local"``) is sent, and its
    refusal reported like any refused subscription.

    :raises TypeError: if ``key`` is not a string.
    :raises ValueError: for a key of another form.
    """
    if not isinstance(key, str):
        raise TypeError(f"key must be a str such as 'deriv:tBTCF0:USTF0' or 'liq:global', not {type(key).__name__}")
    kind, _, rest = key.strip().partition(":")
    if kind == "liq" and _LIQUIDATION_FEED.match(rest):
        return f"liq:{rest}"
    if kind == "deriv" and rest:
        return f"deriv:{trading_symbol(rest, 'key')}"
    raise ValueError(f"key {key!r} is not a status key: 'deriv:SYMBOL' (e.g. 'deriv:tBTCF0:USTF0') or 'liq:global'")


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
