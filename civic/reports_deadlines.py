"""When a report must be accepted and resolved, and when to remind and escalate.

Spec 02: "Deadlines (SLA) per category from config (default: accept within 1
working day, resolve within 5 working days, following common 12345 practice):
the scheduler reminds the assignee before a deadline and escalates to the
community secretary when missed."

What "within N working days" means here
---------------------------------------
12345 hotlines set time limits (办理时限) in working days counted from the day
after the order is received, and a limit "falls due" at the close of business
of its last day. That is the general rule of Chinese law for periods, which we
follow so a resident, a grid worker and the township read a deadline alike:

* Civil Code Art. 201: a period counted in days starts on the day *after* the
  event ("开始的当日不计入，自下一日开始计算"). So the day of submission never
  counts: :meth:`civic.workdays.WorkingCalendar.add_working_days` does exactly
  this, skipping weekends and public holidays, and counting adjusted working
  Saturdays/Sundays (调休) as working days.
* Civil Code Art. 203: the period ends at 24:00 of its last day, but "有业务时间的，
  停止业务活动的时间为截止时间" — where there are business hours, at their end.
  A community office has business hours, so a deadline is **18:00
  (:data:`CLOSE_OF_BUSINESS`) on the N-th working day after the day of
  submission**, in the community's time zone. Choosing 18:00 over 23:59 also
  means the escalation reaches the secretary at the end of a working day, not at
  midnight.

``0`` working days (the config's fire lanes and safety hazards: "accept the same
day") means: by 18:00 today when the report arrives on a working day before
18:00; otherwise by 18:00 of the next working day — nobody can be late for a
deadline that was already past when the report arrived.

Reminder and escalation
-----------------------
* The assignee is reminded at **09:00 (:data:`REMINDER_TIME`) on the day a
  deadline falls due** — "due today" at the start of that working day. When
  that moment is not after the submission (a same-day deadline), there is no
  reminder: the new-report notice is itself the call to act.
* The community's secretary is told **at the deadline** when the action is
  still missing (escalation, 督办). Each is sent once (the jobs use deterministic
  keys; the next session builds them).

Which moments restart the clock (the use cases apply these):

* submission: both deadlines, from the moment of submission;
* reassignment: the accept deadline restarts for the new assignee (never past a
  resolve deadline still ahead); the resolve deadline stays — the resident has
  waited since submission all the same;
* reopening (the reporter's "No"): the resolve deadline restarts from the
  reopening moment, with the category's full resolve period.

Pure: the calendar and ``now`` are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from civic.workdays import WorkingCalendar

__all__ = [
    "CLOSE_OF_BUSINESS",
    "REMINDER_TIME",
    "CategoryDeadlines",
    "DeadlinePolicy",
    "Deadlines",
    "deadlines_after_reassign",
    "deadlines_at_submission",
    "due_moment",
    "reminder_moment",
    "resolve_by_after_reopen",
]

CLOSE_OF_BUSINESS: Final = time(18, 0)
"""When a working day ends for deadlines (Civil Code Art. 203: close of business)."""

REMINDER_TIME: Final = time(9, 0)
"""When the assignee is reminded on the day a deadline falls due."""


@dataclass(frozen=True)
class CategoryDeadlines:
    """Working days to accept and to resolve a report of one category."""

    accept_working_days: int
    resolve_working_days: int

    def __post_init__(self) -> None:
        """Refuse periods config validation would refuse too."""
        if self.accept_working_days < 0 or self.resolve_working_days < 1:
            raise ValueError("accept takes 0 or more working days, resolve 1 or more")


@dataclass(frozen=True)
class DeadlinePolicy:
    """``[reports]`` defaults with the ``[[report_categories]]`` overrides."""

    default: CategoryDeadlines = CategoryDeadlines(1, 5)
    overrides: Mapping[str, CategoryDeadlines] = field(default_factory=dict)

    def for_category(self, category_code: str) -> CategoryDeadlines:
        """The periods of a category: its own override, else the defaults."""
        return self.overrides.get(category_code, self.default)


@dataclass(frozen=True)
class Deadlines:
    """A report's deadlines as aware datetimes (UTC in storage, shown in the community's zone)."""

    accept_by: datetime
    resolve_by: datetime


def due_moment(
    start: datetime, working_days: int, calendar: WorkingCalendar, timezone: str
) -> datetime:
    """18:00 local on the ``working_days``-th working day after ``start``'s local day.

    ``start`` must be aware; the result is in ``timezone`` (the community's).
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("deadlines need a timezone-aware start")
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone)
    day = local.date()
    if working_days == 0:
        if not (calendar.is_working_day(day) and local.time() < CLOSE_OF_BUSINESS):
            day = calendar.next_working_day(day)
    else:
        day = calendar.add_working_days(day, working_days)
    return _at(day, CLOSE_OF_BUSINESS, zone)


def reminder_moment(start: datetime, due: datetime, timezone: str) -> datetime | None:
    """09:00 in ``timezone`` on the due day, or ``None`` when that is not after ``start``.

    ``timezone`` is the community's: a deadline read back from the database is
    in UTC (:mod:`storage.types`), and 18:00 in Shanghai is 10:00 UTC of the same
    day but 18:00 in Los Angeles is 02:00 UTC of the *next* day. So the due day
    is taken after converting to the community's zone, never from ``due`` as
    given.
    """
    if due.tzinfo is None or due.utcoffset() is None:
        raise ValueError("deadlines need a timezone-aware due moment")
    zone = ZoneInfo(timezone)
    remind = _at(due.astimezone(zone).date(), REMINDER_TIME, zone)
    return remind if remind > start else None


def deadlines_at_submission(
    submitted_at: datetime,
    category_code: str,
    policy: DeadlinePolicy,
    calendar: WorkingCalendar,
    timezone: str,
) -> Deadlines:
    """Both deadlines of a report filed at ``submitted_at``."""
    periods = policy.for_category(category_code)
    return Deadlines(
        accept_by=due_moment(submitted_at, periods.accept_working_days, calendar, timezone),
        resolve_by=due_moment(submitted_at, periods.resolve_working_days, calendar, timezone),
    )


def deadlines_after_reassign(
    current: Deadlines,
    reassigned_at: datetime,
    category_code: str,
    policy: DeadlinePolicy,
    calendar: WorkingCalendar,
    timezone: str,
) -> Deadlines:
    """The new assignee gets a fresh accept period; the resolve deadline stays.

    While the resolve deadline is still ahead, the fresh accept deadline never
    falls after it: the report must still be resolved by the date the resident
    was given, and "accept by Monday, resolve by Friday" would tell the new
    assignee they have more time than they have.

    Once the resolve deadline has passed, capping would set an accept deadline in
    the past (no reminder, no escalation: the resolve deadline's escalation has
    run already), so the new desk gets the full accept period from the
    reassignment: ``accept_by`` after ``resolve_by``, which the desk's notice
    shows as "overdue since; accept by" and which gets its own jobs
    (:func:`civic.reports_reminders.deadline_jobs`).
    """
    periods = policy.for_category(category_code)
    accept_by = due_moment(reassigned_at, periods.accept_working_days, calendar, timezone)
    if current.resolve_by > reassigned_at:
        accept_by = min(accept_by, current.resolve_by)
    return Deadlines(accept_by=accept_by, resolve_by=current.resolve_by)


def resolve_by_after_reopen(
    reopened_at: datetime,
    category_code: str,
    policy: DeadlinePolicy,
    calendar: WorkingCalendar,
    timezone: str,
) -> datetime:
    """A reopened report gets the category's full resolve period again, from the reopening."""
    periods = policy.for_category(category_code)
    return due_moment(reopened_at, periods.resolve_working_days, calendar, timezone)


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone)
