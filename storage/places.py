"""The places repository: reference data upserted from ``config.toml``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.places import (
    Building,
    CategoryType,
    Community,
    Compound,
    Department,
    Grid,
    Places,
    ReportCategory,
    SyncResult,
    Township,
)
from storage import tables as t
from storage.upsert import upsert


class SqlPlacesRepository:
    """Places in the database. Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def sync(self, places: Places, now: datetime) -> SyncResult:
        """Upsert every place config lists; retire those it no longer lists."""
        stamp = {"active": True, "synced_at": now}
        batches: list[tuple[str, Table, list[dict[str, Any]]]] = [
            (
                "townships",
                t.townships,
                [
                    {"code": x.code, "name": x.name, "name_en": x.name_en, **stamp}
                    for x in places.townships
                ],
            ),
            (
                "report_categories",
                t.report_categories,
                [
                    {
                        "code": x.code,
                        "name": x.name,
                        "name_en": x.name_en,
                        "type": x.type.value,
                        **stamp,
                    }
                    for x in places.report_categories
                ],
            ),
            (
                "communities",
                t.communities,
                [
                    {
                        "code": x.code,
                        "township_code": x.township_code,
                        "name": x.name,
                        "name_en": x.name_en,
                        "timezone": x.timezone,
                        **stamp,
                    }
                    for x in places.communities
                ],
            ),
            (
                "compounds",
                t.compounds,
                [
                    {
                        "code": x.code,
                        "community_code": x.community_code,
                        "name": x.name,
                        "name_en": x.name_en,
                        "property_manager": x.property_manager,
                        **stamp,
                    }
                    for x in places.compounds
                ],
            ),
            (
                "buildings",
                t.buildings,
                [
                    {"code": x.code, "compound_code": x.compound_code, "label": x.label, **stamp}
                    for x in places.buildings
                ],
            ),
            (
                "grids",
                t.grids,
                [
                    {"code": x.code, "community_code": x.community_code, "name": x.name, **stamp}
                    for x in places.grids
                ],
            ),
            (
                "departments",
                t.departments,
                [
                    {"code": x.code, "name": x.name, "name_en": x.name_en, **stamp}
                    for x in places.departments
                ],
            ),
        ]
        written: dict[str, int] = {}
        retired: dict[str, int] = {}
        for kind, table, rows in batches:
            await upsert(self._conn, table, rows, ["code"])
            written[kind] = len(rows)
            listed = [row["code"] for row in rows]
            result = await self._conn.execute(
                update(table)
                .where(table.c.active.is_(True), table.c.code.not_in(listed))
                .values(active=False, synced_at=now)
            )
            retired[kind] = result.rowcount
        await self._replace_links(
            t.grid_compounds,
            "grid_code",
            "compound_code",
            {g.code: g.compound_codes for g in places.grids},
        )
        await self._replace_links(
            t.department_categories,
            "department_code",
            "category_code",
            {d.code: d.category_codes for d in places.departments},
        )
        return SyncResult(written=written, retired=retired)

    async def _replace_links(
        self, table: Table, owner: str, member: str, links: dict[str, tuple[str, ...]]
    ) -> None:
        if not links:
            return
        await self._conn.execute(delete(table).where(table.c[owner].in_(list(links))))
        rows = [{owner: o, member: m} for o, members in links.items() for m in members]
        if rows:
            await self._conn.execute(table.insert(), rows)

    async def load(self) -> Places:
        """Every active place, ordered by code."""
        rows = {
            name: (
                await self._conn.execute(
                    select(table).where(table.c.active.is_(True)).order_by(table.c.code)
                )
            )
            .mappings()
            .all()
            for name, table in (
                ("townships", t.townships),
                ("communities", t.communities),
                ("compounds", t.compounds),
                ("buildings", t.buildings),
                ("grids", t.grids),
                ("departments", t.departments),
                ("report_categories", t.report_categories),
            )
        }
        grid_members = await self._links(t.grid_compounds, "grid_code", "compound_code")
        department_categories = await self._links(
            t.department_categories, "department_code", "category_code"
        )
        return Places(
            townships=tuple(
                Township(r["code"], r["name"], r["name_en"]) for r in rows["townships"]
            ),
            communities=tuple(_community(r) for r in rows["communities"]),
            compounds=tuple(_compound(r) for r in rows["compounds"]),
            buildings=tuple(_building(r) for r in rows["buildings"]),
            grids=tuple(
                Grid(r["code"], r["community_code"], r["name"], grid_members.get(r["code"], ()))
                for r in rows["grids"]
            ),
            departments=tuple(
                Department(
                    r["code"], r["name"], r["name_en"], department_categories.get(r["code"], ())
                )
                for r in rows["departments"]
            ),
            report_categories=tuple(
                ReportCategory(r["code"], r["name"], r["name_en"], CategoryType(r["type"]))
                for r in rows["report_categories"]
            ),
        )

    async def _links(self, table: Table, owner: str, member: str) -> dict[str, tuple[str, ...]]:
        result = await self._conn.execute(
            select(table.c[owner], table.c[member]).order_by(table.c[owner], table.c[member])
        )
        links: defaultdict[str, list[str]] = defaultdict(list)
        for owner_code, member_code in result:
            links[owner_code].append(member_code)
        return {k: tuple(v) for k, v in links.items()}

    async def get_community(self, code: str) -> Community | None:
        row = await self._one(t.communities, code)
        return _community(row) if row else None

    async def get_compound(self, code: str) -> Compound | None:
        row = await self._one(t.compounds, code)
        return _compound(row) if row else None

    async def get_building(self, code: str) -> Building | None:
        row = await self._one(t.buildings, code)
        return _building(row) if row else None

    async def _one(self, table: Table, code: str) -> Any:
        result = await self._conn.execute(
            select(table).where(table.c.code == code, table.c.active.is_(True))
        )
        return result.mappings().first()


def _community(row: Any) -> Community:
    return Community(
        row["code"], row["name"], row["name_en"], row["township_code"], row["timezone"]
    )


def _compound(row: Any) -> Compound:
    return Compound(
        row["code"], row["community_code"], row["name"], row["name_en"], row["property_manager"]
    )


def _building(row: Any) -> Building:
    return Building(row["code"], row["compound_code"], row["label"])
