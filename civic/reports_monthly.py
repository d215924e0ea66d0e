"""The monthly XLSX report each township receives by itself (spec 02, Views).

Spec 02: "a monthly XLSX report per community for the township (the seed
complains that staff drown in paperwork: this one writes itself)". At 09:00 on
the first working day of every month (the ``[[holidays]]`` working calendar,
:class:`civic.workdays.WorkingCalendar`: not on New Year's Day nor a weekend), in
the county's time zone, the scheduler runs the job ``reports.monthly`` keyed by
the month just ended (``2026-11``): for every
community it reads that month's figures (the same ones ``/stats`` shows,
:func:`civic.reports_stats.read_month_figures`, the month taken in the
community's own time zone as ``/stats`` does), and queues the same XLSX as the
``/stats`` button through the outbox, with a short summary caption, in each
recipient's language.

Who receives it
---------------
The admins whose scope is the community's township: the township is who the
spec names. When the township has no admin in the bot, the county's admins (a
grant with county scope in the database) receive it instead, so the paperwork
still reaches the level above the community. The people listed in ``[admins]
telegram_ids`` are not recipients: that list is the operator's way in (so a
county cannot lock itself out), not a mailing list; a county official who wants
the report is granted a role with ``/grant``. (Owner claims do ask them,
:mod:`civic.register_claims`: a claim must not wait for nobody, while a month's
figures are never lost, ``/stats COMMUNITY YYYY-MM`` gives them any day.)
The community's secretary gets no copy: the report is for the township, and the
secretary reads the same figures any day with ``/stats``. A community with
nobody to receive its report is skipped and said so in the outcome (the job
logs it).

Exactly once, and never stopped by one bad month
------------------------------------------------
* Two months' jobs always wait ahead: the job for month M makes sure the jobs of
  the next two months exist (:func:`schedule_monthly_jobs`), and so does every
  start-up (:func:`ensure_monthly_job`). A run that fails for good (its unit of
  work rolled back, five tries, then ``failed``) loses that month's files only:
  the next month's job was scheduled by an earlier run and keeps the chain going
  (:class:`civic.ports.DueJobsRepository`: one job per ``(kind, key)``, scheduling
  an existing job changes nothing once it ran).
* One community's workbook that cannot be drawn (or its figures computed) is
  logged and skipped (:attr:`MonthlyOutcome.failed`), the other communities still
  get theirs. A database error is another matter: PostgreSQL aborts the whole
  transaction, so the run fails and the ticker retries it from scratch. A
  workbook larger than an outbox row may carry (:data:`civic.outbox.MAX_INLINE_FILE_BYTES`)
  is replaced by its caption and a hint to ``/stats COMMUNITY YYYY-MM``.
* Whether a month is due is decided from the job's own stored ``due_at``, not
  recomputed: a job the ticker runs always sends its month, so a changed time
  zone or holiday list cannot make a run find nothing due and end the chain.
* A job that runs late (the bot was down when it fell due) sends every later month that
  has fallen due since too, oldest first, at most :data:`MAX_LATE_MONTHS` of them
  (older ones are read with ``/stats COMMUNITY YYYY-MM``), then schedules the
  months after the last one due.
* Every document has the outbox key ``reports.monthly:<month>:<community>:to:<chat>``:
  a month reached by two jobs (a late chain catching up a month whose job
  start-up had already scheduled) is still queued once per recipient.

No Telegram, no SQL, no clock: ``now`` is passed in, the files are rendered
through :class:`MonthlyFiles` (the handlers implement it with the catalogs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Final, Protocol
from zoneinfo import ZoneInfo

from civic.outbox import MAX_INLINE_FILE_BYTES, MessageKind, OutgoingMessage, inline_file
from civic.places import Community, Places
from civic.reports_stats import MonthFigures, Period, month_period, parse_month, read_month_figures
from civic.roles import Grant, Role, ScopeKind

if TYPE_CHECKING:
    from civic.ports import UnitOfWork
    from civic.workdays import WorkingCalendar

__all__ = [
    "MAX_LATE_MONTHS",
    "MONTHLY_KIND",
    "SEND_HOUR",
    "Month",
    "MonthlyDocument",
    "MonthlyFiles",
    "MonthlyOutcome",
    "document_key",
    "due_at",
    "ensure_monthly_job",
    "month_being_reported",
    "months_due",
    "recipients",
    "schedule_monthly_jobs",
    "send_monthly_reports",
]

log = logging.getLogger(__name__)

MONTHLY_KIND: Final = "reports.monthly"
"""The due job's kind; its key is the month reported (``2026-11``)."""

SEND_HOUR: Final = 9
"""09:00 on the first working day of the month, county time: the start of the first
working morning, when the township's office is open to read it; never a night-time
message, nor one waiting through a holiday."""

JOBS_AHEAD: Final = 2
"""How many months' jobs wait ahead of the month being reported: one run failing for
good must not leave the chain without a next job."""

MAX_LATE_MONTHS: Final = 6
"""A job run after a long outage sends at most this many months (the latest ones);
a workbook per community and month, more would bury the township under files."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, ordered; ``label`` is its job key and its name in files."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"no month {self.month}")

    @classmethod
    def parse(cls, label: str) -> Month:
        """``2026-11`` → ``Month(2026, 11)``; ``ValueError`` for anything else (a bad job key)."""
        parsed = parse_month(label)
        if parsed is None:
            raise ValueError(f"{label!r} is not a month (YYYY-MM)")
        return cls(*parsed)

    @classmethod
    def of(cls, moment: datetime, timezone: str) -> Month:
        """The month ``moment`` falls in, in ``timezone``."""
        local = moment.astimezone(ZoneInfo(timezone))
        return cls(local.year, local.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def period(self, timezone: str) -> Period:
        """The month as ``/stats`` reads it: from midnight on the 1st to the next 1st."""
        return month_period(self.year, self.month, timezone)


def due_at(month: Month, timezone: str, calendar: WorkingCalendar) -> datetime:
    """When ``month``'s report is sent: :data:`SEND_HOUR` on the next month's first working day."""
    following = month.next()
    day = calendar.next_working_day(date(following.year, following.month, 1), include_today=True)
    return datetime(day.year, day.month, day.day, SEND_HOUR, tzinfo=ZoneInfo(timezone))


def month_being_reported(now: datetime, timezone: str, calendar: WorkingCalendar) -> Month:
    """The month whose report is due next: this month, or last month before its report is due."""
    current = Month.of(now, timezone)
    previous = current.previous()
    return previous if now < due_at(previous, timezone, calendar) else current


def months_due(
    first: Month, first_due_at: datetime, now: datetime, timezone: str, calendar: WorkingCalendar
) -> list[Month]:
    """``first`` and every later month whose report has fallen due at ``now``, oldest first.

    ``first_due_at`` is the stored ``due_at`` of ``first``'s job: when the ticker
    runs the job, its month is due whatever the zone or the calendar say now.
    """
    if now < first_due_at:
        return []
    months = [first]
    month = first.next()
    while due_at(month, timezone, calendar) <= now:
        months.append(month)
        month = month.next()
    return months


def recipients(grants: Iterable[Grant], community: Community) -> tuple[int, ...]:
    """Who receives the community's report: its township's admins, else the county's.

    ``grants``: live admin grants (``uow.roles.holders(Role.ADMIN)``). Each person
    once, by user id, so the order of the outbox rows does not depend on the database.
    """
    admins = [g for g in grants if g.role is Role.ADMIN]
    township = {
        g.user_id
        for g in admins
        if g.scope.kind is ScopeKind.TOWNSHIP and g.scope.code == community.township_code
    }
    if township:
        return tuple(sorted(township))
    return tuple(sorted({g.user_id for g in admins if g.scope.kind is ScopeKind.COUNTY}))


def document_key(month: Month, community_code: str, chat_id: int) -> str:
    """The outbox ``dedupe_key`` of one community's report for one month to one person."""
    return f"{MONTHLY_KIND}:{month.label}:{community_code}:to:{chat_id}"


@dataclass(frozen=True)
class MonthlyDocument:
    """One rendered report: the XLSX, its file name and the summary caption (plain text).

    ``too_large`` is sent instead of the file when the workbook is larger than an
    outbox row carries: the caption and how to read the month with ``/stats``.
    """

    data: bytes
    filename: str
    caption: str
    too_large: str


class MonthlyFiles(Protocol):
    """Renders a community's month in one reader's language (the handlers, with the catalogs)."""

    async def document(
        self, figures: MonthFigures, community: Community, language: str | None
    ) -> MonthlyDocument: ...


@dataclass(frozen=True)
class MonthlyOutcome:
    """What one run of the job did, for its log line and for tests."""

    months: tuple[Month, ...]
    """The months sent, oldest first."""
    queued: int
    """Outbox rows offered (a row already queued under its key is not queued again)."""
    too_late: tuple[Month, ...]
    """Months older than :data:`MAX_LATE_MONTHS` allows: not sent."""
    unreceived: tuple[str, ...]
    """Communities nobody could receive a report for (no township or county admin)."""
    next_month: Month
    """The first month whose job is now scheduled (the next :data:`JOBS_AHEAD` are)."""
    failed: tuple[tuple[Month, str], ...] = ()
    """``(month, community code)`` whose workbook could not be made: logged and skipped."""
    too_large: tuple[tuple[Month, str], ...] = ()
    """``(month, community code)`` whose workbook was too large: the caption went alone."""


async def schedule_monthly_jobs(
    uow: UnitOfWork, first: Month, now: datetime, timezone: str, calendar: WorkingCalendar
) -> None:
    """Make sure the jobs of ``first`` and the month after it exist (idempotent).

    A job that already ran is left alone; a pending one keeps its place (or
    follows a changed calendar).
    """
    month = first
    for _ in range(JOBS_AHEAD):
        await uow.due_jobs.schedule(
            MONTHLY_KIND, month.label, due_at(month, timezone, calendar), now
        )
        month = month.next()


async def ensure_monthly_job(
    uow: UnitOfWork, now: datetime, timezone: str, calendar: WorkingCalendar
) -> Month:
    """At start-up: the month being reported and the next have their jobs (the first
    deployment, a chain broken while the bot ran an older version).

    The caller commits. Returns the month being reported.
    """
    month = month_being_reported(now, timezone, calendar)
    await schedule_monthly_jobs(uow, month, now, timezone, calendar)
    return month


async def send_monthly_reports(
    uow: UnitOfWork,
    month_label: str,
    now: datetime,
    *,
    job_due_at: datetime,
    timezone: str,
    calendar: WorkingCalendar,
    places: Places,
    files: MonthlyFiles,
) -> MonthlyOutcome:
    """Queue each due month's report of every community to its recipients; schedule the next.

    ``month_label`` is the job's key and ``job_due_at`` its stored ``due_at``;
    ``timezone`` the county's and ``calendar`` the working calendar (when later
    months fall due). Runs in the job's unit of work, which the scheduler commits
    together with the job's "done" (never commits here).
    """
    first = Month.parse(month_label)
    due = months_due(first, job_due_at, now, timezone, calendar)
    too_late, months = due[:-MAX_LATE_MONTHS], due[-MAX_LATE_MONTHS:]
    admins = await uow.roles.holders(Role.ADMIN)
    languages: dict[int, str | None] = {}
    queued = 0
    unreceived: list[str] = []
    receivers: dict[str, tuple[int, ...]] = {}
    for community in places.communities:
        chats = recipients(admins, community)
        if not chats:
            unreceived.append(community.code)
            continue
        receivers[community.code] = chats
        for chat in chats:
            if chat not in languages:
                languages[chat] = await uow.residents.language_of(chat)
    failed: list[tuple[Month, str]] = []
    oversized: list[tuple[Month, str]] = []
    for month in months:  # a month's files together, the oldest month first
        for community in places.communities:
            chats = receivers.get(community.code, ())
            if not chats:
                continue
            try:
                rendered = await _render(uow, files, community, month, now, languages, chats)
            except Exception:  # one community's broken workbook must not stop the others'
                log.exception("monthly report %s of %s failed", month.label, community.code)
                failed.append((month, community.code))
                continue
            if any(len(d.data) > MAX_INLINE_FILE_BYTES for d in rendered.values()):
                oversized.append((month, community.code))
            messages = [
                _message(rendered[languages[chat]], chat, document_key(month, community.code, chat))
                for chat in chats
            ]
            await uow.outbox.enqueue(messages, now)
            queued += len(messages)
    next_month = due[-1].next() if due else first
    await schedule_monthly_jobs(uow, next_month, now, timezone, calendar)
    return MonthlyOutcome(
        tuple(months),
        queued,
        tuple(too_late),
        tuple(unreceived),
        next_month,
        tuple(failed),
        tuple(oversized),
    )


async def _render(
    uow: UnitOfWork,
    files: MonthlyFiles,
    community: Community,
    month: Month,
    now: datetime,
    languages: Mapping[int, str | None],
    chats: Iterable[int],
) -> dict[str | None, MonthlyDocument]:
    """The community's month, read once and drawn once per language its readers use."""
    figures = await read_month_figures(
        uow.reports, community.code, month.period(community.timezone), now
    )
    rendered: dict[str | None, MonthlyDocument] = {}
    for chat in chats:
        language = languages[chat]
        if language not in rendered:
            rendered[language] = await files.document(figures, community, language)
    return rendered


def _message(document: MonthlyDocument, chat_id: int, key: str) -> OutgoingMessage:
    """The outbox row: the file itself travels in the row, so it survives a crash.

    A workbook too large for a row goes as text: its caption and the ``/stats``
    hint (the township still learns the figures and where to read the rest).
    """
    if len(document.data) > MAX_INLINE_FILE_BYTES:
        return OutgoingMessage(chat_id, {"text": document.too_large}, dedupe_key=key)
    payload: Mapping[str, object] = {
        "document": inline_file(document.data, document.filename),
        "caption": document.caption,
    }
    return OutgoingMessage(chat_id, payload, kind=MessageKind.DOCUMENT, dedupe_key=key)
