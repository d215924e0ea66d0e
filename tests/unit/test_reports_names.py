"""The names every reports screen shares: one word per state, plain names escaped once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from telegram import PhotoSize

from bot.callbacks import CallbackCodec
from bot.config import load_config_file, places_from_config
from bot.i18n import Catalogs
from civic.reports import ReportState
from civic.reports_routing import Assignee, AssigneeKind
from handlers.reports_names import (
    STATE_NAME,
    category_name,
    desk_name,
    largest_photo,
    state_name,
)
from handlers.reports_stats_views import StatsPainter
from handlers.reports_views import my_reports_text
from handlers.residents_views import Painter
from tests.helpers import SHIPPED_CONFIG
from tests.unit.test_reports_filing import FILLED, report_of

CONFIG = load_config_file(SHIPPED_CONFIG)
PLACES = places_from_config(CONFIG)
CATALOGS = Catalogs.load(strict=True)
LOCALES = ("zh_CN", "en")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_state_has_its_own_word_in_each_language(locale: str) -> None:
    t = CATALOGS.for_locale(locale)  # type: ignore[arg-type]
    names = [state_name(t, state) for state in ReportState]
    assert set(STATE_NAME) == set(ReportState)
    assert len(set(names)) == len(names), names
    assert all(names)


@pytest.mark.parametrize("locale", LOCALES)
def test_myreports_and_stats_name_each_state_alike(locale: str) -> None:
    t = CATALOGS.for_locale(locale)  # type: ignore[arg-type]
    painter = Painter(t, CallbackCodec(b"k" * 32), PLACES)
    stats = StatsPainter(t, PLACES)
    for state in ReportState:
        word = state_name(t, state)
        assert stats.state(state) == word
        listing = my_reports_text(painter, [replace(report_of(FILLED), state=state)], more=False)
        assert f" · {word} · " in listing


def test_names_are_plain_text_for_the_caller_to_escape_once() -> None:
    odd = replace(PLACES.report_categories[0], name="a&b", name_en="a&b <c>")
    places = replace(PLACES, report_categories=(odd,))
    assert category_name(places, "zh_CN", odd.code) == "a&b"
    assert category_name(places, "en", odd.code) == "a&b <c>"
    assert category_name(places, "en", "gone") == "gone"
    t = CATALOGS.for_locale("zh_CN")
    grid = replace(PLACES.grids[0], name="A&B")
    places = replace(PLACES, grids=(grid,))
    assert "A&B" in desk_name(t, places, Assignee(AssigneeKind.GRID_WORKER, grid.code))
    community = PLACES.communities[0]
    english = CATALOGS.for_locale("en")
    assert desk_name(english, PLACES, Assignee(AssigneeKind.COMMUNITY, community.code)) == (
        community.name_en
    )


def test_the_largest_photo_is_the_biggest_area_then_the_biggest_file() -> None:
    sizes = [
        PhotoSize("small", "s", 90, 90, 1000),
        PhotoSize("big", "b", 1280, 960, 90_000),
        PhotoSize("big-sharper", "c", 960, 1280, 120_000),
        PhotoSize("medium", "m", 320, 240, 9000),
    ]
    assert largest_photo(sizes).file_id == "big-sharper"


def test_the_catalogs_hold_one_set_of_state_words() -> None:
    """A second set (card, /myreports, /stats each had one) drifts: zh once had 已办结 for
    both resolved and closed. Only ``reports.state.*`` may name a state."""
    import re

    from bot.i18n import LOCALES_DIR, catalog_path

    for locale in LOCALES:
        text = catalog_path(locale, LOCALES_DIR).read_text(encoding="utf-8")  # type: ignore[arg-type]
        words = "|".join(state.value for state in ReportState)
        pattern = rf'^msgid "(reports\.[^"]*state[._](?:{words}))"$'
        ids = re.findall(pattern, text, re.MULTILINE)
        assert sorted(ids) == sorted(STATE_NAME.values())
