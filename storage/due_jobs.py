"""Due jobs: work scheduled for a moment, claimed once by whichever ticker gets there.

Services schedule jobs in their own unit of work (:class:`civic.ports.DueJobsRepository`);
the scheduler (:mod:`scheduler.ticker`) reads what is due, claims one job at a
time and finishes it in the same transaction as whatever its handler wrote.

Claiming is a conditional ``UPDATE`` from ``pending``: on PostgreSQL it locks the
row (``FOR UPDATE SKIP LOCKED``, so a second ticker moves on instead of waiting)
and sees only the newest committed version of it; on SQLite every writing unit
of work begins with ``BEGIN IMMEDIATE``, so claims are serialised by the database
lock and always read the newest state. Either way a job whose "done" has been
committed is never claimed again, and a job whose run was rolled back is claimable
again (quality bar R4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.jobs import DueJob, JobStatus, check_job_name
from storage.tables import due_jobs
from storage.upsert import dialect_insert

MAX_ERROR_CHARS = 2000
CANCELLED = "cancelled"

_COLUMNS = (
    due_jobs.c.id,
    due_jobs.c.kind,
    due_jobs.c.key,
    due_jobs.c.due_at,
    due_jobs.c.stale_after,
    due_jobs.c.payload,
    due_jobs.c.status,
    due_jobs.c.attempts,
    due_jobs.c.error,
)


def _job(row: Any) -> DueJob:
    """A ``due_jobs`` row (any select of :data:`_COLUMNS`) as the domain's :class:`DueJob`."""
    return DueJob(
        id=row.id,
        kind=row.kind,
        key=row.key,
        due_at=row.due_at,
        stale_after=row.stale_after,
        payload=json.loads(row.payload),
        status=JobStatus(row.status),
        attempts=row.attempts,
        error=row.error,
    )


class SqlDueJobsRepository:
    """Due jobs. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # -- what services use (civic.ports.DueJobsRepository) -----------------------------

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        now: datetime,
        *,
        stale_after: datetime | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> bool:
        """Make sure ``(kind, key)`` runs at ``due_at``; idempotent.

        - no such job: it is created, pending;
        - a pending one: it moves to ``due_at``, with the new ``stale_after`` and
          payload (a session moved to another evening moves its reminders);
        - a finished one (done, skipped, failed, cancelled): it is left alone, so a
          service that re-states its whole schedule never runs an occurrence twice.
          A new occurrence needs a new key.

        Returns whether the job is now pending at ``due_at`` (``False``: it had
        already finished).
        """
        check_job_name(kind, key)
        statement = dialect_insert(self._conn, due_jobs).values(
            kind=kind,
            key=key,
            due_at=due_at,
            stale_after=stale_after,
            payload=json.dumps(dict(payload or {}), ensure_ascii=False, sort_keys=True),
            status=JobStatus.PENDING.value,
            attempts=0,
            created_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "key"],
            set_={
                "due_at": statement.excluded.due_at,
                "stale_after": statement.excluded.stale_after,
                "payload": statement.excluded.payload,
            },
            where=due_jobs.c.status == JobStatus.PENDING.value,
        )
        result = await self._conn.execute(statement)
        return bool(result.rowcount)

    async def reschedule(
        self, kind: str, key: str, due_at: datetime, *, stale_after: datetime | None
    ) -> bool:
        """Move a pending job (payload kept); return ``False`` if none is pending."""
        result = await self._conn.execute(
            update(due_jobs)
            .where(
                due_jobs.c.kind == kind,
                due_jobs.c.key == key,
                due_jobs.c.status == JobStatus.PENDING.value,
            )
            .values(due_at=due_at, stale_after=stale_after)
        )
        return bool(result.rowcount)

    async def cancel(self, kind: str, key: str, now: datetime) -> bool:
        """Skip a pending job for good (error ``cancelled``); ``False`` if none is pending.

        The row stays, so scheduling the same key again leaves it cancelled.
        """
        result = await self._conn.execute(
            update(due_jobs)
            .where(
                due_jobs.c.kind == kind,
                due_jobs.c.key == key,
                due_jobs.c.status == JobStatus.PENDING.value,
            )
            .values(status=JobStatus.SKIPPED.value, finished_at=now, error=CANCELLED)
        )
        return bool(result.rowcount)

    async def get(self, kind: str, key: str) -> DueJob | None:
        row = (
            await self._conn.execute(
                select(*_COLUMNS).where(due_jobs.c.kind == kind, due_jobs.c.key == key)
            )
        ).one_or_none()
        return None if row is None else _job(row)

    # -- what the scheduler uses -------------------------------------------------------

    async def due(self, now: datetime, limit: int) -> list[DueJob]:
        """Pending jobs whose moment has come, the oldest moment first."""
        result = await self._conn.execute(
            select(*_COLUMNS)
            .where(due_jobs.c.status == JobStatus.PENDING.value, due_jobs.c.due_at <= now)
            .order_by(due_jobs.c.due_at, due_jobs.c.id)
            .limit(limit)
        )
        return [_job(row) for row in result]

    async def claim(self, job_id: int, now: datetime) -> DueJob | None:
        """Take a due pending job for this transaction; ``None`` if another caller has it.

        The job is returned as it is now (a service may have moved or changed it
        since :meth:`due` read it). It stays ``pending`` until :meth:`finish` in the
        same transaction; if that transaction rolls back (a crash, a handler that
        raised), the job is pending and claimable again.
        """
        free = (
            select(due_jobs.c.id)
            .where(
                due_jobs.c.id == job_id,
                due_jobs.c.status == JobStatus.PENDING.value,
                due_jobs.c.due_at <= now,
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = (
            await self._conn.execute(
                update(due_jobs)
                .where(due_jobs.c.id == free, due_jobs.c.status == JobStatus.PENDING.value)
                # A write that changes nothing: it takes the row (PostgreSQL) or
                # proves the database lock is ours (SQLite) for this transaction.
                .values(status=due_jobs.c.status)
                .returning(*_COLUMNS)
            )
        ).one_or_none()
        return None if row is None else _job(row)

    async def finish(
        self, job_id: int, status: JobStatus, now: datetime, error: str | None = None
    ) -> bool:
        """Close a pending job as done, skipped or failed, counting the attempt.

        Returns ``False`` if it was no longer pending (another caller finished it).
        """
        if status is JobStatus.PENDING:
            raise ValueError("finish() closes a job; use retry_later() to keep it pending")
        result = await self._conn.execute(
            update(due_jobs)
            .where(due_jobs.c.id == job_id, due_jobs.c.status == JobStatus.PENDING.value)
            .values(
                status=status.value,
                finished_at=now,
                error=None if error is None else error[:MAX_ERROR_CHARS],
                attempts=due_jobs.c.attempts + 1,
            )
        )
        return bool(result.rowcount)

    async def retry_later(self, job_id: int, due_at: datetime, error: str) -> bool:
        """Keep a pending job pending until ``due_at``, counting the failed attempt."""
        result = await self._conn.execute(
            update(due_jobs)
            .where(due_jobs.c.id == job_id, due_jobs.c.status == JobStatus.PENDING.value)
            .values(
                due_at=due_at,
                error=error[:MAX_ERROR_CHARS],
                attempts=due_jobs.c.attempts + 1,
            )
        )
        return bool(result.rowcount)

    async def counts(self) -> dict[str, int]:
        """Jobs by status (for tests, benchmarks and ``health``)."""
        result = await self._conn.execute(
            select(due_jobs.c.status, func.count()).group_by(due_jobs.c.status)
        )
        return {row[0]: row[1] for row in result}
