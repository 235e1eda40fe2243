"""Public market data of the local exchange: ticker, trades and candle shapes, and trades that
move the ticker and every candle timeframe consistently.

Slow tier: every candle timeframe and a moving market over loopback (3 s).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from bitfinex.protocol.constants import CANDLE_TIMEFRAMES
from bitfinex.testing import ManualClock

from helpers import STILL_MARKET

pytestmark = [pytest.mark.slow, STILL_MARKET]

MINUTE = 60_000
START = 1_700_000_000_000 + 5_000  # five seconds into a minute
CLOCK = ManualClock(START)
"""The clock of the exchanges of the tests that mark it (a marker holds one object for every
test it marks)."""


@pytest.fixture(autouse=True)
def rewound_clock() -> ManualClock:
    """:data:`CLOCK`, set back to :data:`START` before each test (before its exchange is made)."""
    CLOCK.now = START
    return CLOCK


def test_trading_and_funding_ticker_shapes(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    _, trading = client.subscribe(channel="ticker", symbol="tBTCUSD")
    assert len(trading) == 10
    bid, bid_size, ask, ask_size, change, relative, last, volume, high, low = trading
    assert 0 < bid < ask and bid_size > 0 and ask_size > 0
    assert low <= last <= high and volume > 0
    assert relative == pytest.approx(change / (last - change), abs=1e-4)
    _, funding = client.subscribe(channel="ticker", symbol="fUSD")
    assert len(funding) == 16
    assert funding[2] in (2, 7, 30, 120) and funding[5] in (2, 7, 30, 120)
    assert funding[13] is None and funding[14] is None and funding[15] > 0


def test_trades_snapshot_is_newest_first(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    _, trades = client.subscribe(channel="trades", symbol="tETHUSD")
    assert len(trades) == 30
    assert all(len(t) == 4 for t in trades)
    assert [t[0] for t in trades] == sorted((t[0] for t in trades), reverse=True)
    assert [t[1] for t in trades] == sorted((t[1] for t in trades), reverse=True)
    _, funding = client.subscribe(channel="trades", symbol="fUSD")
    assert all(len(t) == 5 and t[4] in (2, 7, 30, 120) for t in funding)


@pytest.mark.parametrize("timeframe", [*CANDLE_TIMEFRAMES, "7D"])
@pytest.mark.bitfinex_exchange(clock=CLOCK)
def test_candle_snapshots_for_every_timeframe(bitfinex_exchange, connect, timeframe):
    client = connect(bitfinex_exchange.url)
    _, candles = client.subscribe(channel="candles", key=f"trade:{timeframe}:tBTCUSD")
    assert len(candles) == 240
    stamps = [c[0] for c in candles]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    for _, open_, close, high, low, volume in candles:
        assert low <= min(open_, close) and high >= max(open_, close) and volume > 0
    assert candles[0][0] <= START


def test_funding_candles_need_a_period(bitfinex_exchange, connect):
    client = connect(bitfinex_exchange.url)
    _, candles = client.subscribe(channel="candles", key="trade:1h:fUSD:p30")
    assert candles and all(len(c) == 6 for c in candles)


@pytest.mark.bitfinex_exchange(clock=CLOCK, seed=5)
def test_trades_move_ticker_and_candles_consistently(bitfinex_exchange, connect, rewound_clock):
    clock, exchange = rewound_clock, bitfinex_exchange
    client = connect(exchange.url)
    trades_channel, _ = client.subscribe(channel="trades", symbol="tBTCUSD")
    ticker_channel, ticker = client.subscribe(channel="ticker", symbol="tBTCUSD")
    candle_channels = {}
    initial = {}
    for timeframe in ("1m", "5m", "1h", "1D"):
        candle_channels[timeframe], snapshot = client.subscribe(channel="candles", key=f"trade:{timeframe}:tBTCUSD")
        initial[timeframe] = {c[0]: c for c in snapshot}
    start = client.mark()
    for _ in range(50):  # 20 s, inside one minute: the 24-hour window does not move
        clock.advance(400)
        exchange.tick()
    exchange.simulate_order("tBTCUSD", "1.5")
    client.send({"event": "ping"})
    client.wait_event("pong", start=start)
    executed = [f[2] for f in client.channel_frames(trades_channel, start) if f[1] == "te"]
    tickers = [f[1] for f in client.channel_frames(ticker_channel, start)]
    assert tickers[-1][6] == executed[-1][3], "ticker LAST_PRICE is the last trade price"
    assert tickers[-1][7] == pytest.approx(ticker[7] + sum(abs(t[2]) for t in executed), rel=1e-9)
    assert tickers[-1][8] >= max(t[3] for t in executed) and tickers[-1][9] <= min(t[3] for t in executed)

    for _ in range(120):  # four more minutes
        clock.advance(2_000)
        exchange.tick()
    later = client.mark()
    client.send({"event": "ping"})
    client.wait_event("pong", start=later)
    executed = [f[2] for f in client.channel_frames(trades_channel, start) if f[1] == "te"]
    updated = [f[2] for f in client.channel_frames(trades_channel, start) if f[1] == "tu"]
    assert len(executed) > 20 and sorted(t[0] for t in updated) == sorted(t[0] for t in executed)
    assert [t[0] for t in executed] == sorted(t[0] for t in executed)

    spans = {"1m": MINUTE, "5m": 5 * MINUTE, "1h": 60 * MINUTE, "1D": 1440 * MINUTE}
    for timeframe, chan_id in candle_channels.items():
        latest = {}
        for frame in client.channel_frames(chan_id, start):
            latest[frame[1][0]] = frame[1]
        by_bucket = defaultdict(list)
        for trade in executed:
            by_bucket[trade[1] // spans[timeframe] * spans[timeframe]].append(trade)
        assert set(latest) == set(by_bucket), timeframe
        for mts, bucket in by_bucket.items():
            candle = latest[mts]
            before = initial[timeframe].get(mts)
            prices = [t[3] for t in bucket]
            assert candle[2] == prices[-1], "CLOSE is the last trade"
            assert candle[1] == (before[1] if before else prices[0]), "OPEN"
            assert candle[3] == max(prices + ([before[3]] if before else []))
            assert candle[4] == min(prices + ([before[4]] if before else []))
            volume = sum(abs(t[2]) for t in bucket) + (before[5] if before else 0)
            assert candle[5] == pytest.approx(volume, rel=1e-9)
