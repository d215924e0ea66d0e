"""Erasure keeps no personal data, yet a redelivered update is still recognised."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from civic.outbox import OutgoingMessage
from civic.personal_data import erase_own_data, export_own_data
from storage.chats import SeenChat
from storage.database import Database
from storage.inbox import InboxItem

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ANN, BOB = 10_000_001, 10_000_002


async def test_erasing_one_person_leaves_others_and_only_bare_update_ids(
    database: Database,
) -> None:
    async with database.uow() as uow:
        await uow.chats.seen([SeenChat(ANN, "private", "en"), SeenChat(BOB, "private")], NOW)
        await uow.inbox.add(
            [InboxItem(1, ANN, '{"text": "my address"}'), InboxItem(2, BOB, '{"text": "hi"}')], NOW
        )
        await uow.outbox.enqueue(
            [OutgoingMessage(ANN, {"text": "for Ann"}), OutgoingMessage(BOB, {"text": "for Bob"})],
            NOW,
        )
        await uow.commit()

    before = json.loads(await export_own_data(database.uow(read_only=True), ANN, NOW))
    await erase_own_data(database.uow(), ANN)
    await erase_own_data(database.uow(), ANN)  # twice: nothing more, no error
    after = json.loads(await export_own_data(database.uow(read_only=True), ANN, NOW))

    assert before["chat"]["language_code"] == "en"
    assert [u["payload"] for u in before["updates_sent"]] == [{"text": "my address"}]
    assert [m["payload"] for m in before["messages_to_you"]] == [{"text": "for Ann"}]
    assert (after["chat"], after["updates_sent"], after["messages_to_you"]) == (None, [], [])
    async with database.uow() as uow:
        assert await uow.inbox.add([InboxItem(1, ANN, "{}")], NOW) == 0, "still known as seen"
        assert (await uow.chats.get(BOB)) is not None
        assert [r.chat_id for r in await uow.outbox.due(NOW, 10)] == [BOB]
        payload = (
            await uow.connection.exec_driver_sql("SELECT payload FROM inbox WHERE update_id = 1")
        ).scalar_one()
    assert "address" not in payload
