"""Run Alembic migrations programmatically, on SQLite and PostgreSQL alike.

Every schema change is a migration, and a database created at any earlier head
upgrades in place (spec 01, Storage). Start-up upgrades to head before anything
else touches the database.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")
"""Migrations are numbered sequentially (``python3 dev.py revision``): ``0003_outbox.py``."""

# Alembic is imported where it is used: with its templating and DDL modules it
# costs ~0.15 s of start-up (benchmark P5), and a database already at head
# needs none of it (see :func:`is_at_head`).


def shipped_head() -> str:
    """The newest migration shipped with this code, read from the file names alone.

    ``tests/contract/test_migrations.py`` checks that this agrees with Alembic's
    :func:`head_revision`.
    """
    numbers = [
        match.group(1)
        for path in (MIGRATIONS / "versions").iterdir()
        if (match := REVISION_FILE.match(path.name))
    ]
    if not numbers:
        raise RuntimeError("no migrations found in storage/migrations/versions")
    return max(numbers)


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database with plain SQL; ``None`` if it has none."""
    try:
        async with engine.connect() as conn:
            return (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except DBAPIError:
        return None  # no alembic_version table: an empty database


async def is_at_head(engine: AsyncEngine) -> bool:
    """Whether the database needs no migration (checked without importing Alembic)."""
    return await stored_revision(engine) == shipped_head()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at ``storage/migrations``; no ini file needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this code, as Alembic sees it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in storage/migrations/versions")
    return head


def revisions() -> list[str]:
    """All revisions, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: head)."""
    from alembic import command

    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Downgrade the database to ``revision`` (``base`` empties it)."""
    from alembic import command

    await _run(engine, command.downgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def _run(engine: AsyncEngine, action: Any, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: action(alembic_config(sync), revision))


async def make_revision(engine: AsyncEngine, message: str) -> None:
    """Write a new migration from the difference between ``tables.py`` and a database at head.

    For developers (``python3 dev.py revision "message"``); review what it writes.
    """
    from alembic import command

    await upgrade(engine)
    async with engine.begin() as conn:
        await conn.run_sync(
            lambda sync: command.revision(
                alembic_config(sync),
                message=message,
                autogenerate=True,
                rev_id=f"{len(revisions()) + 1:04d}",
            )
        )
