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


async def test_erasure_keeps_offices_held_and_what_staff_did_but_not_whom_it_was_done_to(
    database: Database,
) -> None:
    """Roles: tags and owner grants go, other grants are revoked but kept, the log forgets."""
    from civic.audit import AuditEntry
    from civic.roles import Grant, Position, Role, Scope, ScopeKind, Tag

    hd = Scope(ScopeKind.COMMUNITY, "HD")
    unit = Scope(ScopeKind.UNIT, "HD-01/HD-01-1/101")
    async with database.uow() as uow:
        await uow.roles.add(Grant(ANN, Role.STAFF, hd, "HD", Position.CLERK, 9, NOW))
        await uow.roles.add(Grant(ANN, Role.OWNER, unit, "HD", None, None, NOW))
        await uow.roles.add(Grant(BOB, Role.STAFF, hd, "HD", Position.SECRETARY, 9, NOW))
        await uow.roles.add_tag(ANN, Tag.EXPERT, "HD", BOB, NOW)
        await uow.audit.record(AuditEntry(NOW, 9, "roles.grant", "HD", ANN, {"role": "staff"}))
        await uow.audit.record(AuditEntry(NOW, ANN, "roles.tag", "HD", BOB, {"tag": "expert"}))
        await uow.commit()

    before = json.loads(await export_own_data(database.uow(read_only=True), ANN, NOW))
    await erase_own_data(database.uow(), ANN)
    after = json.loads(await export_own_data(database.uow(read_only=True), ANN, NOW))

    assert [g["role"] for g in before["role_grants"]] == ["staff", "owner"]
    assert [t["tag"] for t in before["resident_tags"]] == ["expert"]
    assert [e["details"] for e in before["audit_entries_about_you"]] == [{"role": "staff"}]
    assert after["resident_tags"] == []
    assert after["audit_entries_about_you"] == []
    (kept,) = after["role_grants"]  # the office held, as history: revoked, not deleted
    assert (kept["role"], kept["revoked_by"]) == ("staff", None)
    assert kept["revoked_at"] is not None
    async with database.uow(read_only=True) as uow:
        assert await uow.roles.of_user(ANN) == []
        assert [g.user_id for g in await uow.roles.of_user(BOB)] == [BOB]
        entries = await uow.audit.recent(None, 10)
    assert [(e.actor_id, e.target_user_id) for e in entries] == [(ANN, BOB), (9, None)]
