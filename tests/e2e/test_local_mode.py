"""Local mode end to end: no token, the bot and its built-in emulator in one process.

This is the newcomer's path (README, "Trying it"): ``python -m bot run`` prints
where the emulator listens, and talking to it needs nothing but that address.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.configs import config_with
from tests.e2e.conftest import free_port
from tests.helpers import ROOT
from tgemu.client import EmulatorClient

pytestmark = pytest.mark.e2e

EMULATOR_URL = re.compile(r"http://127\.0\.0\.1:\d+")


class LocalBot:
    """``python -m bot run`` with no token; its stdout is the operator's terminal."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "data"
        self.stdout = tmp_path / "stdout.txt"
        self.stderr = tmp_path / "stderr.txt"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "LANG": "en_US.UTF-8",
            "PTB_TIMEDELTA": "true",
            "XIESHANG_CONFIG": str(config_with(tmp_path, local_emulator_port=free_port())),
            "XIESHANG_DATA_DIR": str(self.data),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start, and return the emulator URL from the ready line."""
        with self.stdout.open("wb") as out, self.stderr.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=self.env, stdout=out, stderr=err
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = EMULATOR_URL.search(self.stdout.read_text(encoding="utf-8"))
            if found:
                return found.group(0)
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode}: {self.log()}")
            time.sleep(0.05)
        raise TimeoutError(f"no ready line: {self.log()}")

    def terminate(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


async def help_is_answered(url: str) -> list[dict[str, object]]:
    """Talk to the bot as a new user; return the emulator's bots."""
    async with EmulatorClient(url) as emulator:
        ann = await emulator.create_user(first_name="Ann", language_code="en")
        await ann.send_text("/help")
        assert "xieshang" in ((await ann.next_message(timeout=20)).text or "")
        return await emulator.bots()


async def test_local_mode_answers_with_no_token_and_keeps_its_token(tmp_path: Path) -> None:
    bot = LocalBot(tmp_path)
    try:
        url = bot.start()
        assert "Local mode" in bot.stdout.read_text(encoding="utf-8")
        (first,) = await help_is_answered(url)
        token_file = bot.data / "local-bot-token"
        token = token_file.read_text(encoding="utf-8").strip()
        assert first["token"] == token
        assert token_file.stat().st_mode & 0o077 == 0  # readable by the bot's user only
        assert bot.terminate() == 0

        url = bot.start()
        (second,) = await help_is_answered(url)
        assert second["token"] == token
        assert token_file.read_text(encoding="utf-8").strip() == token
        assert bot.terminate() == 0
    finally:
        bot.kill()
    assert token not in bot.log()
