"""Migrations create the schema from empty, round-trip, and match ``storage/tables.py``."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage import migrate
from storage.database import Database
from storage.tables import metadata


async def _table_names(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_create_every_table_from_empty(empty_database: Database) -> None:
    assert await migrate.current_revision(empty_database.engine) is None

    await empty_database.migrate()

    assert await migrate.current_revision(empty_database.engine) == migrate.head_revision()
    assert set(metadata.tables) <= await _table_names(empty_database)


async def test_the_migrated_schema_matches_the_tables_module(database: Database) -> None:
    async with database.engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert differences == []


async def test_downgrade_to_empty_and_upgrade_again_round_trips(database: Database) -> None:
    await migrate.downgrade(database.engine, "base")
    assert await _table_names(database) <= {"alembic_version"}
    assert await migrate.current_revision(database.engine) is None

    await migrate.upgrade(database.engine)

    assert set(metadata.tables) <= await _table_names(database)


async def test_every_revision_steps_down_and_up_again(database: Database) -> None:
    revisions = migrate.revisions()
    for earlier in reversed(["base", *revisions[:-1]]):
        await migrate.downgrade(database.engine, earlier)
    for later in revisions:
        await migrate.upgrade(database.engine, later)
        assert await migrate.current_revision(database.engine) == later


async def test_the_start_up_check_agrees_with_alembic(empty_database: Database) -> None:
    """Start-up skips Alembic when the database is at head; that check must not lie."""
    assert migrate.shipped_head() == migrate.head_revision()
    assert await migrate.stored_revision(empty_database.engine) is None
    assert not await migrate.is_at_head(empty_database.engine)

    earlier = migrate.revisions()[-2]
    await migrate.upgrade(empty_database.engine, earlier)
    assert await migrate.stored_revision(empty_database.engine) == earlier
    assert not await migrate.is_at_head(empty_database.engine)

    assert await empty_database.migrate() == migrate.head_revision()
    assert await migrate.is_at_head(empty_database.engine)
