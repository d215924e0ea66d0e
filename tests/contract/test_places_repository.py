"""The places repository contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.config import load_config_file, places_from_config
from civic.places import Places, sync_places
from storage import tables
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def shipped_places() -> Places:
    return places_from_config(load_config_file(SHIPPED_CONFIG))


async def test_the_shipped_places_are_loaded_back_as_they_were_synced(
    database: Database, shipped_places: Places
) -> None:
    await sync_places(database.uow(), shipped_places, NOW)

    async with database.uow(read_only=True) as uow:
        loaded = await uow.places.load()

    def by_code(items: tuple[object, ...]) -> list[object]:
        return sorted(items, key=lambda x: x.code)  # type: ignore[attr-defined]

    for kind in (
        "townships",
        "communities",
        "compounds",
        "buildings",
        "grids",
        "departments",
        "report_categories",
    ):
        assert by_code(getattr(loaded, kind)) == by_code(getattr(shipped_places, kind)), kind
    assert len(loaded.communities) == 13


async def test_syncing_twice_changes_nothing(database: Database, shipped_places: Places) -> None:
    await sync_places(database.uow(), shipped_places, NOW)
    async with database.uow(read_only=True) as uow:
        after_first = await uow.places.load()

    second = await sync_places(database.uow(), shipped_places, NOW)

    assert set(second.retired.values()) == {0}
    async with database.uow(read_only=True) as uow:
        assert await uow.places.load() == after_first


async def test_a_place_config_no_longer_lists_is_retired_not_deleted(
    database: Database, shipped_places: Places
) -> None:
    await sync_places(database.uow(), shipped_places, NOW)
    dropped = shipped_places.compounds[-1]
    fewer = replace(
        shipped_places,
        compounds=shipped_places.compounds[:-1],
        buildings=tuple(b for b in shipped_places.buildings if b.compound_code != dropped.code),
        grids=tuple(
            replace(g, compound_codes=tuple(c for c in g.compound_codes if c != dropped.code))
            for g in shipped_places.grids
        ),
    )

    result = await sync_places(database.uow(), fewer, NOW)

    assert result.retired["compounds"] == 1
    async with database.uow(read_only=True) as uow:
        assert await uow.places.get_compound(dropped.code) is None
        row = (
            await uow.connection.execute(
                select(tables.compounds.c.active).where(tables.compounds.c.code == dropped.code)
            )
        ).one()
    assert row.active is False


async def test_a_renamed_compound_is_updated_in_place(
    database: Database, shipped_places: Places
) -> None:
    await sync_places(database.uow(), shipped_places, NOW)
    first = shipped_places.compounds[0]
    renamed = replace(first, name="新名字", property_manager=None)
    changed = replace(shipped_places, compounds=(renamed, *shipped_places.compounds[1:]))

    await sync_places(database.uow(), changed, NOW)

    async with database.uow(read_only=True) as uow:
        assert await uow.places.get_compound(first.code) == renamed


async def test_a_unit_of_work_left_without_commit_rolls_back(
    database: Database, shipped_places: Places
) -> None:
    async with database.uow() as uow:
        await uow.places.sync(shipped_places, NOW)

    async with database.uow(read_only=True) as uow:
        assert await uow.places.get_community("HD") is None


async def test_a_failing_unit_of_work_writes_nothing(
    database: Database, shipped_places: Places
) -> None:
    async def sync_then_fail() -> None:
        async with database.uow() as uow:
            await uow.places.sync(shipped_places, NOW)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await sync_then_fail()

    async with database.uow(read_only=True) as uow:
        assert (await uow.places.load()).communities == ()


async def test_timestamps_come_back_as_aware_utc(
    database: Database, shipped_places: Places
) -> None:
    shanghai_morning = datetime.fromisoformat("2026-11-24T16:00:00+08:00")
    await sync_places(database.uow(), shipped_places, shanghai_morning)

    async with database.uow(read_only=True) as uow:
        stamp = (
            await uow.connection.execute(
                select(tables.communities.c.synced_at).where(tables.communities.c.code == "HD")
            )
        ).scalar_one()
    assert stamp == NOW
    assert stamp.utcoffset() is not None
    assert stamp.utcoffset().total_seconds() == 0


async def test_a_naive_timestamp_is_refused(database: Database, shipped_places: Places) -> None:
    naive = datetime(2026, 11, 24, 8, 0)
    with pytest.raises(Exception, match="naive"):
        await sync_places(database.uow(), shipped_places, naive)


async def test_foreign_keys_are_enforced(database: Database, shipped_places: Places) -> None:
    orphan = replace(shipped_places.compounds[0], code="ZZ-01", community_code="NOPE")
    broken = replace(shipped_places, compounds=(*shipped_places.compounds, orphan))

    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await sync_places(database.uow(), broken, NOW)
