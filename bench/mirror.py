"""What the account mirror costs per auth-channel message: the same frames, with and without it.

Run ``python -m bench.mirror`` (about half a minute) or ``python -m bench.mirror --quick``.

Two authenticated connections of the sans-I/O core (:class:`~bitfinex.protocol.account.AuthConnection`,
each with a user callback that does nothing, as a bot's would before its own work) read the same
pre-encoded account stream: one bare, one with an :class:`~bitfinex.protocol.mirror.AccountMirror`
as its observer (on the clock the client gives it, the reactor's ``time.time``). They read it in
lockstep, 200 frames at a time each, so whatever else the machine does weighs on both alike.
The time is everything ``received()`` does per message: decoding, routing, the shape check,
the user callback and, for the second, the mirror. Figures are medians over the repetitions.

The stream is what a busy bot's account channel carries. For each order the bot places (the
order is queued and written, outside the timed part, just before Bitfinex's frames about it
come): the ``on-req`` notification, ``on``, a partial fill (``te``, two ``wu``, ``tu``), the
``ou`` it causes, then either a fill of the rest (``te``, ``wu``\\ s, ``tu``, ``oc`` ``EXECUTED``)
or an amendment (``ou-req``, ``ou``) and a cancel (``oc-req``, ``oc`` ``CANCELED``); a ``bu``
every fifth order, a position update (``pu``) every seventh. The mirror keeps its default window
of 10,000 finished orders, so past that each order that ends evicts one. The account starts with
a snapshot of resting orders (and wallets) that stay open: the cost per message must not depend
on their number (O(1)), so the run is made for two sizes.

Also measured: what a reader pays for :meth:`AccountMirror.snapshot` after each message (a copy
of the parts that message changed; the open orders are one of them for an order message).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bitfinex.protocol.account import AuthConnection, Credentials
from bitfinex.protocol.callbacks import CallbackRunner
from bitfinex.protocol.codec import DECODER_NAME, dumps
from bitfinex.protocol.fields import order_array
from bitfinex.protocol.mirror import AccountMirror, MirrorOptions
from bitfinex.protocol.pipeline import OrderPipeline, PendingInput
from bitfinex.protocol.signing import NonceGenerator, Secret

FIRST_CID = 1_700_000_000_000
FIRST_ID = 50_000_000
MTS = 1_700_000_000_000
BLOCK = 200
"""Frames each connection reads in turn."""


class _Wire:
    """A socket that takes every write."""

    def write(self, data: bytes) -> bool:
        return True

    def reconnect(self, reason: str) -> None:
        raise AssertionError(f"the benchmark's connection asked to reconnect: {reason}")

    def wake_after(self, delay: float) -> None:
        pass


class _Sink:
    def channel_ended(self, connection: Any, channel: Any) -> None:
        pass

    def channel_refused(self, connection: Any, channel: Any, event: dict[str, Any]) -> None:
        pass


def _ignore(message: Any) -> None:
    """The user's auth callback: does nothing."""


def _order(order_id: int, cid: int, amount: float, amount_orig: float, status: str, price: float = 30_000.0) -> list[Any]:
    return order_array({
        "id": order_id, "cid": cid, "symbol": "tBTCUSD", "mts_create": MTS, "mts_update": MTS + 1,
        "amount": amount, "amount_orig": amount_orig, "type": "EXCHANGE LIMIT", "flags": 0, "status": status,
        "price": price, "price_avg": price if amount != amount_orig else 0, "notify": 0, "hidden": 0,
        "routing": "API>BFX",
    })


def _trade(trade_id: int, order_id: int, cid: int, amount: float, fee: Optional[float]) -> list[Any]:
    return [trade_id, "tBTCUSD", MTS + 2, order_id, amount, 30_000.0, "EXCHANGE LIMIT", 30_000.0, 1,
            fee, "BTC" if fee is not None else None, cid]


def _wallet(currency: str, balance: float) -> list[Any]:
    return ["exchange", currency, balance, 0, balance * 0.9, "Exchange 0.1 BTC for USD @ 30000", None]


def _answer(request: str, info: list[Any], text: str) -> list[Any]:
    return [0, "n", [MTS, request, None, None, info, None, "SUCCESS", text]]


@dataclass
class Stream:
    """The account's snapshots, then the stream; the order each stretch of the stream is about."""

    snapshots: list[bytes]
    frames: list[bytes]
    inputs: list[PendingInput]
    """What placed each order."""
    starts: list[int]
    """Where in :attr:`frames` each order's frames begin."""


def build_stream(orders: int, open_orders: int) -> Stream:
    """The stream of ``orders`` orders, on an account with ``open_orders`` resting orders."""
    rows = [_order(FIRST_ID - 1 - i, FIRST_CID - 1 - i, 0.01, 0.01, "ACTIVE", 20_000.0 - i) for i in range(open_orders)]
    wallets = [_wallet(currency, 1000.0) for currency in ("USD", "BTC", "ETH")]
    snapshots = [dumps([0, "ps", []]), dumps([0, "ws", wallets]), dumps([0, "os", rows]), dumps([0, "bu", [1e6, 1e6]])]
    frames: list[list[Any]] = []
    inputs: list[PendingInput] = []
    starts: list[int] = []
    trade_id = 900_000_000
    for n in range(orders):
        cid, order_id = FIRST_CID + n, FIRST_ID + n
        payload = {"cid": cid, "type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.5", "price": "30000"}
        inputs.append(PendingInput("on", [0, "on", None, payload], (cid,)))
        starts.append(len(frames))
        frames.append(_answer("on-req", _order(order_id, cid, 0.5, 0.5, "ACTIVE"),
                              "Submitting exchange limit buy order for 0.5 BTC."))
        frames.append([0, "on", _order(order_id, cid, 0.5, 0.5, "ACTIVE")])
        trade_id += 1
        frames.append([0, "te", _trade(trade_id, order_id, cid, 0.2, None)])
        frames.append([0, "wu", _wallet("BTC", 1000.2)])
        frames.append([0, "wu", _wallet("USD", 994.0)])
        frames.append([0, "tu", _trade(trade_id, order_id, cid, 0.2, -0.0002)])
        frames.append([0, "ou", _order(order_id, cid, 0.3, 0.5, "PARTIALLY FILLED @ 30000(0.2)")])
        if n % 2 == 0:
            trade_id += 1
            frames.append([0, "te", _trade(trade_id, order_id, cid, 0.3, None)])
            frames.append([0, "wu", _wallet("BTC", 1000.5)])
            frames.append([0, "wu", _wallet("USD", 985.0)])
            frames.append([0, "tu", _trade(trade_id, order_id, cid, 0.3, -0.0003)])
            frames.append([0, "oc", _order(order_id, cid, 0, 0.5, "EXECUTED @ 30000(0.3): was PARTIALLY FILLED @ 30000(0.2)")])
        else:
            amended = _order(order_id, cid, 0.3, 0.5, "PARTIALLY FILLED @ 30000(0.2)", 29_990.0)
            frames.append(_answer("ou-req", amended, "Submitting update to exchange limit buy order for 0.5 BTC."))
            frames.append([0, "ou", amended])
            frames.append(_answer("oc-req", amended, f"Submitted for cancellation; waiting for confirmation (ID: {order_id})."))
            frames.append([0, "oc", _order(order_id, cid, 0.3, 0.5, "CANCELED was: PARTIALLY FILLED @ 30000(0.2)", 29_990.0)])
        if n % 5 == 0:
            frames.append([0, "bu", [1e6 + n, 1e6 + n]])
        if n % 7 == 0:
            frames.append([0, "pu", ["tBTCUSD", "ACTIVE", 0.1 * n, 30_000.0, 0, 0, 1.0, 0.01, 25_000.0, 5, None, 7,
                                     MTS, MTS + n, None, 0, None, 600.0, 60.0, None]])
    return Stream(snapshots, [dumps(frame) for frame in frames], inputs, starts)


def connection(mirror: Optional[AccountMirror], stream: Stream) -> AuthConnection:
    """An authenticated connection of the core, on a socket that takes everything, that has
    read the account's snapshots."""
    report = lambda event: None  # noqa: E731
    runner = CallbackRunner(report, time.perf_counter)
    auth = AuthConnection(
        credentials=Credentials("bench-key", Secret("bench-secret"), NonceGenerator()), filters=None, callback=_ignore,
        pipeline=OrderPipeline(lambda: 0.0), wall_ms=lambda: MTS, observer=mirror,
        events=_Sink(), report=report, runner=runner, clock=time.time,
    )
    auth.opened(_Wire())
    auth.received(dumps({"event": "auth", "status": "OK", "chanId": 0, "userId": 1}))
    for frame in stream.snapshots:
        auth.received(frame)
    return auth


def _new_mirror() -> AccountMirror:
    return AccountMirror(MirrorOptions(), runner=None, clock=time.time)  # what the client gives it


def run_once(stream: Stream) -> tuple[float, float, AccountMirror]:
    """Seconds per message of one pass over the stream, without and with the mirror."""
    mirror = _new_mirror()
    bare, mirrored = connection(None, stream), connection(mirror, stream)
    read_bare, read_mirrored = bare.received, mirrored.received
    frames, starts, inputs = stream.frames, stream.starts, stream.inputs
    clock = time.perf_counter
    without = with_ = 0.0
    placed = 0
    gc.collect()
    gc.disable()
    try:
        for start in range(0, len(frames), BLOCK):
            end = start + BLOCK
            while placed < len(starts) and starts[placed] < end:  # the bot places the order first
                bare.submit(inputs[placed])
                mirrored.submit(inputs[placed])
                placed += 1
            block = frames[start:end]
            began = clock()
            for frame in block:
                read_bare(frame)
            middle = clock()
            for frame in block:
                read_mirrored(frame)
            without += middle - began
            with_ += clock() - middle
    finally:
        gc.enable()
    for auth in (bare, mirrored):
        if auth.frames_dropped or auth.internal_errors:
            raise AssertionError(f"{auth.frames_dropped} dropped, {auth.internal_errors} internal errors")
    return without / len(frames), with_ / len(frames), mirror


def snapshot_cost(stream: Stream, rounds: int = 2_000) -> float:
    """Seconds a reader's ``snapshot()`` takes after each message of the stream's start."""
    mirror = _new_mirror()
    auth = connection(mirror, stream)
    mirror.snapshot()
    total = 0.0
    placed = 0
    for index, frame in enumerate(stream.frames[:rounds]):
        while placed < len(stream.starts) and stream.starts[placed] <= index:
            auth.submit(stream.inputs[placed])
            placed += 1
        auth.received(frame)
        start = time.perf_counter()
        mirror.snapshot()
        total += time.perf_counter() - start
    return total / min(rounds, len(stream.frames))


def main(argv: Optional[Sequence[str]] = None) -> dict[str, Any]:
    """Run the benchmark, print the table, and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=20_000, help="orders in the stream (default 20,000)")
    parser.add_argument("--open", type=int, nargs=2, default=(10, 10_000), metavar=("SMALL", "LARGE"),
                        help="resting orders in the account, two sizes (default 10 and 10,000)")
    parser.add_argument("--repetitions", type=int, default=None, help="passes of each kind (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="2,000 orders, 2 repetitions")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    arguments = parser.parse_args(argv)
    orders = 2_000 if arguments.quick else arguments.orders
    repetitions = arguments.repetitions or (2 if arguments.quick else 5)
    results: dict[str, Any] = {"decoder": DECODER_NAME, "orders": orders, "repetitions": repetitions, "sizes": {}}
    print(f"account mirror benchmark: {orders} orders per stream, {repetitions} repetitions, decoder {DECODER_NAME}")
    print(f"{'resting orders':>15} {'messages':>9} {'without µs/msg':>15} {'with µs/msg':>12} {'ratio':>6} "
          f"{'snapshot() µs':>14}")
    for size in arguments.open:
        stream = build_stream(orders, size)
        bare: list[float] = []
        mirrored: list[float] = []
        for _ in range(repetitions):
            without, with_, mirror = run_once(stream)
            bare.append(without)
            mirrored.append(with_)
        snap = mirror.snapshot()
        if len(snap.orders) != size or len(mirror.orders()) != min(orders, mirror.options.keep_closed):
            raise AssertionError(f"the mirror did not follow the stream: {len(snap.orders)} open, {mirror.counts()}")
        without, with_ = statistics.median(bare), statistics.median(mirrored)
        reader = snapshot_cost(stream)
        results["sizes"][size] = {
            "messages": len(stream.frames), "without_us": without * 1e6, "with_us": with_ * 1e6, "ratio": with_ / without,
            "snapshot_us": reader * 1e6, "states": {state.value: count for state, count in mirror.counts().items()},
        }
        print(f"{size:>15} {len(stream.frames):>9} {without * 1e6:>15.2f} {with_ * 1e6:>12.2f} {with_ / without:>6.2f} "
              f"{reader * 1e6:>14.1f}")
    if arguments.json:
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
