"""Routing reports: each row of the shipped ``[[routing]]`` table, and the fallbacks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import load_config_file, places_from_config
from bot.config.reports import routing_rules_from_config
from civic.places import Compound, Places
from civic.reports_routing import (
    Assignee,
    AssigneeKind,
    Fallback,
    Route,
    RoutingRule,
    route,
)
from tests.helpers import SHIPPED_CONFIG

CONFIG = load_config_file(SHIPPED_CONFIG)
PLACES = places_from_config(CONFIG)
RULES = routing_rules_from_config(CONFIG)


def compound(code: str) -> Compound:
    return next(c for c in PLACES.compounds if c.code == code)


WITH_MANAGER = compound("HD-01")  # 河东花园, 安居物业, grid HD-G1
WITHOUT_MANAGER = compound("HD-02")  # 粮站宿舍, no property manager, grid HD-G1


def test_the_shipped_table_is_read_in_file_order() -> None:
    rules = routing_rules_from_config(CONFIG)

    assert rules == (
        RoutingRule("illegal_building", AssigneeKind.DEPARTMENT, None, "ENFORCEMENT"),
        RoutingRule("fire_lane", AssigneeKind.DEPARTMENT, None, "ENFORCEMENT"),
        RoutingRule("property_dispute", AssigneeKind.DEPARTMENT, True, "HOUSING"),
        RoutingRule("property_dispute", AssigneeKind.TOWNSHIP, False),
        RoutingRule("facilities", AssigneeKind.DEPARTMENT, True, "HOUSING"),
        RoutingRule("facilities", AssigneeKind.COMMUNITY, False),
        RoutingRule("*", AssigneeKind.GRID_WORKER),
    )


@pytest.mark.parametrize("where", [WITH_MANAGER, WITHOUT_MANAGER])
def test_row_0_illegal_construction_goes_to_law_enforcement_wherever_it_is(
    where: Compound,
) -> None:
    assert route("illegal_building", where, PLACES, RULES) == Route(
        Assignee(AssigneeKind.DEPARTMENT, "ENFORCEMENT"), 0
    )


@pytest.mark.parametrize("where", [WITH_MANAGER, WITHOUT_MANAGER])
def test_row_1_a_blocked_fire_lane_goes_to_law_enforcement_wherever_it_is(
    where: Compound,
) -> None:
    assert route("fire_lane", where, PLACES, RULES) == Route(
        Assignee(AssigneeKind.DEPARTMENT, "ENFORCEMENT"), 1
    )


def test_row_2_a_property_dispute_with_a_property_manager_goes_to_the_housing_bureau() -> None:
    assert route("property_dispute", WITH_MANAGER, PLACES, RULES) == Route(
        Assignee(AssigneeKind.DEPARTMENT, "HOUSING"), 2
    )


def test_row_3_a_property_dispute_without_a_property_manager_goes_to_the_township() -> None:
    assert route("property_dispute", WITHOUT_MANAGER, PLACES, RULES) == Route(
        Assignee(AssigneeKind.TOWNSHIP, "YK"), 3
    )


def test_row_4_damaged_facilities_with_a_property_manager_go_to_the_housing_bureau() -> None:
    assert route("facilities", WITH_MANAGER, PLACES, RULES) == Route(
        Assignee(AssigneeKind.DEPARTMENT, "HOUSING"), 4
    )


def test_row_5_damaged_facilities_without_a_property_manager_go_to_the_community() -> None:
    assert route("facilities", WITHOUT_MANAGER, PLACES, RULES) == Route(
        Assignee(AssigneeKind.COMMUNITY, "HD"), 5
    )


@pytest.mark.parametrize(
    "category", ["garbage", "public_space", "safety_hazard", "noise", "suggestion", "other"]
)
@pytest.mark.parametrize("where", [WITH_MANAGER, WITHOUT_MANAGER])
def test_row_6_everything_else_goes_to_the_compounds_grid_worker(
    category: str, where: Compound
) -> None:
    assert route(category, where, PLACES, RULES) == Route(
        Assignee(AssigneeKind.GRID_WORKER, "HD-G1"), 6
    )


def test_a_grid_worker_row_for_a_compound_in_no_grid_falls_back_to_the_community() -> None:
    no_grids = replace(PLACES, grids=())

    assert route("garbage", WITH_MANAGER, no_grids, RULES) == Route(
        Assignee(AssigneeKind.COMMUNITY, "HD"), 6, Fallback.NO_GRID
    )


def test_no_matching_row_sends_the_report_to_the_community() -> None:
    only_fire_lanes = (RoutingRule("fire_lane", AssigneeKind.DEPARTMENT, None, "ENFORCEMENT"),)

    assert route("noise", WITHOUT_MANAGER, PLACES, only_fire_lanes) == Route(
        Assignee(AssigneeKind.COMMUNITY, "HD"), None, Fallback.NO_RULE
    )
    assert route("noise", WITHOUT_MANAGER, PLACES, ()).fallback is Fallback.NO_RULE


def test_a_department_the_places_do_not_know_falls_back_to_the_community() -> None:
    rules = (RoutingRule("*", AssigneeKind.DEPARTMENT, None, "GONE"),)

    assert route("noise", WITH_MANAGER, PLACES, rules) == Route(
        Assignee(AssigneeKind.COMMUNITY, "HD"), 0, Fallback.UNKNOWN_DEPARTMENT
    )


def test_the_first_matching_row_wins_over_later_ones() -> None:
    rules = (
        RoutingRule("*", AssigneeKind.COMMUNITY),
        RoutingRule("noise", AssigneeKind.DEPARTMENT, None, "POLICE"),
    )

    assert route("noise", WITH_MANAGER, PLACES, rules).rule_index == 0


def test_a_property_manager_row_skips_compounds_that_do_not_fit() -> None:
    rules = (
        RoutingRule("*", AssigneeKind.DEPARTMENT, True, "HOUSING"),
        RoutingRule("*", AssigneeKind.TOWNSHIP),
    )

    assert route("noise", WITH_MANAGER, PLACES, rules).rule_index == 0
    assert route("noise", WITHOUT_MANAGER, PLACES, rules).rule_index == 1


def test_a_department_row_needs_its_department_and_other_rows_refuse_one() -> None:
    with pytest.raises(ValueError, match="department"):
        RoutingRule("*", AssigneeKind.DEPARTMENT)
    with pytest.raises(ValueError, match="department"):
        RoutingRule("*", AssigneeKind.COMMUNITY, None, "HOUSING")
    assert RoutingRule.from_config("*", "department:POLICE").department == "POLICE"


def test_routing_never_names_a_person() -> None:
    places = Places(communities=PLACES.communities, compounds=PLACES.compounds, grids=PLACES.grids)
    for category in (c.code for c in PLACES.report_categories):
        assert route(category, WITH_MANAGER, places, RULES).assignee.user_id is None
