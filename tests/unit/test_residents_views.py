"""Residents' screens and keyboards within Telegram's limits, routed, escaped; the profile cache."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import MAX_BYTES, CallbackCodec, Decoded
from bot.config import load_config_file, places_from_config
from bot.i18n import Catalogs
from bot.profiles import NOBODY, ProfileHints
from civic.places import Building, Compound, Places
from civic.residents import (
    ONBOARD,
    RELOCATE,
    ProfileDraft,
    ProfileHint,
    Resident,
    Step,
    VerificationLevel,
)
from handlers.buttons import action_pattern
from handlers.residents import answer_of
from handlers.residents_views import (
    FLOW_PAGE,
    PLACES_PER_PAGE,
    STEP_ACTIONS,
    Painter,
    help_text,
    profile_screen,
    step_screen,
)
from tests.helpers import SHIPPED_CONFIG

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
CATALOGS = Catalogs.load(strict=True)
CODEC = CallbackCodec(b"k" * 32)


def painter(locale: str = "en", places: Places = PLACES) -> Painter:
    return Painter(CATALOGS.for_locale(locale), CODEC, places)  # type: ignore[arg-type]


def every_screen(places: Places) -> list[tuple[str, object]]:
    screens = []
    for locale in ("zh_CN", "en"):
        for flow in (ONBOARD, RELOCATE):
            p = painter(locale, places)
            for community in places.communities:
                draft = ProfileDraft(language="en", community_code=community.code)
                screens.append(step_screen(p, CATALOGS, flow, Step.COMMUNITY, draft))
                screens.append(step_screen(p, CATALOGS, flow, Step.COMPOUND, draft))
            for compound in places.compounds:
                draft = ProfileDraft(
                    language="zh_CN",
                    community_code=compound.community_code,
                    compound_code=compound.code,
                    unit_label="3单元502",
                    consented_at=NOW,
                )
                for step in (Step.BUILDING, Step.UNIT, Step.CONFIRM):
                    screens.append(step_screen(p, CATALOGS, flow, step, draft))
    return [(s.text, s.keyboard) for s in screens]


def test_every_screen_of_the_shipped_places_fits_telegrams_limits() -> None:
    for text, keyboard in every_screen(PLACES):
        assert 0 < len(text) <= 4096
        assert keyboard is not None
        buttons = [b for row in keyboard.inline_keyboard for b in row]  # type: ignore[attr-defined]
        assert len(buttons) <= 100
        for button in buttons:
            data = button.callback_data
            assert isinstance(data, str)
            assert len(data.encode()) <= MAX_BYTES
            assert isinstance(CODEC.decode(data), Decoded)


def test_a_community_with_many_compounds_pages_them() -> None:
    many = replace(
        PLACES,
        compounds=tuple(
            Compound(f"HD-{n:02d}", "HD", f"小区{n}", f"Compound {n}", None) for n in range(1, 26)
        ),
        buildings=(),
    )
    draft = ProfileDraft(language="en", community_code="HD")
    first = step_screen(painter(places=many), CATALOGS, ONBOARD, Step.COMPOUND, draft)
    last = step_screen(painter(places=many), CATALOGS, ONBOARD, Step.COMPOUND, draft, page=2)
    assert first.keyboard is not None
    assert last.keyboard is not None
    first_labels = [b.text for row in first.keyboard.inline_keyboard for b in row]
    last_labels = [b.text for row in last.keyboard.inline_keyboard for b in row]
    assert first_labels[:PLACES_PER_PAGE] == [f"Compound {n}" for n in range(1, 11)]
    assert "1/3" in first_labels
    assert "›" in first_labels
    assert "‹" not in first_labels
    assert last_labels[:5] == [f"Compound {n}" for n in range(21, 26)]
    assert "3/3" in last_labels
    assert "‹" in last_labels
    assert "›" not in last_labels


def test_the_longest_building_code_still_fits_in_a_button() -> None:
    code = "A" * 24
    places = replace(
        PLACES,
        compounds=(Compound(code, "HD", "长", "Long", None),),
        buildings=(Building(f"{code}-12345678", code, "12345678"),),
    )
    draft = ProfileDraft(language="en", community_code="HD", compound_code=code)
    screen = step_screen(painter(places=places), CATALOGS, ONBOARD, Step.BUILDING, draft)
    assert screen.keyboard is not None


def test_every_step_button_is_routed_and_turned_into_its_answer() -> None:
    pattern = action_pattern(*STEP_ACTIONS)
    draft = ProfileDraft(
        language="en",
        community_code="HD",
        compound_code="HD-01",
        unit_label="502",
        consented_at=NOW,
    )
    seen = set()
    for step in (Step.LANGUAGE, Step.COMMUNITY, Step.BUILDING, Step.UNIT, Step.CONSENT):
        screen = step_screen(painter(), CATALOGS, ONBOARD, step, draft)
        assert screen.keyboard is not None
        for row in screen.keyboard.inline_keyboard:
            for button in row:
                data = str(button.callback_data)
                decoded = CODEC.decode(data)
                assert isinstance(decoded, Decoded)
                if decoded.action in STEP_ACTIONS:
                    assert pattern.match(data)
                    answer_of(decoded)
                    seen.add(decoded.action)
                else:
                    assert not pattern.match(data)
    assert seen == set(STEP_ACTIONS) - {"pick_compound", "confirm_profile"}
    assert not action_pattern(FLOW_PAGE).match(CODEC.encode("flow_pager"))


@given(st.text(min_size=1, max_size=20))
def test_a_unit_label_is_shown_escaped(label: str) -> None:
    resident = Resident(
        1, "en", "HD", "HD-01", None, label, VerificationLevel.VERIFIED, NOW, NOW, NOW
    )
    text = profile_screen(painter(), resident).text
    assert "<" not in text.replace("<b>", "").replace("</b>", "")


@pytest.mark.parametrize("registered", [True, False])
def test_help_tells_residents_and_newcomers_apart(registered: bool) -> None:
    text = help_text(CATALOGS.for_locale("en"), registered=registered)
    assert ("/me" in text) is registered
    assert ("/start" in text) is not registered


def test_the_profile_cache_asks_the_database_until_it_has_loaded_everything() -> None:
    hints = ProfileHints()
    hints.put(1, ProfileHint("en", registered=True))
    assert hints.get(2) is None  # not loaded yet: only the database can tell

    hints.put(3, ProfileHint("zh_CN", registered=False))
    hints.load({1: ProfileHint("zh_CN", registered=True), 3: ProfileHint("en", registered=False)})

    assert hints.complete
    assert hints.get(1) == ProfileHint("en", registered=True)  # put after the read: newer
    assert hints.get(3) == ProfileHint("zh_CN", registered=False)
    assert hints.get(2) == NOBODY
    hints.forget(1)
    assert (hints.get(1), len(hints)) == (NOBODY, 1)
