"""Who may act on a report (the agreed rule), reassign targets, and note checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_config_file, places_from_config
from civic.places import CategoryType
from civic.reports import ActorRole, Report, ReportAction, Reporter, ReportState, decide_action
from civic.reports_handling import (
    MAX_NOTE_CHARS,
    HandleOutcome,
    Refusal,
    check_note,
    may_queue,
    reassign_targets,
    refusal_of,
    role_on_report,
    roles_on_report,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.roles import Action, Actor, Grant, Position, Role, Scope, ScopeKind, may_take_somewhere
from tests.helpers import SHIPPED_CONFIG

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ANN, WORKER, STAFF, LIAISON, ADMIN, STRANGER = 1, 2, 3, 4, 5, 6
DEPARTMENT = PLACES.departments[0].code
OTHER_DEPARTMENT = PLACES.departments[1].code


def a_report(assignee: Assignee, **changes: object) -> Report:
    report = Report(
        community_code="HD",
        compound_code="HD-02",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish",
        reporter=Reporter(user_id=ANN),
        assignee=assignee,
        created_at=NOW,
        accept_by=NOW + timedelta(days=1),
        resolve_by=NOW + timedelta(days=7),
        id=1,
    )
    return replace(report, **changes)  # type: ignore[arg-type]


GRID = Assignee(AssigneeKind.GRID_WORKER, "HD-G1")
COMMUNITY = Assignee(AssigneeKind.COMMUNITY, "HD")
TOWNSHIP = Assignee(AssigneeKind.TOWNSHIP, "YK")
DEPT = Assignee(AssigneeKind.DEPARTMENT, DEPARTMENT)


def grid_worker(grid: str, community: str, user_id: int = WORKER) -> Actor:
    return Actor(
        user_id, (Grant(user_id, Role.GRID_WORKER, Scope(ScopeKind.GRID, grid), community),)
    )


def staff(community: str, user_id: int = STAFF) -> Actor:
    grant = Grant(
        user_id, Role.STAFF, Scope(ScopeKind.COMMUNITY, community), community, Position.CLERK
    )
    return Actor(user_id, (grant,))


def liaison(department: str) -> Actor:
    scope = Scope(ScopeKind.DEPARTMENT, department)
    return Actor(LIAISON, (Grant(LIAISON, Role.LIAISON, scope),))


def admin(scope: Scope) -> Actor:
    return Actor(ADMIN, (Grant(ADMIN, Role.ADMIN, scope),))


@pytest.mark.parametrize(
    ("actor", "assignee", "expected"),
    [
        (grid_worker("HD-G1", "HD"), GRID, ActorRole.ASSIGNEE),
        (grid_worker("CB-G1", "CB"), GRID, None),
        (grid_worker("HD-G1", "HD"), COMMUNITY, None),
        (staff("HD"), GRID, ActorRole.STAFF),
        (staff("HD"), COMMUNITY, ActorRole.ASSIGNEE),
        (staff("HD"), TOWNSHIP, ActorRole.ASSIGNEE),
        (staff("CB"), COMMUNITY, None),
        (liaison(DEPARTMENT), DEPT, ActorRole.ASSIGNEE),
        (liaison(OTHER_DEPARTMENT), DEPT, None),
        (liaison(DEPARTMENT), GRID, None),
        (admin(Scope(ScopeKind.TOWNSHIP, "YK")), GRID, ActorRole.ASSIGNEE),
        (admin(Scope(ScopeKind.TOWNSHIP, "ELSEWHERE")), GRID, None),
        (admin(Scope.county()), DEPT, ActorRole.ASSIGNEE),
        (Actor(ANN), GRID, ActorRole.REPORTER),
        (Actor(STRANGER), GRID, None),
    ],
    ids=[
        "grid worker of the grid",
        "grid worker of another grid",
        "grid worker, community target",
        "staff of the community, grid target",
        "staff of the community, community target",
        "staff of the community, township target",
        "staff of another community",
        "liaison of the department",
        "liaison of another department",
        "liaison, grid target",
        "admin of the township",
        "admin of another township",
        "county admin",
        "the reporter",
        "a stranger",
    ],
)
def test_role_on_report(actor: Actor, assignee: Assignee, expected: ActorRole | None) -> None:
    assert role_on_report(actor, a_report(assignee), PLACES) is expected


def test_once_accepted_only_the_named_person_is_the_assignee_and_staff_stay_staff() -> None:
    taken = a_report(replace(GRID, user_id=WORKER), state=ReportState.ACCEPTED)
    colleague = grid_worker("HD-G1", "HD", user_id=99)

    assert role_on_report(grid_worker("HD-G1", "HD"), taken, PLACES) is ActorRole.ASSIGNEE
    assert role_on_report(colleague, taken, PLACES) is None
    assert role_on_report(staff("HD"), taken, PLACES) is ActorRole.STAFF


def test_staff_who_filed_on_someones_behalf_answer_for_them() -> None:
    on_behalf = a_report(
        GRID, reporter=Reporter(name="王奶奶", phone="13800000000", filed_by=STAFF)
    )

    roles = roles_on_report(staff("HD"), on_behalf, PLACES)

    assert roles == {ActorRole.STAFF, ActorRole.REPORTER}


def test_a_resident_may_not_take_a_workers_action_on_their_own_report() -> None:
    roles = roles_on_report(Actor(ANN), a_report(GRID), PLACES)

    verdict, _ = decide_action(ReportState.SUBMITTED, ReportAction.ACCEPT, roles)

    assert verdict.value == "not_yours"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (Actor(STRANGER), Refusal.NOT_YOURS),
        (staff("CB"), Refusal.OTHER_COMMUNITY),
        (grid_worker("CB-G1", "CB"), Refusal.OTHER_COMMUNITY),
        (liaison(OTHER_DEPARTMENT), Refusal.OTHER_DESK),
        (grid_worker("HD-G1", "HD", user_id=99), Refusal.OTHER_DESK),
    ],
)
def test_refusals_say_why(actor: Actor, expected: Refusal) -> None:
    taken = a_report(replace(GRID, user_id=WORKER), state=ReportState.ACCEPTED)

    assert refusal_of(actor, taken, PLACES) is expected


def test_reassign_targets_are_the_grid_community_township_and_departments_but_the_current() -> None:
    targets = reassign_targets(a_report(GRID), PLACES)

    kinds = [(t.kind, t.code) for t in targets]
    assert (AssigneeKind.GRID_WORKER, "HD-G1") not in kinds
    assert kinds[:2] == [(AssigneeKind.COMMUNITY, "HD"), (AssigneeKind.TOWNSHIP, "YK")]
    assert {code for kind, code in kinds if kind is AssigneeKind.DEPARTMENT} == {
        d.code for d in PLACES.departments
    }


def test_notes_are_required_where_they_are_the_point_and_limited() -> None:
    assert check_note("  ", required=True) == (HandleOutcome.NOTE_EMPTY, None)
    assert check_note(None, required=False) == (None, None)
    assert check_note(" fixed ", required=True) == (None, "fixed")
    assert check_note("x" * (MAX_NOTE_CHARS + 1), required=True)[0] is HandleOutcome.NOTE_TOO_LONG


def test_residents_have_no_queue_and_liaisons_do() -> None:
    assert not may_queue(Actor(ANN), PLACES)
    assert may_queue(liaison(DEPARTMENT), PLACES)
    assert may_queue(grid_worker("HD-G1", "HD"), PLACES)


def test_the_queue_action_is_offered_to_staff_grid_workers_and_liaisons_not_residents() -> None:
    assert may_take_somewhere(liaison(DEPARTMENT), Action.HANDLE_REPORTS)
    assert may_take_somewhere(grid_worker("HD-G1", "HD"), Action.HANDLE_REPORTS)
    assert may_take_somewhere(staff("HD"), Action.HANDLE_REPORTS)
    assert not may_take_somewhere(Actor(ANN), Action.HANDLE_REPORTS)
    assert not may_take_somewhere(liaison(DEPARTMENT), Action.VERIFY_RESIDENTS)
