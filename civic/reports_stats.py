"""Monthly figures of a community's reports: what ``/stats``, the CSV and the XLSX show (spec 02).

Spec 02, Views: "``/stats`` for their community: counts by category, state,
median time to resolve, on-time rate, satisfaction ... a monthly XLSX report per
community for the township". Every figure is defined here once, exactly, so the
text, the chart and the files cannot disagree, and each definition is
unit-tested with tables computed by hand.

Which reports a period holds
----------------------------
A report belongs to the period in which it was **filed** (``created_at`` in
``[start, end)``, the month in the community's time zone). Its figures use
everything known at ``now``: a report filed on 30 November and resolved on
2 December shows in November's figures as resolved once December has come. This
is how a 12345 monthly report reads ("of the orders received this month, how
many were answered on time"), and it keeps a report in exactly one month.

The figures
-----------
* **Counts by category and by state**: the report's category and its state now.
* **Median time to resolve**: from submission to the report's *first*
  ``resolve`` event, in hours, over the reports resolved at least once. With an
  even number of them the median is the mean of the two middle values. A
  reopening does not change the first resolution: the resident waited that long
  for the first answer.
* **On-time rate**: a report is *on time* when it was answered at intake (the
  first ``accept`` or ``reject`` after its last reassignment, which restarts the
  accept deadline) at or before ``accept_by``, and — unless it was rejected,
  which ends it — its standing resolution (the last ``resolve``, when the report
  is resolved or closed now) at or before ``resolve_by``. A deadline met exactly
  at its moment is met (Civil Code Art. 203: the period ends *at* close of
  business). A report is *late* as soon as a deadline passed unmet (answered
  late, or still unanswered after it). A report neither late nor fully answered
  is *not yet due* and counts in neither the numerator nor the denominator. The
  deadlines are the report's current ones: reassigning restarts the accept
  deadline, reopening the resolve deadline (:mod:`civic.reports_deadlines`).
* **Average rating**: the mean of every 1-5 rating given to the period's
  reports (one per answered resolution).
* **Satisfaction**: the share of "Is it fixed?" answers that said *yes*; a
  resolution nobody answered (closed by the timeout) is not an answer.
* **Supports**: the "me too"s the period's reports gathered.

An empty set has **no figure** (``None``, shown as "no data"), never 0: no
report resolved is not "resolved in 0 hours", and no report due is not "0 % on
time". Rates and averages are exact :class:`fractions.Fraction` values; the
renderers round them.

Pure: no Telegram, no SQL, no clock (``now`` is passed in).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from civic.reports import Feedback, Report, ReportAction, ReportEvent, ReportState

__all__ = [
    "MonthFigures",
    "OnTime",
    "Period",
    "ReportHistory",
    "ReportRow",
    "ReportStats",
    "StatsProblem",
    "StatsRefusal",
    "StatsRequest",
    "community_stats",
    "current_month",
    "first_accepted_at",
    "first_resolved_at",
    "intake_at",
    "looks_like_month",
    "median",
    "month_period",
    "on_time",
    "parse_month",
    "parse_stats_args",
    "read_month_figures",
    "report_row",
    "standing_resolution_at",
    "time_to_resolve",
]


@dataclass(frozen=True)
class ReportHistory:
    """A report with its events (oldest first) and its "Is it fixed?" answers.

    Events carry no attachments here: figures need none, and the period read
    (``uow.reports.in_period``) does not fetch file ids.
    """

    report: Report
    events: tuple[ReportEvent, ...] = ()
    feedback: tuple[Feedback, ...] = ()


# -- periods --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """``[start, end)`` as aware datetimes; ``label`` names it (``2026-11``)."""

    start: datetime
    end: datetime
    label: str

    def __post_init__(self) -> None:
        """Refuse naive or empty periods."""
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs timezone-aware bounds")
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def month_period(year: int, month: int, timezone: str) -> Period:
    """The calendar month in the community's time zone (midnight on the 1st to the next 1st)."""
    zone = ZoneInfo(timezone)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Period(start.astimezone(UTC), end.astimezone(UTC), f"{year:04d}-{month:02d}")


def current_month(now: datetime, timezone: str) -> Period:
    """The month ``now`` falls in, in the community's time zone (``/stats`` without a month)."""
    local = now.astimezone(ZoneInfo(timezone))
    return month_period(local.year, local.month, timezone)


_MONTH: Final = re.compile(r"^(\d{4})-(\d{1,2})$")


def looks_like_month(text: str) -> bool:
    """Whether ``text`` was meant as a month (``2026-13`` too, so it is refused as one)."""
    return _MONTH.match(text.strip()) is not None


def parse_month(text: str) -> tuple[int, int] | None:
    """``2026-11`` → ``(2026, 11)``; ``None`` for anything else (``2026-13``, ``2026-00``)."""
    found = _MONTH.match(text.strip())
    if found is None:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not (1 <= month <= 12 and 2000 <= year <= 9998):
        return None
    return year, month


# -- one report -----------------------------------------------------------------------


class OnTime(StrEnum):
    """Whether a report met its deadlines, as far as can be told at ``now``."""

    YES = "yes"
    LATE = "late"
    NOT_DUE = "not_due"
    """Nothing missed yet, but not every deadline answered: counts in no rate."""


def _first(events: Iterable[ReportEvent], kinds: frozenset[ReportAction]) -> ReportEvent | None:
    return next((e for e in events if e.kind in kinds), None)


def _last(events: Sequence[ReportEvent], kinds: frozenset[ReportAction]) -> ReportEvent | None:
    return next((e for e in reversed(events) if e.kind in kinds), None)


_INTAKE: Final = frozenset({ReportAction.ACCEPT, ReportAction.REJECT})
_RESOLVE: Final = frozenset({ReportAction.RESOLVE})
_REASSIGN: Final = frozenset({ReportAction.REASSIGN})
_RESOLVED_NOW: Final = frozenset({ReportState.RESOLVED, ReportState.CLOSED})


def _ordered(events: Iterable[ReportEvent]) -> list[ReportEvent]:
    """Events by time, then by id (the order they were recorded in)."""
    return sorted(events, key=lambda e: (e.at, e.id if e.id is not None else 0))


def intake_at(history: ReportHistory) -> datetime | None:
    """When the report was first accepted or rejected after its last reassignment."""
    events = _ordered(history.events)
    reassigned = _last(events, _REASSIGN)
    after = events if reassigned is None else events[events.index(reassigned) + 1 :]
    answered = _first(after, _INTAKE)
    return None if answered is None else answered.at


def first_accepted_at(history: ReportHistory) -> datetime | None:
    """When the report was first accepted (the exports' "accepted" column)."""
    answered = _first(_ordered(history.events), frozenset({ReportAction.ACCEPT}))
    return None if answered is None else answered.at


def first_resolved_at(history: ReportHistory) -> datetime | None:
    answered = _first(_ordered(history.events), _RESOLVE)
    return None if answered is None else answered.at


def standing_resolution_at(history: ReportHistory) -> datetime | None:
    """The last resolution, if the report is resolved or closed now (not reopened since)."""
    if history.report.state not in _RESOLVED_NOW:
        return None
    answered = _last(_ordered(history.events), _RESOLVE)
    return None if answered is None else answered.at


def on_time(history: ReportHistory, now: datetime) -> OnTime:
    """On time, late or not yet due (the module's definition; at the deadline is on time)."""
    report = history.report
    accepted = intake_at(history)
    if accepted is None:
        if report.state is ReportState.RESOLVED or report.state is ReportState.CLOSED:
            # Resolved without a recorded intake (older data): the resolution answers both.
            accepted = first_resolved_at(history)
        if accepted is None:
            return OnTime.LATE if now > report.accept_by else OnTime.NOT_DUE
    if accepted > report.accept_by:
        return OnTime.LATE
    if report.state is ReportState.REJECTED:
        return OnTime.YES
    resolved = standing_resolution_at(history)
    if resolved is None:
        return OnTime.LATE if now > report.resolve_by else OnTime.NOT_DUE
    return OnTime.YES if resolved <= report.resolve_by else OnTime.LATE


def time_to_resolve(history: ReportHistory) -> timedelta | None:
    """From submission to the first resolution; ``None`` if never resolved."""
    resolved = first_resolved_at(history)
    return None if resolved is None else resolved - history.report.created_at


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The median; of an even count the mean of the two middle values; ``None`` if empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


# -- a community's figures ------------------------------------------------------------


@dataclass(frozen=True)
class ReportStats:
    """The figures of one community over one period (see the module for each definition)."""

    community_code: str
    period: Period
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    """Category code → reports; in the order of first appearance (renderers sort)."""
    by_state: dict[ReportState, int] = field(default_factory=dict)
    resolved_count: int = 0
    """Reports resolved at least once: the median's population."""
    median_time_to_resolve: timedelta | None = None
    on_time_count: int = 0
    due_count: int = 0
    """Reports on time or late (not "not yet due"): the on-time rate's denominator."""
    rating_sum: int = 0
    rating_count: int = 0
    fixed_yes: int = 0
    answers: int = 0
    supports: int = 0

    @property
    def median_hours(self) -> Fraction | None:
        """The median time to resolve in hours, exact (seconds / 3600)."""
        found = self.median_time_to_resolve
        if found is None:
            return None
        return Fraction(found.days * 86_400 + found.seconds, 3600) + Fraction(
            found.microseconds, 3_600_000_000
        )

    @property
    def on_time_rate(self) -> Fraction | None:
        return Fraction(self.on_time_count, self.due_count) if self.due_count else None

    @property
    def average_rating(self) -> Fraction | None:
        return Fraction(self.rating_sum, self.rating_count) if self.rating_count else None

    @property
    def satisfaction(self) -> Fraction | None:
        return Fraction(self.fixed_yes, self.answers) if self.answers else None


def community_stats(
    community_code: str, histories: Iterable[ReportHistory], period: Period, now: datetime
) -> ReportStats:
    """The community's figures over ``period``: reports of other communities or filed
    outside the period are left out, so a caller may pass a wider list."""
    held = [
        h
        for h in histories
        if h.report.community_code == community_code and period.holds(h.report.created_at)
    ]
    durations = [d for d in (time_to_resolve(h) for h in held) if d is not None]
    timeliness = Counter(on_time(h, now) for h in held)
    ratings = [f.rating for h in held for f in h.feedback if f.rating is not None]
    answers = [f for h in held for f in h.feedback]
    return ReportStats(
        community_code=community_code,
        period=period,
        total=len(held),
        by_category=dict(Counter(h.report.category_code for h in held)),
        by_state=dict(Counter(h.report.state for h in held)),
        resolved_count=len(durations),
        median_time_to_resolve=median(durations),
        on_time_count=timeliness[OnTime.YES],
        due_count=timeliness[OnTime.YES] + timeliness[OnTime.LATE],
        rating_sum=sum(ratings),
        rating_count=len(ratings),
        fixed_yes=sum(1 for f in answers if f.fixed),
        answers=len(answers),
        supports=sum(h.report.supports for h in held),
    )


# -- one row of the exports -------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One report as the CSV and the XLSX list it: never who reported it (spec 01, privacy)."""

    number: str
    category_code: str
    compound_code: str
    state: ReportState
    submitted: datetime
    accepted: datetime | None
    resolved: datetime | None
    on_time: OnTime
    rating: int | None
    """The latest rating given, if any."""


def report_row(history: ReportHistory, now: datetime) -> ReportRow:
    report = history.report
    ratings = [f for f in history.feedback if f.rating is not None]
    latest = max(ratings, key=lambda f: f.at) if ratings else None
    return ReportRow(
        number=str(report.number) if report.number is not None else "",
        category_code=report.category_code,
        compound_code=report.compound_code,
        state=report.state,
        submitted=report.created_at,
        accepted=first_accepted_at(history),
        resolved=first_resolved_at(history),
        on_time=on_time(history, now),
        rating=None if latest is None else latest.rating,
    )


# -- /stats [COMMUNITY] [YYYY-MM] --------------------------------------------------------


class StatsProblem(StrEnum):
    """Why ``/stats``'s words cannot be read; each has its message."""

    USAGE = "usage"
    """Too many words, or two of a kind."""
    BAD_MONTH = "bad_month"
    """Meant as a month but not one (``2026-13``)."""
    UNKNOWN_COMMUNITY = "unknown_community"


@dataclass(frozen=True)
class StatsRequest:
    """What ``/stats`` asked for; ``None``: the default (home community, this month)."""

    community_code: str | None = None
    month: tuple[int, int] | None = None


@dataclass(frozen=True)
class StatsRefusal:
    problem: StatsProblem
    word: str = ""


def parse_stats_args(
    args: Sequence[str], community_codes: Iterable[str]
) -> StatsRequest | StatsRefusal:
    """``/stats [COMMUNITY] [YYYY-MM]``, in either order; codes in any case."""
    known = {code.upper(): code for code in community_codes}
    community: str | None = None
    month: tuple[int, int] | None = None
    if len(args) > 2:
        return StatsRefusal(StatsProblem.USAGE)
    for arg in args:
        word = arg.strip()
        if looks_like_month(word):
            parsed = parse_month(word)
            if parsed is None:
                return StatsRefusal(StatsProblem.BAD_MONTH, word[:16])
            if month is not None:
                return StatsRefusal(StatsProblem.USAGE)
            month = parsed
            continue
        if community is not None:
            return StatsRefusal(StatsProblem.USAGE)
        if word.upper() not in known:
            return StatsRefusal(StatsProblem.UNKNOWN_COMMUNITY, word[:32])
        community = known[word.upper()]
    return StatsRequest(community, month)


class _ReportsReader(Protocol):
    async def in_period(
        self, community_code: str, start: datetime, end: datetime
    ) -> list[ReportHistory]: ...


@dataclass(frozen=True)
class MonthFigures:
    """A community's month: the figures and one export row per report."""

    stats: ReportStats
    rows: tuple[ReportRow, ...]


async def read_month_figures(
    reports: _ReportsReader, community_code: str, period: Period, now: datetime
) -> MonthFigures:
    """Read the period's reports (``uow.reports``, a few queries) and compute the figures."""
    histories = await reports.in_period(community_code, period.start, period.end)
    return MonthFigures(
        community_stats(community_code, histories, period, now),
        tuple(report_row(h, now) for h in histories),
    )
