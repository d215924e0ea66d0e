"""Roles with a scope, staff positions, resident tags, and who may do what where.

Spec 01 ("Roles with a scope") and 00 ("Who uses it"). Everyone registered is a
*resident*; on top of that a person may hold grants:

======================  ==================  =========================================
role                    scope               may
======================  ==================  =========================================
owner 业主              a unit              vote in owners' decisions (spec 04)
grid worker 网格员      a grid              handle reports in their grid
staff 社区工作者        a community         verify owners, run the community's work;
                                            with a position (书记 secretary, 主任
                                            director, 文书 clerk, 社区工作者 social worker)
liaison                 a department        receive routed reports, post progress
admin                   county or township  grant roles and tags, everything staff may
======================  ==================  =========================================

Tags (居民代表, 党员代表, 业委会成员, 专家, 驻区单位, 物业公司, 社会组织) are not
powers: they mark people for invitations and audiences, within one community.

"Staff of one community never see or act on another community's data unless
they are admins" (spec 00): :func:`decide` answers, for an action and the
community it touches, whether an actor may — and if not, why, so the handler can
say what to do instead. The people listed in ``[admins] telegram_ids`` are
county admins whatever the database says, so a county can start with an empty
database and cannot lock itself out.

No Telegram, no SQL: the use cases take a unit of work and ``now``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from civic.places import Places

if TYPE_CHECKING:
    from civic.ports import UnitOfWork


class Role(StrEnum):
    """A power held over a scope (spec 00, "Who uses it"). Residents need no grant."""

    OWNER = "owner"
    GRID_WORKER = "grid_worker"
    STAFF = "staff"
    LIAISON = "liaison"
    ADMIN = "admin"


class Position(StrEnum):
    """A staff member's position in the community (spec 01); the secretary gets escalations."""

    SECRETARY = "secretary"
    """书记: receives escalations and the open work of people whose role is revoked."""
    DIRECTOR = "director"
    """主任."""
    CLERK = "clerk"
    """文书."""
    SOCIAL_WORKER = "social_worker"
    """社区工作者."""


class Tag(StrEnum):
    """A resident's standing used for invitations and audiences (spec 01), per community."""

    RESIDENT_REPRESENTATIVE = "resident_representative"
    """居民代表."""
    PARTY_REPRESENTATIVE = "party_representative"
    """党员代表."""
    COMMITTEE_MEMBER = "committee_member"
    """业委会成员: a member of an owners' committee."""
    EXPERT = "expert"
    """专家: assesses technical matters (spec 03)."""
    LOCAL_UNIT = "local_unit"
    """驻区单位: an organisation based in the community."""
    PROPERTY_COMPANY = "property_company"
    """物业公司."""
    SOCIAL_ORGANISATION = "social_organisation"
    """社会组织."""


class ScopeKind(StrEnum):
    """What a grant's scope is: a place, a department, or a unit."""

    COUNTY = "county"
    TOWNSHIP = "township"
    COMMUNITY = "community"
    GRID = "grid"
    DEPARTMENT = "department"
    UNIT = "unit"


ROLE_SCOPES: Final[dict[Role, frozenset[ScopeKind]]] = {
    Role.OWNER: frozenset({ScopeKind.UNIT}),
    Role.GRID_WORKER: frozenset({ScopeKind.GRID}),
    Role.STAFF: frozenset({ScopeKind.COMMUNITY}),
    Role.LIAISON: frozenset({ScopeKind.DEPARTMENT}),
    Role.ADMIN: frozenset({ScopeKind.COUNTY, ScopeKind.TOWNSHIP}),
}
"""The scopes each role is granted over (spec 01, "Roles with a scope")."""

COUNTY_SCOPE_CODE: Final = "*"
"""The scope code of the county: one deployment serves one county."""


@dataclass(frozen=True)
class Scope:
    """Where a grant applies: ``Scope(ScopeKind.COMMUNITY, "SQ-01")``."""

    kind: ScopeKind
    code: str

    @classmethod
    def county(cls) -> Scope:
        return cls(ScopeKind.COUNTY, COUNTY_SCOPE_CODE)


def unit_scope_code(compound_code: str, building_code: str | None, unit_label: str) -> str:
    """The scope code of one unit: ``compound/building/unit`` (``-`` for no building)."""
    return f"{compound_code}/{building_code or '-'}/{unit_label}"


@dataclass(frozen=True)
class Grant:
    """A live role of a person over a scope."""

    user_id: int
    role: Role
    scope: Scope
    community_code: str | None = None
    """The community the scope lies in (community, grid, unit); ``None`` for wider ones."""
    position: Position | None = None
    granted_by: int | None = None
    """``None``: the operator at the command line, or ``[admins]`` in ``config.toml``."""
    granted_at: datetime | None = None
    id: int | None = None


def community_of_scope(scope: Scope, places: Places) -> str | None:
    """The community a scope lies in, or ``None`` for county, township and department."""
    if scope.kind is ScopeKind.COMMUNITY:
        return scope.code
    if scope.kind is ScopeKind.GRID:
        grid = next((g for g in places.grids if g.code == scope.code), None)
        return None if grid is None else grid.community_code
    if scope.kind is ScopeKind.UNIT:
        compound_code = scope.code.split("/", 1)[0]
        compound = next((c for c in places.compounds if c.code == compound_code), None)
        return None if compound is None else compound.community_code
    return None


def scope_exists(scope: Scope, places: Places) -> bool:
    """Whether the scope names an active place or department of this county."""
    codes: dict[ScopeKind, Iterable[str]] = {
        ScopeKind.COUNTY: (COUNTY_SCOPE_CODE,),
        ScopeKind.TOWNSHIP: (t.code for t in places.townships),
        ScopeKind.COMMUNITY: (c.code for c in places.communities),
        ScopeKind.GRID: (g.code for g in places.grids),
        ScopeKind.DEPARTMENT: (d.code for d in places.departments),
    }
    if scope.kind is ScopeKind.UNIT:
        return community_of_scope(scope, places) is not None
    return scope.code in codes[scope.kind]


# -- what an actor may do ---------------------------------------------------------------


class Action(StrEnum):
    """A staff or admin action that :func:`decide` rules on (and the audit log records).

    Capabilities add theirs here, with a line in :data:`ALLOWED`, so the role
    matrix (quality bar S1) is one table.
    """

    GRANT_ROLES = "roles.grant"
    """Grant or revoke a role (admins only; a township admin within the township)."""
    TAG_RESIDENTS = "roles.tag"
    """Give or take a resident tag."""
    LIST_STAFF = "roles.list"
    """See who holds which role and tag in a community."""
    READ_AUDIT = "audit.read"
    """Read the audit log of a community."""
    REVIEW_CLAIMS = "register.review_claims"
    """Approve or reject owner claims and see their deed photos."""
    ISSUE_HOUSEHOLD_CODES = "residents.issue_codes"
    """Print one-time household codes that make residents *verified*."""
    ROTATE_BUILDING_CODES = "residents.rotate_codes"
    """Rotate a building's printed QR code, and print it."""
    VERIFY_RESIDENTS = "residents.verify"
    """Mark a resident *verified* by hand."""
    READ_STATS = "reports.read_stats"
    """Read a community's report figures (``/stats``) and download its CSV and XLSX."""
    HANDLE_REPORTS = "reports.handle"
    """Work residents' reports from ``/queue``: accept, ask, post progress, resolve,
    reject, reassign. Which reports is :func:`civic.reports_handling.roles_on_report`'s
    rule (a grid's, a community's, a department's)."""


STAFF_POSITIONS: Final = frozenset(Position)
LEADERS: Final = frozenset({Position.SECRETARY, Position.DIRECTOR})


@dataclass(frozen=True)
class Rule:
    """Who may take an action: admins always; staff of the community in these positions."""

    staff_positions: frozenset[Position] = frozenset()
    grid_workers: bool = False
    liaisons: bool = False
    """Liaisons are department-scoped, not community-scoped: :func:`decide` never allows
    them; the capability checks the department, and the menu offers them the command."""


ALLOWED: Final[dict[Action, Rule]] = {
    Action.GRANT_ROLES: Rule(),
    Action.TAG_RESIDENTS: Rule(staff_positions=LEADERS),
    Action.LIST_STAFF: Rule(staff_positions=STAFF_POSITIONS),
    Action.READ_AUDIT: Rule(staff_positions=frozenset({Position.SECRETARY})),
    Action.REVIEW_CLAIMS: Rule(staff_positions=STAFF_POSITIONS),
    Action.ISSUE_HOUSEHOLD_CODES: Rule(staff_positions=STAFF_POSITIONS),
    Action.ROTATE_BUILDING_CODES: Rule(staff_positions=STAFF_POSITIONS, grid_workers=True),
    Action.VERIFY_RESIDENTS: Rule(staff_positions=STAFF_POSITIONS, grid_workers=True),
    Action.READ_STATS: Rule(staff_positions=STAFF_POSITIONS),
    Action.HANDLE_REPORTS: Rule(staff_positions=STAFF_POSITIONS, grid_workers=True, liaisons=True),
}
"""The role matrix of spec 00: admins may do everything in their scope; this table
says which staff positions (and whether grid workers) may too. Tags are given by
the community's leaders as well as admins, because they know the representatives."""


@dataclass(frozen=True)
class Actor:
    """A person acting, with their live grants (``[admins]`` ones included)."""

    user_id: int
    grants: tuple[Grant, ...] = field(default=())

    def holds(self, role: Role) -> bool:
        return any(g.role is role for g in self.grants)

    @property
    def is_staff_or_admin(self) -> bool:
        """Holds any power beyond a resident's or an owner's (sees the staff menu)."""
        return any(g.role is not Role.OWNER for g in self.grants)

    @property
    def is_admin(self) -> bool:
        return self.holds(Role.ADMIN)

    def staff_communities(self) -> frozenset[str]:
        """The communities this person is staff of (not counting admin scopes)."""
        return frozenset(
            g.community_code
            for g in self.grants
            if g.role is Role.STAFF and g.community_code is not None
        )


def with_config_admins(actor: Actor, admin_ids: Collection[int]) -> Actor:
    """Add the county-admin grant ``[admins] telegram_ids`` gives, if the person is listed."""
    if actor.user_id not in admin_ids or any(
        g.role is Role.ADMIN and g.scope.kind is ScopeKind.COUNTY for g in actor.grants
    ):
        return actor
    bootstrap = Grant(actor.user_id, Role.ADMIN, Scope.county())
    return Actor(actor.user_id, (bootstrap, *actor.grants))


class Decision(StrEnum):
    """What :func:`decide` says; every refusal has its own message."""

    ALLOWED = "allowed"
    NOT_STAFF = "not_staff"
    """The person holds no role that may take this action anywhere."""
    OTHER_COMMUNITY = "other_community"
    """They may take it, but not in this community."""
    POSITION = "position"
    """They are staff here, but their position may not take it (e.g. a clerk granting tags)."""

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOWED


def admin_covers(grant: Grant, community_code: str | None, places: Places) -> bool:
    """Whether an admin grant reaches ``community_code`` (``None``: a county-wide matter)."""
    if grant.role is not Role.ADMIN:
        return False
    if grant.scope.kind is ScopeKind.COUNTY:
        return True
    if community_code is None:
        return False
    community = next((c for c in places.communities if c.code == community_code), None)
    return community is not None and community.township_code == grant.scope.code


def admin_communities(actor: Actor, places: Places) -> list[str]:
    """The communities the actor's admin grants reach (a county admin's: all), in config order."""
    return [
        c.code
        for c in places.communities
        if any(admin_covers(g, c.code, places) for g in actor.grants)
    ]


def communities_served(actor: Actor, places: Places) -> list[str]:
    """Where the actor works: the communities of their grants (staff, grid worker, owner)
    and those their admin grants reach, in config order. Refusals name them, so a
    person told "this belongs to another community" knows which ones are theirs."""
    codes = {g.community_code for g in actor.grants if g.community_code is not None}
    codes |= set(admin_communities(actor, places))
    return [c.code for c in places.communities if c.code in codes]


def decide(actor: Actor, action: Action, community_code: str | None, places: Places) -> Decision:
    """May ``actor`` take ``action`` on a matter of ``community_code``?

    ``community_code`` is the community the matter belongs to (the claim's, the
    building's, the target person's); ``None`` for county-wide matters, which
    only county admins may touch.
    """
    rule = ALLOWED[action]
    if any(admin_covers(g, community_code, places) for g in actor.grants):
        return Decision.ALLOWED
    able = [
        g
        for g in actor.grants
        if (g.role is Role.STAFF and g.position in rule.staff_positions)
        or (g.role is Role.GRID_WORKER and rule.grid_workers)
    ]
    if community_code is not None and any(g.community_code == community_code for g in able):
        return Decision.ALLOWED
    staff_here = community_code is not None and community_code in actor.staff_communities()
    if staff_here:
        return Decision.POSITION
    # Elsewhere, the answer is the community, not the position: whether a clerk of
    # HD may tag is a question for HD only; in CB they are simply not staff.
    if able or actor.is_admin or (community_code is not None and actor.staff_communities()):
        return Decision.OTHER_COMMUNITY
    if actor.holds(Role.STAFF):
        return Decision.POSITION
    return Decision.NOT_STAFF


def may_take_somewhere(actor: Actor, action: Action) -> bool:
    """Whether :func:`decide` allows ``action`` to ``actor`` in at least one community.

    Read from :data:`ALLOWED`, so a person's command menu (``handlers.menus``)
    offers exactly the commands some community would let them use: any admin;
    staff whose position the rule lists; grid workers where the rule admits them.
    Liaisons where the rule admits them (department-scoped actions such as
    :data:`Action.HANDLE_REPORTS`).
    """
    rule = ALLOWED[action]
    return any(
        g.role is Role.ADMIN
        or (g.role is Role.STAFF and g.position in rule.staff_positions)
        or (g.role is Role.GRID_WORKER and rule.grid_workers)
        or (g.role is Role.LIAISON and rule.liaisons)
        for g in actor.grants
    )


def home_community(actor: Actor) -> str | None:
    """The community a staff member or grid worker acts for by default (commands without one).

    ``None`` when they hold roles in several communities, or only wider ones
    (admins name the community in the command).
    """
    communities = {
        g.community_code
        for g in actor.grants
        if g.role in (Role.STAFF, Role.GRID_WORKER) and g.community_code is not None
    }
    return next(iter(communities)) if len(communities) == 1 else None


def may_grant(actor: Actor, grant: Grant, places: Places) -> Decision:
    """May ``actor`` grant or revoke ``grant``? Admins only, and only within their scope.

    A township admin may grant roles in the township's communities (and their
    grids and units); county-wide, township and department roles need a county admin.
    """
    return decide(actor, Action.GRANT_ROLES, community_of_scope(grant.scope, places), places)


def secretary_of(grants: Iterable[Grant], community_code: str) -> int | None:
    """The user id of the community's secretary, who takes over open work (spec 01).

    The longest-serving one if the database holds several; ``None`` if none.
    """
    secretaries = [
        g
        for g in grants
        if g.role is Role.STAFF
        and g.position is Position.SECRETARY
        and g.community_code == community_code
    ]
    secretaries.sort(key=lambda g: (g.id is None, g.id or 0))
    return secretaries[0].user_id if secretaries else None


async def load_actor(uow: UnitOfWork, user_id: int, admin_ids: Collection[int]) -> Actor:
    """The person's live grants, with the county admin ``[admins]`` makes of them."""
    async with uow:
        grants = await uow.roles.of_user(user_id)
    return with_config_admins(Actor(user_id, tuple(grants)), admin_ids)
