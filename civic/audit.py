"""The audit log: every staff and admin action, who took it, when, on whom (spec 01).

Services write an :class:`AuditEntry` in the same unit of work as the change it
records, so the log and the data cannot disagree: a change is logged exactly
when it is committed. The entry names the action with an :class:`civic.roles.Action`
value (or a finer one such as ``roles.revoke``), the community it touched and
the person it concerned; ``details`` says what changed in a few plain fields —
never a deed photo, a household code or a vote (quality bar S2).

When a person erases their data (``/deleteme``), entries about them keep the
action and lose the person (``target_user_id`` emptied): the community keeps
its record of what staff did, not who it was done to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

ROLES_GRANT: Final = "roles.grant"
ROLES_REVOKE: Final = "roles.revoke"
ROLES_TAG: Final = "roles.tag"
ROLES_UNTAG: Final = "roles.untag"
ROLES_HANDOVER: Final = "roles.handover"
"""Open work of a person whose role was revoked, handed to the community's secretary."""


@dataclass(frozen=True)
class AuditEntry:
    """One staff or admin action, as written to (and read from) the audit log."""

    at: datetime
    actor_id: int | None
    """The person who acted; ``None`` for the operator at the command line."""
    action: str
    community_code: str | None = None
    target_user_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    update_id: int | None = None
    """The Telegram update that caused it, to trace a complaint back to a message."""
    id: int | None = None
