"""The local exchange's error table, DEC_S rendering, echoes and receive log, without a network.

Fast tier (well under a second): the loopback scenarios that send each row are in
``test_exchange_fidelity.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bitfinex.testing.errors import ERRORS, INFO_MESSAGES, row
from bitfinex.testing.requests import echoable, nests_deeper
from bitfinex.testing.server import ConnectionLog, ReceiveLog, ReceiveLogLimits
from bitfinex.testing.session import SUPPORTED_FLAGS, decimal_strings

FIDELITY_PAGE = Path(__file__).resolve().parent.parent / "docs" / "guides" / "fidelity.rst"


def test_every_row_is_complete_and_its_frame_has_its_code_and_text():
    assert len({(r.code, r.msg) for r in ERRORS.values()}) == len(ERRORS)
    for name, spec in ERRORS.items():
        assert spec.name == name and spec.source and spec.when and spec.msg, name
        assert spec.event in ("error", "auth", "conf", "unauth", "info"), name
        assert spec.echo in ("none", "request", "subscribe", "chanId", "flags"), name
        assert spec.live or not spec.source.startswith("https://") or "code from" in spec.source or spec.note, name
        frame = spec.frame({"channel": "ticker", "symbol": "tX", "chanId": 5}, flags=1, names="x", op="on", limit=30,
                           symbol="tX")
        assert frame["code"] == spec.code and frame["event"] == (spec.event if spec.event != "error" else "error")
        assert frame["msg"].startswith(spec.msg.split("{")[0])
        if spec.event in ("auth", "conf", "unauth"):
            assert frame["status"] == "FAILED"


def test_live_frames_are_reproduced_exactly():
    assert row("AUTH_DUP").frame() == {"event": "error", "msg": "auth: dup", "code": 10100}
    assert row("AUTH_REQUIRED").frame() == {"event": "error", "msg": "auth: invalid", "code": 10100}
    assert row("AUTH_APIKEY").frame() == {
        "event": "auth", "status": "FAILED", "chanId": 0, "code": 10100, "msg": "apikey: invalid",
    }
    ticker = row("SYMBOL_INVALID").frame({"channel": "ticker", "symbol": "btceth"})
    assert list(ticker.items()) == [("channel", "ticker"), ("symbol", "btceth"), ("event", "error"),
                                    ("msg", "symbol: invalid"), ("code", 10300), ("pair", "tceth")]
    legacy = row("SYMBOL_INVALID").frame({"channel": "book", "pair": "LSKBTC", "prec": "P0", "len": "100"}, symbol="LSKBTC")
    assert legacy == {"channel": "book", "pair": "SKBTC", "prec": "P0", "len": "100", "event": "error", "symbol": "LSKBTC",
                      "msg": "symbol: invalid", "code": 10300}
    assert list(row("UNSUBSCRIBE_INVALID").frame({"chanId": 3316}).items()) == [
        ("event", "error"), ("msg", "unsubscribe: invalid"), ("chanId", 3316), ("code", 10400)]
    assert INFO_MESSAGES[20051] == "Stopping. Please try to reconnect"


def test_the_fidelity_page_lists_every_row():
    page = FIDELITY_PAGE.read_text()
    for name, spec in ERRORS.items():
        assert f"``{name}``" in page and f"- {spec.code}\n" in page, name


def test_decimal_strings_turns_floats_into_their_json_text_and_keeps_integers():
    frame = [5, [[1, 1700000000000, 0.5, 30000.0], [2, 1700000000001, -2e-08, 1e21]], "te", None, True, {"a": 1.5}]
    assert decimal_strings(frame) == [5, [[1, 1700000000000, "0.5", "30000"], [2, 1700000000001, "-2e-8", "1e+21"]], "te",
                                      None, True, {"a": "1.5"}]
    assert frame[1][0][2] == 0.5  # a copy: the exchange's shared arrays are untouched
    deep: list = [0.5]
    for _ in range(10_000):
        deep = [deep]
    decimal_strings(deep)  # iterative
    assert SUPPORTED_FLAGS & 32 == 0 and SUPPORTED_FLAGS & 8 == 8


@pytest.mark.parametrize(("value", "echoed"), [
    (2**70, 1.1805916207174113e21), (-(2**70), -1.1805916207174113e21), (2**53 + 1, 9007199254740992.0),
    (2**53 - 1, 2**53 - 1), (float("nan"), None), (float("-inf"), None), ("x", "x"), (True, True),
])
def test_echoes_are_what_javascript_would_send_back(value, echoed):
    assert echoable(value) == echoed and type(echoable(value)) is type(echoed)


def test_nests_deeper_is_iterative():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert nests_deeper(value, 16) and not nests_deeper([[1], {"a": [2]}], 3) and nests_deeper([[[[]]]], 3)


def test_the_receive_log_keeps_a_bounded_window():
    log = ReceiveLog(ReceiveLogLimits(max_frames=4, max_bytes=100, frame_bytes=30, max_connections=2))
    first = log.open(1, "a")
    for number in range(6):
        log.record(first, b'{"event":"ping","cid":%d}' % number, False)
    assert [f.frame["cid"] for f in log.snapshot()[0].frames] == [2, 3, 4, 5]
    log.record(first, b"[" + b"1," * 100 + b"1]", False)
    kept = log.snapshot()[0].frames[-1]
    assert kept.truncated and kept.size == 203 and len(kept.raw) == 30 and kept.frame is None
    assert log.bytes <= 100
    second, third = log.open(2, "b"), log.open(3, "c")
    assert [e.connection_id for e in log.snapshot()] == [1, 2, 3]  # none closed: all kept
    log.close(second)
    fourth = log.open(4, "d")
    assert [e.connection_id for e in log.snapshot()] == [1, 3, 4]
    log.record(fourth, b"\x00", True)
    assert log.frames()[-1].binary and log.frames()[-1].frame is None
    assert isinstance(third, ConnectionLog)
    quiet = ReceiveLog(None)
    entry = quiet.open(1, "a")
    quiet.record(entry, b"[]", False)
    assert quiet.snapshot()[0].frames == [] and quiet.bytes == 0
    with pytest.raises(ValueError):
        ReceiveLogLimits(max_frames=0)
