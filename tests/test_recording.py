"""Recording what a client receives (``WssClient(record=...)``) and replaying it through the
local exchange (``LocalExchange(replay=...)``): a fresh client's callbacks get exactly what the
recording client's got, at the recorded pace (scaled) or as fast as possible.

The session is recorded once for the module (so its exchange is the module fixture's own), and
each replay is an exchange a test starts once it has the recording.

Slow tier: sessions are recorded and replayed at their recorded pace over loopback (4 s).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pytest

from bitfinex import WssClient
from bitfinex.protocol.codec import loads
from bitfinex.recording import FrameRecorder, read_recording
from bitfinex.testing import LocalExchange
from bitfinex.testing.replay import AUTH_KEY, Recording, channel_key

from helpers import (
    DECODERS,
    HOSTILE_EVENTS,
    HOSTILE_INPUTS,
    HOSTILE_PINGS,
    KEY,
    LIVE_MARKET,
    SECRET,
    Inbox,
    RawClient,
    answers_to,
    assert_clean_error,
    assert_clean_pong,
    assert_nothing_escaped,
    is_account,
    is_data,
    read_frames_with,
)

pytestmark = [pytest.mark.slow, LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]

UPDATES_PER_CHANNEL = 6
"""Data frames (snapshot included) each channel must deliver before the recording stops."""

MakeClient = Callable[..., tuple[WssClient, Inbox]]


def subscribe_all(client: WssClient) -> dict[str, Inbox]:
    """Authenticate and subscribe to one channel of each kind; return each one's inbox."""
    inboxes = {name: Inbox(name) for name in ("auth", "ticker", "trades", "book", "candles")}
    client.authenticate(inboxes["auth"])
    client.subscribe_to_ticker("BTCUSD", inboxes["ticker"])
    client.subscribe_to_trades("BTCUSD", inboxes["trades"])
    client.subscribe_to_orderbook("BTCUSD", "P0", inboxes["book"])
    client.subscribe_to_candles("BTCUSD", "1m", inboxes["candles"])
    return inboxes


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Any]]]:
    """A session recorded against the local exchange (both stopped again), and what each of
    the client's callbacks received."""
    path = tmp_path_factory.mktemp("recording") / "session.jsonl"
    with LocalExchange(KEY, SECRET, heartbeat_interval=0.5, tick_interval=0.05) as exchange:  # once per module
        client = WssClient(KEY, SECRET, url=exchange.url, record=path)
        try:
            inboxes = subscribe_all(client)
            client.start()
            for name, inbox in inboxes.items():
                if name != "auth":
                    inbox.wait_for(is_data(), count=UPDATES_PER_CHANNEL)
            inboxes["auth"].wait_for(is_account("bu"))
        finally:
            client.stop()
    return path, {name: inbox.items for name, inbox in inboxes.items()}


def data_frames(recording: Recording, key: tuple[str, ...]) -> list[tuple[float, Any]]:
    """``(offset, decoded frame)`` of a recorded channel's frames, heartbeats left out."""
    frames = [(offset, loads(text)) for offset, text in recording.channels[key].frames]
    return [(offset, frame) for offset, frame in frames if frame[1] != "hb"]


KEYS = {
    "ticker": ("ticker", "tBTCUSD"),
    "trades": ("trades", "tBTCUSD"),
    "book": ("book", "tBTCUSD", "P0", "F0", "25"),
    "candles": ("candles", "trade:1m:tBTCUSD"),
    "auth": AUTH_KEY,
}


def test_the_recording_holds_every_frame_the_callbacks_got(recorded: tuple[Path, dict[str, list[Any]]]) -> None:
    path, received = recorded
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    assert all(set(entry) == {"t", "connection", "frame"} for entry in entries)
    assert {entry["connection"] for entry in entries} == {"auth", "public-1"}
    assert [e["t"] for e in entries] == sorted(e["t"] for e in entries)
    recording = Recording.load(path)
    assert set(recording.channels) == set(KEYS.values())
    for name, key in KEYS.items():
        delivered = [m for m in received[name] if isinstance(m, list)]
        assert [frame for _, frame in data_frames(recording, key)] == delivered, name


def test_the_recorder_is_not_on_the_frame_path_unless_asked(make_client: MakeClient) -> None:
    client, statuses = make_client()
    client.subscribe_to_ticker("BTCUSD", Inbox())
    client.start()
    statuses.wait_kind("subscribed")
    link = next(iter(client._links.links.values()))
    assert link.factory.on_messages == link.core.received_many


def replay_session(
    path: Path, speed: Optional[float], make_client: MakeClient, received: dict[str, list[Any]], replay_record: Path
) -> None:
    """Replay ``path`` to a fresh client (itself recording into ``replay_record``) and check
    every callback gets what the recording client's got."""
    with LocalExchange(replay=path, replay_speed=speed, heartbeat_interval=0.5) as replay:
        client, _ = make_client(url=replay.url, record=replay_record)
        inboxes = subscribe_all(client)
        client.start()
        for name, inbox in inboxes.items():
            inbox.wait_for(lambda _: True, count=len(received[name]))
        client.stop()
    for name, inbox in inboxes.items():
        assert inbox.items[: len(received[name])] == received[name], name


@pytest.mark.parametrize("speed", [2.0, None], ids=["twice-as-fast", "as-fast-as-possible"])
def test_a_replay_delivers_the_recorded_frames(
    recorded: tuple[Path, dict[str, list[Any]]], make_client: MakeClient, tmp_path: Path, speed: Optional[float]
) -> None:
    path, received = recorded
    replayed = tmp_path / "replayed.jsonl"
    replay_session(path, speed, make_client, received, replayed)
    original, again = Recording.load(path), Recording.load(replayed)
    for key in KEYS.values():
        recorded_times = [offset for offset, _ in data_frames(original, key)]
        replayed_times = [offset for offset, _ in data_frames(again, key)][: len(recorded_times)]
        span = recorded_times[-1]
        if speed is not None:  # never early: each frame at least its recorded delay / speed after the answer
            assert all(b >= a / speed - 0.01 for a, b in zip(recorded_times, replayed_times)), key
        elif key != AUTH_KEY and span > 0.4:
            assert replayed_times[-1] < span / 2, key  # as fast as possible: far faster than recorded


def test_a_channel_not_in_the_recording_is_refused(recorded: tuple[Path, dict[str, list[Any]]], make_client: MakeClient) -> None:
    path, _ = recorded
    with LocalExchange(replay=path) as replay:
        client, statuses = make_client(url=replay.url)
        client.subscribe_to_ticker("ETHUSD", Inbox())
        client.start()
        refused = statuses.wait_kind("subscription_failed")
        client.stop()
    assert refused.code == 10300 and "not in the recording" in refused.reason


def test_replay_speed_must_be_positive(recorded: tuple[Path, dict[str, list[Any]]]) -> None:
    path, _ = recorded
    with pytest.raises(ValueError, match="speed"):
        LocalExchange(replay=path, replay_speed=0)


def test_channel_keys_fill_in_the_defaults() -> None:
    request = {"event": "subscribe", "channel": "book", "symbol": "BTCUSD"}
    answer = {"event": "subscribed", "channel": "book", "chanId": 3, "symbol": "tBTCUSD", "prec": "P0", "freq": "F0",
              "len": "25", "pair": "BTCUSD"}
    assert channel_key(request) == channel_key(answer) == ("book", "tBTCUSD", "P0", "F0", "25")
    assert channel_key({"event": "subscribe", "channel": "candles", "key": "trade:1m:tBTCUSD"}) == ("candles", "trade:1m:tBTCUSD")
    assert channel_key({"event": "subscribe", "channel": "nonsense"}) is None


def test_the_recorder_writes_whole_lines_from_many_threads(tmp_path: Path) -> None:
    path = tmp_path / "threads.jsonl"
    frame = '[1,"te",[1,1700000000000,"0.5",27000.5],"ünïcode"]'.encode()
    with FrameRecorder(path, clock=lambda: 1700000000.25) as recorder:
        writers = [
            threading.Thread(target=lambda n=n: [recorder.record(f"public-{n}", frame) for _ in range(200)]) for n in range(4)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(10)
        assert not any(writer.is_alive() for writer in writers)
        assert recorder.frames == 800
    recorder.record("public-1", frame)  # after close: ignored
    recorder.close()
    frames = list(read_recording(path))
    assert len(frames) == 800
    assert {f.frame for f in frames} == {frame.decode()} and {f.t for f in frames} == {1700000000.25}


def test_a_line_that_is_not_a_frame_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"t": 1.0, "connection": "auth", "frame": "[0,\\"hb\\"]"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken.jsonl:2"):
        Recording.load(path)


def test_an_unwritable_record_file_fails_in_the_constructor(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        WssClient(record=tmp_path / "missing-directory" / "session.jsonl")


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_replay_answers_hostile_requests_cleanly_and_stays_usable(
    recorded: tuple[Path, dict[str, list[Any]]],
    connect: Callable[..., RawClient],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    decoder: str,
) -> None:
    read_frames_with(monkeypatch, decoder)
    path, _ = recorded
    with LocalExchange(replay=path, replay_speed=None) as replay:
        client = connect(replay.url)
        client.wait_event("info")
        codes = {}
        for number, (name, frame) in enumerate(HOSTILE_EVENTS):
            codes[name] = assert_clean_error(name, answers_to(client, frame, number))["code"]
        assert codes["event-array"] == 10000 and codes["not-json"] == codes["nesting-past-the-decoders"] == 10020
        for number, (name, frame) in enumerate(HOSTILE_PINGS, start=1000):
            assert_clean_pong(name, answers_to(client, frame, number), decoder)
        for number, (name, frame) in enumerate(HOSTILE_INPUTS, start=2000):
            answers = answers_to(client, frame, number)  # a replay answers no input (orjson refuses 1e400 though)
            assert answers == [] or (decoder == "installed" and [a["code"] for a in answers] == [10020]), (name, answers)
        unauth = answers_to(client, b'{"event":"unauth"}', 3000)
        assert [(u["event"], u["status"]) for u in unauth] == [("unauth", "FAILED")]
        overflow = answers_to(client, b'{"event":"subscribe","channel":"ticker","symbol":"tBTCUSD","subId":[1e400]}', 3001)
        if decoder == "stdlib":  # orjson refuses 1e400 (an error, checked above)
            assert overflow[0]["event"] == "subscribed" and overflow[0]["subId"] == [None]
        client.send({"event": "subscribe", "channel": "trades", "symbol": "tBTCUSD", "subId": [[[[7]]]]})
        subscribed = client.wait_event("subscribed", channel="trades")
        assert subscribed["subId"] == [[[[7]]]]
        client.wait_for(lambda f: isinstance(f, list) and f[0] == subscribed["chanId"])  # and the recorded frames come
        assert not client.closed
    assert_nothing_escaped(caplog)
