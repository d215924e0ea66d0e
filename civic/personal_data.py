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
from typing import Any

from civic.handover import HANDOVERS, HandoverRegistry
from civic.ports import UnitOfWork
from civic.roles import Grant
from civic.roles_admin import resign_roles

EXPORT_FORMAT = "xieshang.mydata/1"


async def export_own_data(uow: UnitOfWork, user_id: int, now: datetime) -> bytes:
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


async def erase_own_data(
    uow: UnitOfWork,
    user_id: int,
    now: datetime,
    *,
    handovers: HandoverRegistry = HANDOVERS,
) -> tuple[Grant, ...]:
    """Erase the person's data; idempotent (erasing twice erases nothing more).

    Staff, grid workers, liaisons and admins leave office first, exactly as if
    an admin had revoked them (:func:`civic.roles_admin.resign_roles`: audited,
    open work handed to the secretary), in the same transaction as the erasure.
    Returns the roles that ended, so the caller can reset the person's menu.
    """
    async with uow:
        ended = await resign_roles(uow, user_id, now, handovers=handovers)
        await uow.personal_data.erase(user_id)
        await uow.commit()
    return ended
