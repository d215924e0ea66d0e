"""Job kinds and their handlers: how a capability tells the scheduler what a job means.

A capability registers each kind it schedules, once, at start-up::

    def register(jobs: JobRegistry) -> None:
        jobs.add("sessions.remind", remind_session)

    async def remind_session(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        await sessions.remind_attendees(uow, int(job.payload["session_id"]), now)

A handler is thin (STYLE.md 9): it calls the same service a Telegram handler
would, with the job's unit of work, and never commits — the ticker commits its
writes together with the job's "done". It only writes rows (messages go through
the outbox), so it holds the transaction briefly and a re-run after a crash
starts from scratch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

from civic.jobs import DueJob, check_job_name
from storage.uow import SqlUnitOfWork

JobHandler = Callable[[SqlUnitOfWork, DueJob, datetime], Awaitable[None]]


class JobRegistry:
    """``kind`` → handler; a kind is registered once."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def add(self, kind: str, handler: JobHandler) -> None:
        check_job_name(kind, "-")
        if kind in self._handlers:
            raise ValueError(f"job kind {kind!r} is registered twice")
        self._handlers[kind] = handler

    def get(self, kind: str) -> JobHandler | None:
        return self._handlers.get(kind)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)
