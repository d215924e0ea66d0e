"""The working-day calendar: which days count when a deadline says "3 working days".

Report deadlines, escalations and consultation dates are counted in working days
(工作日), which in China are not simply Monday to Friday: public holidays are days
off, and some weekend days are adjusted working days (调休) declared each year by the
State Council's General Office. The ``chinese_calendar`` package ships those
official dates, but only for the years that existed when it was released
(1.11.0 covers 2004–2026 and raises ``NotImplementedError`` outside that range).

So this module wraps it:

* for a year the package covers, its official data is used and decides alone;
* for any other year, a day is a working day when it is Monday to Friday, unless
  a ``[[holidays]]`` entry of ``config.toml`` (a :class:`HolidayRule`) makes it a
  holiday, or a rule lists it as an adjusted working day. A warning is logged once
  per such year and calendar, so operators know to add that year's dates to the
  configuration (or to upgrade ``chinesecalendar``) when the State Council
  publishes them, usually in the preceding November.

Pure domain code: no clock reads, no I/O beyond ``logging``. ``chinese_calendar``
is a pure data library and is imported here only, behind this wrapper.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar

__all__ = ["MAX_CONSECUTIVE_DAYS_OFF", "OFFICIAL_YEARS", "HolidayRule", "WorkingCalendar"]

logger = logging.getLogger(__name__)

#: How many days in a row may be days off before the calendar gives up. The
#: longest real run is about 9 days (Spring Festival 2026); a longer run means a
#: broken configuration (e.g. a rule spanning a whole year), and searching on
#: would loop for ever or hide the mistake behind a date years away.
MAX_CONSECUTIVE_DAYS_OFF = 60

_ONE_DAY = timedelta(days=1)

#: ``chinese_calendar`` stores the English name of each holiday; residents read
#: the customary Chinese one.
_OFFICIAL_NAMES: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _official_years() -> range:
    """Return the years ``chinese_calendar`` has official data for.

    Computed from its data rather than hard-coded, so upgrading the package
    extends the covered range with no change here.
    """
    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


OFFICIAL_YEARS: range = _official_years()


@dataclass(frozen=True)
class HolidayRule:
    """One ``[[holidays]]`` entry of ``config.toml``, used for years without official data.

    ``end`` is inclusive (equal to ``start`` for a one-day holiday); ``workdays`` are
    the adjusted working days (调休), weekend days that become working days.
    """

    name: str
    start: date
    end: date
    workdays: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        """Reject a rule whose dates cannot describe a holiday."""
        if self.end < self.start:
            raise ValueError(f"holiday {self.name!r}: end {self.end} is before start {self.start}")
        clash = [day for day in self.workdays if self.start <= day <= self.end]
        if clash:
            raise ValueError(
                f"holiday {self.name!r}: {clash[0]} is both a day off and an adjusted working day"
            )

    def days_off(self) -> Iterator[date]:
        """Yield every day from ``start`` to ``end``, both included."""
        day = self.start
        while day <= self.end:
            yield day
            day += _ONE_DAY


class WorkingCalendar:
    """Answers "is this a working day?" and counts working days for deadlines.

    Build one per deployment from the configured rules and share it: it keeps no
    state but the set of years it has already warned about.
    """

    def __init__(self, rules: Sequence[HolidayRule] = ()) -> None:
        """Index the configured rules by day, dropping those official data overrides."""
        self._days_off: dict[date, str] = {}
        self._adjusted_workdays: dict[date, str] = {}
        self._warned_years: set[int] = set()
        for rule in rules:
            self._add_rule(rule)

    # -- questions about one day -------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Return whether staff are expected to work on ``d``."""
        _require_plain_date(d)
        if d.year in OFFICIAL_YEARS:
            return bool(chinese_calendar.is_workday(d))
        self._warn_once(d.year)
        if d in self._adjusted_workdays:
            return True
        return d.weekday() < 5 and d not in self._days_off

    def holiday_name(self, d: date) -> str | None:
        """Return the name of the public holiday that makes ``d`` a day off.

        ``None`` for working days (adjusted working days 调休 included, even though
        they belong to a holiday arrangement) and for ordinary weekends.
        """
        _require_plain_date(d)
        if d.year in OFFICIAL_YEARS:
            on_holiday, english = chinese_calendar.get_holiday_detail(d)
            if not on_holiday or english is None:
                return None
            return _OFFICIAL_NAMES.get(str(english), str(english))
        self._warn_once(d.year)
        return self._days_off.get(d)

    # -- moving between days --------------------------------------------------

    def next_working_day(self, d: date, *, include_today: bool = False) -> date:
        """Return the first working day after ``d`` (or ``d`` itself if allowed and working)."""
        if include_today and self.is_working_day(d):
            return d
        return self._step(d, +1)

    def add_working_days(self, d: date, n: int) -> date:
        """Return the day ``n`` working days away from ``d``; this is how deadlines count.

        * ``n > 0``: the n-th working day strictly after ``d``. ``d`` itself never
          counts, whether or not it is a working day: a report made on Friday with a
          3-working-day deadline is due on Wednesday (Mon, Tue, Wed), and one made
          on Saturday is due on Wednesday too.
        * ``n == 0``: ``d`` if it is a working day, else the next working day
          ("due today, or on the first working day if today is a day off").
        * ``n < 0``: the |n|-th working day strictly before ``d`` (e.g. "remind
          2 working days before the session").

        For ``n >= 1``, ``working_days_between(d, add_working_days(d, n)) == n``.
        Raises ``ValueError`` if more than ``MAX_CONSECUTIVE_DAYS_OFF`` days in a
        row are days off.
        """
        if n == 0:
            return self.next_working_day(d, include_today=True)
        direction = 1 if n > 0 else -1
        for _ in range(abs(n)):
            d = self._step(d, direction)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days in ``(start, end]``: after ``start``, up to and including ``end``.

        This is the inverse of :meth:`add_working_days`, e.g. how many working days
        a report took. If ``end`` is before ``start`` the count is negated
        (``-working_days_between(end, start)``), so an overdue span reads negative.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            if self.is_working_day(day):
                count += 1
            day += _ONE_DAY
        return count

    def deadline(self, start: datetime, working_days: int) -> datetime:
        """Return the moment ``working_days`` working days after ``start``, at the same time of day.

        The days are counted on ``start``'s own calendar date, so pass ``start`` in
        the community's time zone (not UTC: 07:00 in Shanghai is still the previous
        day in UTC). The result keeps ``start``'s tzinfo and wall-clock time;
        counting follows :meth:`add_working_days`.
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("deadline() needs a timezone-aware datetime")
        due = self.add_working_days(start.date(), working_days)
        return datetime.combine(due, start.timetz())

    # -- internals -------------------------------------------------------------

    def _step(self, d: date, direction: int) -> date:
        """Return the nearest working day strictly after (or before) ``d``."""
        day = d
        for _ in range(MAX_CONSECUTIVE_DAYS_OFF + 1):
            day += direction * _ONE_DAY
            if self.is_working_day(day):
                return day
        raise ValueError(
            f"no working day within {MAX_CONSECUTIVE_DAYS_OFF} days of {d}: "
            "check the [[holidays]] entries of config.toml"
        )

    def _add_rule(self, rule: HolidayRule) -> None:
        """Index one rule's days, ignoring (with one warning) the days official data covers."""
        ignored_years: set[int] = set()
        for day in rule.days_off():
            if day.year in OFFICIAL_YEARS:
                ignored_years.add(day.year)
            else:
                self._index(day, rule.name, self._days_off, against=self._adjusted_workdays)
        for day in rule.workdays:
            if day.year in OFFICIAL_YEARS:
                ignored_years.add(day.year)
            else:
                self._index(day, rule.name, self._adjusted_workdays, against=self._days_off)
        if ignored_years:
            logger.warning(
                "holiday %r (%s to %s): official holiday data covers %s, "
                "so its [[holidays]] entry in config.toml is ignored there",
                rule.name,
                rule.start,
                rule.end,
                ", ".join(str(year) for year in sorted(ignored_years)),
            )

    @staticmethod
    def _index(day: date, name: str, index: dict[date, str], *, against: dict[date, str]) -> None:
        """Record ``day`` under ``name``, refusing two rules that disagree about it."""
        if day in against:
            raise ValueError(
                f"{day} is both a day off and an adjusted working day "
                f"(holidays {against[day]!r} and {name!r} in config.toml)"
            )
        index.setdefault(day, name)

    def _warn_once(self, year: int) -> None:
        """Warn the first time this calendar is asked about a year without official data."""
        if year in self._warned_years:
            return
        self._warned_years.add(year)
        logger.warning(
            "no official holiday data for %d: using weekends and the [[holidays]] entries "
            "of config.toml",
            year,
        )


def _require_plain_date(d: date) -> None:
    """Refuse a ``datetime``: it is a ``date`` subclass, but never equal to one as a key.

    Passing one would silently miss every configured holiday; callers convert
    to the community's local date first (see :meth:`WorkingCalendar.deadline`).
    """
    if isinstance(d, datetime):
        raise TypeError("pass a date, not a datetime: convert to the community's local date first")
