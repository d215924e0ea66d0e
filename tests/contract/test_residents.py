"""The residents and flows repositories and the onboarding use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.config import load_config_file, places_from_config
from civic.flows import Flow, cancel_flow, record_flow_message
from civic.places import sync_places
from civic.residents import (
    ONBOARD,
    RELOCATE,
    Answer,
    AnswerOutcome,
    ChooseBuilding,
    ChooseCommunity,
    ChooseCompound,
    ChooseLanguage,
    ConfirmProfile,
    EnterUnit,
    GiveConsent,
    LanguageSaved,
    ProfileHint,
    RelocationStart,
    Resident,
    SkipUnit,
    StartOutcome,
    Step,
    VerificationLevel,
    all_profile_hints,
    answer_flow,
    location_code,
    profile_hint,
    set_language,
    start_onboarding,
    start_relocation,
)
from storage import tables
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

LOCATION_KEY = b"location-key-for-tests-0123456789"

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
USER = 777_000_001


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    return database


def a_resident(user_id: int = USER, **changes: object) -> Resident:
    resident = Resident(
        user_id=user_id,
        language="zh_CN",
        community_code="HD",
        compound_code="HD-01",
        building_code="HD-01-1",
        unit_label="3单元502",
        level=VerificationLevel.UNVERIFIED,
        consented_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(resident, **changes)  # type: ignore[arg-type]


async def count_residents(db: Database) -> int:
    async with db.uow(read_only=True) as uow:
        count = await uow.connection.scalar(select(func.count()).select_from(tables.residents))
    return int(count or 0)


# -- residents repository ------------------------------------------------------------------


async def test_a_resident_is_stored_and_read_back_as_it_was(db: Database) -> None:
    resident = a_resident(level=VerificationLevel.LOCATED)
    async with db.uow() as uow:
        assert await uow.residents.add(resident) is True
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        assert await uow.residents.get(USER) == resident
        assert await uow.residents.language_of(USER) == "zh_CN"
        assert await uow.residents.get(USER + 1) is None
        assert await uow.residents.language_of(USER + 1) is None


async def test_adding_the_same_person_twice_keeps_the_first(db: Database) -> None:
    async with db.uow() as uow:
        assert await uow.residents.add(a_resident()) is True
        assert (
            await uow.residents.add(a_resident(compound_code="HD-02", building_code=None)) is False
        )
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        stored = await uow.residents.get(USER)
    assert stored is not None
    assert stored.compound_code == "HD-01"
    assert await count_residents(db) == 1


async def test_updates_and_the_language_change_only_that_resident(db: Database) -> None:
    async with db.uow() as uow:
        await uow.residents.add(a_resident())
        await uow.residents.add(a_resident(USER + 1))
        await uow.commit()
    later = NOW + timedelta(hours=1)
    moved = a_resident(compound_code="HD-02", building_code=None, unit_label=None, updated_at=later)
    async with db.uow() as uow:
        await uow.residents.update(moved)
        assert await uow.residents.set_language(USER, "en", later) is True
        assert await uow.residents.set_language(USER + 9, "en", later) is False
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        assert await uow.residents.get(USER) == replace(moved, language="en")
        assert await uow.residents.get(USER + 1) == a_resident(USER + 1)


async def test_nothing_is_written_without_commit(db: Database) -> None:
    async with db.uow() as uow:
        await uow.residents.add(a_resident())
    assert await count_residents(db) == 0


# -- flows repository --------------------------------------------------------------------------


def a_flow(name: str = ONBOARD, **changes: object) -> Flow:
    flow = Flow(
        user_id=USER,
        name=name,
        step="compound",
        draft={"language": "en", "community": "HD", "unit": "三单元 <b>"},
        active=True,
        message_id=41,
        last_update_id=1000,
        updated_at=NOW,
    )
    return replace(flow, **changes)  # type: ignore[arg-type]


async def test_a_flow_is_saved_replaced_and_read_back_with_its_draft(db: Database) -> None:
    async with db.uow() as uow:
        await uow.flows.save(a_flow())
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.flows.get(USER, ONBOARD) == a_flow()
        await uow.flows.save(a_flow(step="unit", draft={}, last_update_id=1001))
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        assert await uow.flows.get(USER, ONBOARD) == a_flow(
            step="unit", draft={}, last_update_id=1001
        )
        assert await uow.flows.get(USER, RELOCATE) is None
        assert await uow.flows.get(USER + 1, ONBOARD) is None


async def test_one_flow_is_active_and_the_others_keep_their_drafts(db: Database) -> None:
    later = NOW + timedelta(minutes=5)
    async with db.uow() as uow:
        await uow.flows.save(a_flow())
        await uow.flows.deactivate_all(USER, later)
        await uow.flows.save(a_flow(RELOCATE, updated_at=later))
        await uow.flows.set_message(USER, RELOCATE, 99, later)
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        active = await uow.flows.active(USER)
        flows = await uow.flows.of_user(USER)
        assert await uow.flows.active(USER + 1) is None
    assert active is not None
    assert (active.name, active.message_id) == (RELOCATE, 99)
    assert [(f.name, f.active, f.draft == a_flow().draft) for f in flows] == [
        (ONBOARD, False, True),
        (RELOCATE, True, True),
    ]


async def test_cancel_keeps_the_draft_and_leaves_no_flow_active(db: Database) -> None:
    async with db.uow() as uow:
        await uow.flows.save(a_flow())
        await uow.commit()

    cancelled = await cancel_flow(db.uow(), USER, NOW)

    assert cancelled == a_flow()
    assert await cancel_flow(db.uow(), USER, NOW) is None
    async with db.uow(read_only=True) as uow:
        kept = await uow.flows.get(USER, ONBOARD)
    assert kept is not None
    assert (kept.active, kept.step, kept.draft) == (False, "compound", a_flow().draft)


# -- onboarding use cases, idempotent by update id ----------------------------------------------


async def onboard(db: Database, user_id: int = USER, payload: str | None = None) -> Resident:
    """Go through onboarding with update ids 1, 2, ...; return the resident."""
    update_id = 0

    def next_id() -> int:
        nonlocal update_id
        update_id += 1
        return update_id

    started = await start_onboarding(
        db.uow(), user_id, payload, PLACES, NOW, next_id(), LOCATION_KEY
    )
    assert started.flow is not None
    await record_flow_message(db.uow(), user_id, ONBOARD, 10, NOW)
    answers: list[Answer] = [ChooseLanguage("en")]
    if payload is None:
        answers += [ChooseCommunity("HD"), ChooseCompound("HD-01"), ChooseBuilding("HD-01-2")]
    answers += [EnterUnit("502"), GiveConsent(), ConfirmProfile()]
    for answer in answers:
        message = None if isinstance(answer, EnterUnit) else 10
        result = await answer_flow(db.uow(), user_id, answer, PLACES, NOW, next_id(), message)
        assert result.outcome in (AnswerOutcome.MOVED, AnswerOutcome.REGISTERED), answer
    assert result.resident is not None
    return result.resident


async def test_onboarding_registers_one_resident_with_what_was_chosen(db: Database) -> None:
    resident = await onboard(db)

    assert resident.address == ("HD", "HD-01", "HD-01-2", "502")
    assert (resident.language, resident.level) == ("en", VerificationLevel.UNVERIFIED)
    async with db.uow(read_only=True) as uow:
        assert await uow.residents.get(USER) == resident
        flow = await uow.flows.get(USER, ONBOARD)
    assert flow is not None
    assert (flow.step, flow.active) == (Step.DONE.value, False)


async def test_a_building_link_registers_a_located_resident(db: Database) -> None:
    resident = await onboard(db, payload=location_code("HD-01-1", LOCATION_KEY))
    assert resident.address == ("HD", "HD-01", "HD-01-1", "502")
    assert resident.level is VerificationLevel.LOCATED


async def test_a_typed_building_code_preselects_but_does_not_locate(db: Database) -> None:
    resident = await onboard(db, payload="HD-01-1")
    assert resident.address == ("HD", "HD-01", "HD-01-1", "502")
    assert resident.level is VerificationLevel.UNVERIFIED


async def test_every_update_delivered_again_changes_nothing_and_registers_once(
    db: Database,
) -> None:
    started = await start_onboarding(db.uow(), USER, None, PLACES, NOW, 1)
    assert started.outcome is StartOutcome.STARTED
    again = await start_onboarding(db.uow(), USER, None, PLACES, NOW, 1)
    assert (again.outcome, again.flow) == (StartOutcome.RESUMED, started.flow)

    steps: list[tuple[int, Answer]] = [
        (2, ChooseLanguage("zh_CN")),
        (3, ChooseCommunity("CB")),
        (4, ChooseCompound("CB-02")),
        (5, ChooseBuilding(None)),
        (6, EnterUnit("2-301")),
        (7, GiveConsent()),
        (8, ConfirmProfile()),
    ]
    for update_id, answer in steps:
        message = None if isinstance(answer, EnterUnit) else 10
        first = await answer_flow(db.uow(), USER, answer, PLACES, NOW, update_id, message)
        replay = await answer_flow(db.uow(), USER, answer, PLACES, NOW, update_id, message)
        assert first.outcome in (AnswerOutcome.MOVED, AnswerOutcome.REGISTERED)
        assert replay.outcome is AnswerOutcome.REPLAYED
        assert replay.flow == first.flow, answer

    assert await count_residents(db) == 1
    late = await answer_flow(db.uow(), USER, ConfirmProfile(), PLACES, NOW, 9, 10)
    assert late.outcome is AnswerOutcome.NO_FLOW
    assert await count_residents(db) == 1


async def test_a_button_of_an_older_message_is_refused_once_the_flow_moved_on(
    db: Database,
) -> None:
    await start_onboarding(db.uow(), USER, None, PLACES, NOW, 1)
    await record_flow_message(db.uow(), USER, ONBOARD, 10, NOW)

    old = await answer_flow(db.uow(), USER, ChooseLanguage("en"), PLACES, NOW, 2, 9)
    current = await answer_flow(db.uow(), USER, ChooseLanguage("en"), PLACES, NOW, 3, 10)
    twice = await answer_flow(db.uow(), USER, ChooseLanguage("en"), PLACES, NOW, 4, 10)

    assert old.outcome is AnswerOutcome.OTHER_MESSAGE
    assert (current.outcome, current.step) == (AnswerOutcome.MOVED, Step.COMMUNITY)
    assert (twice.outcome, twice.step) == (AnswerOutcome.WRONG_STEP, Step.COMMUNITY)


async def test_start_again_resumes_the_draft_at_its_step_after_a_cancel(db: Database) -> None:
    await start_onboarding(db.uow(), USER, None, PLACES, NOW, 1)
    await record_flow_message(db.uow(), USER, ONBOARD, 10, NOW)
    answers: list[Answer] = [ChooseLanguage("en"), ChooseCommunity("HD")]
    for update_id, answer in enumerate(answers, start=2):
        await answer_flow(db.uow(), USER, answer, PLACES, NOW, update_id, 10)
    await cancel_flow(db.uow(), USER, NOW)
    refused = await answer_flow(db.uow(), USER, ChooseCompound("HD-01"), PLACES, NOW, 4, 10)

    resumed = await start_onboarding(db.uow(), USER, None, PLACES, NOW, 5)

    assert refused.outcome is AnswerOutcome.NO_FLOW
    assert resumed.outcome is StartOutcome.RESUMED
    assert resumed.previous_message_id == 10
    assert resumed.flow is not None
    assert (resumed.flow.step, resumed.flow.active, resumed.flow.message_id) == (
        Step.COMPOUND.value,
        True,
        None,
    )
    assert resumed.flow.draft["community"] == "HD"


async def test_a_link_opened_while_a_draft_waits_goes_on_from_the_linked_place(
    db: Database,
) -> None:
    await start_onboarding(db.uow(), USER, None, PLACES, NOW, 1)
    await answer_flow(db.uow(), USER, ChooseLanguage("en"), PLACES, NOW, 2, None)

    linked = await start_onboarding(db.uow(), USER, "HD-01", PLACES, NOW, 3)

    assert linked.flow is not None
    assert linked.flow.step == Step.BUILDING.value
    assert (linked.flow.draft["community"], linked.flow.draft["compound"]) == ("HD", "HD-01")


async def test_a_residents_own_building_link_locates_them_and_another_place_does_not(
    db: Database,
) -> None:
    async with db.uow() as uow:
        await uow.residents.add(a_resident(building_code=None))
        await uow.commit()

    elsewhere = await start_onboarding(db.uow(), USER, "CB-01", PLACES, NOW, 1)
    typed = await start_onboarding(db.uow(), USER, "HD-01-3", PLACES, NOW, 2, LOCATION_KEY)
    own = location_code("HD-01-3", LOCATION_KEY)
    located = await start_onboarding(db.uow(), USER, own, PLACES, NOW, 2, LOCATION_KEY)
    other = location_code("HD-01-4", LOCATION_KEY)
    other_building = await start_onboarding(db.uow(), USER, other, PLACES, NOW, 3, LOCATION_KEY)

    assert elsewhere.outcome is StartOutcome.ELSEWHERE
    assert typed.outcome is StartOutcome.REGISTERED, "a typed code proves nothing"
    assert located.outcome is StartOutcome.LOCATED
    assert other_building.outcome is StartOutcome.ELSEWHERE
    async with db.uow(read_only=True) as uow:
        stored = await uow.residents.get(USER)
    assert stored is not None
    assert (stored.building_code, stored.level) == ("HD-01-3", VerificationLevel.LOCATED)


async def test_relocating_moves_the_resident_and_drops_a_level_the_new_address_lacks(
    db: Database,
) -> None:
    async with db.uow() as uow:
        await uow.residents.add(a_resident(level=VerificationLevel.LOCATED))
        await uow.commit()

    outcome, flow = await start_relocation(db.uow(), USER, PLACES, NOW, 1, 50)
    assert outcome is RelocationStart.STARTED
    assert flow is not None
    assert flow.step == Step.COMMUNITY.value
    moves: list[Answer] = [
        ChooseCommunity("HD"),
        ChooseCompound("HD-02"),
        ChooseBuilding(None),
        SkipUnit(),
        ConfirmProfile(),
    ]
    for update_id, answer in enumerate(moves, start=2):
        result = await answer_flow(db.uow(), USER, answer, PLACES, NOW, update_id, 50)

    assert result.outcome is AnswerOutcome.RELOCATED
    assert result.previous == a_resident(level=VerificationLevel.LOCATED)
    assert result.resident is not None
    assert result.resident.address == ("HD", "HD-02", None, None)
    assert result.resident.level is VerificationLevel.UNVERIFIED


async def test_the_language_is_kept_on_the_resident_or_in_the_draft(db: Database) -> None:
    assert await profile_hint(db.uow(), USER) == ProfileHint(None, registered=False)

    saved = await set_language(db.uow(), USER, "en", PLACES, NOW)
    assert saved is LanguageSaved.DRAFT
    assert await profile_hint(db.uow(), USER) == ProfileHint("en", registered=False)
    started = await start_onboarding(db.uow(), USER, None, PLACES, NOW, 1)
    assert started.flow is not None
    assert started.flow.step == Step.COMMUNITY.value  # the language is chosen already

    async with db.uow() as uow:
        await uow.residents.add(a_resident(USER + 1))
        await uow.commit()
    assert await set_language(db.uow(), USER + 1, "en", PLACES, NOW) is LanguageSaved.RESIDENT
    assert await profile_hint(db.uow(), USER + 1) == ProfileHint("en", registered=True)


async def test_every_stored_language_is_read_back_for_the_profile_cache(db: Database) -> None:
    async with db.uow() as uow:
        await uow.residents.add(a_resident(USER, language="en"))
        await uow.commit()
    await set_language(db.uow(), USER + 1, "en", PLACES, NOW)  # a draft with a language
    await start_onboarding(db.uow(), USER + 2, None, PLACES, NOW, 1)  # a draft without

    hints = await all_profile_hints(db.uow())

    assert hints == {
        USER: ProfileHint("en", registered=True),
        USER + 1: ProfileHint("en", registered=False),
    }
