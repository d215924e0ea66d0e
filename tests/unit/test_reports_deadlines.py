"""Report deadlines: 18:00 on the N-th working day after submission, in the community's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import load_config_file
from bot.config.places import holiday_rules_from_config
from bot.config.reports import deadline_policy_from_config
from civic.reports_deadlines import (
    CategoryDeadlines,
    DeadlinePolicy,
    Deadlines,
    deadlines_after_reassign,
    deadlines_at_submission,
    due_moment,
    reminder_moment,
    resolve_by_after_reopen,
)
from civic.workdays import WorkingCalendar
from tests.helpers import SHIPPED_CONFIG

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
CONFIG = load_config_file(SHIPPED_CONFIG)
POLICY = deadline_policy_from_config(CONFIG)
CALENDAR = WorkingCalendar(holiday_rules_from_config(CONFIG))


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def due(start: datetime, working_days: int) -> datetime:
    return due_moment(start, working_days, CALENDAR, TZ)


# -- the policy from config.toml ----------------------------------------------------


def test_the_shipped_policy_has_the_12345_defaults_and_the_category_overrides() -> None:
    assert POLICY.default == CategoryDeadlines(1, 5)
    assert POLICY.for_category("garbage") == CategoryDeadlines(1, 5)
    assert POLICY.for_category("fire_lane") == CategoryDeadlines(0, 2)
    assert POLICY.for_category("safety_hazard") == CategoryDeadlines(0, 3)
    # Only the resolve period is overridden: acceptance keeps the default.
    assert POLICY.for_category("illegal_building") == CategoryDeadlines(1, 10)


def test_periods_config_would_refuse_are_refused() -> None:
    with pytest.raises(ValueError, match="working days"):
        CategoryDeadlines(-1, 5)
    with pytest.raises(ValueError, match="working days"):
        CategoryDeadlines(1, 0)


# -- ordinary weeks ---------------------------------------------------------------------


def test_the_day_of_submission_does_not_count_and_the_deadline_is_at_close_of_business() -> None:
    wednesday = local(2026, 11, 25, 10)

    assert due(wednesday, 1) == local(2026, 11, 26, 18)
    assert due(wednesday, 5) == local(2026, 12, 2, 18)


def test_a_report_filed_late_in_the_evening_still_counts_from_the_next_day() -> None:
    assert due(local(2026, 11, 25, 23, 50), 1) == local(2026, 11, 26, 18)


@pytest.mark.parametrize(
    "filed", [local(2026, 11, 27, 16), local(2026, 11, 28, 10), local(2026, 11, 29, 22)]
)
def test_friday_saturday_and_sunday_reports_are_due_on_monday(filed: datetime) -> None:
    assert due(filed, 1) == local(2026, 11, 30, 18)


def test_days_are_counted_on_the_communitys_calendar_not_utcs() -> None:
    # 23:30 UTC on Wednesday is 07:30 on Thursday in Shanghai.
    filed = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)

    assert due(filed, 1) == local(2026, 11, 27, 18)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due(datetime(2026, 11, 25, 10), 1)


# -- same-day deadlines (0 working days) --------------------------------------------------


def test_zero_days_on_a_working_morning_means_by_1800_today() -> None:
    assert due(local(2026, 11, 25, 10), 0) == local(2026, 11, 25, 18)


def test_zero_days_after_close_of_business_means_by_1800_on_the_next_working_day() -> None:
    assert due(local(2026, 11, 25, 18), 0) == local(2026, 11, 26, 18)
    assert due(local(2026, 11, 27, 19), 0) == local(2026, 11, 30, 18)  # Friday evening


def test_zero_days_on_a_day_off_means_the_next_working_day() -> None:
    assert due(local(2026, 11, 28, 10), 0) == local(2026, 11, 30, 18)  # Saturday
    assert due(local(2026, 10, 3, 10), 0) == local(2026, 10, 8, 18)  # National Day


# -- official 2026 holidays and adjusted working days --------------------------------------


def test_national_day_2026_is_skipped_and_the_adjusted_saturday_counts() -> None:
    eve = local(2026, 9, 30, 10)  # Wednesday before 1-7 October off

    assert due(eve, 1) == local(2026, 10, 8, 18)
    # 8 Thu, 9 Fri, 10 Sat (调休 working day), 12 Mon, 13 Tue.
    assert due(eve, 5) == local(2026, 10, 13, 18)


def test_a_report_due_on_an_adjusted_working_saturday_is_due_that_saturday() -> None:
    assert due(local(2026, 10, 9, 10), 1) == local(2026, 10, 10, 18)


def test_an_adjusted_working_sunday_before_mid_autumn_counts() -> None:
    # 2026-09-20 is a Sunday worked for the Mid-Autumn/National Day holidays.
    assert due(local(2026, 9, 19, 10), 1) == local(2026, 9, 20, 18)


# -- 2027: the Spring Festival from config.toml's [[holidays]] ------------------------------


def test_the_2027_spring_festival_from_config_is_skipped() -> None:
    friday_before = local(2027, 2, 5, 10)  # 6-12 February off, then a weekend

    assert due(friday_before, 1) == local(2027, 2, 15, 18)
    assert due(friday_before, 5) == local(2027, 2, 19, 18)
    assert due(local(2027, 2, 8, 10), 0) == local(2027, 2, 15, 18)


# -- reminders and restarts ----------------------------------------------------------------


def test_the_reminder_is_at_0900_on_the_due_day() -> None:
    filed = local(2026, 11, 25, 10)

    assert reminder_moment(filed, due(filed, 1), TZ) == local(2026, 11, 26, 9)
    assert reminder_moment(filed, due(filed, 5), TZ) == local(2026, 12, 2, 9)


def test_a_same_day_deadline_filed_after_0900_has_no_reminder() -> None:
    filed = local(2026, 11, 25, 10)

    assert reminder_moment(filed, due(filed, 0), TZ) is None
    early = local(2026, 11, 25, 8)
    assert reminder_moment(early, due(early, 0), TZ) == local(2026, 11, 25, 9)


@pytest.mark.parametrize(
    ("zone", "filed_utc", "reminder_local"),
    [
        # Shanghai: due Thu 26 Nov 18:00 = 10:00 UTC; reminded that day at 09:00 local.
        ("Asia/Shanghai", datetime(2026, 11, 25, 2, tzinfo=UTC), datetime(2026, 11, 26, 9)),
        # Los Angeles: due Thu 26 Nov 18:00 = Fri 02:00 UTC; still reminded on Thursday.
        ("America/Los_Angeles", datetime(2026, 11, 25, 18, tzinfo=UTC), datetime(2026, 11, 26, 9)),
    ],
)
def test_a_deadline_read_back_in_utc_is_reminded_at_0900_on_the_local_due_day(
    zone: str, filed_utc: datetime, reminder_local: datetime
) -> None:
    stored = due_moment(filed_utc, 1, CALENDAR, zone).astimezone(UTC)  # as the database returns it

    remind = reminder_moment(filed_utc, stored, zone)

    assert remind is not None
    assert remind.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == reminder_local
    assert remind < stored


def test_submission_sets_both_deadlines_from_the_categorys_periods() -> None:
    filed = local(2026, 11, 25, 10)

    assert deadlines_at_submission(filed, "fire_lane", POLICY, CALENDAR, TZ) == Deadlines(
        accept_by=local(2026, 11, 25, 18), resolve_by=local(2026, 11, 27, 18)
    )


def test_reassigning_restarts_acceptance_but_keeps_the_resolve_deadline() -> None:
    filed = local(2026, 11, 25, 10)
    first = deadlines_at_submission(filed, "garbage", POLICY, CALENDAR, TZ)

    moved = deadlines_after_reassign(
        first, local(2026, 11, 27, 11), "garbage", POLICY, CALENDAR, TZ
    )

    assert moved == Deadlines(accept_by=local(2026, 11, 30, 18), resolve_by=first.resolve_by)


def test_a_late_reassignment_is_not_given_an_accept_deadline_after_the_resolve_deadline() -> None:
    filed = local(2026, 11, 25, 10)
    first = deadlines_at_submission(filed, "garbage", POLICY, CALENDAR, TZ)  # resolve Wed 18:00

    moved = deadlines_after_reassign(first, local(2026, 12, 2, 10), "garbage", POLICY, CALENDAR, TZ)

    assert first.resolve_by == local(2026, 12, 2, 18)
    assert moved == Deadlines(accept_by=first.resolve_by, resolve_by=first.resolve_by)


def test_a_reassignment_after_the_resolve_deadline_gets_a_fresh_accept_period() -> None:
    filed = local(2026, 11, 25, 10, 30)
    first = deadlines_at_submission(filed, "garbage", POLICY, CALENDAR, TZ)

    moved = deadlines_after_reassign(first, local(2026, 12, 3, 10), "garbage", POLICY, CALENDAR, TZ)

    assert moved == Deadlines(accept_by=local(2026, 12, 4, 18), resolve_by=local(2026, 12, 2, 18))


@given(hours=st.integers(min_value=0, max_value=24 * 20))
def test_a_reassigned_accept_deadline_is_never_in_the_past(hours: int) -> None:
    first = deadlines_at_submission(local(2026, 11, 25, 10), "garbage", POLICY, CALENDAR, TZ)
    reassigned = local(2026, 11, 25, 10) + timedelta(hours=hours)

    moved = deadlines_after_reassign(first, reassigned, "garbage", POLICY, CALENDAR, TZ)

    assert moved.accept_by > reassigned
    assert moved.resolve_by == first.resolve_by
    if first.resolve_by > reassigned:
        assert moved.accept_by <= first.resolve_by


def test_reopening_gives_the_full_resolve_period_again() -> None:
    reopened = local(2026, 12, 3, 15)  # Thursday

    assert resolve_by_after_reopen(reopened, "garbage", POLICY, CALENDAR, TZ) == local(
        2026, 12, 10, 18
    )


def test_a_policy_without_overrides_applies_its_defaults_everywhere() -> None:
    policy = DeadlinePolicy(CategoryDeadlines(2, 7))

    assert policy.for_category("fire_lane") == CategoryDeadlines(2, 7)
