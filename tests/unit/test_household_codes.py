"""Household codes and versioned building codes: the pure rules (spec 01, verification)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import load_config_file, places_from_config
from bot.config.models import ResidentsSection
from bot.i18n import SUPPORTED_LOCALES, Catalogs, Locale
from civic.household_codes import (
    ALPHABET,
    CODE_LENGTH,
    COUNTY_FAILURES,
    CodeStatus,
    HouseholdCode,
    code_hash,
    codes_wanted,
    expiry,
    format_code,
    generate_code,
    household_payload,
    is_household_payload,
    may_verify_somewhere,
    normalise_code,
    parse_count,
    resolve_place,
)
from civic.residents import (
    CodeMiss,
    Resident,
    VerificationLevel,
    household_code_miss,
    location_code,
    parse_start_payload,
)
from civic.roles import Actor, Decision, Grant, Position, Role, Scope, ScopeKind
from civic.roles_admin import Problem, parse_user_id
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


# -- expiry: the end of the day printed on the slip ------------------------------------------


def test_a_code_expires_at_the_end_of_the_printed_day_in_the_community_time_zone() -> None:
    issued = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    last_day, expires_at = expiry(issued, 30, "Asia/Shanghai")

    assert last_day == date(2026, 12, 25)
    assert expires_at == datetime(2026, 12, 25, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    code = HouseholdCode("h", "HD", "HD-01", None, None, None, issued, expires_at)
    assert code.status(datetime(2026, 12, 25, 15, 59, tzinfo=UTC)) is CodeStatus.USABLE
    assert code.status(datetime(2026, 12, 25, 16, 0, tzinfo=UTC)) is CodeStatus.EXPIRED


def test_the_printed_day_is_the_local_one_even_when_utc_is_still_on_the_day_before() -> None:
    issued = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 01:00 on the 25th in Shanghai
    assert expiry(issued, 1, "Asia/Shanghai") == (
        date(2026, 11, 26),
        datetime(2026, 11, 26, 16, 0, tzinfo=UTC),
    )


# -- typed numbers that must not crash a handler ------------------------------------------------


def test_a_count_is_a_few_ascii_digits_or_nothing() -> None:
    assert parse_count("20") == 20
    assert parse_count(" 7 ") == 7
    for typed in ("²", "١٢", "２０", "-1", "1e3", "", "99999", "9" * 5000):
        assert parse_count(typed) is None, typed


@given(st.text(max_size=12))
def test_parse_count_never_raises(text: str) -> None:
    count = parse_count(text)
    assert count is None or 0 <= count <= 9999


def test_a_verify_user_id_that_is_not_ascii_digits_or_too_long_is_a_problem() -> None:
    for typed in ("²", "١٢٣", "12345678901234567890", "9" * 4000, "-5", "0"):
        assert isinstance(parse_user_id(typed), Problem), typed
    assert parse_user_id("123456789") == 123456789


# -- who may verify; why a code's link did not verify a newcomer --------------------------


def test_only_those_who_may_verify_somewhere_get_past_the_first_check() -> None:
    clerk = Actor(
        2, (Grant(2, Role.STAFF, Scope(ScopeKind.COMMUNITY, "CB"), "CB", Position.CLERK),)
    )
    grid = Actor(3, (Grant(3, Role.GRID_WORKER, Scope(ScopeKind.GRID, "HD-G1"), "HD"),))
    assert may_verify_somewhere(clerk, PLACES) is Decision.ALLOWED
    assert may_verify_somewhere(grid, PLACES) is Decision.ALLOWED
    assert may_verify_somewhere(Actor(4), PLACES) is Decision.NOT_STAFF


def test_why_a_household_code_did_not_verify_a_newcomer() -> None:
    resident = Resident(
        user_id=9,
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
    fresh = HouseholdCode("h", "HD", "HD-01", None, None, None, NOW, NOW + timedelta(days=1))
    assert household_code_miss(fresh, resident, NOW) is None
    assert household_code_miss(None, resident, NOW) is CodeMiss.USED
    used = HouseholdCode("h", "HD", "HD-01", None, None, None, NOW, NOW + timedelta(days=1), 8, NOW)
    assert household_code_miss(used, resident, NOW) is CodeMiss.USED
    mine = HouseholdCode("h", "HD", "HD-01", None, None, None, NOW, NOW + timedelta(days=1), 9, NOW)
    assert household_code_miss(mine, resident, NOW) is None
    assert household_code_miss(fresh, resident, NOW + timedelta(days=1)) is CodeMiss.EXPIRED
    elsewhere = HouseholdCode("h", "HD", "HD-02", None, None, None, NOW, NOW + timedelta(days=1))
    assert household_code_miss(elsewhere, resident, NOW) is CodeMiss.OTHER_COMPOUND


def test_the_configured_county_cap_defaults_to_the_rules_constant() -> None:
    field = ResidentsSection.model_fields["household_code_wrong_per_hour"]
    assert field.default == COUNTY_FAILURES
    assert ResidentsSection().household_code_wrong_per_hour == COUNTY_FAILURES


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_codes_handled_again_do_not_claim_the_sheet_was_sent(locale: Locale) -> None:
    """A crash after the commit and before sending leaves a batch nobody received: the
    answer must not say the sheet was sent, and must say that /codes again prints new ones."""
    text = Catalogs.load(strict=True).for_locale(locale)(
        "residents.codes.already", count=3, place="P"
    )
    assert "/codes" in text
    assert "above" not in text
    assert "上方" not in text
