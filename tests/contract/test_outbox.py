"""The outbox and chats contract: rows queued once, read by priority, outcomes kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from civic.outbox import OutgoingMessage, Priority
from storage.chats import SeenChat
from storage.database import Database
from storage.runtime_status import LAST_GET_UPDATES

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def notice(chat_id: int, text: str, **kwargs: Any) -> OutgoingMessage:
    return OutgoingMessage(chat_id, {"text": text}, **kwargs)


async def test_a_dedupe_key_queues_one_message(database: Database) -> None:
    async with database.uow() as uow:
        await uow.outbox.enqueue([notice(1, "a", dedupe_key="k1"), notice(2, "b")], NOW)
        await uow.commit()
    async with database.uow() as uow:
        await uow.outbox.enqueue([notice(1, "a again", dedupe_key="k1"), notice(2, "b")], NOW)
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        due = await uow.outbox.due(NOW, 10)
    assert [(r.chat_id, r.payload["text"]) for r in due] == [(1, "a"), (2, "b"), (2, "b")]


async def test_due_rows_come_by_priority_then_age_and_respect_not_before(
    database: Database,
) -> None:
    async with database.uow() as uow:
        await uow.outbox.enqueue([notice(1, "broadcast", priority=Priority.BROADCAST)], NOW)
        await uow.outbox.enqueue([notice(2, "first"), notice(3, "second")], NOW)
        await uow.commit()
    async with database.uow() as uow:
        first = (await uow.outbox.due(NOW, 10))[0]
        await uow.outbox.retry_later(first.id, NOW + timedelta(seconds=30), "RetryAfter: 30")
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        now_due = [r.payload["text"] for r in await uow.outbox.due(NOW, 10)]
        later_due = [
            r.payload["text"] for r in await uow.outbox.due(NOW + timedelta(seconds=60), 10)
        ]
        next_at = await uow.outbox.next_due_at()
    assert now_due == ["second", "broadcast"]
    assert later_due == ["first", "second", "broadcast"]
    assert next_at == NOW


async def test_outcomes_leave_the_pending_set_and_keep_their_error(database: Database) -> None:
    async with database.uow() as uow:
        await uow.outbox.enqueue(
            [notice(1, "ok"), notice(2, "bad"), notice(3, "x"), notice(3, "y")], NOW
        )
        await uow.commit()
    async with database.uow() as uow:
        ok, bad, *_ = await uow.outbox.due(NOW, 10)
        await uow.outbox.mark_sent(ok.id, NOW, message_id=41)
        await uow.outbox.mark_failed(bad.id, NOW, "BadRequest: can't parse entities")
        assert await uow.outbox.mark_chat_unreachable(3, NOW, "Forbidden: blocked") == 2
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        assert await uow.outbox.due(NOW, 10) == []
        assert await uow.outbox.counts() == {"sent": 1, "failed": 1, "unreachable": 2}
        backlog = await uow.outbox.backlog()
    assert backlog.pending == 0
    assert backlog.oldest_created_at is None


async def test_backlog_reports_the_oldest_pending_row(database: Database) -> None:
    async with database.uow() as uow:
        await uow.outbox.enqueue([notice(1, "old")], NOW)
        await uow.outbox.enqueue([notice(2, "new")], NOW + timedelta(minutes=5))
        await uow.commit()
    async with database.uow(read_only=True) as uow:
        backlog = await uow.outbox.backlog()
    assert (backlog.pending, backlog.oldest_created_at) == (2, NOW)


async def test_chats_keep_reachability_across_membership_sightings(database: Database) -> None:
    async with database.uow() as uow:
        await uow.chats.seen([SeenChat(1, "private", "zh-hans"), SeenChat(2, "private")], NOW)
        await uow.chats.mark_unreachable(2, NOW, "Forbidden: bot was blocked by the user")
        await uow.commit()
    async with database.uow() as uow:  # membership updates do not speak for the chat
        await uow.chats.seen(
            [SeenChat(2, "private", "en", speaks=False), SeenChat(3, "private", speaks=False)], NOW
        )
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        assert await uow.chats.unreachable_ids([1, 2, 3]) == {2, 3}
        assert [c.chat_id for c in await uow.chats.reachable_private()] == [1]
        record = await uow.chats.get(2)
    assert record is not None
    assert (record.language_code, record.reachable) == ("en", False)

    async with database.uow() as uow:
        await uow.chats.mark_reachable(2)
        await uow.commit()
    async with database.uow(read_only=True) as uow:
        assert [c.chat_id for c in await uow.chats.reachable_private()] == [1, 2]


async def test_a_chat_that_speaks_is_reachable_again(database: Database) -> None:
    """A 403 recorded after the person started the bot (a notice sent before they
    wrote) is mended by their next message: Telegram delivers it only when allowed."""
    async with database.uow() as uow:
        await uow.chats.seen([SeenChat(2, "private")], NOW)
        await uow.chats.mark_unreachable(2, NOW, "Forbidden: bot can't initiate conversation")
        await uow.commit()
    async with database.uow() as uow:
        await uow.chats.seen([SeenChat(2, "private", "en"), SeenChat(2, "private", "en")], NOW)
        await uow.commit()
    async with database.uow(read_only=True) as uow:
        assert await uow.chats.unreachable_ids([2]) == set()
        assert [c.chat_id for c in await uow.chats.reachable_private()] == [2]


async def test_runtime_status_keeps_the_latest_value(database: Database) -> None:
    async with database.uow() as uow:
        await uow.runtime_status.put(LAST_GET_UPDATES, "first", NOW)
        await uow.runtime_status.put(LAST_GET_UPDATES, "second", NOW + timedelta(seconds=1))
        await uow.commit()
    async with database.uow(read_only=True) as uow:
        value = await uow.runtime_status.get(LAST_GET_UPDATES)
        missing = await uow.runtime_status.get("nothing")
    assert value is not None
    assert (value.value, value.updated_at) == ("second", NOW + timedelta(seconds=1))
    assert missing is None
