"""Work that is due at a moment: what services schedule, before anything runs it.

Sessions are created ahead, reminders go out before them, ballots close at the
end of their window (spec 03, 04). A service asks for such work by scheduling a
:class:`DueJob` through :class:`civic.ports.DueJobsRepository`; the scheduler
runs each one exactly once when it is due, or skips it when it has become
useless (quality bar R4). Nothing in this module reads the clock or the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")
"""``capability.step``, e.g. ``sessions.remind`` (the capability word comes first)."""
MAX_KIND_LENGTH = 48
MAX_KEY_LENGTH = 160


class JobStatus(StrEnum):
    """Where a due job stands; every status but ``pending`` is final."""

    PENDING = "pending"
    """Waiting for its moment (or for a retry after a failure)."""
    DONE = "done"
    """Its handler ran and what it wrote was committed together with this status."""
    SKIPPED = "skipped"
    """Not run: past its ``stale_after`` (a reminder after the meeting), or cancelled."""
    FAILED = "failed"
    """Its handler kept raising, or no handler knows its kind; ``error`` says why."""


@dataclass(frozen=True)
class DueJob:
    """One scheduled piece of work, as stored.

    ``(kind, key)`` names it: scheduling the same pair again never makes a second
    job, so a service may re-state its schedule as often as it likes. ``key`` is
    deterministic and names the occurrence (``"42:48h"`` for the 48-hour reminder
    of session 42), never a random id.
    """

    id: int
    kind: str
    key: str
    due_at: datetime
    stale_after: datetime | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    """How many times the scheduler ended a turn with it (ran it, failed, found it stale).

    A run cut off by a crash is not counted: its transaction never committed."""
    error: str | None = None

    def is_stale(self, now: datetime) -> bool:
        """Whether running it now would be useless: strictly past ``stale_after``."""
        return self.stale_after is not None and now > self.stale_after


def check_job_name(kind: str, key: str) -> None:
    """Raise ``ValueError`` for a kind or key that storage cannot hold or the registry find."""
    if len(kind) > MAX_KIND_LENGTH or not KIND_PATTERN.fullmatch(kind):
        raise ValueError(
            f"job kind {kind!r}: use 'capability.step' in lower case, "
            f"at most {MAX_KIND_LENGTH} characters (e.g. 'sessions.remind')"
        )
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"a job key has 1 to {MAX_KEY_LENGTH} characters")
