"""The roles repository: live role grants and resident tags (spec 01, Roles with a scope)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.roles import Grant, Position, Role, Scope, ScopeKind, Tag
from storage.tables import (
    audit_log,
    building_links,
    household_codes,
    owner_claims,
    resident_tags,
    role_grants,
)
from storage.upsert import dialect_insert

EXPORT_LIMIT: Final = 1000
"""Most recent audit entries about a person in their export."""


class SqlRolesRepository:
    """Grants and tags in the database. Never commits: the unit of work does.

    A revoked grant keeps its row (``revoked_at`` set), so the history of who
    held a role stays next to the audit log; only live rows are read back.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of_user(self, user_id: int) -> list[Grant]:
        return await self._live(role_grants.c.user_id == user_id)

    async def in_community(self, community_code: str) -> list[Grant]:
        return await self._live(role_grants.c.community_code == community_code)

    async def holders(self, role: Role) -> list[Grant]:
        return await self._live(role_grants.c.role == role.value)

    async def add(self, grant: Grant) -> bool:
        """Insert a live grant; ``False`` when the same one is live already.

        ``ON CONFLICT DO NOTHING`` on the partial unique index of live grants, so
        a redelivered ``/grant`` or two admins granting at once write one row.
        """
        statement = (
            dialect_insert(self._conn, role_grants)
            .values(
                user_id=grant.user_id,
                role=grant.role.value,
                scope_kind=grant.scope.kind.value,
                scope_code=grant.scope.code,
                community_code=grant.community_code,
                position=None if grant.position is None else grant.position.value,
                granted_by=grant.granted_by,
                granted_at=grant.granted_at,
            )
            .on_conflict_do_nothing(
                index_elements=["user_id", "role", "scope_kind", "scope_code"],
                index_where=role_grants.c.revoked_at.is_(None),
            )
        )
        result = await self._conn.execute(statement)
        return bool(result.rowcount)

    async def revoke(self, grant: Grant, by: int | None, now: datetime) -> bool:
        result = await self._conn.execute(
            update(role_grants)
            .where(
                role_grants.c.user_id == grant.user_id,
                role_grants.c.role == grant.role.value,
                role_grants.c.scope_kind == grant.scope.kind.value,
                role_grants.c.scope_code == grant.scope.code,
                role_grants.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_by=by)
        )
        return bool(result.rowcount)

    async def tags_of(self, user_id: int) -> list[tuple[Tag, str]]:
        result = await self._conn.execute(
            select(resident_tags.c.tag, resident_tags.c.community_code)
            .where(resident_tags.c.user_id == user_id)
            .order_by(resident_tags.c.community_code, resident_tags.c.tag)
        )
        return [(Tag(tag), str(community)) for tag, community in result]

    async def add_tag(
        self, user_id: int, tag: Tag, community_code: str, by: int | None, now: datetime
    ) -> bool:
        result = await self._conn.execute(
            dialect_insert(self._conn, resident_tags)
            .values(
                user_id=user_id,
                tag=tag.value,
                community_code=community_code,
                granted_by=by,
                granted_at=now,
            )
            .on_conflict_do_nothing(index_elements=["user_id", "tag", "community_code"])
        )
        return bool(result.rowcount)

    async def remove_tag(self, user_id: int, tag: Tag, community_code: str) -> bool:
        result = await self._conn.execute(
            delete(resident_tags).where(
                resident_tags.c.user_id == user_id,
                resident_tags.c.tag == tag.value,
                resident_tags.c.community_code == community_code,
            )
        )
        return bool(result.rowcount)

    async def tagged(self, community_code: str, tag: Tag | None = None) -> list[tuple[int, Tag]]:
        query = select(resident_tags.c.user_id, resident_tags.c.tag).where(
            resident_tags.c.community_code == community_code
        )
        if tag is not None:
            query = query.where(resident_tags.c.tag == tag.value)
        result = await self._conn.execute(
            query.order_by(resident_tags.c.tag, resident_tags.c.user_id)
        )
        return [(int(user_id), Tag(value)) for user_id, value in result]

    async def _live(self, condition: Any) -> list[Grant]:
        result = await self._conn.execute(
            select(role_grants)
            .where(condition, role_grants.c.revoked_at.is_(None))
            .order_by(role_grants.c.id)
        )
        return [_grant(row) for row in result.mappings()]


def _grant(row: Any) -> Grant:
    return Grant(
        user_id=row["user_id"],
        role=Role(row["role"]),
        scope=Scope(ScopeKind(row["scope_kind"]), row["scope_code"]),
        community_code=row["community_code"],
        position=None if row["position"] is None else Position(row["position"]),
        granted_by=row["granted_by"],
        granted_at=row["granted_at"],
        id=row["id"],
    )


# -- one person's data (``/mydata``, ``/deleteme``; storage/personal_data.py) ---------------


async def export_roles(conn: AsyncConnection, user_id: int) -> dict[str, Any]:
    """The person's grants (revoked ones too), tags, and the audit entries about them."""
    grants = await conn.execute(
        select(role_grants).where(role_grants.c.user_id == user_id).order_by(role_grants.c.id)
    )
    tags = await conn.execute(
        select(resident_tags)
        .where(resident_tags.c.user_id == user_id)
        .order_by(resident_tags.c.community_code, resident_tags.c.tag)
    )
    entries = await conn.execute(
        select(audit_log)
        .where(audit_log.c.target_user_id == user_id)
        .order_by(audit_log.c.id.desc())
        .limit(EXPORT_LIMIT)
    )
    return {
        "role_grants": [_plain_row(row) for row in grants.mappings()],
        "resident_tags": [_plain_row(row) for row in tags.mappings()],
        "audit_entries_about_you": [
            _plain_row(row) | {"details": json.loads(row["details"])}
            for row in reversed(list(entries.mappings()))
        ],
        "what_you_did_as_staff": await export_acts(conn, user_id),
    }


async def export_acts(conn: AsyncConnection, user_id: int) -> dict[str, Any]:
    """What the person did as staff or admin: rows erasure keeps with them as actor.

    Erasure keeps these rows (the community's record of who acted), so the
    export must show them too. Each row is exported with what says that, when
    and where the person acted — and without what belongs to someone else: the
    person acted on (``target_user_id``, a grantee's ``user_id``, a claimant),
    the particulars of their claims (unit, area, name, reason), audit details
    (which repeat those particulars) and household codes' units and hashes.
    Those are the other people's data, theirs to export, not the actor's.
    """
    acted = await conn.execute(
        select(
            audit_log.c.id,
            audit_log.c.at,
            audit_log.c.action,
            audit_log.c.community_code,
            audit_log.c.update_id,
        )
        .where(audit_log.c.actor_id == user_id)
        .order_by(audit_log.c.id.desc())
        .limit(EXPORT_LIMIT)
    )
    office = [
        role_grants.c.id,
        role_grants.c.role,
        role_grants.c.scope_kind,
        role_grants.c.scope_code,
        role_grants.c.position,
    ]
    granted = await conn.execute(
        select(*office, role_grants.c.granted_at)
        .where(role_grants.c.granted_by == user_id)
        .order_by(role_grants.c.id)
    )
    revoked = await conn.execute(
        select(*office, role_grants.c.revoked_at)
        .where(role_grants.c.revoked_by == user_id)
        .order_by(role_grants.c.id)
    )
    decided = await conn.execute(
        select(
            owner_claims.c.id,
            owner_claims.c.community_code,
            owner_claims.c.status,
            owner_claims.c.decided_at,
        )
        .where(owner_claims.c.decided_by == user_id)
        .order_by(owner_claims.c.id)
    )
    issued = await conn.execute(
        select(
            household_codes.c.community_code,
            household_codes.c.compound_code,
            household_codes.c.building_code,
            household_codes.c.issued_at,
            func.count().label("codes"),
        )
        .where(household_codes.c.issued_by == user_id)
        .group_by(
            household_codes.c.community_code,
            household_codes.c.compound_code,
            household_codes.c.building_code,
            household_codes.c.issued_at,
        )
        .order_by(household_codes.c.issued_at)
    )
    rotated = await conn.execute(
        select(
            building_links.c.building_code, building_links.c.version, building_links.c.rotated_at
        )
        .where(building_links.c.rotated_by == user_id)
        .order_by(building_links.c.building_code)
    )
    tagged = await conn.execute(
        select(resident_tags.c.tag, resident_tags.c.community_code, resident_tags.c.granted_at)
        .where(resident_tags.c.granted_by == user_id)
        .order_by(resident_tags.c.granted_at)
    )
    return {
        "audit_entries_by_you": [_plain_row(row) for row in reversed(list(acted.mappings()))],
        "tags_you_gave": [_plain_row(row) for row in tagged.mappings()],
        "roles_you_granted": [_plain_row(row) for row in granted.mappings()],
        "roles_you_revoked": [_plain_row(row) for row in revoked.mappings()],
        "owner_claims_you_decided": [_plain_row(row) for row in decided.mappings()],
        "household_codes_you_issued": [_plain_row(row) for row in issued.mappings()],
        "building_codes_you_rotated": [_plain_row(row) for row in rotated.mappings()],
    }


async def erase_roles(conn: AsyncConnection, user_id: int) -> dict[str, int]:
    """Tags and owner grants go; the log forgets the person as target.

    Other grants are not touched here: the erase use case
    (:func:`civic.personal_data.erase_own_data`) has already revoked them like
    an admin's revoke — audited, open work handed to the secretary — and the
    revoked rows stay as the record of who held office (the community's, not
    the person's, history). Audit entries about the person lose the person;
    entries of what they did as staff keep them as actor.
    """
    tags = await conn.execute(delete(resident_tags).where(resident_tags.c.user_id == user_id))
    owners = await conn.execute(
        delete(role_grants).where(
            role_grants.c.user_id == user_id, role_grants.c.role == Role.OWNER.value
        )
    )
    forgotten = await conn.execute(
        update(audit_log).where(audit_log.c.target_user_id == user_id).values(target_user_id=None)
    )
    return {
        "resident_tags": tags.rowcount or 0,
        "owner_grants": owners.rowcount or 0,
        "audit_log": forgotten.rowcount or 0,
    }


def _plain_row(row: Any) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row.items()
    }
