"""Who handles a report: the ``[[routing]]`` table of ``config.toml`` applied to one report.

Spec 02, "Routing and handling": "routing by category and compound: e.g. a
compound with a property manager → housing bureau liaison; without one →
township and community; illegal construction → law enforcement; otherwise the
compound's grid worker. The rules live in config and are applied by a pure
function with unit tests for each row."

The assignee is chosen once, at submission (issue 6), and stored with the
report; later config changes do not move filed reports (staff reassign by hand).

Rules are read top to bottom and the first that matches wins, as a county
writes them: specific categories first, ``category = "*"`` last. Two fallbacks
keep :func:`route` total, and the result says which one applied so the card
and the logs can tell staff why a report landed with them:

* a ``grid_worker`` row for a compound that lies in no grid → the compound's
  community (its staff are the grid workers' dispatchers anyway);
* no row matches at all (an empty or incomplete table) → the community, the
  level every resident's report can reach (spec 00: the community is the unit of
  staff scope);
* a ``department:CODE`` the places do not know (``check-config`` refuses such a
  file, so only a hand-built table gets here) → the community as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from civic.places import Compound, Places

__all__ = [
    "ANY_CATEGORY",
    "Assignee",
    "AssigneeKind",
    "Fallback",
    "Route",
    "RoutingRule",
    "route",
]

ANY_CATEGORY: Final = "*"
"""The ``category`` of a routing row that matches every category."""


class AssigneeKind(StrEnum):
    """Who a report is with: a grid's worker, a community, a township or a department."""

    GRID_WORKER = "grid_worker"
    """The grid worker(s) of the grid (``code``) the compound lies in (网格员)."""
    COMMUNITY = "community"
    """The staff of the community (``code``): its residents' committee."""
    TOWNSHIP = "township"
    """The township (``code``) the community belongs to (镇/街道)."""
    DEPARTMENT = "department"
    """A county department (``code``), reached through its liaisons."""


@dataclass(frozen=True)
class Assignee:
    """The desk a report sits on, and the person at it once someone takes it.

    ``code`` is the grid, community, township or department code. ``user_id`` is
    set when a person is named: the one who accepted the report, or the one staff
    reassigned it to; routing never names a person, so a report reaches whoever
    holds the role over that scope (``/queue``).
    """

    kind: AssigneeKind
    code: str
    user_id: int | None = None

    @classmethod
    def parse(cls, kind: str, code: str, user_id: int | None = None) -> Assignee:
        """Rebuild an assignee from its stored columns."""
        return cls(AssigneeKind(kind), code, user_id)


@dataclass(frozen=True)
class RoutingRule:
    """One ``[[routing]]`` row: when it matches, and where it sends the report.

    ``property_manager``: ``True`` only compounds with one, ``False`` only
    compounds without, ``None`` either. ``target`` is the kind; ``department``
    the department's code when ``target`` is :attr:`AssigneeKind.DEPARTMENT`.
    """

    category: str
    target: AssigneeKind
    property_manager: bool | None = None
    department: str | None = None

    def __post_init__(self) -> None:
        """Refuse a department row without a department, or a department on any other row."""
        if (self.target is AssigneeKind.DEPARTMENT) != (self.department is not None):
            raise ValueError("a department: row names exactly one department, other rows none")

    @classmethod
    def from_config(
        cls, category: str, assign_to: str, property_manager: bool | None = None
    ) -> RoutingRule:
        """Build a rule from the config's words (``assign_to = "department:HOUSING"``)."""
        kind, _, department = assign_to.partition(":")
        target = AssigneeKind(kind)
        return cls(category, target, property_manager, department or None)

    def matches(self, category_code: str, compound: Compound) -> bool:
        """Whether this row applies to a report of this category in this compound."""
        if self.category not in (ANY_CATEGORY, category_code):
            return False
        if self.property_manager is None:
            return True
        return self.property_manager == compound.has_property_manager


class Fallback(StrEnum):
    """Why a report went to its community instead of where a rule pointed."""

    NO_GRID = "no_grid"
    """The rule said grid worker, but the compound lies in no grid."""
    NO_RULE = "no_rule"
    """No routing row matched this category and compound."""
    UNKNOWN_DEPARTMENT = "unknown_department"
    """The rule named a department the places do not list."""


@dataclass(frozen=True)
class Route:
    """Where :func:`route` sent a report, which row decided, and any fallback taken."""

    assignee: Assignee
    rule_index: int | None
    """0-based position of the deciding ``[[routing]]`` row; ``None`` when none matched."""
    fallback: Fallback | None = None


def route(
    category_code: str,
    compound: Compound,
    places: Places,
    rules: Sequence[RoutingRule],
) -> Route:
    """Choose who handles a report of ``category_code`` in ``compound`` (first match wins)."""
    community = Assignee(AssigneeKind.COMMUNITY, compound.community_code)
    for index, rule in enumerate(rules):
        if not rule.matches(category_code, compound):
            continue
        if rule.target is AssigneeKind.GRID_WORKER:
            grid = next((g for g in places.grids if compound.code in g.compound_codes), None)
            if grid is None:
                return Route(community, index, Fallback.NO_GRID)
            return Route(Assignee(AssigneeKind.GRID_WORKER, grid.code), index)
        if rule.target is AssigneeKind.TOWNSHIP:
            home = next((c for c in places.communities if c.code == compound.community_code), None)
            if home is None:  # a compound of an unknown community: config check refuses it
                return Route(community, index, Fallback.NO_RULE)
            return Route(Assignee(AssigneeKind.TOWNSHIP, home.township_code), index)
        if rule.target is AssigneeKind.DEPARTMENT:
            if not any(d.code == rule.department for d in places.departments):
                return Route(community, index, Fallback.UNKNOWN_DEPARTMENT)
            return Route(Assignee(AssigneeKind.DEPARTMENT, str(rule.department)), index)
        return Route(community, index)
    return Route(community, None, Fallback.NO_RULE)
