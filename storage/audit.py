"""The audit log repository: append and read staff and admin actions (spec 01)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.audit import AuditEntry
from storage.tables import audit_log


class SqlAuditRepository:
    """The ``audit_log`` table. Never commits: an entry lands with the change it records."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, entry: AuditEntry) -> int:
        result = await self._conn.execute(
            insert(audit_log)
            .values(
                at=entry.at,
                actor_id=entry.actor_id,
                action=entry.action,
                community_code=entry.community_code,
                target_user_id=entry.target_user_id,
                details=json.dumps(dict(entry.details), ensure_ascii=False, sort_keys=True),
                update_id=entry.update_id,
            )
            .returning(audit_log.c.id)
        )
        return int(result.scalar_one())

    async def recent(
        self, communities: frozenset[str] | None, limit: int, before_id: int | None = None
    ) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if communities is not None:
            query = query.where(audit_log.c.community_code.in_(sorted(communities)))
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        result = await self._conn.execute(query)
        return [_entry(row) for row in result.mappings()]

    async def recorded_for_update(self, action: str, update_id: int) -> bool:
        """Whether the Telegram update ``update_id`` already led to an entry of ``action``
        (the update is being handled again after a crash). Asked only by rare staff
        commands such as ``/rotate``, so a scan of the log is acceptable."""
        found = await self._conn.scalar(
            select(audit_log.c.id)
            .where(audit_log.c.update_id == update_id, audit_log.c.action == action)
            .limit(1)
        )
        return found is not None


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        at=row["at"],
        actor_id=row["actor_id"],
        action=row["action"],
        community_code=row["community_code"],
        target_user_id=row["target_user_id"],
        details=json.loads(row["details"]),
        update_id=row["update_id"],
        id=row["id"],
    )
