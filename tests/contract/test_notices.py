"""Operator notices: one per reachable chat and day, framed in each chat's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import Catalogs
from bot.notices import NoticeTooLong, queue_notice
from storage.chats import SeenChat
from storage.database import Database

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


async def test_a_notice_reaches_each_reachable_chat_once_a_day(database: Database) -> None:
    catalogs = Catalogs.load(strict=True)
    async with database.uow() as uow:
        await uow.chats.seen(
            [
                SeenChat(1, "private", "en"),
                SeenChat(2, "private", "zh-hans"),
                SeenChat(3, "private"),
            ],
            NOW,
        )
        await uow.chats.seen([SeenChat(-100, "group")], NOW)
        await uow.chats.mark_unreachable(3, NOW, "blocked")
        await uow.commit()

    assert await queue_notice(database, catalogs, "Water <off> at 9", NOW) == 2
    assert await queue_notice(database, catalogs, "Water <off> at 9", NOW) == 2
    async with database.uow(read_only=True) as uow:
        rows = await uow.outbox.due(NOW, 10)
    assert sorted(r.chat_id for r in rows) == [1, 2], "queued once, private reachable chats only"
    texts = {r.chat_id: r.payload["text"] for r in rows}
    assert "Water &lt;off&gt; at 9" in texts[1]
    assert "operators" in texts[1]
    assert "运维通知" in texts[2]

    await queue_notice(database, catalogs, "Water <off> at 9", NOW + timedelta(days=30))
    async with database.uow(read_only=True) as uow:
        assert len(await uow.outbox.due(NOW + timedelta(days=30), 10)) == 4


@pytest.mark.parametrize("text", ["", "   ", "x" * 3501])
async def test_an_empty_or_overlong_notice_is_refused(database: Database, text: str) -> None:
    with pytest.raises(NoticeTooLong):
        await queue_notice(database, Catalogs.load(), text, NOW)
