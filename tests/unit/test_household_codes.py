"""Household codes and versioned building codes: the pure rules (spec 01, verification)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.config import load_config_file, places_from_config
from civic.household_codes import (
    ALPHABET,
    CODE_LENGTH,
    CodeStatus,
    HouseholdCode,
    code_hash,
    codes_wanted,
    format_code,
    generate_code,
    household_payload,
    is_household_payload,
    normalise_code,
    resolve_place,
)
from civic.residents import location_code, parse_start_payload
from tests.helpers import SHIPPED_CONFIG

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
KEY = b"location-key-for-tests-0123456789"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
codes = st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


def test_a_generated_code_has_eight_unambiguous_characters() -> None:
    code = generate_code()
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(ALPHABET)
    assert not set("01OIL") & set(ALPHABET)


@given(codes)
def test_a_code_is_typed_in_any_case_with_or_without_the_dash_or_spaces(code: str) -> None:
    shown = format_code(code)
    assert shown[4] == "-"
    for typed in (shown, shown.lower(), code, f" {code[:4]} {code[4:]} ", household_payload(code)):
        assert normalise_code(typed) == code


def test_full_width_characters_from_a_chinese_keyboard_are_read_as_ascii() -> None:
    assert normalise_code("ＡＢＣＤ－２３４５") == "ABCD2345"


@given(st.text(max_size=20))
def test_anything_normalised_is_a_valid_code_or_nothing(text: str) -> None:
    code = normalise_code(text)
    assert code is None or (len(code) == CODE_LENGTH and set(code) <= set(ALPHABET))


def test_malformed_codes_are_refused_before_any_lookup() -> None:
    for typed in ("", "ABCD-234", "ABCD-23456", "ABCD-2340", "OOOO-1111", "我的入户码"):
        assert normalise_code(typed) is None


def test_the_table_holds_a_hash_not_the_code() -> None:
    digest = code_hash("ABCD2345")
    assert len(digest) == 64
    assert "ABCD2345" not in digest
    assert digest != code_hash("ABCD2346")


def test_a_code_is_usable_until_it_expires_or_is_used() -> None:
    code = HouseholdCode("h", "HD", "HD-01", None, None, None, NOW, NOW + timedelta(days=30))
    assert code.status(NOW) is CodeStatus.USABLE
    assert code.status(NOW + timedelta(days=30)) is CodeStatus.EXPIRED
    used = HouseholdCode(
        "h", "HD", "HD-01", None, None, None, NOW, NOW + timedelta(days=30), None, NOW
    )
    assert used.status(NOW) is CodeStatus.USED, "erased users leave their codes used"


def test_household_links_are_recognised_by_their_prefix() -> None:
    assert is_household_payload("hc_ABCD2345")
    assert is_household_payload("HC_abcd2345")
    assert not is_household_payload("HD-01-1")
    assert not is_household_payload(None)


def test_codes_are_printed_for_a_compound_or_building_and_per_unit() -> None:
    building = resolve_place("hd-01-1", PLACES)
    assert building is not None
    assert building.building_code == "HD-01-1"
    assert building.compound_code == "HD-01"
    compound = resolve_place("HD-01", PLACES)
    assert compound is not None
    assert compound.building_code is None
    assert resolve_place("HD", PLACES) is None, "a community is too wide for a household"
    assert codes_wanted(3, []) == 3
    assert codes_wanted(2, ["101", "102"]) == 4


# -- versioned building codes ---------------------------------------------------------------


def test_version_zero_is_the_code_printed_before_rotation_existed() -> None:
    link = parse_start_payload(location_code("HD-01-1", KEY), PLACES, KEY)
    assert link.proves_location
    assert location_code("HD-01-1", KEY, 0) == location_code("HD-01-1", KEY)


@given(st.integers(min_value=1, max_value=50))
def test_only_the_current_version_locates_and_older_ones_are_marked_replaced(
    version: int,
) -> None:
    versions = {"HD-01-1": version}
    current = parse_start_payload(location_code("HD-01-1", KEY, version), PLACES, KEY, versions)
    older = parse_start_payload(location_code("HD-01-1", KEY, version - 1), PLACES, KEY, versions)
    newer = parse_start_payload(location_code("HD-01-1", KEY, version + 1), PLACES, KEY, versions)

    assert current.proves_location
    assert not current.replaced
    assert not older.proves_location
    assert older.replaced
    assert older.building_code == "HD-01-1", "an old code still pre-selects the building"
    assert not newer.proves_location
    assert not newer.replaced


def test_a_rotation_of_one_building_leaves_the_others_alone() -> None:
    link = parse_start_payload(location_code("HD-01-2", KEY), PLACES, KEY, {"HD-01-1": 3})
    assert link.proves_location
