"""The unit of work: one transaction, committed only when told (Cosmic Python)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.audit import SqlAuditRepository
from storage.building_links import SqlBuildingLinksRepository
from storage.chats import SqlChatsRepository
from storage.due_jobs import SqlDueJobsRepository
from storage.flows import SqlFlowsRepository
from storage.household_codes import SqlHouseholdCodesRepository
from storage.inbox import SqlInboxRepository
from storage.outbox import SqlOutboxRepository
from storage.personal_data import SqlPersonalDataRepository
from storage.places import SqlPlacesRepository
from storage.register_claims import SqlRegisterClaimsRepository
from storage.reports import SqlReportsRepository
from storage.residents import SqlResidentsRepository
from storage.roles import SqlRolesRepository
from storage.runtime_status import SqlRuntimeStatusRepository


class SqlUnitOfWork:
    """``async with uow: ...; await uow.commit()``; leaving without commit rolls back.

    Repositories share the unit's connection and never commit, so a use case's
    writes land together or not at all, before the bot replies (spec 01).
    """

    places: SqlPlacesRepository
    inbox: SqlInboxRepository
    outbox: SqlOutboxRepository
    chats: SqlChatsRepository
    runtime_status: SqlRuntimeStatusRepository
    due_jobs: SqlDueJobsRepository
    residents: SqlResidentsRepository
    flows: SqlFlowsRepository
    personal_data: SqlPersonalDataRepository
    roles: SqlRolesRepository
    audit: SqlAuditRepository
    household_codes: SqlHouseholdCodesRepository
    building_links: SqlBuildingLinksRepository
    register_claims: SqlRegisterClaimsRepository
    reports: SqlReportsRepository

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._conn: AsyncConnection | None = None

    @property
    def connection(self) -> AsyncConnection:
        """The open connection, for repositories and storage services in this package."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._conn

    async def __aenter__(self) -> Self:
        conn = await self._engine.connect()
        if self._read_only:
            conn = await conn.execution_options(read_only=True)
        self._conn = conn  # the first statement begins the transaction (autobegin)
        self.places = SqlPlacesRepository(conn)
        self.inbox = SqlInboxRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.chats = SqlChatsRepository(conn)
        self.runtime_status = SqlRuntimeStatusRepository(conn)
        self.due_jobs = SqlDueJobsRepository(conn)
        self.residents = SqlResidentsRepository(conn)
        self.flows = SqlFlowsRepository(conn)
        self.personal_data = SqlPersonalDataRepository(conn)
        self.roles = SqlRolesRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.household_codes = SqlHouseholdCodesRepository(conn)
        self.building_links = SqlBuildingLinksRepository(conn)
        self.register_claims = SqlRegisterClaimsRepository(conn)
        self.reports = SqlReportsRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    async def commit(self) -> None:
        await self.connection.commit()

    async def rollback(self) -> None:
        await self.connection.rollback()
