"""Maintained order books through WssClient against the local exchange: verified against every
checksum, never handed over broken, rebuilt after a mismatch; and SEQ_ALL sequence checking.

Slow tier: maintained books wait for real checksums over a live market (5 s).
"""

from __future__ import annotations

import pytest

from bitfinex.protocol import status as st
from bitfinex.protocol import subscriptions as subs

from core_helpers import Recorder, Wire, make_session, subscribed
from helpers import LIVE_MARKET, Inbox, is_data, sent_events, sent_frames

pytestmark = [pytest.mark.slow, LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]


class BookWatcher:
    """A maintained-book callback that records what each call saw."""

    def __init__(self) -> None:
        self.calls = Inbox("book calls")

    def __call__(self, book) -> None:
        bids, asks = book.bids(), book.asks()
        self.calls({
            "valid": book.valid,
            "crossed": bool(bids and asks and bids[0].price >= asks[0].price),
            "best": (book.best_bid, book.best_ask),
            "depth": (len(bids), len(asks)),
            "book": book,
        })


def test_maintained_book_is_verified_and_matches_the_exchange(bitfinex_exchange, make_client):
    client, statuses = make_client()
    watcher = BookWatcher()
    client.subscribe_to_orderbook("BTCUSD", "P0", watcher, maintained=True)
    client.start()
    watcher.calls.wait_for(lambda call: True, count=20)
    calls = watcher.calls.items
    assert all(call["valid"] and not call["crossed"] for call in calls)
    assert all(0 < call["depth"][0] <= 25 and 0 < call["depth"][1] <= 25 for call in calls)
    book = calls[-1]["book"]
    assert book.symbol == "tBTCUSD" and book.precision == "P0"
    assert sent_events(bitfinex_exchange, "conf") == [{"event": "conf", "flags": 131072}]
    assert not statuses.matching(lambda e: e.kind == st.CHECKSUM_MISMATCH)


def test_decimals_as_strings_reach_callbacks_and_books_still_verify_every_checksum(bitfinex_exchange, make_client):
    client, statuses = make_client(decimals_as_strings=True)
    watchers = {precision: BookWatcher() for precision in ("P0", "R0")}
    for precision, watcher in watchers.items():
        client.subscribe_to_orderbook("BTCUSD", precision, watcher, maintained=True)
    raw, ticks = Inbox("raw book"), Inbox("ticks")
    client.subscribe_to_orderbook("ETHUSD", "P0", raw)
    client.subscribe_to_ticker("BTCUSD", ticks)
    client.start()
    for watcher in watchers.values():
        watcher.calls.wait_for(lambda call: True, count=15)
    snapshot = raw.wait_for(is_data(body=lambda body: isinstance(body, list) and isinstance(body[0], list)))
    assert all(isinstance(entry[0], str) and isinstance(entry[1], int) and isinstance(entry[2], str) for entry in snapshot[1])
    tick = ticks.wait_for(is_data())
    assert all(isinstance(field, str) for field in tick[1][:10])
    assert all(call["valid"] and not call["crossed"] for w in watchers.values() for call in w.calls.items)
    assert isinstance(watchers["P0"].calls.items[-1]["best"][0].price, float)
    assert {conf["flags"] for conf in sent_events(bitfinex_exchange, "conf")} >= {8 | 131072}
    assert not statuses.matching(lambda e: e.kind in (st.CHECKSUM_MISMATCH, st.INTERNAL_ERROR))


def test_checksum_frames_agree_for_every_precision_and_length(bitfinex_exchange, make_client):
    client, statuses = make_client()
    watchers = {}
    for precision in ("P0", "P1", "P2", "P3", "P4", "R0"):
        for length in (1, 25, 100, 250):
            watchers[(precision, length)] = BookWatcher()
            client.subscribe_to_orderbook("ETHUSD", precision, watchers[(precision, length)], length=length, maintained=True)
    client.start()
    for (precision, length), watcher in watchers.items():
        watcher.calls.wait_for(lambda call: True, count=5)
        depth = watcher.calls.items[-1]["depth"]
        assert max(depth) <= length, (precision, length, depth)
    assert not statuses.matching(lambda e: e.kind == st.CHECKSUM_MISMATCH)


def test_a_wrong_checksum_is_reported_and_the_book_rebuilt_never_handed_over_broken(bitfinex_exchange, make_client):
    client, statuses = make_client()
    watcher = BookWatcher()
    identifier = client.subscribe_to_orderbook("BTCUSD", "R0", watcher, length=100, maintained=True)
    client.start()
    watcher.calls.wait_for(lambda call: True, count=3)
    bitfinex_exchange.faults.corrupt_next_checksum()
    event = statuses.wait_kind(st.CHECKSUM_MISMATCH, subscription=identifier)
    assert event.data["expected"] != event.data["computed"]
    statuses.wait_kind(st.RESUBSCRIBED, subscription=identifier)
    before = len(watcher.calls.items)
    watcher.calls.wait_for(lambda call: True, count=before + 5)
    assert all(call["valid"] and not call["crossed"] for call in watcher.calls.items)
    requests = [f["event"] for f in sent_frames(bitfinex_exchange) if isinstance(f, dict) and f["event"] != "conf"]
    assert requests == ["subscribe", "unsubscribe", "subscribe"]


def test_raw_book_callbacks_do_not_see_checksum_frames_of_a_shared_connection(bitfinex_exchange, make_client):
    client, _ = make_client()
    raw = Inbox("raw")
    watcher = BookWatcher()
    client.subscribe_to_orderbook("BTCUSD", "P1", raw)
    client.subscribe_to_orderbook("BTCUSD", "P0", watcher, maintained=True)
    client.start()
    watcher.calls.wait_for(lambda call: True, count=5)
    raw.wait_for(is_data(), count=5)
    assert not [m for m in raw.items if isinstance(m, list) and m[1] == "cs"]


def test_sequence_check_strips_numbers_and_sees_no_gap_in_a_healthy_stream(bitfinex_exchange, make_client):
    client, statuses = make_client(sequence_check=True)
    ticks, account = Inbox("ticks"), Inbox("account")
    client.authenticate(account)
    client.subscribe_to_ticker("BTCUSD", ticks)
    client.subscribe_to_trades("BTCUSD", ticks)
    client.start()
    ticks.wait_for(is_data(), count=30)
    cid = client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.01", "1000")
    account.wait_for(lambda m: isinstance(m, list) and m[1] == "on" and m[2][2] == cid)
    frames = [m for m in ticks.items if isinstance(m, list)]
    assert all(len(m) == (3 if isinstance(m[1], str) else 2) for m in frames)
    assert all(len(m) == 3 for m in account.items if isinstance(m, list))
    assert {conf["flags"] for conf in sent_events(bitfinex_exchange, "conf")} == {65536}
    assert not statuses.matching(lambda e: e.kind == st.SEQUENCE_GAP)


def test_a_sequence_gap_is_reported_and_the_connection_resynced():
    statuses = Recorder()
    session = make_session(statuses, check_sequence=True)
    spec = subs.ticker("BTCUSD")
    received = Recorder()
    session.subscribe(spec, received)
    connection = session.public[0]
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, spec, 5)
    connection.received(b"[5,[1,2,3,4,5,6,7,8,9,10],1]")
    connection.received(b'[5,"hb",2]')
    connection.received(b"[5,[4,5,6,7,8,9,10,11,12,13],4]")
    assert [m for m in received if isinstance(m, list)] == [[5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]]
    [gap] = [e for e in statuses if e.kind == st.SEQUENCE_GAP]
    assert gap.data["expected"] == 3 and gap.data["received"] == 4
    assert wire.reconnects == ["sequence gap: frames were lost"]


@pytest.mark.parametrize("bad", [dict(maintained="yes")])
def test_maintained_must_be_a_bool(bitfinex_exchange, make_client, bad):
    client, _ = make_client()
    with pytest.raises(TypeError, match="maintained"):
        client.subscribe_to_orderbook("BTCUSD", "P0", print, **bad)


def test_a_funding_book_whose_checksum_differs_is_still_handed_over_and_the_difference_logged_once(caplog):
    statuses = Recorder()
    session = make_session(statuses)
    spec = subs.book("fUSD", "P0")
    books = Recorder()
    session.subscribe_book(spec, lambda book: books.append((book.valid, book.bids(1))))
    connection = session.public[0]
    wire = Wire()
    connection.opened(wire)
    subscribed(connection, wire, spec, 9)
    connection.received(b"[9,[[0.0002,30,2,-1500],[0.0003,2,1,800]]]")
    with caplog.at_level("DEBUG", logger="bitfinex"):
        connection.received(b'[9,"cs",12345]')
        connection.received(b"[9,[0.0002,30,3,-1600]]")
        connection.received(b'[9,"cs",12345]')
    assert len(books) == 3 and all(valid for valid, _ in books)  # snapshot, then after each cs
    assert [e.kind for e in statuses if e.kind == st.CHECKSUM_MISMATCH] == []
    infos = [r for r in caplog.records if r.levelname == "INFO" and "not enforced" in r.getMessage()]
    assert len(infos) == 1
    assert [m for m in wire.sent if isinstance(m, dict) and m.get("event") == "unsubscribe"] == []
