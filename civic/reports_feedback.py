"""After resolution: "Is it fixed?", the 1-5 rating, a comment, and the expiry (spec 02).

The 12345 hotline's last steps, 回访 (follow-up) and 评价 (rating): the
reporter answers the resolution they were told of.

* ``answer_fixed`` — "Yes" confirms it (``confirm`` → closed) and asks for a
  rating; "No" reopens it (``reopen`` → reopened: a new resolve deadline from
  now, its reminder jobs, the person named on the report told — or, when they no
  longer hold the desk, the name cleared and the desk told) and offers to say
  what is still wrong. Either way one feedback row records the answer to
  *that* resolution.
* ``rate_resolution`` — the 1-5 rating on that row, once.
* ``comment_resolution`` — the optional comment: after "Yes" it stays on the
  row; after "No" it also joins the report's thread (an ``answer`` event) and
  reaches the person named on the report.
* ``expire_resolution`` — the ``reports.expire`` job: a resolution nobody
  answered within ``confirm_fixed_days`` closes the report (``expire``), and the
  reporter is told.

Every button names the resolution it answers (its resolve event): a press
about an older resolution (the report was reopened and resolved again) or
about a report that is closed is *stale*, never applied to the wrong one. Only
the reporter answers (for a report filed on someone's behalf, the staff member
who filed it: :func:`civic.reports_handling.roles_on_report`). An update applied
already (its id is on an event, or the flow has seen it) changes nothing again.

No Telegram, no SQL, no clock: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from civic.flows import DONE_STEP, Flow, enter_flow
from civic.places import Places
from civic.reports import (
    ActionVerdict,
    ActorRole,
    Feedback,
    Report,
    ReportAction,
    ReportEvent,
    ReportState,
    decide_action,
)
from civic.reports_deadlines import resolve_by_after_reopen
from civic.reports_handling import (
    DeadlineRules,
    HandleOutcome,
    audit_entry,
    check_note,
    roles_on_report,
)
from civic.reports_notices import ReportNotices, tell_reporter, tell_worker
from civic.reports_reminders import DeskNotices, schedule_deadline_jobs, tell_desk
from civic.roles import Actor

if TYPE_CHECKING:
    from civic.ports import UnitOfWork

__all__ = [
    "FEEDBACK_FLOW",
    "CommentKind",
    "FeedbackDraft",
    "FeedbackOutcome",
    "FeedbackResult",
    "answer_fixed",
    "comment_resolution",
    "decide_answer",
    "expire_resolution",
    "latest_resolution",
    "rate_resolution",
    "skip_comment",
    "standing_question",
]

FEEDBACK_FLOW: Final = "reports.feedback"
"""The reporter typing the optional comment after a rating or after "No"."""


class FeedbackOutcome(StrEnum):
    DONE = "done"
    REPLAYED = "replayed"
    """This update was applied already (redelivered): nothing changed again."""
    NOT_FOUND = "not_found"
    REFUSED = "refused"
    """Not the reporter (nor the staff member who filed it for them)."""
    STALE = "stale"
    """An older resolution's button, or the report is no longer waiting for this answer."""
    ALREADY = "already"
    """This resolution was rated (or commented on) already, differently."""
    COMMENT_EMPTY = "comment_empty"
    COMMENT_TOO_LONG = "comment_too_long"


@dataclass(frozen=True)
class FeedbackResult:
    outcome: FeedbackOutcome
    report: Report | None = None
    event: ReportEvent | None = None
    """The ``confirm``/``reopen`` event (or the ``answer`` carrying a "still wrong")."""
    fixed: bool | None = None
    """The answer the resolution holds (for a replay: the one given then)."""
    flow: Flow | None = None


class CommentKind(StrEnum):
    """What the comment flow's text is about."""

    FIXED = "fixed"
    """After "Yes" and a rating: a comment on the service, kept with the rating."""
    WRONG = "wrong"
    """After "No": what is still wrong, added to the thread for the assignee."""


@dataclass(frozen=True)
class FeedbackDraft:
    """What :data:`FEEDBACK_FLOW` holds: the report, the resolution, the kind of comment."""

    report_id: int
    resolve_event_id: int
    kind: CommentKind

    def data(self) -> dict[str, object]:
        return {
            "report_id": self.report_id,
            "resolve_event_id": self.resolve_event_id,
            "kind": self.kind.value,
        }

    @classmethod
    def of(cls, flow: Flow) -> FeedbackDraft | None:
        """Read the draft back; ``None`` when it is not one (never trusted blindly)."""
        report_id = flow.draft.get("report_id")
        event_id = flow.draft.get("resolve_event_id")
        if not isinstance(report_id, int) or isinstance(report_id, bool):
            return None
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            return None
        try:
            kind = CommentKind(str(flow.draft.get("kind")))
        except ValueError:
            return None
        return cls(report_id, event_id, kind)


# -- the pure decisions ----------------------------------------------------------------------


def latest_resolution(events: Sequence[ReportEvent]) -> ReportEvent | None:
    """The report's standing resolution: its last ``resolve`` event (events oldest first)."""
    return next((e for e in reversed(events) if e.kind is ReportAction.RESOLVE), None)


def decide_answer(
    report: Report,
    events: Sequence[ReportEvent],
    resolve_event_id: int,
    roles: frozenset[ActorRole],
    action: ReportAction,
) -> FeedbackOutcome | None:
    """Whether "Yes" (``confirm``) or "No" (``reopen``) about ``resolve_event_id`` may be
    given now by someone in ``roles``; ``None`` when it may.

    Stale before refused, as :func:`civic.reports.decide_action`: a button of an
    older resolution says the report moved on, whoever pressed it.
    """
    if action not in (ReportAction.CONFIRM, ReportAction.REOPEN):
        raise ValueError(f"not an answer to 'Is it fixed?': {action}")
    standing = latest_resolution(events)
    if report.state is not ReportState.RESOLVED or standing is None:
        return FeedbackOutcome.STALE
    if standing.id != resolve_event_id:
        return FeedbackOutcome.STALE
    verdict, _ = decide_action(report.state, action, roles)
    if verdict is ActionVerdict.NOT_NOW:  # pragma: no cover - resolved allows both
        return FeedbackOutcome.STALE
    if verdict is ActionVerdict.NOT_YOURS:
        return FeedbackOutcome.REFUSED
    return None


def _answer_of(feedback: Sequence[Feedback], resolve_event_id: int) -> Feedback | None:
    return next((f for f in feedback if f.resolve_event_id == resolve_event_id), None)


# -- "Is it fixed?" --------------------------------------------------------------------------


async def answer_fixed(
    uow: UnitOfWork,
    actor: Actor,
    report_id: int,
    resolve_event_id: int,
    fixed: bool,
    *,
    places: Places,
    now: datetime,
    update_id: int,
    notices: ReportNotices,
    deadlines: DeadlineRules,
    message_id: int | None = None,
    desk_notices: DeskNotices | None = None,
) -> FeedbackResult:
    """The reporter's "Yes" or "No" to one resolution, in one unit of work (see the
    module docstring). After "No" the comment flow waits for what is still wrong.

    A second press by the one who answered (a double tap: another update id) finds
    the report moved on; it is their own answer, so it is a replay (``REPLAYED``
    with the answer given), not "out of date". ``desk_notices``: after "No", a
    report naming someone who no longer holds its desk goes to the desk, told so.
    """
    action = ReportAction.CONFIRM if fixed else ReportAction.REOPEN
    async with uow:
        report = await uow.reports.get(report_id)
        if report is None:
            return FeedbackResult(FeedbackOutcome.NOT_FOUND)
        events = await uow.reports.events(report_id)
        replay = next((e for e in events if e.update_id == update_id), None)
        if replay is not None:
            return FeedbackResult(
                FeedbackOutcome.REPLAYED,
                report,
                event=replay,
                fixed=replay.kind is ReportAction.CONFIRM,
            )
        roles = roles_on_report(actor, report, places)
        refused = decide_answer(report, events, resolve_event_id, roles, action)
        if refused is FeedbackOutcome.STALE:
            return await _stale_or_given(uow, actor, report, events, resolve_event_id)
        if refused is not None:
            return FeedbackResult(refused, report)
        timezone = places.timezone_of(report.community_code)
        _, to_state = decide_action(report.state, action, roles)
        assert to_state is not None
        changed = replace(report, state=to_state, updated_at=now)
        if fixed:
            changed = replace(changed, closed_at=now)
        else:
            changed = replace(
                changed,
                resolve_by=resolve_by_after_reopen(
                    now, report.category_code, deadlines.policy, deadlines.calendar, timezone
                ),
            )
        desk_told = False
        if not fixed:
            changed, desk_told = await _released_if_gone(uow, changed, places)
        if not await uow.reports.save(changed, report.state):
            current = await uow.reports.get(report_id)
            events = await uow.reports.events(report_id)
            return await _stale_or_given(uow, actor, current or report, events, resolve_event_id)
        event = ReportEvent(
            report_id=report_id,
            kind=action,
            actor_role=ActorRole.REPORTER,
            at=now,
            to_state=changed.state,
            from_state=report.state,
            actor_id=actor.user_id,
            # Released to the desk (its handler left): the history shows where it went.
            assignee=changed.assignee if desk_told else None,
            update_id=update_id,
        )
        event = replace(event, id=await uow.reports.add_event(event))
        await uow.reports.add_feedback(
            Feedback(report_id, resolve_event_id, fixed, now, user_id=actor.user_id)
        )
        # The expiry job is left alone: it finds the resolution answered and does nothing
        # (:func:`expire_resolution`). Cancelling it here would lock the job's row after
        # the report's, the scheduler's order reversed (a deadlock on PostgreSQL).
        if report.reporter.on_behalf:
            # Staff answered for a resident without Telegram: a staff action, audited.
            await uow.audit.record(audit_entry(changed, event, actor, update_id))
        flow = None
        if not fixed:
            await schedule_deadline_jobs(uow, changed, now, timezone)
            named = changed.assignee.user_id
            if desk_told:
                assert event.id is not None
                if desk_notices is not None:
                    # "Reopened, now with you": resolve by the fresh deadline.
                    await tell_desk(
                        uow,
                        changed,
                        event.id,
                        desk_notices,
                        now,
                        actor_id=actor.user_id,
                        reassigned=True,
                    )
            elif named is not None and named != actor.user_id:
                await tell_worker(uow, changed, event, named, notices, now)
            draft = FeedbackDraft(report_id, resolve_event_id, CommentKind.WRONG)
            flow = await enter_flow(
                uow,
                actor.user_id,
                FEEDBACK_FLOW,
                CommentKind.WRONG.value,
                draft.data(),
                update_id=update_id,
                now=now,
                message_id=message_id,
            )
        await uow.commit()
    return FeedbackResult(FeedbackOutcome.DONE, changed, event=event, fixed=fixed, flow=flow)


async def _stale_or_given(
    uow: UnitOfWork,
    actor: Actor,
    report: Report,
    events: Sequence[ReportEvent],
    resolve_event_id: int,
) -> FeedbackResult:
    """``STALE``, unless ``actor`` answered this resolution already and it is still the
    report's last one: then their answer stands and the press is a replay of it (a
    double tap), shown again. An older resolution's button stays out of date."""
    standing = latest_resolution(events)
    if standing is None or standing.id != resolve_event_id:
        return FeedbackResult(FeedbackOutcome.STALE, report)
    given = _answer_of(await uow.reports.feedback(report.id or 0), resolve_event_id)
    if given is not None and given.user_id == actor.user_id:
        return FeedbackResult(FeedbackOutcome.REPLAYED, report, fixed=given.fixed)
    return FeedbackResult(FeedbackOutcome.STALE, report)


async def _released_if_gone(uow: UnitOfWork, report: Report, places: Places) -> tuple[Report, bool]:
    """A reopened report naming someone who no longer holds its desk (their role was
    revoked while it was resolved; the hand-over moves only open reports) names nobody,
    so whoever holds the desk acts on it; ``True`` when so (the desk is to be told)."""
    named = report.assignee.user_id
    if named is None:
        return report, False
    holder = Actor(named, tuple(await uow.roles.of_user(named)))
    if ActorRole.ASSIGNEE in roles_on_report(holder, report, places):
        return report, False
    return replace(report, assignee=replace(report.assignee, user_id=None)), True


async def rate_resolution(
    uow: UnitOfWork,
    actor: Actor,
    report_id: int,
    resolve_event_id: int,
    rating: int,
    *,
    places: Places,
    now: datetime,
    update_id: int,
    message_id: int | None = None,
) -> FeedbackResult:
    """The 1-5 rating of a resolution answered "Yes"; then the comment flow waits.

    Once: the same rating again (a redelivered press) is a replay, another one
    is ``ALREADY``. A resolution answered "No", or not answered, has no rating
    to give (``STALE``).
    """
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    async with uow:
        report = await uow.reports.get(report_id)
        if report is None:
            return FeedbackResult(FeedbackOutcome.NOT_FOUND)
        if ActorRole.REPORTER not in roles_on_report(actor, report, places):
            return FeedbackResult(FeedbackOutcome.REFUSED, report)
        answer = _answer_of(await uow.reports.feedback(report_id), resolve_event_id)
        if answer is None or not answer.fixed:
            return FeedbackResult(FeedbackOutcome.STALE, report)
        if answer.rating is not None:
            outcome = (
                FeedbackOutcome.REPLAYED if answer.rating == rating else FeedbackOutcome.ALREADY
            )
            return FeedbackResult(outcome, report, fixed=True)
        if not await uow.reports.rate_feedback(resolve_event_id, rating):
            return FeedbackResult(FeedbackOutcome.ALREADY, report, fixed=True)
        flow = await enter_flow(
            uow,
            actor.user_id,
            FEEDBACK_FLOW,
            CommentKind.FIXED.value,
            FeedbackDraft(report_id, resolve_event_id, CommentKind.FIXED).data(),
            update_id=update_id,
            now=now,
            message_id=message_id,
        )
        await uow.commit()
    return FeedbackResult(FeedbackOutcome.DONE, report, fixed=True, flow=flow)


async def comment_resolution(
    uow: UnitOfWork,
    actor: Actor,
    flow: Flow,
    text: str,
    *,
    places: Places,
    now: datetime,
    update_id: int,
    notices: ReportNotices,
) -> FeedbackResult:
    """The comment typed in :data:`FEEDBACK_FLOW`: kept on the resolution's feedback row;
    a "still wrong" also joins the thread (``answer``) and reaches the named assignee
    while the report is open. The flow ends."""
    draft = FeedbackDraft.of(flow)
    if draft is None:
        return FeedbackResult(FeedbackOutcome.NOT_FOUND)
    problem, cleaned = check_note(text, required=True)
    if problem is not None or cleaned is None:
        empty = problem is not HandleOutcome.NOTE_TOO_LONG
        return FeedbackResult(
            FeedbackOutcome.COMMENT_EMPTY if empty else FeedbackOutcome.COMMENT_TOO_LONG
        )
    async with uow:
        report = await uow.reports.get(draft.report_id)
        current = await uow.flows.get(actor.user_id, FEEDBACK_FLOW)
        if report is None or current is None:
            return FeedbackResult(FeedbackOutcome.NOT_FOUND)
        if current.has_seen(update_id) or current.finished:
            return FeedbackResult(FeedbackOutcome.REPLAYED, report)
        if ActorRole.REPORTER not in roles_on_report(actor, report, places):
            return FeedbackResult(FeedbackOutcome.REFUSED, report)
        stored = await uow.reports.comment_feedback(draft.resolve_event_id, cleaned)
        event = None
        if stored and draft.kind is CommentKind.WRONG:
            event = await _add_still_wrong(uow, actor, report, cleaned, now, update_id, notices)
        await uow.flows.save(
            current.moved(
                step=DONE_STEP, draft=current.draft, update_id=update_id, now=now, active=False
            )
        )
        await uow.commit()
    outcome = FeedbackOutcome.DONE if stored else FeedbackOutcome.ALREADY
    return FeedbackResult(outcome, report, event=event, fixed=draft.kind is CommentKind.FIXED)


async def _add_still_wrong(
    uow: UnitOfWork,
    actor: Actor,
    report: Report,
    note: str,
    now: datetime,
    update_id: int,
    notices: ReportNotices,
) -> ReportEvent | None:
    """What is still wrong, on the thread as the reporter's ``answer``, told to the person
    named on the report; nothing on a report no longer open to answers (closed)."""
    assert report.id is not None
    if decide_action(report.state, ReportAction.ANSWER, {ActorRole.REPORTER})[0] is not (
        ActionVerdict.ALLOWED
    ):
        return None
    event = ReportEvent(
        report_id=report.id,
        kind=ReportAction.ANSWER,
        actor_role=ActorRole.REPORTER,
        at=now,
        to_state=report.state,
        from_state=report.state,
        actor_id=actor.user_id,
        note=note,
        update_id=update_id,
    )
    event = replace(event, id=await uow.reports.add_event(event))
    named = report.assignee.user_id
    if named is not None and named != actor.user_id:
        await tell_worker(uow, report, event, named, notices, now)
    return event


async def skip_comment(
    uow: UnitOfWork, user_id: int, report_id: int, resolve_event_id: int, now: datetime
) -> FeedbackOutcome:
    """ "Skip" on the comment prompt of one resolution: no comment; the flow ends.

    ``REPLAYED`` when that very flow ended already (a double tap); ``STALE`` when no
    comment about that resolution is awaited (the button is from another prompt)."""
    async with uow:
        flow = await uow.flows.get(user_id, FEEDBACK_FLOW)
        draft = None if flow is None else FeedbackDraft.of(flow)
        if (
            flow is None
            or draft is None
            or (draft.report_id, draft.resolve_event_id) != (report_id, resolve_event_id)
        ):
            return FeedbackOutcome.STALE
        if flow.finished or not flow.active:
            return FeedbackOutcome.REPLAYED
        await uow.flows.save(
            flow.moved(step=DONE_STEP, draft=flow.draft, update_id=None, now=now, active=False)
        )
        await uow.commit()
    return FeedbackOutcome.DONE


# -- nobody answered -------------------------------------------------------------------------


async def expire_resolution(
    uow: UnitOfWork,
    report_id: int,
    resolve_event_id: int,
    now: datetime,
    notices: ReportNotices,
) -> bool:
    """The ``reports.expire`` job: close the report if ``resolve_event_id`` still stands
    unanswered, and tell the reporter; ``False`` (nothing done) otherwise.

    Runs in the job's unit of work: never commits (the ticker does, with the job's
    "done"), so a crash before that leaves both undone and the job runs again.
    """
    report = await uow.reports.get(report_id)
    if report is None or report.state is not ReportState.RESOLVED:
        return False
    standing = latest_resolution(await uow.reports.events(report_id))
    if standing is None or standing.id != resolve_event_id:
        return False
    verdict, to_state = decide_action(report.state, ReportAction.EXPIRE, {ActorRole.SYSTEM})
    if verdict is not ActionVerdict.ALLOWED or to_state is None:  # pragma: no cover - rules
        return False
    changed = replace(report, state=to_state, updated_at=now, closed_at=now)
    if not await uow.reports.save(changed, report.state):
        return False
    event = ReportEvent(
        report_id=report_id,
        kind=ReportAction.EXPIRE,
        actor_role=ActorRole.SYSTEM,
        at=now,
        to_state=to_state,
        from_state=report.state,
    )
    event = replace(event, id=await uow.reports.add_event(event))
    await tell_reporter(uow, changed, event, notices, now)
    return True


# -- asked again -------------------------------------------------------------------------------


async def standing_question(
    uow: UnitOfWork, actor: Actor, report_id: int, *, places: Places
) -> FeedbackResult:
    """The resolution of ``report_id`` awaiting ``actor``'s "Is it fixed?", to ask again
    (``/myreports``: the notice may never have arrived); ``DONE`` with the report and
    the resolve ``event``, else why not (``STALE``: nothing awaits an answer). Reads only."""
    async with uow:
        report = await uow.reports.get(report_id)
        if report is None:
            return FeedbackResult(FeedbackOutcome.NOT_FOUND)
        events = await uow.reports.events(report_id)
        roles = roles_on_report(actor, report, places)
        standing = latest_resolution(events)
        if standing is None or standing.id is None:
            return FeedbackResult(FeedbackOutcome.STALE, report)
        refused = decide_answer(report, events, standing.id, roles, ReportAction.CONFIRM)
        if refused is not None:
            return FeedbackResult(refused, report)
    return FeedbackResult(FeedbackOutcome.DONE, report, event=standing)
