"""The tick on python-telegram-bot's JobQueue: soon after start, never overlapping itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application, ApplicationBuilder

from civic.jobs import DueJob
from scheduler.jobqueue import TICK_JOB_ID, start_ticking, tick_now
from scheduler.registry import JobRegistry
from scheduler.ticker import Outcome, Ticker, TickReport
from storage.database import Database
from storage.uow import SqlUnitOfWork

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


class WatchedTicker(Ticker):
    """A ticker that records how many of its ticks ran at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticks = 0
        self.active = 0
        self.most_active = 0

    async def tick(self, now: datetime) -> TickReport:
        self.ticks += 1
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            return await super().tick(now)
        finally:
            self.active -= 1


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}")
    await db.migrate()
    yield db
    await db.dispose()


@pytest.fixture
async def application() -> AsyncIterator[Application]:  # type: ignore[type-arg]
    app = ApplicationBuilder().token("123456:" + "A" * 35).updater(None).build()
    assert app.job_queue is not None
    await app.job_queue.start()
    yield app
    await app.job_queue.stop()


async def test_a_slow_tick_never_overlaps_the_next_and_each_job_runs_once(
    database: Database,
    application: Application,  # type: ignore[type-arg]
) -> None:
    runs: list[str] = []

    async def slow(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        runs.append(job.key)
        await asyncio.sleep(0.1)

    registry = JobRegistry()
    registry.add("tests.slow", slow)
    async with database.uow() as uow:
        for key in ("a", "b", "c"):
            await uow.due_jobs.schedule("tests.slow", key, NOW, NOW)
        await uow.commit()
    refreshed = 0

    async def refresh() -> None:
        nonlocal refreshed
        refreshed += 1

    reports: list[TickReport] = []
    ticker = WatchedTicker(database, registry)
    assert application.job_queue is not None
    job = start_ticking(
        application.job_queue,
        ticker,
        every_seconds=0.02,
        now=lambda: NOW,
        before=refresh,
        after=reports.append,
        first_after_seconds=0.01,
    )
    assert job.job.id == TICK_JOB_ID
    for _ in range(200):
        if len(runs) == 3 and ticker.ticks >= 3:
            break
        await asyncio.sleep(0.02)

    assert sorted(runs) == ["a", "b", "c"]
    assert ticker.ticks >= 3
    assert ticker.most_active == 1
    assert refreshed == ticker.ticks
    assert len(reports) in (ticker.ticks, ticker.ticks - 1)  # the last may still be running
    assert sum(r.count(Outcome.DONE) for r in reports) == 3
    async with database.uow(read_only=True) as uow:
        assert await uow.due_jobs.counts() == {"done": 3}


class BrokenTicker(Ticker):
    async def tick(self, now: datetime) -> TickReport:
        raise ConnectionError("database unreachable")


async def test_a_failed_tick_is_logged_and_leaves_the_next_one_to_try_again(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="scheduler.jobqueue"):
        report = await tick_now(BrokenTicker(database, JobRegistry()), lambda: NOW)
    assert report is None
    assert "due jobs stay pending" in caplog.text
    assert "database unreachable" in caplog.text
