"""Numbers as text, exactly as the exchange prints them.

Bitfinex is written in JavaScript: every number in its frames is the text of
``Number.prototype.toString``. That text matters wherever the protocol hashes numbers (the
order-book checksum) and wherever a local exchange must print frames like the real one.

Python's ``repr`` of a float has the same digits as JavaScript's ``toString`` (both print the
shortest text that reads back to the same double), only the layout differs: ``repr(2e-8)`` is
``'2e-08'`` where JavaScript prints ``2e-8``, ``repr(7255.0)`` is ``'7255.0'`` where JavaScript
prints ``7255``, ``repr(1e16)`` is ``'1e+16'`` where JavaScript prints ``10000000000000000``.
:func:`js_number_text` re-lays the shortest digits out by ECMA-262's rules, so a float decoded
from an exchange frame turns back into the exchange's exact text.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Union

Number = Union[int, float, Decimal, str]

_MAX_EXACT_INTEGER = 2**53
"""Past this, JavaScript reads an integer as the nearest double (``2**53 + 1`` prints as
``9007199254740992``), so larger ints are laid out from ``float(value)``."""


def js_number_text(value: Number) -> str:
    """Return ``value`` as JavaScript's ``Number.prototype.toString`` would print it.

    :param value: an ``int``, ``float``, ``Decimal`` or decimal string. Strings, Decimals and
        ints beyond 2**53 are taken as the double nearest to them, as JavaScript would read them.
    :raises ValueError: if the value is not finite (JavaScript prints ``NaN``/``Infinity``, which
        no Bitfinex frame contains).
    :raises TypeError: if the value is not a number.
    """
    if type(value) is float:
        text = repr(value)
        if "e" not in text and "n" not in text:
            if text.endswith(".0"):
                text = text[:-2]
            return "0" if text == "-0" else text
        return _layout(value)
    if type(value) is int:
        if -_MAX_EXACT_INTEGER <= value <= _MAX_EXACT_INTEGER:
            return str(value)
        return _layout(float(value))
    if isinstance(value, bool):
        raise TypeError("js_number_text() takes a number, not a bool")
    if isinstance(value, (int, float, Decimal, str)):
        return js_number_text(float(value))
    raise TypeError(f"js_number_text() takes a number, not {type(value).__name__}")


def _layout(value: float) -> str:
    """Lay out the shortest digits of a finite float by ECMA-262 Number::toString."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)
    exponent += len(digit_tuple) - len(digits)
    k = len(digits)
    n = exponent + k  # value = 0.DIGITS x 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return "-" + body if sign else body
