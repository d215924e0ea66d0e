"""Fixtures shared by every tier: databases on SQLite and, when reachable, PostgreSQL.

PostgreSQL is found at ``XIESHANG_TEST_POSTGRES_URL`` (default below). When it
cannot be reached, its tests are skipped with a reason saying so; with
``XIESHANG_REQUIRE_POSTGRES=1`` (CI) they fail instead, so a broken database set-up
can never pass for a green run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

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


async def _reset_postgres(url: str) -> None:
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


@pytest.fixture
async def database(empty_database: Database) -> Database:
    """A database of each kind, migrated to head."""
    await empty_database.migrate()
    return empty_database
