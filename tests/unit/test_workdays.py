"""The working-day calendar: official 2026 dates, config rules for 2027, deadline arithmetic."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.workdays import (
    MAX_CONSECUTIVE_DAYS_OFF,
    OFFICIAL_YEARS,
    HolidayRule,
    WorkingCalendar,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOGGER = "civic.workdays"

# 2027 has no official data in chinesecalendar 1.11.0; these stand in for the
# [[holidays]] entries an operator would add once the State Council publishes them.
SPRING_FESTIVAL_2027 = HolidayRule(
    name="春节",
    start=date(2027, 2, 5),  # a Friday
    end=date(2027, 2, 11),  # a Thursday
    workdays=(date(2027, 2, 13),),  # a Saturday
)


def no_official_data_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the "no official data" warnings logged by the calendar."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER and "no official holiday data" in record.getMessage()
    ]


# -- 2026: official data from chinese_calendar ------------------------------------


def test_official_data_covers_2026_but_not_2027() -> None:
    assert 2026 in OFFICIAL_YEARS
    assert 2027 not in OFFICIAL_YEARS


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "元旦"),
        (date(2026, 2, 16), "春节"),  # Monday, 除夕 eve of the Spring Festival
        (date(2026, 2, 23), "春节"),  # Monday, last day of the nine-day break
        (date(2026, 4, 6), "清明节"),
        (date(2026, 5, 5), "劳动节"),
        (date(2026, 6, 19), "端午节"),
        (date(2026, 9, 25), "中秋节"),
        (date(2026, 10, 7), "国庆节"),
    ],
)
def test_official_2026_holidays_on_weekdays_are_days_off_with_their_chinese_name(
    day: date, name: str
) -> None:
    calendar = WorkingCalendar()
    assert day.weekday() < 5
    assert not calendar.is_working_day(day)
    assert calendar.holiday_name(day) == name


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 4),  # Sunday after 元旦
        date(2026, 2, 14),  # Saturday before 春节
        date(2026, 2, 28),  # Saturday after 春节
        date(2026, 5, 9),  # Saturday after 劳动节
        date(2026, 9, 20),  # Sunday before 国庆节
        date(2026, 10, 10),  # Saturday after 国庆节
    ],
)
def test_official_2026_adjusted_weekend_days_are_working_days_without_a_holiday_name(
    day: date,
) -> None:
    calendar = WorkingCalendar()
    assert day.weekday() >= 5
    assert calendar.is_working_day(day)
    assert calendar.holiday_name(day) is None


def test_an_ordinary_2026_weekend_is_a_day_off_without_a_holiday_name() -> None:
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2026, 3, 7))  # Saturday
    assert calendar.holiday_name(date(2026, 3, 7)) is None
    assert calendar.is_working_day(date(2026, 3, 9))  # Monday


def test_years_with_official_data_log_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkingCalendar()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        calendar.add_working_days(date(2026, 9, 30), 10)
    assert caplog.records == []


def test_a_rule_for_a_year_with_official_data_is_ignored_with_one_warning_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    invented = HolidayRule(name="社区日", start=date(2026, 3, 10), end=date(2026, 3, 11))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        calendar = WorkingCalendar([invented])
    assert calendar.is_working_day(date(2026, 3, 10))
    assert calendar.holiday_name(date(2026, 3, 10)) is None
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "社区日" in messages[0]
    assert "2026" in messages[0]


def test_a_rule_across_new_year_applies_only_to_the_year_without_official_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    new_year = HolidayRule(name="元旦", start=date(2026, 12, 31), end=date(2027, 1, 1))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        calendar = WorkingCalendar([new_year])
    assert calendar.is_working_day(date(2026, 12, 31))  # official data: a Thursday at work
    assert not calendar.is_working_day(date(2027, 1, 1))  # the rule: a Friday off
    assert calendar.holiday_name(date(2027, 1, 1)) == "元旦"


# -- 2027: no official data ---------------------------------------------------------


def test_a_2027_rule_holiday_on_a_weekday_is_not_a_working_day() -> None:
    calendar = WorkingCalendar([SPRING_FESTIVAL_2027])
    assert date(2027, 2, 8).weekday() == 0
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.holiday_name(date(2027, 2, 8)) == "春节"


def test_a_2027_rule_workday_on_a_saturday_is_a_working_day() -> None:
    calendar = WorkingCalendar([SPRING_FESTIVAL_2027])
    assert date(2027, 2, 13).weekday() == 5
    assert calendar.is_working_day(date(2027, 2, 13))
    assert calendar.holiday_name(date(2027, 2, 13)) is None


def test_2027_without_rules_has_weekends_only() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2027, 2, 8))  # the Monday the rule would make a holiday
    assert not calendar.is_working_day(date(2027, 2, 13))  # Saturday
    assert not calendar.is_working_day(date(2027, 2, 14))  # Sunday
    assert calendar.holiday_name(date(2027, 2, 8)) is None


@pytest.mark.parametrize("rules", [(), (SPRING_FESTIVAL_2027,)])
def test_a_year_without_official_data_is_warned_about_exactly_once(
    caplog: pytest.LogCaptureFixture, rules: tuple[HolidayRule, ...]
) -> None:
    calendar = WorkingCalendar(rules)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        calendar.is_working_day(date(2027, 2, 8))
        calendar.holiday_name(date(2027, 2, 9))
        calendar.add_working_days(date(2027, 3, 1), 40)
        calendar.working_days_between(date(2027, 1, 1), date(2027, 12, 31))
    assert no_official_data_warnings(caplog) == [
        "no official holiday data for 2027: using weekends and the [[holidays]] entries "
        "of config.toml"
    ]


def test_each_year_without_official_data_gets_its_own_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calendar = WorkingCalendar()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        calendar.working_days_between(date(2026, 12, 1), date(2028, 1, 31))
        calendar.is_working_day(date(2003, 6, 2))  # before the data starts, too
    warnings = no_official_data_warnings(caplog)
    assert len(warnings) == 3
    assert [w.split(":")[0][-4:] for w in warnings] == ["2027", "2028", "2003"]


def test_each_calendar_warns_for_itself(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        WorkingCalendar().is_working_day(date(2027, 5, 3))
        WorkingCalendar().is_working_day(date(2027, 5, 3))
    assert len(no_official_data_warnings(caplog)) == 2


# -- counting working days ----------------------------------------------------------


def test_add_working_days_skips_the_whole_2026_national_day_holiday() -> None:
    calendar = WorkingCalendar()
    # Wed 30 Sep, then Thu 1 to Wed 7 Oct off, Thu 8 and Fri 9 worked,
    # Sat 10 Oct an adjusted working day (调休), Sun 11 off.
    assert calendar.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert calendar.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert calendar.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert calendar.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)


def test_add_working_days_backwards_skips_the_holiday_too() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert calendar.add_working_days(date(2026, 10, 5), -2) == date(2026, 9, 29)


def test_zero_working_days_is_today_when_today_is_a_working_day() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 3, 9), 0) == date(2026, 3, 9)
    assert calendar.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)


def test_a_report_on_friday_with_three_working_days_is_due_on_wednesday() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 3, 6), 3) == date(2026, 3, 11)
    assert calendar.add_working_days(date(2026, 3, 7), 3) == date(2026, 3, 11)


def test_working_days_between_counts_after_start_up_to_and_including_end() -> None:
    calendar = WorkingCalendar()
    assert calendar.working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0
    assert calendar.working_days_between(date(2026, 3, 9), date(2026, 3, 10)) == 1
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 11)) == 3
    assert calendar.working_days_between(date(2026, 10, 8), date(2026, 9, 30)) == -1


def test_next_working_day_after_the_spring_festival_eve() -> None:
    calendar = WorkingCalendar()
    assert calendar.next_working_day(date(2026, 2, 13)) == date(2026, 2, 14)  # 调休 Saturday
    assert calendar.next_working_day(date(2026, 2, 14)) == date(2026, 2, 24)
    assert calendar.next_working_day(date(2026, 2, 24), include_today=True) == date(2026, 2, 24)


def test_the_deadline_keeps_the_local_time_of_day_and_the_time_zone() -> None:
    calendar = WorkingCalendar()
    reported = datetime(2026, 9, 30, 16, 45, tzinfo=SHANGHAI)
    due = calendar.deadline(reported, 4)
    assert due == datetime(2026, 10, 12, 16, 45, tzinfo=SHANGHAI)
    assert due.tzinfo is SHANGHAI


def test_the_deadline_counts_on_the_local_date_not_the_utc_one() -> None:
    calendar = WorkingCalendar()
    # Friday 07:00 in Shanghai is still Thursday in UTC.
    reported = datetime(2026, 3, 5, 23, 0, tzinfo=UTC).astimezone(SHANGHAI)
    assert calendar.deadline(reported, 1) == datetime(2026, 3, 9, 7, 0, tzinfo=SHANGHAI)


def test_the_deadline_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WorkingCalendar().deadline(datetime(2026, 3, 5, 9, 0), 1)


def test_a_datetime_is_refused_where_a_date_is_expected() -> None:
    with pytest.raises(TypeError, match="not a datetime"):
        WorkingCalendar().is_working_day(datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))


# -- broken configuration -----------------------------------------------------------


def test_a_rule_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before start"):
        HolidayRule(name="错", start=date(2027, 5, 5), end=date(2027, 5, 1))


def test_a_rule_listing_one_of_its_own_days_off_as_a_workday_is_refused() -> None:
    with pytest.raises(ValueError, match="both a day off and an adjusted working day"):
        HolidayRule(
            name="错", start=date(2027, 5, 1), end=date(2027, 5, 5), workdays=(date(2027, 5, 2),)
        )


def test_two_rules_disagreeing_about_a_day_are_refused() -> None:
    off = HolidayRule(name="甲", start=date(2027, 5, 1), end=date(2027, 5, 5))
    worked = HolidayRule(
        name="乙", start=date(2027, 6, 1), end=date(2027, 6, 1), workdays=(date(2027, 5, 2),)
    )
    with pytest.raises(ValueError, match="甲"):
        WorkingCalendar([off, worked])


def test_a_year_of_holidays_raises_instead_of_looping_for_ever(
    caplog: pytest.LogCaptureFixture,
) -> None:
    everything = HolidayRule(name="全年", start=date(2027, 1, 1), end=date(2027, 12, 31))
    calendar = WorkingCalendar([everything])
    with pytest.raises(ValueError, match=f"no working day within {MAX_CONSECUTIVE_DAYS_OFF}"):
        calendar.add_working_days(date(2027, 3, 1), 1)
    with pytest.raises(ValueError, match="no working day"):
        calendar.next_working_day(date(2027, 3, 1), include_today=True)


# -- properties ---------------------------------------------------------------------

# Both sides of the official-data boundary, with a configured 2027 Spring Festival.
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
counts = st.integers(min_value=1, max_value=60)
CALENDAR = WorkingCalendar([SPRING_FESTIVAL_2027])


@given(d=days, n=counts)
def test_adding_working_days_always_lands_on_a_working_day(d: date, n: int) -> None:
    assert CALENDAR.is_working_day(CALENDAR.add_working_days(d, n))
    assert CALENDAR.is_working_day(CALENDAR.add_working_days(d, -n))


@given(d=days, n=counts)
def test_adding_one_more_working_day_lands_strictly_later(d: date, n: int) -> None:
    assert CALENDAR.add_working_days(d, n) < CALENDAR.add_working_days(d, n + 1)
    assert CALENDAR.add_working_days(d, -n - 1) < CALENDAR.add_working_days(d, -n)
    assert CALENDAR.add_working_days(d, -n) < d < CALENDAR.add_working_days(d, n)


@given(d=days, n=counts)
def test_counting_working_days_undoes_adding_them(d: date, n: int) -> None:
    assert CALENDAR.working_days_between(d, CALENDAR.add_working_days(d, n)) == n


@given(d=days, n=counts)
def test_going_back_n_working_days_returns_to_the_last_working_day_up_to_the_start(
    d: date, n: int
) -> None:
    later = CALENDAR.add_working_days(d, n)
    last_worked = d if CALENDAR.is_working_day(d) else CALENDAR.add_working_days(d, -1)
    assert CALENDAR.add_working_days(later, -n) == last_worked


@given(d=days, include_today=st.booleans())
def test_the_next_working_day_is_a_working_day_not_before_today(
    d: date, include_today: bool
) -> None:
    following = CALENDAR.next_working_day(d, include_today=include_today)
    assert CALENDAR.is_working_day(following)
    assert following >= d if include_today else following > d
    between = (d + timedelta(days=k) for k in range(1, (following - d).days))
    assert not any(CALENDAR.is_working_day(day) for day in between)
