"""The outbox: notifications and broadcasts as rows, written before they are sent.

Spec 01 ("Sending"). A service enqueues rows in its own unit of work, so a
notification exists exactly when the change that caused it was committed; the
sender (:mod:`bot.sender`) reads due rows and records each outcome here. A row
stays ``pending`` until Telegram confirmed it, so a crash can only send a row
twice, never lose it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.outbox import DeliveryStatus, MessageKind, OutgoingMessage, Priority
from storage.tables import outbox
from storage.upsert import insert_ignoring_duplicates


@dataclass(frozen=True)
class OutboxRow:
    """A stored message, as the sender needs it."""

    id: int
    chat_id: int
    priority: Priority
    kind: MessageKind
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class OutboxBacklog:
    """What ``health`` reports: how much waits, and since when."""

    pending: int
    oldest_created_at: datetime | None


class SqlOutboxRepository:
    """Outbox rows. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def enqueue(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        """Queue messages; one whose ``dedupe_key`` is already queued is left out."""
        rows = [
            {
                "chat_id": m.chat_id,
                "priority": int(m.priority),
                "kind": m.kind.value,
                "payload": json.dumps(dict(m.payload), ensure_ascii=False),
                "dedupe_key": m.dedupe_key,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "not_before": now,
                "created_at": now,
            }
            for m in messages
        ]
        keyed = [r for r in rows if r["dedupe_key"] is not None]
        unkeyed = [r for r in rows if r["dedupe_key"] is None]
        await insert_ignoring_duplicates(self._conn, outbox, keyed, ["dedupe_key"])
        if unkeyed:
            await self._conn.execute(outbox.insert(), unkeyed)

    async def discard_pending(self, dedupe_prefix: str) -> int:
        """Delete unsent rows whose ``dedupe_key`` starts with the prefix; how many.

        For notices that lost their point before going out (a claim withdrawn or
        erased). A row the sender is sending right now may still arrive; its
        outcome then updates no row, which the sender tolerates.
        """
        if not dedupe_prefix:
            raise ValueError("discarding needs a prefix: an empty one would match every row")
        result = await self._conn.execute(
            delete(outbox).where(
                outbox.c.status == DeliveryStatus.PENDING.value,
                outbox.c.dedupe_key.startswith(dedupe_prefix, autoescape=True),
            )
        )
        return result.rowcount or 0

    async def due(
        self, now: datetime, limit: int, *, exclude_chats: Collection[int] = ()
    ) -> list[OutboxRow]:
        """Pending rows that may be sent now: higher priority first, then oldest first.

        ``exclude_chats`` leaves out chats that already have a row being sent.
        """
        conditions = [
            outbox.c.status == DeliveryStatus.PENDING.value,
            outbox.c.not_before <= now,
        ]
        if exclude_chats:
            conditions.append(outbox.c.chat_id.not_in(list(exclude_chats)))
        result = await self._conn.execute(
            select(
                outbox.c.id,
                outbox.c.chat_id,
                outbox.c.priority,
                outbox.c.kind,
                outbox.c.payload,
                outbox.c.attempts,
            )
            .where(*conditions)
            .order_by(outbox.c.priority, outbox.c.id)
            .limit(limit)
        )
        return [
            OutboxRow(
                r.id,
                r.chat_id,
                Priority(r.priority),
                MessageKind(r.kind),
                json.loads(r.payload),
                r.attempts,
            )
            for r in result
        ]

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending row may be sent (for the sender's sleep)."""
        earliest: datetime | None = (
            await self._conn.execute(
                select(func.min(outbox.c.not_before)).where(
                    outbox.c.status == DeliveryStatus.PENDING.value
                )
            )
        ).scalar_one()
        return earliest

    async def mark_sent(self, row_id: int, now: datetime, message_id: int | None) -> None:
        await self.mark_sent_many([(row_id, message_id)], now)

    async def mark_sent_many(self, sent: Sequence[tuple[int, int | None]], now: datetime) -> None:
        """Record many deliveries, as ``(row id, Telegram message id)``, in one statement."""
        if not sent:
            return
        await self._conn.execute(
            update(outbox)
            .where(
                outbox.c.id == bindparam("b_id"),
                outbox.c.status == DeliveryStatus.PENDING.value,
            )
            .values(
                status=DeliveryStatus.SENT.value,
                sent_at=now,
                message_id=bindparam("b_message_id"),
                error=None,
                attempts=outbox.c.attempts + 1,
            ),
            [{"b_id": row_id, "b_message_id": message_id} for row_id, message_id in sent],
        )

    async def keep_sent_file(self, row_id: int, document: dict[str, Any]) -> bool:
        """Replace a *sent* row's ``document`` (the file it carried) by ``document``
        (:func:`civic.outbox.sent_file`); a row not sent is left alone, so a row that
        may still be sent always keeps its file. ``False`` if nothing changed."""
        row = (
            await self._conn.execute(
                select(outbox.c.payload).where(
                    outbox.c.id == row_id, outbox.c.status == DeliveryStatus.SENT.value
                )
            )
        ).first()
        if row is None:
            return False
        payload = {**json.loads(row.payload), "document": document}
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.status == DeliveryStatus.SENT.value)
            .values(payload=json.dumps(payload, ensure_ascii=False))
        )
        return bool(result.rowcount)

    async def mark_failed(self, row_id: int, now: datetime, error: str) -> None:
        """Telegram refused the row itself (400): keep why, do not retry."""
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.status == DeliveryStatus.PENDING.value)
            .values(
                status=DeliveryStatus.FAILED.value,
                error=error[:2000],
                attempts=outbox.c.attempts + 1,
            )
        )

    async def retry_later(
        self, row_id: int, not_before: datetime, error: str, *, count_attempt: bool = True
    ) -> None:
        """Keep the row pending, not before ``not_before`` (429, 5xx, network errors).

        A 429 is not the row's fault: it passes ``count_attempt=False`` so that
        waiting out flood limits never brings a row closer to being given up.
        """
        attempts = outbox.c.attempts + 1 if count_attempt else outbox.c.attempts
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.status == DeliveryStatus.PENDING.value)
            .values(not_before=not_before, error=error[:2000], attempts=attempts)
        )

    async def mark_chat_unreachable(self, chat_id: int, now: datetime, error: str) -> int:
        """Close every pending row of a chat that blocked the bot; return how many."""
        result = await self._conn.execute(
            update(outbox)
            .where(outbox.c.chat_id == chat_id, outbox.c.status == DeliveryStatus.PENDING.value)
            .values(
                status=DeliveryStatus.UNREACHABLE.value,
                sent_at=None,
                error=error[:2000],
                attempts=outbox.c.attempts + 1,
            )
        )
        return result.rowcount or 0

    async def backlog(self) -> OutboxBacklog:
        """How many rows are pending and when the oldest was queued."""
        row = (
            await self._conn.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.status == DeliveryStatus.PENDING.value
                )
            )
        ).one()
        return OutboxBacklog(row[0], row[1])

    async def counts(self) -> dict[str, int]:
        """Rows by status (for benchmarks, tests and ``health``)."""
        result = await self._conn.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status)
        )
        return {row[0]: row[1] for row in result}
