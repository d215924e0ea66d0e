"""Owner claims' rules: areas, names, the claim flow's steps, who reviews, and the screens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import MAX_BYTES, CallbackCodec
from bot.config import load_config_file, places_from_config
from bot.i18n import Catalogs
from civic.register_claims import (
    MAX_AREA_CENTI,
    MAX_NAME_CHARS,
    MIN_AREA_CENTI,
    AreaCheck,
    Claim,
    ClaimDraft,
    ClaimOutcome,
    ClaimStatus,
    ConfirmClaim,
    DeedKind,
    EditStep,
    EnterArea,
    EnterName,
    EnterUnit,
    GivePhoto,
    GoBack,
    KeepUnit,
    NameCheck,
    ReviewAccess,
    SkipPhoto,
    Step,
    answer_step,
    check_name,
    check_reason,
    deed_document_accepted,
    first_step,
    format_area,
    new_claim,
    parse_area,
    review_community,
    split_unit_scope,
)
from civic.residents import Resident, VerificationLevel
from civic.roles import Actor, Grant, Position, Role, Scope, ScopeKind, unit_scope_code
from handlers.register_claims_views import (
    OutboxNotices,
    card_screen,
    decided_screen,
    list_header,
    reason_screen,
    step_screen,
)
from handlers.residents_views import Painter
from tests.helpers import SHIPPED_CONFIG

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CODEC = CallbackCodec(b"unit-test-signing-key-0123456789")
CATALOGS = Catalogs.load()


# -- areas ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "centi"),
    [
        ("89", 8900),
        ("89.5", 8950),
        ("89.50", 8950),
        ("89,5", 8950),
        ("89.5㎡", 8950),
        ("89.5平方米", 8950),
        ("89.5 平米", 8950),
        ("89.5 m²", 8950),
        ("８９．５", 8950),
        (" 1 ", 100),
        ("10000", 1_000_000),
        ("0.1 ", None),
    ],
)
def test_an_area_is_read_in_hundredths_of_a_square_metre(text: str, centi: int | None) -> None:
    check, value = parse_area(text)
    if centi is None:
        assert check is AreaCheck.OUT_OF_RANGE
    else:
        assert (check, value) == (AreaCheck.OK, centi)


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("", AreaCheck.EMPTY),
        ("㎡", AreaCheck.EMPTY),
        ("about 90", AreaCheck.NOT_A_NUMBER),
        ("-89", AreaCheck.NOT_A_NUMBER),
        ("1e3", AreaCheck.NOT_A_NUMBER),
        ("89.555", AreaCheck.TOO_PRECISE),
        ("1,000", AreaCheck.TOO_PRECISE),
        ("0.99", AreaCheck.OUT_OF_RANGE),
        ("10000.01", AreaCheck.OUT_OF_RANGE),
    ],
)
def test_an_area_that_is_not_one_is_refused_with_its_reason(text: str, check: AreaCheck) -> None:
    assert parse_area(text)[0] is check


@given(st.integers(min_value=MIN_AREA_CENTI, max_value=MAX_AREA_CENTI))
def test_every_area_in_range_round_trips_through_its_written_forms(centi: int) -> None:
    written = format_area(centi)
    assert parse_area(written) == (AreaCheck.OK, centi)
    assert parse_area(written.replace(".", ",") + "㎡") == (AreaCheck.OK, centi)
    assert parse_area(written + "平方米") == (AreaCheck.OK, centi)


# -- names ----------------------------------------------------------------------------------


def test_a_name_is_trimmed_and_limited_to_30_characters() -> None:
    assert check_name("  王 芳 ") == (NameCheck.OK, "王 芳")
    assert check_name("A" * MAX_NAME_CHARS) == (NameCheck.OK, "A" * MAX_NAME_CHARS)
    assert check_name("A" * (MAX_NAME_CHARS + 1))[0] is NameCheck.TOO_LONG
    assert check_name("   ")[0] is NameCheck.EMPTY
    assert check_name("王\n芳")[0] is NameCheck.INVALID
    assert check_name("王\u200b芳")[0] is NameCheck.INVALID


# -- the flow -------------------------------------------------------------------------------


def resident(building: str | None = "HD-01-2", unit: str | None = "3单元502") -> Resident:
    return Resident(
        user_id=1,
        language="en",
        community_code="HD",
        compound_code="HD-01",
        building_code=building,
        unit_label=unit,
        level=VerificationLevel.UNVERIFIED,
        consented_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def walk(draft: ClaimDraft, step: Step, *answers: object) -> tuple[Step, ClaimDraft, ClaimOutcome]:
    outcome = ClaimOutcome.MOVED
    for answer in answers:
        moved = answer_step(step, draft, answer, PLACES)  # type: ignore[arg-type]
        step, draft, outcome = moved.step, moved.draft, moved.outcome
    return step, draft, outcome


def test_a_resident_with_a_building_starts_at_the_unit_and_one_without_at_the_building() -> None:
    assert first_step(ClaimDraft.for_resident(resident()), PLACES) is Step.UNIT
    assert first_step(ClaimDraft.for_resident(resident(building=None)), PLACES) is Step.BUILDING


def test_the_steps_go_unit_area_name_photo_confirm_and_keep_what_was_entered() -> None:
    draft = ClaimDraft.for_resident(resident())
    step, draft, outcome = walk(
        draft, Step.UNIT, KeepUnit(), EnterArea("89.5"), EnterName("王芳"), GivePhoto("f")
    )
    assert (step, outcome) == (Step.CONFIRM, ClaimOutcome.MOVED)
    assert (draft.unit_label, draft.area_centi_m2, draft.owner_name, draft.deed_file_id) == (
        "3单元502",
        8950,
        "王芳",
        "f",
    )
    refused = answer_step(Step.NAME, draft, EnterName("x" * 31), PLACES)
    assert refused.outcome is ClaimOutcome.NAME_TOO_LONG
    assert refused.draft == draft
    done = answer_step(step, draft, ConfirmClaim(), PLACES)
    assert done.outcome is ClaimOutcome.CONFIRMED


def test_edit_from_the_summary_returns_to_it_and_back_goes_one_step_back() -> None:
    draft = ClaimDraft.for_resident(resident())
    step, draft, _ = walk(
        draft, Step.UNIT, KeepUnit(), EnterArea("60"), EnterName("李"), SkipPhoto()
    )
    assert step is Step.CONFIRM
    step, draft, _ = walk(draft, step, EditStep(Step.AREA))
    assert step is Step.AREA
    step, draft, _ = walk(draft, step, EnterArea("61"))
    assert (step, draft.area_centi_m2, draft.editing) == (Step.CONFIRM, 6100, False)
    back = answer_step(Step.CONFIRM, draft, GoBack(Step.CONFIRM), PLACES)
    assert back.step is Step.PHOTO
    first = answer_step(Step.UNIT, draft, GoBack(Step.UNIT), PLACES)
    assert first.outcome is ClaimOutcome.WRONG_STEP  # the resident's own building: no step


def test_an_answer_for_another_step_moves_nothing() -> None:
    draft = ClaimDraft.for_resident(resident())
    for answer in (EnterArea("60"), GivePhoto("f"), ConfirmClaim(), EnterUnit("")):
        moved = answer_step(Step.NAME, draft, answer, PLACES)  # type: ignore[arg-type]
        assert moved.outcome is ClaimOutcome.WRONG_STEP
        assert moved.draft == draft


def test_keep_unit_needs_a_unit_and_an_empty_unit_is_refused() -> None:
    draft = ClaimDraft.for_resident(resident(unit=None))
    assert answer_step(Step.UNIT, draft, KeepUnit(), PLACES).outcome is ClaimOutcome.WRONG_STEP
    assert answer_step(Step.UNIT, draft, EnterUnit(" "), PLACES).outcome is (
        ClaimOutcome.UNIT_EMPTY
    )


def test_a_draft_survives_json_and_distrusts_wrong_shapes() -> None:
    draft = ClaimDraft(
        community_code="HD",
        compound_code="HD-01",
        building_code="HD-01-2",
        own_building=True,
        unit_label="3-502",
        area_centi_m2=8950,
        owner_name="王芳",
        deed_file_id="f",
        photo_answered=True,
    )
    assert ClaimDraft.from_json(draft.to_json()) == draft
    broken = ClaimDraft.from_json({"area_centi_m2": 89.5, "own_building": "yes", "claim_id": True})
    assert (broken.area_centi_m2, broken.own_building, broken.claim_id) == (None, False, None)


def test_a_unit_scope_code_splits_back_even_when_the_label_has_a_slash() -> None:
    assert split_unit_scope(unit_scope_code("HD-01", None, "2/301")) == ("HD-01", None, "2/301")
    assert split_unit_scope(unit_scope_code("HD-01", "HD-01-2", "3")) == ("HD-01", "HD-01-2", "3")


# -- who reviews -----------------------------------------------------------------------------


def staff(user_id: int, community: str) -> Grant:
    return Grant(
        user_id,
        Role.STAFF,
        Scope(ScopeKind.COMMUNITY, community),
        community_code=community,
        position=Position.CLERK,
    )


def test_staff_review_their_community_and_admins_name_one() -> None:
    clerk = Actor(1, (staff(1, "HD"),))
    county = Actor(2, (Grant(2, Role.ADMIN, Scope.county()),))
    resident_actor = Actor(3)
    assert review_community(clerk, None, PLACES) == (ReviewAccess.ALLOWED, "HD")
    assert review_community(clerk, "cb", PLACES) == (ReviewAccess.OTHER_COMMUNITY, "CB")
    assert review_community(county, None, PLACES) == (ReviewAccess.NAME_COMMUNITY, None)
    assert review_community(county, "jfl", PLACES) == (ReviewAccess.ALLOWED, "JFL")
    assert review_community(county, "XX", PLACES) == (ReviewAccess.UNKNOWN_COMMUNITY, None)
    assert review_community(resident_actor, None, PLACES)[0] is ReviewAccess.NOT_STAFF
    assert review_community(resident_actor, "HD", PLACES)[0] is ReviewAccess.NOT_STAFF


# -- screens ----------------------------------------------------------------------------------


def painter(locale: str = "en") -> Painter:
    return Painter(CATALOGS.for_locale(locale), CODEC, PLACES)  # type: ignore[arg-type]


def a_claim(**changes: object) -> Claim:
    from dataclasses import replace

    claim = Claim(
        user_id=9_999_999_999,
        community_code="HD",
        compound_code="HD-01",
        building_code="HD-01-2",
        unit_label="3单元502",
        area_centi_m2=8950,
        owner_name="王芳",
        deed_file_id="f",
        created_at=NOW,
        id=9_999_999_999,
    )
    return replace(claim, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_claim_keyboard_fits_telegrams_callback_limit(locale: str) -> None:
    draft = ClaimDraft.for_resident(resident(building=None))
    screens = [step_screen(painter(locale), step, draft) for step in Step if step is not Step.DONE]
    screens += [card_screen(painter(locale), a_claim()), reason_screen(painter(locale), a_claim())]
    for screen in screens:
        assert screen.keyboard is not None
        for row in screen.keyboard.inline_keyboard:
            for button in row:
                assert len((button.callback_data or "").encode()) <= MAX_BYTES  # type: ignore[arg-type]


def test_the_card_offers_the_photo_only_when_there_is_one_and_no_buttons_once_decided() -> None:
    assert [
        b.text for row in card_screen(painter(), a_claim()).keyboard.inline_keyboard for b in row
    ] == [  # type: ignore[union-attr]
        "Approve",
        "Reject",
        "Show deed photo",
    ]
    without = card_screen(painter(), a_claim(deed_file_id=None)).keyboard
    assert without is not None
    assert len(without.inline_keyboard) == 1
    decided = card_screen(
        painter(), a_claim(status=ClaimStatus.APPROVED, decided_by=5, decided_at=NOW)
    )
    assert decided.keyboard is None


def test_notices_are_in_the_recipients_language_and_never_carry_the_photo() -> None:
    notices = OutboxNotices(CATALOGS, CODEC, PLACES)
    review = notices.to_reviewer(a_claim(), 42, "zh_CN")
    assert "新的业主认证申请" in review.payload["text"]
    assert "f" not in review.payload.get("photo", "")
    approved = notices.to_claimant(a_claim(status=ClaimStatus.APPROVED), "en")
    assert (
        "you are now registered as owner of Hedong Garden Building 2 3单元502"
        in (approved.payload["text"])
    )
    assert approved.dedupe_key == f"register:claim:{a_claim().id}:decided"


# -- deeds sent as files, reasons, own claims, decided twice ------------------------------


@pytest.mark.parametrize(
    ("mime", "name", "accepted"),
    [
        ("image/jpeg", "deed.jpg", True),
        ("image/png", None, True),
        ("image/webp", "x", True),
        ("image/HEIC", "IMG_0001.HEIC", True),
        ("application/pdf", "scan.pdf", True),
        (None, "scan.PDF", True),
        ("application/octet-stream", "deed.jpeg", True),
        ("application/octet-stream", "deed.bin", False),
        ("application/msword", "deed.doc", False),
        ("application/zip", "deed.pdf", False),  # the type decides when there is one
        ("text/plain", "notes.txt", False),
        (None, None, False),
    ],
)
def test_a_deed_file_is_an_image_or_a_pdf(
    mime: str | None, name: str | None, accepted: bool
) -> None:
    assert deed_document_accepted(mime, name) is accepted


def test_a_deed_sent_as_a_file_is_kept_as_a_document_and_shown_as_one() -> None:
    draft = ClaimDraft.for_resident(resident())
    step, draft, _ = walk(draft, Step.UNIT, KeepUnit(), EnterArea("60"), EnterName("王芳"))
    moved = answer_step(step, draft, GivePhoto("BQAC-file", DeedKind.DOCUMENT), PLACES)
    assert moved.step is Step.CONFIRM
    assert (moved.draft.deed_file_id, moved.draft.deed_kind) == ("BQAC-file", DeedKind.DOCUMENT)
    assert ClaimDraft.from_json(moved.draft.to_json()) == moved.draft
    claim = replace(new_claim(1, moved.draft, NOW), id=5)
    assert claim.deed_is_document
    assert "Deed: attached as a file" in step_screen(painter(), Step.CONFIRM, moved.draft).text
    keyboard = card_screen(painter(), claim).keyboard
    assert keyboard is not None
    assert keyboard.inline_keyboard[-1][0].text == "Show deed file"
    skipped = answer_step(Step.PHOTO, moved.draft, SkipPhoto(), PLACES).draft
    assert (skipped.deed_file_id, skipped.deed_kind) == (None, None)
    photo = answer_step(Step.PHOTO, moved.draft, GivePhoto("AgAC-photo"), PLACES).draft
    assert not new_claim(1, photo, NOW).deed_is_document


def test_a_drafts_export_says_a_deed_was_given_and_never_holds_its_file_id() -> None:
    given = ClaimDraft(deed_file_id="AgAC-secret", photo_answered=True).to_json()
    exported = ClaimDraft.exported(given)
    assert "deed_file_id" not in exported
    assert "AgAC-secret" not in repr(exported)
    assert exported["deed_photo_given"] is True
    assert ClaimDraft.exported(ClaimDraft().to_json())["deed_photo_given"] is False


def test_an_empty_reason_is_empty_not_too_long() -> None:
    assert check_reason(" \u3000 ")[0] is NameCheck.EMPTY
    assert check_reason("x" * 201)[0] is NameCheck.TOO_LONG
    assert check_reason(" 请带 原件 ") == (NameCheck.OK, "请带 原件")


def test_a_second_press_by_the_same_reviewer_says_they_decided_it() -> None:
    decided = a_claim(status=ClaimStatus.APPROVED, decided_by=7, decided_at=NOW)
    mine = decided_screen(painter(), decided, by_me=False, viewer=7).text
    theirs = decided_screen(painter(), decided, by_me=False, viewer=8).text
    assert "You already decided this claim" in mine
    assert "by someone else" not in mine
    assert "already decided by someone else" in theirs


def test_the_claims_list_says_how_many_own_claims_it_left_out() -> None:
    header = list_header(painter(), "HD", 0, 0, own=1)
    assert "No owner claims are waiting" in header
    assert "Your own claims are not listed (1)" in header
    assert "not listed" not in list_header(painter(), "HD", 2, 2)
