"""The inbox contract: every update stored once, pending ones read back in order."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.database import Database
from storage.inbox import InboxItem, InboxStatus

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def item(update_id: int, sender: int | None = 7) -> InboxItem:
    return InboxItem(update_id, sender, f'{{"update_id": {update_id}}}')


async def test_the_same_update_stored_twice_is_kept_once(database: Database) -> None:
    async with database.uow() as uow:
        assert await uow.inbox.add([item(1), item(2)], NOW) == 2
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.inbox.add([item(2), item(3)], NOW) == 1
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        assert [i.update_id for i in await uow.inbox.pending(0, 10)] == [1, 2, 3]


async def test_pending_updates_come_oldest_first_and_skip_finished_ones(
    database: Database,
) -> None:
    async with database.uow() as uow:
        await uow.inbox.add([item(12), item(10, None), item(11, 8)], NOW)
        await uow.inbox.mark(10, InboxStatus.DONE, NOW)
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        pending = await uow.inbox.pending(0, 10)
        after = await uow.inbox.pending(11, 10)
        backlog = await uow.inbox.backlog()

    assert pending == [item(11, 8), item(12)]
    assert after == [item(12)]
    assert backlog == 2


async def test_a_failed_update_keeps_its_error(database: Database) -> None:
    async with database.uow() as uow:
        await uow.inbox.add([item(5)], NOW)
        await uow.inbox.mark(5, InboxStatus.FAILED, NOW, error="ValueError: boom")
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        assert await uow.inbox.counts() == {"failed": 1}
        assert await uow.inbox.pending(0, 10) == []


async def test_a_refused_update_keeps_its_status_when_processing_ends(database: Database) -> None:
    async with database.uow() as uow:
        await uow.inbox.add([item(9)], NOW)
        await uow.inbox.mark(9, InboxStatus.REFUSED, NOW, error="flood control")
        await uow.inbox.mark(9, InboxStatus.DONE, NOW)
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        assert await uow.inbox.counts() == {"refused": 1}
