"""``INSERT … ON CONFLICT`` for both databases, written once.

SQLite and PostgreSQL share the syntax, but SQLAlchemy builds it from each
dialect's own ``insert``; this picks the right one for the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """The ``INSERT`` of the connection's own dialect, which knows ``ON CONFLICT``.

    Each dialect module is imported on first use: loading PostgreSQL's on a
    SQLite deployment costs start-up time for nothing (benchmark P5).
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


async def insert_ignoring_duplicates(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert rows; rows whose keys already exist are left as they are (idempotent writes)."""
    if rows:
        await conn.execute(
            dialect_insert(conn, table).on_conflict_do_nothing(index_elements=keys), rows
        )


async def upsert(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert rows, updating every non-key column of rows whose keys already exist."""
    if not rows:
        return
    statement = dialect_insert(conn, table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    if updates:
        await conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)
    else:
        await insert_ignoring_duplicates(conn, table, rows, keys)
