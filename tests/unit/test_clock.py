"""The bot's clock: the system's, or the emulator's in local and test mode only."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import EmulatorClock, SystemClock, build_clock
from bot.config import ClockSource, ConfigError, load_settings
from tests.helpers import SHIPPED_CONFIG
from tgemu.client import EmulatorClient
from tgemu.server import Emulator

DAY = 86_400.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0) as emu:
        yield emu


def close_to(moment: datetime, expected: datetime, seconds: float = 2.0) -> bool:
    return abs((moment - expected).total_seconds()) < seconds


async def test_the_system_clock_is_aware_utc_and_now() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert close_to(now, datetime.now(UTC))


async def test_the_emulator_clock_moves_when_the_emulator_offset_moves(
    emulator: Emulator,
) -> None:
    clock = EmulatorClock(emulator.url)
    try:
        await clock.refresh()
        assert close_to(clock.now(), datetime.now(UTC))

        async with EmulatorClient(emulator.url) as control:
            await control.set_clock(offset_seconds=2 * DAY)
            assert close_to(clock.now(), datetime.now(UTC))  # not before the next refresh
            await clock.refresh()
            emulated = (await control.clock())["now"]
            assert close_to(clock.now(), datetime.fromtimestamp(emulated, UTC))
            assert close_to(clock.now(), datetime.now(UTC) + timedelta(days=2))

            await control.set_clock(advance_seconds=-3 * DAY)
            await clock.refresh()
        assert clock.now().tzinfo is UTC
        assert close_to(clock.now(), datetime.now(UTC) - timedelta(days=1))
    finally:
        await clock.aclose()


async def test_the_emulator_clock_follows_the_offset_every_few_seconds_by_itself(
    emulator: Emulator,
) -> None:
    clock = EmulatorClock(emulator.url, refresh_seconds=0.02)
    follower = asyncio.create_task(clock.run())
    try:
        emulator.clock.set_offset(3600)
        for _ in range(250):
            if clock.offset_seconds == 3600:
                break
            await asyncio.sleep(0.02)
        assert close_to(clock.now(), datetime.now(UTC) + timedelta(hours=1))
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await clock.aclose()


async def test_an_unreachable_emulator_keeps_the_last_offset_and_warns_once(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    clock = EmulatorClock(emulator.url)
    emulator.clock.set_offset(DAY)
    await clock.refresh()
    gone = EmulatorClock(f"http://127.0.0.1:{free_port()}")
    gone.offset_seconds = clock.offset_seconds
    try:
        with caplog.at_level(logging.WARNING, logger="bot.clock"):
            await gone.refresh()
            await gone.refresh()
        assert gone.offset_seconds == DAY
        assert close_to(gone.now(), datetime.now(UTC) + timedelta(days=1))
        assert caplog.text.count("cannot read the emulator clock") == 1
    finally:
        await clock.aclose()
        await gone.aclose()


POLLING = {
    "TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdef",
    "XIESHANG_SIGNING_KEY": "k" * 32,
}


def test_local_mode_follows_the_emulator_clock_unless_told_otherwise() -> None:
    assert load_settings(SHIPPED_CONFIG, {}).clock is ClockSource.EMULATOR
    assert load_settings(SHIPPED_CONFIG, {"XIESHANG_CLOCK": "system"}).clock is ClockSource.SYSTEM


def test_polling_uses_the_system_clock_unless_a_test_asks_for_the_emulator_on_loopback() -> None:
    assert load_settings(SHIPPED_CONFIG, POLLING).clock is ClockSource.SYSTEM
    for url in ("http://127.0.0.1:8081", "http://localhost:9000/", "http://[::1]:8081"):
        env = {**POLLING, "XIESHANG_CLOCK": "emulator", "TELEGRAM_API_URL": url}
        assert load_settings(SHIPPED_CONFIG, env).clock is ClockSource.EMULATOR, url


@pytest.mark.parametrize(
    "url",
    [
        "https://api.telegram.org",  # the shipped default: production
        "http://10.0.0.5:8081",
        "http://127.0.0.1.example.org:8081",
        "http://localhost.example.org",
    ],
)
def test_the_emulator_clock_is_refused_for_a_bot_api_server_elsewhere(url: str) -> None:
    env = {**POLLING, "XIESHANG_CLOCK": "emulator", "TELEGRAM_API_URL": url}
    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, env)
    (problem,) = caught.value.problems
    assert problem.key == "XIESHANG_CLOCK"
    assert "this machine" in problem.problem
    assert "unset XIESHANG_CLOCK" in problem.fix
    with pytest.raises(ValueError, match="this machine only"):
        EmulatorClock(url)


def test_an_unknown_clock_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(SHIPPED_CONFIG, {**POLLING, "XIESHANG_CLOCK": "sundial"})
    assert [p.key for p in caught.value.problems] == ["XIESHANG_CLOCK"]


async def test_the_settings_choose_the_clock_the_bot_builds() -> None:
    assert isinstance(build_clock(ClockSource.SYSTEM, "https://api.telegram.org"), SystemClock)
    clock = build_clock(ClockSource.EMULATOR, "http://127.0.0.1:8081")
    assert isinstance(clock, EmulatorClock)
    await clock.aclose()
