"""Household codes, building links and staff verification, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import load_config_file, places_from_config
from civic.household_codes import (
    AUDIT_CODE_ROTATED,
    AUDIT_CODES_ISSUED,
    AUDIT_VERIFIED,
    MAX_FAILURES,
    HouseholdStart,
    IssueOutcome,
    RedeemOutcome,
    RotateOutcome,
    VerifyOutcome,
    VerifyResult,
    code_hash,
    format_code,
    household_payload,
    issue_household_codes,
    redeem_household_code,
    rotate_building_code,
    start_with_household_code,
    verify_resident,
)
from civic.places import sync_places
from civic.residents import (
    AnswerOutcome,
    ChooseBuilding,
    ChooseCompound,
    ChooseLanguage,
    CodeMiss,
    ConfirmProfile,
    GiveConsent,
    GoBack,
    KeepUnit,
    Resident,
    SkipUnit,
    StartOutcome,
    Step,
    VerificationLevel,
    answer_flow,
    location_code,
    start_onboarding,
)
from civic.roles import Actor, Decision, Grant, Position, Role, Scope, ScopeKind, with_config_admins
from storage import tables
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
KEY = b"location-key-for-tests-0123456789"
ADMIN = with_config_admins(Actor(1), [1])
CB_CLERK = Actor(
    2,
    (Grant(2, Role.STAFF, Scope(ScopeKind.COMMUNITY, "CB"), "CB", Position.CLERK),),
)
RESIDENT = 777_000_001


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    return database


def a_resident(user_id: int = RESIDENT, **changes: Any) -> Resident:
    resident = Resident(
        user_id=user_id,
        language="en",
        community_code="HD",
        compound_code="HD-01",
        building_code=None,
        unit_label=None,
        level=VerificationLevel.UNVERIFIED,
        consented_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(resident, **changes)


async def register(db: Database, *residents: Resident) -> None:
    async with db.uow() as uow:
        for resident in residents:
            await uow.residents.add(resident)
        await uow.commit()


async def issue(db: Database, place: str = "HD-01-1", count: int = 3, *units: str) -> list[str]:
    result = await issue_household_codes(
        db.uow(), ADMIN, place, count, list(units), PLACES, NOW, 30
    )
    assert result.outcome is IssueOutcome.ISSUED
    return [i.code for i in result.codes]


async def resident(db: Database, user_id: int = RESIDENT) -> Resident | None:
    async with db.uow(read_only=True) as uow:
        return await uow.residents.get(user_id)


async def test_issued_codes_are_stored_only_as_hashes_and_audited_without_them(
    db: Database,
) -> None:
    codes = await issue(db, "HD-01-1", 2, "101", "102")

    assert len(codes) == 4
    async with db.uow(read_only=True) as uow:
        rows = [
            dict(r._mapping) for r in await uow.connection.execute(select(tables.household_codes))
        ]
        entries = await uow.audit.recent(None, 10)
    assert {r["code_hash"] for r in rows} == {code_hash(c) for c in codes}
    assert sorted(r["unit_label"] for r in rows) == ["101", "101", "102", "102"]
    # 30 days on, to the end of that day in Shanghai (NOW is 16:00 there)
    assert all(r["expires_at"] == datetime(2026, 12, 25, 16, 0, tzinfo=UTC) for r in rows)
    stored = repr(rows) + repr(entries)
    assert not any(c in stored or format_code(c) in stored for c in codes)
    assert [e.action for e in entries] == [AUDIT_CODES_ISSUED]
    assert entries[0].details["count"] == 4


async def test_issuing_is_refused_outside_ones_community_and_checks_its_arguments(
    db: Database,
) -> None:
    elsewhere = await issue_household_codes(db.uow(), CB_CLERK, "HD-01", 1, [], PLACES, NOW, 30)
    resident_try = await issue_household_codes(db.uow(), Actor(3), "HD-01", 1, [], PLACES, NOW, 30)
    community = await issue_household_codes(db.uow(), ADMIN, "HD", 1, [], PLACES, NOW, 30)
    too_many = await issue_household_codes(
        db.uow(), ADMIN, "HD-01", 100, ["1", "2", "3"], PLACES, NOW, 30
    )
    bad_unit = await issue_household_codes(db.uow(), ADMIN, "HD-01", 1, ["x" * 40], PLACES, NOW, 30)

    assert (elsewhere.outcome, elsewhere.decision) == (
        IssueOutcome.REFUSED,
        Decision.OTHER_COMMUNITY,
    )
    assert resident_try.decision is Decision.NOT_STAFF
    assert community.outcome is IssueOutcome.UNKNOWN_PLACE
    assert too_many.outcome is IssueOutcome.BAD_COUNT
    assert bad_unit.outcome is IssueOutcome.BAD_UNIT


async def test_a_code_verifies_once_and_sets_the_building_and_unit_it_names(
    db: Database,
) -> None:
    await register(db, a_resident(), a_resident(RESIDENT + 1))
    [code] = await issue(db, "HD-01-1", 1, "502")

    first = await redeem_household_code(db.uow(), RESIDENT, format_code(code).lower(), NOW)
    again = await redeem_household_code(db.uow(), RESIDENT, code, NOW)
    other = await redeem_household_code(db.uow(), RESIDENT + 1, code, NOW)

    assert first.outcome is RedeemOutcome.VERIFIED
    assert again.outcome is RedeemOutcome.REPEATED
    assert other.outcome is RedeemOutcome.USED
    stored = await resident(db)
    assert stored is not None
    assert (stored.level, stored.building_code, stored.unit_label) == (
        VerificationLevel.VERIFIED,
        "HD-01-1",
        "502",
    )


async def test_expired_unknown_malformed_and_other_compound_codes_verify_no_one(
    db: Database,
) -> None:
    await register(db, a_resident())
    [code] = await issue(db, "HD-01", 1)
    [elsewhere] = await issue(db, "HD-02", 1)

    expired = await redeem_household_code(db.uow(), RESIDENT, code, NOW + timedelta(days=31))
    unknown = await redeem_household_code(db.uow(), RESIDENT, "ABCD-2345", NOW)
    malformed = await redeem_household_code(db.uow(), RESIDENT, "ABC", NOW)
    moved = await redeem_household_code(db.uow(), RESIDENT, elsewhere, NOW)
    stranger = await redeem_household_code(db.uow(), RESIDENT + 5, code, NOW)

    assert [r.outcome for r in (expired, unknown, malformed, moved, stranger)] == [
        RedeemOutcome.EXPIRED,
        RedeemOutcome.UNKNOWN,
        RedeemOutcome.MALFORMED,
        RedeemOutcome.OTHER_COMPOUND,
        RedeemOutcome.NOT_REGISTERED,
    ]
    stored = await resident(db)
    assert stored is not None
    assert stored.level is VerificationLevel.UNVERIFIED
    assert stored.compound_code == "HD-01", "nobody is moved silently"


async def test_wrong_codes_are_limited_per_hour_even_the_right_one_waits(db: Database) -> None:
    await register(db, a_resident())
    [code] = await issue(db, "HD-01", 1)
    for minute in range(MAX_FAILURES):
        wrong = await redeem_household_code(
            db.uow(), RESIDENT, "ABCD-2345", NOW + timedelta(minutes=minute)
        )
        assert wrong.outcome is RedeemOutcome.UNKNOWN
    blocked = await redeem_household_code(db.uow(), RESIDENT, code, NOW + timedelta(minutes=10))
    later = await redeem_household_code(db.uow(), RESIDENT, code, NOW + timedelta(minutes=61))

    assert blocked.outcome is RedeemOutcome.TOO_MANY_ATTEMPTS
    assert blocked.retry_at == NOW + timedelta(hours=1)
    assert later.outcome is RedeemOutcome.VERIFIED


async def test_a_newcomer_with_a_code_link_joins_at_its_place_and_is_verified_on_confirming(
    db: Database,
) -> None:
    [code] = await issue(db, "HD-01-2", 1, "7-301")
    started = await start_with_household_code(
        db.uow(), RESIDENT, household_payload(code), PLACES, NOW, 1
    )
    assert started.kind is HouseholdStart.ONBOARDING
    assert started.code_outcome is None
    assert started.start is not None
    assert started.start.flow is not None
    assert "hc_" not in repr(started.start.flow.draft).lower() + code

    steps: list[Any] = [ChooseLanguage("en"), KeepUnit(), GiveConsent(), ConfirmProfile()]
    for update_id, answer in enumerate(steps, start=2):
        result = await answer_flow(db.uow(), RESIDENT, answer, PLACES, NOW, update_id, None)
    assert result.outcome is AnswerOutcome.REGISTERED
    stored = await resident(db)
    assert stored is not None
    assert (stored.compound_code, stored.building_code, stored.unit_label, stored.level) == (
        "HD-01",
        "HD-01-2",
        "7-301",
        VerificationLevel.VERIFIED,
    )
    used = await redeem_household_code(db.uow(), RESIDENT, code, NOW)
    assert used.outcome is RedeemOutcome.REPEATED


async def test_a_used_code_link_still_lets_a_newcomer_join_unverified(db: Database) -> None:
    await register(db, a_resident(RESIDENT + 1))
    [code] = await issue(db, "HD-01", 1)
    await redeem_household_code(db.uow(), RESIDENT + 1, code, NOW)

    started = await start_with_household_code(
        db.uow(), RESIDENT, household_payload(code), PLACES, NOW, 1
    )

    assert started.code_outcome is RedeemOutcome.USED
    assert started.start is not None
    assert started.start.outcome is StartOutcome.STARTED


async def test_a_rotated_building_code_stops_locating_and_the_new_one_does(db: Database) -> None:
    old = location_code("HD-01-1", KEY)
    refused = await rotate_building_code(db.uow(), CB_CLERK, "HD-01-1", PLACES, NOW)
    not_a_building = await rotate_building_code(db.uow(), ADMIN, "HD-01", PLACES, NOW)
    first = await rotate_building_code(db.uow(), ADMIN, "hd-01-1", PLACES, NOW)
    second = await rotate_building_code(db.uow(), ADMIN, "HD-01-1", PLACES, NOW)

    assert refused.outcome is RotateOutcome.REFUSED
    assert not_a_building.outcome is RotateOutcome.UNKNOWN_BUILDING
    assert (first.version, second.version) == (1, 2)
    async with db.uow(read_only=True) as uow:
        assert await uow.building_links.versions() == {"HD-01-1": 2}
        assert await uow.building_links.version("HD-01-2") == 0
        actions = [e.action for e in await uow.audit.recent(None, 10)]
    assert actions == [AUDIT_CODE_ROTATED, AUDIT_CODE_ROTATED]

    stale = await start_onboarding(db.uow(), RESIDENT, old, PLACES, NOW, 1, KEY)
    assert stale.link.replaced
    assert not stale.link.proves_location
    new = location_code("HD-01-1", KEY, 2)
    fresh = await start_onboarding(db.uow(), RESIDENT + 1, new, PLACES, NOW, 2, KEY)
    assert fresh.link.proves_location


async def test_staff_verify_a_resident_of_their_community_who_is_told(db: Database) -> None:
    await register(db, a_resident(), a_resident(RESIDENT + 1, language="zh_CN"))

    def compose(language: str) -> Mapping[str, Any]:
        return {"text": f"verified ({language})"}

    other = await verify_resident(db.uow(), CB_CLERK, RESIDENT, PLACES, NOW, compose)
    nobody = await verify_resident(db.uow(), ADMIN, 5, PLACES, NOW, compose)
    resident_try = await verify_resident(db.uow(), Actor(3), RESIDENT, PLACES, NOW, compose)
    done = await verify_resident(db.uow(), ADMIN, RESIDENT + 1, PLACES, NOW, compose, 77)
    again = await verify_resident(db.uow(), ADMIN, RESIDENT + 1, PLACES, NOW, compose)

    assert other.outcome is VerifyOutcome.NOT_A_RESIDENT, "another community's resident"
    assert nobody.outcome is VerifyOutcome.NOT_A_RESIDENT
    assert (resident_try.outcome, resident_try.decision) == (
        VerifyOutcome.REFUSED,
        Decision.NOT_STAFF,
    )
    assert done.outcome is VerifyOutcome.VERIFIED
    assert again.outcome is VerifyOutcome.ALREADY
    async with db.uow(read_only=True) as uow:
        queued = [dict(r._mapping) for r in await uow.connection.execute(select(tables.outbox))]
        entries = await uow.audit.recent(None, 10)
    assert [(q["chat_id"], "zh_CN" in q["payload"]) for q in queued] == [(RESIDENT + 1, True)]
    assert [(e.action, e.target_user_id) for e in entries] == [(AUDIT_VERIFIED, RESIDENT + 1)]


async def test_mydata_lists_the_codes_used_and_deleteme_unlinks_them(db: Database) -> None:
    await register(db, a_resident())
    [code] = await issue(db, "HD-01-1", 1, "502")
    await redeem_household_code(db.uow(), RESIDENT, code, NOW)
    await redeem_household_code(db.uow(), RESIDENT, "ABCD-2345", NOW)

    async with db.uow(read_only=True) as uow:
        export = await uow.personal_data.export(RESIDENT)
    assert export["household_codes_used"] == [
        {
            "community_code": "HD",
            "compound_code": "HD-01",
            "building_code": "HD-01-1",
            "unit_label": "502",
            "used_at": NOW.isoformat(),
        }
    ]
    async with db.uow() as uow:
        await uow.personal_data.erase(RESIDENT)
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        found = await uow.household_codes.find(code_hash(code))
        failures = await uow.household_codes.failures_since(RESIDENT, NOW - timedelta(days=1))
    assert found is not None
    assert found.used_by is None
    assert found.used_at == NOW
    assert failures == [NOW], "kept through erasure: /deleteme does not reset the limit"
    await register(db, a_resident(RESIDENT + 2))
    reused = await redeem_household_code(db.uow(), RESIDENT + 2, code, NOW)
    assert reused.outcome is RedeemOutcome.USED, "an erased user's code stays used"


async def test_verify_answers_alike_for_an_unknown_id_and_another_communitys_resident(
    db: Database,
) -> None:
    """Staff cannot learn by trying ids who is registered, or where."""
    await register(db, a_resident())

    def compose(language: str) -> Mapping[str, Any]:
        return {"text": "verified"}

    elsewhere = await verify_resident(db.uow(), CB_CLERK, RESIDENT, PLACES, NOW, compose)
    unknown = await verify_resident(db.uow(), CB_CLERK, RESIDENT + 99, PLACES, NOW, compose)
    resident_elsewhere = await verify_resident(db.uow(), Actor(3), RESIDENT, PLACES, NOW, compose)
    resident_unknown = await verify_resident(
        db.uow(), Actor(3), RESIDENT + 99, PLACES, NOW, compose
    )

    assert elsewhere == unknown == VerifyResult(VerifyOutcome.NOT_A_RESIDENT)
    assert resident_elsewhere == resident_unknown
    assert resident_elsewhere.outcome is VerifyOutcome.REFUSED
    stored = await resident(db)
    assert stored is not None
    assert stored.level is VerificationLevel.UNVERIFIED


async def test_deleteme_does_not_reset_the_limit_on_wrong_codes(db: Database) -> None:
    for minute in range(MAX_FAILURES):
        await start_with_household_code(
            db.uow(), RESIDENT, "hc_ABCD2345", PLACES, NOW + timedelta(minutes=minute), minute
        )
    async with db.uow() as uow:
        await uow.personal_data.erase(RESIDENT)
        await uow.commit()
    [code] = await issue(db, "HD-01", 1)

    again = await start_with_household_code(
        db.uow(), RESIDENT, household_payload(code), PLACES, NOW + timedelta(minutes=10), 10
    )

    assert again.code_outcome is RedeemOutcome.TOO_MANY_ATTEMPTS


async def test_the_county_wide_cap_pauses_only_those_who_guessed_wrong_and_old_guesses_age_out(
    db: Database,
) -> None:
    cap = 3
    guesser = RESIDENT + 1
    await register(db, a_resident(), a_resident(guesser))
    first, second = await issue(db, "HD-01", 2)
    for n in range(cap):  # three strangers, one wrong guess each: under each one's own limit
        await start_with_household_code(
            db.uow(), RESIDENT + 10 + n, "hc_ABCD2345", PLACES, NOW + timedelta(minutes=n), n, cap
        )
    async with db.uow(read_only=True) as uow:
        assert await uow.household_codes.count_failures_since(NOW - timedelta(hours=1)) == cap

    honest = await redeem_household_code(db.uow(), RESIDENT, first, NOW + timedelta(minutes=5), cap)
    wrong = await redeem_household_code(
        db.uow(), guesser, "ABCD-2346", NOW + timedelta(minutes=6), cap
    )
    waits = await redeem_household_code(db.uow(), guesser, second, NOW + timedelta(minutes=7), cap)
    link = household_payload(second)
    newcomer = await start_with_household_code(
        db.uow(), RESIDENT + 50, link, PLACES, NOW + timedelta(minutes=7), 9, cap
    )
    later = await redeem_household_code(db.uow(), guesser, second, NOW + timedelta(minutes=66), cap)

    assert honest.outcome is RedeemOutcome.VERIFIED, "others' guesses never stop a right code"
    assert wrong.outcome is RedeemOutcome.UNKNOWN, "a first code of the hour is always checked"
    assert waits.outcome is RedeemOutcome.COUNTY_BUSY, "having guessed wrong, even the right waits"
    assert waits.retry_at == NOW + timedelta(minutes=66), "when their own wrong code ages out"
    assert newcomer.code_outcome is RedeemOutcome.COUNTY_BUSY, "strangers wait while it lasts"
    assert later.outcome is RedeemOutcome.VERIFIED
    await redeem_household_code(db.uow(), RESIDENT, "ABCD-2345", NOW + timedelta(minutes=67))
    async with db.uow(read_only=True) as uow:
        left = await uow.household_codes.count_failures_since(NOW - timedelta(days=1))
    assert left == 1, "guesses older than the hour are dropped"


async def test_rotate_handled_twice_for_one_update_rotates_once(db: Database) -> None:
    first = await rotate_building_code(db.uow(), ADMIN, "HD-01-1", PLACES, NOW, update_id=501)
    again = await rotate_building_code(db.uow(), ADMIN, "HD-01-1", PLACES, NOW, update_id=501)
    next_one = await rotate_building_code(db.uow(), ADMIN, "HD-01-1", PLACES, NOW, update_id=502)

    assert (first.version, first.repeated) == (1, False)
    assert (again.version, again.repeated) == (1, True), "the QR code sent first still works"
    assert next_one.version == 2
    async with db.uow(read_only=True) as uow:
        actions = [e.action for e in await uow.audit.recent(None, 10)]
    assert actions == [AUDIT_CODE_ROTATED, AUDIT_CODE_ROTATED]


async def test_an_update_handled_again_after_someone_elses_rotation_does_not_void_it(
    db: Database,
) -> None:
    other_admin = with_config_admins(Actor(3), [3])
    a = await rotate_building_code(db.uow(), ADMIN, "HD-01-1", PLACES, NOW, update_id=701)
    b = await rotate_building_code(db.uow(), other_admin, "HD-01-1", PLACES, NOW, update_id=702)
    a_again = await rotate_building_code(db.uow(), ADMIN, "HD-01-1", PLACES, NOW, update_id=701)

    assert (a.version, b.version) == (1, 2)
    assert (a_again.version, a_again.repeated) == (2, True), "B's new code keeps working"
    async with db.uow(read_only=True) as uow:
        assert await uow.building_links.version("HD-01-1") == 2
        entries = await uow.audit.recent(None, 10)
    assert [(e.actor_id, e.update_id) for e in entries] == [(3, 702), (1, 701)]


async def test_codes_handled_twice_for_one_update_print_one_batch(db: Database) -> None:
    def issue_for(update_id: int) -> Any:
        return issue_household_codes(
            db.uow(), ADMIN, "HD-01-1", 3, [], PLACES, NOW, 30, update_id=update_id
        )

    first = await issue_for(601)
    again = await issue_for(601)
    other = await issue_for(602)

    assert first.outcome is IssueOutcome.ISSUED
    assert (again.outcome, again.already, again.codes) == (IssueOutcome.ALREADY_ISSUED, 3, ())
    assert other.outcome is IssueOutcome.ISSUED
    async with db.uow(read_only=True) as uow:
        rows = list(await uow.connection.execute(select(tables.household_codes)))
        actions = [e.action for e in await uow.audit.recent(None, 10)]
    assert len(rows) == 6
    assert actions == [AUDIT_CODES_ISSUED, AUDIT_CODES_ISSUED]


async def test_a_code_works_all_of_its_last_printed_day_and_not_a_minute_after(
    db: Database,
) -> None:
    evening = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    result = await issue_household_codes(db.uow(), ADMIN, "HD-01", 2, [], PLACES, evening, 30)
    assert result.last_day == date(2026, 12, 25)
    first, second = (i.code for i in result.codes)
    await register(db, a_resident(), a_resident(RESIDENT + 1))

    last_minute = await redeem_household_code(
        db.uow(),
        RESIDENT,
        first,
        datetime(2026, 12, 25, 15, 59, tzinfo=UTC),  # 23:59 local
    )
    midnight = await redeem_household_code(
        db.uow(),
        RESIDENT + 1,
        second,
        datetime(2026, 12, 25, 16, 0, tzinfo=UTC),  # 00:00 local
    )

    assert last_minute.outcome is RedeemOutcome.VERIFIED
    assert midnight.outcome is RedeemOutcome.EXPIRED


async def test_a_newcomer_whose_code_was_used_meanwhile_is_told_why_on_registering(
    db: Database,
) -> None:
    await register(db, a_resident(RESIDENT + 1))
    [code] = await issue(db, "HD-01-1", 1)
    started = await start_with_household_code(
        db.uow(), RESIDENT, household_payload(code), PLACES, NOW, 1
    )
    assert started.code_outcome is None
    await redeem_household_code(db.uow(), RESIDENT + 1, code, NOW)  # someone else, first

    steps: list[Any] = [ChooseLanguage("en"), SkipUnit(), GiveConsent(), ConfirmProfile()]
    for update_id, answer in enumerate(steps, start=2):
        result = await answer_flow(db.uow(), RESIDENT, answer, PLACES, NOW, update_id, None)
    replayed = await answer_flow(db.uow(), RESIDENT, ConfirmProfile(), PLACES, NOW, 5, None)

    assert (result.outcome, result.code_miss) == (AnswerOutcome.REGISTERED, CodeMiss.USED)
    assert (replayed.outcome, replayed.code_miss) == (AnswerOutcome.REPLAYED, CodeMiss.USED)
    stored = await resident(db)
    assert stored is not None
    assert stored.level is VerificationLevel.UNVERIFIED


async def test_a_newcomer_who_chose_another_compound_is_told_the_code_was_not_used(
    db: Database,
) -> None:
    [code] = await issue(db, "HD-01", 1)
    await start_with_household_code(db.uow(), RESIDENT, household_payload(code), PLACES, NOW, 1)
    steps: list[Any] = [
        ChooseLanguage("en"),
        GoBack(Step.BUILDING),  # from the building back to the compound
        ChooseCompound("HD-02"),
        ChooseBuilding(None),
        SkipUnit(),
        GiveConsent(),
        ConfirmProfile(),
    ]
    result = None
    for update_id, answer in enumerate(steps, start=2):
        result = await answer_flow(db.uow(), RESIDENT, answer, PLACES, NOW, update_id, None)

    assert result is not None
    assert (result.outcome, result.code_miss) == (
        AnswerOutcome.REGISTERED,
        CodeMiss.OTHER_COMPOUND,
    )
    async with db.uow(read_only=True) as uow:
        still = await uow.household_codes.find(code_hash(code))
    assert still is not None
    assert still.used_at is None, "the code stays usable for the household it was printed for"
