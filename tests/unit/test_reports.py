"""The report lifecycle table, tracking numbers, the report value and likely duplicates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.places import CategoryType
from civic.reports import (
    CLOSED_STATES,
    OPEN_STATES,
    TRANSITIONS,
    ActionVerdict,
    ActorRole,
    DescriptionProblem,
    Report,
    ReportAction,
    Reporter,
    ReportState,
    TrackingNumber,
    check_description,
    decide_action,
    is_likely_duplicate,
    normalise_phone,
)
from civic.reports_routing import Assignee, AssigneeKind

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
S = ReportState
A = ReportAction
WORKER = {ActorRole.ASSIGNEE}
STAFF = {ActorRole.STAFF}
REPORTER = {ActorRole.REPORTER}
SYSTEM = {ActorRole.SYSTEM}


def a_report(**changes: object) -> Report:
    report = Report(
        community_code="HD",
        compound_code="HD-02",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish piled by building 2",
        reporter=Reporter(user_id=42),
        assignee=Assignee(AssigneeKind.GRID_WORKER, "HD-G1"),
        created_at=NOW,
        accept_by=NOW + timedelta(days=1),
        resolve_by=NOW + timedelta(days=7),
    )
    return replace(report, **changes)  # type: ignore[arg-type]


# -- the table ---------------------------------------------------------------------------


def test_every_state_has_a_row_and_only_closed_and_rejected_are_final() -> None:
    assert set(TRANSITIONS) == set(ReportState)
    assert {state for state, row in TRANSITIONS.items() if not row} == CLOSED_STATES


def test_the_happy_path_of_the_spec() -> None:
    path = [
        (S.SUBMITTED, A.ACCEPT, WORKER, S.ACCEPTED),
        (S.ACCEPTED, A.PROGRESS, WORKER, S.IN_PROGRESS),
        (S.IN_PROGRESS, A.PROGRESS, WORKER, S.IN_PROGRESS),
        (S.IN_PROGRESS, A.RESOLVE, WORKER, S.RESOLVED),
        (S.RESOLVED, A.REOPEN, REPORTER, S.REOPENED),
        (S.REOPENED, A.RESOLVE, WORKER, S.RESOLVED),
        (S.RESOLVED, A.CONFIRM, REPORTER, S.CLOSED),
    ]
    for state, action, roles, after in path:
        assert decide_action(state, action, roles) == (ActionVerdict.ALLOWED, after)


def test_an_unanswered_is_it_fixed_closes_by_the_systems_timeout_only() -> None:
    assert decide_action(S.RESOLVED, A.EXPIRE, SYSTEM) == (ActionVerdict.ALLOWED, S.CLOSED)
    assert decide_action(S.RESOLVED, A.EXPIRE, WORKER)[0] is ActionVerdict.NOT_YOURS


@pytest.mark.parametrize("state", [S.SUBMITTED, S.ACCEPTED])
def test_rejection_is_an_intake_decision(state: ReportState) -> None:
    assert decide_action(state, A.REJECT, STAFF) == (ActionVerdict.ALLOWED, S.REJECTED)


@pytest.mark.parametrize("state", [S.IN_PROGRESS, S.REOPENED, S.RESOLVED])
def test_work_begun_or_reopened_cannot_be_rejected(state: ReportState) -> None:
    assert decide_action(state, A.REJECT, STAFF)[0] is ActionVerdict.NOT_NOW


@pytest.mark.parametrize("state", sorted(OPEN_STATES))
def test_staff_can_reassign_in_any_open_state_and_the_new_assignee_must_accept(
    state: ReportState,
) -> None:
    assert decide_action(state, A.REASSIGN, STAFF) == (ActionVerdict.ALLOWED, S.SUBMITTED)


@pytest.mark.parametrize("state", sorted(OPEN_STATES))
def test_an_assignee_who_is_not_staff_cannot_send_a_report_elsewhere(state: ReportState) -> None:
    assert decide_action(state, A.REASSIGN, WORKER)[0] is ActionVerdict.NOT_YOURS


def test_a_report_must_be_accepted_before_it_is_resolved() -> None:
    assert decide_action(S.SUBMITTED, A.RESOLVE, WORKER)[0] is ActionVerdict.NOT_NOW
    assert decide_action(S.SUBMITTED, A.PROGRESS, WORKER)[0] is ActionVerdict.NOT_NOW


@pytest.mark.parametrize("state", sorted(OPEN_STATES))
def test_the_thread_and_the_deadline_jobs_change_no_state(state: ReportState) -> None:
    assert decide_action(state, A.ASK, WORKER) == (ActionVerdict.ALLOWED, None)
    assert decide_action(state, A.ANSWER, REPORTER) == (ActionVerdict.ALLOWED, None)
    assert decide_action(state, A.REMIND, SYSTEM) == (ActionVerdict.ALLOWED, None)
    assert decide_action(state, A.ESCALATE, SYSTEM) == (ActionVerdict.ALLOWED, None)


def test_a_resident_cannot_act_as_the_assignee_nor_staff_as_the_reporter() -> None:
    assert decide_action(S.SUBMITTED, A.ACCEPT, REPORTER)[0] is ActionVerdict.NOT_YOURS
    assert decide_action(S.RESOLVED, A.CONFIRM, STAFF)[0] is ActionVerdict.NOT_YOURS
    assert decide_action(S.IN_PROGRESS, A.ANSWER, WORKER)[0] is ActionVerdict.NOT_YOURS


def test_a_stale_button_says_not_now_whoever_presses_it() -> None:
    assert decide_action(S.CLOSED, A.ACCEPT, REPORTER)[0] is ActionVerdict.NOT_NOW


ROLE_SETS = st.sets(st.sampled_from(list(ActorRole)), min_size=1)


STEPS = st.lists(st.tuples(st.sampled_from(list(ReportAction)), ROLE_SETS), max_size=60)
Move = tuple[ReportState, ReportAction, ReportState]


def walk(steps: list[tuple[ReportAction, set[ActorRole]]]) -> list[Move]:
    """The allowed moves of a random sequence from ``submitted``: (before, action, after)."""
    state = S.SUBMITTED
    moves = []
    for action, roles in steps:
        verdict, after = decide_action(state, action, roles)
        if verdict is ActionVerdict.ALLOWED:
            moves.append((state, action, after or state))
            state = after or state
    return moves


def can_reach_closed(state: ReportState) -> bool:
    """Whether some sequence of actions, by anyone, takes ``state`` to ``closed``."""
    seen, frontier = {state}, [state]
    while frontier:
        current = frontier.pop()
        if current is S.CLOSED:
            return True
        for action in ReportAction:
            verdict, after = decide_action(current, action, set(ActorRole))
            if verdict is ActionVerdict.ALLOWED and after is not None and after not in seen:
                seen.add(after)
                frontier.append(after)
    return False


@given(STEPS)
def test_an_open_or_resolved_report_can_always_still_be_closed(
    steps: list[tuple[ReportAction, set[ActorRole]]],
) -> None:
    for _, _, after in walk(steps):
        if after not in CLOSED_STATES:
            assert can_reach_closed(after), after


@given(STEPS)
def test_a_submitted_report_is_never_resolved_without_being_accepted(
    steps: list[tuple[ReportAction, set[ActorRole]]],
) -> None:
    accepted = False
    for before, action, after in walk(steps):
        if action is A.REASSIGN:
            accepted = False  # the new assignee must acknowledge it again
        if action is A.ACCEPT:
            accepted = True
        if after is S.RESOLVED and before is not S.REOPENED:
            assert accepted, (before, action)


@given(STEPS)
def test_only_the_reporters_no_reopens_a_report(
    steps: list[tuple[ReportAction, set[ActorRole]]],
) -> None:
    for before, action, after in walk(steps):
        if after is S.REOPENED and before is not S.REOPENED:
            assert action is A.REOPEN
            assert before is S.RESOLVED


@given(STEPS)
def test_nothing_moves_a_closed_or_rejected_report(
    steps: list[tuple[ReportAction, set[ActorRole]]],
) -> None:
    moves = walk(steps)
    for index, (_, _, after) in enumerate(moves):
        if after in CLOSED_STATES:
            assert index == len(moves) - 1


def test_every_open_state_and_resolved_can_reach_closed() -> None:
    assert all(can_reach_closed(state) for state in (*OPEN_STATES, S.RESOLVED))
    assert not can_reach_closed(S.REJECTED)


@given(st.sampled_from(list(ReportAction)), ROLE_SETS)
def test_resolved_allows_only_the_reporters_answer_and_the_timeout(
    action: ReportAction, roles: set[ActorRole]
) -> None:
    verdict, _ = decide_action(S.RESOLVED, action, roles)
    if action not in {A.CONFIRM, A.REOPEN, A.EXPIRE, A.ANSWER}:
        assert verdict is ActionVerdict.NOT_NOW


def test_the_reporters_answer_to_a_question_is_taken_after_the_report_is_resolved() -> None:
    assert decide_action(S.RESOLVED, A.ANSWER, REPORTER) == (ActionVerdict.ALLOWED, None)
    assert decide_action(S.RESOLVED, A.ASK, WORKER)[0] is ActionVerdict.NOT_NOW
    assert decide_action(S.CLOSED, A.ANSWER, REPORTER)[0] is ActionVerdict.NOT_NOW


@given(st.sampled_from(sorted(CLOSED_STATES)), st.sampled_from(list(ReportAction)), ROLE_SETS)
def test_closed_and_rejected_reports_accept_nothing(
    state: ReportState, action: ReportAction, roles: set[ActorRole]
) -> None:
    assert decide_action(state, action, roles) == (ActionVerdict.NOT_NOW, None)


# -- tracking numbers ---------------------------------------------------------------------


def test_a_tracking_number_has_at_least_four_digits_and_grows_past_them() -> None:
    assert str(TrackingNumber("HD", 2026, 42)) == "HD-2026-0042"
    assert str(TrackingNumber("JSBL", 2027, 12345)) == "JSBL-2027-12345"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("HD-2026-0042", TrackingNumber("HD", 2026, 42)),
        ("  hd-2026-0042 ", TrackingNumber("HD", 2026, 42)),
        ("JSBL-2027-12345", TrackingNumber("JSBL", 2027, 12345)),
        ("HD-2026-42", None),
        ("HD-2026-0000", None),
        ("2026-0042", None),
        ("HD 2026 0042", None),
    ],
)
def test_typed_tracking_numbers_are_read_or_refused(
    text: str, number: TrackingNumber | None
) -> None:
    assert TrackingNumber.parse(text) == number


@given(
    st.from_regex(r"[A-Z]{1,6}", fullmatch=True),
    st.integers(2000, 2999),
    st.integers(1, 10**7),
)
def test_a_printed_number_reads_back_as_itself(code: str, year: int, sequence: int) -> None:
    number = TrackingNumber(code, year, sequence)

    assert TrackingNumber.parse(str(number)) == number


# -- the report value ---------------------------------------------------------------------


def test_a_report_is_from_a_user_or_from_a_named_person_filed_by_staff() -> None:
    assert not Reporter(user_id=1).on_behalf
    assert Reporter(name="王阿姨", phone="13800000000", filed_by=7).on_behalf
    with pytest.raises(ValueError, match="not both"):
        Reporter(user_id=1, name="王阿姨", filed_by=7)
    with pytest.raises(ValueError, match="not both"):
        Reporter()
    with pytest.raises(ValueError, match="staff member"):
        Reporter(name="王阿姨")


def test_a_location_has_both_coordinates_and_a_number_its_own_community() -> None:
    assert a_report(latitude=27.1, longitude=108.4).latitude == 27.1
    with pytest.raises(ValueError, match="latitude"):
        a_report(latitude=27.1)
    with pytest.raises(ValueError, match="own community"):
        a_report(number=TrackingNumber("CB", 2026, 1))


def test_descriptions_must_say_something_within_the_limit() -> None:
    assert check_description("  ", 2000) is DescriptionProblem.EMPTY
    assert check_description("x" * 2001, 2000) is DescriptionProblem.TOO_LONG
    assert check_description(" " + "x" * 2000 + " ", 2000) is None


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("138 0000 0000", "13800000000"),
        ("0851-1234567", "08511234567"),
        ("+86 138-0000-0000", "+8613800000000"),
        ("(0851) 12345", "085112345"),
        ("call me", None),
        ("1234", None),
    ],
)
def test_phone_numbers_are_kept_compact_or_refused(typed: str, kept: str | None) -> None:
    assert normalise_phone(typed) == kept


# -- likely duplicates ----------------------------------------------------------------------


def test_an_open_report_of_the_same_compound_and_category_in_the_window_is_a_likely_duplicate() -> (
    None
):
    existing = a_report(created_at=NOW - timedelta(days=14))

    assert is_likely_duplicate(existing, "HD-02", "garbage", NOW, 14)


@pytest.mark.parametrize(
    "existing",
    [
        a_report(compound_code="HD-03"),
        a_report(category_code="noise"),
        a_report(created_at=NOW - timedelta(days=14, seconds=1)),
        a_report(state=S.RESOLVED),
        a_report(state=S.CLOSED),
        a_report(state=S.REJECTED),
    ],
)
def test_other_places_categories_old_or_finished_reports_are_not(existing: Report) -> None:
    assert not is_likely_duplicate(existing, "HD-02", "garbage", NOW, 14)
