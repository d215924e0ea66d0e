"""Report settings in ``config.toml``: periods in order, community codes in capitals."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config_file
from civic.reports import TrackingNumber
from tests.helpers import SHIPPED_CONFIG

SHIPPED = SHIPPED_CONFIG.read_text(encoding="utf-8")


def problems_with(tmp_path: Path, *changes: tuple[str, str]) -> list[tuple[str, str]]:
    """The problems of the shipped file with each ``(old, new)`` replaced once."""
    text = SHIPPED
    for old, new in changes:
        assert old in text, f"the shipped config no longer contains {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    return [(p.key, p.problem) for p in caught.value.problems]


def test_the_default_accept_period_may_not_exceed_the_resolve_period(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, ("accept_working_days = 1 ", "accept_working_days = 6 "))

    assert [key for key, _ in problems] == ["reports"]
    assert "accept_working_days (6) exceeds resolve_working_days (5)" in problems[0][1]


def test_a_categorys_own_periods_must_be_in_order(tmp_path: Path) -> None:
    problems = problems_with(
        tmp_path,
        (
            "accept_working_days = 0\nresolve_working_days = 2",
            "accept_working_days = 3\nresolve_working_days = 2",
        ),
    )

    (problem,) = [text for _, text in problems]
    assert 'code "fire_lane"' in problem
    assert "accept_working_days (3) exceeds resolve_working_days (2)" in problem


def test_a_category_is_checked_against_the_default_it_inherits(tmp_path: Path) -> None:
    problems = problems_with(
        tmp_path,
        ("accept_working_days = 1 ", "accept_working_days = 4 "),
        ("accept_working_days = 0\nresolve_working_days = 2", "resolve_working_days = 2"),
    )

    (problem,) = [text for _, text in problems]
    assert 'code "fire_lane"' in problem
    assert "accept_working_days (4 from [reports]) exceeds resolve_working_days (2)" in problem


def test_a_community_code_must_be_in_capitals_as_tracking_numbers_read_it(
    tmp_path: Path,
) -> None:
    problems = problems_with(tmp_path, ('code = "HD"', 'code = "hd"'))

    assert any(
        key.startswith("communities[") and key.endswith(".code") and "capitals" in text
        for key, text in problems
    ), problems
    assert TrackingNumber.parse("hd-2026-0042") == TrackingNumber("HD", 2026, 42)
