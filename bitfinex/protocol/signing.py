"""Authentication: secrets that stay secret, nonces that only go up, HMAC-SHA384 signatures."""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Optional

from bitfinex.protocol.constants import MAX_SAFE_INTEGER


class Secret:
    """An API secret that never shows itself.

    ``repr``, ``str`` and formatting print ``'***'``; the value is only reachable through
    :meth:`reveal`, which the signing code calls. Equality is constant-time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if isinstance(value, str):
            value = value.encode()
        if not isinstance(value, bytes):
            raise TypeError(f"secret must be a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> bytes:
        """Return the secret's bytes (for signing only)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(hashlib.sha256(self._value).digest())

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def sign(secret: Secret, payload: str) -> str:
    """Return the hex HMAC-SHA384 of ``payload`` under ``secret`` (Bitfinex's ``authSig``)."""
    return hmac.new(secret.reveal(), payload.encode(), hashlib.sha384).hexdigest()


def verify(secret: Secret, payload: str, signature: str) -> bool:
    """Tell, in constant time, whether ``signature`` is ``payload`` signed with ``secret``."""
    return hmac.compare_digest(sign(secret, payload), str(signature))


def auth_message(
    api_key: str,
    secret: Secret,
    nonce: int,
    filters: Optional[Iterable[str]] = None,
    dms: Optional[int] = None,
) -> dict[str, Any]:
    """Build the ``auth`` event for ``api_key``, signed over ``"AUTH" + nonce``.

    :param nonce: from :class:`NonceGenerator`; sent as a digit string in both ``authPayload``
        and ``authNonce``.
    :param filters: channel filters (``"trading"``, ``"wallet"``, ...); omitted when ``None``.
    :param dms: ``4`` to have the server cancel every order when this socket closes.
    """
    payload = f"AUTH{nonce}"
    message: dict[str, Any] = {
        "event": "auth",
        "apiKey": api_key,
        "authSig": sign(secret, payload),
        "authPayload": payload,
        "authNonce": str(nonce),
    }
    if filters is not None:
        message["filter"] = list(filters)
    if dms is not None:
        message["dms"] = dms
    return message


class NonceGenerator:
    """Nonces that strictly increase, within a process and across restarts.

    Each nonce is the largest of: the current time in microseconds (what the official clients
    send), the current time in seconds times ``multiplier`` rounded up (what the original library
    sent), and the previous nonce plus one. So switching from either client to this one with the
    same key never fails with "nonce: small", and a restarted process starts above its last run
    as long as the wall clock does not go back.

    :param multiplier: the original library's ``nonce_multiplier``; a multiplier that would push nonces past
        9007199254740991 raises :class:`ValueError`.
    :param wall_ns: the wall clock in nanoseconds since the epoch; injectable for tests.
    """

    def __init__(
        self, multiplier: float = 1.0, wall_ns: Callable[[], int] = time.time_ns
    ) -> None:
        if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)):
            raise TypeError(
                f"nonce_multiplier must be a number, not {type(multiplier).__name__}"
            )
        if not math.isfinite(multiplier) or multiplier <= 0:
            raise ValueError(f"nonce_multiplier must be a positive number, got {multiplier!r}")
        self._multiplier = float(multiplier)
        self._wall_ns = wall_ns
        self._last = 0
        self._lock = threading.Lock()
        self._candidate()  # raises now, not at the first authentication

    def _candidate(self) -> int:
        now_ns = self._wall_ns()
        by_multiplier = math.ceil(now_ns / 1e9 * self._multiplier)
        if by_multiplier > MAX_SAFE_INTEGER:
            raise ValueError(
                f"nonce_multiplier={self._multiplier!r} makes nonces larger than {MAX_SAFE_INTEGER}, "
                "the largest Bitfinex accepts"
            )
        return max(now_ns // 1000, by_multiplier)

    def next(self) -> int:
        """Return a nonce larger than every nonce returned before."""
        with self._lock:
            nonce = max(self._candidate(), self._last + 1)
            if nonce > MAX_SAFE_INTEGER:
                raise ValueError(f"nonce would exceed {MAX_SAFE_INTEGER}")
            self._last = nonce
            return nonce
