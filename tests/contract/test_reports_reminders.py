"""Report deadline jobs on SQLite and PostgreSQL, through the real ticker and job handlers.

Filing (and reassigning) schedules them in its unit of work and tells the desk;
a tick at the reminder's moment reminds the desk, a tick past the deadline
escalates to the secretary; each exactly once, however often ticks run or the
process restarts (a new :class:`~scheduler.ticker.Ticker` on the same database),
and a deadline moved by a reassignment leaves the old jobs with nothing to do.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.callbacks import CallbackCodec
from bot.i18n import Catalogs
from civic.jobs import JobStatus
from civic.places import sync_places
from civic.reports import ActorRole, Report, ReportAction, ReportEvent, ReportState
from civic.reports_filing import Answer, FileOutcome, FileResult, SubmitReport, answer_report
from civic.reports_handling import HandleResult, handle_report
from civic.reports_reminders import ESCALATE_JOB, REMIND_JOB, Deadline, job_key
from civic.reports_routing import Assignee, AssigneeKind
from civic.roles import Actor, Grant, Position, Role, Scope, ScopeKind
from handlers.reports_reminders import DeskOutboxNotices, register_jobs
from scheduler.registry import JobRegistry
from scheduler.ticker import Ticker
from storage import tables
from storage.database import Database
from tests.contract.test_reports_filing import ANN, NOW, PLACES, POLICY, Filer, a_resident, fill
from tests.contract.test_reports_handling import NOTICES, RULES

CATALOGS = Catalogs.load(strict=True)
CODEC = CallbackCodec(b"k" * 32)
DESK = DeskOutboxNotices(CATALOGS, CODEC, PLACES)

WORKER, COLLEAGUE, OTHER_GRID, STAFF, SECRETARY = 5001, 5002, 5003, 5004, 5005
# Filed Wednesday 25 November 2026, 10:00 in Tongren (NOW): accept by Thursday 18:00.
ACCEPT_BY = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
REMIND_AT = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thursday 09:00 local
AFTER_ACCEPT_BY = ACCEPT_BY + timedelta(minutes=1)


def grant(user_id: int, role: Role, kind: ScopeKind, code: str, position: Position | None) -> Grant:
    return Grant(user_id, role, Scope(kind, code), "HD", position, granted_at=NOW)


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    async with database.uow() as uow:
        await uow.residents.add(a_resident(ANN))
        await uow.residents.add(a_resident(WORKER))  # reads English; the others Chinese
        for g in (
            grant(WORKER, Role.GRID_WORKER, ScopeKind.GRID, "HD-G1", None),
            grant(COLLEAGUE, Role.GRID_WORKER, ScopeKind.GRID, "HD-G1", None),
            grant(OTHER_GRID, Role.GRID_WORKER, ScopeKind.GRID, "HD-G2", None),
            grant(STAFF, Role.STAFF, ScopeKind.COMMUNITY, "HD", Position.CLERK),
            grant(SECRETARY, Role.STAFF, ScopeKind.COMMUNITY, "HD", Position.SECRETARY),
        ):
            await uow.roles.add(g)
        await uow.commit()
    return database


class DeskFiler(Filer):
    """A resident filing through the real flow, the desk told as the handler does."""

    async def answer(self, answer: Answer, *, update_id: int | None = None) -> FileResult:
        if update_id is None:
            self.update_id += 1
            update_id = self.update_id
        return await answer_report(
            self.db.uow(),
            await self.actor(),
            answer,
            PLACES,
            POLICY,
            self.now,
            update_id,
            None,
            desk_notices=DESK,
        )


async def file_report(db: Database) -> Report:
    ann = DeskFiler(db, ANN, 1000)
    await ann.start()
    await fill(ann)
    submitted = await ann.answer(SubmitReport())
    assert submitted.outcome is FileOutcome.SUBMITTED
    assert submitted.report is not None
    return submitted.report


def ticker(db: Database) -> Ticker:
    """A new ticker, as a restarted process builds it (the real job handlers)."""
    jobs = JobRegistry()
    services = SimpleNamespace(catalogs=CATALOGS, buttons=CODEC, places=PLACES)
    register_jobs(jobs, services)  # type: ignore[arg-type]
    return Ticker(db, jobs)


async def sent(db: Database) -> list[tuple[int, str, str]]:
    """Every outbox row: recipient, dedupe key, text."""
    async with db.uow(read_only=True) as uow:
        rows = await uow.connection.execute(
            select(
                tables.outbox.c.chat_id, tables.outbox.c.dedupe_key, tables.outbox.c.payload
            ).order_by(tables.outbox.c.id)
        )
        return [(int(r.chat_id), str(r.dedupe_key), json.loads(r.payload)["text"]) for r in rows]


async def system_events(db: Database, report: Report) -> list[ReportAction | None]:
    async with db.uow(read_only=True) as uow:
        events = await uow.reports.events(report.id or 0)
    return [e.kind for e in events if e.actor_role is ActorRole.SYSTEM]


async def status(db: Database, kind: str, key: str) -> JobStatus | None:
    async with db.uow(read_only=True) as uow:
        job = await uow.due_jobs.get(kind, key)
    return None if job is None else job.status


async def test_filing_tells_the_grid_workers_of_the_grid_and_schedules_both_deadlines(
    db: Database,
) -> None:
    report = await file_report(db)

    told = [(chat, text) for chat, key, text in await sent(db) if ":desk:" in key]
    assert sorted(chat for chat, _ in told) == [WORKER, COLLEAGUE]  # not HD-G2's, not staff
    assert all(str(report.number) in text for _, text in told)
    assert "Accept by" in dict(told)[WORKER]  # each in their language
    assert "前受理" in dict(told)[COLLEAGUE]
    accept_key = job_key(report.id or 0, Deadline.ACCEPT, ACCEPT_BY)
    assert await status(db, REMIND_JOB, accept_key) is JobStatus.PENDING
    assert await status(db, ESCALATE_JOB, accept_key) is JobStatus.PENDING
    resolve_key = job_key(report.id or 0, Deadline.RESOLVE, report.resolve_by)
    assert await status(db, ESCALATE_JOB, resolve_key) is JobStatus.PENDING


async def test_the_reminder_and_the_escalation_each_go_out_once_across_ticks_and_restarts(
    db: Database,
) -> None:
    report = await file_report(db)
    before = len(await sent(db))

    await ticker(db).tick(REMIND_AT)
    await ticker(db).tick(REMIND_AT + timedelta(minutes=5))  # a restart, ticking again
    reminders = [(c, t) for c, k, t in await sent(db) if k.startswith(REMIND_JOB)]
    assert sorted(c for c, _ in reminders) == [WORKER, COLLEAGUE]
    assert "must be accepted today" in dict(reminders)[WORKER]
    assert "今天须受理" in dict(reminders)[COLLEAGUE]

    first = ticker(db)
    await first.tick(AFTER_ACCEPT_BY)
    await first.tick(AFTER_ACCEPT_BY + timedelta(minutes=1))
    await ticker(db).tick(AFTER_ACCEPT_BY + timedelta(hours=1))
    escalations = [(c, t) for c, k, t in await sent(db) if k.startswith(ESCALATE_JOB)]
    assert [c for c, _ in escalations] == [SECRETARY]
    assert "超时未受理" in escalations[0][1]
    assert len(await sent(db)) == before + 3
    assert await system_events(db, report) == [ReportAction.REMIND, ReportAction.ESCALATE]


async def test_after_downtime_past_the_deadline_only_the_escalation_goes_out(
    db: Database,
) -> None:
    report = await file_report(db)
    accept_key = job_key(report.id or 0, Deadline.ACCEPT, ACCEPT_BY)

    await ticker(db).tick(AFTER_ACCEPT_BY + timedelta(hours=20))  # down through the deadline
    await ticker(db).tick(AFTER_ACCEPT_BY + timedelta(hours=21))

    assert await status(db, REMIND_JOB, accept_key) is JobStatus.SKIPPED
    assert await status(db, ESCALATE_JOB, accept_key) is JobStatus.DONE
    keys = [k for _, k, _ in await sent(db)]
    assert [k for k in keys if k.startswith(REMIND_JOB)] == []
    assert len([k for k in keys if k.startswith(ESCALATE_JOB)]) == 1
    assert await system_events(db, report) == [ReportAction.ESCALATE]


async def test_an_accepted_report_is_not_escalated_for_its_accept_deadline(db: Database) -> None:
    report = await file_report(db)
    async with db.uow() as uow:
        await uow.reports.save(
            replace(report, state=ReportState.ACCEPTED, updated_at=NOW), ReportState.SUBMITTED
        )
        await uow.commit()

    await ticker(db).tick(AFTER_ACCEPT_BY)

    accept_key = job_key(report.id or 0, Deadline.ACCEPT, ACCEPT_BY)
    assert await status(db, ESCALATE_JOB, accept_key) is JobStatus.DONE  # ran, did nothing
    assert [k for _, k, _ in await sent(db) if k.startswith(ESCALATE_JOB)] == []
    assert await system_events(db, report) == []


async def test_a_reassignment_tells_the_new_desk_and_leaves_the_old_jobs_nothing_to_do(
    db: Database,
) -> None:
    report = await file_report(db)
    staff = Actor(STAFF, (grant(STAFF, Role.STAFF, ScopeKind.COMMUNITY, "HD", Position.CLERK),))
    reassigned_at = REMIND_AT + timedelta(hours=2)  # Thursday 11:00 local

    result = await handle_report(
        db.uow(),
        staff,
        report.id or 0,
        ReportAction.REASSIGN,
        seen_state=ReportState.SUBMITTED,
        places=PLACES,
        now=reassigned_at,
        update_id=9000,
        notices=NOTICES,
        deadlines=RULES,
        target=Assignee(AssigneeKind.COMMUNITY, "HD"),
        desk_notices=DESK,
    )

    assert result.report is not None
    new_accept_by = result.report.accept_by
    assert new_accept_by > ACCEPT_BY  # Friday 18:00
    desk = [c for c, k, _ in await sent(db) if ":desk:" in k and c not in (WORKER, COLLEAGUE)]
    assert desk == [SECRETARY]  # the community's office, but not who reassigned it

    await ticker(db).tick(AFTER_ACCEPT_BY)  # the old accept deadline passes
    old_key = job_key(report.id or 0, Deadline.ACCEPT, ACCEPT_BY)
    assert await status(db, ESCALATE_JOB, old_key) is JobStatus.DONE
    assert [k for _, k, _ in await sent(db) if k.startswith(ESCALATE_JOB)] == []

    await ticker(db).tick(new_accept_by + timedelta(minutes=1))
    await ticker(db).tick(new_accept_by + timedelta(minutes=2))
    escalated = [(c, k) for c, k, _ in await sent(db) if k.startswith(ESCALATE_JOB)]
    assert escalated == [
        (
            SECRETARY,
            f"{ESCALATE_JOB}:{job_key(report.id or 0, Deadline.ACCEPT, new_accept_by)}"
            f":to:{SECRETARY}",
        )
    ]
    assert (await system_events(db, report)).count(ReportAction.ESCALATE) == 1


async def test_without_a_secretary_the_community_staff_hear_of_the_missed_deadline(
    db: Database,
) -> None:
    async with db.uow() as uow:
        secretary = next(g for g in await uow.roles.in_community("HD") if g.user_id == SECRETARY)
        await uow.roles.revoke(secretary, None, NOW)
        await uow.commit()
    await file_report(db)

    await ticker(db).tick(AFTER_ACCEPT_BY)

    escalated = sorted(c for c, k, _ in await sent(db) if k.startswith(ESCALATE_JOB))
    assert escalated == [STAFF]


async def test_a_report_event_records_the_system_as_actor(db: Database) -> None:
    report = await file_report(db)

    await ticker(db).tick(AFTER_ACCEPT_BY)

    async with db.uow(read_only=True) as uow:
        events = await uow.reports.events(report.id or 0)
    escalation: ReportEvent = events[-1]
    assert escalation.kind is ReportAction.ESCALATE
    assert (escalation.actor_role, escalation.actor_id) == (ActorRole.SYSTEM, None)
    assert escalation.from_state is escalation.to_state is ReportState.SUBMITTED


async def reassign(
    db: Database, report: Report, target: Assignee, at: datetime, update_id: int
) -> HandleResult:
    """Staff (not the secretary) reassigns the report from its card, the desk told."""
    staff = Actor(STAFF, (grant(STAFF, Role.STAFF, ScopeKind.COMMUNITY, "HD", Position.CLERK),))
    return await handle_report(
        db.uow(),
        staff,
        report.id or 0,
        ReportAction.REASSIGN,
        seen_state=ReportState.SUBMITTED,
        places=PLACES,
        now=at,
        update_id=update_id,
        notices=NOTICES,
        deadlines=RULES,
        target=target,
        desk_notices=DESK,
    )


async def test_a_report_reassigned_after_its_resolve_deadline_is_escalated_once_more(
    db: Database,
) -> None:
    report = await file_report(db)
    await ticker(db).tick(report.resolve_by + timedelta(minutes=1))  # Wed 2 Dec: both missed
    before = [k for _, k, _ in await sent(db) if k.startswith(ESCALATE_JOB)]
    assert len(before) == 2  # the accept and the resolve deadline, once each
    reassigned_at = report.resolve_by + timedelta(hours=16)  # Thu 3 Dec 10:00 local

    result = await reassign(db, report, Assignee(AssigneeKind.COMMUNITY, "HD"), reassigned_at, 9100)

    assert result.report is not None
    new_accept_by = result.report.accept_by
    assert new_accept_by == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # Fri 18:00 local
    assert result.report.resolve_by == report.resolve_by
    [(_, arrival)] = [(c, t) for c, k, t in await sent(db) if ":desk:" in k and c == SECRETARY]
    assert "已超期" in arrival  # the secretary reads Chinese: overdue since 2 Dec
    assert "12月2日" in arrival
    assert "12月4日" in arrival

    for minutes in (1, 2, 60):
        await ticker(db).tick(new_accept_by + timedelta(minutes=minutes))

    after = [k for _, k, _ in await sent(db) if k.startswith(ESCALATE_JOB)]
    new_key = job_key(report.id or 0, Deadline.ACCEPT, new_accept_by)
    assert after[: len(before)] == before
    assert after[len(before) :] == [f"{ESCALATE_JOB}:{new_key}:to:{SECRETARY}"]
    assert (await system_events(db, report)).count(ReportAction.ESCALATE) == 3


async def test_a_reassignment_says_who_holds_the_new_desk_and_nobody_for_an_empty_one(
    db: Database,
) -> None:
    report = await file_report(db)
    department = Assignee(AssigneeKind.DEPARTMENT, PLACES.departments[0].code)  # no liaison

    nobody = await reassign(db, report, department, NOW + timedelta(hours=1), 9200)

    assert nobody.desk == ()
    assert [k for c, k, _ in await sent(db) if ":desk:" in k and c not in (WORKER, COLLEAGUE)] == []
    assert nobody.report is not None
    grid = Assignee(AssigneeKind.GRID_WORKER, "HD-G1")
    back = await reassign(db, nobody.report, grid, NOW + timedelta(hours=2), 9201)
    assert back.desk == (WORKER, COLLEAGUE)


async def test_a_reminder_to_a_desk_nobody_holds_records_nothing(db: Database) -> None:
    report = await file_report(db)
    department = Assignee(AssigneeKind.DEPARTMENT, PLACES.departments[0].code)
    moved = await reassign(db, report, department, NOW + timedelta(hours=1), 9300)
    assert moved.report is not None
    new_accept_by = moved.report.accept_by

    await ticker(db).tick(new_accept_by - timedelta(hours=8))  # 10:00 local on the due day
    assert [k for _, k, _ in await sent(db) if k.startswith(REMIND_JOB)] == []
    assert await system_events(db, report) == []  # no "reminded" nobody received

    await ticker(db).tick(new_accept_by + timedelta(minutes=1))
    escalated = [c for c, k, _ in await sent(db) if k.startswith(ESCALATE_JOB)]
    assert escalated == [SECRETARY]
    assert await system_events(db, report) == [ReportAction.ESCALATE]


async def test_a_secretary_late_with_their_own_report_is_not_escalated_to_the_staff_are(
    db: Database,
) -> None:
    report = await file_report(db)
    async with db.uow() as uow:
        taken = replace(
            report,
            state=ReportState.ACCEPTED,
            assignee=replace(report.assignee, user_id=SECRETARY),
            updated_at=NOW,
        )
        await uow.reports.save(taken, ReportState.SUBMITTED)
        await uow.commit()

    await ticker(db).tick(report.resolve_by + timedelta(minutes=1))

    escalated = [c for c, k, _ in await sent(db) if k.startswith(ESCALATE_JOB)]
    assert escalated == [STAFF]
