"""Owner claims: the repository and the use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import load_config_file, places_from_config
from civic.outbox import OutgoingMessage
from civic.personal_data import erase_own_data, export_own_data
from civic.places import sync_places
from civic.register_claims import (
    CLAIM,
    CLAIM_APPROVED,
    CLAIM_REJECTED,
    Claim,
    ClaimOutcome,
    ClaimStatus,
    ConfirmClaim,
    DeedKind,
    EnterArea,
    EnterName,
    EnterUnit,
    GivePhoto,
    KeepUnit,
    RejectReason,
    ReviewOutcome,
    SkipPhoto,
    StartClaim,
    Step,
    WithdrawOutcome,
    answer_claim,
    approve_claim,
    owner_standing,
    pending_claims,
    reject_claim,
    review_claim,
    review_notice_key,
    reviewers_of,
    start_claim,
    withdraw_claim,
)
from civic.residents import Resident, VerificationLevel
from civic.roles import Actor, Grant, Position, Role, Scope, ScopeKind, load_actor
from storage import tables
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
RESIDENT = 880_000_001
STAFF_HD = 880_000_101
STAFF_CB = 880_000_102
ADMIN = 880_000_900


class RecordingNotices:
    """Renders notices as plain payloads naming what they are about."""

    def to_reviewer(self, claim: Claim, reviewer_id: int, language: str | None) -> OutgoingMessage:
        return OutgoingMessage(
            reviewer_id,
            {"text": f"review {claim.id} in {language}"},
            dedupe_key=review_notice_key(claim.id or 0, reviewer_id),
        )

    def to_claimant(self, claim: Claim, language: str | None) -> OutgoingMessage:
        return OutgoingMessage(
            claim.user_id,
            {"text": f"{claim.status} {claim.id} in {language}"},
            dedupe_key=f"register:claim:{claim.id}:decided",
        )


NOTICES = RecordingNotices()


def a_resident(user_id: int = RESIDENT, **changes: object) -> Resident:
    resident = Resident(
        user_id=user_id,
        language="en",
        community_code="HD",
        compound_code="HD-01",
        building_code="HD-01-2",
        unit_label="3单元502",
        level=VerificationLevel.UNVERIFIED,
        consented_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(resident, **changes)  # type: ignore[arg-type]


def a_claim(user_id: int = RESIDENT, **changes: object) -> Claim:
    claim = Claim(
        user_id=user_id,
        community_code="HD",
        compound_code="HD-01",
        building_code="HD-01-2",
        unit_label="3单元502",
        area_centi_m2=8950,
        owner_name="王芳",
        deed_file_id="AgACAgIAAxk-deed",
        created_at=NOW,
        deed_kind=DeedKind.PHOTO,
    )
    return replace(claim, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def db(database: Database) -> Database:
    await sync_places(database.uow(), PLACES, NOW)
    async with database.uow() as uow:
        await uow.residents.add(a_resident())
        for user_id, community in ((STAFF_HD, "HD"), (STAFF_CB, "CB")):
            await uow.roles.add(
                Grant(
                    user_id,
                    Role.STAFF,
                    Scope(ScopeKind.COMMUNITY, community),
                    community_code=community,
                    position=Position.CLERK,
                    granted_at=NOW,
                )
            )
        await uow.commit()
    return database


async def actor(db: Database, user_id: int) -> Actor:
    return await load_actor(db.uow(read_only=True), user_id, [ADMIN])


async def queued(db: Database) -> list[tuple[int, str]]:
    async with db.uow(read_only=True) as uow:
        rows = await uow.connection.execute(
            select(tables.outbox.c.chat_id, tables.outbox.c.payload).order_by(tables.outbox.c.id)
        )
        return [(int(chat), json.loads(payload)["text"]) for chat, payload in rows]


# -- the repository ----------------------------------------------------------------


async def test_a_claim_is_stored_and_read_back_with_its_area_in_hundredths(db: Database) -> None:
    async with db.uow() as uow:
        claim_id = await uow.register_claims.add(a_claim(area_centi_m2=1_000_000))
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        stored = await uow.register_claims.get(claim_id)
        mine = await uow.register_claims.of_user(RESIDENT)
    assert stored == a_claim(area_centi_m2=1_000_000, id=claim_id)
    assert isinstance(stored.area_centi_m2, int)
    assert [c.id for c in mine] == [claim_id]


async def test_pending_for_finds_the_same_unit_only_and_treats_no_building_as_a_value(
    db: Database,
) -> None:
    async with db.uow() as uow:
        with_building = await uow.register_claims.add(a_claim())
        without = await uow.register_claims.add(
            a_claim(compound_code="HD-02", building_code=None, unit_label="5")
        )
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        repo = uow.register_claims
        assert (
            await repo.pending_for(RESIDENT, "HD-01", "HD-01-2", "3单元502")
        ).id == with_building  # type: ignore[union-attr]
        assert (await repo.pending_for(RESIDENT, "HD-02", None, "5")).id == without  # type: ignore[union-attr]
        assert await repo.pending_for(RESIDENT, "HD-01", "HD-01-1", "3单元502") is None
        assert await repo.pending_for(RESIDENT + 1, "HD-02", None, "5") is None


async def test_settle_changes_a_pending_claim_once(db: Database) -> None:
    async with db.uow() as uow:
        claim_id = await uow.register_claims.add(a_claim())
        await uow.commit()
    async with db.uow() as uow:
        first = await uow.register_claims.settle(
            claim_id, ClaimStatus.REJECTED, by=STAFF_HD, now=NOW, reason_code=RejectReason.ILLEGIBLE
        )
        second = await uow.register_claims.settle(
            claim_id, ClaimStatus.APPROVED, by=STAFF_CB, now=NOW
        )
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        stored = await uow.register_claims.get(claim_id)
        pending = await uow.register_claims.pending_in("HD", 10)
        count = await uow.register_claims.count_pending_in("HD")
    assert (first, second) == (True, False)
    assert stored is not None
    assert stored.status is ClaimStatus.REJECTED
    assert stored.reason_code is RejectReason.ILLEGIBLE
    assert stored.decided_by == STAFF_HD
    assert (pending, count) == ([], 0)


async def test_pending_in_lists_oldest_first_within_the_community(db: Database) -> None:
    async with db.uow() as uow:
        ids = [await uow.register_claims.add(a_claim(unit_label=f"{n}0{n}")) for n in range(1, 4)]
        await uow.register_claims.add(
            a_claim(community_code="CB", compound_code="CB-01", building_code=None)
        )
        await uow.commit()
    async with db.uow(read_only=True) as uow:
        listed = await uow.register_claims.pending_in("HD", 2)
        total = await uow.register_claims.count_pending_in("HD")
    assert [c.id for c in listed] == ids[:2]
    assert total == 3


# -- claiming ----------------------------------------------------------------------


async def claim_through(
    db: Database, answers: list[object], *, start_update: int = 100
) -> list[ClaimOutcome]:
    started = await start_claim(db.uow(), RESIDENT, PLACES, NOW, start_update)
    assert started.outcome is StartClaim.STARTED
    outcomes = []
    for offset, answer in enumerate(answers, start=1):
        result = await answer_claim(
            db.uow(),
            RESIDENT,
            answer,  # type: ignore[arg-type]
            PLACES,
            NOW,
            start_update + offset,
            None,
            NOTICES,
            [ADMIN],
        )
        outcomes.append(result.outcome)
    return outcomes


async def test_a_resident_claims_their_unit_and_the_community_staff_are_told(
    db: Database,
) -> None:
    outcomes = await claim_through(
        db,
        [
            KeepUnit(),
            EnterArea("89,5㎡"),
            EnterName(" 王芳 "),
            GivePhoto("deed-file"),
            ConfirmClaim(),
        ],
    )

    assert outcomes[-1] is ClaimOutcome.SUBMITTED
    pending = await pending_claims(db.uow(read_only=True), "HD")
    assert pending.total == 1
    claim = pending.claims[0]
    assert (claim.unit_label, claim.area_centi_m2, claim.owner_name) == ("3单元502", 8950, "王芳")
    assert claim.building_code == "HD-01-2"
    assert claim.deed_file_id == "deed-file"
    assert await queued(db) == [(STAFF_HD, f"review {claim.id} in None")]


async def test_a_redelivered_confirm_makes_one_claim(db: Database) -> None:
    await claim_through(db, [KeepUnit(), EnterArea("60"), EnterName("李"), SkipPhoto()])
    results = [
        await answer_claim(
            db.uow(), RESIDENT, ConfirmClaim(), PLACES, NOW, 200, 5, NOTICES, [ADMIN]
        )
        for _ in range(2)
    ]
    assert [r.outcome for r in results] == [ClaimOutcome.SUBMITTED, ClaimOutcome.REPLAYED]
    assert results[0].claim == results[1].claim
    assert (await pending_claims(db.uow(read_only=True), "HD")).total == 1
    assert len(await queued(db)) == 1


async def test_a_second_claim_to_the_same_unit_is_already_waiting(db: Database) -> None:
    answers = [KeepUnit(), EnterArea("60"), EnterName("李"), SkipPhoto(), ConfirmClaim()]
    await claim_through(db, answers)
    again = await claim_through(db, answers, start_update=300)
    assert again[-1] is ClaimOutcome.ALREADY_PENDING
    assert (await pending_claims(db.uow(read_only=True), "HD")).total == 1


async def test_an_over_long_name_is_refused_and_the_draft_keeps_the_rest(db: Database) -> None:
    outcomes = await claim_through(
        db, [EnterUnit("2-301"), EnterArea("72.25"), EnterName("王" * 31)]
    )
    assert outcomes[-1] is ClaimOutcome.NAME_TOO_LONG
    async with db.uow(read_only=True) as uow:
        flow = await uow.flows.get(RESIDENT, CLAIM)
    assert flow is not None
    assert flow.step == Step.NAME.value
    assert flow.draft["unit"] == "2-301"
    assert flow.draft["area_centi_m2"] == 7225


async def test_someone_not_registered_cannot_claim(db: Database) -> None:
    result = await start_claim(db.uow(), RESIDENT + 5, PLACES, NOW, 1)
    assert result.outcome is StartClaim.NOT_REGISTERED


async def test_without_staff_the_county_admins_are_told(db: Database) -> None:
    async with db.uow() as uow:
        assert await reviewers_of(uow, "JFL", PLACES, [ADMIN]) == [ADMIN]
        assert await reviewers_of(uow, "HD", PLACES, [ADMIN]) == [STAFF_HD]


# -- reviewing ---------------------------------------------------------------------


async def submitted(db: Database) -> Claim:
    await claim_through(
        db,
        [
            KeepUnit(),
            EnterArea("89.5"),
            EnterName("王芳"),
            GivePhoto("PHOTO-FILE-ID-42"),
            ConfirmClaim(),
        ],
    )
    return (await pending_claims(db.uow(read_only=True), "HD")).claims[0]


async def test_approving_makes_an_owner_verifies_the_resident_and_is_audited(
    db: Database,
) -> None:
    claim = await submitted(db)
    assert claim.id is not None
    staff = await actor(db, STAFF_HD)

    result = await approve_claim(db.uow(), staff, claim.id, PLACES, NOW, 9, NOTICES)
    again = await approve_claim(db.uow(), staff, claim.id, PLACES, NOW, 10, NOTICES)

    assert result.outcome is ReviewOutcome.DECIDED
    assert again.outcome is ReviewOutcome.ALREADY_DECIDED
    assert again.claim is not None
    assert again.claim.decided_by == STAFF_HD
    grants, waiting = await owner_standing(db.uow(read_only=True), RESIDENT)
    assert [g.scope for g in grants] == [Scope(ScopeKind.UNIT, "HD-01/HD-01-2/3单元502")]
    assert grants[0].community_code == "HD"
    assert waiting == 0
    async with db.uow(read_only=True) as uow:
        resident = await uow.residents.get(RESIDENT)
        audit = await uow.audit.recent(frozenset({"HD"}), 10)
    assert resident is not None
    assert resident.level is VerificationLevel.VERIFIED
    assert [(e.action, e.actor_id, e.target_user_id) for e in audit] == [
        (CLAIM_APPROVED, STAFF_HD, RESIDENT)
    ]
    assert audit[0].details == {
        "claim_id": claim.id,
        "unit": "HD-01/HD-01-2/3单元502",
        "area_m2": "89.50",
    }
    assert (RESIDENT, f"approved {claim.id} in en") in await queued(db)


async def test_rejecting_tells_the_claimant_the_reason(db: Database) -> None:
    claim = await submitted(db)
    assert claim.id is not None
    staff = await actor(db, STAFF_HD)

    typed = await reject_claim(
        db.uow(), staff, claim.id, PLACES, NOW, 9, NOTICES, reason_text="x" * 201
    )
    result = await reject_claim(
        db.uow(), staff, claim.id, PLACES, NOW, 10, NOTICES, reason_text=" 请带原件来社区 "
    )

    assert typed.outcome is ReviewOutcome.REASON_TOO_LONG
    assert result.outcome is ReviewOutcome.DECIDED
    assert result.claim is not None
    assert result.claim.reason == "请带原件来社区"
    async with db.uow(read_only=True) as uow:
        audit = await uow.audit.recent(None, 10)
        resident = await uow.residents.get(RESIDENT)
    assert [e.action for e in audit] == [CLAIM_REJECTED]
    assert "PHOTO-FILE-ID-42" not in json.dumps(audit[0].details)
    assert resident is not None
    assert resident.level is VerificationLevel.UNVERIFIED
    assert (RESIDENT, f"rejected {claim.id} in en") in await queued(db)
    assert (await owner_standing(db.uow(read_only=True), RESIDENT))[0] == []


async def test_staff_of_another_community_and_residents_cannot_see_or_decide(
    db: Database,
) -> None:
    claim = await submitted(db)
    assert claim.id is not None
    for outsider in (await actor(db, STAFF_CB), await actor(db, RESIDENT)):
        seen = await review_claim(db.uow(read_only=True), outsider, claim.id, PLACES)
        decided = await approve_claim(db.uow(), outsider, claim.id, PLACES, NOW, 9, NOTICES)
        assert seen.outcome is ReviewOutcome.REFUSED
        assert seen.claim is None
        assert decided.outcome is ReviewOutcome.REFUSED
    admin = await review_claim(db.uow(read_only=True), await actor(db, ADMIN), claim.id, PLACES)
    assert admin.outcome is ReviewOutcome.SHOWN


async def test_withdrawing_is_the_claimants_and_only_while_pending(db: Database) -> None:
    claim = await submitted(db)
    assert claim.id is not None
    later = NOW + timedelta(minutes=5)
    assert (await withdraw_claim(db.uow(), STAFF_HD, claim.id, later))[0] is (
        WithdrawOutcome.NOT_FOUND
    )
    assert (await withdraw_claim(db.uow(), RESIDENT, claim.id, later))[0] is (
        WithdrawOutcome.WITHDRAWN
    )
    assert (await withdraw_claim(db.uow(), RESIDENT, claim.id, later))[0] is (
        WithdrawOutcome.ALREADY_DECIDED
    )
    staff = await actor(db, STAFF_HD)
    late = await approve_claim(db.uow(), staff, claim.id, PLACES, later, 9, NOTICES)
    assert late.outcome is ReviewOutcome.ALREADY_DECIDED


# -- personal data ---------------------------------------------------------------


async def test_mydata_lists_claims_without_the_photo_and_deleteme_removes_them(
    db: Database,
) -> None:
    await submitted(db)
    document = json.loads(await export_own_data(db.uow(read_only=True), RESIDENT, NOW))
    exported = document["owner_claims"]
    assert len(exported) == 1
    assert exported[0]["deed_photo_given"] is True
    assert "deed_file_id" not in exported[0]
    assert "PHOTO-FILE-ID-42" not in json.dumps(document)

    await erase_own_data(db.uow(), RESIDENT, NOW)

    async with db.uow(read_only=True) as uow:
        assert await uow.register_claims.of_user(RESIDENT) == []


async def test_erasing_takes_back_reviewers_notes_about_ones_claims(db: Database) -> None:
    claim = await submitted(db)
    other = await claim_through(
        db,
        [EnterUnit("9-901"), EnterArea("50"), EnterName("王芳"), SkipPhoto(), ConfirmClaim()],
        start_update=500,
    )
    assert other[-1] is ClaimOutcome.SUBMITTED
    async with db.uow() as uow:  # the first claim's note went out; the second's waits
        sent_id = (
            await uow.connection.execute(
                select(tables.outbox.c.id).where(
                    tables.outbox.c.dedupe_key == review_notice_key(claim.id or 0, STAFF_HD)
                )
            )
        ).scalar_one()
        await uow.outbox.mark_sent(sent_id, NOW, 77)
        await uow.outbox.enqueue([OutgoingMessage(STAFF_HD, {"text": "unrelated"})], NOW)
        await uow.commit()
    assert len(await queued(db)) == 3

    await erase_own_data(db.uow(), RESIDENT, NOW)

    async with db.uow(read_only=True) as uow:
        rows = (
            await uow.connection.execute(
                select(tables.outbox.c.id, tables.outbox.c.payload).order_by(tables.outbox.c.id)
            )
        ).all()
    assert [(row_id, json.loads(payload)) for row_id, payload in rows] == [
        (sent_id, {"erased": True}),
        (rows[1][0], {"text": "unrelated"}),
    ]


async def test_mydata_shows_an_unfinished_claims_draft_without_the_deeds_file_id(
    db: Database,
) -> None:
    await claim_through(
        db,
        [
            KeepUnit(),
            EnterArea("60"),
            EnterName("李"),
            GivePhoto("BQAC-DEED-FILE", DeedKind.DOCUMENT),
        ],
    )
    document = json.loads(await export_own_data(db.uow(read_only=True), RESIDENT, NOW))
    assert "BQAC-DEED-FILE" not in json.dumps(document)
    [flow] = [f for f in document["flows"] if f["name"] == CLAIM]
    assert flow["draft"]["deed_photo_given"] is True
    assert flow["draft"]["deed_kind"] == "document"
    assert flow["draft"]["owner_name"] == "李"


async def test_withdrawing_takes_back_the_reviewers_unsent_notes(db: Database) -> None:
    claim = await submitted(db)
    assert claim.id is not None
    assert [chat for chat, _ in await queued(db)] == [STAFF_HD]
    outcome, _ = await withdraw_claim(db.uow(), RESIDENT, claim.id, NOW)
    assert outcome is WithdrawOutcome.WITHDRAWN
    assert await queued(db) == []


async def test_a_document_deed_is_stored_as_one(db: Database) -> None:
    await claim_through(
        db,
        [
            KeepUnit(),
            EnterArea("60"),
            EnterName("李"),
            GivePhoto("BQAC-PDF", DeedKind.DOCUMENT),
            ConfirmClaim(),
        ],
    )
    [claim] = (await pending_claims(db.uow(read_only=True), "HD")).claims
    assert (claim.deed_file_id, claim.deed_kind) == ("BQAC-PDF", DeedKind.DOCUMENT)
    assert claim.deed_is_document


# -- nobody decides their own claim ---------------------------------------------------------


async def test_staff_cannot_decide_their_own_claim_and_another_reviewer_is_told(
    db: Database,
) -> None:
    async with db.uow() as uow:
        await uow.residents.add(a_resident(STAFF_HD))
        await uow.commit()
    started = await start_claim(db.uow(), STAFF_HD, PLACES, NOW, 700)
    assert started.outcome is StartClaim.STARTED
    for offset, answer in enumerate(
        [KeepUnit(), EnterArea("60"), EnterName("胡"), SkipPhoto(), ConfirmClaim()], start=1
    ):
        result = await answer_claim(
            db.uow(), STAFF_HD, answer, PLACES, NOW, 700 + offset, None, NOTICES, [ADMIN]
        )
    assert result.outcome is ClaimOutcome.SUBMITTED
    claim = result.claim
    assert claim is not None
    assert claim.id is not None
    # The community's only staff member claimed: the admins are told instead.
    assert [chat for chat, _ in await queued(db)] == [ADMIN]

    own = await actor(db, STAFF_HD)
    assert (await review_claim(db.uow(read_only=True), own, claim.id, PLACES)).outcome is (
        ReviewOutcome.OWN_CLAIM
    )
    approved = await approve_claim(db.uow(), own, claim.id, PLACES, NOW, 720, NOTICES)
    rejected = await reject_claim(
        db.uow(), own, claim.id, PLACES, NOW, 721, NOTICES, reason_code=RejectReason.NO_DEED
    )
    assert (approved.outcome, rejected.outcome) == (ReviewOutcome.OWN_CLAIM,) * 2
    assert approved.claim is None
    listed = await pending_claims(db.uow(read_only=True), "HD", STAFF_HD)
    assert (listed.claims, listed.total, listed.own) == ([], 0, 1)
    assert (await pending_claims(db.uow(read_only=True), "HD", ADMIN)).total == 1
    assert (await owner_standing(db.uow(read_only=True), STAFF_HD))[0] == []

    by_admin = await approve_claim(
        db.uow(), await actor(db, ADMIN), claim.id, PLACES, NOW, 730, NOTICES
    )
    assert by_admin.outcome is ReviewOutcome.DECIDED


async def test_an_empty_typed_reason_is_refused_as_empty(db: Database) -> None:
    claim = await submitted(db)
    assert claim.id is not None
    result = await reject_claim(
        db.uow(), await actor(db, STAFF_HD), claim.id, PLACES, NOW, 9, NOTICES, reason_text=" "
    )
    assert result.outcome is ReviewOutcome.REASON_EMPTY
    assert (
        await review_claim(db.uow(read_only=True), await actor(db, ADMIN), claim.id, PLACES)
    ).claim.pending  # type: ignore[union-attr]


async def test_discarding_takes_back_only_unsent_notes_with_that_exact_prefix(
    db: Database,
) -> None:
    keys = ["register:claim:1:review:5", "register:claim:12:review:5", "register:claim:1:decided"]
    async with db.uow() as uow:
        await uow.outbox.enqueue([OutgoingMessage(5, {"text": k}, dedupe_key=k) for k in keys], NOW)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.outbox.discard_pending("register:claim:1:review:") == 1
        assert await uow.outbox.discard_pending("register:claim:_:review:") == 0
        await uow.commit()
    assert [text for _, text in await queued(db)] == keys[1:]
