"""The monthly consultation calendar: which days a community meets, when the sessions
are created, and when those who will attend are reminded.

Spec 03 (每月1–2次公开协商), after the county survey's recommendation that "each
community holds 1–2 public consultations a month" (spec 00).

The cadence
-----------
A community's ``sessions`` entry of ``config.toml`` says when it meets: a weekday,
which occurrences of it in the month (1st–4th, or the last), a local time, and
what happens when that day is a public holiday. :class:`Cadence` is that rule;
:meth:`Cadence.from_config` reads the config entry and :func:`parse_cadence` the
way people write it ("2nd and 4th Saturday 19:30", "每月第二、四个周六 19:30").

A month's sessions
------------------
:func:`sessions_of_month` lists a month's slots in the community's time zone. A
slot is one occurrence of the cadence ("the 2nd Saturday of October 2026"); its
key names the community, the month and the occurrence (``HD:2026-10:2``,
``HD:2026-10:last``), never the date it is finally held on, so:

* the scheduler creates each slot exactly once (``(kind, key)`` runs once,
  :class:`civic.jobs.DueJob`), across restarts;
* a later change of holiday data (an operator adding next year's ``[[holidays]]``,
  an upgraded ``chinesecalendar``) moves a slot without making a second one.

Public holidays (``on_holiday``)
--------------------------------
A cadence day is "on a holiday" when it is a public holiday day off
(:meth:`civic.workdays.WorkingCalendar.holiday_name`): ordinary weekends are not
holidays (most communities meet on Saturday evenings), and an adjusted working
weekend day (调休, e.g. Saturday 14 February 2026) is not one either — residents
are at work that day, as on any working day, and an evening session is held as
planned. Per community (:class:`HolidayPolicy`):

* ``move``: to the next working day, at the same time (a session on Saturday
  3 October 2026, National Day, is held on Thursday 8 October);
* ``move_earlier``: to the previous working day;
* ``skip``: not held that month;
* ``keep``: held on the holiday all the same (a community that meets at the
  Spring Festival on purpose).

A session stays in its month — the spec's "1 or 2 a month" is counted per
month, and a move into the next month would give that month three. A move that
would leave the month goes the other way instead; if that leaves the month too,
the slot is skipped. Two slots that land on the same day (``weeks = [4, -1]`` in
a month with four of the weekday, or a move onto the other session) are held
once, under the key of the slot planned first.

Creation and reminders
----------------------
* A slot's session is created ``create_days_ahead`` days (``[sessions]``) before
  it starts (:func:`creation_job`), and never once it has started: a session in
  the past is refused (spec 03, "Bad input").
* Those who RSVP'd "attend" are reminded at offsets before the start
  (``reminder_offsets_hours``, default 48 and 2: :func:`reminder_jobs`). A
  reminder never goes out in quiet hours (``[broadcasts] quiet_hours_start`` /
  ``_end``, 22:00–07:00 by default): one that falls in them waits until they
  end. Spec 03: "A reminder more than half its offset late (e.g. a 2-hour
  reminder sent over an hour late, after downtime or quiet hours) is skipped,
  not sent" — so a reminder that quiet hours would push past that point is not
  planned at all, and one that falls due late is skipped
  (:func:`decide_reminder`).
* Staff are reminded of a session left unclosed ``unclosed_reminder_days``
  after it took place (spec 03, "Follow-up": 3 days by default,
  :func:`unclosed_job`).

Pure: the calendar, the time zone and ``now`` are passed in; datetimes are aware.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from civic.workdays import WorkingCalendar

__all__ = [
    "CREATE_JOB",
    "DEFAULT_QUIET_HOURS",
    "DEFAULT_REMINDER_OFFSETS",
    "LAST",
    "REMIND_JOB",
    "UNCLOSED_JOB",
    "Cadence",
    "HolidayPolicy",
    "QuietHours",
    "ReminderVerdict",
    "SessionJob",
    "Slot",
    "SlotFate",
    "creation_job",
    "decide_reminder",
    "describe_cadence",
    "nth_weekday",
    "offset_label",
    "parse_cadence",
    "reminder_jobs",
    "reminder_key",
    "sessions_of_month",
    "sessions_to_create",
    "slot_key",
    "stamp",
    "unclosed_job",
]

CREATE_JOB: Final = "sessions.create"
"""Creates one slot's session ahead of time; its key is the slot's key."""
REMIND_JOB: Final = "sessions.remind"
"""Reminds those who will attend; its key names the session, the offset and the start."""
UNCLOSED_JOB: Final = "sessions.unclosed"
"""Reminds staff of a session still not closed days after it took place."""

LAST: Final = -1
"""The last occurrence of the weekday in the month (``weeks = [-1]`` in config)."""

_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class HolidayPolicy(StrEnum):
    """What a community does when a cadence day is a public holiday (``on_holiday``)."""

    MOVE = "move"
    """To the next working day (spec 03: "moved to the next suitable day")."""
    MOVE_EARLIER = "move_earlier"
    """To the previous working day."""
    SKIP = "skip"
    """Not held that month."""
    KEEP = "keep"
    """Held on the holiday all the same."""


@dataclass(frozen=True)
class Cadence:
    """When a community meets: ``weeks`` occurrences of ``weekday`` each month, at ``at``.

    ``weekday`` counts from Monday = 0, like :meth:`datetime.date.weekday`;
    ``weeks`` holds 1 to 4 or :data:`LAST`, one or two of them (spec 03: 1 or 2
    sessions a month), in the order written.
    """

    weekday: int
    weeks: tuple[int, ...]
    at: time
    on_holiday: HolidayPolicy = HolidayPolicy.MOVE

    def __post_init__(self) -> None:
        """Refuse a rule that would not give 1 or 2 sessions a month."""
        if not 0 <= self.weekday <= 6:
            raise ValueError("a weekday is 0 (Monday) to 6 (Sunday)")
        if not 1 <= len(self.weeks) <= 2:
            raise ValueError("a community meets once or twice a month (spec 03)")
        if len(set(self.weeks)) != len(self.weeks):
            raise ValueError("the same week is listed twice")
        if any(week not in (1, 2, 3, 4, LAST) for week in self.weeks):
            raise ValueError("weeks are 1 to 4, or -1 for the last")
        if self.at.tzinfo is not None:
            raise ValueError("the time is local to the community: give it without a zone")

    @classmethod
    def from_config(
        cls, weekday: str, weeks: Sequence[int], at: str, on_holiday: str = "move"
    ) -> Cadence:
        """The rule of a ``[[communities]] sessions`` entry: ``weekday = "saturday"``,
        ``weeks = [2, 4]``, ``time = "19:30"``, ``on_holiday = "move"``."""
        name = weekday.strip().lower()
        if name not in _WEEKDAYS:
            raise ValueError(f"not a weekday: {weekday!r}")
        return cls(_WEEKDAYS.index(name), tuple(weeks), _hour_minute(at), HolidayPolicy(on_holiday))


def _hour_minute(text: str) -> time:
    found = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", text)
    if found is None:
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    return time(hour, minute)


# -- the cadence as people write it ---------------------------------------------------

_ORDINALS_EN: Final = {
    "1st": 1,
    "first": 1,
    "2nd": 2,
    "second": 2,
    "3rd": 3,
    "third": 3,
    "4th": 4,
    "fourth": 4,
    "last": LAST,
}
_NUMERALS_ZH: Final = {"1": 1, "一": 1, "2": 2, "二": 2, "3": 3, "三": 3, "4": 4, "四": 4}
_WEEKDAYS_ZH: Final = {
    "一": 0,
    "1": 0,
    "二": 1,
    "2": 1,
    "三": 2,
    "3": 2,
    "四": 3,
    "4": 3,
    "五": 4,
    "5": 4,
    "六": 5,
    "6": 5,
    "日": 6,
    "天": 6,
    "7": 6,
}
_EN: Final = re.compile(
    r"^(?:every\s+)?(?P<weeks>[a-z0-9]+(?:\s*(?:,|and|&)\s*[a-z0-9]+)?)\s+"
    r"(?P<day>[a-z]+?)s?(?:\s+of\s+the\s+month)?\s+(?:at\s+)?(?P<time>\d{1,2}:\d{2})$"
)
_ZH: Final = re.compile(
    r"^(?:每月)?(?P<weeks>.+?)个?(?:周|星期|礼拜)(?P<day>[一二三四五六日天1-7])"
    r"(?:的)?(?:晚上|下午|上午)?(?P<time>\d{1,2}[:：]\d{2})$"
)


def parse_cadence(text: str, on_holiday: HolidayPolicy = HolidayPolicy.MOVE) -> Cadence:
    """The rule in ``text``, in English or Chinese; ``ValueError`` if it is not one.

    ``"2nd and 4th Saturday 19:30"``, ``"last Friday at 19:00"``,
    ``"每月第二、四个周六 19:30"``, ``"每月最后一个星期日15:00"``. Full-width
    colons and spaces are read as their half-width forms. ``晚上 7:30`` is not
    read as 19:30: times are written on the 24-hour clock, as in ``config.toml``.
    """
    compact = " ".join(text.replace("\u3000", " ").strip().lower().split())
    english = _EN.match(compact)
    if english is not None:
        parts = re.split(r"\s*(?:,|and|&)\s*", english.group("weeks"))
        if any(part not in _ORDINALS_EN for part in parts):
            raise ValueError(f"not a cadence: {text!r}")
        day = english.group("day")
        if day not in _WEEKDAYS:
            raise ValueError(f"not a weekday in {text!r}")
        return Cadence(
            _WEEKDAYS.index(day),
            tuple(_ORDINALS_EN[part] for part in parts),
            _hour_minute(english.group("time")),
            on_holiday,
        )
    chinese = _ZH.match(compact.replace(" ", ""))
    if chinese is None:
        raise ValueError(f"not a cadence: {text!r}")
    return Cadence(
        _WEEKDAYS_ZH[chinese.group("day")],
        _weeks_zh(chinese.group("weeks"), text),
        _hour_minute(chinese.group("time")),
        on_holiday,
    )


def _weeks_zh(text: str, whole: str) -> tuple[int, ...]:
    """``第二、四`` / ``第2和第4`` / ``最后一`` → the weeks."""
    weeks: list[int] = []
    for part in re.split(r"[、,，和及与]", text):
        part = part.removeprefix("第")
        if part in ("最后一", "最后", "末"):
            weeks.append(LAST)
        elif part in _NUMERALS_ZH:
            weeks.append(_NUMERALS_ZH[part])
        else:
            raise ValueError(f"not a cadence: {whole!r}")
    return tuple(weeks)


def describe_cadence(cadence: Cadence) -> str:
    """The rule in English as :func:`parse_cadence` reads it (logs, the config check)."""
    names = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", LAST: "last"}
    weeks = " and ".join(names[week] for week in cadence.weeks)
    return f"{weeks} {_WEEKDAYS[cadence.weekday].capitalize()} {cadence.at:%H:%M}"


# -- a month's slots -------------------------------------------------------------------


class SlotFate(StrEnum):
    """What became of one occurrence of the cadence."""

    AS_PLANNED = "as_planned"
    MOVED = "moved"
    """Its day is a public holiday; held on ``Slot.day`` instead."""
    KEPT = "kept"
    """Its day is a public holiday, and the community meets all the same."""
    SKIPPED = "skipped"
    """Its day is a public holiday, and it is not held (or a move found no day in the month)."""
    MERGED = "merged"
    """It fell on the same day as an earlier slot of the month, which is held instead."""


@dataclass(frozen=True)
class Slot:
    """One occurrence of a community's cadence in one month."""

    key: str
    """``HD:2026-10:2``: community, month, occurrence; the creation job's key."""
    community_code: str
    week: int
    """1 to 4, or :data:`LAST`."""
    planned_day: date
    """The day the cadence names."""
    fate: SlotFate
    day: date | None
    """The day it is held; ``None`` when skipped or merged."""
    starts_at: datetime | None
    """When it starts, aware, in the community's zone; ``None`` when not held."""
    holiday: str | None = None
    """The holiday on ``planned_day`` (for "moved because of 国庆节")."""

    @property
    def held(self) -> bool:
        return self.starts_at is not None


def slot_key(community_code: str, year: int, month: int, week: int) -> str:
    """``HD:2026-10:2`` or ``HD:2026-10:last``: stable whatever day the slot is held on."""
    occurrence = "last" if week == LAST else str(week)
    return f"{community_code}:{year:04d}-{month:02d}:{occurrence}"


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    """The ``week``-th ``weekday`` of the month (1 to 4), or the last one (:data:`LAST`)."""
    days_in_month = _calendar.monthrange(year, month)[1]
    if week == LAST:
        last = date(year, month, days_in_month)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


def sessions_of_month(
    cadence: Cadence,
    community_code: str,
    year: int,
    month: int,
    calendar: WorkingCalendar,
    timezone: str,
) -> list[Slot]:
    """Every slot of the month, by planned day, with what became of it (module docstring).

    Held slots start at the cadence's time on their day in ``timezone`` (the
    community's). Skipped and merged slots are listed too, so staff can be told
    why a month has fewer sessions than usual.
    """
    zone = ZoneInfo(timezone)
    slots: list[Slot] = []
    taken: set[date] = set()
    planned_days = {week: nth_weekday(year, month, cadence.weekday, week) for week in cadence.weeks}
    for week, planned in sorted(planned_days.items(), key=lambda item: item[1]):
        holiday = calendar.holiday_name(planned)
        fate, day = _place(planned, holiday, cadence.on_holiday, calendar)
        if day is not None and day in taken:
            fate, day = SlotFate.MERGED, None
        starts_at = None if day is None else _local(day, cadence.at, zone)
        if day is not None:
            taken.add(day)
        key = slot_key(community_code, year, month, week)
        slots.append(Slot(key, community_code, week, planned, fate, day, starts_at, holiday))
    return slots


def _place(
    planned: date, holiday: str | None, policy: HolidayPolicy, calendar: WorkingCalendar
) -> tuple[SlotFate, date | None]:
    """The fate and the day of a slot planned on ``planned``."""
    if holiday is None:
        return SlotFate.AS_PLANNED, planned
    if policy is HolidayPolicy.KEEP:
        return SlotFate.KEPT, planned
    if policy is HolidayPolicy.SKIP:
        return SlotFate.SKIPPED, None
    later = calendar.next_working_day(planned)
    earlier = calendar.add_working_days(planned, -1)
    order = (later, earlier) if policy is HolidayPolicy.MOVE else (earlier, later)
    for day in order:
        if (day.year, day.month) == (planned.year, planned.month):
            return SlotFate.MOVED, day
    return SlotFate.SKIPPED, None


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``at`` on ``day`` in ``zone``, normalised through UTC (a time in a DST gap exists)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


# -- creating the sessions ahead of time --------------------------------------------------


def stamp(moment: datetime) -> str:
    """A moment in a key or payload: UTC to the second (``20261010T113000Z``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("session times are timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class SessionJob:
    """One job to schedule (:meth:`civic.ports.DueJobsRepository.schedule`)."""

    kind: str
    key: str
    due_at: datetime
    stale_after: datetime | None
    payload: dict[str, Any]


def creation_job(slot: Slot, days_ahead: int) -> SessionJob | None:
    """The job that creates ``slot``'s session ``days_ahead`` days before it starts.

    Stale once the session has started (a session in the past is never
    created); ``None`` for a slot that is not held.
    """
    if slot.starts_at is None or slot.day is None:
        return None
    if days_ahead < 0:
        raise ValueError("sessions are created ahead of time, not after")
    payload = {
        "community": slot.community_code,
        "slot": slot.key,
        "starts_at": stamp(slot.starts_at),
        "planned_day": slot.planned_day.isoformat(),
        "fate": slot.fate.value,
        "holiday": slot.holiday,
    }
    due = slot.starts_at - timedelta(days=days_ahead)
    return SessionJob(CREATE_JOB, slot.key, due, slot.starts_at, payload)


def _months_from(year: int, month: int, count: int) -> Iterable[tuple[int, int]]:
    for step in range(count):
        index = year * 12 + month - 1 + step
        yield index // 12, index % 12 + 1


def sessions_to_create(
    cadence: Cadence,
    community_code: str,
    now: datetime,
    days_ahead: int,
    calendar: WorkingCalendar,
    timezone: str,
) -> list[Slot]:
    """The held slots whose creation moment has come and that have not started yet.

    What a daily planning job (or the first run after downtime) creates, each
    under its slot key: creating a slot twice is a no-op in storage, so calling
    this as often as one likes is safe. Months are read from ``now``'s month in
    the community's zone to the month ``days_ahead`` days later.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now is timezone-aware")
    local = now.astimezone(ZoneInfo(timezone))
    horizon = (local + timedelta(days=days_ahead + 1)).date()
    count = (horizon.year - local.year) * 12 + horizon.month - local.month + 1
    due: list[Slot] = []
    for year, month in _months_from(local.year, local.month, count):
        for slot in sessions_of_month(cadence, community_code, year, month, calendar, timezone):
            job = creation_job(slot, days_ahead)
            if job is not None and job.due_at <= now < (job.stale_after or now):
                due.append(slot)
    return due


# -- reminders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """When no reminder is sent, local to the community: from ``start`` to ``end``.

    ``start`` after ``end`` spans midnight (the default, 22:00–07:00); equal
    times mean no quiet hours at all.
    """

    start: time = time(22, 0)
    end: time = time(7, 0)

    def __post_init__(self) -> None:
        """Refuse zoned times: quiet hours are read on the community's wall clock."""
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local times, without a zone")

    @classmethod
    def from_config(cls, start: str, end: str) -> QuietHours:
        """``[broadcasts] quiet_hours_start = "22:00"``, ``quiet_hours_end = "07:00"``."""
        return cls(_hour_minute(start), _hour_minute(end))

    def contains(self, moment: datetime, timezone: str) -> bool:
        """Whether ``moment`` falls in quiet hours on the community's clock."""
        wall = moment.astimezone(ZoneInfo(timezone)).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def ends_after(self, moment: datetime, timezone: str) -> datetime:
        """The first moment at or after ``moment`` outside quiet hours."""
        if not self.contains(moment, timezone):
            return moment
        zone = ZoneInfo(timezone)
        local = moment.astimezone(zone)
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)
        return _local(day, self.end, zone)


DEFAULT_QUIET_HOURS: Final = QuietHours()
DEFAULT_REMINDER_OFFSETS: Final = (timedelta(hours=48), timedelta(hours=2))
"""Spec 03: "default 2 days and 2 hours before" (``reminder_offsets_hours = [48, 2]``)."""


def offset_label(offset: timedelta) -> str:
    """``48h``, ``90m``: an offset in a key, in whole hours when it is some."""
    minutes = int(offset.total_seconds() // 60)
    if minutes <= 0 or offset != timedelta(minutes=minutes):
        raise ValueError("a reminder offset is a positive whole number of minutes")
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def reminder_key(session_id: int, offset: timedelta, starts_at: datetime) -> str:
    """``42:48h:20261010T113000Z``: the session, the offset and the start it reminds of.

    A change of time makes new keys (new jobs); the old jobs find the session's
    start changed and do nothing (:func:`decide_reminder`).
    """
    return f"{session_id}:{offset_label(offset)}:{stamp(starts_at)}"


def reminder_jobs(
    session_id: int,
    starts_at: datetime,
    now: datetime,
    timezone: str,
    offsets: Sequence[timedelta] = DEFAULT_REMINDER_OFFSETS,
    quiet: QuietHours = DEFAULT_QUIET_HOURS,
) -> list[SessionJob]:
    """The reminder jobs of a session starting at ``starts_at``, planned at ``now``.

    Each reminder is due ``offset`` before the start, or when quiet hours end if
    that moment falls in them; it is stale (skipped) more than half its offset
    after its moment. A reminder quiet hours would push past that point, or whose
    moment is already more than half its offset behind ``now`` (a session created
    or moved at short notice), is not planned: it would never be sent.
    """
    if starts_at <= now:
        return []
    jobs: list[SessionJob] = []
    for offset in sorted(set(offsets), reverse=True):
        moment = starts_at - offset
        stale_after = moment + offset / 2
        due = quiet.ends_after(moment, timezone)
        if due > stale_after or now > stale_after:
            continue
        payload = {
            "session_id": session_id,
            "offset_minutes": int(offset.total_seconds() // 60),
            "starts_at": stamp(starts_at),
        }
        key = reminder_key(session_id, offset, starts_at)
        jobs.append(SessionJob(REMIND_JOB, key, due, stale_after, payload))
    return jobs


class ReminderVerdict(StrEnum):
    """What a reminder job does when it falls due, checked in this order."""

    CANCELLED = "cancelled"
    """The session is gone or cancelled: no reminder after cancellation (spec 03)."""
    TIME_CHANGED = "time_changed"
    """The session was moved; the jobs of its new time speak."""
    LATE = "late"
    """More than half its offset late: skipped, not sent."""
    QUIET = "quiet"
    """Inside quiet hours: run again when they end (the moment is returned)."""
    SEND = "send"


def decide_reminder(
    job_starts_at: datetime,
    session_starts_at: datetime | None,
    cancelled: bool,
    offset: timedelta,
    now: datetime,
    timezone: str,
    quiet: QuietHours = DEFAULT_QUIET_HOURS,
) -> tuple[ReminderVerdict, datetime | None]:
    """Whether a reminder planned for a start at ``job_starts_at`` goes out at ``now``.

    ``session_starts_at`` is the session's start as stored now (``None`` when it
    is gone). With :attr:`ReminderVerdict.QUIET`, the moment quiet hours end;
    when that would be too late, the verdict is :attr:`ReminderVerdict.LATE`.
    A job run late by downtime is judged on ``now``, not on its due moment.
    """
    if session_starts_at is None or cancelled:
        return ReminderVerdict.CANCELLED, None
    if stamp(session_starts_at) != stamp(job_starts_at):
        return ReminderVerdict.TIME_CHANGED, None
    stale_after = job_starts_at - offset + offset / 2
    if now > stale_after:
        return ReminderVerdict.LATE, None
    if quiet.contains(now, timezone):
        resume = quiet.ends_after(now, timezone)
        if resume > stale_after:
            return ReminderVerdict.LATE, None
        return ReminderVerdict.QUIET, resume
    return ReminderVerdict.SEND, None


def unclosed_job(session_id: int, starts_at: datetime, days: int = 3) -> SessionJob:
    """The job that reminds staff of a session not closed ``days`` days after it started.

    Spec 03: "the scheduler reminds ... staff of sessions left unclosed 3 days
    after they took place" (``[sessions] unclosed_reminder_days``). Never stale:
    staff told late of an unclosed session still have it to close. The key
    names the start, so a session moved gets a new job and the old one finds the
    start changed; the job itself does nothing when the session is closed or
    cancelled by then.
    """
    if days < 1:
        raise ValueError("staff are reminded 1 or more days after the session")
    payload = {"session_id": session_id, "starts_at": stamp(starts_at)}
    key = f"{session_id}:{stamp(starts_at)}"
    return SessionJob(UNCLOSED_JOB, key, starts_at + timedelta(days=days), None, payload)
