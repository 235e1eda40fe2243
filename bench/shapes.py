"""What decoding and shape checks cost per frame: ``python -m bench.shapes [--frames N] [--rounds N]``.

Runs in this process, no sockets: the benchmark's frame mix (:class:`bench.stream.Stream`: book
updates, ``cs`` frames, ``te``/``tu`` trades, tickers, heartbeats) is decoded with each decoder
available, and checked with the validators of its three channels
(:func:`bitfinex.protocol.shapes.channel_validator`). For each decoder it prints nanoseconds per
frame for:

- **bare**: ``orjson.loads`` / ``json.loads`` themselves (what a client without the codec's
  contract pays);
- **codec**: :data:`bitfinex.protocol.codec.DECODERS` (the same verdict with either decoder);
- **inline**: :data:`~bitfinex.protocol.codec.SHORT_INPUT_DECODERS` behind a length test, as a
  caller may inline it;
- **codec+validate**: codec, then the channel's validator;
- **validate**: that difference, the validator's cost in the path.

Every variant runs the same loop over the same frames; the variants are interleaved, round after
round, and each figure is the fastest round, which on a shared machine is the one least disturbed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Optional

from bitfinex.protocol import codec
from bitfinex.protocol.shapes import Validator, channel_validator

from bench.book import CHANNEL as BOOK_CHANNEL_ID
from bench.stream import TICKER_CHANNEL_ID, TRADES_CHANNEL_ID, Stream
from bench.wire import STREAM_SYMBOL, Subscription

VALIDATORS: dict[int, Validator] = {
    TICKER_CHANNEL_ID: channel_validator("ticker", STREAM_SYMBOL),
    TRADES_CHANNEL_ID: channel_validator("trades", STREAM_SYMBOL),
    BOOK_CHANNEL_ID: channel_validator("book", STREAM_SYMBOL, Subscription.BOOK_PRECISION),
}
"""The validator of each channel of the stream."""

Pairs = Sequence[tuple[Validator, bytes]]
"""Frames of the mix, each with the validator of its channel."""


def frame_mix(frames: int, seed: int) -> tuple[Pairs, str]:
    """The stream's frames, each with its channel's validator, and a line describing the mix."""
    stream = Stream(frames + 1, seed)
    payloads = [frame.payload for frame in stream.body[:frames]]
    pairs = [(VALIDATORS[json.loads(payload)[0]], payload) for payload in payloads]
    for validate, payload in pairs:  # every frame of the mix is valid
        validate(json.loads(payload))
    counts = stream.stats.by_kind
    total = sum(counts.values())
    mix = ", ".join(f"{kind} {count / total:.0%}" for kind, count in sorted(counts.items(), key=lambda item: -item[1]))
    size = sum(len(payload) for payload in payloads) / len(payloads)
    return pairs, f"{len(pairs):,} frames, {size:.0f} bytes on average: {mix}"


def _decode_loop(decode: Callable[[bytes], Any]) -> Callable[[Pairs], None]:
    def run(pairs: Pairs) -> None:
        for _validate, payload in pairs:
            decode(payload)

    return run


def _inline_loop(name: str) -> Callable[[Pairs], None]:
    short = codec.SHORT_INPUT_DECODERS[name]
    full = codec.DECODERS[name]
    limit = codec.SHORT_INPUT_LENGTH

    def run(pairs: Pairs) -> None:
        for _validate, payload in pairs:
            if len(payload) <= limit:
                short(payload)
            else:
                full(payload)

    return run


def _validate_loop(decode: Callable[[bytes], Any]) -> Callable[[Pairs], None]:
    def run(pairs: Pairs) -> None:
        for validate, payload in pairs:
            validate(decode(payload))

    return run


def _bare(name: str) -> Optional[Callable[[bytes], Any]]:
    if name == "json":
        return json.loads
    try:
        import orjson
    except ImportError:  # pragma: no cover - depends on the installed extras
        return None
    loads: Callable[[bytes], Any] = orjson.loads
    return loads


def measure(pairs: Pairs, rounds: int) -> dict[str, dict[str, float]]:
    """Nanoseconds per frame of each variant of each decoder (the fastest of ``rounds``)."""
    variants: dict[tuple[str, str], Callable[[Pairs], None]] = {}
    for name in codec.DECODERS:
        bare = _bare(name)
        if bare is not None:
            variants[name, "bare"] = _decode_loop(bare)
        variants[name, "codec"] = _decode_loop(codec.DECODERS[name])
        variants[name, "inline"] = _inline_loop(name)
        variants[name, "codec+validate"] = _validate_loop(codec.DECODERS[name])
    best = dict.fromkeys(variants, float("inf"))
    clock = time.perf_counter
    for _ in range(rounds):
        for key, run in variants.items():
            start = clock()
            run(pairs)
            best[key] = min(best[key], clock() - start)
    results: dict[str, dict[str, float]] = {}
    for (name, variant), seconds in best.items():
        results.setdefault(name, {})[variant] = seconds / len(pairs) * 1e9
    for figures in results.values():
        figures["validate"] = figures["codec+validate"] - figures["codec"]
    return results


def report(results: dict[str, dict[str, float]], mix: str) -> str:
    """The figures as a table, one row per decoder."""
    columns = ("bare", "codec", "inline", "codec+validate", "validate")
    lines = [f"frame mix: {mix}", "ns per frame (fastest round):", ""]
    lines.append(f"{'decoder':<8}" + "".join(f"{column:>16}" for column in columns))
    for name, figures in results.items():
        cells = "".join(f"{figures[column]:>16.1f}" if column in figures else f"{'-':>16}" for column in columns)
        lines.append(f"{name:<8}{cells}")
    lines.append("")
    for name, figures in results.items():
        share = figures["validate"] / figures["codec"] if figures["codec"] else 0.0
        lines.append(f"{name}: validating adds {figures['validate']:.1f} ns per frame, {share:.1%} of decoding")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.shapes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=20_000, help="frames in the mix (default 20,000)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of every variant (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the stream (default 1)")
    options = parser.parse_args(argv)
    pairs, mix = frame_mix(options.frames, options.seed)
    print(report(measure(pairs, options.rounds), mix))


if __name__ == "__main__":
    main()
