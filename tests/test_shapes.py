"""Frame shapes: real frames pass, garbage and its close relatives are refused.

Real frames come from ``tests/data`` (a live 2021 capture and the Node client's fixtures) and
from the protocol reference's examples. The fast validators are also compared, on generated
frames, with a plain reference written here from the documented shapes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitfinex.protocol import subscriptions as subs
from bitfinex.protocol.sequence import SequenceChecker
from bitfinex.protocol.shapes import (
    ACCOUNT_EVENTS,
    ACCOUNT_SNAPSHOTS,
    FrameShapeError,
    Validator,
    channel_validator,
    validate_account,
    validator_for,
)

DATA = Path(__file__).parent / "data"
CAPTURE = DATA / "cryptofeed-BITFINEX.ws.11.0.txt"

TRADING_TICKER = channel_validator("ticker", "tBTCUSD")
FUNDING_TICKER = channel_validator("ticker", "fUSD")
TRADING_TRADES = channel_validator("trades", "tBTCUSD")
FUNDING_TRADES = channel_validator("trades", "fUSD")
TRADING_BOOK = channel_validator("book", "tBTCUSD", "P0")
FUNDING_BOOK = channel_validator("book", "fUSD", "P1")
RAW_TRADING_BOOK = channel_validator("book", "tBTCUSD", "R0")
RAW_FUNDING_BOOK = channel_validator("book", "fUSD", "R0")
CANDLES = channel_validator("candles", "trade:1m:tBTCUSD")
FUNDING_CANDLES = channel_validator("candles", "trade:1m:fUSD:p30")
DERIVATIVES = channel_validator("status", "deriv:tBTCF0:USTF0")
LIQUIDATIONS = channel_validator("status", "liq:global")

PUBLIC = {
    "trading ticker": TRADING_TICKER, "funding ticker": FUNDING_TICKER, "trading trades": TRADING_TRADES,
    "funding trades": FUNDING_TRADES, "trading book": TRADING_BOOK, "funding book": FUNDING_BOOK,
    "raw trading book": RAW_TRADING_BOOK, "raw funding book": RAW_FUNDING_BOOK, "candles": CANDLES,
    "funding candles": FUNDING_CANDLES, "derivatives": DERIVATIVES, "liquidations": LIQUIDATIONS,
}


def accepts(validate: Validator, msg: Any) -> bool:
    """Whether ``validate`` accepts ``msg``; anything it raises but FrameShapeError fails."""
    try:
        validate(msg)
    except FrameShapeError as error:
        assert str(error), "a reason is given"
        return False
    return True


# -- real frames --------------------------------------------------------------------------


def capture_frames() -> list[tuple[str, list[Any]]]:
    """``(validator name, frame)`` for every data frame of the live capture, its ``SEQ_ALL``
    numbers stripped as the connection strips them."""
    channels: dict[int, Validator] = {}
    names: dict[int, str] = {}
    checker = SequenceChecker()
    frames = []
    for line in CAPTURE.read_text().splitlines():
        if not line or " <- " in line or " <-> " in line:
            continue
        msg = json.loads(line.partition(": ")[2])
        if type(msg) is dict:
            if msg.get("event") == "subscribed":
                spec = {"ticker": subs.ticker, "trades": subs.trades}.get(msg["channel"])
                made = spec(msg["symbol"]) if spec else subs.book(msg["symbol"], msg["prec"], msg["freq"], msg["len"])
                channels[msg["chanId"]] = validator_for(made)
                names[msg["chanId"]] = made.identifier
            continue
        assert checker.check(msg, strip=True) is None
        if msg[0] in channels:
            frames.append((names[msg[0]], msg))
    return frames


CAPTURED = capture_frames()


def test_the_capture_has_every_kind_of_public_frame():
    kinds = {name.split("_")[0] for name, _ in CAPTURED}
    assert kinds == {"ticker", "trades", "book"} and len(CAPTURED) > 500


def test_every_frame_of_the_live_capture_passes():
    channels: dict[str, Validator] = {}
    for name, msg in CAPTURED:
        validate = channels.setdefault(name, validator_for(_spec_named(name)))
        assert accepts(validate, msg), (name, msg)


def _spec_named(identifier: str) -> subs.SubscriptionSpec:
    parts = identifier.split("_")
    if parts[0] == "book":
        return subs.book(parts[1], parts[2], parts[3], int(parts[4]))
    return {"ticker": subs.ticker, "trades": subs.trades}[parts[0]](parts[1])


@pytest.mark.parametrize(("fixture", "validate"), [
    ("order-book-P0", TRADING_BOOK), ("order-book-P1", TRADING_BOOK), ("order-book-R0", RAW_TRADING_BOOK),
    ("ticker-funding", FUNDING_TICKER), ("trades", TRADING_TRADES),
])
def test_the_node_client_fixtures_pass(fixture, validate):
    msg = json.loads((DATA / f"bitfinex-api-node-response-ws2-server-{fixture}.json").read_text())
    assert accepts(validate, msg)


NOTIFICATION = [0, "n", [1575287438515, "on-req", None, None, [
    1185815098, None, 1575287436979, "tETHUSD", 1575287438515, 1575287438515, -2.5, -2.5, "LIMIT", None, None, None, 0, "ACTIVE",
    None, None, 230, 0, 0, 0, None, None, None, 0, 0, None, None, None, "API>BFX", None, None, None], None, "SUCCESS",
    "Submitting limit sell order for -2.5 ETH."]]
ORDER = [1185815098, None, 1575287436979, "tETHUSD", 1575287438515, 1575287438515, -2.5, -2.5, "LIMIT", None, None, None, 0,
         "ACTIVE", None, None, 230, 0, 0, 0, None, None, None, 0, 0, None, None, None, "API>BFX", None, None, {"aff_code": "x"}]

VALID = [
    # the protocol reference (section 4), SEQ_ALL numbers stripped
    (TRADING_TICKER, [232952, [60400, 76.16686512, 60406, 86.2067634199999, -1292, -0.0209, 60410, 10.05320242, 62408, 60057]]),
    (TRADING_TICKER, [1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None, "appended"]]),
    (TRADING_TICKER, [1, [1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10], 6]),
    (FUNDING_TICKER, [1, [0.0002, 0.0001, 30, 3045.5, 0.0007, 2, 2335880.1, -0.00006, -0.0793, 0.0007, 19326761.4, 0.001, 0,
                          None, None, 1234567.8]]),
    (FUNDING_TICKER, [1, [0.0002, 0.0001, 30, 3045.5, 0.0007, 2, 2335880.1, -0.00006, -0.0793, 0.0007, 19326761.4, 0.001, 0]]),
    (FUNDING_TICKER, [1, [0.0002, 0.0001, 30, 3045.5, 0.0007, 2, 2335880.1, -0.00006, -0.0793, 0.0007, 19326761.4, 0.001, 0,
                          0, 0, None, "appended"]]),
    (TRADING_TRADES, [1, "te", [401597393, 1574694475039, 0.005, 7244.9]]),
    (TRADING_TRADES, [1, "tu", [401597393, 1574694475039, -0.005, 7245]]),
    (TRADING_TRADES, [1, "te", [401597393, 1574694475039, 0.005, 7244.9, "appended"]]),
    (TRADING_TRADES, [1, [[1, 2, 3.5, 4], [5, 6, -7.5, 8]]]),
    (TRADING_TRADES, [1, []]),
    (FUNDING_TRADES, [1, "fte", [133323543, 1574694605000, -59.84, 0.00023647, 2]]),
    (FUNDING_TRADES, [1, "ftu", [133323543, 1574694605000, -59.84, 0.00023647, 2]]),
    (FUNDING_TRADES, [1, [[133323543, 1574694605000, -59.84, 0.00023647, 2]]]),
    (TRADING_BOOK, [225206, [279380, 0, 1]]), (TRADING_BOOK, [204928, [2e-8, 0, 1]]),
    (TRADING_BOOK, [232957, [[60400, 1, 0.68826974], [60410, 2, -1.5]]]), (TRADING_BOOK, [1, []]),
    (TRADING_BOOK, [1, "cs", -1636409987]), (TRADING_BOOK, [1, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]),
    (TRADING_BOOK, [1, [[1, 2, 3]]]),
    (RAW_TRADING_BOOK, [433290, [34753006045, 0, -1]]), (RAW_TRADING_BOOK, [1, [[34753002978, 7254.7, 1.54340371]]]),
    (FUNDING_BOOK, [1, [0.0002, 30, 4, -3045.5]]), (FUNDING_BOOK, [1, [[0.0002, 30, 4, -3045.5], [0.0003, 2, 1, 100]]]),
    (FUNDING_BOOK, [1, "cs", 5]), (FUNDING_BOOK, [1, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]),
    (RAW_FUNDING_BOOK, [1, [648374536, 30, 0.0002, 100]]), (RAW_FUNDING_BOOK, [1, [648374536, 30, 0, 100]]),
    (CANDLES, [1, [1574698260000, 7379.7, 7379.7, 7379.7, 7379.7, 0.00183]]),
    (CANDLES, [1, [[1574698260000, 7379.7, 7379.7, 7379.7, 7379.7, 0.00183], [1574698200000, 7399.9, 7379.7, 7399.9, 7379.7,
    41]]]),
    (CANDLES, [1, []]), (CANDLES, [1, [1, 2, 3, 4, 5, 6, "appended"]]),
    (FUNDING_CANDLES, [1, [1574698260000, 0.0002, 0.0002, 0.0002, 0.0002, 1000]]),
    (DERIVATIVES, [1, [1596124822000, None, 11326.58, 11319.15, None, 132925.49, None, 1596153600000, -0.0001, 77, None,
                       0.0001, None, None, 11320.1, None, None, 1442.5, None, None, None, -0.3, 0.5]]),
    (LIQUIDATIONS, [1, [["pos", 145400868, 1609144352338, None, "tETHF0:USTF0", -1.67288094, 730.96, None, 1, 1, None, 736.13]]]),
    (LIQUIDATIONS, [1, []]),
]


@pytest.mark.parametrize(("validate", "msg"), VALID)
def test_documented_frames_pass(validate, msg):
    assert accepts(validate, msg)


@pytest.mark.parametrize("validate", list(PUBLIC.values()), ids=list(PUBLIC))
def test_heartbeats_pass_on_every_channel(validate):
    assert accepts(validate, [5, "hb"])
    assert accepts(validate, [5, "hb", 127])


ACCOUNT_VALID = [
    [0, "hb"], [0, "os", []], [0, "os", [ORDER, ORDER]], [0, "ps", []], [0, "ws", [["exchange", "BTC", 1.5, 0, None, None,
    None]]],
    [0, "on", ORDER], [0, "ou", ORDER], [0, "oc", ORDER], [0, "te", [1, "tBTCUSD", 1574694475039, 2, 0.1, 7000, "LIMIT", 7000, 1,
                                                                      None, None, 12345]],
    [0, "bu", [1000.5, 999.5]], [0, "miu", ["base", [1, 2, 3, 4, 5]]], [0, "fiu", ["sym", "fUSD", [0, 0, 0, 0]]],
    [0, "wu", ["margin", "USD", 100, 0, None, None, None]], NOTIFICATION,
    [0, "n", [1, "oc-req", None, None, [], None, "ERROR", "Order not found"]],
    [0, "mis", [1, 2]], [0, "uac", {}], [0, "brand-new-type", "any data"], [0, "on", ORDER, 5, 6],
    [0, "hfts", []], [0, "fos", [[1, "fUSD"]]],
]

ACCOUNT_REFUSED = [
    [0], [0, "on"], [0, "os"], [0, "n"], [0, "brand-new-type"], [0, 5, []], [0, None, []], [0, ["os"], []], [0, "hb", 5][:1],
    [0, "os", {}], [0, "os", [1, 2]], [0, "os", None], [0, "os", "x"], [0, "ps", [[1], 2]],
    [0, "wu", 5], [0, "wu", []], [0, "on", {}], [0, "on", None], [0, "on", "order"], [0, "te", []], [0, "bu", 5],
    [0, "n", []], [0, "n", [1, 2, 3, 4, 5, 6, 7]], [0, "n", [1, None, 3, 4, 5, 6, 7, 8]], [0, "n", {}], [0, "n", "note"],
]


@pytest.mark.parametrize("msg", ACCOUNT_VALID)
def test_account_frames_pass(msg):
    assert accepts(validate_account, msg)


@pytest.mark.parametrize("msg", ACCOUNT_REFUSED)
def test_account_garbage_is_refused(msg):
    assert not accepts(validate_account, msg)


def test_every_documented_account_type_has_a_rule():
    assert {"os", "ps", "ws", "fos", "fcs", "fls", "hos", "hfos", "hfcs", "hfls", "hfts"} == ACCOUNT_SNAPSHOTS
    assert {"on", "ou", "oc", "pn", "pu", "pc", "te", "tu", "wu", "bu", "miu", "fiu", "fon", "fou", "foc", "fcn", "fcu",
            "fcc", "fln", "flu", "flc", "fte", "ftu"} == ACCOUNT_EVENTS
    for kind in ACCOUNT_EVENTS:
        assert accepts(validate_account, [0, kind, [1]]) and not accepts(validate_account, [0, kind, []])
    for kind in ACCOUNT_SNAPSHOTS:
        assert accepts(validate_account, [0, kind, [[1]]]) and not accepts(validate_account, [0, kind, [1]])


# -- garbage ------------------------------------------------------------------------------

TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

REFUSED = [
    # the frames that used to reach callbacks
    (TRADING_TICKER, [101, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]]), (TRADING_TICKER, [101, [1, 2]]),
    (TRADING_TICKER, [101, []]), (TRADING_BOOK, [101, [1, 2]]), (TRADING_BOOK, [101, [1, 2, 3, 4, 5]]),
    (TRADING_BOOK, [101, [[1, 2, 3], [1, 2]]]), (TRADING_BOOK, [101, [[1, 2, 3], [1, 2, 3, 4, 5]]]),
    (TRADING_TRADES, [101, "te", [1]]), (CANDLES, [101, ["1", "2", "3", "4", "5", "6"]]),
    # no body, or the wrong kind of body
    (TRADING_TICKER, [101]), (TRADING_BOOK, [101]), (TRADING_TRADES, [101]), (CANDLES, [101]), (DERIVATIVES, [101]),
    (LIQUIDATIONS, [101]), (FUNDING_TICKER, [101]), (FUNDING_TRADES, [101]),
    (TRADING_TICKER, [101, {"bid": 1}]), (TRADING_TICKER, [101, None]), (TRADING_TICKER, [101, 5]), (TRADING_TICKER, [101, "5"]),
    (TRADING_TICKER, [101, "te", TEN]), (TRADING_TICKER, [101, "cs", 5]), (TRADING_TICKER, [101, True]),
    (TRADING_BOOK, [101, {}]), (TRADING_BOOK, [101, None]), (TRADING_BOOK, [101, 7]), (TRADING_BOOK, [101, "te", [1, 2, 3]]),
    (TRADING_TRADES, [101, {"id": 1}]), (TRADING_TRADES, [101, "cs", 5]), (TRADING_TRADES, [101, [1, 2, 3, 4]]),
    (TRADING_TRADES, [101, "fte", [1, 2, 3, 4, 5]]), (FUNDING_TRADES, [101, "te", [1, 2, 3, 4]]),
    (CANDLES, [101, "te", [1, 2, 3, 4, 5, 6]]), (CANDLES, [101, {}]), (DERIVATIVES, [101, {}]), (DERIVATIVES, [101, "x"]),
    (LIQUIDATIONS, [101, {}]), (LIQUIDATIONS, [101, "x"]), (LIQUIDATIONS, [101, 5]),
    # tickers: arity, strings, nested lists, bools, nulls
    (TRADING_TICKER, [101, TEN[:9]]), (TRADING_TICKER, [101, [*TEN[:9], "10"]]), (TRADING_TICKER, [101, [*TEN[:9], None]]),
    (TRADING_TICKER, [101, [*TEN[:9], True]]), (TRADING_TICKER, [101, [False, *TEN[1:]]]),
    (TRADING_TICKER, [101, [*TEN[:9], [10]]]),
    (TRADING_TICKER, [101, [TEN]]), (TRADING_TICKER, [101, [*TEN[:9], {}]]), (TRADING_TICKER, [101, [[1, 2, 3], *TEN[1:]]]),
    (FUNDING_TICKER, [101, TEN]), (FUNDING_TICKER, [101, [*TEN, 11, 12, "13"]]), (FUNDING_TICKER, [101, [*TEN, 11, 12, 13, "x"]]),
    (FUNDING_TICKER, [101, [*TEN, 11, 12, 13, None, None, "x"]]), (FUNDING_TICKER, [101, [*TEN, 11, 12, True]]),
    # trades
    (TRADING_TRADES, [101, "te", [1, 2, 3]]), (TRADING_TRADES, [101, "te", [1, 2, 3, "4"]]),
    (TRADING_TRADES, [101, "tu", [1, 2, 3, None]]),
    (TRADING_TRADES, [101, "te", [1, 2, 3, True]]), (TRADING_TRADES, [101, "te", [1, 2, [3], 4]]), (TRADING_TRADES, [101, "te"]),
    (TRADING_TRADES, [101, "te", {}]), (TRADING_TRADES, [101, "te", None]), (TRADING_TRADES, [101, "te", 5]),
    (TRADING_TRADES, [101, "te", "abcd"]), (TRADING_TRADES, [101, "te", {"a": 1, "b": 2, "c": 3, "d": 4}]),
    (TRADING_TRADES, [101, [[1, 2, 3]]]), (TRADING_TRADES, [101, [[1, 2, 3, "4"]]]), (TRADING_TRADES, [101, [[1, 2, 3, 4], 5]]),
    (TRADING_TRADES, [101, [[1, 2, 3, 4], None]]), (TRADING_TRADES, [101, [[1, 2, 3, False]]]),
    (FUNDING_TRADES, [101, "fte", [1, 2, 3, 4]]), (FUNDING_TRADES, [101, "ftu", [1, 2, 3, 4, "5"]]),
    (FUNDING_TRADES, [101, [[1, 2, 3, 4]]]),
    # books
    (TRADING_BOOK, [101, [1, 2, "3"]]), (TRADING_BOOK, [101, ["1", 2, 3]]), (TRADING_BOOK, [101, [1, None, 3]]),
    (TRADING_BOOK, [101, [True, 1, 1]]), (TRADING_BOOK, [101, [1, 2, False]]), (TRADING_BOOK, [101, [1, [2], 3]]),
    (TRADING_BOOK, [101, [[1, 2, 3], [4, 5, "6"]]]), (TRADING_BOOK, [101, [[1, 2, 3], 5]]),
    (TRADING_BOOK, [101, [[1, 2, 3], None]]),
    (TRADING_BOOK, [101, [[1, 2, 3], {}]]), (TRADING_BOOK, [101, [[1, 2, True]]]),
    (TRADING_BOOK, [101, [[1, 2, 3], [4, 5, [6]]]]),
    (TRADING_BOOK, [101, [[1, 2, 3], [4, 5, 6], [7, 8, "9"]]]), (TRADING_BOOK, [101, [[]]]), (TRADING_BOOK, [101, [1, 2, 3, 4]]),
    (TRADING_BOOK, [101, "cs"]), (TRADING_BOOK, [101, "cs", "5"]), (TRADING_BOOK, [101, "cs", 5.0]),
    (TRADING_BOOK, [101, "cs", True]),
    (TRADING_BOOK, [101, "cs", None]), (TRADING_BOOK, [101, "hB"]), (TRADING_BOOK, [101, ""]), (TRADING_BOOK, [101, "abc"]),
    (FUNDING_BOOK, [101, [1, 2, 3]]), (FUNDING_BOOK, [101, [1, 2, 3, 4, 5]]), (FUNDING_BOOK, [101, [[1, 2, 3, 4], [1, 2, 3]]]),
    (FUNDING_BOOK, [101, [1, 2, 3, "4"]]), (FUNDING_BOOK, [101, [1, 2, True, 4]]), (RAW_TRADING_BOOK, [101, [1, 2, 3, 4]]),
    (RAW_FUNDING_BOOK, [101, [1, 2, 3]]), (RAW_FUNDING_BOOK, [101, [[1, 2, 3, None]]]),
    # candles
    (CANDLES, [101, [1, 2, 3, 4, 5]]), (CANDLES, [101, [1, 2, 3, 4, 5, None]]), (CANDLES, [101, [1, 2, 3, 4, 5, True]]),
    (CANDLES, [101, [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5]]]), (CANDLES, [101, [[1, 2, 3, 4, 5, "6"]]]),
    (CANDLES, [101, [[1, 2, 3, 4, 5, 6], 7]]),
    (CANDLES, [101, [[1, 2, 3, 4, 5, [6]]]]),
    # status
    (DERIVATIVES, [101, []]), (DERIVATIVES, [101, ["1596124822000", None]]), (DERIVATIVES, [101, [None, 1]]),
    (DERIVATIVES, [101, [True, 1]]), (DERIVATIVES, [101, [[1, 2]]]), (LIQUIDATIONS, [101, ["pos", 1, 2]]),
    (LIQUIDATIONS, [101, [["pos", 1], "x"]]), (LIQUIDATIONS, [101, [None]]),
]


@pytest.mark.parametrize(("validate", "msg"), REFUSED)
def test_garbage_is_refused(validate, msg):
    assert not accepts(validate, msg)


def test_validators_do_not_change_frames():
    for validate, msg in VALID + REFUSED:
        before = copy.deepcopy(msg)
        accepts(validate, msg)
        assert msg == before


# -- the lookup ---------------------------------------------------------------------------


def test_validator_for_subscription_specs():
    assert validator_for(subs.ticker("BTCUSD")) is TRADING_TICKER
    assert validator_for(subs.ticker("fUSD")) is FUNDING_TICKER
    assert validator_for(subs.trades("tBTCUSD")) is TRADING_TRADES
    assert validator_for(subs.trades("fUSD")) is FUNDING_TRADES
    assert validator_for(subs.book("BTCUSD", "P0")) is TRADING_BOOK
    assert validator_for(subs.book("tBTCUSD", "R0", length=250)) is RAW_TRADING_BOOK
    assert validator_for(subs.book("fUSD", "P2")) is FUNDING_BOOK
    assert validator_for(subs.book("fUSD", "R0")) is RAW_FUNDING_BOOK
    assert validator_for(subs.candles("BTCUSD", "1m")) is CANDLES
    assert validator_for(subs.candles("fUSD:p30", "1m")) is CANDLES


def test_channels_without_a_documented_shape_get_a_lenient_validator():
    for validate in (channel_validator("status", "something:new"), channel_validator("new-channel", "tBTCUSD")):
        assert accepts(validate, [1, [1, "x", None]]) and accepts(validate, [1, "hb"]) and accepts(validate, [1, []])
        assert not accepts(validate, [1]) and not accepts(validate, [1, "x"]) and not accepts(validate, [1, {}])
    assert channel_validator("candles", "trade:1m:fUSD:a30:p2:p30") is CANDLES
    assert channel_validator("book", "tBTCUSD") is TRADING_BOOK


# -- the fast paths against a plain reference ---------------------------------------------


def is_number(value: Any) -> bool:
    return type(value) in (int, float)


def numbers(entry: Any, count: int, exact: bool) -> bool:
    if type(entry) is not list or len(entry) < count or (exact and len(entry) != count):
        return False
    return all(is_number(field) for field in entry[:count])


def reference(channel: str, funding: bool, msg: list[Any]) -> bool:
    """The documented shapes, written plainly."""
    if len(msg) < 2:
        return False
    body = msg[1]
    if body == "hb" and type(body) is str:
        return True
    if channel == "ticker":
        if type(body) is not list:
            return False
        if funding:
            return numbers(body, 13, False) and all(field is None or is_number(field) for field in body[13:16])
        return numbers(body, 10, False)
    if channel == "trades":
        count, tags = (5, ("fte", "ftu")) if funding else (4, ("te", "tu"))
        if type(body) is list:
            return all(numbers(entry, count, False) for entry in body)
        return type(body) is str and body in tags and len(msg) > 2 and numbers(msg[2], count, False)
    if channel == "book":
        count = 4 if funding else 3
        if type(body) is list:
            if body and type(body[0]) is list:
                return all(numbers(entry, count, True) for entry in body)
            return not body or numbers(body, count, True)
        return body == "cs" and type(body) is str and len(msg) > 2 and type(msg[2]) is int
    if channel == "candles":
        if type(body) is not list:
            return False
        if body and type(body[0]) is list:
            return all(numbers(entry, 6, False) for entry in body)
        return not body or numbers(body, 6, False)
    raise AssertionError(channel)


FIELD = st.one_of(
    st.integers(-(2**63), 2**63), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none(),
    st.sampled_from(["", "te", "1", "hb", "cs"]), st.just([]), st.lists(st.integers(), max_size=3), st.just({}),
)
NUMBERS = st.lists(st.integers(-10, 10**13) | st.floats(-1e6, 1e6), min_size=0, max_size=18)


@st.composite
def frames(draw: Any) -> list[Any]:
    """Frames near the documented shapes: valid ones, with a field or the arity changed."""
    entry = draw(NUMBERS)
    if entry and draw(st.booleans()):
        entry[draw(st.integers(0, len(entry) - 1))] = draw(FIELD)
    body: Any = draw(st.one_of(
        st.just(entry), st.lists(st.just(entry) | NUMBERS, max_size=4), st.sampled_from(["hb", "cs", "te", "tu", "fte",
        "ftu", "x"]),
        FIELD,
    ))
    msg: list[Any] = [draw(st.integers(0, 10**6))]
    if draw(st.integers(0, 9)):
        msg.append(body)
    if type(body) is str and draw(st.booleans()):
        msg.append(draw(st.just(entry) | FIELD))
    if draw(st.integers(0, 4)) == 0:
        msg.append(draw(st.integers(0, 10**6)))
    return msg


CASES: list[tuple[str, bool, Callable[[list[Any]], None]]] = [
    ("ticker", False, TRADING_TICKER), ("ticker", True, FUNDING_TICKER), ("trades", False, TRADING_TRADES),
    ("trades", True, FUNDING_TRADES), ("book", False, TRADING_BOOK), ("book", True, FUNDING_BOOK),
    ("book", False, RAW_TRADING_BOOK), ("book", True, RAW_FUNDING_BOOK), ("candles", False, CANDLES),
]


@pytest.mark.slow  # a property test: hundreds of generated examples
@given(frames())
@settings(max_examples=2000)
def test_fast_validators_agree_with_the_reference(msg):
    for channel, funding, validate in CASES:
        assert accepts(validate, msg) == reference(channel, funding, msg), (channel, funding, msg)


@pytest.mark.slow  # a property test: hundreds of generated examples
@given(st.lists(st.sampled_from([[1, 2, 3], [1.5, 2, -3.5], [1, 2, 3, 4], [1, 2, 3, 4, 5, 6], [1, 2], [1, 2, "3"],
                                 [True, 2, 3], [None, 2, 3], [[1], 2, 3], [], [1, 2, 3, 4, 5]]), max_size=6))
@settings(max_examples=1000)
def test_lists_of_entries_agree_with_the_reference(entries):
    for channel, funding, validate in CASES:
        msg = [1, [list(entry) for entry in entries]]
        assert accepts(validate, msg) == reference(channel, funding, msg), (channel, funding, msg)


def first_refused(validate: Validator, frames: list[list[Any]]) -> Optional[list[Any]]:
    return next((msg for msg in frames if not accepts(validate, msg)), None)


def test_the_benchmark_stream_passes():
    from bench.stream import BOOK_CHANNEL_ID, TICKER_CHANNEL_ID, TRADES_CHANNEL_ID, Stream

    stream = Stream(5000, 7)
    validators = {TICKER_CHANNEL_ID: TRADING_TICKER, TRADES_CHANNEL_ID: TRADING_TRADES, BOOK_CHANNEL_ID: TRADING_BOOK}
    frames = [json.loads(frame.payload) for frame in stream.body]
    frames += [json.loads(snapshot) for snapshot in stream.snapshots.values()]
    for chan_id, validate in validators.items():
        assert first_refused(validate, [msg for msg in frames if msg[0] == chan_id]) is None
