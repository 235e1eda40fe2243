"""``bitfinex-wss stream ticker|trades|book|candles|status SYMBOL [SYMBOL ...]``: print a channel's
frames (``status`` takes keys: ``deriv:tBTCF0:USTF0``, ``liq:global``).

One line per data frame (snapshot or update; heartbeats and events are not shown), prefixed
with the subscription's identifier::

    ticker_tBTCUSD  bid 27000.1 × 1.25  ask 27000.2 × 0.8  last 27000.15  24h +1.23%  vol 1234.5

Trades show each executed trade once (``te``; the ``tu`` that confirms it is not repeated).
With ``--json`` every data frame is one JSON object per line instead, ``{"t": <arrival, Unix
seconds>, "subscription": "ticker_tBTCUSD", "frame": [...]}``, ``tu`` included.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, Callable, NamedTuple, Optional

from bitfinex.cli import runner
from bitfinex.client import WssClient
from bitfinex.protocol.book import Level, OrderBook
from bitfinex.protocol.fields import DERIVATIVE_STATUS_FIELDS, LIQUIDATION_FIELDS

CHANNELS = ("ticker", "trades", "book", "candles", "status")
"""The channels ``stream`` can show."""


class Received(NamedTuple):
    """One message a subscription's callback received."""

    t: float
    """Arrival time, Unix seconds."""
    subscription: str
    """The subscription's identifier (``"ticker_tBTCUSD"``)."""
    message: Any
    """The message, decoded, as the callback got it."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``stream``'s arguments and options to its sub-parser."""
    parser.add_argument("channel", choices=CHANNELS, help="the channel to stream")
    parser.add_argument(
        "symbols",
        nargs="+",
        metavar="SYMBOL",
        help="one or more symbols (BTCUSD, tETHUSD, fUSD, tBTCF0:USTF0, ...); for status, keys "
        "(deriv:tBTCF0:USTF0, liq:global)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of readable lines")
    parser.add_argument("--timeframe", default="1m", help="candles: the timeframe (default 1m)")
    parser.add_argument("--record", metavar="FILE", help="also record every frame received into FILE (see --replay of serve)")
    runner.add_book_arguments(parser)
    runner.add_common_arguments(parser)


def run(arguments: argparse.Namespace) -> int:
    """Stream until told to stop; return the exit status (see :func:`bitfinex.cli.runner.run`)."""
    show = _show_json if arguments.json else _show_readable
    mailbox: runner.Fifo[Received] = runner.Fifo()
    return runner.run(
        arguments, mailbox, lambda client, put: subscribe(client, arguments, put), show, record=arguments.record
    )


class _Tagger:
    """The callback of one subscription: stamps and tags each message, hands it on."""

    def __init__(self, put: Callable[[Received], None]) -> None:
        self.subscription = ""
        self._put = put

    def __call__(self, message: Any) -> None:
        self._put(Received(time.time(), self.subscription, message))


def subscribe(client: WssClient, arguments: argparse.Namespace, put: Callable[[Received], None]) -> None:
    """Subscribe to ``arguments.channel`` for every symbol, each callback handing to ``put``.

    :raises ValueError, TypeError: for a symbol, timeframe, precision or length the client refuses.
    """
    for symbol in arguments.symbols:
        tagger = _Tagger(put)  # tagged before the client starts, so before any message arrives
        if arguments.channel == "ticker":
            tagger.subscription = client.subscribe_to_ticker(symbol, tagger)
        elif arguments.channel == "trades":
            tagger.subscription = client.subscribe_to_trades(symbol, tagger)
        elif arguments.channel == "book":
            tagger.subscription = client.subscribe_to_orderbook(
                symbol, arguments.precision, tagger, length=arguments.length
            )
        elif arguments.channel == "candles":
            tagger.subscription = client.subscribe_to_candles(symbol, arguments.timeframe, tagger)
        else:
            tagger.subscription = client.subscribe_to_status(symbol, tagger)


def _is_data(message: Any) -> bool:
    return isinstance(message, list) and len(message) > 1


def _show_json(received: Received) -> bool:
    if not _is_data(received.message):
        return False
    _write_line(json.dumps({"t": received.t, "subscription": received.subscription, "frame": received.message}))
    return True


def _show_readable(received: Received) -> bool:
    if not _is_data(received.message):
        return False
    try:
        line = describe(received.subscription, received.message)
    except (IndexError, TypeError, ValueError):  # a shape this view does not know: show it as is
        line = json.dumps(received.message[1:])
    if line is None:
        return False
    _write_line(f"{received.subscription}  {line}")
    return True


def _write_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()  # a reader at the other end of a pipe sees each line at once


def describe(subscription: str, frame: Sequence[Any]) -> Optional[str]:
    """Return a readable account of one data frame of ``subscription``, or ``None`` for a
    frame not worth a line (a trade's ``tu`` confirmation)."""
    channel = subscription.split("_", 1)[0]
    body = frame[1]
    if channel == "trades" and isinstance(body, str):
        return _trade(frame[2]) if body in ("te", "fte") else None
    if not isinstance(body, list):
        return json.dumps(frame[1:])
    if channel == "status":
        return _liquidations(body) if subscription.startswith("status_liq:") else _derivative(body)
    snapshot = bool(body) and isinstance(body[0], list)
    if channel == "ticker":
        return _ticker(body)
    if channel == "trades":
        return f"snapshot: {len(body)} trades" + (f", latest {_trade(body[0])}" if body else "")
    if channel == "candles":
        if snapshot:
            return f"snapshot: {len(body)} candles" + (f", latest {_candle(body[0])}" if body else "")
        return _candle(body)
    return _book(subscription, body, snapshot)


def _clock(mts: Any) -> str:
    moment = datetime.fromtimestamp(mts / 1000, tz=timezone.utc)
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _ticker(body: list[Any]) -> str:
    if len(body) >= 16:  # funding: FRR, BID, BID_PERIOD, BID_SIZE, ASK, ASK_PERIOD, ASK_SIZE, CHANGE, CHANGE %, LAST, VOLUME
        bid, bid_size, ask, ask_size, change, last, volume = body[1], body[3], body[4], body[6], body[8], body[9], body[10]
    else:  # trading: BID, BID_SIZE, ASK, ASK_SIZE, CHANGE, CHANGE %, LAST, VOLUME, HIGH, LOW
        bid, bid_size, ask, ask_size, change, last, volume = body[0], body[1], body[2], body[3], body[5], body[6], body[7]
    return f"bid {bid} × {bid_size}  ask {ask} × {ask_size}  last {last}  24h {change * 100:+.2f}%  vol {volume}"


def _trade(trade: list[Any]) -> str:
    trade_id, mts, amount, price = trade[:4]
    side = "buy" if amount > 0 else "sell"
    period = f" for {trade[4]}d" if len(trade) > 4 else ""
    return f"{side} {abs(amount)} @ {price}{period}  {_clock(mts)}  #{trade_id}"


def _candle(candle: list[Any]) -> str:
    mts, open_, close, high, low, volume = candle[:6]
    return f"{_clock(mts)[:5]}  O {open_}  H {high}  L {low}  C {close}  V {volume}"


def _derivative(body: list[Any]) -> str:
    field = {name: body[index] for name, index in DERIVATIVE_STATUS_FIELDS.items()}
    return (
        f"price {field['deriv_price']}  spot {field['spot_price']}  mark {field['mark_price']}  "
        f"funding {field['current_funding']}, next {_clock(field['next_funding_evt_mts'])[:5]} "
        f"accrued {field['next_funding_accrued']}  open interest {field['open_interest']}"
    )


def _liquidations(body: list[Any]) -> str:
    return "; ".join(_liquidation(entry) for entry in body)


def _liquidation(entry: list[Any]) -> str:
    field = {name: entry[index] for name, index in LIQUIDATION_FIELDS.items()}
    outcome = f"taken over at {field['liquidation_price']}" if field["is_match"] else "triggered"
    return f"liquidation #{field['pos_id']} {field['symbol']} {field['amount']} @ {field['base_price']}: {outcome}"


def _book(subscription: str, body: list[Any], snapshot: bool) -> str:
    _, symbol, precision, _, length = subscription.split("_")
    book = OrderBook.create(symbol, precision, length)
    bid_name, ask_name = ("bid", "offer") if book.is_funding else ("bid", "ask")
    if snapshot or not body:
        book.apply_snapshot(body)
        best = "".join(
            f", best {name} {_level(level)}" for name, level in ((bid_name, book.best_bid), (ask_name, book.best_ask)) if level
        )
        return f"snapshot: {len(book.bids())} {bid_name}s, {len(book.asks())} {ask_name}s{best}"
    level = book.level_type(*body)
    side = bid_name if (level.amount < 0 if book.is_funding else level.amount > 0) else ask_name
    if book.is_raw:  # one order: [ORDER_ID, PRICE, AMOUNT] (funding: [OFFER_ID, PERIOD, RATE, AMOUNT])
        return f"{side} #{body[0]} removed" if level.price == 0 else f"{side} {_level(level)}  #{body[0]}"
    return f"{side} {level.price} removed" if level.count == 0 else f"{side} {_level(level)}"


def _level(level: Level) -> str:
    return f"{level.price} × {abs(level.amount)}"
