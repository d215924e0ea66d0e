"""``collect_health`` judges from what the database holds, on both databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Update

from bot.config import RunMode, Settings, load_settings
from bot.health import HealthProblem, collect_health, render_health
from bot.i18n import Catalogs
from bot.intake import store_updates
from civic.outbox import OutgoingMessage
from storage.database import Database
from storage.runtime_status import LAST_GET_UPDATES, LAST_WEBHOOK_UPDATE, RUN_MODE
from tests.helpers import SHIPPED_CONFIG
from tests.telegram_updates import update_json

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
STUCK_AFTER = 600  # config.toml [sending] stuck_after_seconds


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(SHIPPED_CONFIG, {"XIESHANG_DATA_DIR": str(tmp_path)})


async def record(database: Database, name: str, value: str, at: datetime) -> None:
    async with database.uow() as uow:
        await uow.runtime_status.put(name, value, at)
        await uow.commit()


async def queue_message(database: Database, at: datetime) -> None:
    async with database.uow() as uow:
        await uow.outbox.enqueue([OutgoingMessage(chat_id=42, payload={"text": "x"})], at)
        await uow.commit()


async def polling_bot(database: Database, polled_at: datetime = NOW) -> None:
    await record(database, RUN_MODE, RunMode.POLLING.value, NOW - timedelta(hours=1))
    await record(database, LAST_GET_UPDATES, polled_at.isoformat(), polled_at)


async def test_a_polling_bot_with_nothing_waiting_is_healthy(
    database: Database, settings: Settings
) -> None:
    await polling_bot(database, NOW - timedelta(seconds=20))

    report = await collect_health(database, settings, NOW)

    assert report.healthy
    assert report.mode is RunMode.POLLING
    assert report.database_reachable
    assert (report.inbox_pending, report.outbox_pending) == (0, 0)
    assert report.last_get_updates == NOW - timedelta(seconds=20)


async def test_an_outbox_message_waiting_longer_than_the_threshold_is_stuck(
    database: Database, settings: Settings
) -> None:
    await polling_bot(database)
    await queue_message(database, NOW - timedelta(seconds=STUCK_AFTER + 1))
    await queue_message(database, NOW - timedelta(seconds=5))

    report = await collect_health(database, settings, NOW)

    assert report.problems == (HealthProblem.OUTBOX_STUCK,)
    assert report.outbox_pending == 2
    assert report.outbox_oldest_age_seconds == STUCK_AFTER + 1


async def test_an_outbox_message_younger_than_the_threshold_is_not_stuck(
    database: Database, settings: Settings
) -> None:
    await polling_bot(database)
    await queue_message(database, NOW - timedelta(seconds=STUCK_AFTER - 1))

    report = await collect_health(database, settings, NOW)

    assert report.healthy
    assert report.outbox_pending == 1


async def test_the_threshold_comes_from_the_configuration(
    database: Database, settings: Settings
) -> None:
    sending = settings.config.sending.model_copy(update={"stuck_after_seconds": 60})
    config = settings.config.model_copy(update={"sending": sending})
    strict = dataclasses.replace(settings, config=config)
    await polling_bot(database)
    await queue_message(database, NOW - timedelta(seconds=61))

    assert (await collect_health(database, strict, NOW)).problems == (HealthProblem.OUTBOX_STUCK,)


async def test_a_poller_silent_for_twice_the_long_poll_is_unhealthy(
    database: Database, settings: Settings
) -> None:
    await polling_bot(database, NOW - timedelta(seconds=61))

    report = await collect_health(database, settings, NOW)

    assert report.problems == (HealthProblem.NOT_POLLING,)


async def test_a_polling_bot_that_never_polled_is_unhealthy(
    database: Database, settings: Settings
) -> None:
    await record(database, RUN_MODE, RunMode.POLLING.value, NOW)

    report = await collect_health(database, settings, NOW)

    assert report.problems == (HealthProblem.NOT_POLLING,)
    assert report.last_get_updates is None


async def test_a_webhook_bot_is_not_judged_by_get_updates(
    database: Database, settings: Settings
) -> None:
    await record(database, RUN_MODE, RunMode.WEBHOOK.value, NOW)
    await record(database, LAST_WEBHOOK_UPDATE, NOW.isoformat(), NOW - timedelta(hours=3))

    report = await collect_health(database, settings, NOW)

    assert report.healthy
    assert report.mode is RunMode.WEBHOOK
    assert report.last_webhook_update == NOW - timedelta(hours=3)


async def test_the_mode_the_bot_recorded_wins_over_the_callers_settings(
    database: Database, settings: Settings
) -> None:
    assert settings.mode is RunMode.LOCAL  # an operator's shell without the token
    await record(database, RUN_MODE, RunMode.WEBHOOK.value, NOW)

    assert (await collect_health(database, settings, NOW)).mode is RunMode.WEBHOOK


async def test_pending_inbox_updates_are_counted(database: Database, settings: Settings) -> None:
    await polling_bot(database)
    updates = [Update.de_json(update_json(i), None) for i in (1, 2, 3)]
    await store_updates(database, updates, NOW)

    assert (await collect_health(database, settings, NOW)).inbox_pending == 3


async def test_a_database_without_tables_is_reported_unreachable(
    empty_database: Database, settings: Settings
) -> None:
    report = await collect_health(empty_database, settings, NOW)

    assert report.problems == (HealthProblem.DATABASE_UNREACHABLE,)
    assert not report.database_reachable


async def test_a_missing_sqlite_file_is_unreachable_and_not_created(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "nowhere" / "xieshang.sqlite3"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        report = await collect_health(database, settings, NOW)
    finally:
        await database.dispose()

    assert report.problems == (HealthProblem.DATABASE_UNREACHABLE,)
    assert not path.exists()


async def test_a_database_server_that_does_not_answer_is_unreachable(settings: Settings) -> None:
    database = Database("postgresql+asyncpg://nobody:x@127.0.0.1:9/none")
    try:
        report = await collect_health(database, settings, NOW)
    finally:
        await database.dispose()

    assert report.problems == (HealthProblem.DATABASE_UNREACHABLE,)
    assert report.to_json()["healthy"] is False


async def test_the_report_renders_in_both_languages_with_every_problem(
    database: Database, settings: Settings
) -> None:
    await record(database, RUN_MODE, RunMode.POLLING.value, NOW)
    await queue_message(database, NOW - timedelta(hours=1))
    report = await collect_health(database, settings, NOW)
    catalogs = Catalogs.load()

    english = render_health(report, catalogs.for_locale("en"), "Asia/Shanghai", "db")
    chinese = render_health(report, catalogs.for_locale("zh_CN"), "Asia/Shanghai", "db")

    assert english[0] == "xieshang is UNHEALTHY."
    assert any("outbox: 1 messages waiting" in line and "3600 s ago" in line for line in english)
    assert any("600 s" in line for line in english)  # the stuck threshold is named
    assert any("getUpdates" in line and "60 s" in line for line in english)
    assert chinese[0] == "xieshang 运行异常！"
    assert any("发件箱：1 条消息待发送" in line for line in chinese)
    assert len(english) == len(chinese)


async def test_healthz_json_has_counts_and_times_only(
    database: Database, settings: Settings
) -> None:
    await polling_bot(database)
    await queue_message(database, NOW - timedelta(seconds=90))

    body = (await collect_health(database, settings, NOW)).to_json()

    assert body["healthy"] is True
    assert body["problems"] == []
    assert body["mode"] == "polling"
    assert body["outbox"] == {
        "pending": 1,
        "oldest_pending_age_seconds": 90.0,
        "stuck_after_seconds": STUCK_AFTER,
    }
    assert body["intake"]["last_get_updates"] == NOW.isoformat()
