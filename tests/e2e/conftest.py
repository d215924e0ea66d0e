"""End-to-end fixtures: the real bot process talking HTTP to the emulator process.

Tests act only as Telegram would: as users through the emulator's user side, and
through its documented control API. One emulator and one bot process per
database kind are shared by the whole session (starting them is the slow part).
"""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from tests.conftest import POSTGRES_URL, require_postgres
from tests.e2e.configs import config_with
from tests.helpers import ROOT, SHIPPED_CONFIG
from tgemu.client import EmulatorClient, EmulatorUser

LIMIT_SCALE = 10
"""The bot's ``[sending]`` limits and the emulator's flood limits (when a test turns them
on) are both this many times Telegram's, so that tests of pacing take seconds."""

BOT_TOKEN = f"{6_000_000_000 + secrets.randbelow(1_000_000)}:{secrets.token_urlsafe(30)}"
SIGNING_KEY = secrets.token_urlsafe(32)

COUNTY_ADMIN_IDS: Final = tuple(range(5_100_000_001, 5_100_000_081))
"""The people ``[admins] telegram_ids`` makes county admins in the e2e config: each test
that asks for :func:`county_admin` gets one of its own, so no test inherits another's
messages or its place in the flood limit. Everyone else is made staff, grid worker or
admin the way a county would, by ``/grant``."""

_admins_handed_out = itertools.count()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The emulator, as its own process, without flood limits (tests switch them on)."""
    port = free_port()
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tgemu",
                "--port",
                str(port),
                "--token",
                BOT_TOKEN,
                "--no-limits",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


SENDING_LIMITS = (
    "global_per_second",
    "per_chat_per_second",
    "per_chat_burst",
    "per_group_per_minute",
)


TICK_SECONDS = 2
"""``[scheduler] tick_seconds`` in e2e: due jobs run within 2 s, not 30, so tests that
move the clock past a deadline wait seconds."""


def scaled_config(directory: Path, scale: int = LIMIT_SCALE) -> Path:
    """The shipped config with ``[sending]`` limits ``scale`` times higher, the county
    admins of :data:`COUNTY_ADMIN_IDS`, and a quick scheduler tick."""
    shipped = tomllib.loads(SHIPPED_CONFIG.read_text(encoding="utf-8"))["sending"]
    limits = {key: shipped[key] * scale for key in SENDING_LIMITS}
    return config_with(
        directory, telegram_ids=list(COUNTY_ADMIN_IDS), tick_seconds=TICK_SECONDS, **limits
    )


@dataclass
class BotProcess:
    """The bot as an operator runs it (``python -m bot run``), restartable and killable."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)

    def terminate(self) -> int:
        """SIGTERM: the graceful shutdown an operator or systemd asks for."""
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def bot(
    request: pytest.FixtureRequest, emulator_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    """The bot process in polling mode against the emulator, once per database kind."""
    if request.param == "postgresql":
        require_postgres()
        import asyncio

        from tests.conftest import _reset_postgres

        asyncio.run(_reset_postgres(POSTGRES_URL))
    data = tmp_path_factory.mktemp(f"bot-{request.param}")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": emulator_url,
        "XIESHANG_SIGNING_KEY": SIGNING_KEY,
        "XIESHANG_CLOCK": "emulator",  # tests move time through the control API
        "XIESHANG_DATA_DIR": str(data),
        "XIESHANG_CONFIG": str(scaled_config(data)),
        "XIESHANG_DATABASE_URL": (
            POSTGRES_URL
            if request.param == "postgresql"
            else f"sqlite+aiosqlite:///{data / 'xieshang.sqlite3'}"
        ),
    }
    process = BotProcess(env, data / "bot.log")
    process.start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
async def emulator(emulator_url: str, bot: BotProcess) -> AsyncIterator[EmulatorClient]:
    """A control-API client; the bot is running and has answered once before the test starts."""
    async with EmulatorClient(emulator_url) as client:
        probe = await client.create_user(first_name="Probe", language_code="en")
        await probe.send_text("/help")
        await probe.next_message(timeout=60)
        yield client


@pytest.fixture
async def county_admin(emulator: EmulatorClient) -> EmulatorUser:
    """A county admin of the e2e config (:data:`COUNTY_ADMIN_IDS`), new for this test."""
    admin_id = COUNTY_ADMIN_IDS[next(_admins_handed_out)]  # IndexError: lengthen the list
    return await emulator.create_user(first_name="县管理员", language_code="zh-hans", id=admin_id)
