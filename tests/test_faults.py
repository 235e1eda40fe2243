"""The fault-injection suite: every fault a real exchange throws, thrown by the local exchange
at a real client, with the invariants a bot's money depends on checked after each.

For each fault the client recovers (or reports, where recovery is impossible) within a bound
the test asserts; every subscription's callback receives data again; no order is sent twice;
no queued order is lost (each reached the exchange exactly once or was reported not sent); and
no thread or socket outlives the test (the ``no_leaks`` fixture). Each test prints its measured
recovery time (``pytest -s tests/test_faults.py | grep RECOVERY``).

Slow tier: these run in real time over loopback (recoveries, a 12 s soak). The timers behind
them are proven exactly, in simulated time, by ``test_memory.py``.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import threading
import time

import pytest

from helpers import LIVE_MARKET, Inbox, is_data, is_event, is_notification, sent_events, wait_until

pytestmark = [pytest.mark.slow, LIVE_MARKET, pytest.mark.usefixtures("no_leaks")]

HEARTBEAT_TIMEOUT = 1.0
RECOVERY_BOUND = 5.0
"""Seconds within which the client must be whole again after a fault (backoff base 0.05 s)."""


class Bot:
    """A client with an auth channel and four public channels, like a small trading bot."""

    def __init__(self, make_client, **options):
        settings = {"heartbeat_timeout": HEARTBEAT_TIMEOUT}
        settings.update(options)
        self.client, self.statuses = make_client(**settings)
        self.account = Inbox("account")
        self.channels = {
            "ticker": Inbox("ticker"), "trades": Inbox("trades"), "book": Inbox("book"), "candles": Inbox("candles"),
        }
        self.client.authenticate(self.account)
        self.client.subscribe_to_ticker("BTCUSD", self.channels["ticker"])
        self.client.subscribe_to_trades("ETHUSD", self.channels["trades"])
        self.client.subscribe_to_orderbook("BTCUSD", "P0", self.channels["book"])
        self.client.subscribe_to_candles("BTCUSD", "1m", self.channels["candles"])
        self.cids: list[int] = []

    def start(self) -> Bot:
        self.client.start()
        self.account.wait_for(is_event("auth", status="OK"))
        for inbox in self.channels.values():
            inbox.wait_for(is_data())
        return self

    def order(self) -> int:
        cid = self.client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.001", "1000")
        self.cids.append(cid)
        return cid

    def wait_whole(self, since: float, authentications: int, timeout: float = RECOVERY_BOUND) -> float:
        """Wait until the client is authenticated ``authentications`` times and every channel got a
        data frame after ``since``; return the seconds that took from ``since``."""
        self.account.wait_for(is_event("auth", status="OK"), timeout, count=authentications)
        counts = {name: len(inbox.items) for name, inbox in self.channels.items()}
        for name, inbox in self.channels.items():
            inbox.wait_for(is_data(), timeout, count=len(inbox.matching(is_data())) + 1)
            assert len(inbox.items) > counts[name]
        return time.monotonic() - since

    def unaccounted(self, exchange) -> list[int]:
        """Cids that neither reached the exchange nor were reported (not sent, or unconfirmed:
        written to a socket that died before the answer)."""
        sent = {f.frame[3]["cid"] for f in exchange.received_inputs("on")}
        reported = {e.cid for e in self.statuses.items if e.kind in ("order_not_sent", "order_unconfirmed")}
        return [cid for cid in self.cids if cid not in sent and cid not in reported]

    def check_orders(self, exchange) -> None:
        """No cid reached the exchange twice or both reached it and was reported not sent; none
        is unaccounted for."""
        sent = collections.Counter(f.frame[3]["cid"] for f in exchange.received_inputs("on"))
        not_sent = {e.cid for e in self.statuses.items if e.kind == "order_not_sent"}
        for cid in self.cids:
            assert sent[cid] <= 1, (cid, "sent twice")
            assert not (sent[cid] and cid in not_sent), (cid, "sent and reported not sent")
        assert self.unaccounted(exchange) == []


def recovery(fault: str, seconds: float) -> None:
    print(f"RECOVERY {fault}: {seconds:.3f} s")
    assert seconds < RECOVERY_BOUND


def test_socket_killed_mid_stream(bitfinex_exchange, make_client):
    bot = Bot(make_client).start()
    nonces_before = [auth["authNonce"] for auth in sent_events(bitfinex_exchange, "auth")]
    started = time.monotonic()
    assert bitfinex_exchange.faults.drop_connections() == 2
    bot.statuses.wait_kind("disconnected", connection="auth")
    queued = bot.order()  # made while the connection is down: written after re-auth
    recovery("socket killed", bot.wait_whole(started, authentications=2))
    bot.account.wait_for(is_notification("on-req", queued, "SUCCESS"))
    nonces = [auth["authNonce"] for auth in sent_events(bitfinex_exchange, "auth")]
    assert len(nonces) == 2 and int(nonces[1]) > int(nonces_before[0])
    assert bot.statuses.matching(lambda e: e.kind == "reconnecting" and e.attempt == 1 and e.delay <= 0.05)
    assert len(bot.statuses.matching(lambda e: e.kind == "resubscribed")) == 4
    bot.account.wait_for(lambda m: isinstance(m, list) and m[1] == "os", count=2)  # fresh snapshot to reconcile
    bot.check_orders(bitfinex_exchange)


def test_socket_goes_silent(bitfinex_exchange, make_client):
    bot = Bot(make_client).start()
    started = time.monotonic()
    bitfinex_exchange.faults.go_silent(seconds=HEARTBEAT_TIMEOUT * 1.5)
    in_doubt = bot.order()  # the exchange takes it but its answer is lost in the silence
    reason = bot.statuses.wait_kind("disconnected", timeout=HEARTBEAT_TIMEOUT * 3).reason
    assert "heartbeat" in reason
    bot.statuses.wait_kind("order_unconfirmed", cid=in_doubt)
    recovery("socket silent", bot.wait_whole(started, authentications=2, timeout=RECOVERY_BOUND + HEARTBEAT_TIMEOUT))
    assert sent_events(bitfinex_exchange, "ping")  # the watchdog probed before declaring the socket dead
    bot.account.wait_for(lambda m: isinstance(m, list) and m[1] == "os" and any(o[2] == in_doubt for o in m[2]))
    bot.check_orders(bitfinex_exchange)


def test_info_20051_server_restart(bitfinex_exchange, make_client):
    bot = Bot(make_client).start()
    started = time.monotonic()
    bitfinex_exchange.faults.send_info(20051)
    recovery("info 20051", bot.wait_whole(started, authentications=2))
    assert bot.statuses.matching(lambda e: e.kind == "server_info" and e.code == 20051)


def test_maintenance_20060_then_20061(bitfinex_exchange, make_client):
    bot = Bot(make_client).start()
    bitfinex_exchange.faults.send_info(20060)
    bot.statuses.wait_kind("paused", connection="auth")
    held = bot.order()
    # A ping goes out even while paused, after the order in call order: once its pong is back,
    # the exchange has seen everything the client wrote before it.
    barrier = bot.client.ping()
    bot.account.wait_for(is_event("pong", cid=barrier))
    assert all(f.frame[3]["cid"] != held for f in bitfinex_exchange.received_inputs("on"))
    started = time.monotonic()
    bitfinex_exchange.faults.send_info(20061)
    bot.account.wait_for(is_notification("on-req", held, "SUCCESS"))
    for inbox in bot.channels.values():
        inbox.wait_for(is_event("subscribed"), count=2)
    recovery("maintenance 20060/20061", bot.wait_whole(started, authentications=1))
    assert len(bot.statuses.matching(lambda e: e.kind == "resubscribed")) == 4
    bot.check_orders(bitfinex_exchange)


def test_auth_refused_reports_every_queued_order(bitfinex_exchange, make_client):
    bitfinex_exchange.faults.refuse_auth(code=10100, msg="apikey: invalid", times=None)
    bot = Bot(make_client)
    bot.client.start()
    cids = [bot.order() for _ in range(3)]
    started = time.monotonic()
    bot.statuses.wait_kind("auth_failed")
    for cid in cids:
        bot.statuses.wait_kind("order_not_sent", cid=cid)
        bot.account.wait_for(is_notification("on-req", cid, "ERROR"))
    late = bot.order()
    bot.statuses.wait_kind("order_not_sent", cid=late)
    recovery("auth refused (reported)", time.monotonic() - started)
    assert bitfinex_exchange.received_inputs("on") == []
    for inbox in bot.channels.values():  # public data is unaffected
        inbox.wait_for(is_data())
    bitfinex_exchange.faults.clear()
    bot.client.authenticate(bot.account)  # the user's way to try again
    bot.account.wait_for(is_event("auth", status="OK"))
    fine = bot.order()
    bot.account.wait_for(is_notification("on-req", fine, "SUCCESS"))
    bot.check_orders(bitfinex_exchange)


def test_nonce_too_small_after_a_restart_is_reported(bitfinex_exchange, make_client):
    first, _ = make_client(nonce_multiplier=5_000_000.0)  # seconds x 5e6: above microseconds
    account = Inbox()
    first.authenticate(account)
    first.start()
    account.wait_for(is_event("auth", status="OK"))
    first.stop()
    bot = Bot(make_client)  # the restarted bot, default multiplier: microseconds
    bot.client.start()
    cid = bot.order()
    started = time.monotonic()
    event = bot.statuses.wait_kind("auth_failed")
    assert "nonce" in event.reason and "nonce_multiplier" in event.reason
    bot.statuses.wait_kind("order_not_sent", cid=cid)
    recovery("nonce too small (reported)", time.monotonic() - started)
    bot.statuses.wait_kind("auth_failed", count=2)  # it keeps trying with fresh nonces
    bot.check_orders(bitfinex_exchange)


@pytest.mark.bitfinex_exchange(max_subscriptions=3)
def test_channel_cap_reached(bitfinex_exchange, make_client):
    client, statuses = make_client(heartbeat_timeout=HEARTBEAT_TIMEOUT)
    inboxes = [Inbox(symbol) for symbol in ("BTCUSD", "ETHUSD", "LTCUSD", "ETHBTC")]
    for inbox in inboxes:
        client.subscribe_to_ticker(inbox.name, inbox)
        client.subscribe_to_trades(inbox.name, inbox)
    started = time.monotonic()
    client.start()
    for inbox in inboxes:
        inbox.wait_for(is_event("subscribed"), count=2, timeout=RECOVERY_BOUND)
        inbox.wait_for(is_data(body=lambda body: isinstance(body, list)), count=2)
    recovery("channel cap reached", time.monotonic() - started)
    assert bitfinex_exchange.connection_count == 3
    assert not statuses.matching(lambda e: e.kind == "subscription_failed")


def test_a_thousand_malformed_frames(bitfinex_exchange, make_client, caplog):
    caplog.set_level(logging.WARNING, logger="bitfinex")
    bot = Bot(make_client).start()
    started = time.monotonic()
    bitfinex_exchange.faults.send_malformed(1000)
    for inbox in bot.channels.values():
        inbox.wait_for(is_data(), count=len(inbox.matching(is_data())) + 2)
    recovery("1,000 malformed frames", time.monotonic() - started)
    chan_ids = {inbox.items[0]["chanId"] for inbox in bot.channels.values()}
    for inbox in bot.channels.values():
        for message in inbox.items:
            assert isinstance(message, dict) or (message[0] in chan_ids and message[1] != "hb")
    assert not bot.statuses.matching(lambda e: e.kind == "disconnected")
    assert len(caplog.records) < 40  # the drop log is bounded
    cid = bot.order()
    bot.account.wait_for(is_notification("on-req", cid, "SUCCESS"))


def test_client_restarted(bitfinex_exchange, make_client):
    bot = Bot(make_client).start()
    before = bot.order()
    bot.account.wait_for(is_notification("on-req", before, "SUCCESS"))
    bot.client.stop()
    started = time.monotonic()
    again = Bot(make_client).start()
    after = again.order()
    again.account.wait_for(is_notification("on-req", after, "SUCCESS"))
    recovery("client restarted", time.monotonic() - started)
    assert after > before
    again.account.wait_for(lambda m: isinstance(m, list) and m[1] == "os" and any(o[2] == before for o in m[2]))


def test_many_threads_send_orders_at_once(bitfinex_exchange, make_client):
    bot = Bot(make_client).start()
    per_thread = collections.defaultdict(list)
    lock = threading.Lock()

    def trade(thread: int) -> None:
        for _ in range(25):
            cid = bot.client.new_order("EXCHANGE LIMIT", "BTCUSD", "0.001", "1000")
            with lock:
                per_thread[thread].append(cid)

    threads = [threading.Thread(target=trade, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    all_cids = [cid for cids in per_thread.values() for cid in cids]
    assert len(set(all_cids)) == 200
    bot.account.wait_for(is_notification("on-req"), count=200)  # answered, so in the exchange's log
    order_at_exchange = [f.frame[3]["cid"] for f in bitfinex_exchange.received_inputs("on")]
    assert sorted(order_at_exchange) == sorted(all_cids)
    for cids in per_thread.values():
        positions = [order_at_exchange.index(cid) for cid in cids]
        assert positions == sorted(positions)


def test_soak_with_random_faults(bitfinex_exchange, make_client):
    """Random faults while the bot trades; the invariants hold at the end. ``BITFINEX_SOAK_SECONDS``
    makes it longer than the CI default."""
    duration = float(os.environ.get("BITFINEX_SOAK_SECONDS", "12"))
    bot = Bot(make_client).start()
    rng = random.Random(20261125)
    faults = [
        lambda: bitfinex_exchange.faults.drop_connections(),
        lambda: bitfinex_exchange.faults.go_silent(seconds=HEARTBEAT_TIMEOUT * 1.2),
        lambda: bitfinex_exchange.faults.send_info(20051),
        lambda: (bitfinex_exchange.faults.send_info(20060), time.sleep(0.2), bitfinex_exchange.faults.send_info(20061)),
        lambda: bitfinex_exchange.faults.send_malformed(50),
        lambda: bitfinex_exchange.faults.drop_connections(code=1001, reason="going away"),
    ]
    deadline = time.monotonic() + duration
    injected = 0
    while time.monotonic() < deadline:
        rng.choice(faults)()
        injected += 1
        for _ in range(rng.randint(1, 5)):
            bot.order()
        time.sleep(rng.uniform(0.3, 1.2))
    bitfinex_exchange.faults.clear()
    settled = time.monotonic()
    for inbox in bot.channels.values():
        inbox.wait_for(is_data(), timeout=RECOVERY_BOUND + HEARTBEAT_TIMEOUT, count=len(inbox.matching(is_data())) + 1)
    last = bot.order()
    bot.account.wait_for(is_notification("on-req", last, "SUCCESS"), timeout=RECOVERY_BOUND)
    wait_until(lambda: not bot.unaccounted(bitfinex_exchange), what="every order accounted for")
    print(f"SOAK {duration:.0f} s: {injected} faults, {len(bot.cids)} orders, recovered in {time.monotonic() - settled:.3f} s")
    bot.check_orders(bitfinex_exchange)
