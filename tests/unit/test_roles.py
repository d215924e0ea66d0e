"""The role matrix (quality bar S1) as a table, and the parsing of /grant's words.

Every :class:`Action` × every kind of person × their own community or another:
exactly the cells below are allowed, and each refusal names its reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import load_config_file, places_from_config
from civic.places import Places, Township
from civic.roles import (
    ALLOWED,
    Action,
    Actor,
    Decision,
    Grant,
    Position,
    Role,
    Scope,
    ScopeKind,
    admin_communities,
    communities_served,
    decide,
    may_grant,
    secretary_of,
    unit_scope_code,
    with_config_admins,
)
from civic.roles_admin import (
    Problem,
    RoleOutcome,
    RoleRequest,
    audit_scope,
    parse_role_request,
    parse_tag,
    parse_user_id,
)
from tests.helpers import SHIPPED_CONFIG


def county_places() -> Places:
    """The shipped places, with Chengbei (CB) moved to a second township, ZZ."""
    shipped = places_from_config(load_config_file(SHIPPED_CONFIG))
    communities = tuple(
        replace(c, township_code="ZZ") if c.code == "CB" else c for c in shipped.communities
    )
    return replace(
        shipped,
        townships=(*shipped.townships, Township("ZZ", "另一镇", "Other Town")),
        communities=communities,
    )


PLACES: Final = county_places()
OWN, OTHER = "HD", "CB"
ADMIN_IDS: Final = frozenset({99})


def staff(position: Position) -> Actor:
    return Actor(1, (Grant(1, Role.STAFF, Scope(ScopeKind.COMMUNITY, OWN), OWN, position),))


ACTORS: Final[dict[str, Actor]] = {
    "resident": Actor(1),
    "owner": Actor(
        1,
        (
            Grant(
                1,
                Role.OWNER,
                Scope(ScopeKind.UNIT, unit_scope_code("HD-01", "HD-01-1", "101")),
                OWN,
            ),
        ),
    ),
    "grid worker": Actor(1, (Grant(1, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1"), OWN),)),
    **{f"staff {p.value}": staff(p) for p in Position},
    "liaison": Actor(1, (Grant(1, Role.LIAISON, Scope(ScopeKind.DEPARTMENT, "HOUSING")),)),
    "township admin": Actor(1, (Grant(1, Role.ADMIN, Scope(ScopeKind.TOWNSHIP, "YK")),)),
    "county admin": Actor(1, (Grant(1, Role.ADMIN, Scope.county()),)),
    "config admin": with_config_admins(Actor(99), ADMIN_IDS),
}

ADMINS: Final = frozenset({"township admin", "county admin", "config admin"})
LEADERS: Final = frozenset({"staff secretary", "staff director"})
ALL_STAFF: Final = frozenset(f"staff {p.value}" for p in Position)

ALLOWED_IN_OWN: Final[dict[Action, frozenset[str]]] = {
    Action.GRANT_ROLES: ADMINS,
    Action.TAG_RESIDENTS: ADMINS | LEADERS,
    Action.LIST_STAFF: ADMINS | ALL_STAFF,
    Action.READ_AUDIT: ADMINS | {"staff secretary"},
    Action.REVIEW_CLAIMS: ADMINS | ALL_STAFF,
    Action.ISSUE_HOUSEHOLD_CODES: ADMINS | ALL_STAFF,
    Action.ROTATE_BUILDING_CODES: ADMINS | ALL_STAFF | {"grid worker"},
    Action.VERIFY_RESIDENTS: ADMINS | ALL_STAFF | {"grid worker"},
    Action.READ_STATS: ADMINS | ALL_STAFF,
    Action.HANDLE_REPORTS: ADMINS | ALL_STAFF | {"grid worker"},
}
"""Who may take each action in their own community (HD, in township YK)."""

ALLOWED_IN_OTHER: Final = frozenset({"county admin", "config admin"})
"""In another community (CB, another township) only county admins may act."""


CELLS = [
    (action, name, community) for action in Action for name in ACTORS for community in (OWN, OTHER)
]


@pytest.mark.parametrize(("action", "name", "community"), CELLS)
def test_exactly_the_permitted_cells_of_the_role_matrix_are_allowed(
    action: Action, name: str, community: str
) -> None:
    allowed = ALLOWED_IN_OWN[action] if community == OWN else ALLOWED_IN_OTHER
    decision = decide(ACTORS[name], action, community, PLACES)
    assert decision.allowed is (name in allowed), (action, name, community, decision)


@pytest.mark.parametrize("action", list(Action))
def test_every_refusal_says_why(action: Action) -> None:
    """Residents: staff only; staff elsewhere: another community, whatever their position
    (a clerk of HD tagging in CB hears "another community"); a position short at home:
    position."""
    for name in ("resident", "owner", "liaison"):
        assert decide(ACTORS[name], action, OWN, PLACES) is Decision.NOT_STAFF
    for name in ALL_STAFF:
        decision = decide(ACTORS[name], action, OTHER, PLACES)
        assert decision is Decision.OTHER_COMMUNITY, (name, decision)
        if name not in ALLOWED_IN_OWN[action]:
            assert decide(ACTORS[name], action, OWN, PLACES) is Decision.POSITION
    assert decide(ACTORS["township admin"], action, OTHER, PLACES) is Decision.OTHER_COMMUNITY


def test_county_wide_matters_are_for_county_admins_only() -> None:
    for name, actor in ACTORS.items():
        allowed = decide(actor, Action.GRANT_ROLES, None, PLACES).allowed
        assert allowed is (name in ALLOWED_IN_OTHER), name


def test_a_township_admin_grants_in_the_township_and_not_county_roles() -> None:
    township = ACTORS["township admin"]
    in_township = Grant(2, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1"), OWN)
    elsewhere = Grant(2, Role.STAFF, Scope(ScopeKind.COMMUNITY, OTHER), OTHER, Position.CLERK)
    liaison = Grant(2, Role.LIAISON, Scope(ScopeKind.DEPARTMENT, "HOUSING"))
    assert may_grant(township, in_township, PLACES).allowed
    assert may_grant(township, elsewhere, PLACES) is Decision.OTHER_COMMUNITY
    assert not may_grant(township, liaison, PLACES).allowed


def test_the_longest_serving_secretary_takes_over() -> None:
    def secretary(user_id: int, grant_id: int) -> Grant:
        scope = Scope(ScopeKind.COMMUNITY, OWN)
        return Grant(user_id, Role.STAFF, scope, OWN, Position.SECRETARY, id=grant_id)

    clerk = Grant(5, Role.STAFF, Scope(ScopeKind.COMMUNITY, OWN), OWN, Position.CLERK, id=1)
    assert secretary_of([clerk, secretary(7, 9), secretary(8, 3)], OWN) == 8
    assert secretary_of([clerk], OWN) is None


# -- /grant's words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["123", "staff", "HD", "secretary"],
            RoleRequest(123, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.SECRETARY),
        ),
        (
            ["123", "书记", "hd"],
            RoleRequest(123, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.SECRETARY),
        ),
        (
            ["123", "工作人员", "HD", "文书"],
            RoleRequest(123, Role.STAFF, Scope(ScopeKind.COMMUNITY, "HD"), Position.CLERK),
        ),
        (
            ["123", "grid_worker", "HD-G1"],
            RoleRequest(123, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1")),
        ),
        (
            ["123", "网格员", "HD-G1"],
            RoleRequest(123, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1")),
        ),
        (
            ["123", "liaison", "HOUSING"],
            RoleRequest(123, Role.LIAISON, Scope(ScopeKind.DEPARTMENT, "HOUSING")),
        ),
        (["123", "admin", "YK"], RoleRequest(123, Role.ADMIN, Scope(ScopeKind.TOWNSHIP, "YK"))),
        (["123", "管理员", "county"], RoleRequest(123, Role.ADMIN, Scope.county())),
        (["abc", "staff", "HD", "clerk"], Problem(RoleOutcome.BAD_USER, "abc")),
        (["-5", "staff", "HD", "clerk"], Problem(RoleOutcome.BAD_USER, "-5")),
        (["123", "boss", "HD"], Problem(RoleOutcome.UNKNOWN_ROLE, "boss")),
        (["123", "owner", "HD-01/-/101"], Problem(RoleOutcome.OWNER_BY_CLAIM)),
        (["123", "业主", "HD"], Problem(RoleOutcome.OWNER_BY_CLAIM)),
        (["123", "staff", "XX"], Problem(RoleOutcome.UNKNOWN_SCOPE, "XX")),
        (["123", "staff", "HD", "boss"], Problem(RoleOutcome.UNKNOWN_POSITION, "boss")),
        (["123", "书记", "HD", "clerk"], Problem(RoleOutcome.UNKNOWN_POSITION, "clerk")),
        (
            ["123", "grid_worker", "HD-G1", "clerk"],
            Problem(RoleOutcome.POSITION_NOT_ALLOWED, "clerk"),
        ),
    ],
)
def test_grant_arguments_are_read_in_english_and_chinese(
    args: list[str], expected: RoleRequest | Problem
) -> None:
    assert parse_role_request(args, PLACES) == expected


def test_a_role_over_the_wrong_kind_of_place_names_where_it_is_granted() -> None:
    problem = parse_role_request(["123", "staff", "HD-G1", "clerk"], PLACES)
    assert problem == Problem(RoleOutcome.WRONG_SCOPE, "HD-G1", frozenset({ScopeKind.COMMUNITY}))


def test_tags_are_read_in_english_and_chinese() -> None:
    assert parse_tag("专家") == parse_tag("expert") == parse_tag("EXPERT")
    assert parse_tag("boss") == Problem(RoleOutcome.UNKNOWN_TAG, "boss")


@given(st.text(max_size=20))
def test_a_user_id_is_digits_or_a_problem(text: str) -> None:
    parsed = parse_user_id(text)
    if isinstance(parsed, int):
        assert text.strip().isdigit()
        assert parsed > 0
    else:
        assert parsed.outcome is RoleOutcome.BAD_USER


def test_who_reads_which_audit_entries() -> None:
    assert audit_scope(None, None, PLACES) == (Decision.ALLOWED, None)
    assert audit_scope(ACTORS["county admin"], None, PLACES) == (Decision.ALLOWED, None)
    decision, communities = audit_scope(ACTORS["township admin"], None, PLACES)
    assert decision is Decision.ALLOWED
    assert communities is not None
    assert OWN in communities
    assert OTHER not in communities
    secretary = ACTORS["staff secretary"]
    assert audit_scope(secretary, None, PLACES) == (Decision.ALLOWED, frozenset({OWN}))
    assert audit_scope(secretary, OTHER, PLACES)[0] is Decision.OTHER_COMMUNITY
    assert audit_scope(ACTORS["staff clerk"], OTHER, PLACES)[0] is Decision.OTHER_COMMUNITY
    assert audit_scope(ACTORS["staff clerk"], None, PLACES)[0] is Decision.POSITION
    assert audit_scope(ACTORS["resident"], None, PLACES)[0] is Decision.NOT_STAFF


# -- menus: the commands a person may use somewhere, read from ALLOWED ---------------------


def menu_of(name: str) -> set[str]:
    from handlers.menus import commands_for
    from handlers.roles import actions, audiences

    actor = ACTORS[name]
    return {c.name for c in commands_for(audiences(actor, registered=True), actions(actor))}


def test_a_grid_workers_menu_has_only_what_grid_workers_may_do() -> None:
    menu = menu_of("grid worker")
    assert {"verify", "rotate", "me", "help"} <= menu
    assert not menu & {"staff", "audit", "claims", "codes", "tag", "untag", "grant", "revoke"}


def test_a_liaisons_menu_has_only_the_report_queue() -> None:
    """Liaisons are department-scoped: they handle the reports routed to their department."""
    assert menu_of("liaison") == menu_of("resident") | {"queue"}


def test_a_clerks_menu_leaves_out_tags_and_the_audit_log() -> None:
    menu = menu_of("staff clerk")
    assert {"claims", "codes", "verify", "rotate", "staff"} <= menu
    assert not menu & {"tag", "untag", "audit", "grant", "revoke"}
    assert {"tag", "audit"} <= menu_of("staff secretary")
    assert {"grant", "revoke", "audit", "tag"} <= menu_of("township admin")


@pytest.mark.parametrize("name", list(ACTORS))
def test_every_staff_command_in_a_menu_is_allowed_somewhere(name: str) -> None:
    from handlers.menus import COMMANDS

    actor = ACTORS[name]
    for command in COMMANDS:
        if command.action is None or command.name not in menu_of(name):
            continue
        if actor.holds(Role.LIAISON) and ALLOWED[command.action].liaisons:
            continue  # department-scoped: civic.reports_handling checks the department
        assert any(decide(actor, command.action, c, PLACES).allowed for c in (OWN, OTHER)), (
            name,
            command.name,
        )


def test_the_communities_an_actor_serves_are_their_grants_and_their_admin_scope() -> None:
    township = next(iter({c.township_code for c in PLACES.communities}))
    in_township = [c.code for c in PLACES.communities if c.township_code == township]
    admin = Actor(2, (Grant(2, Role.ADMIN, Scope(ScopeKind.TOWNSHIP, township)),))
    assert admin_communities(admin, PLACES) == in_township
    assert communities_served(admin, PLACES) == in_township
    clerk = staff(Position.CLERK)
    assert admin_communities(clerk, PLACES) == []
    assert communities_served(clerk, PLACES) == [OWN]
    county = with_config_admins(Actor(3), [3])
    assert admin_communities(county, PLACES) == [c.code for c in PLACES.communities]
