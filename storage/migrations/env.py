"""Alembic environment: migrations run on the connection the caller passes in.

``storage.migrate`` opens an async connection and hands its synchronous face to
Alembic through ``config.attributes["connection"]`` (Alembic cookbook,
"Programmatic API use (connection sharing) with asyncio").
"""

from __future__ import annotations

from alembic import context

from storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python -m bot migrate` (storage.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
