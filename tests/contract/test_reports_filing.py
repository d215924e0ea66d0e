"""Filing reports (``/report``): the use cases on SQLite and PostgreSQL.

Numbers, routing, deadlines, attachments and the filing event land in one
transaction; a redelivered submit files nothing new; "me too" counts once per
person; staff file on a resident's behalf with name and phone, on the record.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_config_file, places_from_config
from bot.config.places import holiday_rules_from_config
from bot.config.reports import deadline_policy_from_config, routing_rules_from_config
from civic.flows import enter_flow
from civic.personal_data import export_own_data
from civic.places import sync_places
from civic.reports import ActorRole, AttachmentKind, ReportState, TrackingNumber
from civic.reports_filing import (
    FILE,
    FILED_ON_BEHALF,
    Answer,
    ChooseAnonymous,
    ChooseCategory,
    ChooseCompound,
    ChooseWho,
    EnterDescription,
    EnterName,
    EnterPhone,
    FileAnyway,
    FileOutcome,
    FileResult,
    FilingPolicy,
    GiveLocation,
    GivePhoto,
    GiveVoice,
    PhotosDone,
    StartOutcome,
    Step,
    SubmitReport,
    SupportReport,
    UseHomePlace,
    answer_report,
    current,
    my_reports,
    offered_reports,
    start_report,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.residents import Resident, VerificationLevel
from civic.roles import Actor, Grant, Position, Role, Scope, ScopeKind, load_actor
from civic.workdays import WorkingCalendar
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

CONFIG = load_config_file(SHIPPED_CONFIG)
PLACES = places_from_config(CONFIG)
POLICY = FilingPolicy(
    rules=routing_rules_from_config(CONFIG),
    deadlines=deadline_policy_from_config(CONFIG),
    calendar=WorkingCalendar(holiday_rules_from_config(CONFIG)),
    description_max_chars=CONFIG.reports.description_max_chars,
    max_photos=3,
    duplicate_window_days=CONFIG.reports.duplicate_window_days,
)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Tongren
ANN = 990_000_001
BOB = 990_000_002
CLERK = 990_000_101
NEWCOMER = 990_000_999


def a_resident(user_id: int, compound: str = "HD-02", building: str | None = "HD-02-2") -> Resident:
    return Resident(
        user_id=user_id,
        language="en",
        community_code="HD",
        compound_code=compound,
        building_code=building,
        unit_label=None,
        level=VerificationLevel.LOCATED,
        consented_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    async with database.uow() as uow:
        await uow.residents.add(a_resident(ANN))
        await uow.residents.add(a_resident(BOB, building=None))
        await uow.roles.add(
            Grant(
                CLERK,
                Role.STAFF,
                Scope(ScopeKind.COMMUNITY, "HD"),
                community_code="HD",
                position=Position.CLERK,
                granted_at=NOW,
            )
        )
        await uow.commit()
    return database


class Filer:
    """One person answering the flow, with update ids that grow like Telegram's."""

    def __init__(self, db: Database, user_id: int, first_update: int) -> None:
        self.db = db
        self.user_id = user_id
        self.update_id = first_update
        self.now = NOW

    async def actor(self) -> Actor:
        return await load_actor(self.db.uow(read_only=True), self.user_id, ())

    async def start(self) -> StartOutcome:
        self.update_id += 1
        result = await start_report(
            self.db.uow(), await self.actor(), PLACES, POLICY, self.now, self.update_id
        )
        return result.outcome

    async def answer(self, answer: Answer, *, update_id: int | None = None) -> FileResult:
        if update_id is None:
            self.update_id += 1
            update_id = self.update_id
        return await answer_report(
            self.db.uow(), await self.actor(), answer, PLACES, POLICY, self.now, update_id, None
        )

    async def step(self) -> Step:
        async with self.db.uow(read_only=True) as uow:
            flow = await uow.flows.get(self.user_id, FILE)
        assert flow is not None
        return current(flow, PLACES, POLICY)[0]


async def fill(filer: Filer, *, category: str = "garbage", photos: int = 2) -> None:
    """Category to anonymous, for a resident with no duplicates in the way."""
    assert (await filer.answer(ChooseCategory(category))).outcome is FileOutcome.MOVED
    assert await filer.step() is Step.DESCRIPTION
    await filer.answer(EnterDescription("Rubbish piled by building 2 for a week"))
    for n in range(photos):
        assert (await filer.answer(GivePhoto(f"photo-{n}"))).outcome is FileOutcome.PHOTO_ADDED
    await filer.answer(PhotosDone())
    assert await filer.step() is Step.LOCATION
    await filer.answer(GiveLocation(27.7185, 109.1885))
    await filer.answer(ChooseAnonymous(False))
    assert await filer.step() is Step.PREVIEW


async def test_a_resident_files_a_report_numbered_routed_with_deadlines_and_files(
    db: Database,
) -> None:
    ann = Filer(db, ANN, 1000)
    assert await ann.start() is StartOutcome.STARTED
    assert await ann.step() is Step.CATEGORY  # not staff: nobody asks "for whom"
    await fill(ann)

    submitted = await ann.answer(SubmitReport())

    assert submitted.outcome is FileOutcome.SUBMITTED
    report = submitted.report
    assert report is not None
    assert report.id is not None
    assert report.number == TrackingNumber("HD", 2026, 1)
    assert str(report.number) == "HD-2026-0001"
    assert report.assignee == Assignee(AssigneeKind.GRID_WORKER, "HD-G1")
    assert report.state is ReportState.SUBMITTED
    # Wednesday 10:00 local: accept by Thursday 18:00, resolve by Wednesday next week 18:00.
    assert report.accept_by == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert report.resolve_by == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    async with db.uow(read_only=True) as uow:
        stored = await uow.reports.get(report.id)
        events = await uow.reports.events(report.id)
        files = await uow.reports.attachments(report.id)
        flow = await uow.flows.get(ANN, FILE)
    assert stored is not None
    assert stored.reporter.user_id == ANN
    assert not stored.anonymous
    assert (stored.latitude, stored.longitude) == (27.7185, 109.1885)
    assert stored.building_code is None  # a pin says where, not the profile's building
    assert stored.description == "Rubbish piled by building 2 for a week"
    assert [(e.kind, e.actor_role, e.actor_id, e.to_state) for e in events] == [
        (None, ActorRole.REPORTER, ANN, ReportState.SUBMITTED)
    ]
    assert events[0].attachments == ("photo-0", "photo-1")
    assert [f.kind for f in files] == [AttachmentKind.PHOTO, AttachmentKind.PHOTO]
    assert flow is not None
    assert flow.finished
    assert not flow.active
    assert "photo-0" not in str(flow.draft)  # the report holds the files now


async def test_the_submit_delivered_twice_files_one_report(db: Database) -> None:
    ann = Filer(db, ANN, 2000)
    await ann.start()
    await fill(ann)
    first = await ann.answer(SubmitReport())
    again = await ann.answer(SubmitReport(), update_id=ann.update_id)

    assert first.outcome is FileOutcome.SUBMITTED
    assert again.outcome is FileOutcome.REPLAYED
    assert again.report is not None
    assert first.report is not None
    assert again.report.number == first.report.number
    async with db.uow(read_only=True) as uow:
        assert len(await uow.reports.of_reporter(ANN, limit=10)) == 1
        assert await uow.reports.filed_by_update(ann.update_id) is not None


async def test_numbers_follow_one_another_and_a_new_report_starts_afresh(db: Database) -> None:
    ann = Filer(db, ANN, 3000)
    await ann.start()
    await fill(ann, category="noise", photos=0)
    first = await ann.answer(SubmitReport())
    assert await ann.start() is StartOutcome.STARTED  # the finished draft is not resumed
    assert await ann.step() is Step.CATEGORY
    await fill(ann, category="facilities", photos=0)
    second = await ann.answer(SubmitReport())
    assert first.report is not None
    assert second.report is not None
    assert [str(first.report.number), str(second.report.number)] == [
        "HD-2026-0001",
        "HD-2026-0002",
    ]
    # facilities in a compound without a property manager: the community (config row 6)
    assert second.report.assignee == Assignee(AssigneeKind.COMMUNITY, "HD")


async def test_a_refused_description_keeps_the_draft_and_a_cancelled_draft_resumes(
    db: Database,
) -> None:
    ann = Filer(db, ANN, 4000)
    await ann.start()
    await ann.answer(ChooseCategory("garbage"))
    too_long = await ann.answer(EnterDescription("x" * (POLICY.description_max_chars + 1)))
    empty = await ann.answer(EnterDescription("   "))
    assert too_long.outcome is FileOutcome.DESCRIPTION_TOO_LONG
    assert empty.outcome is FileOutcome.DESCRIPTION_EMPTY
    assert await ann.step() is Step.DESCRIPTION
    await ann.answer(EnterDescription("The bins are broken"))
    await ann.answer(GivePhoto("p1"))
    async with db.uow() as uow:  # /cancel
        flow = await uow.flows.active(ANN)
        assert flow is not None
        await uow.flows.save(replace(flow, active=False))
        await uow.commit()

    assert await ann.start() is StartOutcome.RESUMED
    assert await ann.step() is Step.PHOTOS
    async with db.uow(read_only=True) as uow:
        flow = await uow.flows.get(ANN, FILE)
    assert flow is not None
    assert flow.active
    assert flow.draft["description"] == "The bins are broken"
    assert flow.draft["photos"] == ["p1"]
    assert flow.draft["category"] == "garbage"


async def test_photos_stop_at_the_limit_and_a_voice_note_stands_for_the_description(
    db: Database,
) -> None:
    bob = Filer(db, BOB, 5000)
    await bob.start()
    await bob.answer(ChooseCategory("noise"))
    await bob.answer(GiveVoice("voice-1"))
    assert await bob.step() is Step.PHOTOS
    for n in range(POLICY.max_photos):
        await bob.answer(GivePhoto(f"p{n}"))
    full = await bob.answer(GivePhoto("one-too-many"))
    assert full.outcome is FileOutcome.TOO_MANY_PHOTOS
    await bob.answer(PhotosDone())
    await bob.answer(UseHomePlace())
    await bob.answer(ChooseAnonymous(True))
    result = await bob.answer(SubmitReport())
    report = result.report
    assert report is not None
    assert report.id is not None
    assert report.description == ""
    assert report.anonymous
    assert report.building_code is None  # Bob's profile has no building
    async with db.uow(read_only=True) as uow:
        files = await uow.reports.attachments(report.id)
    assert [f.kind for f in files].count(AttachmentKind.PHOTO) == POLICY.max_photos
    assert [f.file_id for f in files if f.kind is AttachmentKind.VOICE] == ["voice-1"]


async def test_me_too_supports_an_open_report_once_instead_of_filing(db: Database) -> None:
    ann = Filer(db, ANN, 6000)
    await ann.start()
    await fill(ann)
    filed = await ann.answer(SubmitReport())
    assert filed.report is not None
    assert filed.report.id is not None

    bob = Filer(db, BOB, 7000)
    await bob.start()
    offered = await bob.answer(ChooseCategory("garbage"))
    assert offered.outcome is FileOutcome.MOVED
    assert await bob.step() is Step.DUPLICATE
    assert offered.draft.duplicate_ids == (filed.report.id,)
    async with db.uow(read_only=True) as uow:
        shown = await offered_reports(uow, offered.draft)
    assert [r.number for r in shown] == [filed.report.number]

    supported = await bob.answer(SupportReport(filed.report.id))
    assert supported.outcome is FileOutcome.SUPPORTED
    assert supported.report is not None
    assert supported.report.supports == 1
    replayed = await bob.answer(SupportReport(filed.report.id), update_id=bob.update_id)
    assert replayed.outcome is FileOutcome.REPLAYED

    await bob.start()
    await bob.answer(ChooseCategory("garbage"))
    twice = await bob.answer(SupportReport(filed.report.id))
    assert twice.outcome is FileOutcome.ALREADY_SUPPORTED
    assert await bob.step() is Step.DUPLICATE  # still there: file anyway, or cancel
    await bob.answer(FileAnyway())
    assert await bob.step() is Step.DESCRIPTION
    async with db.uow(read_only=True) as uow:
        report = await uow.reports.get(filed.report.id)
        assert report is not None
        assert report.supports == 1
        assert len(await uow.reports.of_reporter(BOB, limit=10)) == 0

    own = Filer(db, ANN, 8000)  # one's own report is never offered
    await own.start()
    await own.answer(ChooseCategory("garbage"))
    assert await own.step() is Step.DESCRIPTION


async def test_staff_file_on_behalf_of_a_resident_with_name_and_phone(db: Database) -> None:
    clerk = Filer(db, CLERK, 9000)
    assert await clerk.start() is StartOutcome.STARTED
    assert await clerk.step() is Step.NAME  # staff who are not residents: on behalf only
    too_long = await clerk.answer(EnterName("王" * 31))
    assert too_long.outcome is FileOutcome.NAME_TOO_LONG
    await clerk.answer(EnterName("  张  大爷 "))
    bad = await clerk.answer(EnterPhone("call me"))
    assert bad.outcome is FileOutcome.PHONE_INVALID
    await clerk.answer(EnterPhone("138 0000 0000"))
    assert await clerk.step() is Step.COMPOUND
    other = await clerk.answer(ChooseCompound("CB-01"))
    assert other.outcome is FileOutcome.UNKNOWN_PLACE
    await clerk.answer(ChooseCompound("HD-01"))
    await clerk.answer(ChooseCategory("property_dispute"))
    assert await clerk.step() is Step.DESCRIPTION  # no "me too" on someone's behalf
    await clerk.answer(EnterDescription("Lift broken, the company does not answer"))
    await clerk.answer(PhotosDone())
    await clerk.answer(UseHomePlace())
    await clerk.answer(ChooseAnonymous(False))
    result = await clerk.answer(SubmitReport())

    assert result.outcome is FileOutcome.SUBMITTED
    report = result.report
    assert report is not None
    assert report.id is not None
    assert (report.reporter.name, report.reporter.phone) == ("张 大爷", "13800000000")
    assert report.reporter.filed_by == CLERK
    assert report.reporter.user_id is None
    assert report.compound_code == "HD-01"
    assert report.assignee == Assignee(AssigneeKind.DEPARTMENT, "HOUSING")
    async with db.uow(read_only=True) as uow:
        events = await uow.reports.events(report.id)
        audit = await uow.audit.recent(frozenset({"HD"}), limit=5)
    assert events[0].actor_role is ActorRole.STAFF
    assert events[0].actor_id == CLERK
    assert [(a.action, a.actor_id, a.details.get("report")) for a in audit] == [
        (FILED_ON_BEHALF, CLERK, "HD-2026-0001")
    ]


async def test_staff_who_are_residents_choose_for_whom(db: Database) -> None:
    async with db.uow() as uow:
        await uow.residents.add(a_resident(CLERK, compound="HD-01", building="HD-01-1"))
        await uow.commit()
    clerk = Filer(db, CLERK, 10_000)
    await clerk.start()
    assert await clerk.step() is Step.WHO
    await clerk.answer(ChooseWho(False))
    assert await clerk.step() is Step.CATEGORY
    await fill(clerk, category="noise", photos=0)
    result = await clerk.answer(SubmitReport())
    assert result.report is not None
    assert result.report.reporter.user_id == CLERK
    assert result.report.compound_code == "HD-01"


async def test_newcomers_are_not_asked_anything(db: Database) -> None:
    newcomer = Filer(db, NEWCOMER, 11_000)
    assert await newcomer.start() is StartOutcome.NOT_REGISTERED
    refused = await newcomer.answer(ChooseCategory("garbage"))
    assert refused.outcome is FileOutcome.NO_FLOW


async def test_my_reports_lists_the_newest_ten_and_says_there_are_more(db: Database) -> None:
    ann = Filer(db, ANN, 12_000)
    for n in range(11):
        ann.now = NOW + timedelta(minutes=n)
        await ann.start()
        await fill(ann, category="other" if n % 2 else "noise", photos=0)
        if await ann.step() is not Step.PREVIEW:  # pragma: no cover - fill ends there
            pytest.fail("not at the preview")
        result = await ann.answer(SubmitReport())
        assert result.outcome is FileOutcome.SUBMITTED
    mine = await my_reports(db.uow(read_only=True), ANN)
    assert mine.more
    assert len(mine.reports) == 10
    assert str(mine.reports[0].number) == "HD-2026-0011"


async def test_my_data_shows_a_report_draft_without_its_files_keys(db: Database) -> None:
    ann = Filer(db, ANN, 13_000)
    await ann.start()
    await ann.answer(ChooseCategory("garbage"))
    await ann.answer(GiveVoice("voice-secret-id", caption="Bins overflow"))
    await ann.answer(GivePhoto("photo-secret-id"))

    raw = await export_own_data(db.uow(read_only=True), ANN, NOW)

    assert b"secret-id" not in raw
    document = json.loads(raw)
    (draft,) = [f["draft"] for f in document["flows"] if f["name"] == FILE]
    assert draft["description"] == "Bins overflow"
    assert (draft["photos_given"], draft["voice_note_given"]) == (1, True)


async def test_my_data_shows_a_staff_note_draft_without_its_photos_keys(db: Database) -> None:
    """The note flow (progress, resolution) keeps photos until the note comes: /mydata
    says how many, never the Telegram file ids, whatever the key is called."""
    async with db.uow() as uow:
        await enter_flow(
            uow,
            CLERK,
            "reports.note",
            "note",
            {"report_id": 7, "photo": "note-secret-id", "photos": ["a-secret-id", "b-secret-id"]},
            update_id=14_000,
            now=NOW,
        )
        await uow.commit()

    raw = await export_own_data(db.uow(read_only=True), CLERK, NOW)

    assert b"secret-id" not in raw
    (draft,) = [f["draft"] for f in json.loads(raw)["flows"] if f["name"] == "reports.note"]
    assert draft == {"report_id": 7, "photo_given": 1, "photos_given": 2}
