"""The household codes repository: hashes of printed codes, their use, and wrong guesses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.household_codes import HouseholdCode
from storage.tables import household_code_attempts, household_codes


class SqlHouseholdCodesRepository:
    """Never commits: the unit of work does. Holds no usable code, only SHA-256 hashes."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_many(self, codes: Sequence[HouseholdCode]) -> None:
        if not codes:
            return
        await self._conn.execute(
            household_codes.insert(),
            [
                {
                    "code_hash": c.code_hash,
                    "community_code": c.community_code,
                    "compound_code": c.compound_code,
                    "building_code": c.building_code,
                    "unit_label": c.unit_label,
                    "issued_by": c.issued_by,
                    "issued_at": c.issued_at,
                    "expires_at": c.expires_at,
                    "issue_update_id": c.issue_update_id,
                }
                for c in codes
            ],
        )

    async def find(self, code_hash: str) -> HouseholdCode | None:
        """The code whose hash this is (one unique-index read)."""
        return await self._one(household_codes.c.code_hash == code_hash)

    async def get(self, code_id: int) -> HouseholdCode | None:
        return await self._one(household_codes.c.id == code_id)

    async def claim(self, code_id: int, user_id: int, now: datetime) -> bool:
        """Mark the code used by ``user_id``, if it is still unused and unexpired.

        One conditional ``UPDATE``: of two people typing the same code at once,
        exactly one gets ``True``.
        """
        result = await self._conn.execute(
            update(household_codes)
            .where(
                household_codes.c.id == code_id,
                household_codes.c.used_at.is_(None),
                household_codes.c.expires_at > now,
            )
            .values(used_by=user_id, used_at=now)
        )
        return bool(result.rowcount)

    async def issued_by_update(self, update_id: int) -> int:
        """How many codes the ``/codes`` of ``update_id`` printed (an indexed count)."""
        found = await self._conn.scalar(
            select(func.count())
            .select_from(household_codes)
            .where(household_codes.c.issue_update_id == update_id)
        )
        return int(found or 0)

    async def record_failure(self, user_id: int, now: datetime, forget_before: datetime) -> None:
        """One wrong code typed by ``user_id``. Everyone's guesses before
        ``forget_before`` no longer count and are dropped, so the table stays as
        small as the window, and a person who erased their data leaves no trace
        past the hour."""
        await self._conn.execute(
            delete(household_code_attempts).where(household_code_attempts.c.at < forget_before)
        )
        await self._conn.execute(household_code_attempts.insert().values(user_id=user_id, at=now))

    async def failures_since(self, user_id: int, since: datetime) -> list[datetime]:
        """When ``user_id`` typed wrong codes after ``since``, oldest first."""
        rows = await self._conn.execute(
            select(household_code_attempts.c.at)
            .where(
                household_code_attempts.c.user_id == user_id,
                household_code_attempts.c.at > since,
            )
            .order_by(household_code_attempts.c.at)
        )
        return [row.at for row in rows]

    async def count_failures_since(self, since: datetime) -> int:
        """How many wrong codes anyone typed after ``since``: one ``count(*)`` over the
        indexed ``at``, asked on every code typed, so no row is read into Python."""
        found = await self._conn.scalar(
            select(func.count())
            .select_from(household_code_attempts)
            .where(household_code_attempts.c.at > since)
        )
        return int(found or 0)

    async def _one(self, condition: Any) -> HouseholdCode | None:
        row = (await self._conn.execute(select(household_codes).where(condition))).first()
        return None if row is None else _code(row._mapping)


def _code(row: Any) -> HouseholdCode:
    return HouseholdCode(
        code_hash=row["code_hash"],
        community_code=row["community_code"],
        compound_code=row["compound_code"],
        building_code=row["building_code"],
        unit_label=row["unit_label"],
        issued_by=row["issued_by"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        used_by=row["used_by"],
        used_at=row["used_at"],
        issue_update_id=row["issue_update_id"],
        id=row["id"],
    )
