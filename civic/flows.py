"""Flows: a person's place in a multi-step conversation, kept as a row (spec 01, Storage).

Every capability that asks more than one question in a row (onboarding, filing a
report, an owner claim) keeps where the person is and what they entered so far in
one :class:`Flow` per person and flow name, committed *before* the bot replies.
A crash at any moment therefore loses nothing: after a restart the next update
finds the row and the flow goes on from the same step.

A person is in at most one flow at a time: the *active* one, which their free
text and ``/cancel`` go to. ``/cancel`` deactivates it and keeps its draft, so
starting the same flow again resumes it (spec 00, "nothing is lost").

Idempotency (quality bar R5): the inbox marks an update done in its own
transaction after the handlers ran, so a crash in between hands the same update
to the handlers again. Each flow remembers the last ``update_id`` it applied;
an update at or below it was applied already and is only answered again
(:meth:`Flow.has_seen`). Telegram's update ids grow, and one person's updates are
handled in order, so the comparison is enough.

Why a small explicit state machine over the ``flows`` table, and not
python-telegram-bot's ``ConversationHandler``:

* The spec wants flow state committed *before* each reply, so that a SIGKILL at
  any moment resumes the flow. ``ConversationHandler`` keeps its state in memory
  and, with ``persistent=True``, writes it through ``BasePersistence`` only every
  ``update_interval`` (60 s by default) and outside our transaction: a crash
  loses the step, or keeps a step whose draft never committed.
* Its state would be a second copy of what the flow row already says; keeping
  the two in agreement (and idempotent by ``update_id``) is exactly the bug we
  would be writing.
* The steps depend on data: a compound without buildings has no building step, a
  deep link answers the steps it names, changing one's address skips the consent
  already given. A static ``states`` map expresses that poorly; one pure
  function per capability (``answer_step``) does it plainly, and unit tests
  drive it without Telegram.
* Our update processor already handles each user's updates in order, which is
  all ``ConversationHandler``'s per-user bookkeeping would add.

So each capability has a ``Step`` enum, small answer values (``ChooseCompound``,
``EnterArea``...) and a pure ``answer_step``; this module holds what every flow
does the same way, so that a new flow writes only what is its own:

* :class:`Steps` — the order of the steps and the moves between them (next,
  previous, first unanswered), given which steps a draft asks;
* :class:`AnswerSteps` and :class:`GoBack` — which step an answer belongs to, so
  that an answer from another step (an old button, a double tap) is refused;
* :class:`FlowGate` (:func:`gate_answer`) — whether an incoming answer is a
  redelivery, finds no flow, presses a message the flow has left, or goes in;
* :func:`enter_flow` and :meth:`Flow.moved` — starting a flow (the person's only
  active one) and saving where an answer moved it, on which message.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

DONE_STEP = "done"
"""The step of a finished flow; its row stays, so a replayed last update is recognised."""

S = TypeVar("S", bound=StrEnum)
"""A capability's ``Step`` enum."""


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
        message_id: int | None = None,
    ) -> Flow:
        """This flow after an update moved it to ``step`` with ``draft``.

        ``message_id``: the message whose button moved it, which the flow is on
        now (``None``, as for typed text, keeps the recorded one: the handler
        records the new message it sends).
        """
        return replace(
            self,
            step=step,
            draft=dict(draft),
            active=active,
            message_id=self.message_id if message_id is None else message_id,
            last_update_id=self.last_update_id if update_id is None else update_id,
            updated_at=now,
        )


def resumable(flow: Flow | None) -> Flow | None:
    """A stored flow that starting it again goes on with: one not finished (nothing lost)."""
    return flow if flow is not None and not flow.finished else None


def stored_step(flow: Flow, kind: type[S], unknown: S) -> S:
    """The flow's step as ``kind``; ``unknown`` for a step this version no longer has."""
    return next((step for step in kind if step.value == flow.step), unknown)


# -- steps -------------------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class Steps(Generic[S]):
    """A flow's steps in order, and the moves every flow makes between them.

    Which steps are *asked* depends on the draft and on today's places (a
    compound without buildings has no building step; a deep link answered the
    place steps), so each move takes a predicate, closed over those, instead
    of a fixed list: the capability says what a step needs, this says where
    that leads.
    """

    order: tuple[S, ...]

    def __init__(self, *order: S) -> None:
        if len(set(order)) != len(order):
            raise ValueError(f"a step twice in {order!r}")
        object.__setattr__(self, "order", order)

    def __contains__(self, step: object) -> bool:
        return step in self.order

    def __iter__(self) -> Iterator[S]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)

    def index(self, step: S) -> int:
        return self.order.index(step)

    def after(self, step: S, asked: Callable[[S], bool]) -> S | None:
        """The first asked step after ``step``; ``None`` past the last (or for a stranger)."""
        if step not in self.order:
            return None
        return next((s for s in self.order[self.index(step) + 1 :] if asked(s)), None)

    def before(self, step: S, asked: Callable[[S], bool]) -> S | None:
        """The step "Back" leads to from ``step``; ``None`` on the first asked one."""
        if step not in self.order:
            return None
        return next((s for s in reversed(self.order[: self.index(step)]) if asked(s)), None)

    def first(self, asked: Callable[[S], bool]) -> S | None:
        """The earliest step for which ``asked`` holds (e.g. asked and not yet answered)."""
        return next((s for s in self.order if asked(s)), None)

    def resume_at(self, step: S, missing: S | None) -> S:
        """Where a stored flow goes on: at ``step``, or at the earlier ``missing`` one.

        A draft can lose an answer between two updates (a place retired in
        ``config.toml``); going on past the gap would confirm without it.
        A step this flow does not have goes to ``missing``, or the first step.
        """
        if step not in self.order:
            return missing or self.order[0]
        if missing is not None and self.index(missing) < self.index(step):
            return missing
        return step


@dataclass(frozen=True)
class GoBack(Generic[S]):
    """The Back button of a step: every flow's, the same."""

    step: S
    """The step the Back button was shown on: a press from another step is out of date."""


@dataclass(frozen=True)
class AnswerSteps(Generic[S]):
    """Which step each kind of answer belongs to (:class:`GoBack` names its own).

    A flow applies an answer only at its step: a button of a step already left
    (pressed twice, or on an old message) or text where a button is expected
    is refused as out of date, and nothing entered is lost.
    """

    table: Mapping[type, S]

    def of(self, answer: object) -> S:
        if isinstance(answer, GoBack):
            step: S = answer.step
            return step
        return self.table[type(answer)]


# -- the gate every answer passes ----------------------------------------------------------


class Gate(StrEnum):
    """What an incoming answer (a press, a text, a photo) meets before any step sees it."""

    OPEN = "open"
    """The active flow takes it: apply the step function."""
    REPLAYED = "replayed"
    """This update was applied already (redelivered after a crash): answer again only."""
    NO_FLOW = "no_flow"
    """None of these flows is active: cancelled, finished, or never started."""
    OTHER_MESSAGE = "other_message"
    """A button of a message the flow has left."""


@dataclass(frozen=True)
class FlowGate:
    """An answer's way in: :class:`Gate` and the flow it concerns."""

    gate: Gate
    flow: Flow | None = None
    """The active flow (``OPEN``, ``OTHER_MESSAGE``), the one the update was applied to
    (``REPLAYED``); ``None`` with ``NO_FLOW``."""

    @property
    def open(self) -> bool:
        return self.gate is Gate.OPEN

    @classmethod
    def of(cls, flows: Iterable[Flow], update_id: int, message_id: int | None) -> FlowGate:
        """Classify one update against a capability's stored flows of one person.

        ``message_id``: the message whose button was pressed (``None`` for text
        and photos, which belong to whichever message the flow is on).
        Replayed: the flow that recorded this very update (it may be finished
        since), or the active flow if it has applied a later one. Only the active
        flow's history orders updates: Telegram may restart update ids lower after
        a week without updates, and a flow finished before that must not make
        every answer of a new one look replayed.
        """
        stored = sorted(flows, key=lambda f: not f.active)
        active = stored[0] if stored and stored[0].active else None
        replayed = next((f for f in stored if f.last_update_id == update_id), None)
        if replayed is None and active is not None and active.has_seen(update_id):
            replayed = active
        if replayed is not None:
            return cls(Gate.REPLAYED, replayed)
        if active is None:
            return cls(Gate.NO_FLOW)
        if message_id is not None and not active.accepts_press_on(message_id):
            return cls(Gate.OTHER_MESSAGE, active)
        return cls(Gate.OPEN, active)


async def gate_answer(
    uow: UnitOfWork, user_id: int, names: Collection[str], update_id: int, message_id: int | None
) -> FlowGate:
    """:meth:`FlowGate.of` on the person's flows called ``names`` (inside ``async with uow``)."""
    flows = [f for f in await uow.flows.of_user(user_id) if f.name in names]
    return FlowGate.of(flows, update_id, message_id)


async def enter_flow(
    uow: UnitOfWork,
    user_id: int,
    name: str,
    step: str,
    draft: Mapping[str, Any],
    *,
    update_id: int,
    now: datetime,
    message_id: int | None = None,
) -> Flow:
    """Make ``name`` the person's one active flow, at ``step`` with ``draft``; saved, not committed.

    Any other active flow is left (its draft kept): a person's text goes to one
    flow. ``message_id``: the message the flow is shown on, when it is edited
    into an existing one; ``None`` when the handler sends a new message and
    records it (:func:`record_flow_message`).
    """
    started = Flow(
        user_id=user_id,
        name=name,
        step=step,
        draft=dict(draft),
        active=True,
        message_id=message_id,
        last_update_id=update_id,
        updated_at=now,
    )
    await uow.flows.deactivate_all(user_id, now)
    await uow.flows.save(started)
    return started


# -- use cases every flow shares -------------------------------------------------------------


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
