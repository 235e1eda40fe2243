"""The ``status`` channels: a perpetual's status (``deriv:SYMBOL``) and the liquidation feed
(``liq:global``), rendered from the :class:`~bitfinex.testing.derivatives.DerivativesDesk`.

- ``deriv:tBTCF0:USTF0``: the snapshot is the contract's status array, then a new one at most
  every :data:`STATUS_INTERVAL_MS` (chosen: the docs give no cadence) whenever a field other
  than MTS changed, ``[CHAN_ID, [MTS, null, DERIV_PRICE, ...]]`` (docs ws-public-status).
- ``liq:global``: no snapshot (chosen: bitfinex-api-py 4 reads the first entry of every frame
  of this channel, so an empty snapshot would break the official client, and no capture of a
  subscription shows one); then one frame per entry, ``[CHAN_ID, [["pos", POS_ID, ...]]]``
  (the docs' example frame holds one entry; one per frame also means a client that, like
  bitfinex-api-py, reads only the first entry of a frame misses none).
"""

from __future__ import annotations

from typing import Any, Optional, Union

from bitfinex.testing.channels import ChannelSpec, DataUpdate, Update
from bitfinex.testing.derivatives import DerivativesDesk

STATUS_INTERVAL_MS = 1000
"""The least time between two status updates of a contract (chosen)."""

LIQUIDATION_FEED = "liq:global"
"""The one liquidation feed Bitfinex documents (docs ws-public-status)."""


class DerivativeStatusChannel:
    """``deriv:SYMBOL``: the contract's status, published when it changes, at most every
    :data:`STATUS_INTERVAL_MS`."""

    def __init__(self, desk: DerivativesDesk, symbol: str, interval: int = STATUS_INTERVAL_MS) -> None:
        self._desk = desk
        self._symbol = symbol
        self._interval = interval
        self._published: Optional[list[Any]] = None
        self._published_at = 0

    def snapshot(self, now: int) -> Any:
        """The status now."""
        status = self._desk.status(self._symbol, now)
        if self._published is None:
            self._published, self._published_at = status, now
        return status

    def updates(self, now: int) -> list[Update]:
        """The status, if its interval has passed and a field other than MTS changed."""
        if self._published is not None and now - self._published_at < self._interval:
            return []
        status = self._desk.status(self._symbol, now)
        if self._published is not None and status[1:] == self._published[1:]:
            return []
        self._published, self._published_at = status, now
        return [DataUpdate(status)]


class LiquidationFeedChannel:
    """``liq:global``: every liquidation entry as it happens, one per frame; no snapshot."""

    def __init__(self, desk: DerivativesDesk) -> None:
        self._desk = desk

    def snapshot(self, now: int) -> Any:
        """Nothing: the feed has no snapshot (see the module docstring)."""
        return None

    def updates(self, now: int) -> list[Update]:
        """The entries made since the last publication."""
        return [DataUpdate([entry]) for entry in self._desk.new_liquidations]


StatusChannel = Union[DerivativeStatusChannel, LiquidationFeedChannel]


def open_status_channel(spec: ChannelSpec, desk: DerivativesDesk) -> StatusChannel:
    """The channel object serving a ``status`` spec (``spec.key``)."""
    if spec.key == LIQUIDATION_FEED:
        return LiquidationFeedChannel(desk)
    return DerivativeStatusChannel(desk, spec.symbol)
