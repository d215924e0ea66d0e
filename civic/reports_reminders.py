"""Deadline reminders and escalations of reports, and the desk told of a report (spec 02).

Spec 02: "the scheduler reminds the assignee before a deadline and escalates to
the community secretary when missed". The moments come from
:mod:`civic.reports_deadlines` (09:00 on the due day; the deadline itself, 18:00
on a working day of the community's calendar); this module turns them into due
jobs (:mod:`civic.jobs`), decides whether a job that falls due still applies,
and says who is told.

Jobs and their keys
-------------------
Each deadline a report is subject to gets two jobs:

* :data:`REMIND_JOB` at :func:`~civic.reports_deadlines.reminder_moment`, stale
  after the deadline (a reminder after it is useless, so after downtime the
  scheduler skips it rather than send it late); none when that moment has passed;
* :data:`ESCALATE_JOB` at the deadline, never stale: a supervisor told late of a
  missed deadline is still told (a deadline missed while the bot was down is
  escalated once after the restart).

The key names the report, the deadline (``accept`` or ``resolve``) and the
deadline's moment: ``42:accept:20261126T100000Z``. A reassignment or a reopening
sets new deadlines, so new keys and new jobs; the old jobs, when they fall due,
find the report's deadline changed (or its state moved on) and do nothing
(:func:`decide_deadline_job`). Scheduling the same deadline again is harmless
(``(kind, key)`` runs once, :meth:`civic.ports.DueJobsRepository.schedule`).

* The **accept** deadline applies while the report is ``submitted`` (waiting to
  be acknowledged); once accepted (or rejected) its jobs do nothing.
* The **resolve** deadline applies while the report is open.
* When the accept deadline is not before a resolve deadline still ahead (a
  report reassigned late gets ``accept_by`` capped at ``resolve_by``:
  :func:`~civic.reports_deadlines.deadlines_after_reassign`), only the resolve
  jobs are scheduled: one missed moment is escalated once, not twice.
* A report reassigned after its resolve deadline passed gets a fresh accept
  deadline after it: its accept jobs are scheduled (new keys), while the resolve
  deadline's jobs, already run, are not run again — the new desk is reminded and
  the secretary told once more only if the new desk does not accept in time.

Who is told
-----------
* A new report (filing, a reassignment to another desk, or a report reopened
  by the reporter's "No" after its handler left the desk) and a reminder go to
  the desk (:func:`desk_recipients`): the person named on the report, else
  everyone holding the desk's role — the grid workers of its grid, the liaisons
  of its department, the staff of its community for a community or township
  desk (a township's order reaches the community office:
  :func:`civic.reports_handling.roles_on_report`). A desk nobody holds gets
  nothing: the escalation at the deadline is what brings such a report to the
  supervisor. The person reassigning is told when the desk they chose has nobody
  (:attr:`civic.reports_handling.HandleResult.desk`).
* An escalation goes to the community's secretary (书记, :func:`civic.roles.secretary_of`,
  spec 01: "the secretary gets escalations"). **Fallback** when the community has
  no secretary: every staff member of the community (the office supervises its
  own work; the director is among them); when it has no staff either, the
  admins whose grants cover it (township, then county: the level that would
  supervise a community without an office). ``[admins]`` of ``config.toml`` are
  operators, not supervisors, and are not told. The person named on the report
  (the one who is late) is never the one told of their own delay: when they are
  the secretary, the escalation falls through to the other staff, then the admins.

Each message is queued through the outbox in the same unit of work as the job
(or the filing, or the reassignment), with a dedupe key per deadline and
recipient, so nothing is sent twice for one deadline even if a job ran twice.
Each job that told someone also records a ``remind``/``escalate`` event (actor:
the system), which the card's history shows; a job that found nobody to tell
records nothing (the history would claim a reminder nobody got).

No Telegram, no SQL, no clock: ``now`` and the places are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol

from civic.outbox import OutgoingMessage
from civic.places import Places
from civic.reports import (
    OPEN_STATES,
    ActionVerdict,
    ActorRole,
    Report,
    ReportAction,
    ReportEvent,
    ReportState,
    decide_action,
)
from civic.reports_deadlines import reminder_moment
from civic.reports_notices import queue_keyed
from civic.reports_routing import AssigneeKind
from civic.roles import Grant, Role, admin_covers, secretary_of

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

__all__ = [
    "ESCALATE_JOB",
    "REMIND_JOB",
    "Arrival",
    "Deadline",
    "DeadlineJob",
    "DeskNotices",
    "JobVerdict",
    "arrival_notice_key",
    "arrival_of",
    "deadline_jobs",
    "deadline_notice_key",
    "decide_deadline_job",
    "desk_holders",
    "desk_recipients",
    "escalate_deadline",
    "escalation_recipients",
    "job_key",
    "remind_deadline",
    "schedule_deadline_jobs",
    "tell_desk",
]

REMIND_JOB: Final = "reports.remind"
"""The assignee is reminded on the day a deadline falls due."""
ESCALATE_JOB: Final = "reports.escalate"
"""The community's secretary is told that a deadline passed with the action missing."""


class Deadline(StrEnum):
    """Which of a report's deadlines a job is about."""

    ACCEPT = "accept"
    """``accept_by``: applies while the report is ``submitted``."""
    RESOLVE = "resolve"
    """``resolve_by``: applies while the report is open."""


def deadline_of(report: Report, deadline: Deadline) -> datetime:
    """The report's current moment for ``deadline``."""
    return report.accept_by if deadline is Deadline.ACCEPT else report.resolve_by


def applies_in(state: ReportState, deadline: Deadline) -> bool:
    """Whether a report in ``state`` still owes the action ``deadline`` measures."""
    if deadline is Deadline.ACCEPT:
        return state is ReportState.SUBMITTED
    return state in OPEN_STATES


def stamp(moment: datetime) -> str:
    """A moment in a key: UTC to the second (``20261126T100000Z``), whatever its zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("deadlines are timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def job_key(report_id: int, deadline: Deadline, due: datetime) -> str:
    """The key of a deadline's jobs: the report, which deadline, and its moment."""
    return f"{report_id}:{deadline.value}:{stamp(due)}"


@dataclass(frozen=True)
class DeadlineJob:
    """One job to schedule (:meth:`civic.ports.DueJobsRepository.schedule`)."""

    kind: str
    key: str
    due_at: datetime
    stale_after: datetime | None
    payload: Mapping[str, Any]


def deadline_jobs(report: Report, now: datetime, timezone: str) -> list[DeadlineJob]:
    """The reminder and escalation jobs of ``report``'s current deadlines (see the
    module docstring); ``timezone`` is the community's (the reminder's 09:00)."""
    if report.id is None:
        raise ValueError("schedule deadlines of a stored report")
    jobs: list[DeadlineJob] = []
    for deadline in Deadline:
        if not applies_in(report.state, deadline):
            continue
        if (
            deadline is Deadline.ACCEPT
            and report.accept_by >= report.resolve_by
            and report.resolve_by > now
        ):
            continue  # the resolve deadline's jobs, still to run, speak for that moment
        due = deadline_of(report, deadline)
        key = job_key(report.id, deadline, due)
        payload = {"report_id": report.id, "deadline": deadline.value, "due": stamp(due)}
        remind = reminder_moment(now, due, timezone)
        if remind is not None and remind < due:
            jobs.append(DeadlineJob(REMIND_JOB, key, remind, due, payload))
        jobs.append(DeadlineJob(ESCALATE_JOB, key, due, None, payload))
    return jobs


async def schedule_deadline_jobs(
    uow: UnitOfWork, report: Report, now: datetime, timezone: str
) -> None:
    """Schedule the reminder and escalation of ``report``'s current deadlines.

    Call it in the unit of work that files the report or changes its
    ``accept_by``/``resolve_by`` (reassign, reopen); scheduling again is harmless.
    """
    for job in deadline_jobs(report, now, timezone):
        await uow.due_jobs.schedule(
            job.kind, job.key, job.due_at, now, stale_after=job.stale_after, payload=job.payload
        )


def read_payload(payload: Mapping[str, Any]) -> tuple[int, Deadline, datetime]:
    """A deadline job's report id, deadline and moment; ``ValueError`` if it is not one."""
    report_id = payload.get("report_id")
    if not isinstance(report_id, int) or isinstance(report_id, bool):
        raise ValueError(f"a deadline job names its report: {dict(payload)!r}")
    deadline = Deadline(str(payload.get("deadline")))
    due = datetime.strptime(str(payload.get("due")), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return report_id, deadline, due


# -- does a job that fell due still apply? ------------------------------------------------


class JobVerdict(StrEnum):
    """What a reminder or escalation job does when it falls due."""

    APPLIES = "applies"
    """Tell them: the deadline is this one and the action is still missing."""
    GONE = "gone"
    """The report is not there (nothing to remind of)."""
    MOVED_ON = "moved_on"
    """The action was taken (accepted; resolved, closed, rejected): nothing is late."""
    DEADLINE_CHANGED = "deadline_changed"
    """A reassignment or reopening set another deadline; its own jobs will speak."""
    TOO_LATE = "too_late"
    """A reminder at or after its deadline: the escalation speaks now."""


def decide_deadline_job(
    report: Report | None, kind: str, deadline: Deadline, due: datetime, now: datetime
) -> JobVerdict:
    """Whether a :data:`REMIND_JOB` or :data:`ESCALATE_JOB` for ``deadline`` at ``due``
    still applies to ``report`` at ``now``, checked in that order."""
    if kind not in (REMIND_JOB, ESCALATE_JOB):
        raise ValueError(f"not a deadline job: {kind!r}")
    if report is None:
        return JobVerdict.GONE
    action = ReportAction.REMIND if kind == REMIND_JOB else ReportAction.ESCALATE
    allowed = decide_action(report.state, action, {ActorRole.SYSTEM})[0] is ActionVerdict.ALLOWED
    if not allowed or not applies_in(report.state, deadline):
        return JobVerdict.MOVED_ON
    if stamp(deadline_of(report, deadline)) != stamp(due):
        return JobVerdict.DEADLINE_CHANGED
    if kind == REMIND_JOB and now >= due:
        return JobVerdict.TOO_LATE
    return JobVerdict.APPLIES


# -- who is told ----------------------------------------------------------------------------


def desk_role(kind: AssigneeKind) -> Role:
    """The role whose holders sit at a desk of this kind while nobody is named."""
    if kind is AssigneeKind.GRID_WORKER:
        return Role.GRID_WORKER
    if kind is AssigneeKind.DEPARTMENT:
        return Role.LIAISON
    return Role.STAFF  # community and township desks: the community's office


def desk_recipients(report: Report, holders: Iterable[Grant]) -> list[int]:
    """Who hears of a report at its desk: the person named on it, else everyone
    among ``holders`` holding the desk's role over it (in id order, once each)."""
    if report.assignee.user_id is not None:
        return [report.assignee.user_id]
    role = desk_role(report.assignee.kind)
    found: set[int] = set()
    for grant in holders:
        if grant.role is not role:
            continue
        if role is Role.STAFF:
            if grant.community_code == report.community_code:
                found.add(grant.user_id)
        elif grant.scope.code == report.assignee.code:
            found.add(grant.user_id)
    return sorted(found)


def escalation_recipients(
    community_grants: Iterable[Grant],
    admin_grants: Iterable[Grant],
    community_code: str,
    places: Places,
    *,
    late: int | None = None,
) -> list[int]:
    """The secretary of the community; else its staff; else the admins covering it.

    ``late``, the person named on the report, is left out at every level: an
    escalation is a supervisor hearing of someone else's delay, so a secretary who
    took the report themselves is not told of their own lateness — the other
    staff are (then the admins)."""
    grants = [g for g in community_grants if g.user_id != late]
    admin_grants = [g for g in admin_grants if g.user_id != late]
    secretary = secretary_of(grants, community_code)
    if secretary is not None:
        return [secretary]
    staff = {
        g.user_id for g in grants if g.role is Role.STAFF and g.community_code == community_code
    }
    if staff:
        return sorted(staff)
    return sorted({g.user_id for g in admin_grants if admin_covers(g, community_code, places)})


async def desk_holders(uow: UnitOfWork, report: Report) -> list[int]:
    """Everyone at the report's desk now (:func:`desk_recipients`), read from storage."""
    if report.assignee.user_id is not None:
        return [report.assignee.user_id]
    role = desk_role(report.assignee.kind)
    if role is Role.STAFF:
        holders = await uow.roles.in_community(report.community_code)
    else:
        holders = await uow.roles.holders(role)
    return desk_recipients(report, holders)


# -- the messages -------------------------------------------------------------------------------


class Arrival(StrEnum):
    """How a report came to a desk, which its notice says."""

    FILED = "filed"
    """A new report: accept by ``accept_by``."""
    PASSED = "passed"
    """Reassigned to this desk: accept by ``accept_by``, resolve by ``resolve_by``."""
    PASSED_OVERDUE = "passed_overdue"
    """Reassigned after the resolve deadline: overdue since ``resolve_by``; accept by
    the fresh ``accept_by`` (:func:`~civic.reports_deadlines.deadlines_after_reassign`)."""
    REOPENED = "reopened"
    """The reporter said "not fixed" and the person who resolved it no longer holds the
    desk: resolve by the reopened ``resolve_by`` (its ``accept_by`` is long past)."""


def arrival_of(report: Report, now: datetime, *, reassigned: bool) -> Arrival:
    """Which notice the desk gets: a filing, a reassignment (overdue or not), or a
    reopened report released to the desk."""
    if not reassigned:
        return Arrival.FILED
    if report.state is ReportState.REOPENED:
        return Arrival.REOPENED
    return Arrival.PASSED_OVERDUE if report.resolve_by <= now else Arrival.PASSED


class DeskNotices(Protocol):
    """Renders the desk's and the supervisor's messages in the recipient's language,
    each with a button that opens the report's card (the handlers implement it)."""

    def arrived(
        self, report: Report, recipient_id: int, language: str | None, arrival: Arrival
    ) -> OutgoingMessage:
        """A report came to the recipient's desk (``arrival`` says how): category,
        place, accept-by."""
        ...

    def reminder(
        self, report: Report, deadline: Deadline, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        """The deadline falls due today (shown in the community's zone)."""
        ...

    def escalation(
        self, report: Report, deadline: Deadline, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        """The deadline passed with the action missing; the card lets them act."""
        ...


def arrival_notice_key(report_id: int, event_id: int, recipient_id: int) -> str:
    """The outbox ``dedupe_key`` of the desk's notice of a filing or a reassignment."""
    return f"reports:{report_id}:{event_id}:desk:{recipient_id}"


def deadline_notice_key(kind: str, job: str, recipient_id: int) -> str:
    """The outbox ``dedupe_key`` of a reminder or escalation: one per deadline and person."""
    return f"{kind}:{job}:to:{recipient_id}"


async def tell_desk(
    uow: UnitOfWork,
    report: Report,
    event_id: int,
    notices: DeskNotices,
    now: datetime,
    *,
    actor_id: int | None = None,
    reassigned: bool = False,
) -> list[int]:
    """Queue the new-report notice to the report's desk (filing, reassignment, a
    reopened report released to the desk), in the unit of work that put it there;
    return who was told. ``actor_id``, who filed or reassigned it (staff filing on a
    resident's behalf may sit at the desk), is not told of what they just did.
    ``reassigned``: the report came from elsewhere, and :func:`arrival_of` words it
    (passed to them, overdue since, or reopened)."""
    if report.id is None:
        raise ValueError("tell the desk of a stored report")
    arrival = arrival_of(report, now, reassigned=reassigned)
    recipients = [r for r in await desk_holders(uow, report) if r != actor_id]
    for recipient in recipients:
        language = await uow.residents.language_of(recipient)
        message = notices.arrived(report, recipient, language, arrival)
        key = arrival_notice_key(report.id, event_id, recipient)
        await queue_keyed(uow, message, recipient, key, now)
    return recipients


@dataclass(frozen=True)
class JobResult:
    """What a deadline job did: its verdict and who was told."""

    verdict: JobVerdict
    told: Sequence[int] = ()


async def remind_deadline(
    uow: UnitOfWork, payload: Mapping[str, Any], notices: DeskNotices, now: datetime
) -> JobResult:
    """A :data:`REMIND_JOB` fell due: remind the desk, if the deadline still applies.

    Runs inside the scheduler's unit of work, which commits (never commits itself).
    """
    return await _run(uow, REMIND_JOB, payload, notices, now, None)


async def escalate_deadline(
    uow: UnitOfWork,
    payload: Mapping[str, Any],
    notices: DeskNotices,
    places: Places,
    now: datetime,
) -> JobResult:
    """An :data:`ESCALATE_JOB` fell due: tell the secretary (or the fallback), if the
    action is still missing. Runs inside the scheduler's unit of work."""
    return await _run(uow, ESCALATE_JOB, payload, notices, now, places)


async def _run(
    uow: UnitOfWork,
    kind: str,
    payload: Mapping[str, Any],
    notices: DeskNotices,
    now: datetime,
    places: Places | None,
) -> JobResult:
    report_id, deadline, due = read_payload(payload)
    report = await uow.reports.get(report_id)
    verdict = decide_deadline_job(report, kind, deadline, due, now)
    if verdict is not JobVerdict.APPLIES or report is None:
        return JobResult(verdict)
    escalate = kind == ESCALATE_JOB
    if escalate:
        assert places is not None
        recipients = escalation_recipients(
            await uow.roles.in_community(report.community_code),
            await uow.roles.holders(Role.ADMIN),
            report.community_code,
            places,
            late=report.assignee.user_id,
        )
    else:
        recipients = await desk_holders(uow, report)
    if not recipients:
        return JobResult(verdict)  # nobody to tell: no event claiming someone was
    await uow.reports.add_event(
        ReportEvent(
            report_id=report_id,
            kind=ReportAction.ESCALATE if escalate else ReportAction.REMIND,
            actor_role=ActorRole.SYSTEM,
            at=now,
            to_state=report.state,
            from_state=report.state,
        )
    )
    key = job_key(report_id, deadline, due)
    for recipient in recipients:
        language = await uow.residents.language_of(recipient)
        if escalate:
            message = notices.escalation(report, deadline, recipient, language)
        else:
            message = notices.reminder(report, deadline, recipient, language)
        await queue_keyed(uow, message, recipient, deadline_notice_key(kind, key, recipient), now)
    return JobResult(verdict, tuple(recipients))
