"""``/mydata`` and ``/deleteme``: a person's own data, exported or erased (spec 01, Identity).

Erasure is confirmed by the person with a button, then done in one transaction;
what a published report or ballot must keep would be anonymised here rather
than deleted (nothing is published yet: the reports and ballots capabilities
add their part).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

EXPORT_FORMAT = "xieshang.mydata/1"


class PersonalDataRepository(Protocol):
    async def export(self, user_id: int) -> dict[str, Any]: ...

    async def erase(self, user_id: int) -> Any: ...


class PersonalDataUnitOfWork(Protocol):
    @property
    def personal_data(self) -> PersonalDataRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


async def export_own_data(uow: PersonalDataUnitOfWork, user_id: int, now: datetime) -> bytes:
    """The person's data as a UTF-8 JSON document, with what it is and when it was made."""
    async with uow:
        data = await uow.personal_data.export(user_id)
    document: Mapping[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "telegram_user_id": user_id,
        **data,
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


async def erase_own_data(uow: PersonalDataUnitOfWork, user_id: int) -> None:
    """Erase the person's data; idempotent (erasing twice erases nothing more)."""
    async with uow:
        await uow.personal_data.erase(user_id)
        await uow.commit()
