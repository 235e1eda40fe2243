"""Amounts and prices from user input to the decimal strings Bitfinex expects.

The exchange takes amounts and prices as decimal strings. Users pass ``str``, ``int``, ``float``
or ``Decimal``; each becomes plain decimal text with no float artefacts and no exponent:
``0.004`` becomes ``"0.004"`` (not ``"0.0040000000000000001"``), ``1e-8`` becomes
``"0.00000001"``, ``Decimal("1E+3")`` becomes ``"1000"``. A string that is already plain
decimal text is sent as the user wrote it (``"1000.0"`` stays ``"1000.0"``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Union

DecimalLike = Union[str, int, float, Decimal]

_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")


def to_decimal(value: object, name: str) -> Decimal:
    """Read ``value`` as an exact finite ``Decimal``.

    Floats are read through their shortest ``repr`` (``0.004`` is ``Decimal("0.004")``).

    :param name: the argument's name, used in error messages.
    :raises TypeError: if ``value`` is not a ``str``, ``int``, ``float`` or ``Decimal`` (``bool``
        is refused: ``True`` is not an amount).
    :raises ValueError: if it is not a finite decimal number.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise TypeError(
            f"{name} must be a decimal string, int, float or Decimal, "
            f"not {type(value).__name__}"
        )
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def decimal_string(value: object, name: str) -> str:
    """Return ``value`` as plain decimal text for the wire (see the module docstring).

    A ``str`` that is already plain decimal text, an ``int``, and a float whose ``repr`` is
    plain (no exponent) are returned without building a ``Decimal``: the text is the one the
    ``Decimal`` would print.

    :raises TypeError, ValueError: as :func:`to_decimal`.
    """
    if type(value) is str:
        text = value.strip()
        if _PLAIN_DECIMAL.match(text):
            return text
    elif type(value) is int:
        return str(value)
    elif type(value) is float:
        text = repr(value)
        if _PLAIN_DECIMAL.match(text):
            return text
    text = format(to_decimal(value, name), "f")
    return "0" if text in ("-0", "0") else text


def _is_zero(text: str) -> bool:
    """Whether plain decimal text (what :func:`decimal_string` returns) is zero."""
    return not text.strip("-0.")


def positive_decimal_string(value: object, name: str) -> str:
    """Like :func:`decimal_string`, and refuse zero and negative values.

    :raises ValueError: if ``value`` is not greater than zero.
    """
    text = decimal_string(value, name)
    if text.startswith("-") or _is_zero(text):
        raise ValueError(f"{name} must be greater than zero, got {value!r}")
    return text


def nonzero_decimal_string(value: object, name: str) -> str:
    """Like :func:`decimal_string`, and refuse zero (amounts are signed: + buys, - sells).

    :raises ValueError: if ``value`` is zero.
    """
    text = decimal_string(value, name)
    if _is_zero(text):
        raise ValueError(f"{name} must not be zero (positive buys, negative sells)")
    return text


def integer(value: object, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` (ints and digit strings), checked against bounds.

    :raises TypeError: for anything but an int or a digit string (``bool`` included).
    :raises ValueError: for a value out of ``[minimum, maximum]``.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not bool")
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        value = int(value)
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value
