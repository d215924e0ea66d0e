"""What the domain's use cases need from storage, as protocols (ports).

The storage package implements them with SQLAlchemy; unit tests can use
hand-written fakes (Cosmic Python, ``unit_of_work.py``).
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from civic.places import Building, Community, Compound, Places, SyncResult


class PlacesRepository(Protocol):
    """Places as the database holds them; never commits."""

    async def sync(self, places: Places, now: datetime) -> SyncResult: ...

    async def load(self) -> Places: ...

    async def get_community(self, code: str) -> Community | None: ...

    async def get_compound(self, code: str) -> Compound | None: ...

    async def get_building(self, code: str) -> Building | None: ...


class UnitOfWork(Protocol):
    """One transaction: ``async with uow: ...; await uow.commit()``; rolls back otherwise."""

    @property
    def places(self) -> PlacesRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
