"""Chats the bot has met and whether it can reach them (spec 01, Sending).

A 403 from Telegram (the user blocked the bot, deleted their account, or the
chat is gone) marks a chat unreachable; the sender then stops trying it. A
``my_chat_member`` update that shows the bot allowed again makes it reachable,
and so does anything the chat itself sends (a message, a button press): Telegram
delivers those only while the bot is allowed. The latter also mends a 403 that
was recorded late, after the person had started the bot meanwhile.
The residents capability joins its people to these rows by ``chat_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, null, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import chats
from storage.upsert import dialect_insert


@dataclass(frozen=True)
class SeenChat:
    """A chat as an incoming update shows it."""

    chat_id: int
    type: str
    language_code: str | None = None
    speaks: bool = True
    """The chat sent the update itself (not a membership change): it can be reached."""


@dataclass(frozen=True)
class ChatRecord:
    chat_id: int
    type: str
    language_code: str | None
    reachable: bool


class SqlChatsRepository:
    """Known chats. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def seen(self, seen: Sequence[SeenChat], now: datetime) -> None:
        """Record chats from incoming updates; a chat that speaks is reachable again."""
        latest = {c.chat_id: c for c in seen}  # one row per chat per statement
        if not latest:
            return
        statement = dialect_insert(self._conn, chats)
        excluded = statement.excluded
        await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=["chat_id"],
                set_={
                    "type": excluded.type,
                    "language_code": excluded.language_code,
                    "last_seen_at": excluded.last_seen_at,
                    "reachable": case(
                        (excluded.reachable.is_(True), true()), else_=chats.c.reachable
                    ),
                    "unreachable_since": case(
                        (excluded.reachable.is_(True), null()), else_=chats.c.unreachable_since
                    ),
                    "unreachable_reason": case(
                        (excluded.reachable.is_(True), null()), else_=chats.c.unreachable_reason
                    ),
                },
            ),
            [
                {
                    "chat_id": c.chat_id,
                    "type": c.type,
                    "language_code": c.language_code,
                    "reachable": c.speaks,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
                for c in latest.values()
            ],
        )

    async def mark_unreachable(self, chat_id: int, now: datetime, reason: str) -> None:
        await self._conn.execute(
            update(chats)
            .where(chats.c.chat_id == chat_id)
            .values(reachable=False, unreachable_since=now, unreachable_reason=reason[:500])
        )

    async def mark_reachable(self, chat_id: int) -> None:
        await self._conn.execute(
            update(chats)
            .where(chats.c.chat_id == chat_id)
            .values(reachable=True, unreachable_since=None, unreachable_reason=None)
        )

    async def get(self, chat_id: int) -> ChatRecord | None:
        row = (
            await self._conn.execute(
                select(
                    chats.c.chat_id, chats.c.type, chats.c.language_code, chats.c.reachable
                ).where(chats.c.chat_id == chat_id)
            )
        ).first()
        return None if row is None else ChatRecord(row[0], row[1], row[2], row[3])

    async def unreachable_ids(self, chat_ids: Sequence[int]) -> set[int]:
        """Those of ``chat_ids`` known to be unreachable."""
        if not chat_ids:
            return set()
        result = await self._conn.execute(
            select(chats.c.chat_id).where(
                chats.c.chat_id.in_(list(chat_ids)), chats.c.reachable.is_(False)
            )
        )
        return set(result.scalars().all())

    async def reachable_private(self) -> list[ChatRecord]:
        """Every private chat the bot can write to, oldest first."""
        result = await self._conn.execute(
            select(chats.c.chat_id, chats.c.type, chats.c.language_code, chats.c.reachable)
            .where(chats.c.type == "private", chats.c.reachable.is_(True))
            .order_by(chats.c.first_seen_at, chats.c.chat_id)
        )
        return [ChatRecord(r[0], r[1], r[2], r[3]) for r in result]
