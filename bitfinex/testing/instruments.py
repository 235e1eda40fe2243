"""The symbols the local exchange lists: trading pairs and funding currencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Instrument:
    """One listed symbol and the parameters of its simulated market.

    :param symbol: the Bitfinex symbol, ``tBTCUSD`` (trading pair), ``tTESTBTC:TESTUSD`` (colon
        pair) or ``fUSD`` (funding currency).
    :param start_price: the price (for funding: the daily rate) the simulation starts from and
        reverts to.
    :param min_order_size: the smallest order amount accepted (Bitfinex rejects smaller orders
        with "Invalid order: minimum size for BTC/USD is 0.0002"); for funding, the smallest
        offer when the currency has no USD price (otherwise offers must be worth 150 USD).
    :param typical_size: the usual size of a simulated order.
    :param volatility: relative standard deviation of the fair price per simulation tick.
    :param funding_periods: the periods (days) simulated funding offers use; funding only.
    :param underlying: for a perpetual contract (``tBTCF0:USTF0``), the listed spot pair it is
        priced around and whose book mid price is its mark price (``tBTCUSD``); empty for
        every other symbol.
    """

    symbol: str
    start_price: Decimal
    min_order_size: Decimal
    typical_size: Decimal
    volatility: float = 0.0004
    funding_periods: tuple[int, ...] = field(default=())
    underlying: str = ""

    @property
    def is_funding(self) -> bool:
        """Whether this is a funding currency (``f`` prefix)."""
        return self.symbol.startswith("f")

    @property
    def is_derivative(self) -> bool:
        """Whether this is a perpetual contract (it has an :attr:`underlying`)."""
        return bool(self.underlying)

    @property
    def pair(self) -> str:
        """The symbol without its prefix: ``BTCUSD``, ``TESTBTC:TESTUSD``, ``USD``."""
        return self.symbol[1:]

    @property
    def base(self) -> str:
        """The traded currency: ``BTC`` for ``tBTCUSD``, ``USD`` for ``fUSD``."""
        if self.is_funding:
            return self.pair
        if ":" in self.pair:
            return self.pair.split(":", 1)[0]
        return self.pair[:3]

    @property
    def quote(self) -> str:
        """The currency prices are in: ``USD`` for ``tBTCUSD``; funding: the currency itself."""
        if self.is_funding:
            return self.pair
        if ":" in self.pair:
            return self.pair.split(":", 1)[1]
        return self.pair[3:]

    @property
    def display_pair(self) -> str:
        """The pair as Bitfinex writes it in messages: ``BTC/USD``."""
        return self.base if self.is_funding else f"{self.base}/{self.quote}"

    def echo_fields(self) -> dict[str, str]:
        """The ``pair`` (trading) or ``currency`` (funding) field of a ``subscribed`` event."""
        return {"currency": self.pair} if self.is_funding else {"pair": self.pair}


DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("tBTCUSD", Decimal("30000"), Decimal("0.0002"), Decimal("0.05"), 0.0004),
    Instrument("tETHUSD", Decimal("2000"), Decimal("0.004"), Decimal("0.8"), 0.0005),
    Instrument("tLTCUSD", Decimal("80"), Decimal("0.1"), Decimal("10"), 0.0006),
    Instrument("tETHBTC", Decimal("0.066667"), Decimal("0.004"), Decimal("0.8"), 0.0004),
    Instrument("tTESTBTC:TESTUSD", Decimal("30000"), Decimal("0.0002"), Decimal("0.05"), 0.0004),
    Instrument(
        "fUSD",
        Decimal("0.0002"),
        Decimal("150"),
        Decimal("5000"),
        0.002,
        funding_periods=(2, 7, 30, 120),
    ),
    Instrument(
        "fBTC",
        Decimal("0.00005"),
        Decimal("0.005"),
        Decimal("0.5"),
        0.002,
        funding_periods=(2, 7, 30, 120),
    ),
    Instrument("tBTCF0:USTF0", Decimal("30000"), Decimal("0.0002"), Decimal("0.05"), 0.0004, underlying="tBTCUSD"),
    Instrument("tETHF0:USTF0", Decimal("2000"), Decimal("0.004"), Decimal("0.8"), 0.0005, underlying="tETHUSD"),
)
"""What :class:`~bitfinex.testing.LocalExchange` lists unless told otherwise: five spot pairs, two
funding currencies and two perpetual contracts (``tBTCF0:USTF0``, ``tETHF0:USTF0``: the names,
and ``USTF0`` as their collateral, of Bitfinex's own; docs ws-public-status, rest-public-
derivatives-status)."""


def currencies(instruments: tuple[Instrument, ...]) -> list[str]:
    """Every currency the instruments trade, in listing order, without repeats (perpetual
    contracts' currencies are no wallets' but their collateral's: see :func:`collateral_currencies`)."""
    seen: dict[str, None] = {}
    for instrument in instruments:
        if instrument.is_derivative:
            continue
        seen.setdefault(instrument.base, None)
        seen.setdefault(instrument.quote, None)
    return list(seen)


def collateral_currencies(instruments: tuple[Instrument, ...]) -> list[str]:
    """The currencies perpetual contracts are margined in (``USTF0``), in listing order: Bitfinex
    keeps derivatives collateral in the margin wallet of that currency (live wallet snapshots
    list ``["margin", "USTF0", ...]``, leehillz/bfxqa-ws ``Auth/AuthInfo.js``)."""
    return list(dict.fromkeys(instrument.quote for instrument in instruments if instrument.is_derivative))
