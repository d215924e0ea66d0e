"""Fixtures shared by every tier: databases on SQLite and, when reachable, PostgreSQL.

PostgreSQL is found at ``XIESHANG_TEST_POSTGRES_URL`` (default below). When it
cannot be reached, its tests are skipped with a reason saying so; with
``XIESHANG_REQUIRE_POSTGRES=1`` (CI) they fail instead, so a broken database set-up
can never pass for a green run.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from storage import migrate
from storage.database import Database

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://xieshang:xieshang@127.0.0.1:5432/xieshang_test"
POSTGRES_URL = os.environ.get("XIESHANG_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
REQUIRE_POSTGRES = os.environ.get("XIESHANG_REQUIRE_POSTGRES") == "1"


def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for tests, or ``None`` when it can."""
    import asyncpg

    url = make_url(POSTGRES_URL).set(drivername="postgresql")

    async def probe() -> None:
        conn = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


_POSTGRES_PROBLEM: str | None = None
_PROBED = False


def postgres_problem() -> str | None:
    global _POSTGRES_PROBLEM, _PROBED
    if not _PROBED:
        _POSTGRES_PROBLEM, _PROBED = _postgres_problem(), True
    return _POSTGRES_PROBLEM


def pytest_report_header() -> str:
    problem = postgres_problem()
    shown = make_url(POSTGRES_URL).render_as_string(hide_password=True)
    if problem is None:
        return f"PostgreSQL: {shown} (storage and end-to-end suites run on it too)"
    return f"PostgreSQL: not reachable at {shown}, its tests are skipped ({problem})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    problem = postgres_problem()
    if problem is not None:
        terminalreporter.write_line(
            "PostgreSQL was not reachable: the storage and end-to-end tests ran on SQLite only "
            f"(set XIESHANG_TEST_POSTGRES_URL; {problem})",
            yellow=True,
        )


def require_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    message = f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}"
    if REQUIRE_POSTGRES:
        pytest.fail(message)
    pytest.skip(message)


_postgres_at_head = False
"""This process migrated the shared PostgreSQL test schema, and nothing dropped it since."""


async def _reset_postgres(url: str) -> None:
    global _postgres_at_head
    _postgres_at_head = False
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()


def database_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Each storage test runs once per database."""
    if request.param == "postgresql":
        require_postgres()
    return str(request.param)


@pytest.fixture
async def empty_database(database_kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database (no schema) of each kind."""
    url = database_url(database_kind, tmp_path)
    if database_kind == "postgresql":
        await _reset_postgres(url)
    db = Database(url)
    yield db
    await db.dispose()


async def _emptied_postgres(url: str) -> Database:
    """The shared PostgreSQL schema at head with every table emptied.

    Migrating once and then ``TRUNCATE … RESTART IDENTITY`` between tests gives each
    test what a fresh migration would (no migration writes rows; ids start at 1)
    for a hundredth of the time; a schema some test left elsewhere (a failed
    downgrade, a dropped schema) is rebuilt from scratch.
    """
    global _postgres_at_head
    db = Database(url)
    if _postgres_at_head and await migrate.is_at_head(db.engine):
        async with db.engine.begin() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            tables = ", ".join(f'"{name}"' for name in names if name != "alembic_version")
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return db
    await db.dispose()
    await _reset_postgres(url)
    db = Database(url)
    await db.migrate()
    _postgres_at_head = True
    return db


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"

    async def make() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        await db.dispose()

    asyncio.run(make())
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy through SQLite's backup API, which reads a WAL-mode file whole."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture
async def database(
    database_kind: str, tmp_path: Path, _sqlite_template: Path
) -> AsyncIterator[Database]:
    """A database of each kind, migrated to head and empty.

    Migrated once per session, then copied (SQLite) or emptied (PostgreSQL) for
    each test: a migration per test cost minutes of the suite. The migrations
    themselves are tested from an empty database (``empty_database``).
    """
    if database_kind == "sqlite":
        target = tmp_path / "test.sqlite3"
        _copy_sqlite(_sqlite_template, target)
        db = Database(database_url("sqlite", tmp_path))
    else:
        db = await _emptied_postgres(POSTGRES_URL)
    yield db
    await db.dispose()
