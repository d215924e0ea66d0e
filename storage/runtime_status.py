"""Small named facts the running bot publishes for ``health`` in another process.

``health`` runs as its own command (spec 01, Run modes), so what only the bot
process knows, such as its last successful ``getUpdates``, is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import runtime_status
from storage.upsert import upsert

LAST_GET_UPDATES = "intake.last_get_updates"
"""ISO time of the last successful ``getUpdates`` (polling mode)."""
LAST_WEBHOOK_UPDATE = "intake.last_webhook_update"
"""ISO time of the last update received on the webhook (webhook mode)."""
RUN_MODE = "runner.mode"


@dataclass(frozen=True)
class StatusValue:
    value: str
    updated_at: datetime


class SqlRuntimeStatusRepository:
    """Named status values. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def put(self, name: str, value: str, now: datetime) -> None:
        await upsert(
            self._conn,
            runtime_status,
            [{"name": name, "value": value, "updated_at": now}],
            ["name"],
        )

    async def get(self, name: str) -> StatusValue | None:
        row = (
            await self._conn.execute(
                select(runtime_status.c.value, runtime_status.c.updated_at).where(
                    runtime_status.c.name == name
                )
            )
        ).first()
        return None if row is None else StatusValue(row[0], row[1])
