"""The machinery every flow shares: step order, answers' steps, the gate, moving a flow."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.flows import (
    DONE_STEP,
    AnswerSteps,
    Flow,
    FlowGate,
    Gate,
    GoBack,
    Steps,
    enter_flow,
    gate_answer,
    resumable,
    stored_step,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


class Step(StrEnum):
    A = "a"
    B = "b"
    C = "c"
    D = "d"
    DONE = DONE_STEP


STEPS = Steps(Step.A, Step.B, Step.C, Step.D)


def flow(
    name: str = "test.flow",
    *,
    step: str = "b",
    active: bool = True,
    message_id: int | None = 10,
    last_update_id: int | None = 5,
) -> Flow:
    return Flow(
        user_id=1,
        name=name,
        step=step,
        draft={"x": 1},
        active=active,
        message_id=message_id,
        last_update_id=last_update_id,
        updated_at=NOW,
    )


def test_next_skips_steps_the_draft_does_not_ask() -> None:
    assert STEPS.after(Step.A, lambda s: s is not Step.B) is Step.C
    assert STEPS.after(Step.A, lambda s: True) is Step.B


def test_there_is_no_step_after_the_last_or_after_a_stranger() -> None:
    assert STEPS.after(Step.D, lambda s: True) is None
    assert STEPS.after(Step.DONE, lambda s: True) is None


def test_back_skips_steps_not_asked_and_stops_at_the_first() -> None:
    assert STEPS.before(Step.D, lambda s: s is not Step.C) is Step.B
    assert STEPS.before(Step.B, lambda s: s is not Step.A) is None
    assert STEPS.before(Step.A, lambda s: True) is None
    assert STEPS.before(Step.DONE, lambda s: True) is None


def test_first_finds_the_earliest_step_for_which_the_predicate_holds() -> None:
    unanswered = {Step.C, Step.D}
    assert STEPS.first(lambda s: s in unanswered) is Step.C
    assert STEPS.first(lambda s: False) is None


@given(st.lists(st.sampled_from(list(STEPS)), unique=True), st.sampled_from(list(STEPS)))
def test_next_then_back_returns_to_the_same_asked_step(asked: list[Step], start: Step) -> None:
    def is_asked(step: Step) -> bool:
        return step in asked

    following = STEPS.after(start, is_asked)
    if following is not None and start in asked:
        assert STEPS.before(following, is_asked) is start


def test_a_stored_flow_goes_on_at_its_step_or_at_an_earlier_gap() -> None:
    assert STEPS.resume_at(Step.C, None) is Step.C
    assert STEPS.resume_at(Step.C, Step.D) is Step.C
    assert STEPS.resume_at(Step.C, Step.B) is Step.B
    assert STEPS.resume_at(Step.DONE, Step.B) is Step.B
    assert STEPS.resume_at(Step.DONE, None) is Step.A


def test_a_step_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Steps(Step.A, Step.A)


def test_steps_behave_as_their_order() -> None:
    assert list(STEPS) == [Step.A, Step.B, Step.C, Step.D]
    assert len(STEPS) == 4
    assert Step.C in STEPS
    assert Step.DONE not in STEPS
    assert STEPS.index(Step.C) == 2


@dataclass(frozen=True)
class Pick:
    code: str


@dataclass(frozen=True)
class Confirm:
    pass


ANSWERS = AnswerSteps({Pick: Step.A, Confirm: Step.D})


def test_an_answer_belongs_to_its_step_and_back_to_the_step_it_was_shown_on() -> None:
    assert ANSWERS.of(Pick("x")) is Step.A
    assert ANSWERS.of(Confirm()) is Step.D
    assert ANSWERS.of(GoBack(Step.C)) is Step.C


def test_an_answer_of_no_step_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        ANSWERS.of(object())


def test_the_gate_opens_for_the_active_flow_on_its_own_message() -> None:
    active = flow()
    assert FlowGate.of([active], 6, 10) == FlowGate(Gate.OPEN, active)
    assert FlowGate.of([active], 6, None).open  # text and photos belong to the flow's message


def test_the_gate_opens_on_any_message_when_the_flow_never_recorded_one() -> None:
    assert FlowGate.of([flow(message_id=None)], 6, 99).open


def test_a_press_on_a_message_the_flow_left_is_refused() -> None:
    active = flow()
    assert FlowGate.of([active], 6, 9) == FlowGate(Gate.OTHER_MESSAGE, active)


def test_no_active_flow_means_no_flow() -> None:
    assert FlowGate.of([], 6, 10) == FlowGate(Gate.NO_FLOW)
    assert FlowGate.of([flow(active=False)], 6, 10) == FlowGate(Gate.NO_FLOW)


def test_an_update_applied_already_is_replayed_even_after_it_finished_the_flow() -> None:
    finished = flow(step=DONE_STEP, active=False, last_update_id=7)
    assert FlowGate.of([finished], 7, 10) == FlowGate(Gate.REPLAYED, finished)


def test_replayed_names_the_flow_that_recorded_the_update_before_the_active_one() -> None:
    finished = flow("test.one", step=DONE_STEP, active=False, last_update_id=7)
    active = flow("test.two", last_update_id=9)
    assert FlowGate.of([active, finished], 7, None) == FlowGate(Gate.REPLAYED, finished)
    assert FlowGate.of([active, finished], 8, None) == FlowGate(Gate.REPLAYED, active)


def test_a_finished_flow_with_higher_update_ids_does_not_make_a_new_flow_look_replayed() -> None:
    """Telegram may restart update ids lower after a week without updates: a flow finished
    at id 900 must not turn every answer of a flow started since at id 5 into a replay."""
    finished = flow("test.one", step=DONE_STEP, active=False, last_update_id=900)
    active = flow("test.two", last_update_id=5)
    assert FlowGate.of([active, finished], 6, 10) == FlowGate(Gate.OPEN, active)
    assert FlowGate.of([finished], 6, 10) == FlowGate(Gate.NO_FLOW)


def test_replay_comes_before_every_other_check() -> None:
    """A redelivered press is answered again, even if the flow moved to another message."""
    active = flow(last_update_id=7, message_id=11)
    assert FlowGate.of([active], 7, 10).gate is Gate.REPLAYED


def test_moving_a_flow_keeps_its_message_unless_a_press_names_one() -> None:
    start = flow()
    typed = start.moved(step="c", draft={"x": 2}, update_id=6, now=NOW)
    pressed = start.moved(step="c", draft={"x": 2}, update_id=6, now=NOW, message_id=12)
    assert (typed.step, typed.draft, typed.message_id, typed.last_update_id) == (
        "c",
        {"x": 2},
        10,
        6,
    )
    assert pressed.message_id == 12
    assert start.moved(step="c", draft={}, update_id=None, now=NOW).last_update_id == 5


def test_only_an_unfinished_flow_is_resumed() -> None:
    assert resumable(flow()) == flow()
    assert resumable(flow(step=DONE_STEP)) is None
    assert resumable(None) is None


def test_a_stored_step_this_version_no_longer_has_reads_as_unknown() -> None:
    assert stored_step(flow(step="c"), Step, Step.DONE) is Step.C
    assert stored_step(flow(step="gone"), Step, Step.DONE) is Step.DONE


class FakeFlows:
    """The part of the flows repository the shared use cases touch."""

    def __init__(self, *flows: Flow) -> None:
        self.rows = {(f.user_id, f.name): f for f in flows}

    async def of_user(self, user_id: int) -> list[Flow]:
        return [f for (user, _), f in sorted(self.rows.items()) if user == user_id]

    async def deactivate_all(self, user_id: int, now: datetime) -> None:
        for key, f in self.rows.items():
            if key[0] == user_id and f.active:
                self.rows[key] = replace(f, active=False, updated_at=now)

    async def save(self, flow: Flow) -> None:
        self.rows[(flow.user_id, flow.name)] = flow


@dataclass
class FakeUow:
    flows: FakeFlows


async def test_entering_a_flow_leaves_the_other_active_one_with_its_draft() -> None:
    uow = FakeUow(FakeFlows(flow("test.other")))
    started = await enter_flow(
        uow,  # type: ignore[arg-type]
        1,
        "test.flow",
        "a",
        {"y": 2},
        update_id=8,
        now=NOW,
    )
    assert (started.step, started.draft, started.active) == ("a", {"y": 2}, True)
    assert (started.message_id, started.last_update_id) == (None, 8)
    other = uow.flows.rows[(1, "test.other")]
    assert (other.active, other.draft) == (False, {"x": 1})


async def test_the_gate_reads_only_the_named_flows() -> None:
    uow = FakeUow(FakeFlows(flow("test.other")))
    names = ("test.flow",)
    assert (await gate_answer(uow, 1, names, 6, 10)).gate is Gate.NO_FLOW  # type: ignore[arg-type]
    assert (await gate_answer(uow, 1, ("test.other",), 6, 10)).open  # type: ignore[arg-type]
