"""The building links repository: the version signed into each building's printed QR code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import building_links
from storage.upsert import dialect_insert


class SqlBuildingLinksRepository:
    """Never commits: the unit of work does. A building without a row is at version 0."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def version(self, building_code: str) -> int:
        row = (
            await self._conn.execute(
                select(building_links.c.version).where(
                    building_links.c.building_code == building_code
                )
            )
        ).first()
        return 0 if row is None else int(row.version)

    async def versions(self) -> dict[str, int]:
        """Every rotated building and its version (one small table)."""
        rows = await self._conn.execute(
            select(building_links.c.building_code, building_links.c.version)
        )
        return {row.building_code: int(row.version) for row in rows}

    async def rotate(self, building_code: str, by: int | None, now: datetime) -> int:
        """Raise the building's version by one; return the new version.

        ``version = version + 1`` in the database, and an insert that does nothing
        if another rotation created the row meanwhile, so two rotations at once
        give two distinct versions, never the same one twice.
        """
        await self._conn.execute(
            dialect_insert(self._conn, building_links)
            .values(building_code=building_code, version=0, rotated_by=by, rotated_at=now)
            .on_conflict_do_nothing(index_elements=["building_code"])
        )
        await self._conn.execute(
            update(building_links)
            .where(building_links.c.building_code == building_code)
            .values(
                version=building_links.c.version + 1,
                rotated_by=by,
                rotated_at=now,
            )
        )
        return await self.version(building_code)
