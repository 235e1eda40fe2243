"""SEQ_ALL sequence numbers: reading, checking, stripping."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitfinex.protocol.sequence import (
    AUTH,
    PUBLIC,
    SequenceChecker,
    SequenceGap,
)

ORDER = [1185815098, None, 1575287436979, "tETHUSD", 1575287438515, 1575287438515, -2.5, -2.5]


@pytest.mark.parametrize(
    ("frame", "public", "auth", "stripped"),
    [
        ([232949, [60400, 76.1, 60406], 1], 1, None, [232949, [60400, 76.1, 60406]]),
        ([204928, "hb", 127], 127, None, [204928, "hb"]),
        ([204928, [2e-8, 0, 1], 50], 50, None, [204928, [2e-8, 0, 1]]),
        ([17082, "cs", -1323872376, 9], 9, None, [17082, "cs", -1323872376]),
        ([31, "te", [1, 2, 3.5, 4], 10], 10, None, [31, "te", [1, 2, 3.5, 4]]),
        ([0, "on", ORDER, 11, 3], 11, 3, [0, "on", ORDER]),
        ([0, "os", [], 12, 0], 12, None, [0, "os", []]),
        ([0, "n", [1, "on-req"], 13], 13, None, [0, "n", [1, "on-req"]]),
        ([0, "hb", 14], 14, None, [0, "hb"]),
        ([0, "hb"], None, None, [0, "hb"]),
        ([232949, [60400, 76.1]], None, None, [232949, [60400, 76.1]]),
        ([17082, "cs", -1323872376], None, None, [17082, "cs", -1323872376]),
        ([5], None, None, [5]),
    ],
)
def test_numbers_are_read_by_position_and_stripped(
    frame: list[Any], public: Any, auth: Any, stripped: list[Any]
) -> None:
    checker = SequenceChecker()
    checked = copy.deepcopy(frame)
    assert checker.check(checked, strip=True) is None
    assert checked == stripped
    assert (checker.last_public, checker.last_auth) == (public, auth)
    unstripped = copy.deepcopy(frame)
    SequenceChecker().check(unstripped)
    assert unstripped == frame


def test_events_have_no_numbers() -> None:
    event = {"event": "info", "version": 2}
    assert SequenceChecker().check(event, strip=True) is None
    assert event == {"event": "info", "version": 2}
    assert SequenceChecker().check([]) is None


def test_public_counter_spans_channels_and_heartbeats() -> None:
    checker = SequenceChecker()
    frames = [[1, [1.0]], [2, "hb"], [3, "cs", 5], [1, "te", [1]], [2, [[1.0]]]]
    for number, frame in enumerate(frames, start=40):
        assert checker.check([*frame, number]) is None
    assert checker.last_public == 44


def test_public_gap_is_reported_once() -> None:
    checker = SequenceChecker()
    assert checker.check([1, [1.0], 1]) is None
    assert checker.check([1, [1.0], 2]) is None
    gap = checker.check([7, "hb", 5])
    assert gap == SequenceGap(PUBLIC, 3, 5, 7)
    assert gap is not None and gap.missing == 2
    assert checker.check([1, [1.0], 6]) is None


def test_repeated_or_older_number_is_a_gap() -> None:
    checker = SequenceChecker()
    checker.check([1, [1.0], 10])
    gap = checker.check([1, [1.0], 10])
    assert gap == SequenceGap(PUBLIC, 11, 10, 1)
    assert gap is not None and gap.missing == -1


def test_frames_without_numbers_are_accepted() -> None:
    checker = SequenceChecker()
    assert checker.check([1, [1.0]]) is None
    assert checker.check([1, "hb"]) is None
    assert checker.check([0, "hb"]) is None
    assert checker.last_public is None


def test_account_frames_carry_both_counters() -> None:
    checker = SequenceChecker()
    assert checker.check([0, "os", [], 1, 0]) is None  # syncing
    assert checker.check([0, "ps", [], 2, 0]) is None
    assert checker.check([0, "on", ORDER, 3, 1]) is None
    assert checker.check([0, "n", [1, "on-req"], 4, 1]) is None  # notifications repeat AUTH_SEQ
    assert checker.check([0, "oc", ORDER, 5, 2]) is None
    assert checker.check([5, "hb", 6]) is None
    assert checker.check([0, "hb", 7]) is None
    assert (checker.last_public, checker.last_auth) == (7, 2)
    assert checker.check([0, "te", [1], 8, 4]) == SequenceGap(AUTH, 3, 4, 0)
    assert checker.check([0, "tu", [1], 10, 5]) == SequenceGap(PUBLIC, 9, 10, 0)


def test_one_number_account_frames_either_reading() -> None:
    """Node: error notifications carry PUB_SEQ only. Protocol notes: ``*-req`` lack PUB_SEQ."""
    node_reading = SequenceChecker()
    node_reading.check([0, "on", ORDER, 20, 7])
    assert node_reading.check([0, "n", [1, "on-req", None, None, ORDER, None, "ERROR", "x"], 21]) is None
    assert node_reading.check([3, [1.0], 22]) is None
    assert node_reading.last_auth == 7

    auth_only_reading = SequenceChecker()
    auth_only_reading.check([0, "on", ORDER, 20, 7])
    assert auth_only_reading.check([0, "n", [1, "on-req"], 7]) is None
    assert auth_only_reading.check([0, "n", [1, "oc-req"], 8]) is None
    assert auth_only_reading.check([3, [1.0], 21]) is None
    assert (auth_only_reading.last_public, auth_only_reading.last_auth) == (21, 8)

    wrong = SequenceChecker()
    wrong.check([0, "on", ORDER, 20, 7])
    assert wrong.check([0, "n", [1, "on-req"], 30]) == SequenceGap(PUBLIC, 21, 30, 0)


def test_reset_forgets_both_counters() -> None:
    checker = SequenceChecker()
    checker.check([0, "on", ORDER, 100, 50])
    checker.reset()
    assert (checker.last_public, checker.last_auth) == (None, None)
    assert checker.check([1, "hb", 1]) is None
    assert checker.check([0, "on", ORDER, 2, 1]) is None


def test_strip_without_checking_leaves_the_counter_alone() -> None:
    checker = SequenceChecker()
    frame = [1, [1.0], 5]
    assert checker.check(frame) is None
    assert frame == [1, [1.0], 5]


FRAME_SHAPES = st.sampled_from(
    [[9, [1.0, 2, 3.5]], [9, [[1.0, 2, 3.5]]], [9, "hb"], [9, "cs", -5], [8, "te", [1, 2, 3.5, 4]]]
)


@settings(max_examples=200)
@given(
    frames=st.lists(FRAME_SHAPES, min_size=2, max_size=60),
    start=st.integers(1, 10**9),
    dropped=st.integers(0, 10**6),
)
def test_exactly_one_gap_per_lost_frame(frames: list[list[Any]], start: int, dropped: int) -> None:
    numbered = [[*frame, start + index] for index, frame in enumerate(frames)]
    checker = SequenceChecker()
    assert all(checker.check(copy.deepcopy(frame)) is None for frame in numbered)

    lost = 1 + dropped % (len(numbered) - 1)
    received = numbered[:lost] + numbered[lost + 1 :]
    checker.reset()
    gaps = [checker.check(copy.deepcopy(frame)) for frame in received]
    reported = [gap for gap in gaps if gap is not None]
    if lost == len(numbered) - 1:
        assert reported == []
    else:
        assert reported == [SequenceGap(PUBLIC, start + lost, start + lost + 1, received[lost][0])]
