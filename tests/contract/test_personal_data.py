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


async def test_mydata_shows_what_one_did_as_staff_without_the_people_it_was_done_to(
    database: Database,
) -> None:
    """Erasure keeps these rows with the person as actor, so the export shows them too."""
    from sqlalchemy import insert

    from civic.audit import AuditEntry
    from civic.roles import Grant, Scope, ScopeKind, Tag
    from storage.tables import building_links, household_codes, owner_claims

    hd = Scope(ScopeKind.COMMUNITY, "HD")
    async with database.uow() as uow:
        await uow.roles.add(Grant(BOB, Role.STAFF, hd, "HD", Position.CLERK, ANN, NOW))
        await uow.roles.revoke(Grant(BOB, Role.STAFF, hd, "HD", Position.CLERK), ANN, NOW)
        await uow.roles.add_tag(BOB, Tag.EXPERT, "HD", ANN, NOW)
        await uow.audit.record(
            AuditEntry(NOW, ANN, "register.claim_rejected", "HD", BOB, {"reason": "Bob's deed"})
        )
        connection = uow.connection
        await connection.execute(
            insert(owner_claims).values(
                user_id=BOB,
                community_code="HD",
                compound_code="HD-01",
                unit_label="101",
                area_centi_m2=8800,
                owner_name="Bob Owner",
                status="rejected",
                decided_by=ANN,
                decided_at=NOW,
                created_at=NOW,
            )
        )
        await connection.execute(
            insert(household_codes),
            [
                {
                    "code_hash": f"hash-{n}",
                    "community_code": "HD",
                    "compound_code": "HD-01",
                    "building_code": "HD-01-1",
                    "unit_label": f"10{n}",
                    "issued_by": ANN,
                    "issued_at": NOW,
                    "expires_at": NOW + timedelta(days=30),
                }
                for n in range(3)
            ],
        )
        await connection.execute(
            insert(building_links).values(
                building_code="HD-01-1", version=2, rotated_by=ANN, rotated_at=NOW
            )
        )
        await uow.commit()

    document = await export_own_data(database.uow(read_only=True), ANN, NOW)
    acts = json.loads(document)["what_you_did_as_staff"]

    assert [e["action"] for e in acts["audit_entries_by_you"]] == ["register.claim_rejected"]
    assert [(g["role"], g["position"]) for g in acts["roles_you_granted"]] == [("staff", "clerk")]
    assert [g["scope_code"] for g in acts["roles_you_revoked"]] == ["HD"]
    assert [(g["tag"], g["community_code"]) for g in acts["tags_you_gave"]] == [("expert", "HD")]
    assert [(c["community_code"], c["status"]) for c in acts["owner_claims_you_decided"]] == [
        ("HD", "rejected")
    ]
    assert [(b["building_code"], b["codes"]) for b in acts["household_codes_you_issued"]] == [
        ("HD-01-1", 3)
    ]
    assert [(b["building_code"], b["version"]) for b in acts["building_codes_you_rotated"]] == [
        ("HD-01-1", 2)
    ]
    text = document.decode("utf-8")
    for theirs in (str(BOB), "Bob", "hash-", "8800", "101"):
        assert theirs not in text, theirs
