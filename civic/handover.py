"""Open work of a person whose role is revoked goes to the community's secretary (spec 01).

"Revoking a role hands that person's open work (reports, follow-ups) back to the
community's secretary." The roles capability does not know what open work other
capabilities keep, so each capability that assigns work to people registers a
hand-over function here; :func:`civic.roles_admin.revoke_role` calls every one
in the same unit of work as the revoke, so work is never left with someone who
can no longer act on it, and records the counts in the audit log.

A hand-over function takes ``(uow, from_user_id, community_code,
to_secretary_user_id, now)`` and returns how many items it moved.
``to_secretary_user_id`` is ``None`` when the community has no secretary: the
function should then leave the work unassigned (for whoever takes it next), and
the admin is told that nobody received it.

A role over no single community (a department's liaison, an admin) is handed
over with ``community_code`` ``None`` and no secretary: the function releases,
in every community, the work that role let the person take and that the roles
they keep no longer cover (whoever holds the desk takes it next).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

HandOver: TypeAlias = (
    "Callable[[UnitOfWork, int, str | None, int | None, datetime], Awaitable[int]]"
)


class HandoverRegistry:
    """The hand-over functions capabilities registered, by name (``reports``, ``followups``)."""

    def __init__(self) -> None:
        self._functions: dict[str, HandOver] = {}

    def register(self, name: str, function: HandOver) -> None:
        """Add (or replace) the capability's hand-over; registering twice is harmless."""
        self._functions[name] = function

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._functions))

    async def hand_over(
        self,
        uow: UnitOfWork,
        from_user_id: int,
        community_code: str | None,
        to_user_id: int | None,
        now: datetime,
    ) -> Mapping[str, int]:
        """Call every registered function in name order; ``{name: items moved}``.

        Runs inside the caller's open unit of work and does not commit: the
        revoke and its hand-over land together or not at all.
        """
        counts: dict[str, int] = {}
        for name in self.names:
            function = self._functions[name]
            counts[name] = await function(uow, from_user_id, community_code, to_user_id, now)
        return counts


HANDOVERS = HandoverRegistry()
"""The registry the bot uses: capabilities call ``HANDOVERS.register(...)`` at import."""


def register_handover(name: str, function: HandOver) -> None:
    """Register a capability's hand-over with the bot's registry (see the module doc)."""
    HANDOVERS.register(name, function)
