"""``xieshang qr CODE``: the PNG decodes back to the deep link of that place."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.callbacks import LOCATION_PURPOSE, derived_key
from bot.cli import EXIT_CONFIG, EXIT_FAILED, main
from bot.qr import write_qr_png
from civic.residents import deep_link, location_code
from storage.database import Database
from tests.helpers import SHIPPED_CONFIG
from tests.qr_decode import modules, read_png, read_qr

PAYLOAD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
BOT = ["--bot", "@xieshang_bot"]
SIGNING_KEY = "qr-test-signing-key-0123456789"


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for name in (
        "XIESHANG_CONFIG",
        "TELEGRAM_BOT_TOKEN",
        "XIESHANG_WEBHOOK_URL",
        "XIESHANG_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XIESHANG_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.setenv("XIESHANG_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()


def migrated() -> None:
    """A building's printed code depends on its version in the database."""
    assert main(["--config", str(SHIPPED_CONFIG), "migrate"]) == 0


def test_a_building_code_is_written_as_the_qr_code_of_its_signed_deep_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "board.png"
    migrated()
    capsys.readouterr()

    code = main(["--config", str(SHIPPED_CONFIG), "qr", "HD-01-3", "--out", str(out), *BOT])

    signed = location_code("HD-01-3", derived_key(SIGNING_KEY, LOCATION_PURPOSE))
    link = f"https://t.me/xieshang_bot?start={signed}"
    assert signed.startswith("HD-01-3_")
    assert code == 0
    assert read_qr(out) == link
    assert modules(read_png(out)) == [
        [bool(m) for m in row] for row in segno.make(link, error="m", micro=False).matrix
    ]
    assert capsys.readouterr().out.strip() == f"QR code written to {out}; it opens {link}"


def test_a_rotated_building_is_printed_with_its_current_version(tmp_path: Path) -> None:
    migrated()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'xieshang.sqlite3'}")

    async def rotate_twice() -> None:
        try:
            async with database.uow() as uow:
                await uow.building_links.rotate("HD-01-3", None, datetime.now(UTC))
                await uow.building_links.rotate("HD-01-3", None, datetime.now(UTC))
                await uow.commit()
        finally:
            await database.dispose()

    asyncio.run(rotate_twice())
    out = tmp_path / "board.png"

    assert main(["--config", str(SHIPPED_CONFIG), "qr", "HD-01-3", "--out", str(out), *BOT]) == 0

    key = derived_key(SIGNING_KEY, LOCATION_PURPOSE)
    assert read_qr(out) == f"https://t.me/xieshang_bot?start={location_code('HD-01-3', key, 2)}"
    assert location_code("HD-01-3", key, 2) != location_code("HD-01-3", key)


def test_a_building_code_is_not_printed_without_a_readable_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    code = main(["--config", str(SHIPPED_CONFIG), "qr", "HD-01-3", *BOT])

    assert code == EXIT_FAILED
    assert "xieshang migrate" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.png"))


def test_a_code_typed_in_lower_case_links_to_the_place_as_config_spells_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["--config", str(SHIPPED_CONFIG), "qr", "jsbl-02", *BOT]) == 0

    assert read_qr(tmp_path / "qr-JSBL-02.png") == "https://t.me/xieshang_bot?start=JSBL-02"


def test_the_bot_username_comes_from_config_when_not_given(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")
    config.write_text(
        text.replace('# bot_username = "xieshang_bot"', 'bot_username = "HedongHelperBot"', 1),
        encoding="utf-8",
    )
    out = tmp_path / "hd.png"

    assert main(["--config", str(config), "qr", "HD", "--out", str(out)]) == 0

    assert read_qr(out) == "https://t.me/HedongHelperBot?start=HD"


def test_an_unknown_code_or_a_missing_username_writes_nothing_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    unknown = main(["--config", str(SHIPPED_CONFIG), "qr", "HD-09", *BOT])
    unknown_said = capsys.readouterr().err
    nameless = main(["--config", str(SHIPPED_CONFIG), "qr", "HD"])
    nameless_said = capsys.readouterr().err
    not_a_bot = main(["--config", str(SHIPPED_CONFIG), "qr", "HD", "--bot", "xieshang"])

    assert (unknown, nameless, not_a_bot) == (EXIT_FAILED, EXIT_CONFIG, EXIT_CONFIG)
    assert 'the code "HD-09"' in unknown_said
    assert "pass --bot, or set bot_username" in nameless_said
    assert list(tmp_path.glob("*.png")) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    username=st.from_regex(r"[A-Za-z][A-Za-z0-9_]{1,28}bot", fullmatch=True),
    payload=st.text(alphabet=PAYLOAD_CHARS, min_size=1, max_size=64),
)
def test_any_deep_link_telegram_allows_survives_the_png(
    tmp_path: Path, username: str, payload: str
) -> None:
    link = deep_link(username, payload)
    assert read_qr(write_qr_png(link, tmp_path / "any.png", scale=2)) == link
