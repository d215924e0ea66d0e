"""Handling reports on SQLite and PostgreSQL: each action's change, event, audit and notice;
refusals that change nothing; stale and double presses; the queue; the hand-over."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import load_config_file, places_from_config
from bot.config.places import holiday_rules_from_config
from bot.config.reports import deadline_policy_from_config
from civic import audit
from civic.handover import HANDOVERS
from civic.outbox import OutgoingMessage
from civic.places import CategoryType, sync_places
from civic.reports import (
    ActorRole,
    Attachment,
    AttachmentKind,
    RejectReason,
    Report,
    ReportAction,
    Reporter,
    ReportEvent,
    ReportState,
)
from civic.reports_handling import (
    MAX_NOTE_PHOTOS,
    NOTE_FLOW,
    DeadlineRules,
    HandleOutcome,
    HandleResult,
    KeptPhoto,
    NoteDraft,
    Refusal,
    add_album_photo,
    answer_report,
    card_details,
    hand_over_reports,
    handle_report,
    keep_note_photo,
    queue_of,
    start_answer,
    start_note,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.roles import Actor, Grant, Position, Role, Scope, ScopeKind
from civic.roles_admin import RoleNotice, RoleOutcome, RoleRequest, grant_role, revoke_role
from civic.workdays import WorkingCalendar
from handlers import flows as chat_flows
from handlers import reports_queue
from storage import tables
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

CONFIG = load_config_file(SHIPPED_CONFIG)
PLACES = places_from_config(CONFIG)
RULES = DeadlineRules(
    deadline_policy_from_config(CONFIG), WorkingCalendar(holiday_rules_from_config(CONFIG))
)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)
ANN, WORKER, COLLEAGUE, STAFF_HD, STAFF_CB, SECRETARY = 1001, 1002, 1003, 1004, 1005, 1006
LIAISON = 1007
STAFF_CB_REQUEST = RoleRequest(
    LIAISON, Role.STAFF, Scope(ScopeKind.COMMUNITY, "CB"), Position.CLERK
)
GRID = Assignee(AssigneeKind.GRID_WORKER, "HD-G1")


def grid_grant(user_id: int) -> Grant:
    return Grant(user_id, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1"), "HD")


def staff_grant(user_id: int, community: str, position: Position = Position.CLERK) -> Grant:
    return Grant(user_id, Role.STAFF, Scope(ScopeKind.COMMUNITY, community), community, position)


WORKER_ACTOR = Actor(WORKER, (grid_grant(WORKER),))
COLLEAGUE_ACTOR = Actor(COLLEAGUE, (grid_grant(COLLEAGUE),))
STAFF_HD_ACTOR = Actor(STAFF_HD, (staff_grant(STAFF_HD, "HD"),))
STAFF_CB_ACTOR = Actor(STAFF_CB, (staff_grant(STAFF_CB, "CB"),))
ANN_ACTOR = Actor(ANN)
BOB_ACTOR = Actor(4242)


class RecordingNotices:
    """Renders notices as plain payloads naming the event."""

    def to_reporter(
        self, report: Report, event: ReportEvent, language: str | None
    ) -> OutgoingMessage:
        kind = event.kind.value if event.kind else "submit"
        return OutgoingMessage(0, {"text": f"{kind} {report.number} in {language}"})

    def to_worker(
        self, report: Report, event: ReportEvent, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        return OutgoingMessage(0, {"text": f"answer on {report.number} for {recipient_id}"})


NOTICES = RecordingNotices()


def compose_notice(language: str, notice: RoleNotice) -> dict[str, Any]:
    return {"text": f"{language}:{notice.kind.value}"}


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    async with database.uow() as uow:
        for grant in (
            grid_grant(WORKER),
            grid_grant(COLLEAGUE),
            staff_grant(STAFF_HD, "HD"),
            staff_grant(STAFF_CB, "CB"),
            staff_grant(SECRETARY, "HD", Position.SECRETARY),
        ):
            await uow.roles.add(replace(grant, granted_at=NOW))
        await uow.commit()
    return database


async def file(db: Database, **changes: Any) -> Report:
    report = Report(
        community_code="HD",
        compound_code="HD-02",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish by building 2",
        reporter=Reporter(user_id=ANN),
        assignee=GRID,
        created_at=NOW,
        accept_by=NOW + timedelta(days=1),
        resolve_by=NOW + timedelta(days=7),
    )
    report = replace(report, **changes)
    async with db.uow() as uow:
        number = await uow.reports.next_number(report.community_code, 2026)
        stored = await uow.reports.add(replace(report, number=number))
        assert stored.id is not None
        await uow.reports.add_event(
            ReportEvent(stored.id, None, ActorRole.REPORTER, NOW, ReportState.SUBMITTED)
        )
        await uow.commit()
    return await state_of(db, stored)


async def act(
    db: Database,
    actor: Actor,
    report: Report,
    action: ReportAction,
    *,
    seen: ReportState | None = None,
    update_id: int = 1,
    **kwargs: Any,
) -> HandleResult:
    assert report.id is not None
    return await handle_report(
        db.uow(),
        actor,
        report.id,
        action,
        seen_state=report.state if seen is None else seen,
        places=PLACES,
        now=LATER,
        update_id=update_id,
        notices=NOTICES,
        deadlines=RULES,
        **kwargs,
    )


async def state_of(db: Database, report: Report) -> Report:
    async with db.uow() as uow:
        found = await uow.reports.get(report.id or 0)
    assert found is not None
    return found


async def events_of(db: Database, report: Report) -> list[ReportEvent]:
    async with db.uow() as uow:
        return await uow.reports.events(report.id or 0)


async def outbox(db: Database) -> list[tuple[int, str, str]]:
    async with db.uow() as uow:
        rows = await uow.connection.execute(
            select(
                tables.outbox.c.chat_id, tables.outbox.c.dedupe_key, tables.outbox.c.payload
            ).order_by(tables.outbox.c.id)
        )
        return [(int(r.chat_id), r.dedupe_key, json.loads(r.payload)["text"]) for r in rows]


async def audit_actions(db: Database) -> list[str]:
    async with db.uow() as uow:
        return [e.details["action"] for e in await uow.audit.recent(frozenset({"HD"}), 50)]


# -- each action -------------------------------------------------------------------------------


async def test_accepting_names_the_worker_records_audits_and_tells_the_reporter(
    db: Database,
) -> None:
    report = await file(db)

    result = await act(db, WORKER_ACTOR, report, ReportAction.ACCEPT)

    assert result.outcome is HandleOutcome.DONE
    stored = await state_of(db, report)
    assert stored.state is ReportState.ACCEPTED
    assert stored.assignee == replace(GRID, user_id=WORKER)
    event = (await events_of(db, report))[-1]
    assert (event.kind, event.actor_id, event.actor_role) == (
        ReportAction.ACCEPT,
        WORKER,
        ActorRole.ASSIGNEE,
    )
    assert await audit_actions(db) == ["accept"]
    assert await outbox(db) == [
        (ANN, f"reports:{report.id}:{event.id}", "accept HD-2026-0001 in None")
    ]


async def test_progress_resolve_with_photo_and_each_event_noticed(db: Database) -> None:
    report = await file(db)
    accepted = (await act(db, WORKER_ACTOR, report, ReportAction.ACCEPT, update_id=1)).report
    assert accepted is not None

    progress = await act(
        db, WORKER_ACTOR, accepted, ReportAction.PROGRESS, update_id=2, note=" On it "
    )
    assert progress.report is not None
    resolved = await act(
        db,
        WORKER_ACTOR,
        progress.report,
        ReportAction.RESOLVE,
        update_id=3,
        note="Cleared",
        photos=["photo-after"],
    )

    assert resolved.outcome is HandleOutcome.DONE
    stored = await state_of(db, report)
    assert stored.state is ReportState.RESOLVED
    assert stored.resolved_at is not None
    events = await events_of(db, report)
    assert [e.note for e in events[-2:]] == ["On it", "Cleared"]
    assert events[-1].attachments == ("photo-after",)
    assert [key for _, key, _ in await outbox(db)] == [
        f"reports:{report.id}:{e.id}" for e in events[1:]
    ]


async def test_a_note_is_required_for_progress(db: Database) -> None:
    report = await file(db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))

    result = await act(db, WORKER_ACTOR, report, ReportAction.PROGRESS, note="   ")

    assert result.outcome is HandleOutcome.NOTE_EMPTY
    assert (await state_of(db, report)).state is ReportState.ACCEPTED


async def test_rejecting_keeps_the_reason(db: Database) -> None:
    report = await file(db)

    result = await act(
        db, STAFF_HD_ACTOR, report, ReportAction.REJECT, reason=RejectReason.DUPLICATE
    )

    assert result.outcome is HandleOutcome.DONE
    stored = await state_of(db, report)
    assert (stored.state, stored.reject_reason) == (ReportState.REJECTED, RejectReason.DUPLICATE)
    assert (await events_of(db, report))[-1].actor_role is ActorRole.STAFF


async def test_reassigning_clears_the_person_and_restarts_the_accept_deadline(
    db: Database,
) -> None:
    report = await file(db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))
    target = Assignee(AssigneeKind.DEPARTMENT, PLACES.departments[0].code)

    result = await act(db, STAFF_HD_ACTOR, report, ReportAction.REASSIGN, target=target)

    assert result.outcome is HandleOutcome.DONE
    stored = await state_of(db, report)
    assert (stored.state, stored.assignee) == (ReportState.SUBMITTED, target)
    assert stored.accept_by > report.accept_by
    assert stored.resolve_by == report.resolve_by
    assert (await events_of(db, report))[-1].assignee == target


async def test_reassigning_to_a_desk_not_offered_is_refused(db: Database) -> None:
    report = await file(db)

    result = await act(db, STAFF_HD_ACTOR, report, ReportAction.REASSIGN, target=GRID)

    assert result.outcome is HandleOutcome.BAD_TARGET
    assert (await state_of(db, report)).assignee == GRID


# -- refusals, stale and double presses ---------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "refusal"),
    [
        (STAFF_CB_ACTOR, Refusal.OTHER_COMMUNITY),
        (BOB_ACTOR, Refusal.NOT_YOURS),
        (ANN_ACTOR, Refusal.NOT_YOURS),
    ],
    ids=["staff of another community", "another resident", "the reporter"],
)
async def test_refusals_change_nothing(db: Database, actor: Actor, refusal: Refusal) -> None:
    report = await file(db)

    result = await act(db, actor, report, ReportAction.ACCEPT)

    assert (result.outcome, result.refusal) == (HandleOutcome.REFUSED, refusal)
    assert await state_of(db, report) == report
    assert len(await events_of(db, report)) == 1
    assert await outbox(db) == []
    assert await audit_actions(db) == []


async def test_a_second_accept_loses_cleanly_and_sees_who_won(db: Database) -> None:
    report = await file(db)
    await act(db, WORKER_ACTOR, report, ReportAction.ACCEPT, update_id=1)

    second = await act(db, COLLEAGUE_ACTOR, report, ReportAction.ACCEPT, update_id=2)

    assert second.outcome is HandleOutcome.STALE
    assert second.report is not None
    assert second.report.assignee.user_id == WORKER
    assert len(await events_of(db, report)) == 2


async def test_a_stale_card_changes_nothing(db: Database) -> None:
    report = await file(db, state=ReportState.IN_PROGRESS, assignee=replace(GRID, user_id=WORKER))

    result = await act(
        db,
        WORKER_ACTOR,
        report,
        ReportAction.REASSIGN,
        seen=ReportState.SUBMITTED,
        target=Assignee(AssigneeKind.COMMUNITY, "HD"),
    )

    assert result.outcome is HandleOutcome.STALE
    assert await state_of(db, report) == report


async def test_the_same_update_applied_twice_changes_once(db: Database) -> None:
    report = await file(db)
    await act(db, WORKER_ACTOR, report, ReportAction.ACCEPT, update_id=7)

    again = await act(db, WORKER_ACTOR, report, ReportAction.ACCEPT, update_id=7)

    assert again.outcome is HandleOutcome.REPLAYED
    assert len(await events_of(db, report)) == 2
    assert len(await outbox(db)) == 1


async def test_on_behalf_reports_message_nobody(db: Database) -> None:
    reporter = Reporter(name="王奶奶", phone="13800000000", filed_by=STAFF_HD)
    report = await file(db, reporter=reporter)

    result = await act(db, WORKER_ACTOR, report, ReportAction.ACCEPT)

    assert result.outcome is HandleOutcome.DONE
    assert await outbox(db) == []


# -- the thread -----------------------------------------------------------------------------


async def test_a_question_and_the_reporters_photo_answer_reach_the_asker(db: Database) -> None:
    report = await file(db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))
    asked = await act(db, WORKER_ACTOR, report, ReportAction.ASK, note="Which entrance?")
    assert asked.outcome is HandleOutcome.DONE

    started = await start_answer(db.uow(), ANN_ACTOR, report.id or 0, PLACES, LATER, 10, 55)
    answered = await answer_report(
        db.uow(),
        ANN_ACTOR,
        report.id or 0,
        places=PLACES,
        now=LATER,
        update_id=11,
        notices=NOTICES,
        photos=["photo-entrance"],
    )

    assert started.outcome is HandleOutcome.STARTED
    assert answered.outcome is HandleOutcome.DONE
    last = (await events_of(db, report))[-1]
    assert (last.kind, last.actor_role, last.attachments) == (
        ReportAction.ANSWER,
        ActorRole.REPORTER,
        ("photo-entrance",),
    )
    assert (await state_of(db, report)).state is ReportState.ACCEPTED
    chats = [(chat, key) for chat, key, _ in await outbox(db)]
    assert chats[-1] == (WORKER, f"reports:{report.id}:{last.id}:to:{WORKER}")


async def test_only_the_reporter_answers(db: Database) -> None:
    report = await file(db)

    result = await answer_report(
        db.uow(),
        BOB_ACTOR,
        report.id or 0,
        places=PLACES,
        now=LATER,
        update_id=5,
        notices=NOTICES,
        text="not mine",
    )

    assert (result.outcome, result.refusal) == (HandleOutcome.REFUSED, Refusal.NOT_YOURS)
    assert len(await events_of(db, report)) == 1


async def test_a_note_flow_starts_only_when_the_action_is_allowed(db: Database) -> None:
    report = await file(db)

    refused = await start_note(
        db.uow(),
        WORKER_ACTOR,
        report.id or 0,
        ReportAction.PROGRESS,
        seen_state=ReportState.SUBMITTED,
        places=PLACES,
        now=LATER,
        update_id=3,
        message_id=9,
    )
    started = await start_note(
        db.uow(),
        WORKER_ACTOR,
        report.id or 0,
        ReportAction.ASK,
        seen_state=ReportState.SUBMITTED,
        places=PLACES,
        now=LATER,
        update_id=4,
        message_id=9,
    )

    assert refused.outcome is HandleOutcome.STALE
    assert started.outcome is HandleOutcome.STARTED
    async with db.uow() as uow:
        flow = await uow.flows.active(WORKER)
    assert flow is not None
    assert flow.name == NOTE_FLOW


# -- the queue and the hand-over ----------------------------------------------------------


async def test_the_queue_pages_oldest_first_across_desks(db: Database) -> None:
    filed = [await file(db, created_at=NOW + timedelta(minutes=i)) for i in range(7)]
    elsewhere = await file(db, assignee=Assignee(AssigneeKind.COMMUNITY, "HD"))

    first = await queue_of(db.uow(), WORKER_ACTOR, PLACES)
    second = await queue_of(db.uow(), WORKER_ACTOR, PLACES, offset=5)
    staff = await queue_of(db.uow(), STAFF_HD_ACTOR, PLACES, limit=20)
    other = await queue_of(db.uow(), STAFF_CB_ACTOR, PLACES)

    assert [r.id for r in first.reports] == [r.id for r in filed[:5]]
    assert first.more
    assert [r.id for r in second.reports] == [r.id for r in filed[5:]]
    assert not second.more
    assert elsewhere.id in {r.id for r in staff.reports}
    assert len(staff.reports) == 8
    assert other.reports == []


async def test_a_revoked_workers_accepted_reports_go_to_the_secretary(db: Database) -> None:
    taken = await file(db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))
    untouched = await file(db)

    async with db.uow() as uow:
        moved = await hand_over_reports(uow, WORKER, "HD", SECRETARY, LATER)
        await uow.commit()

    assert moved == 1
    assert "reports" in HANDOVERS.names
    stored = await state_of(db, taken)
    assert (stored.state, stored.assignee.user_id) == (ReportState.ACCEPTED, SECRETARY)
    assert await state_of(db, untouched) == untouched


async def test_revoking_a_liaison_releases_the_department_reports_they_took(db: Database) -> None:
    department = PLACES.departments[0].code
    desk = Assignee(AssigneeKind.DEPARTMENT, department, LIAISON)
    liaison = RoleRequest(LIAISON, Role.LIAISON, Scope(ScopeKind.DEPARTMENT, department))
    await grant_role(db.uow(), None, liaison, PLACES, NOW, compose_notice)
    await grant_role(db.uow(), None, STAFF_CB_REQUEST, PLACES, NOW, compose_notice)
    here = await file(db, state=ReportState.ACCEPTED, assignee=desk)
    there = await file(db, state=ReportState.IN_PROGRESS, assignee=desk)
    staffed = await file(
        db, state=ReportState.ACCEPTED, assignee=desk, community_code="CB", compound_code="CB-01"
    )

    revoked = await revoke_role(db.uow(), None, liaison, PLACES, LATER, compose_notice)

    assert revoked.outcome is RoleOutcome.DONE
    assert dict(revoked.handed_over) == {"reports": 2}
    assert (await state_of(db, here)).assignee == replace(desk, user_id=None)
    assert (await state_of(db, there)).state is ReportState.IN_PROGRESS
    assert (await state_of(db, there)).assignee.user_id is None
    # Still staff of CB: a report of CB stays theirs.
    assert (await state_of(db, staffed)).assignee.user_id == LIAISON
    async with db.uow() as uow:
        entries = await uow.audit.recent(None, 5)
    assert entries[0].action == audit.ROLES_HANDOVER
    assert entries[0].details["counts"] == {"reports": 2}


async def test_photo_counts_and_latest_events_for_a_page_of_cards(db: Database) -> None:
    one, two, none = await file(db), await file(db), await file(db)
    async with db.uow() as uow:
        for report, files in ((one, ["a", "b"]), (two, ["c"])):
            for file_id in files:
                await uow.reports.add_attachment(
                    Attachment(report.id or 0, file_id, AttachmentKind.PHOTO, NOW)
                )
        await uow.reports.add_attachment(
            Attachment(two.id or 0, "voice", AttachmentKind.VOICE, NOW)
        )
        await uow.commit()
    await act(db, WORKER_ACTOR, one, ReportAction.ACCEPT, update_id=1)
    accepted = await state_of(db, one)
    await act(db, WORKER_ACTOR, accepted, ReportAction.PROGRESS, note="on it", update_id=2)

    async with db.uow(read_only=True) as uow:
        counts = await uow.reports.photo_counts([one.id or 0, two.id or 0, none.id or 0])
        latest = await uow.reports.latest_events([one.id or 0, none.id or 0], 2)
        assert await uow.reports.photo_counts([]) == {}

    assert counts == {one.id: 2, two.id: 1}
    assert [(e.kind, e.note) for e in latest[one.id or 0]] == [
        (ReportAction.ACCEPT, None),
        (ReportAction.PROGRESS, "on it"),
    ]
    assert [e.kind for e in latest[none.id or 0]] == [None]


# -- review fixes: replays keep roles, the acting role, photos of a note ------------------------


async def test_a_replayed_update_answers_with_the_actors_roles(db: Database) -> None:
    report = await file(db, anonymous=True)
    first = await act(db, STAFF_HD_ACTOR, report, ReportAction.ASK, note="?", update_id=21)

    again = await act(db, STAFF_HD_ACTOR, report, ReportAction.ASK, note="?", update_id=21)

    assert again.outcome is HandleOutcome.REPLAYED
    assert again.roles == first.roles
    assert ActorRole.STAFF in again.roles


async def test_a_named_staff_member_reassigning_is_recorded_as_staff(db: Database) -> None:
    community = Assignee(AssigneeKind.COMMUNITY, "HD", STAFF_HD)
    report = await file(db, state=ReportState.ACCEPTED, assignee=community)
    target = Assignee(AssigneeKind.DEPARTMENT, PLACES.departments[0].code)

    result = await act(db, STAFF_HD_ACTOR, report, ReportAction.REASSIGN, target=target)

    assert result.outcome is HandleOutcome.DONE
    assert ActorRole.ASSIGNEE in result.roles
    assert (await events_of(db, report))[-1].actor_role is ActorRole.STAFF


async def start_progress(db: Database, report: Report, update_id: int) -> None:
    started = await start_note(
        db.uow(),
        WORKER_ACTOR,
        report.id or 0,
        ReportAction.PROGRESS,
        seen_state=report.state,
        places=PLACES,
        now=LATER,
        update_id=update_id,
        message_id=9,
    )
    assert started.outcome is HandleOutcome.STARTED


async def test_every_kept_photo_goes_with_the_note_up_to_ten(db: Database) -> None:
    report = await file(db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))
    await start_progress(db, report, 30)

    kept = [
        await keep_note_photo(db.uow(), WORKER, f"p{i}", LATER, 31 + i)
        for i in range(MAX_NOTE_PHOTOS + 1)
    ]
    again = await keep_note_photo(db.uow(), WORKER, "p0", LATER, 31)  # redelivered
    async with db.uow() as uow:
        flow = await uow.flows.get(WORKER, NOTE_FLOW)
    assert flow is not None
    draft = NoteDraft.of(flow)
    assert draft is not None
    result = await act(
        db,
        WORKER_ACTOR,
        report,
        ReportAction.PROGRESS,
        note="On it",
        photos=draft.photos,
        update_id=50,
    )

    assert kept == [KeptPhoto.KEPT] * MAX_NOTE_PHOTOS + [KeptPhoto.FULL]
    assert again is KeptPhoto.KEPT
    assert result.outcome is HandleOutcome.DONE
    last = (await events_of(db, report))[-1]
    assert last.attachments == tuple(f"p{i}" for i in range(MAX_NOTE_PHOTOS))


async def test_an_albums_later_photos_join_the_captioned_photos_action(db: Database) -> None:
    report = await file(db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))
    await start_progress(db, report, 60)
    await keep_note_photo(db.uow(), WORKER, "kept-before", LATER, 61)

    result = await act(
        db,
        WORKER_ACTOR,
        report,
        ReportAction.PROGRESS,
        note="Fixed the gate",
        photos=["kept-before", "album-1"],
        album="group-7",
        update_id=62,
    )
    second = await add_album_photo(db.uow(), WORKER, "group-7", "album-2", LATER, 63)
    twice = await add_album_photo(db.uow(), WORKER, "group-7", "album-2", LATER, 63)
    other = await add_album_photo(db.uow(), WORKER, "group-8", "stray", LATER, 64)
    after = await add_album_photo(db.uow(), WORKER, "group-7", "late", LATER, 65)

    assert result.outcome is HandleOutcome.DONE
    assert (second, twice, other, after) == (
        KeptPhoto.KEPT,
        KeptPhoto.KEPT,
        KeptPhoto.NO_FLOW,
        KeptPhoto.NO_FLOW,
    )
    last = (await events_of(db, report))[-1]
    assert last.attachments == ("kept-before", "album-1", "album-2")
    async with db.uow() as uow:
        flow = await uow.flows.get(WORKER, NOTE_FLOW)
    details = await card_details(db.uow(read_only=True), [report.id or 0])
    assert flow is not None
    assert not flow.active
    assert details.photos_of(report.id) == 3
    assert details.events_of(report.id)[-1].note == "Fixed the gate"


async def test_a_note_redelivered_after_it_was_applied_finds_its_finished_flow(
    db: Database,
) -> None:
    class Application:
        def add_handler(self, *args: object, **kwargs: object) -> None:
            pass

    reports_queue.register(Application())  # type: ignore[arg-type]
    report = await file(db, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))
    await start_progress(db, report, 70)
    await act(db, WORKER_ACTOR, report, ReportAction.PROGRESS, note="On it", update_id=71)
    context = SimpleNamespace(services=SimpleNamespace(database=db))

    replayed = await chat_flows._flow_for(context, WORKER, 71)  # type: ignore[arg-type]
    fresh = await chat_flows._flow_for(context, WORKER, 72)  # type: ignore[arg-type]
    again = await act(db, WORKER_ACTOR, report, ReportAction.PROGRESS, note="On it", update_id=71)

    assert replayed is not None
    assert (replayed.name, replayed.finished) == (NOTE_FLOW, True)
    assert fresh is None  # a new text after the flow ended: "no flow", as before
    assert again.outcome is HandleOutcome.REPLAYED
    assert again.roles == {ActorRole.ASSIGNEE}
