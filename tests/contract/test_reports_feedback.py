"""After resolution on SQLite and PostgreSQL: "Is it fixed?" Yes and No, the rating and the
comment, replays, stale answers, refusals, and the expiry job."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot.callbacks import CallbackCodec
from bot.i18n import Catalogs
from civic.flows import Flow
from civic.jobs import JobStatus
from civic.personal_data import erase_own_data, export_own_data
from civic.reports import ActorRole, Feedback, Report, ReportAction, Reporter, ReportState
from civic.reports_deadlines import resolve_by_after_reopen
from civic.reports_expiry import EXPIRE_JOB, expire_job_key
from civic.reports_feedback import (
    FEEDBACK_FLOW,
    FeedbackOutcome,
    FeedbackResult,
    answer_fixed,
    comment_resolution,
    expire_resolution,
    rate_resolution,
    skip_comment,
    standing_question,
)
from civic.reports_handling import HandleOutcome
from civic.reports_reminders import arrival_notice_key
from civic.roles import Actor
from handlers.reports_feedback import register_jobs
from handlers.reports_reminders import DeskOutboxNotices
from scheduler.registry import JobRegistry
from scheduler.ticker import Ticker
from storage.database import Database
from tests.contract.test_reports_handling import (
    ANN,
    ANN_ACTOR,
    BOB_ACTOR,
    COLLEAGUE,
    GRID,
    LATER,
    NOTICES,
    PLACES,
    RULES,
    STAFF_HD,
    STAFF_HD_ACTOR,
    WORKER,
    WORKER_ACTOR,
    act,
    audit_actions,
    events_of,
    file,
    grid_grant,
    outbox,
    state_of,
)
from tests.contract.test_reports_handling import db as handling_db

db = handling_db
"""The handling tests' database: places synced, the grid worker and staff granted."""

ANSWERED = LATER + timedelta(hours=2)
CATALOGS = Catalogs.load(strict=True)
CODEC = CallbackCodec(b"k" * 32)
DESK_NOTICES = DeskOutboxNotices(CATALOGS, CODEC, PLACES)


async def resolved(db: Database, **changes: object) -> tuple[Report, int]:
    """A report accepted by the worker and resolved (update 11); with its resolve event id."""
    report = await file(
        db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER), **changes
    )
    result = await act(db, WORKER_ACTOR, report, ReportAction.RESOLVE, update_id=11, note="Done")
    assert result.report is not None
    assert result.event is not None
    assert result.event.id is not None
    return result.report, result.event.id


async def answer(
    db: Database,
    report: Report,
    resolve_event_id: int,
    fixed: bool,
    *,
    actor: Actor = ANN_ACTOR,
    update_id: int = 21,
) -> FeedbackResult:
    assert report.id is not None
    return await answer_fixed(
        db.uow(),
        actor,
        report.id,
        resolve_event_id,
        fixed,
        places=PLACES,
        now=ANSWERED,
        update_id=update_id,
        notices=NOTICES,
        deadlines=RULES,
        desk_notices=DESK_NOTICES,
    )


async def rate(
    db: Database, report: Report, resolve_event_id: int, rating: int, update_id: int = 31
) -> FeedbackResult:
    assert report.id is not None
    return await rate_resolution(
        db.uow(),
        ANN_ACTOR,
        report.id,
        resolve_event_id,
        rating,
        places=PLACES,
        now=ANSWERED,
        update_id=update_id,
    )


async def feedback_of(db: Database, report: Report) -> list[Feedback]:
    async with db.uow() as uow:
        return await uow.reports.feedback(report.id or 0)


async def comment_flow(db: Database, user_id: int = ANN) -> Flow:
    async with db.uow() as uow:
        flow = await uow.flows.get(user_id, FEEDBACK_FLOW)
    assert flow is not None
    return flow


async def comment(
    db: Database, text: str, update_id: int = 41, actor: Actor = ANN_ACTOR
) -> FeedbackResult:
    return await comment_resolution(
        db.uow(),
        actor,
        await comment_flow(db, actor.user_id),
        text,
        places=PLACES,
        now=ANSWERED,
        update_id=update_id,
        notices=NOTICES,
    )


# -- the expiry is scheduled with the resolution ----------------------------------------------


async def test_resolving_schedules_the_expiry_confirm_fixed_days_later(db: Database) -> None:
    report, resolve_id = await resolved(db)

    async with db.uow() as uow:
        job = await uow.due_jobs.get(EXPIRE_JOB, expire_job_key(report.id or 0, resolve_id))

    assert job is not None
    assert job.due_at == LATER + timedelta(days=RULES.confirm_fixed_days)
    assert dict(job.payload) == {"report_id": report.id, "resolve_event_id": resolve_id}


# -- Yes ---------------------------------------------------------------------------------------


async def test_yes_closes_then_a_rating_and_a_comment_are_kept_once(db: Database) -> None:
    report, resolve_id = await resolved(db)

    yes = await answer(db, report, resolve_id, True)

    assert (yes.outcome, yes.fixed) == (FeedbackOutcome.DONE, True)
    stored = await state_of(db, report)
    assert (stored.state, stored.closed_at) == (ReportState.CLOSED, ANSWERED)
    event = (await events_of(db, report))[-1]
    assert (event.kind, event.actor_role, event.actor_id) == (
        ReportAction.CONFIRM,
        ActorRole.REPORTER,
        ANN,
    )
    assert [(f.fixed, f.rating) for f in await feedback_of(db, report)] == [(True, None)]
    async with db.uow() as uow:
        job = await uow.due_jobs.get(EXPIRE_JOB, expire_job_key(report.id or 0, resolve_id))
    assert job is not None
    # Left pending, not cancelled (no lock on the job's row after the report's): when it
    # comes due it finds the resolution answered and does nothing.
    assert job.status is JobStatus.PENDING

    assert (await rate(db, report, resolve_id, 4)).outcome is FeedbackOutcome.DONE
    assert (await rate(db, report, resolve_id, 4, 32)).outcome is FeedbackOutcome.REPLAYED
    assert (await rate(db, report, resolve_id, 2, 33)).outcome is FeedbackOutcome.ALREADY
    kept = await comment(db, "  Quick and polite  ")
    assert kept.outcome is FeedbackOutcome.DONE

    [answered] = await feedback_of(db, report)
    assert (answered.rating, answered.comment) == (4, "Quick and polite")
    assert (await comment_flow(db)).finished
    # Nobody is told of a "Yes" through the outbox: the reporter sees it on their message.
    assert len(await outbox(db)) == 1  # the resolution's notice only


async def test_yes_redelivered_changes_nothing_twice(db: Database) -> None:
    report, resolve_id = await resolved(db)
    await answer(db, report, resolve_id, True)

    again = await answer(db, report, resolve_id, True)

    assert (again.outcome, again.fixed) == (FeedbackOutcome.REPLAYED, True)
    kinds = [e.kind for e in await events_of(db, report)]
    assert kinds.count(ReportAction.CONFIRM) == 1
    assert len(await feedback_of(db, report)) == 1


async def test_skipping_the_comment_ends_the_flow(db: Database) -> None:
    report, resolve_id = await resolved(db)
    await answer(db, report, resolve_id, True)
    await rate(db, report, resolve_id, 5)

    assert report.id is not None
    other = await skip_comment(db.uow(), ANN, report.id, resolve_id + 1, ANSWERED)
    assert other is FeedbackOutcome.STALE  # another prompt's Skip ends nothing
    assert not (await comment_flow(db)).finished
    assert await skip_comment(db.uow(), ANN, report.id, resolve_id, ANSWERED) is (
        FeedbackOutcome.DONE
    )
    assert (await comment_flow(db)).finished
    # A double tap: the same prompt's Skip again shows the thanks again.
    assert await skip_comment(db.uow(), ANN, report.id, resolve_id, ANSWERED) is (
        FeedbackOutcome.REPLAYED
    )
    assert (await feedback_of(db, report))[0].comment is None


@pytest.mark.parametrize("fixed", [True, False], ids=["yes", "no"])
async def test_a_double_tap_of_yes_or_no_is_the_same_answer_again(
    db: Database, fixed: bool
) -> None:
    report, resolve_id = await resolved(db)
    await answer(db, report, resolve_id, fixed, update_id=21)

    twice = await answer(db, report, resolve_id, fixed, update_id=22)  # another update
    other = await answer(db, report, resolve_id, not fixed, update_id=23)

    # Not "out of date": the screen of the answer given shows again, nothing changes.
    assert (twice.outcome, twice.fixed) == (FeedbackOutcome.REPLAYED, fixed)
    assert (other.outcome, other.fixed) == (FeedbackOutcome.REPLAYED, fixed)
    assert [f.fixed for f in await feedback_of(db, report)] == [fixed]
    kinds = [e.kind for e in await events_of(db, report)]
    assert kinds.count(ReportAction.CONFIRM) + kinds.count(ReportAction.REOPEN) == 1
    # Someone else's press on the moved-on report is still out of date.
    assert (await answer(db, report, resolve_id, fixed, actor=BOB_ACTOR, update_id=24)).outcome is (
        FeedbackOutcome.STALE
    )


# -- No ------------------------------------------------------------------------------------------


async def test_no_reopens_with_a_new_deadline_and_tells_the_worker_what_is_wrong(
    db: Database,
) -> None:
    report, resolve_id = await resolved(db)

    no = await answer(db, report, resolve_id, False)

    assert (no.outcome, no.fixed) == (FeedbackOutcome.DONE, False)
    stored = await state_of(db, report)
    assert stored.state is ReportState.REOPENED
    assert stored.resolve_by == resolve_by_after_reopen(
        ANSWERED,
        report.category_code,
        RULES.policy,
        RULES.calendar,
        PLACES.timezone_of("HD"),
    )
    assert [(f.fixed, f.user_id) for f in await feedback_of(db, report)] == [(False, ANN)]
    reopen = (await events_of(db, report))[-1]
    assert reopen.kind is ReportAction.REOPEN
    assert (WORKER, f"reports:{report.id}:{reopen.id}:to:{WORKER}") in [
        (chat, key) for chat, key, _ in await outbox(db)
    ]

    wrong = await comment(db, "Still there by the gate")

    assert wrong.outcome is FeedbackOutcome.DONE
    assert wrong.event is not None
    thread = (await events_of(db, report))[-1]
    assert (thread.kind, thread.note) == (ReportAction.ANSWER, "Still there by the gate")
    assert (await feedback_of(db, report))[0].comment == "Still there by the gate"
    assert f"reports:{report.id}:{thread.id}:to:{WORKER}" in [k for _, k, _ in await outbox(db)]
    again = await comment(db, "Still there by the gate")
    assert again.outcome is FeedbackOutcome.REPLAYED


async def test_no_to_a_worker_who_lost_the_role_goes_to_the_desk(db: Database) -> None:
    report, resolve_id = await resolved(db)
    async with db.uow() as uow:  # revoked while resolved: the hand-over moves open ones only
        assert await uow.roles.revoke(grid_grant(WORKER), None, ANSWERED)
        await uow.commit()

    no = await answer(db, report, resolve_id, False)

    assert no.outcome is FeedbackOutcome.DONE
    stored = await state_of(db, report)
    assert (stored.state, stored.assignee.user_id) == (ReportState.REOPENED, None)
    assert no.event is not None
    assert no.event.id is not None
    told = {(chat, key) for chat, key, _ in await outbox(db)}
    assert (COLLEAGUE, arrival_notice_key(report.id or 0, no.event.id, COLLEAGUE)) in told
    assert all(chat != WORKER for chat, _ in told if "desk" in _)
    assert (WORKER, f"reports:{report.id}:{no.event.id}:to:{WORKER}") not in told


async def test_no_to_a_worker_still_at_the_desk_keeps_their_name(db: Database) -> None:
    report, resolve_id = await resolved(db)

    no = await answer(db, report, resolve_id, False)

    assert no.event is not None
    assert (await state_of(db, report)).assignee.user_id == WORKER
    told = {(chat, key) for chat, key, _ in await outbox(db)}
    assert not any(":desk:" in key for _, key in told)


async def test_an_empty_comment_is_refused_and_the_flow_waits(db: Database) -> None:
    report, resolve_id = await resolved(db)
    await answer(db, report, resolve_id, False)

    assert (await comment(db, "   ")).outcome is FeedbackOutcome.COMMENT_EMPTY
    assert (await comment(db, "x" * 1001)).outcome is FeedbackOutcome.COMMENT_TOO_LONG
    assert not (await comment_flow(db)).finished


# -- stale, refused ---------------------------------------------------------------------------


async def test_an_older_resolution_and_a_closed_report_are_out_of_date(db: Database) -> None:
    report, first = await resolved(db)
    await answer(db, report, first, False)
    reopened = await state_of(db, report)
    again = await act(
        db, WORKER_ACTOR, reopened, ReportAction.RESOLVE, update_id=12, note="Done now"
    )
    assert again.event is not None
    assert again.event.id is not None

    old = await answer(db, report, first, True, update_id=22)

    assert old.outcome is FeedbackOutcome.STALE
    assert (await state_of(db, report)).state is ReportState.RESOLVED
    assert (await rate(db, report, first, 3)).outcome is FeedbackOutcome.STALE  # it said No

    await answer(db, report, again.event.id, True, update_id=23)
    closed = await answer(db, report, again.event.id, False, update_id=24)
    # Their own "Yes" stands: the No of the same message replays it, never reopens.
    assert (closed.outcome, closed.fixed) == (FeedbackOutcome.REPLAYED, True)
    assert (await state_of(db, report)).state is ReportState.CLOSED


@pytest.mark.parametrize(
    "actor", [BOB_ACTOR, WORKER_ACTOR, STAFF_HD_ACTOR], ids=["resident", "worker", "staff"]
)
async def test_only_the_reporter_answers(db: Database, actor: Actor) -> None:
    report, resolve_id = await resolved(db)

    result = await answer(db, report, resolve_id, True, actor=actor)

    assert result.outcome is FeedbackOutcome.REFUSED
    assert (await state_of(db, report)).state is ReportState.RESOLVED
    assert await feedback_of(db, report) == []


async def test_the_filer_answers_for_a_resident_without_telegram(db: Database) -> None:
    on_behalf = Reporter(name="Grandma Li", phone="13800000000", filed_by=STAFF_HD)
    report, resolve_id = await resolved(db, reporter=on_behalf)

    result = await answer(db, report, resolve_id, True, actor=STAFF_HD_ACTOR)

    assert result.outcome is FeedbackOutcome.DONE
    assert [(f.fixed, f.user_id) for f in await feedback_of(db, report)] == [(True, STAFF_HD)]
    assert await audit_actions(db) == ["confirm", "resolve"]  # newest first; staff acted


async def test_the_filers_data_erasure_leaves_the_residents_answer(db: Database) -> None:
    on_behalf = Reporter(name="Grandma Li", phone="13800000000", filed_by=STAFF_HD)
    report, resolve_id = await resolved(db, reporter=on_behalf)
    await answer(db, report, resolve_id, False, actor=STAFF_HD_ACTOR)
    assert (await comment(db, "The lift still stops", actor=STAFF_HD_ACTOR)).outcome is (
        FeedbackOutcome.DONE
    )

    exported = json.loads(await export_own_data(db.uow(read_only=True), STAFF_HD, ANSWERED))
    await erase_own_data(db.uow(), STAFF_HD, ANSWERED)

    assert exported["report_feedback"] == []  # the resident's answer, not the filer's data
    [kept] = await feedback_of(db, report)
    assert (kept.fixed, kept.user_id, kept.comment) == (False, STAFF_HD, "The lift still stops")


async def test_the_filer_is_asked_when_someone_else_resolves_an_on_behalf_report(
    db: Database,
) -> None:
    on_behalf = Reporter(name="Grandma Li", phone="13800000000", filed_by=STAFF_HD)
    report, resolve_id = await resolved(db, reporter=on_behalf)

    told = [(chat, key) for chat, key, _ in await outbox(db)]

    assert told == [(STAFF_HD, f"reports:{report.id}:{resolve_id}:to:{STAFF_HD}")]


async def test_a_filer_who_resolves_it_themself_is_not_told(db: Database) -> None:
    on_behalf = Reporter(name="Grandma Li", phone="13800000000", filed_by=STAFF_HD)
    report = await file(db, state=ReportState.ACCEPTED, reporter=on_behalf)

    result = await act(db, STAFF_HD_ACTOR, report, ReportAction.RESOLVE, note="Done")

    assert result.outcome is HandleOutcome.DONE
    assert await outbox(db) == []


async def test_a_residents_own_answer_is_not_audited(db: Database) -> None:
    report, resolve_id = await resolved(db)

    await answer(db, report, resolve_id, False)

    assert await audit_actions(db) == ["resolve"]  # the resolve only: residents are not audited


# -- the expiry ----------------------------------------------------------------------------------


async def test_an_unanswered_resolution_expires_and_the_reporter_is_told(db: Database) -> None:
    report, resolve_id = await resolved(db)
    due = LATER + timedelta(days=RULES.confirm_fixed_days)

    async with db.uow() as uow:
        assert await expire_resolution(uow, report.id or 0, resolve_id, due, NOTICES)
        await uow.commit()

    stored = await state_of(db, report)
    assert (stored.state, stored.closed_at) == (ReportState.CLOSED, due)
    expired = (await events_of(db, report))[-1]
    assert (expired.kind, expired.actor_role) == (ReportAction.EXPIRE, ActorRole.SYSTEM)
    assert (ANN, f"reports:{report.id}:{expired.id}") in [(c, k) for c, k, _ in await outbox(db)]
    assert await feedback_of(db, report) == []  # no answer is not an answer
    late = await answer(db, report, resolve_id, True, update_id=25)
    assert late.outcome is FeedbackOutcome.STALE


async def test_the_expiry_of_a_reopened_resolution_does_nothing(db: Database) -> None:
    report, resolve_id = await resolved(db)
    await answer(db, report, resolve_id, False)

    async with db.uow() as uow:
        assert not await expire_resolution(uow, report.id or 0, resolve_id, ANSWERED, NOTICES)

    assert (await state_of(db, report)).state is ReportState.REOPENED


async def test_reopened_and_resolved_again_the_old_resolutions_expiry_does_nothing(
    db: Database,
) -> None:
    report, first = await resolved(db)
    await answer(db, report, first, False)
    again = await act(
        db, WORKER_ACTOR, await state_of(db, report), ReportAction.RESOLVE, update_id=12, note="Now"
    )
    assert again.event is not None
    due = LATER + timedelta(days=RULES.confirm_fixed_days)

    async with db.uow() as uow:
        assert not await expire_resolution(uow, report.id or 0, first, due, NOTICES)

    assert (await state_of(db, report)).state is ReportState.RESOLVED
    late = await standing_question(db.uow(read_only=True), ANN_ACTOR, report.id or 0, places=PLACES)
    assert (late.outcome, late.event) == (FeedbackOutcome.DONE, again.event)


async def test_the_expiry_runs_once_through_the_scheduler(db: Database) -> None:
    report, resolve_id = await resolved(db)
    jobs = JobRegistry()
    register_jobs(jobs, SimpleNamespace(catalogs=CATALOGS, buttons=CODEC, places=PLACES))  # type: ignore[arg-type]
    ticker = Ticker(db, jobs)
    due = LATER + timedelta(days=RULES.confirm_fixed_days)

    early = await ticker.tick(due - timedelta(minutes=1))
    assert early.total == 0
    assert (await state_of(db, report)).state is ReportState.RESOLVED

    first = await ticker.tick(due)
    second = await ticker.tick(due + timedelta(days=1))

    assert first.total == 1
    assert second.total == 0
    assert (await state_of(db, report)).state is ReportState.CLOSED
    expiries = [e for e in await events_of(db, report) if e.kind is ReportAction.EXPIRE]
    assert len(expiries) == 1
    async with db.uow() as uow:
        job = await uow.due_jobs.get(EXPIRE_JOB, expire_job_key(report.id or 0, resolve_id))
    assert job is not None
    assert job.status is JobStatus.DONE
    told = [chat for chat, key, _ in await outbox(db) if key.endswith(f":{expiries[0].id}")]
    assert told == [ANN]


async def test_a_resolution_awaiting_the_answer_can_be_asked_again(db: Database) -> None:
    report, resolve_id = await resolved(db)

    asked = await standing_question(
        db.uow(read_only=True), ANN_ACTOR, report.id or 0, places=PLACES
    )
    other = await standing_question(
        db.uow(read_only=True), BOB_ACTOR, report.id or 0, places=PLACES
    )
    await answer(db, report, resolve_id, True)
    answered = await standing_question(
        db.uow(read_only=True), ANN_ACTOR, report.id or 0, places=PLACES
    )

    assert asked.outcome is FeedbackOutcome.DONE
    assert asked.event is not None
    assert asked.event.id == resolve_id
    assert other.outcome is FeedbackOutcome.REFUSED
    assert answered.outcome is FeedbackOutcome.STALE


# -- storage -----------------------------------------------------------------------------------


async def test_a_rating_and_a_comment_are_set_once_and_only_on_an_answer(db: Database) -> None:
    report, resolve_id = await resolved(db)
    async with db.uow() as uow:
        assert not await uow.reports.rate_feedback(resolve_id, 5)  # nobody answered yet
        await uow.reports.add_feedback(Feedback(report.id or 0, resolve_id, True, ANSWERED))
        assert await uow.reports.rate_feedback(resolve_id, 5)
        assert not await uow.reports.rate_feedback(resolve_id, 1)
        assert await uow.reports.comment_feedback(resolve_id, "fine")
        assert not await uow.reports.comment_feedback(resolve_id, "changed my mind")
        await uow.commit()

    [stored] = await feedback_of(db, report)
    assert (stored.rating, stored.comment) == (5, "fine")
