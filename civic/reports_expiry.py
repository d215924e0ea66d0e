"""What a resolution starts: "Is it fixed?" for an on-behalf report's filer, and the
``reports.expire`` job that closes it unanswered (spec 02).

Spec 02, After resolution: "Unanswered after the configured period, the report
closes as resolved." Each resolution schedules its own job, keyed by the report
and the resolve event, in the unit of work of the resolution: a reopened and
resolved-again report has a second job, and the first one finds its resolution
no longer standing and does nothing (:func:`civic.reports_feedback.expire_resolution`).

Kept apart from :mod:`civic.reports_feedback` so that resolving
(:mod:`civic.reports_handling`) can schedule the job without importing the
use cases that themselves build on handling.

No clock: ``now`` is passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from civic.reports import Report, ReportAction, ReportEvent
from civic.reports_notices import ReportNotices, tell_worker

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

EXPIRE_JOB: Final = "reports.expire"
"""The due job closing a resolution nobody answered."""


def expire_at(resolved_at: datetime, confirm_fixed_days: int) -> datetime:
    """The moment an unanswered resolution closes: ``confirm_fixed_days`` calendar days
    after it (``[reports] confirm_fixed_days``). Calendar days, not working days: the
    reporter answers from home, holidays included; China keeps no summer time, so a
    day is 24 hours in every community's zone."""
    return resolved_at + timedelta(days=confirm_fixed_days)


def expire_job_key(report_id: int, resolve_event_id: int) -> str:
    """One job per resolution: ``<report id>:<resolve event id>``."""
    return f"{report_id}:{resolve_event_id}"


async def schedule_expiry(
    uow: UnitOfWork, report: Report, event: ReportEvent, now: datetime, confirm_fixed_days: int
) -> None:
    """Schedule the close of the resolution ``event`` (call it in the resolve's unit of work).

    Never stale: a bot that was down past the moment still closes the report when it
    comes back, which is what the reporter was told would happen.
    """
    if event.kind is not ReportAction.RESOLVE or report.id is None or event.id is None:
        raise ValueError("schedule the expiry of a stored resolution")
    await uow.due_jobs.schedule(
        EXPIRE_JOB,
        expire_job_key(report.id, event.id),
        expire_at(event.at, confirm_fixed_days),
        now,
        payload={"report_id": report.id, "resolve_event_id": event.id},
    )


async def ask_filer(
    uow: UnitOfWork,
    report: Report,
    event: ReportEvent,
    actor_id: int,
    notices: ReportNotices,
    now: datetime,
) -> bool:
    """A report filed on behalf of a resident without Telegram was resolved by someone
    else: the staff member who filed it is told, with "Is it fixed?" to answer for the
    resident (the reporter's notice, which nobody else receives). ``False``: not such a
    report, or the filer resolved it themself (their new card carries the question)."""
    filer = report.reporter.filed_by if report.reporter.on_behalf else None
    if filer is None or filer == actor_id or event.kind is not ReportAction.RESOLVE:
        return False
    await tell_worker(uow, report, event, filer, notices, now)
    return True
