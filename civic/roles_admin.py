"""Granting and revoking roles, tagging residents, and reading who holds what (spec 01).

The use cases behind ``/grant``, ``/revoke``, ``/tag``, ``/untag``, ``/staff``,
``/audit`` and the operator's ``xieshang grant|revoke|audit``. :mod:`civic.roles`
holds the rules (who may do what where, read by every capability); this module
changes grants, so it lives apart from them.

Each change, in one unit of work:

* checks permission with :func:`civic.roles.may_grant` / :func:`civic.roles.decide`
  (``actor=None`` is the operator at the command line, who may do anything);
* is idempotent: the repositories insert with ``ON CONFLICT DO NOTHING``, so a
  redelivered update or a second admin granting the same thing answers
  :attr:`RoleOutcome.ALREADY` and writes nothing more;
* writes an :class:`civic.audit.AuditEntry` (``roles.grant``, ``roles.revoke``,
  ``roles.tag``, ``roles.untag``, ``roles.handover``);
* queues a notification to the person concerned, in their language (Chinese if
  they never registered), keyed by the audit entry so it is queued once.

Owners are not granted by command: ownership is proven by an owner claim that
staff approve (``/claims``) or a household code, so an admin's word cannot make
someone a voter in an owners' decision (spec 04).

Outcomes (what the handler maps to a message): ``DONE``, ``ALREADY``,
``NOT_HELD``, ``REFUSED`` (with the :class:`Decision`), ``NO_COMMUNITY`` and the
input problems of :class:`Problem`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from civic import audit
from civic.audit import AuditEntry
from civic.handover import HANDOVERS, HandoverRegistry
from civic.outbox import OutgoingMessage
from civic.places import Places
from civic.ports import UnitOfWork
from civic.roles import (
    COUNTY_SCOPE_CODE,
    ROLE_SCOPES,
    Action,
    Actor,
    Decision,
    Grant,
    Position,
    Role,
    Scope,
    ScopeKind,
    Tag,
    community_of_scope,
    decide,
    home_community,
    may_grant,
    scope_exists,
    secretary_of,
    with_config_admins,
)

DEFAULT_LANGUAGE: Final = "zh_CN"
"""The language of a notification to someone who never registered (spec: Chinese first)."""

AUDIT_PAGE: Final = 20
"""Entries ``/audit`` reads at a time: the newest twenty (fewer are shown if they do not
fit in one message; the rest are the next page)."""

MAX_USER_ID: Final = 2**53
"""Telegram user ids fit in 52 bits; anything larger is a typo, not a person."""


class RoleOutcome(StrEnum):
    """What a roles use case did; input problems are :class:`Problem` outcomes too."""

    DONE = "done"
    ALREADY = "already"
    """The grant or tag is held already: nothing was written (a redelivery, or twice)."""
    NOT_HELD = "not_held"
    """Revoking or untagging something the person does not hold."""
    NOT_RESIDENT = "not_resident"
    """Tagging someone who is not a registered resident of that community; the same
    answer whether they never registered or live elsewhere (it must not tell staff
    where an arbitrary user id is registered)."""
    REFUSED = "refused"
    """The actor may not: see the :class:`Decision`."""
    NO_COMMUNITY = "no_community"
    """The command needs a community and the actor has no single home community."""
    BAD_USER = "bad_user"
    UNKNOWN_ROLE = "unknown_role"
    UNKNOWN_POSITION = "unknown_position"
    UNKNOWN_SCOPE = "unknown_scope"
    WRONG_SCOPE = "wrong_scope"
    """The code names a place, but not one this role is granted over (staff over a grid)."""
    POSITION_REQUIRED = "position_required"
    POSITION_NOT_ALLOWED = "position_not_allowed"
    OWNER_BY_CLAIM = "owner_by_claim"
    UNKNOWN_TAG = "unknown_tag"
    UNKNOWN_COMMUNITY = "unknown_community"


# -- words people type ------------------------------------------------------------------

ROLE_WORDS: Final[Mapping[str, tuple[Role, Position | None]]] = {
    **{role.value: (role, None) for role in Role},
    "grid": (Role.GRID_WORKER, None),
    "业主": (Role.OWNER, None),
    "网格员": (Role.GRID_WORKER, None),
    "工作人员": (Role.STAFF, None),
    "社区工作人员": (Role.STAFF, None),
    "联络员": (Role.LIAISON, None),
    "管理员": (Role.ADMIN, None),
    "书记": (Role.STAFF, Position.SECRETARY),
    "主任": (Role.STAFF, Position.DIRECTOR),
    "文书": (Role.STAFF, Position.CLERK),
    "社区工作者": (Role.STAFF, Position.SOCIAL_WORKER),
}
"""``/grant`` role names in English (the enum values) and Chinese; a position's Chinese
name alone means staff in that position (``/grant 123 书记 HD``)."""

POSITION_WORDS: Final[Mapping[str, Position]] = {
    **{position.value: position for position in Position},
    "social": Position.SOCIAL_WORKER,
    "书记": Position.SECRETARY,
    "主任": Position.DIRECTOR,
    "文书": Position.CLERK,
    "社区工作者": Position.SOCIAL_WORKER,
}

TAG_WORDS: Final[Mapping[str, Tag]] = {
    **{tag.value: tag for tag in Tag},
    "居民代表": Tag.RESIDENT_REPRESENTATIVE,
    "党员代表": Tag.PARTY_REPRESENTATIVE,
    "业委会成员": Tag.COMMITTEE_MEMBER,
    "专家": Tag.EXPERT,
    "驻区单位": Tag.LOCAL_UNIT,
    "物业公司": Tag.PROPERTY_COMPANY,
    "社会组织": Tag.SOCIAL_ORGANISATION,
}

COUNTY_WORDS: Final = frozenset({"county", COUNTY_SCOPE_CODE, "县", "全县"})


@dataclass(frozen=True)
class Problem:
    """Input that cannot be acted on, with the word at fault (for the message)."""

    outcome: RoleOutcome
    value: str = ""
    kinds: frozenset[ScopeKind] = frozenset()
    """For ``WRONG_SCOPE``: the kinds of scope the role is granted over."""


@dataclass(frozen=True)
class RoleRequest:
    """A grant or revoke as typed, checked against the places of the county."""

    user_id: int
    role: Role
    scope: Scope
    position: Position | None = None

    def grant(self, places: Places, by: int | None, now: datetime) -> Grant:
        return Grant(
            user_id=self.user_id,
            role=self.role,
            scope=self.scope,
            community_code=community_of_scope(self.scope, places),
            position=self.position,
            granted_by=by,
            granted_at=now,
        )


def parse_user_id(text: str) -> int | Problem:
    """A Telegram user id as typed: digits only (forwarded names are not ids)."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or not 0 < int(cleaned) < MAX_USER_ID:
        return Problem(RoleOutcome.BAD_USER, text[:32])
    return int(cleaned)


def kinds_of_code(code: str, places: Places) -> frozenset[ScopeKind]:
    """What a code names in this county (a community, a grid, a department ...)."""
    found = {
        kind
        for kind in (ScopeKind.TOWNSHIP, ScopeKind.COMMUNITY, ScopeKind.GRID, ScopeKind.DEPARTMENT)
        if scope_exists(Scope(kind, code), places)
    }
    if code in COUNTY_WORDS:
        found.add(ScopeKind.COUNTY)
    return frozenset(found)


def parse_role_request(args: Sequence[str], places: Places) -> RoleRequest | Problem:
    """``USER_ID ROLE SCOPE [POSITION]`` → a checked request, or what is wrong with it.

    The scope's kind follows from what the code names (``HD`` a community,
    ``HD-G1`` a grid, ``HOUSING`` a department, ``YK`` a township, ``county``),
    and must be one the role is granted over (:data:`civic.roles.ROLE_SCOPES`).
    Staff need a position; nobody else may have one.
    """
    user_id = parse_user_id(args[0])
    if isinstance(user_id, Problem):
        return user_id
    word = args[1].strip()
    role_word = ROLE_WORDS.get(word.lower()) or ROLE_WORDS.get(word)
    if role_word is None:
        return Problem(RoleOutcome.UNKNOWN_ROLE, word[:32])
    role, implied = role_word
    if role is Role.OWNER:
        return Problem(RoleOutcome.OWNER_BY_CLAIM)
    typed = args[2].strip()
    code = COUNTY_SCOPE_CODE if typed.lower() in COUNTY_WORDS else typed.upper()
    kinds = kinds_of_code(code, places)
    if not kinds:
        return Problem(RoleOutcome.UNKNOWN_SCOPE, typed[:32])
    fitting = kinds & ROLE_SCOPES[role]
    if not fitting:
        return Problem(RoleOutcome.WRONG_SCOPE, typed[:32], ROLE_SCOPES[role])
    scope = Scope(next(iter(sorted(fitting))), code)
    position = implied
    if len(args) > 3:
        typed_position = args[3].strip()
        chosen = POSITION_WORDS.get(typed_position.lower()) or POSITION_WORDS.get(typed_position)
        if role is not Role.STAFF:
            return Problem(RoleOutcome.POSITION_NOT_ALLOWED, typed_position[:32])
        if chosen is None or (implied is not None and chosen is not implied):
            return Problem(RoleOutcome.UNKNOWN_POSITION, typed_position[:32])
        position = chosen
    return RoleRequest(user_id, role, scope, position)


def parse_tag(text: str) -> Tag | Problem:
    word = text.strip()
    tag = TAG_WORDS.get(word.lower()) or TAG_WORDS.get(word)
    return Problem(RoleOutcome.UNKNOWN_TAG, word[:32]) if tag is None else tag


def parse_community(text: str, places: Places) -> str | Problem:
    code = text.strip().upper()
    if not scope_exists(Scope(ScopeKind.COMMUNITY, code), places):
        return Problem(RoleOutcome.UNKNOWN_COMMUNITY, text.strip()[:32])
    return code


def parse_audit_args(
    args: Sequence[str], places: Places
) -> tuple[str | None, int | None] | Problem | None:
    """``/audit [COMMUNITY] [ENTRY_ID]`` → ``(community, before_id)``; ``None``: not that shape.

    Digits are an entry id (page back: entries older than it); anything else a
    community code, checked. Either may be left out, in any order.
    """
    community: str | None = None
    before_id: int | None = None
    if len(args) > 2:
        return None
    for arg in args:
        word = arg.strip()
        if word.isascii() and word.isdigit():
            if before_id is not None or not 0 < int(word) < MAX_USER_ID:
                return None
            before_id = int(word)
            continue
        if community is not None:
            return None
        parsed = parse_community(word, places)
        if isinstance(parsed, Problem):
            return parsed
        community = parsed
    return community, before_id


# -- notifications ------------------------------------------------------------------------


class NoticeKind(StrEnum):
    """What the person concerned is told."""

    GRANTED = "granted"
    REVOKED = "revoked"
    TAGGED = "tagged"
    UNTAGGED = "untagged"


@dataclass(frozen=True)
class RoleNotice:
    """A notification to the person concerned, before it is put in words."""

    kind: NoticeKind
    role: Role | None = None
    position: Position | None = None
    scope: Scope | None = None
    tag: Tag | None = None
    community_code: str | None = None


Compose = Callable[[str, RoleNotice], Mapping[str, Any]]
"""``(language, notice) → Bot API payload``: the bot's catalogs put a notice in words."""


async def _notify(
    uow: UnitOfWork,
    user_id: int,
    notice: RoleNotice,
    compose: Compose,
    entry_id: int,
    now: datetime,
) -> None:
    """Queue the notice in the person's language; the audit entry's id keys it (once)."""
    language = await uow.residents.language_of(user_id) or DEFAULT_LANGUAGE
    message = OutgoingMessage(
        user_id, compose(language, notice), dedupe_key=f"audit:{entry_id}:notify"
    )
    await uow.outbox.enqueue([message], now)


# -- grant and revoke ----------------------------------------------------------------------


@dataclass(frozen=True)
class RoleResult:
    """What a grant, revoke, tag or untag did."""

    outcome: RoleOutcome
    decision: Decision = Decision.ALLOWED
    grant: Grant | None = None
    """The grant made, found already, or revoked."""
    handed_over: Mapping[str, int] = field(default_factory=dict)
    """Revokes: open work handed over, by capability."""
    secretary: int | None = None
    """Revokes: who received it; ``None`` when the community has no secretary."""
    community_code: str | None = None

    @property
    def changed(self) -> bool:
        return self.outcome is RoleOutcome.DONE


def _allowed(actor: Actor | None, decision: Callable[[Actor], Decision]) -> Decision:
    return Decision.ALLOWED if actor is None else decision(actor)


def _grant_details(grant: Grant) -> dict[str, Any]:
    details: dict[str, Any] = {
        "role": grant.role.value,
        "scope_kind": grant.scope.kind.value,
        "scope": grant.scope.code,
    }
    if grant.position is not None:
        details["position"] = grant.position.value
    return details


async def grant_role(
    uow: UnitOfWork,
    actor: Actor | None,
    request: RoleRequest,
    places: Places,
    now: datetime,
    compose: Compose,
    *,
    update_id: int | None = None,
) -> RoleResult:
    """Grant a role; the person is told. ``actor=None``: the operator."""
    by = None if actor is None else actor.user_id
    grant = request.grant(places, by, now)
    if grant.role is Role.OWNER:
        return RoleResult(RoleOutcome.OWNER_BY_CLAIM)
    if (grant.role is Role.STAFF) != (grant.position is not None):
        outcome = (
            RoleOutcome.POSITION_REQUIRED
            if grant.role is Role.STAFF
            else RoleOutcome.POSITION_NOT_ALLOWED
        )
        return RoleResult(outcome)
    if not scope_exists(grant.scope, places) or grant.scope.kind not in ROLE_SCOPES[grant.role]:
        return RoleResult(RoleOutcome.UNKNOWN_SCOPE)
    decision = _allowed(actor, lambda a: may_grant(a, grant, places))
    if not decision.allowed:
        return RoleResult(RoleOutcome.REFUSED, decision, community_code=grant.community_code)
    async with uow:
        if not await uow.roles.add(grant):
            held = await _live_grant(uow, request)
            return RoleResult(RoleOutcome.ALREADY, grant=held or grant)
        entry_id = await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=by,
                action=audit.ROLES_GRANT,
                community_code=grant.community_code,
                target_user_id=grant.user_id,
                details=_grant_details(grant),
                update_id=update_id,
            )
        )
        notice = RoleNotice(
            NoticeKind.GRANTED, grant.role, grant.position, grant.scope, None, grant.community_code
        )
        await _notify(uow, grant.user_id, notice, compose, entry_id, now)
        await uow.commit()
    return RoleResult(RoleOutcome.DONE, grant=grant, community_code=grant.community_code)


async def _live_grant(uow: UnitOfWork, request: RoleRequest) -> Grant | None:
    return next(
        (
            g
            for g in await uow.roles.of_user(request.user_id)
            if g.role is request.role and g.scope == request.scope
        ),
        None,
    )


async def revoke_role(
    uow: UnitOfWork,
    actor: Actor | None,
    request: RoleRequest,
    places: Places,
    now: datetime,
    compose: Compose,
    *,
    update_id: int | None = None,
    handovers: HandoverRegistry = HANDOVERS,
) -> RoleResult:
    """End a role; the person's open work in the community goes to its secretary.

    The revoked row stays (``revoked_at``): a record of who held office. The
    hand-over runs after the revoke in the same transaction, so a secretary
    revoking themself is not their own successor.
    """
    by = None if actor is None else actor.user_id
    probe = request.grant(places, by, now)
    decision = _allowed(actor, lambda a: may_grant(a, probe, places))
    if not decision.allowed:
        return RoleResult(RoleOutcome.REFUSED, decision, community_code=probe.community_code)
    async with uow:
        held = await _live_grant(uow, request)
        if held is None:
            return RoleResult(RoleOutcome.NOT_HELD, grant=probe)
        ended = await _end_grant(uow, held, by, now, handovers, update_id=update_id)
        if ended is None:
            return RoleResult(RoleOutcome.NOT_HELD, grant=probe)
        result, entry_id = ended
        notice = RoleNotice(
            NoticeKind.REVOKED, held.role, held.position, held.scope, None, held.community_code
        )
        await _notify(uow, held.user_id, notice, compose, entry_id, now)
        await uow.commit()
    return result


async def _end_grant(
    uow: UnitOfWork,
    held: Grant,
    by: int | None,
    now: datetime,
    handovers: HandoverRegistry,
    *,
    update_id: int | None = None,
    cause: str | None = None,
) -> tuple[RoleResult, int] | None:
    """Revoke ``held`` inside the caller's unit of work: audit, then hand open work over.

    ``None`` when it was no longer live (revoked by someone else meanwhile).
    Returns the result and the id of the ``roles.revoke`` entry (which keys the
    notice). ``cause`` goes into the entry's details (:data:`ERASED_OWN_DATA`).
    """
    if not await uow.roles.revoke(held, by, now):
        return None
    community = held.community_code
    details = _grant_details(held)
    if cause is not None:
        details["cause"] = cause
    entry_id = await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=by,
            action=audit.ROLES_REVOKE,
            community_code=community,
            target_user_id=held.user_id,
            details=details,
            update_id=update_id,
        )
    )
    secretary: int | None = None
    if community is not None:
        secretary = secretary_of(await uow.roles.in_community(community), community)
    # A liaison's or admin's role reaches over no single community: what it let them
    # take is released everywhere (``None``), not left with someone who may not act.
    counts: Mapping[str, int] = await handovers.hand_over(
        uow, held.user_id, community, secretary, now
    )
    if community is not None or any(counts.values()):
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=by,
                action=audit.ROLES_HANDOVER,
                community_code=community,
                target_user_id=held.user_id,
                details={"secretary": secretary, "counts": dict(counts)},
                update_id=update_id,
            )
        )
    result = RoleResult(
        RoleOutcome.DONE,
        grant=held,
        handed_over=counts,
        secretary=secretary,
        community_code=community,
    )
    return result, entry_id


ERASED_OWN_DATA: Final = "erased_own_data"
"""The ``cause`` of a ``roles.revoke`` entry written when the person erased their data."""


async def resign_roles(
    uow: UnitOfWork,
    user_id: int,
    now: datetime,
    *,
    handovers: HandoverRegistry = HANDOVERS,
) -> tuple[Grant, ...]:
    """End every live role but ownership of a person erasing their data (``/deleteme``).

    The same as an admin's revoke — audited (``roles.revoke``, the person as
    actor, ``cause`` :data:`ERASED_OWN_DATA`), open work handed to the
    community's secretary — so leaving by erasure never strands work or ends an
    office silently. Owner grants are not offices: the erasure deletes them.
    Runs inside the caller's unit of work and does not commit, so the roles end
    together with the erasure. No notice: the person's messages are being erased.
    """
    ended: list[Grant] = []
    for held in await uow.roles.of_user(user_id):
        if held.role is Role.OWNER:
            continue
        if await _end_grant(uow, held, user_id, now, handovers, cause=ERASED_OWN_DATA):
            ended.append(held)
    return tuple(ended)


# -- tags ----------------------------------------------------------------------------------


async def tag_resident(
    uow: UnitOfWork,
    actor: Actor | None,
    user_id: int,
    tag: Tag,
    community_code: str,
    places: Places,
    now: datetime,
    compose: Compose,
    *,
    update_id: int | None = None,
) -> RoleResult:
    """Give a resident a tag in a community (leaders of the community, or admins).

    Tags are a community's own marks on its residents (spec 01), so the person
    must be a registered resident of ``community_code``: anyone else is
    :attr:`RoleOutcome.NOT_RESIDENT`, checked after the permission so a refusal
    for another community reveals nothing about the person either.
    """
    return await _change_tag(
        uow, actor, user_id, tag, community_code, places, now, compose, True, update_id
    )


async def untag_resident(
    uow: UnitOfWork,
    actor: Actor | None,
    user_id: int,
    tag: Tag,
    community_code: str,
    places: Places,
    now: datetime,
    compose: Compose,
    *,
    update_id: int | None = None,
) -> RoleResult:
    """Take a resident's tag away."""
    return await _change_tag(
        uow, actor, user_id, tag, community_code, places, now, compose, False, update_id
    )


async def _change_tag(
    uow: UnitOfWork,
    actor: Actor | None,
    user_id: int,
    tag: Tag,
    community_code: str,
    places: Places,
    now: datetime,
    compose: Compose,
    add: bool,
    update_id: int | None,
) -> RoleResult:
    if not scope_exists(Scope(ScopeKind.COMMUNITY, community_code), places):
        return RoleResult(RoleOutcome.UNKNOWN_COMMUNITY)
    decision = _allowed(actor, lambda a: decide(a, Action.TAG_RESIDENTS, community_code, places))
    if not decision.allowed:
        return RoleResult(RoleOutcome.REFUSED, decision, community_code=community_code)
    by = None if actor is None else actor.user_id
    async with uow:
        if add:
            resident = await uow.residents.get(user_id)
            if resident is None or resident.community_code != community_code:
                return RoleResult(RoleOutcome.NOT_RESIDENT, community_code=community_code)
            changed = await uow.roles.add_tag(user_id, tag, community_code, by, now)
        else:
            changed = await uow.roles.remove_tag(user_id, tag, community_code)
        if not changed:
            outcome = RoleOutcome.ALREADY if add else RoleOutcome.NOT_HELD
            return RoleResult(outcome, community_code=community_code)
        entry_id = await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=by,
                action=audit.ROLES_TAG if add else audit.ROLES_UNTAG,
                community_code=community_code,
                target_user_id=user_id,
                details={"tag": tag.value},
                update_id=update_id,
            )
        )
        kind = NoticeKind.TAGGED if add else NoticeKind.UNTAGGED
        notice = RoleNotice(kind, tag=tag, community_code=community_code)
        await _notify(uow, user_id, notice, compose, entry_id, now)
        await uow.commit()
    return RoleResult(RoleOutcome.DONE, community_code=community_code)


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffList:
    """Who holds which role and tag in a community (``/staff``)."""

    outcome: RoleOutcome
    decision: Decision = Decision.ALLOWED
    community_code: str | None = None
    grants: tuple[Grant, ...] = ()
    """Live grants in the community, owners left out (they are counted)."""
    owners: int = 0
    tags: tuple[tuple[int, Tag], ...] = ()
    registered: frozenset[int] = frozenset()
    """Which role holders are registered (have started the bot, so hear their notices).

    Only role holders: admins chose those ids. Tagged people are not marked —
    tagging needs a resident of the community anyway — so ``/staff`` never tells
    a leader whether some arbitrary id is registered."""


async def list_staff(
    uow: UnitOfWork, actor: Actor, community_code: str | None, places: Places
) -> StaffList:
    """The community's staff, grid workers, owners' count and tags; the actor's home by default."""
    community = community_code or home_community(actor)
    if community is None:
        return StaffList(RoleOutcome.NO_COMMUNITY)
    if not scope_exists(Scope(ScopeKind.COMMUNITY, community), places):
        return StaffList(RoleOutcome.UNKNOWN_COMMUNITY, community_code=community)
    decision = decide(actor, Action.LIST_STAFF, community, places)
    if not decision.allowed:
        return StaffList(RoleOutcome.REFUSED, decision, community)
    async with uow:
        grants = await uow.roles.in_community(community)
        tags = await uow.roles.tagged(community)
        people = {g.user_id for g in grants if g.role is not Role.OWNER}
        registered = {u for u in sorted(people) if await uow.residents.language_of(u) is not None}
    return StaffList(
        RoleOutcome.DONE,
        community_code=community,
        grants=tuple(g for g in grants if g.role is not Role.OWNER),
        owners=sum(1 for g in grants if g.role is Role.OWNER),
        tags=tuple(tags),
        registered=frozenset(registered),
    )


@dataclass(frozen=True)
class AuditPage:
    """The newest audit entries an actor may read (``/audit``)."""

    outcome: RoleOutcome
    decision: Decision = Decision.ALLOWED
    communities: frozenset[str] | None = None
    """What was read: ``None`` is everything (county admins, the operator)."""
    entries: tuple[AuditEntry, ...] = ()
    more: bool = False
    """Older entries exist beyond ``entries`` (the next page starts before the last shown)."""


def audit_scope(
    actor: Actor | None, community_code: str | None, places: Places
) -> tuple[Decision | RoleOutcome, frozenset[str] | None]:
    """Which communities' entries ``actor`` reads when asking for ``community_code``.

    Secretaries read their community; a township admin the township's
    communities; a county admin (and the operator) everything, or one community
    when they name it.
    """
    if community_code is not None:
        if actor is None:
            return Decision.ALLOWED, frozenset({community_code})
        return decide(actor, Action.READ_AUDIT, community_code, places), frozenset({community_code})
    if actor is None or any(
        g.role is Role.ADMIN and g.scope.kind is ScopeKind.COUNTY for g in actor.grants
    ):
        return Decision.ALLOWED, None
    townships = {
        g.scope.code
        for g in actor.grants
        if g.role is Role.ADMIN and g.scope.kind is ScopeKind.TOWNSHIP
    }
    if townships:
        return Decision.ALLOWED, frozenset(
            c.code for c in places.communities if c.township_code in townships
        )
    home = home_community(actor)
    if home is None:
        if len(actor.staff_communities()) > 1:
            return RoleOutcome.NO_COMMUNITY, None
        return decide(actor, Action.READ_AUDIT, None, places), None
    return decide(actor, Action.READ_AUDIT, home, places), frozenset({home})


async def read_audit(
    uow: UnitOfWork,
    actor: Actor | None,
    community_code: str | None,
    places: Places,
    limit: int = AUDIT_PAGE,
    before_id: int | None = None,
) -> AuditPage:
    """The newest ``limit`` entries of what the actor may read, newest first.

    ``before_id`` pages back: only entries older than that one (an id is a
    stable cursor; a page number would shift as new entries are written).
    """
    if community_code is not None and not scope_exists(
        Scope(ScopeKind.COMMUNITY, community_code), places
    ):
        return AuditPage(RoleOutcome.UNKNOWN_COMMUNITY)
    decision, communities = audit_scope(actor, community_code, places)
    if isinstance(decision, RoleOutcome):
        return AuditPage(decision)
    if not decision.allowed:
        return AuditPage(RoleOutcome.REFUSED, decision, communities)
    async with uow:
        entries = await uow.audit.recent(communities, limit + 1, before_id)
    return AuditPage(
        RoleOutcome.DONE,
        communities=communities,
        entries=tuple(entries[:limit]),
        more=len(entries) > limit,
    )


# -- menus ---------------------------------------------------------------------------------


async def menu_holders(uow: UnitOfWork, admin_ids: Collection[int]) -> list[Actor]:
    """Everyone who needs a menu beyond a resident's: live non-owner grants and ``[admins]``."""
    async with uow:
        grants: list[Grant] = []
        for role in (Role.GRID_WORKER, Role.STAFF, Role.LIAISON, Role.ADMIN):
            grants.extend(await uow.roles.holders(role))
    by_user: dict[int, list[Grant]] = {}
    for grant in grants:
        by_user.setdefault(grant.user_id, []).append(grant)
    for user_id in admin_ids:
        by_user.setdefault(user_id, [])
    return [
        with_config_admins(Actor(user_id, tuple(held)), admin_ids)
        for user_id, held in sorted(by_user.items())
    ]
