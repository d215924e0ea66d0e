"""Roles and the audit log on SQLite and PostgreSQL: repositories, then the use cases on them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import load_config_file, places_from_config
from civic import audit
from civic.audit import AuditEntry
from civic.handover import HandoverRegistry
from civic.ports import UnitOfWork
from civic.residents import Resident, VerificationLevel
from civic.roles import Actor, Decision, Grant, Position, Role, Scope, ScopeKind, Tag, load_actor
from civic.roles_admin import (
    NoticeKind,
    RoleNotice,
    RoleOutcome,
    RoleRequest,
    grant_role,
    list_staff,
    menu_holders,
    read_audit,
    revoke_role,
    tag_resident,
    untag_resident,
)
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
ADMIN = Actor(9, (Grant(9, Role.ADMIN, Scope.county()),))
LI, WANG, ZHAO = 101, 102, 103


def staff_grant(user_id: int, community: str, position: Position) -> Grant:
    return Grant(
        user_id,
        Role.STAFF,
        Scope(ScopeKind.COMMUNITY, community),
        community,
        position,
        granted_at=NOW,
    )


def compose(language: str, notice: RoleNotice) -> Mapping[str, Any]:
    return {"text": f"{language}:{notice.kind.value}"}


async def outbox_texts(database: Database, chat_id: int) -> list[str]:
    async with database.uow() as uow:
        rows = await uow.outbox.due(NOW + timedelta(days=1), 100)
    return [r.payload["text"] for r in rows if r.chat_id == chat_id]


# -- repositories -----------------------------------------------------------------------


async def test_a_grant_is_live_once_and_stays_as_history_when_revoked(database: Database) -> None:
    secretary = staff_grant(LI, "HD", Position.SECRETARY)
    async with database.uow() as uow:
        assert await uow.roles.add(secretary)
        assert not await uow.roles.add(secretary)  # the same live grant: nothing written
        assert await uow.roles.add(
            Grant(LI, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1"), "HD", granted_at=NOW)
        )
        assert await uow.roles.add(staff_grant(WANG, "CB", Position.CLERK))
        await uow.commit()
    async with database.uow() as uow:
        assert [g.role for g in await uow.roles.of_user(LI)] == [Role.STAFF, Role.GRID_WORKER]
        assert {g.user_id for g in await uow.roles.in_community("HD")} == {LI}
        assert [g.user_id for g in await uow.roles.holders(Role.STAFF)] == [LI, WANG]
        assert await uow.roles.revoke(secretary, 9, NOW)
        assert not await uow.roles.revoke(secretary, 9, NOW)
        assert await uow.roles.add(secretary)  # granted again after the revoke: a new row
        await uow.commit()
        count = await uow.connection.exec_driver_sql(
            "SELECT count(*) FROM role_grants WHERE user_id = 101 AND role = 'staff'"
        )
        assert count.scalar_one() == 2


async def test_tags_are_held_once_per_community(database: Database) -> None:
    async with database.uow() as uow:
        assert await uow.roles.add_tag(LI, Tag.EXPERT, "HD", 9, NOW)
        assert not await uow.roles.add_tag(LI, Tag.EXPERT, "HD", 9, NOW)
        assert await uow.roles.add_tag(LI, Tag.EXPERT, "CB", 9, NOW)
        assert await uow.roles.add_tag(WANG, Tag.RESIDENT_REPRESENTATIVE, "HD", None, NOW)
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.roles.tags_of(LI) == [(Tag.EXPERT, "CB"), (Tag.EXPERT, "HD")]
        assert await uow.roles.tagged("HD", Tag.EXPERT) == [(LI, Tag.EXPERT)]
        assert len(await uow.roles.tagged("HD")) == 2
        assert await uow.roles.remove_tag(LI, Tag.EXPERT, "HD")
        assert not await uow.roles.remove_tag(LI, Tag.EXPERT, "HD")


async def test_the_audit_log_reads_newest_first_by_community(database: Database) -> None:
    async with database.uow() as uow:
        ids = [
            await uow.audit.record(
                AuditEntry(
                    NOW + timedelta(minutes=n),
                    None if n == 0 else 9,
                    audit.ROLES_TAG,
                    community,
                    LI,
                    {"tag": "expert", "note": "专家"},
                    update_id=n,
                )
            )
            for n, community in enumerate(["HD", "CB", "HD", None])
        ]
        await uow.commit()
    async with database.uow(read_only=True) as uow:
        everything = await uow.audit.recent(None, 10)
        hd = await uow.audit.recent(frozenset({"HD"}), 10)
        older = await uow.audit.recent(None, 10, before_id=ids[2])
    assert [e.id for e in everything] == ids[::-1]
    assert [e.id for e in hd] == [ids[2], ids[0]]
    assert [e.id for e in older] == ids[1::-1]
    first = hd[-1]
    assert (first.actor_id, first.at, first.details) == (
        None,
        NOW,
        {"tag": "expert", "note": "专家"},
    )


# -- use cases --------------------------------------------------------------------------


async def test_a_grant_is_audited_and_told_once_in_the_persons_language(
    database: Database,
) -> None:
    async with database.uow() as uow:
        await uow.places.sync(PLACES, NOW)
        await uow.residents.add(
            Resident(
                LI, "en", "HD", "HD-01", None, None, VerificationLevel.UNVERIFIED, NOW, NOW, NOW
            )
        )
        await uow.commit()
    request = RoleRequest(LI, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.SECRETARY)
    done = await grant_role(database.uow(), ADMIN, request, PLACES, NOW, compose, update_id=7)
    again = await grant_role(database.uow(), ADMIN, request, PLACES, NOW, compose, update_id=7)
    stranger = RoleRequest(WANG, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1"))
    await grant_role(database.uow(), None, stranger, PLACES, NOW, compose)

    assert (done.outcome, again.outcome) == (RoleOutcome.DONE, RoleOutcome.ALREADY)
    assert await outbox_texts(database, LI) == ["en:granted"]
    assert await outbox_texts(database, WANG) == ["zh_CN:granted"]  # never registered: Chinese
    page = await read_audit(database.uow(read_only=True), ADMIN, "HD", PLACES)
    assert [(e.action, e.actor_id, e.target_user_id) for e in page.entries] == [
        (audit.ROLES_GRANT, None, WANG),
        (audit.ROLES_GRANT, 9, LI),
    ]
    assert page.entries[1].details == {
        "role": "staff",
        "scope_kind": "community",
        "scope": "HD",
        "position": "secretary",
    }
    actor = await load_actor(database.uow(read_only=True), LI, ())
    assert actor.staff_communities() == frozenset({"HD"})


async def test_grants_are_refused_to_non_admins_and_write_nothing(database: Database) -> None:
    await grant_role(
        database.uow(),
        ADMIN,
        RoleRequest(LI, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.SECRETARY),
        PLACES,
        NOW,
        compose,
    )
    secretary = await load_actor(database.uow(read_only=True), LI, ())
    request = RoleRequest(WANG, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.CLERK)
    refused = await grant_role(database.uow(), secretary, request, PLACES, NOW, compose)
    resident = await grant_role(database.uow(), Actor(WANG), request, PLACES, NOW, compose)
    assert (refused.outcome, refused.decision) == (RoleOutcome.REFUSED, Decision.POSITION)
    assert resident.decision is Decision.NOT_STAFF
    async with database.uow() as uow:
        assert await uow.roles.of_user(WANG) == []
        assert len(await uow.audit.recent(None, 10)) == 1


@pytest.mark.parametrize("with_secretary", [True, False])
async def test_revoking_hands_open_work_to_the_secretary_through_the_registry(
    database: Database, with_secretary: bool
) -> None:
    calls: list[tuple[int, str, int | None]] = []

    async def hand_over_reports(
        uow: UnitOfWork, from_user: int, community: str, to_user: int | None, now: datetime
    ) -> int:
        assert now == NOW
        calls.append((from_user, community, to_user))
        return 3

    registry = HandoverRegistry()
    registry.register("reports", hand_over_reports)
    clerk = RoleRequest(WANG, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.CLERK)
    await grant_role(database.uow(), ADMIN, clerk, PLACES, NOW, compose)
    if with_secretary:
        secretary = RoleRequest(
            LI, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.SECRETARY
        )
        await grant_role(database.uow(), ADMIN, secretary, PLACES, NOW, compose)

    revoked = await revoke_role(
        database.uow(), ADMIN, clerk, PLACES, NOW, compose, handovers=registry
    )
    twice = await revoke_role(
        database.uow(), ADMIN, clerk, PLACES, NOW, compose, handovers=registry
    )

    expected = LI if with_secretary else None
    assert revoked.outcome is RoleOutcome.DONE
    assert (revoked.secretary, dict(revoked.handed_over)) == (expected, {"reports": 3})
    assert twice.outcome is RoleOutcome.NOT_HELD
    assert calls == [(WANG, "HD", expected)]
    page = await read_audit(database.uow(read_only=True), None, "HD", PLACES)
    handover = page.entries[0]
    assert handover.action == audit.ROLES_HANDOVER
    assert handover.details == {"secretary": expected, "counts": {"reports": 3}}
    assert page.entries[1].action == audit.ROLES_REVOKE
    assert await outbox_texts(database, WANG) == ["zh_CN:granted", "zh_CN:revoked"]
    async with database.uow() as uow:
        assert await uow.roles.of_user(WANG) == []


async def add_residents(database: Database, *people: tuple[int, str]) -> None:
    """Registered residents ``(user_id, community)``, in Chinese."""
    async with database.uow() as uow:
        await uow.places.sync(PLACES, NOW)
        for user_id, community in people:
            compound = next(c.code for c in PLACES.compounds if c.community_code == community)
            await uow.residents.add(
                Resident(
                    user_id,
                    "zh_CN",
                    community,
                    compound,
                    None,
                    None,
                    VerificationLevel.UNVERIFIED,
                    NOW,
                    NOW,
                    NOW,
                )
            )
        await uow.commit()


async def test_tags_by_leaders_of_the_community_only(database: Database) -> None:
    await add_residents(database, (WANG, "HD"))
    secretary = Actor(LI, (staff_grant(LI, "HD", Position.SECRETARY),))
    clerk = Actor(ZHAO, (staff_grant(ZHAO, "HD", Position.CLERK),))
    tagged = await tag_resident(
        database.uow(), secretary, WANG, Tag.EXPERT, "HD", PLACES, NOW, compose
    )
    again = await tag_resident(
        database.uow(), secretary, WANG, Tag.EXPERT, "HD", PLACES, NOW, compose
    )
    elsewhere = await tag_resident(
        database.uow(), secretary, WANG, Tag.EXPERT, "CB", PLACES, NOW, compose
    )
    by_clerk = await untag_resident(
        database.uow(), clerk, WANG, Tag.EXPERT, "HD", PLACES, NOW, compose
    )
    listing = await list_staff(database.uow(read_only=True), clerk, None, PLACES)
    untagged = await untag_resident(
        database.uow(), secretary, WANG, Tag.EXPERT, "HD", PLACES, NOW, compose
    )
    assert [r.outcome for r in (tagged, again, untagged)] == [
        RoleOutcome.DONE,
        RoleOutcome.ALREADY,
        RoleOutcome.DONE,
    ]
    assert elsewhere.decision is Decision.OTHER_COMMUNITY
    assert by_clerk.decision is Decision.POSITION
    assert listing.tags == ((WANG, Tag.EXPERT),)
    assert listing.registered == frozenset()
    assert await outbox_texts(database, WANG) == ["zh_CN:tagged", "zh_CN:untagged"]


async def test_menu_holders_are_role_holders_and_config_admins(database: Database) -> None:
    await grant_role(
        database.uow(),
        None,
        RoleRequest(LI, Role.LIAISON, Scope(ScopeKind.DEPARTMENT, "HOUSING")),
        PLACES,
        NOW,
        compose,
    )
    holders = await menu_holders(database.uow(read_only=True), [77])
    assert [(a.user_id, a.is_admin) for a in holders] == [(77, True), (LI, False)]
    assert NoticeKind.GRANTED.value == "granted"


async def test_only_residents_of_the_community_are_tagged_and_nobody_learns_where_others_live(
    database: Database,
) -> None:
    """Someone registered in CB and someone never registered get the same answer in HD."""
    elsewhere, stranger = 104, 105
    await add_residents(database, (elsewhere, "CB"))
    secretary = Actor(LI, (staff_grant(LI, "HD", Position.SECRETARY),))
    results = [
        await tag_resident(database.uow(), secretary, user, Tag.EXPERT, "HD", PLACES, NOW, compose)
        for user in (elsewhere, stranger)
    ]
    assert results[0] == results[1]
    assert results[0].outcome is RoleOutcome.NOT_RESIDENT
    async with database.uow(read_only=True) as uow:
        assert await uow.roles.tagged("HD") == []
        assert await uow.audit.recent(None, 10) == []
    # Tagged people (one registered in HD, one never registered) are listed by tag, but
    # /staff says nothing of whether they are registered: only role holders are marked.
    registered_here, never_registered = 106, 107
    await add_residents(database, (registered_here, "HD"))
    async with database.uow() as uow:
        await uow.roles.add_tag(registered_here, Tag.EXPERT, "HD", LI, NOW)
        await uow.roles.add_tag(never_registered, Tag.EXPERT, "HD", LI, NOW)
        await uow.commit()
    listing = await list_staff(database.uow(read_only=True), secretary, None, PLACES)
    assert {user for user, _ in listing.tags} == {registered_here, never_registered}
    assert listing.registered == frozenset()


async def test_the_audit_log_pages_back_from_an_entry(database: Database) -> None:
    async with database.uow() as uow:
        ids = [
            await uow.audit.record(
                AuditEntry(NOW + timedelta(minutes=n), 9, audit.ROLES_TAG, "HD", LI, {"n": n})
            )
            for n in range(5)
        ]
        await uow.commit()
    first = await read_audit(database.uow(read_only=True), ADMIN, "HD", PLACES, limit=2)
    second = await read_audit(
        database.uow(read_only=True), ADMIN, "HD", PLACES, limit=2, before_id=ids[3]
    )
    last = await read_audit(
        database.uow(read_only=True), ADMIN, "HD", PLACES, limit=2, before_id=ids[1]
    )
    assert ([e.id for e in first.entries], first.more) == ([ids[4], ids[3]], True)
    assert ([e.id for e in second.entries], second.more) == ([ids[2], ids[1]], True)
    assert ([e.id for e in last.entries], last.more) == ([ids[0]], False)
