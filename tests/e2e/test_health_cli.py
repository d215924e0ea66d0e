"""``xieshang health`` against the database of the running bot, as an operator runs it.

The command is another process: it knows only what the bot's database holds.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from civic.outbox import OutgoingMessage
from storage.database import Database
from storage.tables import outbox
from tests.e2e.conftest import BotProcess
from tests.helpers import ROOT
from tgemu.client import EmulatorClient

pytestmark = pytest.mark.e2e

STUCK_AFTER = 600  # config.toml [sending] stuck_after_seconds


def health(bot: BotProcess) -> subprocess.CompletedProcess[str]:
    """``python -m bot health`` with the bot's environment, in English."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=ROOT,
        env={**bot.env, "LANG": "en_US.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def park_an_old_message(database: Database, queued_at: datetime) -> int:
    """Queue a message as if long ago, and hold it back so the running sender leaves it.

    One transaction, so the bot's sender never sees it due.
    """
    key = f"health-test-{queued_at.timestamp()}"
    async with database.uow() as uow:
        message = OutgoingMessage(chat_id=-1_009_999_999_999, payload={"text": "x"}, dedupe_key=key)
        await uow.outbox.enqueue([message], queued_at)
        row_id = (
            await uow.connection.execute(select(outbox.c.id).where(outbox.c.dedupe_key == key))
        ).scalar_one()
        await uow.outbox.retry_later(row_id, queued_at + timedelta(days=1), "held by a test")
        await uow.commit()
    return int(row_id)


async def test_health_reports_the_running_bot_and_a_stuck_outbox(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    healthy = health(bot)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert healthy.stdout.startswith("xieshang is healthy.")
    assert "outbox: nothing waiting to be sent" in healthy.stdout
    assert "run mode: polling" in healthy.stdout
    assert "last successful getUpdates:" in healthy.stdout

    database = Database(bot.env["XIESHANG_DATABASE_URL"])
    try:
        now = datetime.now(UTC)
        row_id = await park_an_old_message(database, now - timedelta(seconds=STUCK_AFTER + 60))

        stuck = health(bot)
        assert stuck.returncode == 1, stuck.stdout + stuck.stderr
        assert stuck.stdout.startswith("xieshang is UNHEALTHY.")
        assert "outbox: 1 messages waiting to be sent" in stuck.stdout
        assert f"waited more than {STUCK_AFTER} s" in stuck.stdout

        async with database.uow() as uow:
            await uow.outbox.mark_failed(row_id, now, "released by a test")
            await uow.commit()
    finally:
        await database.dispose()
    assert health(bot).returncode == 0


def test_health_with_a_broken_configuration_exits_2(bot: BotProcess) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=ROOT,
        env={**bot.env, "XIESHANG_WEBHOOK_URL": "https://bot.example.org/hook"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "XIESHANG_WEBHOOK_SECRET" in result.stderr
