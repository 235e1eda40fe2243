"""Reconnect backoff and connection-rate limits (sans-I/O)."""

import random

import pytest

from bitfinex.protocol.pacing import Backoff, RateLimiter


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    backoff = Backoff(base=1.0, cap=30.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    ceilings = [min(30.0, 2.0 ** n) for n in range(10)]
    for delay, ceiling in zip(delays, ceilings):
        assert ceiling / 2 <= delay <= ceiling
    assert delays[0] <= 1.0  # the first retry within about a second
    assert max(delays) <= 30.0
    assert len({round(d, 6) for d in delays}) == 10  # jitter: no two equal
    backoff.reset()
    assert backoff.next_delay() <= 1.0 and backoff.attempt == 1


def test_backoff_refuses_nonsense():
    with pytest.raises(ValueError):
        Backoff(base=0)
    with pytest.raises(ValueError):
        Backoff(base=5, cap=1)


def test_rate_limiter_allows_the_limit_per_window_then_says_how_long_to_wait():
    limiter = RateLimiter(limit=20, window=60.0)
    for second in range(20):
        assert limiter.delay(float(second)) == 0.0
        limiter.record(float(second))
    assert limiter.delay(20.0) == pytest.approx(40.0)  # the first slot frees at t=60
    assert limiter.delay(60.0) == 0.0
    limiter.record(60.0)
    assert limiter.delay(60.5) == pytest.approx(0.5)
