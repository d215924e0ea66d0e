"""The monthly session calendar: cadences, holidays moved or skipped, creation and reminders."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.sessions_calendar import (
    CREATE_JOB,
    LAST,
    REMIND_JOB,
    UNCLOSED_JOB,
    Cadence,
    HolidayPolicy,
    QuietHours,
    ReminderVerdict,
    SlotFate,
    creation_job,
    decide_reminder,
    describe_cadence,
    nth_weekday,
    parse_cadence,
    reminder_jobs,
    sessions_of_month,
    sessions_to_create,
    unclosed_job,
)
from civic.workdays import HolidayRule, WorkingCalendar

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
SAT = 5
FRI = 4
CAL = WorkingCalendar()
H = timedelta(hours=1)

# 2027 has no official data in chinesecalendar 1.11.0: these stand in for the
# [[holidays]] entries an operator adds once the State Council publishes them
# (Spring Festival 2027 is on Saturday 6 February).
CAL_2027 = WorkingCalendar(
    [
        HolidayRule("元旦", date(2027, 1, 1), date(2027, 1, 3)),
        HolidayRule("春节", date(2027, 2, 5), date(2027, 2, 11), workdays=(date(2027, 2, 13),)),
    ]
)


def sat(weeks: tuple[int, ...], policy: HolidayPolicy = HolidayPolicy.MOVE) -> Cadence:
    return Cadence(SAT, weeks, time(19, 30), policy)


def held_days(cadence: Cadence, year: int, month: int, cal: WorkingCalendar = CAL) -> list[date]:
    slots = sessions_of_month(cadence, "HD", year, month, cal, TZ)
    return [s.day for s in slots if s.day is not None]


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


# -- the cadence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weekday", "weeks", "clock"),
    [
        ("2nd and 4th Saturday 19:30", SAT, (2, 4), time(19, 30)),
        ("1st Saturday 19:30", SAT, (1,), time(19, 30)),
        ("last Friday at 19:00", FRI, (LAST,), time(19)),
        ("Second & last Sundays 15:00", 6, (2, LAST), time(15)),
        ("every 3rd saturday of the month 9:30", SAT, (3,), time(9, 30)),
        ("每月第二、四个周六 19:30", SAT, (2, 4), time(19, 30)),
        ("第2和第4个星期六19：30", SAT, (2, 4), time(19, 30)),
        ("每月最后一个星期日15:00", 6, (LAST,), time(15)),
        ("每月第一个周五　19:00", FRI, (1,), time(19)),
    ],
)
def test_parse_cadence_reads_english_and_chinese(
    text: str, weekday: int, weeks: tuple[int, ...], clock: time
) -> None:
    assert parse_cadence(text) == Cadence(weekday, weeks, clock)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Saturday 19:30",
        "5th Saturday 19:30",
        "1st, 2nd and 3rd Saturday 19:30",
        "2nd and 2nd Saturday 19:30",
        "2nd Caturday 19:30",
        "2nd Saturday 25:00",
        "2nd Saturday",
        "每月第五个周六 19:30",
        "每月第二个周八 19:30",
    ],
)
def test_parse_cadence_refuses_what_is_not_one_or_two_sessions_a_month(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every refusal is a ValueError
        parse_cadence(text)


def test_from_config_reads_the_communities_sessions_entry() -> None:
    cadence = Cadence.from_config("Saturday", [2, -1], "19:30", "skip")
    assert cadence == Cadence(SAT, (2, LAST), time(19, 30), HolidayPolicy.SKIP)
    with pytest.raises(ValueError, match="weekday"):
        Cadence.from_config("caturday", [2], "19:30")
    with pytest.raises(ValueError, match="once or twice"):
        Cadence.from_config("saturday", [1, 2, 3], "19:30")


cadences = st.builds(
    Cadence,
    weekday=st.integers(0, 6),
    weeks=st.lists(st.sampled_from([1, 2, 3, 4, LAST]), min_size=1, max_size=2, unique=True).map(
        tuple
    ),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    on_holiday=st.sampled_from(HolidayPolicy),
)


@given(cadences)
def test_describe_cadence_is_read_back_by_parse_cadence(cadence: Cadence) -> None:
    assert parse_cadence(describe_cadence(cadence), cadence.on_holiday) == cadence


# -- months ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "weekday", "week", "expected"),
    [
        (2026, 2, SAT, 1, date(2026, 2, 7)),  # February of 28 days, starting on a Sunday
        (2026, 2, SAT, LAST, date(2026, 2, 28)),
        (2028, 2, 1, LAST, date(2028, 2, 29)),  # a leap day that is the last Tuesday
        (2026, 8, SAT, 1, date(2026, 8, 1)),  # the month starts on the weekday
        (2026, 8, SAT, LAST, date(2026, 8, 29)),  # 31 days: 5 Saturdays
        (2026, 8, 0, LAST, date(2026, 8, 31)),  # 5 Mondays, the last on the 31st
        (2026, 4, 3, 4, date(2026, 4, 23)),  # 30 days
    ],
)
def test_nth_weekday(year: int, month: int, weekday: int, week: int, expected: date) -> None:
    assert nth_weekday(year, month, weekday, week) == expected


@given(cadences, st.integers(2004, 2035), st.integers(1, 12))
def test_every_month_has_its_sessions_on_the_right_weekdays(
    cadence: Cadence, year: int, month: int
) -> None:
    cadence = Cadence(cadence.weekday, cadence.weeks, cadence.at, HolidayPolicy.KEEP)
    slots = sessions_of_month(cadence, "HD", year, month, CAL, TZ)
    assert sorted(s.week for s in slots) == sorted(cadence.weeks)
    days_in_month = calendar.monthrange(year, month)[1]
    for slot in slots:
        assert slot.planned_day.weekday() == cadence.weekday
        assert (slot.planned_day.year, slot.planned_day.month) == (year, month)
        if slot.week == LAST:
            assert slot.planned_day.day > days_in_month - 7
        else:
            assert 7 * (slot.week - 1) < slot.planned_day.day <= 7 * slot.week
    held = [s for s in slots if s.held]
    distinct = {s.planned_day for s in slots}
    assert len(held) == len(distinct)  # 4th and last coincide in a month of four
    assert all(s.fate is SlotFate.MERGED for s in slots if not s.held)


@given(cadences, st.integers(2004, 2026), st.integers(1, 12))
def test_holidays_never_host_a_session_unless_the_policy_keeps_it(
    cadence: Cadence, year: int, month: int
) -> None:
    slots = sessions_of_month(cadence, "HD", year, month, CAL, TZ)
    days = [s.day for s in slots if s.day is not None]
    assert len(days) == len(set(days))
    assert 1 <= len(days) + sum(not s.held for s in slots) <= 2
    for slot in slots:
        assert (slot.holiday is None) == (CAL.holiday_name(slot.planned_day) is None)
        if slot.day is None:
            assert slot.starts_at is None
            continue
        assert slot.starts_at is not None
        assert slot.starts_at.date() == slot.day
        assert slot.starts_at.timetz().replace(tzinfo=None) == cadence.at
        assert (slot.day.year, slot.day.month) == (year, month)
        if cadence.on_holiday is not HolidayPolicy.KEEP:
            assert CAL.holiday_name(slot.day) is None
        if slot.fate is SlotFate.MOVED:
            assert CAL.is_working_day(slot.day)
            after = slot.day > slot.planned_day
            if cadence.on_holiday is HolidayPolicy.MOVE and after:
                assert slot.day == CAL.next_working_day(slot.planned_day)
        if cadence.on_holiday is HolidayPolicy.SKIP:
            assert slot.fate is not SlotFate.MOVED


@given(cadences, st.sampled_from(HolidayPolicy), st.integers(2004, 2030), st.integers(1, 12))
def test_slot_keys_are_stable_and_do_not_depend_on_holidays(
    cadence: Cadence, other: HolidayPolicy, year: int, month: int
) -> None:
    slots = sessions_of_month(cadence, "HD", year, month, CAL, TZ)
    again = sessions_of_month(cadence, "HD", year, month, CAL, TZ)
    moved = Cadence(cadence.weekday, cadence.weeks, cadence.at, other)
    elsewhere = sessions_of_month(moved, "HD", year, month, CAL_2027, TZ)
    keys = [s.key for s in slots]
    assert keys == [s.key for s in again]
    assert sorted(keys) == sorted(s.key for s in elsewhere)
    assert len(set(keys)) == len(keys)
    assert all(k.startswith(f"HD:{year:04d}-{month:02d}:") for k in keys)


# -- worked examples with the official 2026 holidays ------------------------------------


def test_spring_festival_2026_adjusted_working_saturdays_keep_their_sessions() -> None:
    # Saturdays 14 and 28 February 2026 are adjusted working days (调休): not holidays.
    assert held_days(sat((2, 4)), 2026, 2) == [date(2026, 2, 14), date(2026, 2, 28)]


@pytest.mark.parametrize(
    ("policy", "fate", "day"),
    [
        (HolidayPolicy.MOVE, SlotFate.MOVED, date(2026, 2, 24)),  # Tuesday after the break
        (HolidayPolicy.MOVE_EARLIER, SlotFate.MOVED, date(2026, 2, 14)),  # adjusted Saturday
        (HolidayPolicy.SKIP, SlotFate.SKIPPED, None),
        (HolidayPolicy.KEEP, SlotFate.KEPT, date(2026, 2, 21)),
    ],
)
def test_a_session_in_the_spring_festival_2026_break(
    policy: HolidayPolicy, fate: SlotFate, day: date | None
) -> None:
    (slot,) = sessions_of_month(sat((3,), policy), "DY", 2026, 2, CAL, TZ)
    assert (slot.key, slot.planned_day, slot.holiday) == ("DY:2026-02:3", date(2026, 2, 21), "春节")
    assert (slot.fate, slot.day) == (fate, day)
    if day is not None:
        assert slot.starts_at == at(day.year, day.month, day.day, 19, 30)


def test_national_day_2026_moves_the_first_saturday_to_thursday_8_october() -> None:
    (slot,) = sessions_of_month(sat((1,)), "CB", 2026, 10, CAL, TZ)
    assert (slot.fate, slot.day, slot.holiday) == (SlotFate.MOVED, date(2026, 10, 8), "国庆节")


def test_national_day_2026_move_earlier_would_leave_the_month_so_it_moves_later() -> None:
    # 30 September is the working day before; October's session stays in October.
    (slot,) = sessions_of_month(sat((1,), HolidayPolicy.MOVE_EARLIER), "CB", 2026, 10, CAL, TZ)
    assert (slot.fate, slot.day) == (SlotFate.MOVED, date(2026, 10, 8))


def test_the_2nd_saturday_of_october_2026_is_an_adjusted_working_day_and_held() -> None:
    assert held_days(sat((2, 4)), 2026, 10) == [date(2026, 10, 10), date(2026, 10, 24)]


def test_new_year_2026_moves_to_the_adjusted_working_sunday() -> None:
    # 3 January 2026 (Saturday) is 元旦; Sunday 4 January is an adjusted working day.
    (slot,) = sessions_of_month(sat((1,)), "CB", 2026, 1, CAL, TZ)
    assert (slot.fate, slot.day) == (SlotFate.MOVED, date(2026, 1, 4))


def test_mid_autumn_2026_moves_the_last_saturday_and_two_sessions_stay_two() -> None:
    # 26 September 2026 is 中秋节; Monday 28 September is the next working day.
    assert held_days(sat((2, LAST)), 2026, 9) == [date(2026, 9, 12), date(2026, 9, 28)]


def test_weeks_four_and_last_in_a_month_of_four_saturdays_are_held_once() -> None:
    slots = sessions_of_month(sat((4, LAST)), "YS", 2026, 2, CAL, TZ)
    assert [(s.key, s.fate) for s in slots] == [
        ("YS:2026-02:4", SlotFate.AS_PLANNED),
        ("YS:2026-02:last", SlotFate.MERGED),
    ]


def test_a_friday_session_moved_onto_the_other_session_is_held_once() -> None:
    # Friday sessions 1st and 2nd of May 2026: 1 May is Labour Day (1-5 May),
    # so the first moves to Wednesday 6 May; the 2nd Friday (8 May) is held.
    cadence = Cadence(FRI, (1, 2), time(19), HolidayPolicy.MOVE)
    assert held_days(cadence, 2026, 5) == [date(2026, 5, 6), date(2026, 5, 8)]


# -- a year without official data ----------------------------------------------------------


def test_2027_without_configured_holidays_keeps_every_saturday() -> None:
    assert held_days(sat((1,)), 2027, 2, WorkingCalendar()) == [date(2027, 2, 6)]


def test_2027_with_configured_spring_festival_moves_and_skips() -> None:
    assert held_days(sat((1,)), 2027, 2, CAL_2027) == [date(2027, 2, 12)]
    assert held_days(sat((1,), HolidayPolicy.SKIP), 2027, 2, CAL_2027) == []
    # The configured adjusted working Saturday 13 February hosts its session.
    assert held_days(sat((2,)), 2027, 2, CAL_2027) == [date(2027, 2, 13)]


def test_2027_a_move_that_would_leave_the_month_goes_the_other_way() -> None:
    # Friday 1 January 2027 (元旦, as configured): the day before is in December.
    cadence = Cadence(FRI, (1,), time(19), HolidayPolicy.MOVE_EARLIER)
    assert held_days(cadence, 2027, 1, CAL_2027) == [date(2027, 1, 4)]


def test_a_move_with_no_working_day_left_in_the_month_skips() -> None:
    rules = [HolidayRule("假日", date(2027, 3, 24), date(2027, 4, 2))]
    cal = WorkingCalendar(rules)
    (slot,) = sessions_of_month(sat((LAST,)), "HD", 2027, 3, cal, TZ)
    # Last Saturday of March 2027 is the 27th: the next working day is in April,
    # the previous one (Tuesday 23 March) is in March.
    assert (slot.fate, slot.day) == (SlotFate.MOVED, date(2027, 3, 23))
    cal = WorkingCalendar([HolidayRule("假日", date(2027, 3, 1), date(2027, 4, 2))])
    (slot,) = sessions_of_month(sat((LAST,)), "HD", 2027, 3, cal, TZ)
    assert (slot.fate, slot.day, slot.starts_at) == (SlotFate.SKIPPED, None, None)


def test_a_community_in_another_zone_meets_on_its_own_clock() -> None:
    (slot,) = sessions_of_month(sat((1,)), "HD", 2026, 7, CAL, "Asia/Urumqi")
    assert slot.starts_at is not None
    assert slot.starts_at.astimezone(UTC) == datetime(2026, 7, 4, 13, 30, tzinfo=UTC)


# -- creation ahead of time --------------------------------------------------------------


def test_creation_job_is_due_days_ahead_and_stale_once_started() -> None:
    (slot,) = sessions_of_month(sat((1,)), "CB", 2026, 10, CAL, TZ)
    job = creation_job(slot, 14)
    assert job is not None
    assert (job.kind, job.key) == (CREATE_JOB, "CB:2026-10:1")
    assert job.due_at == at(2026, 9, 24, 19, 30)
    assert job.stale_after == at(2026, 10, 8, 19, 30)
    assert job.payload["planned_day"] == "2026-10-03"
    assert job.payload["holiday"] == "国庆节"


def test_a_skipped_slot_has_no_creation_job() -> None:
    (slot,) = sessions_of_month(sat((3,), HolidayPolicy.SKIP), "DY", 2026, 2, CAL, TZ)
    assert creation_job(slot, 14) is None


def test_sessions_to_create_looks_across_months() -> None:
    cadence = sat((2, 4))
    due = sessions_to_create(cadence, "HD", at(2026, 9, 30, 12), 14, CAL, TZ)
    assert [s.key for s in due] == ["HD:2026-10:2"]  # 10 October; 24 October not yet
    due = sessions_to_create(cadence, "HD", at(2026, 10, 10, 20), 14, CAL, TZ)
    assert [s.key for s in due] == ["HD:2026-10:4"]  # the 2nd has started: never created


@given(st.integers(0, 400 * 24), st.integers(1, 60), cadences)
def test_stepping_the_clock_creates_every_future_session_exactly_when_due(
    hours: int, days_ahead: int, cadence: Cadence
) -> None:
    now = at(2026, 1, 1) + timedelta(hours=hours)
    due = sessions_to_create(cadence, "HD", now, days_ahead, CAL, TZ)
    assert len({s.key for s in due}) == len(due)
    for slot in due:
        assert slot.starts_at is not None
        assert slot.starts_at - timedelta(days=days_ahead) <= now < slot.starts_at
    # Every held slot starting within (now, now + days_ahead] is among them.
    month = now.date().replace(day=1)
    for step in range(3):
        y, m = divmod(month.year * 12 + month.month - 1 + step, 12)
        for slot in sessions_of_month(cadence, "HD", y, m + 1, CAL, TZ):
            if slot.starts_at and now < slot.starts_at <= now + timedelta(days=days_ahead):
                assert slot.key in {s.key for s in due}


# -- reminders -------------------------------------------------------------------------------

START = at(2026, 10, 10, 19, 30)


def test_default_reminders_are_two_days_and_two_hours_before() -> None:
    jobs = reminder_jobs(42, START, at(2026, 9, 26), TZ)
    assert [(j.kind, j.key, j.due_at, j.stale_after) for j in jobs] == [
        (REMIND_JOB, "42:48h:20261010T113000Z", START - 48 * H, START - 24 * H),
        (REMIND_JOB, "42:2h:20261010T113000Z", START - 2 * H, START - H),
    ]


def test_a_reminder_in_quiet_hours_waits_until_they_end() -> None:
    # A 09:30 session: the 2-hour reminder at 07:30 is fine; a 3-hour one at
    # 06:30 waits until 07:00 (half an hour late, within its 1.5 hours).
    start = at(2026, 10, 11, 9, 30)
    jobs = reminder_jobs(7, start, at(2026, 10, 1), TZ, offsets=[3 * H, 2 * H])
    assert [(j.key.split(":")[1], j.due_at) for j in jobs] == [
        ("3h", at(2026, 10, 11, 7)),
        ("2h", at(2026, 10, 11, 7, 30)),
    ]


def test_a_reminder_quiet_hours_would_make_too_late_is_dropped() -> None:
    # An 08:00 session: the 2-hour reminder at 06:00 would wait until 07:00,
    # exactly half its offset late: kept. A 07:30 session's would be 1.5 hours
    # late: dropped. A 48-hour one at 23:00 waits 8 hours: kept.
    keep = reminder_jobs(1, at(2026, 10, 11, 8), at(2026, 10, 1), TZ)
    assert [j.due_at for j in keep] == [at(2026, 10, 9, 8), at(2026, 10, 11, 7)]
    drop = reminder_jobs(1, at(2026, 10, 11, 7, 30), at(2026, 10, 1), TZ)
    assert [j.key.split(":")[1] for j in drop] == ["48h"]
    late_evening = reminder_jobs(1, at(2026, 10, 12, 23), at(2026, 10, 1), TZ, offsets=[48 * H])
    assert [j.due_at for j in late_evening] == [at(2026, 10, 11, 7)]


def test_a_session_created_at_short_notice_gets_only_useful_reminders() -> None:
    assert [j.key.split(":")[1] for j in reminder_jobs(1, START, START - 30 * H, TZ)] == [
        "48h",  # 18 hours late: within 24
        "2h",
    ]
    assert [j.key.split(":")[1] for j in reminder_jobs(1, START, START - 20 * H, TZ)] == ["2h"]
    assert reminder_jobs(1, START, START, TZ) == []


@given(
    st.integers(0, 72 * 60),
    st.lists(st.integers(1, 96 * 60), min_size=1, max_size=4),
    st.integers(0, 23),
    st.integers(0, 23),
)
def test_planned_reminders_are_never_in_quiet_hours_nor_too_late(
    minutes_before: int, offsets: list[int], quiet_start: int, quiet_end: int
) -> None:
    quiet = QuietHours(time(quiet_start), time(quiet_end))
    now = START - timedelta(minutes=minutes_before)
    deltas = [timedelta(minutes=m) for m in offsets]
    for job in reminder_jobs(3, START, now, TZ, deltas, quiet):
        offset = timedelta(minutes=job.payload["offset_minutes"])
        assert not quiet.contains(job.due_at, TZ)
        assert job.stale_after == START - offset / 2
        assert START - offset <= job.due_at <= job.stale_after
        assert now <= job.stale_after


@pytest.mark.parametrize(
    ("now", "session_start", "cancelled", "verdict", "resume"),
    [
        (START - 2 * H, START, False, ReminderVerdict.SEND, None),
        (START - H, START, False, ReminderVerdict.SEND, None),  # exactly half: still useful
        (START - H + timedelta(seconds=1), START, False, ReminderVerdict.LATE, None),
        (START - 2 * H, START, True, ReminderVerdict.CANCELLED, None),
        (START - 2 * H, None, False, ReminderVerdict.CANCELLED, None),
        (START - 2 * H, START + H, False, ReminderVerdict.TIME_CHANGED, None),
    ],
)
def test_decide_reminder(
    now: datetime,
    session_start: datetime | None,
    cancelled: bool,
    verdict: ReminderVerdict,
    resume: datetime | None,
) -> None:
    assert decide_reminder(START, session_start, cancelled, 2 * H, now, TZ) == (verdict, resume)


def test_a_reminder_run_late_into_quiet_hours_waits_or_is_skipped() -> None:
    # A 48-hour reminder for Monday 09:00 due Saturday 09:00, run at 23:00 after
    # downtime: quiet until Sunday 07:00, 22 hours late (< 24): it waits.
    start = at(2026, 10, 12, 9)
    assert decide_reminder(start, start, False, 48 * H, at(2026, 10, 10, 23), TZ) == (
        ReminderVerdict.QUIET,
        at(2026, 10, 11, 7),
    )
    # A 2-hour reminder for 08:00 run at 06:30: quiet until 07:00, one hour late: waits.
    start = at(2026, 10, 12, 8)
    assert decide_reminder(start, start, False, 2 * H, at(2026, 10, 12, 6, 30), TZ) == (
        ReminderVerdict.QUIET,
        at(2026, 10, 12, 7),
    )
    # For 07:45, 07:00 would be 1.25 hours late: skipped now.
    start = at(2026, 10, 12, 7, 45)
    assert decide_reminder(start, start, False, 2 * H, at(2026, 10, 12, 6), TZ) == (
        ReminderVerdict.LATE,
        None,
    )


@pytest.mark.parametrize(
    ("quiet", "local", "inside", "ends"),
    [
        (QuietHours(), time(21, 59), False, None),
        (QuietHours(), time(22), True, (1, time(7))),
        (QuietHours(), time(3), True, (0, time(7))),
        (QuietHours(), time(7), False, None),
        (QuietHours(time(13), time(14)), time(13, 30), True, (0, time(14))),
        (QuietHours(time(13), time(14)), time(23), False, None),
        (QuietHours(time(0), time(0)), time(3), False, None),
    ],
)
def test_quiet_hours(
    quiet: QuietHours, local: time, inside: bool, ends: tuple[int, time] | None
) -> None:
    moment = datetime.combine(date(2026, 10, 10), local, tzinfo=SHANGHAI)
    assert quiet.contains(moment, TZ) is inside
    expected = moment
    if ends is not None:
        expected = datetime.combine(date(2026, 10, 10 + ends[0]), ends[1], tzinfo=SHANGHAI)
    assert quiet.ends_after(moment, TZ) == expected
    assert QuietHours.from_config("22:00", "07:00") == QuietHours()


def test_staff_are_reminded_of_an_unclosed_session_three_days_after() -> None:
    job = unclosed_job(42, START)
    assert (job.kind, job.key) == (UNCLOSED_JOB, "42:20261010T113000Z")
    assert (job.due_at, job.stale_after) == (at(2026, 10, 13, 19, 30), None)
    assert unclosed_job(42, START, 5).due_at == at(2026, 10, 15, 19, 30)
    with pytest.raises(ValueError, match="1 or more"):
        unclosed_job(42, START, 0)
