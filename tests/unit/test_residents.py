"""Residents' rules without a database: deep links, unit labels, steps, verification levels."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import load_config_file, places_from_config
from civic.places import Building, Community, Compound, Places
from civic.residents import (
    MAX_UNIT_CHARS,
    ONBOARD,
    RELOCATE,
    ChooseBuilding,
    ChooseCommunity,
    ChooseCompound,
    ChooseLanguage,
    ConfirmProfile,
    EnterUnit,
    GiveConsent,
    GoBack,
    KeepUnit,
    LinkKind,
    ProfileDraft,
    Resident,
    SkipUnit,
    Step,
    StepOutcome,
    UnitCheck,
    VerificationLevel,
    answer_step,
    check_unit,
    deep_link,
    location_code,
    meets_level,
    new_resident,
    parse_start_payload,
    relocated,
    resume_at,
    with_link,
)
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
PAYLOAD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

SMALL = Places(
    communities=(
        Community("HD", "河东社区", "Hedong", "YK", "Asia/Shanghai"),
        Community("CB", "城北社区", "Chengbei", "YK", "Asia/Shanghai"),
    ),
    compounds=(
        Compound("HD-01", "HD", "河东花园", "Hedong Garden", "安居物业"),
        Compound("HD-02", "HD", "粮站宿舍", "Grain Station Quarters", None),
        Compound("CB-01", "CB", "北苑小区", "Beiyuan", None),
    ),
    buildings=(Building("HD-01-1", "HD-01", "1"), Building("HD-01-2", "HD-01", "2")),
)


# -- deep links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "kind", "place"),
    [
        ("HD", LinkKind.COMMUNITY, ("HD", None, None)),
        ("HD-01", LinkKind.COMPOUND, ("HD", "HD-01", None)),
        ("HD-01-1", LinkKind.BUILDING, ("HD", "HD-01", "HD-01-1")),
        ("hd-01-1", LinkKind.BUILDING, ("HD", "HD-01", "HD-01-1")),
        ("HD-09", LinkKind.UNKNOWN, (None, None, None)),
        ("", LinkKind.NONE, (None, None, None)),
        (None, LinkKind.NONE, (None, None, None)),
        ("HD 01", LinkKind.MALFORMED, (None, None, None)),
        ("<b>x</b>", LinkKind.MALFORMED, (None, None, None)),
        ("A" * 65, LinkKind.MALFORMED, (None, None, None)),
    ],
)
def test_a_start_payload_names_a_community_a_compound_a_building_or_nothing_known(
    payload: str | None, kind: LinkKind, place: tuple[str | None, ...]
) -> None:
    link = parse_start_payload(payload, SMALL)
    assert link.kind is kind
    assert (link.community_code, link.compound_code, link.building_code) == place


@given(st.text(alphabet=PAYLOAD_CHARS, min_size=1, max_size=64))
def test_any_well_formed_payload_up_to_64_characters_is_understood_or_unknown(
    payload: str,
) -> None:
    assert parse_start_payload(payload, SMALL).kind is not LinkKind.MALFORMED


@given(st.text(alphabet=PAYLOAD_CHARS, min_size=65, max_size=100))
def test_a_payload_over_64_characters_is_malformed_and_quoted_at_most_64(payload: str) -> None:
    link = parse_start_payload(payload, SMALL)
    assert link.kind is LinkKind.MALFORMED
    assert len(link.payload) == 64


@given(st.text(min_size=1, max_size=64).filter(lambda s: any(c not in PAYLOAD_CHARS for c in s)))
def test_a_payload_with_any_other_character_is_never_taken_for_a_place(payload: str) -> None:
    assert not parse_start_payload(payload, SMALL).understood


def test_every_shipped_place_code_is_a_deep_link_to_itself() -> None:
    for building in PLACES.buildings:
        assert parse_start_payload(building.code, PLACES).building_code == building.code
    for compound in PLACES.compounds:
        link = parse_start_payload(compound.code, PLACES)
        assert (link.kind, link.compound_code) == (LinkKind.COMPOUND, compound.code)
    for community in PLACES.communities:
        link = parse_start_payload(community.code, PLACES)
        assert (link.kind, link.community_code) == (LinkKind.COMMUNITY, community.code)


def test_a_deep_link_is_a_t_me_start_link_and_refuses_what_telegram_would() -> None:
    assert deep_link("xieshang_bot", "HD-01-1") == "https://t.me/xieshang_bot?start=HD-01-1"
    assert deep_link("@xieshang_bot", "HD") == "https://t.me/xieshang_bot?start=HD"
    with pytest.raises(ValueError, match="deep-link payload"):
        deep_link("xieshang_bot", "HD 01")


# -- unit labels --------------------------------------------------------------------------


@given(st.text(alphabet="0123456789单元室-AB", min_size=1, max_size=MAX_UNIT_CHARS))
def test_a_unit_label_up_to_the_limit_is_kept(label: str) -> None:
    assert check_unit(label) == (UnitCheck.OK, label)


@given(st.text(alphabet="0123456789单元室-AB", min_size=MAX_UNIT_CHARS + 1, max_size=60))
def test_a_unit_label_over_the_limit_is_refused(label: str) -> None:
    assert check_unit(label)[0] is UnitCheck.TOO_LONG


def test_a_unit_label_is_trimmed_and_its_spaces_collapsed_before_counting() -> None:
    assert check_unit("  3单元   502  ") == (UnitCheck.OK, "3单元 502")
    assert check_unit(" " * 40 + "502")[0] is UnitCheck.OK
    assert check_unit("   ")[0] is UnitCheck.EMPTY


@pytest.mark.parametrize("label", ["3单元\n502", "502\x00", "50\u200e2", "a\u2028b"])
def test_a_unit_label_with_line_breaks_or_control_characters_is_refused(label: str) -> None:
    assert check_unit(label)[0] is UnitCheck.INVALID


# -- steps -------------------------------------------------------------------------------


def walk(flow: str, draft: ProfileDraft, step: Step, *answers: object) -> tuple[Step, ProfileDraft]:
    for answer in answers:
        result = answer_step(flow, step, draft, answer, SMALL, NOW)  # type: ignore[arg-type]
        assert result.outcome in (StepOutcome.MOVED, StepOutcome.FINISHED), (answer, result)
        step, draft = result.step, result.draft
    return step, draft


def test_onboarding_asks_every_step_in_order_and_finishes_on_confirm() -> None:
    step, draft = walk(ONBOARD, ProfileDraft(), Step.LANGUAGE, ChooseLanguage("en"))
    assert step is Step.COMMUNITY
    step, draft = walk(ONBOARD, draft, step, ChooseCommunity("HD"))
    assert step is Step.COMPOUND
    step, draft = walk(ONBOARD, draft, step, ChooseCompound("HD-01"))
    assert step is Step.BUILDING
    step, draft = walk(ONBOARD, draft, step, ChooseBuilding("HD-01-2"))
    assert step is Step.UNIT
    step, draft = walk(ONBOARD, draft, step, EnterUnit(" 3单元502 "))
    assert step is Step.CONSENT
    step, draft = walk(ONBOARD, draft, step, GiveConsent())
    assert step is Step.CONFIRM
    step, draft = walk(ONBOARD, draft, step, ConfirmProfile())
    assert step is Step.DONE
    resident = new_resident(7, draft, NOW)
    assert resident.address == ("HD", "HD-01", "HD-01-2", "3单元502")
    assert (resident.language, resident.level, resident.consented_at) == (
        "en",
        VerificationLevel.UNVERIFIED,
        NOW,
    )


def test_a_compound_without_buildings_has_no_building_step_either_way() -> None:
    draft = ProfileDraft(language="zh_CN", community_code="HD")
    step, draft = walk(ONBOARD, draft, Step.COMPOUND, ChooseCompound("HD-02"))
    assert step is Step.UNIT
    step, _ = walk(ONBOARD, draft, step, GoBack(Step.UNIT))
    assert step is Step.COMPOUND


def test_an_answer_for_another_step_changes_nothing() -> None:
    draft = ProfileDraft(language="zh_CN", community_code="HD")
    for answer in (ChooseCommunity("CB"), EnterUnit("502"), ConfirmProfile(), GoBack(Step.UNIT)):
        result = answer_step(ONBOARD, Step.COMPOUND, draft, answer, SMALL, NOW)
        assert (result.outcome, result.step, result.draft) == (
            StepOutcome.WRONG_STEP,
            Step.COMPOUND,
            draft,
        )


def test_a_compound_of_another_community_or_an_unknown_building_is_refused() -> None:
    draft = ProfileDraft(language="zh_CN", community_code="HD", compound_code="HD-01")
    wrong = answer_step(ONBOARD, Step.COMPOUND, draft, ChooseCompound("CB-01"), SMALL, NOW)
    assert (wrong.outcome, wrong.draft) == (StepOutcome.UNKNOWN_PLACE, draft)
    gone = answer_step(ONBOARD, Step.BUILDING, draft, ChooseBuilding("HD-01-9"), SMALL, NOW)
    assert (gone.outcome, gone.draft) == (StepOutcome.UNKNOWN_PLACE, draft)


def test_an_over_long_unit_keeps_the_step_and_what_was_entered() -> None:
    draft = ProfileDraft(language="en", community_code="HD", compound_code="HD-02", unit_label="1")
    result = answer_step(ONBOARD, Step.UNIT, draft, EnterUnit("9" * 21), SMALL, NOW)
    assert (result.outcome, result.step, result.draft) == (
        StepOutcome.UNIT_TOO_LONG,
        Step.UNIT,
        draft,
    )


def test_skipping_clears_the_unit_and_keeping_keeps_it() -> None:
    draft = ProfileDraft(language="en", community_code="HD", compound_code="HD-02", unit_label="1")
    assert walk(ONBOARD, draft, Step.UNIT, SkipUnit())[1].unit_label is None
    assert walk(ONBOARD, draft, Step.UNIT, KeepUnit())[1].unit_label == "1"


def test_changing_the_community_drops_the_compound_and_building_but_not_the_unit() -> None:
    draft = ProfileDraft(
        language="en",
        community_code="HD",
        compound_code="HD-01",
        building_code="HD-01-1",
        unit_label="502",
    )
    _, same = walk(ONBOARD, draft, Step.COMMUNITY, ChooseCommunity("HD"))
    assert same == draft
    _, moved = walk(ONBOARD, draft, Step.COMMUNITY, ChooseCommunity("CB"))
    assert (moved.compound_code, moved.building_code, moved.unit_label) == (None, None, "502")


def test_confirming_an_incomplete_draft_goes_back_to_what_is_missing() -> None:
    draft = ProfileDraft(language="en", community_code="HD", compound_code="HD-02")
    result = answer_step(ONBOARD, Step.CONFIRM, draft, ConfirmProfile(), SMALL, NOW)
    assert (result.outcome, result.step) == (StepOutcome.MOVED, Step.CONSENT)


LOCATION_KEY = b"location-key-for-tests-0123456789"


def test_only_a_signed_building_link_proves_the_location() -> None:
    signed = location_code("HD-01-1", LOCATION_KEY)
    forged = signed[:-1] + ("0" if signed[-1] != "0" else "1")
    assert parse_start_payload(signed, SMALL, LOCATION_KEY).proves_location
    assert parse_start_payload(signed.lower(), SMALL, LOCATION_KEY).proves_location
    for payload, key in [("HD-01-1", LOCATION_KEY), (forged, LOCATION_KEY), (signed, None)]:
        link = parse_start_payload(payload, SMALL, key)
        assert (link.kind, link.building_code) == (LinkKind.BUILDING, "HD-01-1")
        assert not link.proves_location
        assert with_link(ProfileDraft(), link).located_building is None


def test_a_building_link_skips_the_place_steps_and_locates_the_resident() -> None:
    link = parse_start_payload(location_code("HD-01-1", LOCATION_KEY), SMALL, LOCATION_KEY)
    draft = with_link(ProfileDraft(), link)
    step, draft = walk(ONBOARD, draft, Step.LANGUAGE, ChooseLanguage("zh_CN"))
    assert step is Step.UNIT
    step, draft = walk(ONBOARD, draft, step, SkipUnit(), GiveConsent(), ConfirmProfile())
    assert new_resident(1, draft, NOW).level is VerificationLevel.LOCATED


def test_going_back_to_a_linked_step_lets_one_choose_by_hand_and_leave_the_building() -> None:
    signed = location_code("HD-01-1", LOCATION_KEY)
    draft = with_link(ProfileDraft(language="en"), parse_start_payload(signed, SMALL, LOCATION_KEY))
    step, draft = walk(ONBOARD, draft, Step.UNIT, GoBack(Step.UNIT))
    assert (step, draft.preset) == (Step.BUILDING, None)
    step, draft = walk(ONBOARD, draft, step, ChooseBuilding("HD-01-2"))
    assert step is Step.UNIT
    assert draft.level is VerificationLevel.UNVERIFIED  # not the building of the QR code
    _, draft = walk(ONBOARD, draft, Step.UNIT, GoBack(Step.UNIT), ChooseBuilding("HD-01-1"))
    assert draft.level is VerificationLevel.LOCATED


def test_a_compound_link_asks_for_the_building_after_the_language() -> None:
    draft = with_link(ProfileDraft(), parse_start_payload("HD-01", SMALL))
    step, _ = walk(ONBOARD, draft, Step.LANGUAGE, ChooseLanguage("en"))
    assert step is Step.BUILDING


def test_relocating_skips_language_and_consent() -> None:
    resident = new_resident(
        1,
        ProfileDraft(language="en", community_code="HD", compound_code="HD-02", consented_at=NOW),
        NOW,
    )
    draft = ProfileDraft.from_resident(resident)
    step, draft = walk(RELOCATE, draft, Step.COMMUNITY, ChooseCommunity("CB"))
    step, draft = walk(RELOCATE, draft, step, ChooseCompound("CB-01"), SkipUnit())
    assert step is Step.CONFIRM
    assert walk(RELOCATE, draft, step, ConfirmProfile())[0] is Step.DONE


def test_resuming_goes_back_to_an_answer_the_draft_lost() -> None:
    draft = ProfileDraft(language="en", community_code="HD", compound_code="HD-01")
    retired = replace(draft, compound_code="HD-99").pruned(SMALL)
    assert retired.compound_code is None
    assert resume_at(ONBOARD, Step.CONFIRM, retired) is Step.COMPOUND
    assert resume_at(ONBOARD, Step.UNIT, draft) is Step.UNIT


def test_a_draft_survives_its_json_and_refuses_values_of_the_wrong_shape() -> None:
    draft = with_link(
        ProfileDraft(language="en", unit_label="502", consented_at=NOW),
        parse_start_payload("HD-01-1", SMALL),
    )
    assert ProfileDraft.from_json(draft.to_json()) == draft
    bad = ProfileDraft.from_json(
        {"language": "fr", "community": 3, "consented_at": "2026-11-24T08:00", "preset": "unit"}
    )
    assert bad == ProfileDraft()


# -- verification levels ---------------------------------------------------------------------


UNVERIFIED, LOCATED, VERIFIED = VerificationLevel


def resident(level: VerificationLevel, building: str | None = "HD-01-1") -> Resident:
    return Resident(1, "zh_CN", "HD", "HD-01", building, "502", level, NOW, NOW, NOW)


def test_levels_are_ordered_and_services_can_ask_for_a_minimum() -> None:
    located = resident(VerificationLevel.LOCATED)
    assert meets_level(located, VerificationLevel.UNVERIFIED)
    assert meets_level(located, VerificationLevel.LOCATED)
    assert not meets_level(located, VerificationLevel.VERIFIED)
    assert not meets_level(None, VerificationLevel.UNVERIFIED)


@pytest.mark.parametrize(
    ("before", "address", "after"),
    [
        (VerificationLevel.VERIFIED, ("HD", "HD-01", "HD-01-1", "502"), VerificationLevel.VERIFIED),
        (VerificationLevel.VERIFIED, ("HD", "HD-01", "HD-01-1", "601"), VerificationLevel.LOCATED),
        (VerificationLevel.LOCATED, ("HD", "HD-01", "HD-01-1", None), VerificationLevel.LOCATED),
        (
            VerificationLevel.LOCATED,
            ("HD", "HD-01", "HD-01-2", "502"),
            VerificationLevel.UNVERIFIED,
        ),
        (VerificationLevel.VERIFIED, ("CB", "CB-01", None, "502"), VerificationLevel.UNVERIFIED),
        (
            VerificationLevel.UNVERIFIED,
            ("HD", "HD-01", "HD-01-1", "9"),
            VerificationLevel.UNVERIFIED,
        ),
    ],
)
def test_moving_keeps_only_the_verification_the_new_address_still_has(
    before: VerificationLevel,
    address: tuple[str, str, str | None, str | None],
    after: VerificationLevel,
) -> None:
    community, compound, building, unit = address
    draft = ProfileDraft(
        community_code=community, compound_code=compound, building_code=building, unit_label=unit
    )
    moved = relocated(resident(before), draft, NOW)
    assert moved.address == address
    assert moved.level is after
