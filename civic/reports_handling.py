"""Handling reports: who may act on one, the queue, and every action from the card (spec 02).

Who may act (the agreed rule, owned here; filing and statistics ask
:func:`roles_on_report` rather than repeat it):

* **assignee** — while nobody is named on the report: the grid workers of its
  grid (a grid target), the staff of its community (a community or township
  target: a township's order reaches the community's office), the liaisons of
  its department (a department target), and admins covering the community.
  Once someone accepted it, the person named (they own it) while they still
  hold that desk or are staff of the community: a revoked role acts on nothing.
* **staff** — staff of the report's community, and admins covering it, always:
  they dispatch and supervise (:data:`civic.reports.TRANSITIONS` lets them take
  every worker's action).
* **reporter** — the resident who filed it; for a report filed on someone's
  behalf, the staff member who filed it (they answer for the person).

Staff of another community, grid workers of another grid and liaisons of another
department are neither: refused, each with its reason (:class:`Refusal`).

Every action (accept, progress, resolve, reject, reassign, ask; the reporter's
answer) goes the same way, in one unit of work: the report is read, the actor's
roles are found, :func:`civic.reports.decide_action` rules, the change is saved
only if the report is still in the state the card showed
(:meth:`civic.ports.ReportsRepository.save` with the expected state: of two
presses, one wins and the other is told the card is out of date), an event
records who, when and the note, staff actions are audited, and the people
concerned are told through :mod:`civic.reports_notices`. An update already
applied (a redelivery after a crash: its id is on an event) changes nothing
and answers as before.

No Telegram, no SQL, no clock: ``now``, the places, the calendar are passed in.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from civic.audit import AuditEntry
from civic.flows import DONE_STEP, Flow, enter_flow
from civic.handover import register_handover
from civic.places import Places
from civic.reports import (
    OPEN_STATES,
    ActionVerdict,
    ActorRole,
    Attachment,
    AttachmentKind,
    RejectReason,
    Report,
    ReportAction,
    ReportEvent,
    ReportState,
    decide_action,
)
from civic.reports_deadlines import DeadlinePolicy, Deadlines, deadlines_after_reassign
from civic.reports_expiry import ask_filer, schedule_expiry
from civic.reports_notices import ReportNotices, tell_reporter, tell_worker
from civic.reports_reminders import DeskNotices, desk_holders, schedule_deadline_jobs, tell_desk
from civic.reports_routing import Assignee, AssigneeKind
from civic.roles import Actor, Role, ScopeKind, admin_communities, admin_covers
from civic.workdays import WorkingCalendar

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

__all__ = [
    "ANSWER_FLOW",
    "CARD_ACTIONS",
    "NOTE_FLOW",
    "QUEUE_PAGE",
    "DeadlineRules",
    "HandleOutcome",
    "HandleResult",
    "QueuePage",
    "Refusal",
    "answer_report",
    "card_details",
    "hand_over_reports",
    "handle_report",
    "queue_of",
    "reassign_targets",
    "role_on_report",
    "roles_on_report",
    "start_answer",
    "start_note",
]

NOTE_FLOW: Final = "reports.note"
"""A worker typing a note (progress, resolution, a question, a rejection's note)."""
ANSWER_FLOW: Final = "reports.answer"
"""A reporter answering a question: text or photos go to the report."""

MAX_NOTE_PHOTOS: Final = 10
"""Photos one note may carry (Telegram's album holds ten)."""
ALBUM_STEP: Final = "album"
"""The note flow after a captioned photo of an album took the action: the album's other
photos, arriving one update each, join that action's event (then the flow ends)."""

QUEUE_PAGE: Final = 5
"""Cards ``/queue`` shows at once; "More" shows the next ones."""
MAX_NOTE_CHARS: Final = 1000
"""A note, question or answer: a message, not a letter (a photo says the rest)."""

CARD_ACTIONS: Final = (
    ReportAction.ACCEPT,
    ReportAction.PROGRESS,
    ReportAction.RESOLVE,
    ReportAction.REJECT,
    ReportAction.REASSIGN,
    ReportAction.ASK,
)
"""The actions a card offers buttons for, in that order (when allowed now)."""

NOTE_REQUIRED: Final = frozenset({ReportAction.PROGRESS, ReportAction.RESOLVE, ReportAction.ASK})
"""Actions taken by typing: the note (question) is the point of them."""

_WORKER_ROLES: Final = frozenset({ActorRole.ASSIGNEE, ActorRole.STAFF})


# -- who may act ----------------------------------------------------------------------------


def _covers_desk(actor: Actor, assignee: Assignee, community_code: str) -> bool:
    """Whether ``actor`` holds the role over the report's desk (nobody named yet)."""
    for grant in actor.grants:
        if assignee.kind is AssigneeKind.GRID_WORKER:
            if grant.role is Role.GRID_WORKER and grant.scope.code == assignee.code:
                return True
        elif assignee.kind is AssigneeKind.DEPARTMENT:
            if grant.role is Role.LIAISON and grant.scope.code == assignee.code:
                return True
        elif grant.role is Role.STAFF and grant.community_code == community_code:
            return True
    return False


def roles_on_report(actor: Actor, report: Report, places: Places) -> frozenset[ActorRole]:
    """Every capacity ``actor`` may act in on ``report`` (see the module docstring)."""
    roles: set[ActorRole] = set()
    community = report.community_code
    admin = any(admin_covers(g, community, places) for g in actor.grants)
    staff = admin or community in actor.staff_communities()
    if staff:
        roles.add(ActorRole.STAFF)
    named = report.assignee.user_id
    if named is None:
        if admin or _covers_desk(actor, report.assignee, community):
            roles.add(ActorRole.ASSIGNEE)
    elif named == actor.user_id and (staff or _covers_desk(actor, report.assignee, community)):
        # Still at that desk (or staff here): a revoked role leaves nothing to act on.
        roles.add(ActorRole.ASSIGNEE)
    reporter = report.reporter
    if reporter.user_id == actor.user_id or (
        reporter.on_behalf and reporter.filed_by == actor.user_id
    ):
        roles.add(ActorRole.REPORTER)
    return frozenset(roles)


_PRECEDENCE: Final = (ActorRole.ASSIGNEE, ActorRole.STAFF, ActorRole.REPORTER)


def role_on_report(actor: Actor, report: Report, places: Places) -> ActorRole | None:
    """The capacity ``actor`` acts in on ``report`` (assignee before staff before
    reporter), or ``None`` for someone with no business on it."""
    roles = roles_on_report(actor, report, places)
    return next((r for r in _PRECEDENCE if r in roles), None)


class Refusal(StrEnum):
    """Why someone may not act on a report; each has its message."""

    OTHER_COMMUNITY = "other_community"
    """Staff, grid worker or admin of somewhere else: ask that community's staff."""
    OTHER_DESK = "other_desk"
    """Works here, but the report is on another grid's or department's desk, or taken."""
    NOT_YOURS = "not_yours"
    """A resident acting on someone else's report."""


def refusal_of(actor: Actor, report: Report, places: Places) -> Refusal:
    """Why ``actor`` (who holds no worker role on ``report``) may not act on it."""
    if not actor.is_staff_or_admin:
        return Refusal.NOT_YOURS
    here = any(
        g.community_code == report.community_code
        or (g.role is Role.LIAISON)
        or admin_covers(g, report.community_code, places)
        for g in actor.grants
        if g.role is not Role.OWNER
    )
    return Refusal.OTHER_DESK if here else Refusal.OTHER_COMMUNITY


# -- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuePage:
    reports: list[Report]
    more: bool
    """Further reports follow (the "More" button)."""
    offset: int


def _desks(actor: Actor, places: Places) -> tuple[set[str], set[tuple[AssigneeKind, str]]]:
    """The communities whose whole queue ``actor`` sees, and the other desks they sit at."""
    communities: set[str] = set(actor.staff_communities())
    desks: set[tuple[AssigneeKind, str]] = set()
    for grant in actor.grants:
        if grant.role is Role.GRID_WORKER and grant.scope.kind is ScopeKind.GRID:
            desks.add((AssigneeKind.GRID_WORKER, grant.scope.code))
        elif grant.role is Role.LIAISON and grant.scope.kind is ScopeKind.DEPARTMENT:
            desks.add((AssigneeKind.DEPARTMENT, grant.scope.code))
    communities |= set(admin_communities(actor, places))
    return communities, desks


def may_queue(actor: Actor, places: Places) -> bool:
    """Whether ``actor`` has any queue at all (staff, grid worker, liaison, admin)."""
    communities, desks = _desks(actor, places)
    return bool(communities or desks)


async def queue_of(
    uow: UnitOfWork, actor: Actor, places: Places, *, offset: int = 0, limit: int = QUEUE_PAGE
) -> QueuePage:
    """The open reports ``actor`` may act on, oldest first: their communities' (staff,
    admins), their grids' and their departments' desks, each report once."""
    communities, desks = _desks(actor, places)
    wanted = offset + limit + 1
    lists: list[list[Report]] = []
    async with uow:
        for code in sorted(communities):
            lists.append(await uow.reports.open_in_community(code, limit=wanted))
        for kind, code in sorted(desks):
            lists.append(await uow.reports.open_for_assignee(kind, code, limit=wanted))
    merged: list[Report] = []
    seen: set[int | None] = set()
    for report in heapq.merge(*lists, key=lambda r: (r.created_at, r.id or 0)):
        if report.id in seen:
            continue
        seen.add(report.id)
        merged.append(report)
    page = merged[offset : offset + limit]
    return QueuePage(page, len(merged) > offset + limit, offset)


# -- reassigning ----------------------------------------------------------------------------


def reassign_targets(report: Report, places: Places) -> list[Assignee]:
    """Where a report can be sent: the compound's grid, the community, the township,
    each department — all but the desk it is on."""
    targets: list[Assignee] = []
    grid = next((g for g in places.grids if report.compound_code in g.compound_codes), None)
    if grid is not None:
        targets.append(Assignee(AssigneeKind.GRID_WORKER, grid.code))
    targets.append(Assignee(AssigneeKind.COMMUNITY, report.community_code))
    community = next((c for c in places.communities if c.code == report.community_code), None)
    if community is not None:
        targets.append(Assignee(AssigneeKind.TOWNSHIP, community.township_code))
    targets.extend(Assignee(AssigneeKind.DEPARTMENT, d.code) for d in places.departments)
    here = (report.assignee.kind, report.assignee.code)
    return [t for t in targets if (t.kind, t.code) != here]


@dataclass(frozen=True)
class DeadlineRules:
    """What recomputing deadlines needs: the periods per category and the working days."""

    policy: DeadlinePolicy
    calendar: WorkingCalendar
    confirm_fixed_days: int = 7
    """``[reports] confirm_fixed_days``: an unanswered "Is it fixed?" closes the report
    after this many days (:mod:`civic.reports_expiry`)."""


# -- acting ------------------------------------------------------------------------------------


class HandleOutcome(StrEnum):
    DONE = "done"
    REPLAYED = "replayed"
    """This update was applied already (redelivered): nothing changed again."""
    NOT_FOUND = "not_found"
    REFUSED = "refused"
    """Not this person's to act on (:attr:`HandleResult.refusal` says why)."""
    STALE = "stale"
    """The report moved on since the card was shown (or someone else was faster)."""
    NOTE_EMPTY = "note_empty"
    NOTE_TOO_LONG = "note_too_long"
    BAD_TARGET = "bad_target"
    """A reassign target that is not offered for this report."""
    STARTED = "started"
    """A typed step began (a note flow); nothing changed on the report yet."""
    SHOWN = "shown"
    """The card (or a choice of reasons or targets) may be shown: the action may go on."""


@dataclass(frozen=True)
class HandleResult:
    outcome: HandleOutcome
    report: Report | None = None
    event: ReportEvent | None = None
    refusal: Refusal | None = None
    roles: frozenset[ActorRole] = frozenset()
    flow: Flow | None = None
    desk: tuple[int, ...] | None = None
    """On a reassignment done now: everyone holding the new desk (the person
    reassigning among them if they do; they are not told). Empty: nobody holds it
    in the bot yet, the report waits there unseen, so the handler tells the person
    reassigning (another desk, or tell them another way)."""


AUDIT_HANDLED: Final = "reports.handle"
"""The audit action of every staff action on a report (:mod:`civic.audit`); its details
say which (``action``), the report's number, the new state, a reason or a target."""


def check_note(text: str | None, *, required: bool) -> tuple[HandleOutcome | None, str | None]:
    """A typed note, trimmed; an outcome when it cannot be used."""
    cleaned = (text or "").strip()
    if not cleaned:
        return (HandleOutcome.NOTE_EMPTY, None) if required else (None, None)
    if len(cleaned) > MAX_NOTE_CHARS:
        return HandleOutcome.NOTE_TOO_LONG, cleaned
    return None, cleaned


async def _replayed(uow: UnitOfWork, report_id: int, update_id: int | None) -> ReportEvent | None:
    if update_id is None:
        return None
    events = await uow.reports.events(report_id)
    return next((e for e in events if e.update_id == update_id), None)


def _gate(
    actor: Actor,
    report: Report | None,
    action: ReportAction,
    seen_state: ReportState | None,
    places: Places,
) -> HandleResult | None:
    """The refusals every action shares; ``None`` when it may go ahead."""
    if report is None:
        return HandleResult(HandleOutcome.NOT_FOUND)
    roles = roles_on_report(actor, report, places)
    if action is ReportAction.ANSWER:
        if ActorRole.REPORTER not in roles:
            return HandleResult(HandleOutcome.REFUSED, report, refusal=Refusal.NOT_YOURS)
    elif roles.isdisjoint(_WORKER_ROLES):
        unnamed = replace(report, assignee=replace(report.assignee, user_id=None))
        at_desk = not roles_on_report(actor, unnamed, places).isdisjoint(_WORKER_ROLES)
        if at_desk and seen_state is not None and report.state is not seen_state:
            # Their card, pressed after a colleague took the report: out of date.
            return HandleResult(HandleOutcome.STALE, report, roles=roles)
        return HandleResult(
            HandleOutcome.REFUSED, report, refusal=refusal_of(actor, report, places), roles=roles
        )
    if seen_state is not None and report.state is not seen_state:
        return HandleResult(HandleOutcome.STALE, report, roles=roles)
    verdict, _ = decide_action(report.state, action, roles)
    if verdict is ActionVerdict.NOT_NOW:
        return HandleResult(HandleOutcome.STALE, report, roles=roles)
    if verdict is ActionVerdict.NOT_YOURS:
        refusal = Refusal.NOT_YOURS if action is ReportAction.ANSWER else Refusal.OTHER_DESK
        return HandleResult(HandleOutcome.REFUSED, report, refusal=refusal, roles=roles)
    return None


def _acting_role(
    action: ReportAction, roles: Collection[ActorRole], state: ReportState
) -> ActorRole:
    """The capacity an event records: the first of the actor's roles the lifecycle
    table lets take ``action`` from ``state`` (a reassign is staff's, even when the
    staff member is also the named assignee)."""
    if action is ReportAction.ANSWER:
        return ActorRole.REPORTER
    able = (
        r
        for r in _PRECEDENCE
        if r in roles
        and r in _WORKER_ROLES
        and decide_action(state, action, {r})[0] is ActionVerdict.ALLOWED
    )
    return next(able, next(r for r in _PRECEDENCE if r in roles))


async def handle_report(
    uow: UnitOfWork,
    actor: Actor,
    report_id: int,
    action: ReportAction,
    *,
    seen_state: ReportState | None,
    places: Places,
    now: datetime,
    update_id: int | None,
    notices: ReportNotices,
    deadlines: DeadlineRules,
    note: str | None = None,
    photos: Sequence[str] = (),
    reason: RejectReason | None = None,
    target: Assignee | None = None,
    album: str | None = None,
    desk_notices: DeskNotices | None = None,
) -> HandleResult:
    """Take ``action`` on a report from its card (accept, progress, resolve, reject,
    reassign, ask), as ``actor``; see the module docstring for the steps.

    ``seen_state``: the state the card showed; a card showing another state is
    out of date, whatever the action. ``note`` is required for progress,
    resolve and ask; ``reason`` for reject; ``target`` for reassign (one of
    :func:`reassign_targets`). ``photos``: Telegram file ids (progress, resolve), at
    most :data:`MAX_NOTE_PHOTOS`. ``album``: the media group of the captioned photo
    that took the action; the note flow then waits for the album's other photos.
    ``desk_notices``: renders the new desk's notice of a reassignment.
    """
    if action not in CARD_ACTIONS:
        raise ValueError(f"not a card action: {action}")
    problem, cleaned = check_note(note, required=action in NOTE_REQUIRED)
    if problem is not None:
        return HandleResult(problem)
    if action is ReportAction.REJECT and reason is None:
        raise ValueError("a rejection has a reason")
    async with uow:
        report = await uow.reports.get(report_id)
        if report is not None:
            replay = await _replayed(uow, report_id, update_id)
            if replay is not None:
                roles = roles_on_report(actor, report, places)
                return HandleResult(HandleOutcome.REPLAYED, report, event=replay, roles=roles)
        refused = _gate(actor, report, action, seen_state, places)
        if refused is not None or report is None:
            return refused or HandleResult(HandleOutcome.NOT_FOUND)
        roles = roles_on_report(actor, report, places)
        _, to_state = decide_action(report.state, action, roles)
        if action is ReportAction.REASSIGN and (
            target is None
            or (target.kind, target.code)
            not in {(t.kind, t.code) for t in reassign_targets(report, places)}
        ):
            return HandleResult(HandleOutcome.BAD_TARGET, report, roles=roles)
        changed = _changed(report, action, actor, to_state, now, reason, target, places, deadlines)
        if not await uow.reports.save(changed, report.state):
            return HandleResult(HandleOutcome.STALE, await uow.reports.get(report_id), roles=roles)
        event = ReportEvent(
            report_id=report_id,
            kind=action,
            actor_role=_acting_role(action, roles, report.state),
            at=now,
            to_state=changed.state,
            from_state=report.state,
            actor_id=actor.user_id,
            note=cleaned,
            reason=reason,
            assignee=changed.assignee
            if action in (ReportAction.REASSIGN, ReportAction.ACCEPT)
            else None,
            update_id=update_id,
            attachments=tuple(photos[:MAX_NOTE_PHOTOS]),
        )
        event = replace(event, id=await uow.reports.add_event(event))
        for photo in event.attachments:
            await uow.reports.add_attachment(
                Attachment(
                    report_id, photo, AttachmentKind.PHOTO, now, event.id, added_by=actor.user_id
                )
            )
        await uow.audit.record(audit_entry(changed, event, actor, update_id))
        if action is ReportAction.RESOLVE:
            await schedule_expiry(uow, changed, event, now, deadlines.confirm_fixed_days)
            await ask_filer(uow, changed, event, actor.user_id, notices, now)
        desk: tuple[int, ...] | None = None
        if action is ReportAction.REASSIGN:
            # A fresh accept deadline for the new desk (its own jobs; the old ones
            # find the deadline changed and do nothing), and the new desk is told.
            timezone = places.timezone_of(changed.community_code)
            await schedule_deadline_jobs(uow, changed, now, timezone)
            desk = tuple(await desk_holders(uow, changed))
            if desk_notices is not None and event.id is not None:
                await tell_desk(
                    uow,
                    changed,
                    event.id,
                    desk_notices,
                    now,
                    actor_id=actor.user_id,
                    reassigned=True,
                )
        await tell_reporter(uow, changed, event, notices, now)
        await _close_note_flow(uow, actor.user_id, update_id, now, album=album, event=event)
        await uow.commit()
    return HandleResult(HandleOutcome.DONE, changed, event=event, roles=roles, desk=desk)


def _changed(
    report: Report,
    action: ReportAction,
    actor: Actor,
    to_state: ReportState | None,
    now: datetime,
    reason: RejectReason | None,
    target: Assignee | None,
    places: Places,
    deadlines: DeadlineRules,
) -> Report:
    changes: dict[str, Any] = {"updated_at": now}
    if to_state is not None:
        changes["state"] = to_state
    if action is ReportAction.ACCEPT:
        changes["assignee"] = replace(report.assignee, user_id=actor.user_id)
    elif action is ReportAction.RESOLVE:
        changes["resolved_at"] = now
    elif action is ReportAction.REJECT:
        changes["reject_reason"] = reason
        changes["closed_at"] = now
    elif action is ReportAction.REASSIGN and target is not None:
        changes["assignee"] = Assignee(target.kind, target.code)
        fresh = deadlines_after_reassign(
            Deadlines(report.accept_by, report.resolve_by),
            now,
            report.category_code,
            deadlines.policy,
            deadlines.calendar,
            places.timezone_of(report.community_code),
        )
        changes["accept_by"] = fresh.accept_by
        changes["resolve_by"] = fresh.resolve_by
    return replace(report, **changes)


def audit_entry(
    report: Report, event: ReportEvent, actor: Actor, update_id: int | None
) -> AuditEntry:
    """What the audit log keeps: the action, the report, the new state, the reason or
    target; no notes (they may name residents) and no photos. Also a staff member's
    "Is it fixed?" answer for a resident without Telegram (:mod:`civic.reports_feedback`)."""
    assert event.kind is not None
    details: dict[str, Any] = {
        "action": event.kind.value,
        "report": str(report.number),
        "to": event.to_state.value,
    }
    if event.reason is not None:
        details["reject_reason"] = event.reason.value
    if event.kind is ReportAction.REASSIGN and event.assignee is not None:
        details["target"] = f"{event.assignee.kind.value}:{event.assignee.code}"
    return AuditEntry(
        at=event.at,
        actor_id=actor.user_id,
        action=AUDIT_HANDLED,
        community_code=report.community_code,
        target_user_id=report.reporter.user_id,
        details=details,
        update_id=update_id,
    )


async def _close_note_flow(
    uow: UnitOfWork,
    user_id: int,
    update_id: int | None,
    now: datetime,
    *,
    album: str | None = None,
    event: ReportEvent | None = None,
) -> None:
    """The worker's note flow is over once the action was taken (by text or button);
    after a captioned photo of an album it waits for the album's other photos."""
    flow = await uow.flows.get(user_id, NOTE_FLOW)
    if flow is None or flow.finished:
        return
    if album is not None and event is not None and event.id is not None:
        draft = {
            **flow.draft,
            "photos": list(event.attachments),
            "album": album,
            "event_id": event.id,
        }
        await uow.flows.save(flow.moved(step=ALBUM_STEP, draft=draft, update_id=update_id, now=now))
        return
    await uow.flows.save(
        flow.moved(step=DONE_STEP, draft=flow.draft, update_id=update_id, now=now, active=False)
    )


async def check_action(
    uow: UnitOfWork,
    actor: Actor,
    report_id: int,
    action: ReportAction | None,
    seen_state: ReportState | None,
    places: Places,
) -> HandleResult:
    """Whether ``actor`` may take ``action`` now (``None``: may see the card at all),
    with the report and their roles, for the choices shown before acting (reasons,
    targets) and the card itself. Changes nothing."""
    async with uow:
        report = await uow.reports.get(report_id)
    if report is None:
        return HandleResult(HandleOutcome.NOT_FOUND)
    roles = roles_on_report(actor, report, places)
    if action is None:
        if roles.isdisjoint(_WORKER_ROLES):
            refusal = refusal_of(actor, report, places)
            return HandleResult(HandleOutcome.REFUSED, report, refusal=refusal, roles=roles)
        return HandleResult(HandleOutcome.SHOWN, report, roles=roles)
    refused = _gate(actor, report, action, seen_state, places)
    return refused or HandleResult(HandleOutcome.SHOWN, report, roles=roles)


CARD_EVENTS: Final = 3
"""The latest events a card shows: enough to follow the thread (a question, its answer)."""


@dataclass(frozen=True)
class CardDetails:
    """What cards show besides the report: photo counts and the latest events."""

    photos: Mapping[int, int]
    events: Mapping[int, list[ReportEvent]]

    def photos_of(self, report_id: int | None) -> int:
        return self.photos.get(report_id or 0, 0)

    def events_of(self, report_id: int | None) -> list[ReportEvent]:
        return self.events.get(report_id or 0, [])


async def card_details(uow: UnitOfWork, report_ids: Collection[int]) -> CardDetails:
    """Photo counts and latest events of a page of cards: two queries, whatever the page."""
    async with uow:
        photos = await uow.reports.photo_counts(report_ids)
        events = await uow.reports.latest_events(report_ids, CARD_EVENTS)
    return CardDetails(photos, events)


# -- typed steps: a worker's note, a reporter's answer -------------------------------------------


async def start_note(
    uow: UnitOfWork,
    actor: Actor,
    report_id: int,
    action: ReportAction,
    *,
    seen_state: ReportState,
    places: Places,
    now: datetime,
    update_id: int,
    message_id: int | None,
    reason: RejectReason | None = None,
) -> HandleResult:
    """A card's progress, resolve, ask or reject (with its reason) pressed: check it may
    be taken now, and wait for the typed note (:data:`NOTE_FLOW`); ``/cancel`` keeps it."""
    async with uow:
        report = await uow.reports.get(report_id)
        refused = _gate(actor, report, action, seen_state, places)
        if refused is not None or report is None:
            return refused or HandleResult(HandleOutcome.NOT_FOUND)
        draft: dict[str, Any] = {
            "report_id": report_id,
            "action": action.value,
            "seen": seen_state.value,
        }
        if reason is not None:
            draft["reason"] = reason.value
        previous = await uow.flows.get(actor.user_id, NOTE_FLOW)
        if (
            previous is not None
            and not previous.finished
            and previous.draft.get("report_id") == report_id
            and previous.draft.get("action") == action.value
        ):
            # The same note again (after /cancel): what was entered stays.
            draft = {**previous.draft, **draft}
        flow = await enter_flow(
            uow,
            actor.user_id,
            NOTE_FLOW,
            "note",
            draft,
            update_id=update_id,
            now=now,
            message_id=message_id,
        )
        await uow.commit()
    return HandleResult(
        HandleOutcome.STARTED, report, roles=roles_on_report(actor, report, places), flow=flow
    )


@dataclass(frozen=True)
class NoteDraft:
    """What a worker's note flow holds: the report, the action, the card's state."""

    report_id: int
    action: ReportAction
    seen_state: ReportState
    reason: RejectReason | None = None
    photos: tuple[str, ...] = ()
    album: str | None = None
    """Set at :data:`ALBUM_STEP`: the media group whose photos still join the event."""
    event_id: int | None = None

    @classmethod
    def of(cls, flow: Flow) -> NoteDraft | None:
        """Read the draft back; ``None`` when it is not one (never trusted blindly)."""
        data: Mapping[str, Any] = flow.draft
        report_id = data.get("report_id")
        if not isinstance(report_id, int) or isinstance(report_id, bool):
            return None
        try:
            action = ReportAction(str(data.get("action")))
            seen = ReportState(str(data.get("seen")))
            reason = None if data.get("reason") is None else RejectReason(str(data.get("reason")))
        except ValueError:
            return None
        listed = data.get("photos")
        photos = tuple(p for p in listed if isinstance(p, str)) if isinstance(listed, list) else ()
        album, event_id = data.get("album"), data.get("event_id")
        return cls(
            report_id,
            action,
            seen,
            reason,
            photos,
            album if isinstance(album, str) else None,
            event_id if isinstance(event_id, int) and not isinstance(event_id, bool) else None,
        )


class KeptPhoto(StrEnum):
    KEPT = "kept"
    FULL = "full"
    """:data:`MAX_NOTE_PHOTOS` are kept already: this one is not."""
    NO_FLOW = "no_flow"


async def keep_note_photo(
    uow: UnitOfWork, user_id: int, photo: str, now: datetime, update_id: int
) -> KeptPhoto:
    """A photo without a caption in the note flow: kept in the draft (with any kept
    before, an album's each) until the note comes."""
    async with uow:
        flow = await uow.flows.get(user_id, NOTE_FLOW)
        if flow is None or not flow.active or flow.finished or flow.step == ALBUM_STEP:
            return KeptPhoto.NO_FLOW
        draft = NoteDraft.of(flow)
        kept = list(draft.photos) if draft is not None else []
        if flow.has_seen(update_id) and photo in kept:
            return KeptPhoto.KEPT  # redelivered: kept already
        if len(kept) >= MAX_NOTE_PHOTOS:
            return KeptPhoto.FULL
        moved = flow.moved(
            step=flow.step,
            draft={**flow.draft, "photos": [*kept, photo]},
            update_id=update_id,
            now=now,
        )
        await uow.flows.save(moved)
        await uow.commit()
    return KeptPhoto.KEPT


async def add_album_photo(
    uow: UnitOfWork, user_id: int, album: str | None, photo: str, now: datetime, update_id: int
) -> KeptPhoto:
    """Another photo of the album whose captioned photo took the action: it joins that
    event. A photo of no album or another one ends the wait (``NO_FLOW``)."""
    async with uow:
        flow = await uow.flows.get(user_id, NOTE_FLOW)
        draft = None if flow is None else NoteDraft.of(flow)
        if flow is None or draft is None or flow.step != ALBUM_STEP or not flow.active:
            return KeptPhoto.NO_FLOW
        if album is None or album != draft.album or draft.event_id is None:
            await uow.flows.save(
                flow.moved(step=DONE_STEP, draft=flow.draft, update_id=None, now=now, active=False)
            )
            await uow.commit()
            return KeptPhoto.NO_FLOW
        if flow.has_seen(update_id):
            return KeptPhoto.KEPT
        if len(draft.photos) >= MAX_NOTE_PHOTOS:
            return KeptPhoto.FULL
        await uow.reports.add_attachment(
            Attachment(
                draft.report_id, photo, AttachmentKind.PHOTO, now, draft.event_id, added_by=user_id
            )
        )
        draft_data = {**flow.draft, "photos": [*draft.photos, photo]}
        await uow.flows.save(
            flow.moved(step=ALBUM_STEP, draft=draft_data, update_id=update_id, now=now)
        )
        await uow.commit()
    return KeptPhoto.KEPT


async def end_album(uow: UnitOfWork, user_id: int, now: datetime) -> None:
    """Something other than the album's photos came: the note flow ends."""
    async with uow:
        flow = await uow.flows.get(user_id, NOTE_FLOW)
        if flow is not None and flow.active and flow.step == ALBUM_STEP:
            await uow.flows.save(
                flow.moved(step=DONE_STEP, draft=flow.draft, update_id=None, now=now, active=False)
            )
            await uow.commit()


async def start_answer(
    uow: UnitOfWork,
    actor: Actor,
    report_id: int,
    places: Places,
    now: datetime,
    update_id: int,
    message_id: int | None,
) -> HandleResult:
    """The reporter pressed "Answer" under a question: their next text or photos go to
    the report (:data:`ANSWER_FLOW`)."""
    async with uow:
        report = await uow.reports.get(report_id)
        refused = _gate(actor, report, ReportAction.ANSWER, None, places)
        if refused is not None or report is None:
            return refused or HandleResult(HandleOutcome.NOT_FOUND)
        flow = await enter_flow(
            uow,
            actor.user_id,
            ANSWER_FLOW,
            "answer",
            {"report_id": report_id},
            update_id=update_id,
            now=now,
            message_id=message_id,
        )
        await uow.commit()
    return HandleResult(HandleOutcome.STARTED, report, flow=flow)


def answer_report_id(flow: Flow) -> int | None:
    value = flow.draft.get("report_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def answer_report(
    uow: UnitOfWork,
    actor: Actor,
    report_id: int,
    *,
    places: Places,
    now: datetime,
    update_id: int,
    notices: ReportNotices,
    text: str | None = None,
    photos: Iterable[str] = (),
) -> HandleResult:
    """The reporter's answer (text, or a photo with an optional caption) joins the report's
    thread; whoever handles it is told: the person named on it, and whoever asked."""
    photos = tuple(photos)
    problem, cleaned = check_note(text, required=not photos)
    if problem is not None:
        return HandleResult(problem)
    async with uow:
        report = await uow.reports.get(report_id)
        if report is not None:
            replay = await _replayed(uow, report_id, update_id)
            if replay is not None:
                roles = roles_on_report(actor, report, places)
                return HandleResult(HandleOutcome.REPLAYED, report, event=replay, roles=roles)
        refused = _gate(actor, report, ReportAction.ANSWER, None, places)
        if refused is not None or report is None:
            return refused or HandleResult(HandleOutcome.NOT_FOUND)
        events = await uow.reports.events(report_id)
        event = ReportEvent(
            report_id=report_id,
            kind=ReportAction.ANSWER,
            actor_role=ActorRole.REPORTER,
            at=now,
            to_state=report.state,
            from_state=report.state,
            actor_id=actor.user_id,
            note=cleaned,
            update_id=update_id,
            attachments=photos,
        )
        event = replace(event, id=await uow.reports.add_event(event))
        for photo in photos:
            await uow.reports.add_attachment(
                Attachment(
                    report_id, photo, AttachmentKind.PHOTO, now, event.id, added_by=actor.user_id
                )
            )
        for recipient in _told_of_answer(report, events, actor.user_id):
            await tell_worker(uow, report, event, recipient, notices, now)
        await uow.commit()
    return HandleResult(HandleOutcome.DONE, report, event=event)


def _told_of_answer(report: Report, events: Iterable[ReportEvent], reporter: int) -> list[int]:
    """The named assignee, and the person who asked the latest question."""
    recipients: list[int] = []
    if report.assignee.user_id is not None:
        recipients.append(report.assignee.user_id)
    asker = next((e.actor_id for e in reversed(list(events)) if e.kind is ReportAction.ASK), None)
    if asker is not None and asker not in recipients:
        recipients.append(asker)
    return [r for r in recipients if r != reporter]


# -- hand-over (spec 01: revoking a role hands open work to the secretary) ------------------------


async def hand_over_reports(
    uow: UnitOfWork,
    from_user_id: int,
    community_code: str | None,
    to_user_id: int | None,
    now: datetime,
) -> int:
    """The reports ``from_user_id`` accepted in the community now name the secretary
    (``None``: nobody, so whoever holds the desk takes them). States stay: the work
    goes on where it was; the report's history keeps who accepted it.

    ``community_code`` ``None`` (a liaison's or admin's role ended): in every
    community, the reports the roles they keep no longer let them handle are
    released to nobody; the rest stay theirs.
    """
    if community_code is None:
        remaining = Actor(from_user_id, tuple(await uow.roles.of_user(from_user_id)))
        places = await uow.places.load()
        taken = [
            r
            for r in await uow.reports.open_taken_anywhere(from_user_id)
            if ActorRole.ASSIGNEE not in roles_on_report(remaining, r, places)
        ]
        to_user_id = None
    else:
        taken = await uow.reports.open_taken_by(from_user_id, community_code)
    moved = 0
    for report in taken:
        if report.state not in OPEN_STATES:  # pragma: no cover - the query asks open ones
            continue
        handed = replace(report, assignee=replace(report.assignee, user_id=to_user_id))
        if await uow.reports.save(replace(handed, updated_at=now), report.state):
            moved += 1
    return moved


register_handover("reports", hand_over_reports)
