"""Deadline reminders and escalations of reports, scheduled as due jobs (spec 02, Deadlines).

Placeholder of the interface other report use cases call; filled in by the
deadline work of issue 6.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from civic.reports import Report

if TYPE_CHECKING:
    from civic.ports import UnitOfWork


async def schedule_deadline_jobs(
    uow: UnitOfWork, report: Report, now: datetime, timezone: str
) -> None:
    """Schedule the reminder and escalation of ``report``'s current deadlines.

    Call it in the unit of work that files the report or changes its
    ``accept_by``/``resolve_by`` (reassign, reopen); scheduling again is harmless.
    """
