"""The inbox: received updates as rows, so none is lost to a crash (spec 01, Storage).

python-telegram-bot's ``Updater`` confirms an offset with the next ``getUpdates``
call, before handlers finish; the bot's own poller instead writes each batch here
and commits before confirming it. Processing reads from here, and marks a row
done when its handlers have finished. A redelivered update (same ``update_id``)
is ignored by the primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import inbox
from storage.upsert import insert_ignoring_duplicates


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    REFUSED = "refused"
    """Not handled on purpose (flood control): kept, with the reason in ``error``."""


@dataclass(frozen=True)
class InboxOutcome:
    """How handling one update ended."""

    update_id: int
    status: InboxStatus
    error: str | None = None


@dataclass(frozen=True)
class InboxItem:
    update_id: int
    sender_key: int | None
    payload: str


class SqlInboxRepository:
    """Received updates. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, items: Sequence[InboxItem], now: datetime) -> int:
        """Store new updates, ignoring an ``update_id`` already stored; return how many were new."""
        if not items:
            return 0
        ids = [i.update_id for i in items]
        known = set(
            (await self._conn.execute(select(inbox.c.update_id).where(inbox.c.update_id.in_(ids))))
            .scalars()
            .all()
        )
        rows = [
            {
                "update_id": i.update_id,
                "sender_key": i.sender_key,
                "payload": i.payload,
                "status": InboxStatus.PENDING.value,
                "attempts": 0,
                "received_at": now,
            }
            for i in items
            if i.update_id not in known
        ]
        await insert_ignoring_duplicates(self._conn, inbox, rows, ["update_id"])
        return len(rows)

    async def pending(self, after_update_id: int, limit: int) -> list[InboxItem]:
        """Pending updates after ``after_update_id``, oldest first."""
        result = await self._conn.execute(
            select(inbox.c.update_id, inbox.c.sender_key, inbox.c.payload)
            .where(inbox.c.status == InboxStatus.PENDING.value, inbox.c.update_id > after_update_id)
            .order_by(inbox.c.update_id)
            .limit(limit)
        )
        return [InboxItem(r.update_id, r.sender_key, r.payload) for r in result]

    async def mark(
        self, update_id: int, status: InboxStatus, now: datetime, error: str | None = None
    ) -> None:
        """Record the outcome of processing one update.

        Only a pending row changes: an update a guard already marked refused keeps
        that status when its processing ends.
        """
        await self.mark_many([InboxOutcome(update_id, status, error)], now)

    async def last_update_id(self) -> int:
        """The highest ``update_id`` ever stored (0 for an empty inbox)."""
        highest: int | None = (
            await self._conn.execute(select(func.max(inbox.c.update_id)))
        ).scalar_one()
        return highest or 0

    async def mark_many(self, outcomes: Sequence[InboxOutcome], now: datetime) -> None:
        """Record the outcomes of many updates in one statement (see :meth:`mark`)."""
        if not outcomes:
            return
        await self._conn.execute(
            update(inbox)
            .where(
                inbox.c.update_id == bindparam("b_update_id"),
                inbox.c.status == InboxStatus.PENDING.value,
            )
            .values(
                status=bindparam("b_status"),
                processed_at=now,
                error=bindparam("b_error"),
                attempts=inbox.c.attempts + 1,
            ),
            [
                {"b_update_id": o.update_id, "b_status": o.status.value, "b_error": o.error}
                for o in outcomes
            ],
        )

    async def backlog(self) -> int:
        """How many updates wait to be processed (for ``health``)."""
        return (
            await self._conn.execute(
                select(func.count())
                .select_from(inbox)
                .where(inbox.c.status == InboxStatus.PENDING.value)
            )
        ).scalar_one()

    async def counts(self) -> dict[str, int]:
        result = await self._conn.execute(
            select(inbox.c.status, func.count()).group_by(inbox.c.status)
        )
        return {row[0]: row[1] for row in result}
