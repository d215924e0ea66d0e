"""The owner claims repository (spec 01 "Owner claims", spec 04 "The owners' register")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.register_claims import Claim, ClaimStatus, DeedKind, RejectReason
from storage.tables import owner_claims


class SqlRegisterClaimsRepository:
    """The ``owner_claims`` table. Never commits: the unit of work does.

    Deciding is a conditional update (``WHERE status = 'pending'``): of two
    reviewers pressing at once, or one update delivered twice, exactly one
    changes the row; the other learns it was decided already.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, claim: Claim) -> int:
        result = await self._conn.execute(
            insert(owner_claims)
            .values(
                user_id=claim.user_id,
                community_code=claim.community_code,
                compound_code=claim.compound_code,
                building_code=claim.building_code,
                unit_label=claim.unit_label,
                area_centi_m2=claim.area_centi_m2,
                owner_name=claim.owner_name,
                deed_file_id=claim.deed_file_id,
                deed_kind=None if claim.deed_kind is None else claim.deed_kind.value,
                status=claim.status.value,
                reason_code=None if claim.reason_code is None else claim.reason_code.value,
                reason=claim.reason,
                decided_by=claim.decided_by,
                decided_at=claim.decided_at,
                created_at=claim.created_at,
            )
            .returning(owner_claims.c.id)
        )
        return int(result.scalar_one())

    async def get(self, claim_id: int) -> Claim | None:
        row = (
            (await self._conn.execute(select(owner_claims).where(owner_claims.c.id == claim_id)))
            .mappings()
            .first()
        )
        return None if row is None else _claim(row)

    async def of_user(self, user_id: int) -> list[Claim]:
        return await self._claims(
            select(owner_claims)
            .where(owner_claims.c.user_id == user_id)
            .order_by(owner_claims.c.id.desc())
        )

    async def pending_for(
        self, user_id: int, compound_code: str, building_code: str | None, unit_label: str
    ) -> Claim | None:
        building = (
            owner_claims.c.building_code.is_(None)
            if building_code is None
            else owner_claims.c.building_code == building_code
        )
        claims = await self._claims(
            select(owner_claims)
            .where(
                owner_claims.c.user_id == user_id,
                owner_claims.c.compound_code == compound_code,
                building,
                owner_claims.c.unit_label == unit_label,
                owner_claims.c.status == ClaimStatus.PENDING.value,
            )
            .order_by(owner_claims.c.id)
            .limit(1)
        )
        return claims[0] if claims else None

    async def pending_in(
        self, community_code: str, limit: int, *, excluding: int | None = None
    ) -> list[Claim]:
        return await self._claims(
            select(owner_claims)
            .where(*_pending_in(community_code, excluding))
            .order_by(owner_claims.c.id)
            .limit(limit)
        )

    async def count_pending_in(self, community_code: str, *, excluding: int | None = None) -> int:
        count = await self._conn.scalar(
            select(func.count())
            .select_from(owner_claims)
            .where(*_pending_in(community_code, excluding))
        )
        return int(count or 0)

    async def settle(
        self,
        claim_id: int,
        status: ClaimStatus,
        *,
        by: int,
        now: datetime,
        reason_code: RejectReason | None = None,
        reason: str | None = None,
    ) -> bool:
        if status is ClaimStatus.PENDING:
            raise ValueError("settling a claim gives it a final status")
        result = await self._conn.execute(
            update(owner_claims)
            .where(
                owner_claims.c.id == claim_id,
                owner_claims.c.status == ClaimStatus.PENDING.value,
            )
            .values(
                status=status.value,
                decided_by=by,
                decided_at=now,
                reason_code=None if reason_code is None else reason_code.value,
                reason=reason,
            )
        )
        return bool(result.rowcount)

    async def _claims(self, statement: Any) -> list[Claim]:
        return [_claim(row) for row in (await self._conn.execute(statement)).mappings()]


def _pending_in(community_code: str, excluding: int | None) -> list[Any]:
    conditions = [
        owner_claims.c.community_code == community_code,
        owner_claims.c.status == ClaimStatus.PENDING.value,
    ]
    if excluding is not None:
        conditions.append(owner_claims.c.user_id != excluding)
    return conditions


def _claim(row: Any) -> Claim:
    return Claim(
        user_id=row["user_id"],
        community_code=row["community_code"],
        compound_code=row["compound_code"],
        building_code=row["building_code"],
        unit_label=row["unit_label"],
        area_centi_m2=int(row["area_centi_m2"]),
        owner_name=row["owner_name"],
        deed_file_id=row["deed_file_id"],
        created_at=row["created_at"],
        # A deed stored before kinds were kept was a photo.
        deed_kind=None
        if row["deed_file_id"] is None
        else DeedKind(row["deed_kind"] or DeedKind.PHOTO.value),
        status=ClaimStatus(row["status"]),
        reason_code=None if row["reason_code"] is None else RejectReason(row["reason_code"]),
        reason=row["reason"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        id=row["id"],
    )
