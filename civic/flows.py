"""Flows: a person's place in a multi-step conversation, kept as a row (spec 01, Storage).

Every capability that asks more than one question in a row (onboarding, filing a
report, an owner claim) keeps where the person is and what they entered so far in
one :class:`Flow` per person and flow name, committed *before* the bot replies.
A crash at any moment therefore loses nothing: after a restart the next update
finds the row and the flow goes on from the same step
(python-telegram-bot's persistence writes only every 60 s and keeps the rest in
memory, which is not enough here).

A person is in at most one flow at a time: the *active* one, which their free
text and ``/cancel`` go to. ``/cancel`` deactivates it and keeps its draft, so
starting the same flow again resumes it (spec 00, "nothing is lost").

Idempotency (quality bar R5): the inbox marks an update done in its own
transaction after the handlers ran, so a crash in between hands the same update
to the handlers again. Each flow remembers the last ``update_id`` it applied;
an update at or below it was applied already and is only answered again
(:meth:`Flow.has_seen`). Telegram's update ids grow, and one person's updates are
handled in order, so the comparison is enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

DONE_STEP = "done"
"""The step of a finished flow; its row stays, so a replayed last update is recognised."""


@dataclass(frozen=True)
class Flow:
    """Where one person is in one flow, and what they entered so far."""

    user_id: int
    name: str
    """``<capability>.<flow>``, e.g. ``residents.onboard``."""
    step: str
    draft: Mapping[str, Any]
    """What was entered so far, JSON-safe; its shape belongs to the capability."""
    active: bool
    """The flow the person's free text and ``/cancel`` go to (at most one per person)."""
    message_id: int | None
    """The bot's message the flow is on: its buttons act; other messages' do not."""
    last_update_id: int | None
    """The last update applied to this flow (see the module docstring)."""
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.step == DONE_STEP

    def has_seen(self, update_id: int) -> bool:
        """Whether ``update_id`` was applied already (a redelivery after a crash)."""
        return self.last_update_id is not None and update_id <= self.last_update_id

    def accepts_press_on(self, message_id: int) -> bool:
        """Whether a button on ``message_id`` belongs to this flow's current message.

        A flow whose message is not recorded (the bot crashed between sending it
        and recording it) accepts the press: the step check still applies.
        """
        return self.active and (self.message_id is None or self.message_id == message_id)

    def moved(
        self,
        *,
        step: str,
        draft: Mapping[str, Any],
        update_id: int | None,
        now: datetime,
        active: bool = True,
    ) -> Flow:
        """This flow after an update moved it to ``step`` with ``draft``."""
        return replace(
            self,
            step=step,
            draft=dict(draft),
            active=active,
            last_update_id=self.last_update_id if update_id is None else update_id,
            updated_at=now,
        )


async def active_flow(uow: UnitOfWork, user_id: int) -> Flow | None:
    """The flow the person's free text goes to, if any."""
    async with uow:
        return await uow.flows.active(user_id)


async def cancel_flow(uow: UnitOfWork, user_id: int, now: datetime) -> Flow | None:
    """``/cancel``: leave the active flow, keeping its draft; return it (``None``: none was)."""
    async with uow:
        flow = await uow.flows.active(user_id)
        if flow is None:
            return None
        await uow.flows.save(replace(flow, active=False, updated_at=now))
        await uow.commit()
    return flow


async def record_flow_message(
    uow: UnitOfWork, user_id: int, name: str, message_id: int, now: datetime
) -> None:
    """Remember the message a flow moved to (sent after the step was committed)."""
    async with uow:
        await uow.flows.set_message(user_id, name, message_id, now)
        await uow.commit()
