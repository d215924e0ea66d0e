"""One object for the rest of the program to reach the database through."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.engine import create_engine
from storage.uow import SqlUnitOfWork


class Database:
    """The engine plus what start-up, the CLI and services need of it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """A new unit of work; use it as ``async with db.uow() as uow: …``."""
        return SqlUnitOfWork(self.engine, read_only=read_only)

    async def migrate(self) -> str:
        """Upgrade to the newest schema; return the revision reached."""
        if await migrate.is_at_head(self.engine):
            return migrate.shipped_head()  # the usual start: no Alembic needed
        await migrate.upgrade(self.engine)
        return migrate.head_revision()

    async def ping(self) -> bool:
        """Whether the database answers (for ``health``)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()

    def describe(self) -> str:
        """The URL without its password, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)
