"""Create the async engine for a database URL, with the settings each database needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URLs.

    SQLite gets WAL (readers never block the writer), foreign keys on (off by
    default in SQLite), a busy timeout, and real transactions: the pysqlite
    driver otherwise starts them lazily, so a unit of work that reads, then
    writes could see two different snapshots (SQLAlchemy docs, "Serializable
    isolation / Savepoints / Transactional DDL" for pysqlite).
    """
    # Failed statements must not put their parameters (updates, residents' data) in
    # exception texts, which reach the logs (spec 01: no personal data in logs).
    options.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **options)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two units of work never
        # deadlock upgrading a read lock; read-only work asks for a plain BEGIN.
        mode = "BEGIN" if connection.get_execution_options().get("read_only") else "BEGIN IMMEDIATE"
        connection.exec_driver_sql(mode)
