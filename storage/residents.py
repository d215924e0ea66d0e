"""The residents repository: people by Telegram user id (spec 01, Identity)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.residents import Resident, VerificationLevel
from storage.tables import residents
from storage.upsert import dialect_insert


class SqlResidentsRepository:
    """Residents in the database. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: int) -> Resident | None:
        row = (
            (await self._conn.execute(select(residents).where(residents.c.user_id == user_id)))
            .mappings()
            .first()
        )
        return None if row is None else _resident(row)

    async def add(self, resident: Resident) -> bool:
        """Insert ``resident``; ``False`` (nothing written) when the user id is taken.

        ``ON CONFLICT DO NOTHING`` rather than read-then-insert: two transactions
        racing to register the same person cannot both insert, nor fail.
        """
        result = await self._conn.execute(
            dialect_insert(self._conn, residents)
            .values(_row(resident))
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        return bool(result.rowcount)

    async def update(self, resident: Resident) -> None:
        row = _row(resident)
        del row["user_id"], row["created_at"]
        await self._conn.execute(
            update(residents).where(residents.c.user_id == resident.user_id).values(row)
        )

    async def set_language(self, user_id: int, language: str, now: datetime) -> bool:
        result = await self._conn.execute(
            update(residents)
            .where(residents.c.user_id == user_id)
            .values(language=language, updated_at=now)
        )
        return bool(result.rowcount)

    async def language_of(self, user_id: int) -> str | None:
        value = await self._conn.scalar(
            select(residents.c.language).where(residents.c.user_id == user_id)
        )
        return None if value is None else str(value)

    async def languages(self) -> list[tuple[int, str]]:
        result = await self._conn.execute(select(residents.c.user_id, residents.c.language))
        return [(int(user_id), str(language)) for user_id, language in result]


def _row(resident: Resident) -> dict[str, Any]:
    return {
        "user_id": resident.user_id,
        "language": resident.language,
        "community_code": resident.community_code,
        "compound_code": resident.compound_code,
        "building_code": resident.building_code,
        "unit_label": resident.unit_label,
        "level": resident.level.value,
        "consented_at": resident.consented_at,
        "created_at": resident.created_at,
        "updated_at": resident.updated_at,
    }


def _resident(row: Any) -> Resident:
    return Resident(
        user_id=row["user_id"],
        language=row["language"],
        community_code=row["community_code"],
        compound_code=row["compound_code"],
        building_code=row["building_code"],
        unit_label=row["unit_label"],
        level=VerificationLevel(row["level"]),
        consented_at=row["consented_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
