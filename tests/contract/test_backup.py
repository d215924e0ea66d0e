"""``backup`` and ``restore`` on both databases, and from one to the other."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config_file, places_from_config
from civic.places import sync_places
from storage.backup import BackupError, RestoreRefused, backup, restore
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


async def _filled(db: Database) -> None:
    await db.migrate()
    await sync_places(db.uow(), places_from_config(load_config_file(SHIPPED_CONFIG)), NOW)


async def _snapshot(db: Database) -> object:
    async with db.uow(read_only=True) as uow:
        return await uow.places.load()


async def test_a_backup_restores_into_an_empty_database(database: Database, tmp_path: Path) -> None:
    await _filled(database)
    before = await _snapshot(database)
    archive = tmp_path / "copy.jsonl.gz"

    written = await backup(database, archive)
    target = Database(f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}")
    try:
        restored = await restore(target, archive)
        assert restored.rows == written.rows > 0
        assert await _snapshot(target) == before
    finally:
        await target.dispose()


async def test_a_sqlite_backup_restores_into_this_database(
    empty_database: Database, tmp_path: Path
) -> None:
    source = Database(f"sqlite+aiosqlite:///{tmp_path / 'source.sqlite3'}")
    try:
        await _filled(source)
        archive = tmp_path / "copy.jsonl.gz"
        await backup(source, archive)
        expected = await _snapshot(source)
    finally:
        await source.dispose()

    await restore(empty_database, archive)

    assert await _snapshot(empty_database) == expected


async def test_restore_refuses_a_database_with_data_unless_forced(
    database: Database, tmp_path: Path
) -> None:
    await _filled(database)
    archive = tmp_path / "copy.jsonl.gz"
    await backup(database, archive)

    with pytest.raises(RestoreRefused):
        await restore(database, archive)
    summary = await restore(database, archive, force=True)

    assert summary.rows > 0
    async with database.uow(read_only=True) as uow:
        assert await uow.places.get_community("HD") is not None


async def test_the_backup_records_the_schema_revision(database: Database, tmp_path: Path) -> None:
    await _filled(database)
    archive = tmp_path / "copy.jsonl.gz"

    summary = await backup(database, archive)

    with gzip.open(archive, "rt", encoding="utf-8") as source:
        header = json.loads(source.readline())
    assert header["format"] == "xieshang-backup"
    assert header["revision"] == summary.revision
    assert not archive.with_name(archive.name + ".partial").exists()


async def test_a_file_that_is_not_a_backup_is_refused(database: Database, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")

    with pytest.raises(BackupError, match="not a xieshang backup"):
        await restore(database, bogus)


async def test_an_empty_database_cannot_be_backed_up(
    empty_database: Database, tmp_path: Path
) -> None:
    with pytest.raises(BackupError, match="empty"):
        await backup(empty_database, tmp_path / "copy.jsonl.gz")
