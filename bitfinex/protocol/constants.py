"""Numbers and names fixed by the Bitfinex WebSocket API v2.

Everything here comes from the protocol reference (docs.bitfinex.com, the official clients and
real captures); nothing in this module does I/O.
"""

from __future__ import annotations

import enum

PUBLIC_URL = "wss://api-pub.bitfinex.com/ws/2"
"""Endpoint for public channels (20 connections per minute)."""

AUTH_URL = "wss://api.bitfinex.com/ws/2"
"""Endpoint for the authenticated connection (5 connections per 15 seconds)."""

URL_ENVIRONMENT_VARIABLE = "BITFINEX_WS_URL"
"""Environment variable that overrides the endpoint of every connection."""

PROTOCOL_VERSION = 2

MAX_SAFE_INTEGER = 2**53 - 1
"""JavaScript's ``Number.MAX_SAFE_INTEGER`` (9007199254740991): the largest integer a JSON number
carries exactly between Bitfinex (written in JavaScript) and its clients. It bounds nonces, and
the cids of existing orders."""

MAX_CHANNELS_PER_CONNECTION = 25
"""Bitfinex closes a connection's 26th channel with error 10305."""

MAX_OPS_PER_MULTI = 75
"""Largest number of operations in one ``ox_multi`` message."""

MAX_CALCS_PER_MESSAGE = 30
"""Largest number of requests in one ``calc`` message."""

CALCS_PER_SECOND = 8
"""Calculations the server performs per second per client before it errors or disconnects."""

PUBLIC_CONNECTIONS_PER_MINUTE = 20
AUTH_CONNECTIONS_PER_15_SECONDS = 5

AUTH_CHANNEL_ID = 0

HEARTBEAT = "hb"
CHECKSUM = "cs"


class ConfFlag(enum.IntFlag):
    """Connection flags sent with the ``conf`` event (their sum)."""

    DEC_S = 8
    TIME_S = 32
    TIMESTAMP = 32768
    SEQ_ALL = 65536
    OB_CHECKSUM = 131072
    BULK_UPDATES = 536870912


class OrderFlag(enum.IntFlag):
    """Order flags; an order's ``flags`` field is their sum."""

    HIDDEN = 64
    CLOSE = 512
    REDUCE_ONLY = 1024
    POST_ONLY = 4096
    OCO = 16384
    NO_VAR_RATES = 524288


class InfoCode(enum.IntEnum):
    """Codes of ``{"event": "info", "code": ...}`` events."""

    RECONNECT = 20051
    MAINTENANCE_START = 20060
    MAINTENANCE_END = 20061
    GENERIC = 5000


class ErrorCode(enum.IntEnum):
    """Codes of ``{"event": "error", "code": ...}`` events and failed auth."""

    UNKNOWN_EVENT = 10000
    UNKNOWN_PAIR = 10001
    CONCURRENCY = 10008
    UNKNOWN_BOOK_PRECISION = 10011
    UNKNOWN_BOOK_LENGTH = 10012
    REQUEST_PARAMETERS = 10020
    CONF_FAILED = 10050
    AUTH_FAILED = 10100
    AUTH_PAYLOAD = 10111
    AUTH_SIGNATURE = 10112
    AUTH_HMAC = 10113
    AUTH_NONCE = 10114
    UNAUTH = 10200
    SUBSCRIPTION_FAILED = 10300
    ALREADY_SUBSCRIBED = 10301
    UNKNOWN_CHANNEL = 10302
    CHANNEL_LIMIT = 10305
    UNSUBSCRIPTION_FAILED = 10400
    NOT_SUBSCRIBED = 10401
    NOT_READY = 11000


BASE_ORDER_TYPES = (
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP LIMIT",
    "TRAILING STOP",
    "FOK",
    "IOC",
)
ORDER_TYPES = frozenset(BASE_ORDER_TYPES + tuple("EXCHANGE " + t for t in BASE_ORDER_TYPES))
"""Every order type ``on`` accepts; ``EXCHANGE`` types trade the exchange wallet."""

FUNDING_OFFER_TYPES = ("LIMIT", "FRRDELTAVAR", "FRRDELTAFIX")
"""Types of a funding offer (``fon``): a fixed rate, or an offset from the Flash Return Rate that
follows it (VAR) or is fixed when matched (FIX)."""

CANDLE_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1D", "1W", "14D", "1M")
CANDLE_TIMEFRAME_ALIASES = {"7D": "1W"}
"""Old names the original API accepts, mapped to the protocol's."""

BOOK_PRECISIONS = ("P0", "P1", "P2", "P3", "P4", "R0")
BOOK_FREQUENCIES = ("F0", "F1")
BOOK_LENGTHS = ("1", "25", "100", "250")

CALC_PREFIXES = ("margin_base", "margin_sym_", "funding_sym_", "position_", "wallet_", "balance")
"""Accepted ``calc`` request names (exact names or prefixes followed by a symbol)."""

ORDER_INPUTS = ("on", "oc", "oc_multi", "ou")
"""Operations allowed inside ``ox_multi``."""
