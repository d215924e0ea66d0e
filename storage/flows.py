"""The flows repository: each person's place in a multi-step flow, and their draft.

One row per person and flow name (spec 01, Storage: flow state and drafts are
rows, committed before the bot replies). See :mod:`civic.flows`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.flows import DONE_STEP, Flow
from storage.tables import flows
from storage.upsert import upsert


class SqlFlowsRepository:
    """Flows in the database. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: int, name: str) -> Flow | None:
        row = (
            (
                await self._conn.execute(
                    select(flows).where(flows.c.user_id == user_id, flows.c.name == name)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _flow(row)

    async def of_user(self, user_id: int) -> list[Flow]:
        result = await self._conn.execute(
            select(flows).where(flows.c.user_id == user_id).order_by(flows.c.name)
        )
        return [_flow(row) for row in result.mappings()]

    async def active(self, user_id: int) -> Flow | None:
        """The active flow; should two ever be, the one updated last."""
        row = (
            (
                await self._conn.execute(
                    select(flows)
                    .where(flows.c.user_id == user_id, flows.c.active.is_(True))
                    .order_by(flows.c.updated_at.desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _flow(row)

    async def unfinished(self, name: str) -> list[Flow]:
        result = await self._conn.execute(
            select(flows).where(flows.c.name == name, flows.c.step != DONE_STEP)
        )
        return [_flow(row) for row in result.mappings()]

    async def save(self, flow: Flow) -> None:
        await upsert(
            self._conn,
            flows,
            [
                {
                    "user_id": flow.user_id,
                    "name": flow.name,
                    "step": flow.step,
                    "draft": json.dumps(flow.draft, ensure_ascii=False, sort_keys=True),
                    "active": flow.active,
                    "message_id": flow.message_id,
                    "last_update_id": flow.last_update_id,
                    "updated_at": flow.updated_at,
                }
            ],
            ["user_id", "name"],
        )

    async def deactivate_all(self, user_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(flows)
            .where(flows.c.user_id == user_id, flows.c.active.is_(True))
            .values(active=False, updated_at=now)
        )

    async def set_message(self, user_id: int, name: str, message_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(flows)
            .where(flows.c.user_id == user_id, flows.c.name == name)
            .values(message_id=message_id, updated_at=now)
        )


def _flow(row: Any) -> Flow:
    try:
        draft = json.loads(row["draft"])
    except ValueError:
        draft = {}
    return Flow(
        user_id=row["user_id"],
        name=row["name"],
        step=row["step"],
        draft=draft if isinstance(draft, dict) else {},
        active=bool(row["active"]),
        message_id=row["message_id"],
        last_update_id=row["last_update_id"],
        updated_at=row["updated_at"],
    )
