"""A wrong configuration stops start-up with a message naming the key and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, RunMode, load_config_file, load_settings, places_from_config
from tests.helpers import ROOT, SHIPPED_CONFIG

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdef"
SHIPPED = SHIPPED_CONFIG.read_text(encoding="utf-8")


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str, *, count: int = 1) -> str:
    """The shipped file with one mistake made in it."""
    assert SHIPPED.count(old) >= count, f"the shipped config no longer contains {old!r}"
    return SHIPPED.replace(old, new, count)


def problems_of(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config_file(path)
    return [(p.key, p.problem, p.fix) for p in caught.value.problems]


def test_the_shipped_configuration_describes_the_sample_county() -> None:
    config = load_config_file(SHIPPED_CONFIG)
    places = places_from_config(config)

    names = [c.name for c in places.communities]
    assert names == [
        "河东社区",
        "城北社区",
        "建设北路社区",
        "解放路社区",
        "定远社区",
        "印山社区",
        "城南社区",
        "石桥社区",
        "利民社区",
        "金鸡岭社区",
        "嘉陵社区",
        "迎宾社区",
        "新建街社区",
    ]
    for community in places.communities:
        assert community.code.isascii()
        assert len(places.compounds_of(community.code)) >= 2
    with_manager = [c for c in places.compounds if c.has_property_manager]
    assert 0 < len(with_manager) < len(places.compounds)
    assert all(places.buildings_of(c.code) for c in places.compounds)
    assert places.grids
    assert places.departments
    assert places.report_categories


def test_an_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed("cosign_threshold = 10", "cosign_treshold = 10"))

    [(key, problem, fix)] = problems_of(path)

    assert key == "topics.cosign_treshold"
    assert problem == "unknown key"
    assert "did you mean 'cosign_threshold'" in fix


def test_an_unknown_key_inside_a_list_entry_names_the_entry_by_code(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed('code = "CB-02"\n', 'code = "CB-02"\nfloors = 6\n'))

    [(key, problem, _)] = problems_of(path)

    assert key.endswith('(code "CB-02").floors')
    assert key.startswith("compounds[")
    assert problem == "unknown key"


def test_a_duplicate_code_names_both_places(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed('code = "CB-01"', 'code = "HD-01"'))

    problems = problems_of(path)

    key, problem, fix = next(p for p in problems if p[0].endswith(".code"))
    assert key.startswith("compounds[")
    assert 'code "HD-01" is already used by compounds[0]' in problem
    assert "its own code" in fix


def test_a_compound_in_no_community_is_refused_with_the_known_codes(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, changed('community = "SQ"\nname = "石桥苑"', 'community = "SQQ"\nname = "石桥苑"')
    )

    problems = problems_of(path)

    problem = next(p for p in problems if p[0].endswith('(code "SQ-01").community'))
    assert 'no community has the code "SQQ"' in problem[1]
    assert "HD" in problem[2]
    assert "[[communities]]" in problem[2]


def test_a_non_ascii_code_is_refused(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, changed('code = "HD"\nname = "河东社区"', 'code = "河东"\nname = "河东社区"')
    )

    problems = problems_of(path)

    key, problem, _ = problems[0]
    assert key == 'communities[0] (code "河东").code'
    assert "not a valid code" in problem
    assert "ASCII" in problem


def test_a_wrong_value_type_says_how_to_write_it(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed("per_chat_burst = 3", 'per_chat_burst = "three"'))

    [(key, _, fix)] = problems_of(path)

    assert key == "sending.per_chat_burst"
    assert "number" in fix


def test_a_literal_lists_the_values_it_accepts(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed('on_holiday = "skip"', 'on_holiday = "later"'))

    [(key, problem, _)] = problems_of(path)

    assert key == 'communities[4] (code "DY").sessions.on_holiday'
    assert "'move'" in problem
    assert "'skip'" in problem


def test_a_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed("[telegram]\n", f'[telegram]\ntoken = "{TOKEN}"\n'))

    [(key, problem, fix)] = problems_of(path)

    assert key == "telegram.token"
    assert "environment" in problem
    assert "TELEGRAM_BOT_TOKEN" in fix
    assert TOKEN not in problem + fix


def test_broken_toml_points_at_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, SHIPPED + "\n[[holidays]\n")

    [(_, problem, _)] = problems_of(path)

    assert "not valid TOML" in problem
    assert "line" in problem


def test_routing_to_an_unknown_department_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed('"department:HOUSING"', '"department:HOUSE"'))

    [(key, problem, fix)] = problems_of(path)

    assert key.startswith("routing[")
    assert key.endswith(".assign_to")
    assert 'no department has the code "HOUSE"' in problem
    assert "HOUSING" in fix


def test_a_grid_cannot_hold_another_communitys_compound(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, changed('compounds = ["CB-01", "CB-02"]', 'compounds = ["CB-01", "HD-02"]')
    )

    problems = problems_of(path)

    assert any("belongs to community" in problem for _, problem, _ in problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = changed("cosign_threshold = 10", "cosign_treshold = 10")
    text = text.replace("per_chat_burst = 3", "per_chat_burst = 0")
    path = write_config(tmp_path, text)

    assert len(problems_of(path)) == 2


def test_a_missing_file_says_how_to_provide_one(tmp_path: Path) -> None:
    [(_, problem, fix)] = problems_of(tmp_path / "nowhere.toml")

    assert "does not exist" in problem
    assert "XIESHANG_CONFIG" in fix


# --- the environment ---


def test_no_token_means_local_mode() -> None:
    settings = load_settings(SHIPPED_CONFIG, {})

    assert settings.mode is RunMode.LOCAL
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("/data/xieshang.sqlite3")


def test_a_token_without_a_signing_key_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, {"TELEGRAM_BOT_TOKEN": TOKEN})

    [problem] = caught.value.problems
    assert problem.key == "XIESHANG_SIGNING_KEY"
    assert TOKEN not in str(caught.value)


def test_a_token_and_signing_key_mean_polling() -> None:
    settings = load_settings(
        SHIPPED_CONFIG, {"TELEGRAM_BOT_TOKEN": TOKEN, "XIESHANG_SIGNING_KEY": "k" * 32}
    )

    assert settings.mode is RunMode.POLLING
    assert TOKEN not in repr(settings)


def test_a_webhook_without_its_secret_is_refused() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "XIESHANG_SIGNING_KEY": "k" * 32,
        "XIESHANG_WEBHOOK_URL": "https://bot.example.org/hook",
    }

    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, env)

    assert [p.key for p in caught.value.problems] == ["XIESHANG_WEBHOOK_SECRET"]


def test_webhook_wins_over_polling() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "XIESHANG_WEBHOOK_URL": "https://bot.example.org/hook",
        "XIESHANG_WEBHOOK_SECRET": "s3cret-value",
        "XIESHANG_SIGNING_KEY": "k" * 32,
    }

    assert load_settings(SHIPPED_CONFIG, env).mode is RunMode.WEBHOOK


def test_a_webhook_needs_the_signing_key_too() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "XIESHANG_WEBHOOK_URL": "https://bot.example.org/hook",
        "XIESHANG_WEBHOOK_SECRET": "s3cret-value",
    }

    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, env)

    assert [p.key for p in caught.value.problems] == ["XIESHANG_SIGNING_KEY"]


WEBHOOK_ENV = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "XIESHANG_WEBHOOK_SECRET": "s3cret-value",
    "XIESHANG_SIGNING_KEY": "k" * 32,
}


def test_an_http_webhook_is_refused_with_telegrams_own_server() -> None:
    env = {**WEBHOOK_ENV, "XIESHANG_WEBHOOK_URL": "http://bot.example.org/hook"}

    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, env)

    assert [p.key for p in caught.value.problems] == ["XIESHANG_WEBHOOK_URL"]
    assert "https://" in caught.value.problems[0].fix


def test_an_http_webhook_is_accepted_with_another_bot_api_server() -> None:
    env = {
        **WEBHOOK_ENV,
        "XIESHANG_WEBHOOK_URL": "http://127.0.0.1:8443/telegram",
        "TELEGRAM_API_URL": "http://127.0.0.1:8081",
    }

    settings = load_settings(SHIPPED_CONFIG, env)

    assert settings.mode is RunMode.WEBHOOK
    assert settings.webhook_url == "http://127.0.0.1:8443/telegram"


def test_a_webhook_url_that_is_not_http_is_refused() -> None:
    env = {
        **WEBHOOK_ENV,
        "XIESHANG_WEBHOOK_URL": "bot.example.org/hook",
        "TELEGRAM_API_URL": "http://127.0.0.1:8081",
    }

    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, env)

    assert [p.key for p in caught.value.problems] == ["XIESHANG_WEBHOOK_URL"]


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {
        "XIESHANG_DATABASE_URL": "postgresql://u:p@db.internal/xs",
        "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
        "XIESHANG_DATA_DIR": str(tmp_path),
    }

    settings = load_settings(SHIPPED_CONFIG, env)

    assert settings.database_url == "postgresql+asyncpg://u:p@db.internal/xs"
    assert settings.api_url == "http://127.0.0.1:8081"
    assert settings.data_dir == tmp_path


def test_an_unsupported_database_url_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, {"XIESHANG_DATABASE_URL": "mysql://u@h/db"})

    [problem] = caught.value.problems
    assert problem.key == "XIESHANG_DATABASE_URL"
    assert "postgresql+asyncpg://" in problem.fix


def test_the_command_line_stops_with_the_problems_and_exit_code_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, changed('code = "CB-01"', 'code = "HD-01"'))

    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "check-config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"LANG": "en_US.UTF-8"},
        check=False,
    )

    assert result.returncode == 2
    assert 'code "HD-01" is already used by compounds[0]' in result.stderr
    assert str(path) in result.stderr
    assert result.stdout == ""
