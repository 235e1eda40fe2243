"""Symbols, timeframes, cids, nonces and signatures."""

import hashlib
import hmac
import threading

import pytest

from bitfinex import utils
from bitfinex.protocol import subscriptions as subs
from bitfinex.protocol.constants import MAX_SAFE_INTEGER
from bitfinex.protocol.ids import CidGenerator, cid_to_date
from bitfinex.protocol.signing import NonceGenerator, Secret, auth_message, sign, verify
from bitfinex.protocol.symbols import normalize_symbol, normalize_timeframe


@pytest.mark.parametrize("given, expected", [
    ("BTCUSD", "tBTCUSD"), ("btcusd", "tBTCUSD"), ("tBTCUSD", "tBTCUSD"), ("fUSD", "fUSD"),
    ("USD", "fUSD"), ("tTESTBTC:TESTUSD", "tTESTBTC:TESTUSD"), ("TESTBTC:TESTUSD", "tTESTBTC:TESTUSD"),
])
def test_symbols(given, expected):
    assert normalize_symbol(given) == expected
    assert utils.order_symbol(given) == expected


@pytest.mark.parametrize("bad", ["", "BT", "BTC/USD", "t", "BTC USD"])
def test_bad_symbols(bad):
    with pytest.raises(ValueError, match="symbol"):
        normalize_symbol(bad)


@pytest.mark.parametrize("given, hint", [
    ("tbtcusd", "'tBTCUSD'"), ("TBTCUSD", "'tBTCUSD'"), ("fusd", "'fUSD'"), ("FUSD", "'fUSD'"),
    ("tbtcUSD", "upper case"), ("fUSD:p30", "upper case"), ("tBTCusd", "upper case"),
])
def test_symbols_that_cannot_be_read_unambiguously_are_refused_not_rewritten(given, hint):
    with pytest.raises(ValueError, match="symbol") as refused:
        normalize_symbol(given)
    assert hint in str(refused.value)


@pytest.mark.parametrize("given, expected", [
    ("trxusd", "tTRXUSD"), ("ftmusd", "tFTMUSD"), ("TRXUSD", "tTRXUSD"), ("btc", "fBTC"), ("BtcUsd", "tBTCUSD"),
    ("BTCF0:USTF0", "tBTCF0:USTF0"), ("tBTCF0:USTF0", "tBTCF0:USTF0"),
])
def test_lower_case_bare_symbols_still_mean_what_the_seed_library_meant(given, expected):
    assert normalize_symbol(given) == expected


def test_timeframes_accept_the_seeds_7D_as_1W():
    assert normalize_timeframe("7D") == "1W"
    assert subs.candles("BTCUSD", "7D").request() == {
        "event": "subscribe", "channel": "candles", "key": "trade:1W:tBTCUSD", "subId": "candles_tBTCUSD_1W"}
    with pytest.raises(ValueError, match="timeframe"):
        normalize_timeframe("2m")


def test_subscription_requests_match_the_protocol():
    assert subs.ticker("BTCUSD").request() == {
        "event": "subscribe", "channel": "ticker", "symbol": "tBTCUSD", "subId": "ticker_tBTCUSD"}
    assert subs.book("ETHUSD", "r0", length=100).request() == {
        "event": "subscribe", "channel": "book", "symbol": "tETHUSD", "prec": "R0", "freq": "F0", "len": "100",
        "subId": "book_tETHUSD_R0_F0_100"}
    for bad in (dict(precision="P5"), dict(precision="P0", frequency="F2"), dict(precision="P0", length=50)):
        with pytest.raises(ValueError):
            subs.book("BTCUSD", **bad)


def test_spec_matches_an_echo_without_subid_by_its_fields():
    spec = subs.book("BTCUSD", "P0")
    assert spec.matches({"event": "subscribed", "channel": "book", "symbol": "tBTCUSD", "prec": "P0", "len": "25"})
    assert not spec.matches({"event": "subscribed", "channel": "book", "symbol": "tBTCUSD", "prec": "P1"})
    assert not spec.matches({"event": "subscribed", "channel": "book", "subId": "other"})


def test_cids_are_unique_and_increasing_even_within_one_millisecond():
    generator = CidGenerator(wall_ms=lambda: 1_700_000_000_000)
    cids = [generator.next() for _ in range(1000)]
    assert cids == list(range(1_700_000_000_000, 1_700_000_001_000))


def test_cids_are_unique_across_threads():
    generator = CidGenerator()
    seen: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [generator.next() for _ in range(2000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    assert len(set(seen)) == 16000


@pytest.mark.parametrize("cid, date", [
    (1538911910035, "2018-10-07"),       # this library: milliseconds
    (15389119100350, "2018-10-07"),      # seed: seconds x 10,000
    (153925861909296, "2018-10-11"),     # the seed's own example
    (15389119100350000, "2018-10-07"),   # seconds x 10,000,000
    ("1538911910035", "2018-10-07"),
    (1704067199999, "2023-12-31"), (1704067200000, "2024-01-01"),   # UTC day boundary
])
def test_cid_to_date(cid, date):
    assert cid_to_date(cid) == date


def test_cid_to_date_refuses_what_is_not_a_timestamp():
    with pytest.raises(ValueError):
        cid_to_date(12345)
    with pytest.raises(TypeError):
        cid_to_date(1.5)


def test_nonces_increase_and_are_never_below_the_seed_or_the_official_client():
    now_ns = [1_700_000_000_123_456_789]
    nonces = NonceGenerator(1.0, wall_ns=lambda: now_ns[0])
    first = nonces.next()
    assert first == 1_700_000_000_123_456  # microseconds, like the official client
    assert nonces.next() == first + 1      # same instant: still larger
    now_ns[0] -= 5_000_000_000            # clock stepped back
    assert nonces.next() == first + 2
    big = NonceGenerator(1_000_000.0, wall_ns=lambda: 1_700_000_000_123_456_789)
    assert big.next() >= 1_700_000_000.123456789 * 1_000_000  # what the seed would send


def test_a_multiplier_that_breaks_the_ceiling_is_refused_at_once():
    with pytest.raises(ValueError, match="nonce_multiplier"):
        NonceGenerator(10_000_000.0)
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="nonce_multiplier"):
            NonceGenerator(bad)
    with pytest.raises(TypeError, match="nonce_multiplier"):
        NonceGenerator("2")
    assert NonceGenerator(5_000_000.0).next() <= MAX_SAFE_INTEGER


def test_auth_message_is_signed_over_auth_plus_nonce():
    secret = Secret("s3cr3t")
    message = auth_message("key", secret, 1700000000123456, filters=["trading"], dms=4)
    expected = hmac.new(b"s3cr3t", b"AUTH1700000000123456", hashlib.sha384).hexdigest()
    assert message == {"event": "auth", "apiKey": "key", "authSig": expected, "authPayload": "AUTH1700000000123456",
                       "authNonce": "1700000000123456", "filter": ["trading"], "dms": 4}
    assert verify(secret, "AUTH1700000000123456", expected) and not verify(secret, "AUTH1", expected)
    assert sign(secret, "x") == hmac.new(b"s3cr3t", b"x", hashlib.sha384).hexdigest()


def test_secret_never_shows_itself():
    secret = Secret("hunter2-very-secret")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}"):
        assert "hunter2" not in text
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(secret)
