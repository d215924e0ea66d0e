"""Flood control: one flooding user is slowed down, warned once, and nobody else notices."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.flood import FloodControl, FloodDecision, FloodOutcome

ALICE = 1
BOB = 2


def outcomes(flood: FloodControl, user_id: int, times: list[float]) -> list[FloodOutcome]:
    return [flood.check(user_id, now).outcome for now in times]


def test_messages_under_the_limit_are_all_allowed() -> None:
    flood = FloodControl(limit=20, window_seconds=10)
    assert outcomes(flood, ALICE, [i * 0.4 for i in range(20)]) == [FloodOutcome.ALLOW] * 20


def test_the_21st_message_in_10_seconds_is_warned_then_dropped() -> None:
    flood = FloodControl(limit=20, window_seconds=10)
    outcomes(flood, ALICE, [i * 0.1 for i in range(20)])
    warned = flood.check(ALICE, 2.0)
    assert warned.outcome is FloodOutcome.WARN
    assert warned.retry_after == pytest.approx(8.0)
    assert warned.wait_seconds() == 8
    assert FloodDecision(FloodOutcome.DROP, 1e-12).wait_seconds() == 1
    assert outcomes(flood, ALICE, [2.5, 3.0, 9.9]) == [FloodOutcome.DROP] * 3


def test_messages_are_allowed_again_once_the_window_has_room() -> None:
    flood = FloodControl(limit=20, window_seconds=10)
    outcomes(flood, ALICE, [0.0] * 20)
    assert flood.check(ALICE, 5.0).outcome is FloodOutcome.WARN
    assert flood.check(ALICE, 10.0).outcome is FloodOutcome.ALLOW
    assert outcomes(flood, ALICE, [10.0] * 19) == [FloodOutcome.ALLOW] * 19


def test_another_user_is_unaffected() -> None:
    flood = FloodControl(limit=20, window_seconds=10)
    outcomes(flood, ALICE, [i * 0.1 for i in range(100)])
    assert flood.check(BOB, 10.0) == FloodDecision(FloodOutcome.ALLOW)


def test_100_messages_in_10_seconds_are_slowed_to_the_limit_and_warned_once() -> None:
    flood = FloodControl(limit=20, window_seconds=10)
    result = outcomes(flood, ALICE, [i * 0.1 for i in range(100)])
    assert result.count(FloodOutcome.ALLOW) == 20
    assert result.count(FloodOutcome.WARN) == 1
    assert result.count(FloodOutcome.DROP) == 79


def test_a_continuous_flood_is_warned_at_most_once_per_window() -> None:
    flood = FloodControl(limit=20, window_seconds=10)
    result = outcomes(flood, ALICE, [i * 0.1 for i in range(1000)])
    assert result.count(FloodOutcome.WARN) <= 10
    assert result.count(FloodOutcome.ALLOW) <= 20 * 10


def test_idle_users_are_forgotten() -> None:
    flood = FloodControl(limit=3, window_seconds=10)
    for user_id in range(1000):
        flood.check(user_id, 0.0)
    assert len(flood) == 1000
    flood.check(5000, 10.0)
    assert len(flood) == 1
    flood.check(5001, 15.0)
    assert flood.prune(20.0) == 1
    assert len(flood) == 1


def test_a_clock_going_backwards_does_not_reopen_the_window() -> None:
    flood = FloodControl(limit=2, window_seconds=10)
    outcomes(flood, ALICE, [100.0, 100.0])
    assert flood.check(ALICE, 50.0).outcome is FloodOutcome.WARN


@pytest.mark.parametrize(("limit", "window"), [(0, 10.0), (1, 0.0), (1, -1.0)])
def test_nonsense_configuration_is_refused(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        FloodControl(limit, window)


@given(
    limit=st.integers(min_value=1, max_value=8),
    window=st.floats(min_value=0.5, max_value=20),
    gaps=st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=200),
    users=st.lists(st.integers(min_value=1, max_value=3), min_size=200, max_size=200),
)
def test_never_more_than_limit_allowed_in_any_window(
    limit: int, window: float, gaps: list[float], users: list[int]
) -> None:
    flood = FloodControl(limit, window)
    now = 0.0
    allowed: dict[int, list[float]] = {}
    warnings: dict[int, list[float]] = {}
    for gap, user_id in zip(gaps, users, strict=False):
        now += gap
        decision = flood.check(user_id, now)
        if decision.allowed:
            allowed.setdefault(user_id, []).append(now)
        else:
            assert 0 < decision.retry_after <= window * (1 + 1e-9)
        if decision.outcome is FloodOutcome.WARN:
            warnings.setdefault(user_id, []).append(now)
    for times in allowed.values():
        for index, start in enumerate(times):
            in_window = [t for t in times[index:] if t < start + window]
            assert len(in_window) <= limit
    for times in warnings.values():
        assert all(earlier + window <= later for earlier, later in itertools.pairwise(times))


@given(st.lists(st.floats(min_value=0.001, max_value=3), min_size=1, max_size=100))
def test_a_user_under_the_limit_is_never_refused(gaps: list[float]) -> None:
    flood = FloodControl(limit=1, window_seconds=3)
    now = 0.0
    for gap in gaps:
        now += 3.0 + gap
        assert flood.check(ALICE, now).allowed
