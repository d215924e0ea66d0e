"""The reports repository on SQLite and PostgreSQL: numbers, filing, lists, thread, erasure."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.config import load_config_file, places_from_config
from civic.personal_data import erase_own_data, export_own_data
from civic.places import CategoryType, sync_places
from civic.reports import (
    ERASED_TEXT,
    ActorRole,
    Attachment,
    AttachmentKind,
    Feedback,
    RejectReason,
    Report,
    ReportAction,
    Reporter,
    ReportEvent,
    ReportState,
    TrackingNumber,
)
from civic.reports_routing import Assignee, AssigneeKind
from storage.database import Database
from storage.tables import report_feedback
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
ANN = 777_000_001
BOB = 777_000_002
WORKER = 888_000_001
GRID = Assignee(AssigneeKind.GRID_WORKER, "HD-G1")


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    return database


def a_report(**changes: object) -> Report:
    report = Report(
        community_code="HD",
        compound_code="HD-02",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish piled by building 2",
        reporter=Reporter(user_id=ANN),
        assignee=GRID,
        created_at=NOW,
        accept_by=NOW + timedelta(days=1),
        resolve_by=NOW + timedelta(days=7),
        building_code="HD-02-2",
        latitude=27.7185,
        longitude=109.1885,
    )
    return replace(report, **changes)  # type: ignore[arg-type]


async def file(db: Database, report: Report | None = None) -> Report:
    """Number and store a report with its filing event, as the filing use case will."""
    report = report or a_report()
    async with db.uow() as uow:
        number = await uow.reports.next_number(report.community_code, report.created_at.year)
        stored = await uow.reports.add(replace(report, number=number))
        assert stored.id is not None
        await uow.reports.add_event(
            ReportEvent(
                stored.id,
                None,
                ActorRole.REPORTER,
                report.created_at,
                ReportState.SUBMITTED,
                actor_id=report.reporter.user_id,
                assignee=report.assignee,
            )
        )
        await uow.commit()
    return stored


# -- numbers -------------------------------------------------------------------------------


async def test_numbers_run_per_community_and_year(db: Database) -> None:
    async with db.uow() as uow:
        numbers = [
            await uow.reports.next_number("HD", 2026),
            await uow.reports.next_number("HD", 2026),
            await uow.reports.next_number("CB", 2026),
            await uow.reports.next_number("HD", 2027),
        ]
        await uow.commit()

    assert [str(n) for n in numbers] == [
        "HD-2026-0001",
        "HD-2026-0002",
        "CB-2026-0001",
        "HD-2027-0001",
    ]


async def test_a_rolled_back_filing_gives_its_number_again(db: Database) -> None:
    async with db.uow() as uow:
        assert (await uow.reports.next_number("HD", 2026)).sequence == 1
    async with db.uow() as uow:
        assert (await uow.reports.next_number("HD", 2026)).sequence == 1


async def test_two_concurrent_allocations_give_distinct_numbers(db: Database) -> None:
    first, second = db.uow(), db.uow()
    async with first, second:
        one = await first.reports.next_number("HD", 2026)
        # The second waits on the first's counter row (PostgreSQL) or write lock (SQLite).
        waiting = asyncio.create_task(second.reports.next_number("HD", 2026))
        await asyncio.sleep(0.05)
        await first.commit()
        two = await waiting
        await second.commit()

    assert {one.sequence, two.sequence} == {1, 2}


async def test_many_filings_at_once_never_share_a_number(db: Database) -> None:
    async def allocate() -> int:
        async with db.uow() as uow:
            number = await uow.reports.next_number("CB", 2026)
            await uow.commit()
        return number.sequence

    numbers = await asyncio.gather(*(allocate() for _ in range(8)))

    assert sorted(numbers) == list(range(1, 9))


# -- filing and reading back -------------------------------------------------------------------


async def test_a_filed_report_reads_back_by_id_number_and_update(db: Database) -> None:
    stored = await file(db, a_report(submit_update_id=5001, anonymous=True))

    async with db.uow(read_only=True) as uow:
        by_id = await uow.reports.get(stored.id or 0)
        by_number = await uow.reports.get_by_number(TrackingNumber("HD", 2026, 1))
        by_update = await uow.reports.filed_by_update(5001)
        missing = await uow.reports.get_by_number(TrackingNumber("HD", 2026, 2))

    assert by_id == by_number == by_update
    assert by_id is not None
    assert by_id == replace(stored, updated_at=NOW)
    assert str(by_id.number) == "HD-2026-0001"
    assert missing is None


async def test_the_same_submit_update_cannot_file_twice(db: Database) -> None:
    await file(db, a_report(submit_update_id=5001))

    with pytest.raises(IntegrityError):
        await file(db, a_report(submit_update_id=5001))


async def test_a_report_filed_on_behalf_keeps_the_name_phone_and_filer(db: Database) -> None:
    on_behalf = Reporter(name="王阿姨", phone="13800000000", filed_by=WORKER)
    stored = await file(db, a_report(reporter=on_behalf, latitude=None, longitude=None))

    async with db.uow(read_only=True) as uow:
        again = await uow.reports.get(stored.id or 0)

    assert again is not None
    assert again.reporter == on_behalf
    assert again.latitude is None


async def test_save_changes_a_report_only_from_the_state_it_was_decided_in(db: Database) -> None:
    stored = await file(db)
    accepted = replace(
        stored,
        state=ReportState.ACCEPTED,
        assignee=replace(GRID, user_id=WORKER),
        updated_at=NOW + timedelta(hours=1),
    )

    async with db.uow() as uow:
        assert await uow.reports.save(accepted, ReportState.SUBMITTED)
        assert not await uow.reports.save(accepted, ReportState.SUBMITTED)  # the second press
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        again = await uow.reports.get(stored.id or 0)

    assert again == accepted


async def test_save_never_writes_back_an_erasure_or_a_me_too_made_meanwhile(
    db: Database,
) -> None:
    stored = await file(db)
    async with db.uow(read_only=True) as uow:
        loaded = await uow.reports.get(stored.id or 0)
    assert loaded is not None
    async with db.uow() as uow:  # between load and save: BOB says "me too"
        assert await uow.reports.support(loaded.id or 0, BOB, NOW)
        await uow.commit()
    await erase_own_data(db.uow(), ANN, NOW)  # ... and ANN erases her data

    accepted = replace(loaded, state=ReportState.ACCEPTED, assignee=replace(GRID, user_id=WORKER))
    async with db.uow() as uow:
        assert await uow.reports.save(accepted, ReportState.SUBMITTED)
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        again = await uow.reports.get(stored.id or 0)

    assert again is not None
    assert again.state is ReportState.ACCEPTED
    assert again.assignee == replace(GRID, user_id=WORKER)
    assert again.reporter == Reporter(erased=True)
    assert again.description == ERASED_TEXT
    assert (again.latitude, again.longitude) == (None, None)
    assert again.supports == 1


# -- lists -----------------------------------------------------------------------------------


async def test_queues_list_open_reports_oldest_first(db: Database) -> None:
    old = await file(db, a_report(created_at=NOW - timedelta(days=3)))
    new = await file(db, a_report(created_at=NOW - timedelta(days=1)))
    department = await file(
        db,
        a_report(
            category_code="illegal_building",
            assignee=Assignee(AssigneeKind.DEPARTMENT, "ENFORCEMENT"),
        ),
    )
    closed = await file(db, a_report(created_at=NOW - timedelta(days=5)))
    await file(
        db,
        a_report(
            community_code="CB",
            compound_code="CB-01",
            building_code=None,
            assignee=Assignee(AssigneeKind.GRID_WORKER, "CB-G1"),
        ),
    )
    async with db.uow() as uow:
        await uow.reports.save(replace(closed, state=ReportState.CLOSED), ReportState.SUBMITTED)
        await uow.commit()

    async with db.uow(read_only=True) as uow:
        community = await uow.reports.open_in_community("HD", limit=10)
        page_two = await uow.reports.open_in_community("HD", limit=2, offset=2)
        grid = await uow.reports.open_for_assignee(AssigneeKind.GRID_WORKER, "HD-G1", limit=10)
        enforcement = await uow.reports.open_for_assignee(
            AssigneeKind.DEPARTMENT, "ENFORCEMENT", limit=10
        )
        count = await uow.reports.count_open_in_community("HD")

    assert [r.id for r in community] == [old.id, new.id, department.id]
    assert [r.id for r in page_two] == [department.id]
    assert [r.id for r in grid] == [old.id, new.id]
    assert [r.id for r in enforcement] == [department.id]
    assert count == 3


async def test_a_reporter_sees_their_own_reports_newest_first(db: Database) -> None:
    first = await file(db, a_report(created_at=NOW - timedelta(days=2)))
    second = await file(db)
    await file(db, a_report(reporter=Reporter(user_id=BOB)))

    async with db.uow(read_only=True) as uow:
        mine = await uow.reports.of_reporter(ANN, limit=10)

    assert [r.id for r in mine] == [second.id, first.id]


async def test_likely_duplicates_are_open_recent_and_of_the_same_compound_and_category(
    db: Database,
) -> None:
    recent = await file(db, a_report(created_at=NOW - timedelta(days=3)))
    await file(db, a_report(created_at=NOW - timedelta(days=20)))  # outside the window
    await file(db, a_report(category_code="noise"))
    await file(db, a_report(compound_code="HD-03", building_code=None))
    rejected = await file(db)
    async with db.uow() as uow:
        await uow.reports.save(
            replace(rejected, state=ReportState.REJECTED, reject_reason=RejectReason.DUPLICATE),
            ReportState.SUBMITTED,
        )
        await uow.commit()

    async with db.uow(read_only=True) as uow:
        found = await uow.reports.likely_duplicates("HD-02", "garbage", NOW - timedelta(days=14))

    assert [r.id for r in found] == [recent.id]


# -- the thread: events, attachments, "me too", feedback ----------------------------------------


async def test_events_keep_who_when_what_and_their_attachments(db: Database) -> None:
    stored = await file(db)
    report_id = stored.id or 0
    async with db.uow() as uow:
        ask = await uow.reports.add_event(
            ReportEvent(
                report_id,
                ReportAction.ASK,
                ActorRole.ASSIGNEE,
                NOW + timedelta(hours=1),
                ReportState.SUBMITTED,
                ReportState.SUBMITTED,
                actor_id=WORKER,
                note="Which side of the building?",
            )
        )
        answer = await uow.reports.add_event(
            ReportEvent(
                report_id,
                ReportAction.ANSWER,
                ActorRole.REPORTER,
                NOW + timedelta(hours=2),
                ReportState.SUBMITTED,
                ReportState.SUBMITTED,
                actor_id=ANN,
                note="North side",
            )
        )
        await uow.reports.add_attachment(
            Attachment(report_id, "photo-1", AttachmentKind.PHOTO, NOW, answer, ANN)
        )
        await uow.reports.add_event(
            ReportEvent(
                report_id,
                ReportAction.REASSIGN,
                ActorRole.STAFF,
                NOW + timedelta(hours=3),
                ReportState.SUBMITTED,
                ReportState.SUBMITTED,
                actor_id=WORKER,
                assignee=Assignee(AssigneeKind.COMMUNITY, "HD", WORKER),
            )
        )
        await uow.commit()

    async with db.uow(read_only=True) as uow:
        events = await uow.reports.events(report_id)
        attachments = await uow.reports.attachments(report_id)

    assert [e.kind for e in events] == [
        None,
        ReportAction.ASK,
        ReportAction.ANSWER,
        ReportAction.REASSIGN,
    ]
    assert events[0].assignee == GRID
    assert events[1].id == ask
    assert events[1].note == "Which side of the building?"
    assert events[2].attachments == ("photo-1",)
    assert events[3].assignee == Assignee(AssigneeKind.COMMUNITY, "HD", WORKER)
    assert [a.file_id for a in attachments] == ["photo-1"]


async def test_me_too_counts_once_per_person(db: Database) -> None:
    stored = await file(db)
    report_id = stored.id or 0

    async with db.uow() as uow:
        assert await uow.reports.support(report_id, BOB, NOW)
        assert not await uow.reports.support(report_id, BOB, NOW)
        assert await uow.reports.support(report_id, WORKER, NOW)
        assert await uow.reports.has_supported(report_id, BOB)
        assert not await uow.reports.has_supported(report_id, ANN)
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        again = await uow.reports.get(report_id)

    assert again is not None
    assert again.supports == 2


async def test_each_resolution_is_answered_once_and_ratings_stay_within_1_to_5(
    db: Database,
) -> None:
    stored = await file(db)
    report_id = stored.id or 0
    async with db.uow() as uow:
        resolved = await uow.reports.add_event(
            ReportEvent(
                report_id,
                ReportAction.RESOLVE,
                ActorRole.ASSIGNEE,
                NOW,
                ReportState.RESOLVED,
                ReportState.IN_PROGRESS,
                actor_id=WORKER,
            )
        )
        answer = Feedback(report_id, resolved, True, NOW, ANN, 4, "Thanks")
        assert await uow.reports.add_feedback(answer)
        assert not await uow.reports.add_feedback(replace(answer, rating=1))
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        assert await uow.reports.feedback(report_id) == [answer]

    async with db.uow() as uow:
        await uow.reports.add_feedback(replace(answer, rating=3))  # same event: ignored
        with pytest.raises(IntegrityError):
            await uow.connection.execute(report_feedback.update().values(rating=6))


# -- personal data ---------------------------------------------------------------------------


async def test_mydata_lists_reports_events_supports_and_feedback(db: Database) -> None:
    stored = await file(db)
    other = await file(db, a_report(reporter=Reporter(user_id=BOB)))
    async with db.uow() as uow:
        await uow.reports.support(other.id or 0, ANN, NOW)
        await uow.commit()

    document = json.loads(await export_own_data(db.uow(read_only=True), ANN, NOW))

    assert [r["tracking_number"] for r in document["reports"]] == [str(stored.number)]
    assert [e["kind"] for e in document["report_events"]] == ["submit"]
    assert [s["report_id"] for s in document["report_supports"]] == [other.id]
    assert document["report_feedback"] == []


async def test_mydata_includes_what_others_did_on_the_persons_own_reports(db: Database) -> None:
    stored = await file(db)
    other = await file(db, a_report(reporter=Reporter(user_id=BOB)))
    async with db.uow() as uow:
        for report_id, note in ((stored.id or 0, "Which side?"), (other.id or 0, "Where?")):
            await uow.reports.add_event(
                ReportEvent(
                    report_id,
                    ReportAction.ASK,
                    ActorRole.ASSIGNEE,
                    NOW,
                    ReportState.SUBMITTED,
                    ReportState.SUBMITTED,
                    actor_id=WORKER,
                    note=note,
                )
            )
        await uow.commit()

    document = json.loads(await export_own_data(db.uow(read_only=True), ANN, NOW))

    [asked] = document["report_events_by_others"]
    assert (asked["report_id"], asked["kind"], asked["actor_role"], asked["note"]) == (
        stored.id,
        "ask",
        "assignee",
        "Which side?",
    )
    assert "actor_id" not in asked
    assert str(WORKER) not in json.dumps(document["report_events_by_others"])


async def test_deleteme_keeps_reports_for_the_record_without_the_person(db: Database) -> None:
    mine = await file(db)
    report_id = mine.id or 0
    other = await file(db, a_report(reporter=Reporter(user_id=BOB)))
    on_behalf = await file(
        db, a_report(reporter=Reporter(name="王阿姨", phone="13800000000", filed_by=WORKER))
    )
    async with db.uow() as uow:
        answer = await uow.reports.add_event(
            ReportEvent(
                report_id,
                ReportAction.ANSWER,
                ActorRole.REPORTER,
                NOW,
                ReportState.SUBMITTED,
                ReportState.SUBMITTED,
                actor_id=ANN,
                note="My flat is 301",
            )
        )
        await uow.reports.add_attachment(
            Attachment(report_id, "voice-1", AttachmentKind.VOICE, NOW, answer, ANN)
        )
        staff_note = await uow.reports.add_event(
            ReportEvent(
                report_id,
                ReportAction.RESOLVE,
                ActorRole.ASSIGNEE,
                NOW,
                ReportState.RESOLVED,
                ReportState.SUBMITTED,
                actor_id=WORKER,
                note="Cleared",
            )
        )
        await uow.reports.add_feedback(Feedback(report_id, staff_note, True, NOW, ANN, 5, "Great"))
        await uow.reports.support(other.id or 0, ANN, NOW)
        await uow.commit()

    await erase_own_data(db.uow(), ANN, NOW)
    await erase_own_data(db.uow(), ANN, NOW)  # twice: nothing more, no error

    async with db.uow(read_only=True) as uow:
        kept = await uow.reports.get(report_id)
        events = await uow.reports.events(report_id)
        attachments = await uow.reports.attachments(report_id)
        feedback = await uow.reports.feedback(report_id)
        supported = await uow.reports.get(other.id or 0)
        behalf = await uow.reports.get(on_behalf.id or 0)
        theirs = await uow.reports.of_reporter(ANN, limit=10)
    after = json.loads(await export_own_data(db.uow(read_only=True), ANN, NOW))

    assert kept is not None
    assert kept.reporter == Reporter(erased=True)
    assert kept.description == ERASED_TEXT
    assert (kept.latitude, kept.longitude) == (None, None)  # the pin says where she stood
    assert kept.building_code == "HD-02-2"  # the statistics' place stays
    assert (kept.number, kept.category_code, kept.compound_code) == (
        mine.number,
        "garbage",
        "HD-02",
    )
    assert [(e.actor_id, e.note) for e in events] == [
        (None, None),
        (None, ERASED_TEXT),
        (WORKER, "Cleared"),
    ]
    assert attachments == []
    assert [(f.user_id, f.fixed, f.rating, f.comment) for f in feedback] == [
        (None, True, 5, ERASED_TEXT)
    ]
    assert supported is not None
    assert supported.supports == 0
    assert behalf is not None
    assert behalf.reporter.name == "王阿姨"
    assert theirs == []
    assert all(after[key] == [] for key in ("reports", "report_events", "report_supports"))


async def test_deleteme_by_staff_keeps_the_photos_of_their_work(db: Database) -> None:
    anns = await file(db)
    theirs = await file(db, a_report(reporter=Reporter(user_id=WORKER)))
    on_behalf = await file(
        db, a_report(reporter=Reporter(name="王阿姨", phone="13800000000", filed_by=WORKER))
    )
    async with db.uow() as uow:
        resolved = await uow.reports.add_event(
            ReportEvent(
                anns.id or 0,
                ReportAction.RESOLVE,
                ActorRole.ASSIGNEE,
                NOW,
                ReportState.RESOLVED,
                ReportState.IN_PROGRESS,
                actor_id=WORKER,
                note="Cleared",
            )
        )
        filed_for = (await uow.reports.events(on_behalf.id or 0))[0].id
        own_filing = (await uow.reports.events(theirs.id or 0))[0].id
        for report_id, event_id, file_id in (
            (anns.id or 0, resolved, "after-photo"),
            (on_behalf.id or 0, filed_for, "behalf-photo"),
            (theirs.id or 0, own_filing, "own-photo"),
        ):
            await uow.reports.add_attachment(
                Attachment(report_id, file_id, AttachmentKind.PHOTO, NOW, event_id, WORKER)
            )
        await uow.commit()

    await erase_own_data(db.uow(), WORKER, NOW)

    async with db.uow(read_only=True) as uow:
        kept = [
            a.file_id
            for report in (anns, on_behalf, theirs)
            for a in await uow.reports.attachments(report.id or 0)
        ]
        resolve_event = (await uow.reports.events(anns.id or 0))[-1]

    assert kept == ["after-photo", "behalf-photo"]
    assert (resolve_event.actor_id, resolve_event.note) == (WORKER, "Cleared")
