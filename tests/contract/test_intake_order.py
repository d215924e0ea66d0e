"""The inbox feeder hands over updates committed out of ``update_id`` order, once each.

A webhook with several connections can commit update 10 after update 20
(Telegram keeps each chat's order, not the order across chats); the feeder reads
after a watermark, so without the stored ids it would leave 10 behind until the
next start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from telegram import Update
from telegram.ext import Application

from bot.intake import InboxFeeder, store_updates
from storage.database import Database
from tests.telegram_updates import update_json

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


class Feeding:
    """A running feeder whose application only collects what it is handed."""

    def __init__(self, database: Database, window: int) -> None:
        self.database = database
        self.queue: asyncio.Queue[Update] = asyncio.Queue()
        application = SimpleNamespace(bot=None, update_queue=self.queue)
        self.feeder = InboxFeeder(
            cast(Application[Any, Any, Any, Any, Any, Any], application), database, window=window
        )

    async def store(self, *update_ids: int) -> None:
        """What the webhook receiver does for each request: commit, then wake the feeder."""
        updates = [Update.de_json(update_json(i, user_id=i), None) for i in update_ids]
        await store_updates(self.database, updates, NOW)
        self.feeder.wake(update_ids)

    async def handed(self, count: int) -> list[int]:
        return [(await asyncio.wait_for(self.queue.get(), 5)).update_id for _ in range(count)]

    async def nothing_more(self) -> bool:
        await asyncio.sleep(0.3)
        return self.queue.empty()

    async def finish(self, update_id: int) -> None:
        await self.feeder.on_done(Update.de_json(update_json(update_id), None), None)


@pytest.fixture
async def feeding(database: Database) -> AsyncIterator[Feeding]:
    feeding = Feeding(database, window=3)
    task = asyncio.create_task(feeding.feeder.run())
    yield feeding
    feeding.feeder.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_an_update_committed_after_a_higher_one_is_still_handed_over(
    feeding: Feeding,
) -> None:
    await feeding.store(20)
    assert await feeding.handed(1) == [20]

    await feeding.store(10)  # 20 is still running: it must not be handed over again

    assert await feeding.handed(1) == [10]
    assert await feeding.nothing_more()


async def test_stragglers_beyond_the_window_are_handed_over_as_room_frees_up(
    feeding: Feeding,
) -> None:
    await feeding.store(30)
    assert await feeding.handed(1) == [30]

    await feeding.store(10, 11, 12)  # room for two more: 10 and 11

    assert await feeding.handed(2) == [10, 11]
    assert await feeding.nothing_more()
    await feeding.finish(10)
    assert await feeding.handed(1) == [12]
    await feeding.finish(30)
    await feeding.finish(11)
    await feeding.finish(12)
    assert await feeding.nothing_more()


async def test_updates_in_order_are_handed_over_once_each(feeding: Feeding) -> None:
    await feeding.store(1, 2)
    assert await feeding.handed(2) == [1, 2]
    await feeding.finish(1)
    await feeding.store(3)

    assert await feeding.handed(1) == [3]
    assert await feeding.nothing_more()
