"""The ticker's decisions, the job registry and the retry policy, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.jobs import DueJob, check_job_name
from scheduler.registry import JobRegistry
from scheduler.ticker import RetryPolicy, Step, TickReport, decide, describe
from storage.uow import SqlUnitOfWork

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def due_job(kind: str = "sessions.remind", stale_after: datetime | None = None) -> DueJob:
    return DueJob(1, kind, "42:48h", NOW - timedelta(hours=1), stale_after)


async def nothing(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
    return None


def test_a_known_job_that_is_still_useful_runs() -> None:
    assert decide(due_job(stale_after=NOW), NOW, {"sessions.remind"}) is Step.RUN
    assert decide(due_job(stale_after=None), NOW + timedelta(days=900), {"sessions.remind"}) is (
        Step.RUN
    )


def test_a_job_past_stale_after_is_skipped_even_if_nobody_knows_its_kind() -> None:
    stale = due_job(stale_after=NOW - timedelta(seconds=1))
    assert decide(stale, NOW, {"sessions.remind"}) is Step.SKIP_STALE
    assert decide(stale, NOW, set()) is Step.SKIP_STALE


def test_a_useful_job_of_an_unknown_kind_fails() -> None:
    assert decide(due_job(), NOW, {"ballots.close"}) is Step.FAIL_UNKNOWN


def test_retries_double_from_the_first_delay_up_to_the_cap_then_give_up() -> None:
    policy = RetryPolicy(max_attempts=6, first_delay_seconds=60, max_delay_seconds=300)
    delays = [policy.retry_at(n, NOW) for n in range(1, 7)]
    assert [(d - NOW).total_seconds() if d else None for d in delays] == [
        60,
        120,
        240,
        300,
        300,
        None,
    ]


@given(
    attempts=st.integers(min_value=0, max_value=10_000),
    max_attempts=st.integers(min_value=1, max_value=50),
    first=st.floats(min_value=0.001, max_value=3600),
)
def test_a_retry_is_always_later_within_the_cap_or_never(
    attempts: int, max_attempts: int, first: float
) -> None:
    policy = RetryPolicy(max_attempts, first, max(first, 7200.0))
    retry_at = policy.retry_at(attempts, NOW)
    if attempts >= max_attempts:
        assert retry_at is None
    else:
        assert retry_at is not None
        assert NOW < retry_at <= NOW + timedelta(seconds=policy.max_delay_seconds)


def test_a_retry_policy_that_makes_no_sense_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="first_delay_seconds"):
        RetryPolicy(first_delay_seconds=600, max_delay_seconds=60)


def test_a_kind_is_registered_once_and_named_capability_dot_step() -> None:
    registry = JobRegistry()
    registry.add("sessions.remind", nothing)
    assert "sessions.remind" in registry
    assert registry.get("sessions.remind") is nothing
    assert registry.get("ballots.close") is None
    with pytest.raises(ValueError, match="twice"):
        registry.add("sessions.remind", nothing)
    for bad in ("remind", "Sessions.remind", "sessions.", "sessions remind", "s." + "x" * 50):
        with pytest.raises(ValueError, match=r"capability\.step"):
            registry.add(bad, nothing)


def test_a_key_is_one_to_160_characters() -> None:
    check_job_name("ballots.close", "k" * 160)
    for bad in ("", "k" * 161):
        with pytest.raises(ValueError, match="1 to 160"):
            check_job_name("ballots.close", bad)


def test_a_tick_report_counts_outcomes_and_errors_read_as_type_and_text() -> None:
    report = TickReport()
    assert report.total == 0
    assert describe(RuntimeError("boom")) == "RuntimeError: boom"
    assert describe(TimeoutError()) == "TimeoutError"
