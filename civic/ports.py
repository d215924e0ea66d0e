"""What the domain's use cases need from storage, as protocols (ports).

The storage package implements them with SQLAlchemy; unit tests can use
hand-written fakes (Cosmic Python, ``unit_of_work.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from civic.jobs import DueJob
from civic.places import Building, Community, Compound, Places, SyncResult


class PlacesRepository(Protocol):
    """Places as the database holds them; never commits."""

    async def sync(self, places: Places, now: datetime) -> SyncResult: ...

    async def load(self) -> Places: ...

    async def get_community(self, code: str) -> Community | None: ...

    async def get_compound(self, code: str) -> Compound | None: ...

    async def get_building(self, code: str) -> Building | None: ...


class DueJobsRepository(Protocol):
    """Work a service wants done at a moment (a reminder, a ballot's close); never commits.

    ``(kind, key)`` names a job: scheduling it again moves it while it is pending
    and leaves it alone once finished, so services may re-state their schedule
    freely. ``stale_after``: past it the job is skipped, not run late (R4).
    """

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        now: datetime,
        *,
        stale_after: datetime | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> bool: ...

    async def reschedule(
        self, kind: str, key: str, due_at: datetime, *, stale_after: datetime | None
    ) -> bool: ...

    async def cancel(self, kind: str, key: str, now: datetime) -> bool: ...

    async def get(self, kind: str, key: str) -> DueJob | None: ...


class UnitOfWork(Protocol):
    """One transaction: ``async with uow: ...; await uow.commit()``; rolls back otherwise."""

    @property
    def places(self) -> PlacesRepository: ...

    @property
    def due_jobs(self) -> DueJobsRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
