"""Erasure keeps no personal data, yet a redelivered update is still recognised."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from civic import audit
from civic.handover import HandoverRegistry
from civic.outbox import OutgoingMessage
from civic.personal_data import erase_own_data, export_own_data
from civic.ports import UnitOfWork
from civic.roles import Position, Role
from civic.roles_admin import ERASED_OWN_DATA
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
    await erase_own_data(database.uow(), ANN, NOW)
    await erase_own_data(database.uow(), ANN, NOW)  # twice: nothing more, no error
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
    """Roles: tags and owner grants go; other grants are revoked as by an admin — audited with
    the person as actor, open work handed to the secretary, at the caller's ``now`` — and
    kept; the log forgets whom things were done to."""
    from civic.audit import AuditEntry
    from civic.roles import Grant, Scope, ScopeKind, Tag

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

    handed: list[tuple[int, str, int | None, datetime]] = []

    async def hand_over(
        uow: UnitOfWork, from_user: int, community: str, to_user: int | None, now: datetime
    ) -> int:
        handed.append((from_user, community, to_user, now))
        return 2

    registry = HandoverRegistry()
    registry.register("reports", hand_over)
    later = NOW + timedelta(hours=3)  # the handler's clock, not the database's

    before = json.loads(await export_own_data(database.uow(read_only=True), ANN, NOW))
    ended = await erase_own_data(database.uow(), ANN, later, handovers=registry)
    again = await erase_own_data(database.uow(), ANN, later, handovers=registry)
    after = json.loads(await export_own_data(database.uow(read_only=True), ANN, NOW))

    assert [(g.role, g.position) for g in ended] == [(Role.STAFF, Position.CLERK)]
    assert again == ()
    assert handed == [(ANN, "HD", BOB, later)]  # open work to the secretary, once
    assert [g["role"] for g in before["role_grants"]] == ["staff", "owner"]
    assert [t["tag"] for t in before["resident_tags"]] == ["expert"]
    assert [e["details"] for e in before["audit_entries_about_you"]] == [{"role": "staff"}]
    assert after["resident_tags"] == []
    assert after["audit_entries_about_you"] == []
    (kept,) = after["role_grants"]  # the office held, as history: revoked, not deleted
    assert (kept["role"], kept["revoked_by"]) == ("staff", ANN)  # they left; not the operator
    assert datetime.fromisoformat(kept["revoked_at"]).replace(tzinfo=UTC) == later
    async with database.uow(read_only=True) as uow:
        assert await uow.roles.of_user(ANN) == []
        assert [g.user_id for g in await uow.roles.of_user(BOB)] == [BOB]
        entries = await uow.audit.recent(None, 10)
    assert [(e.action, e.actor_id, e.target_user_id) for e in entries] == [
        (audit.ROLES_HANDOVER, ANN, None),
        (audit.ROLES_REVOKE, ANN, None),
        (audit.ROLES_TAG, ANN, BOB),
        (audit.ROLES_GRANT, 9, None),
    ]
    revoke = entries[1]
    assert revoke.at.replace(tzinfo=UTC) == later
    assert revoke.details == {
        "role": "staff",
        "scope_kind": "community",
        "scope": "HD",
        "position": "clerk",
        "cause": ERASED_OWN_DATA,
    }
    assert entries[0].details == {"secretary": BOB, "counts": {"reports": 2}}
