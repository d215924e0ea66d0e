"""The tick on APScheduler, through python-telegram-bot's ``JobQueue``.

One repeating APScheduler job with a fixed id calls :meth:`scheduler.ticker.Ticker.tick`.
APScheduler keeps nothing that matters: what is due lives in the ``due_jobs``
table, so a restart loses nothing and the first tick after it catches up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram.ext import CallbackContext, Job, JobQueue

from scheduler.ticker import Ticker, TickReport

log = logging.getLogger(__name__)

TICK_JOB_ID = "scheduler.tick"
FIRST_TICK_AFTER_SECONDS = 1.0
"""The first tick comes right after start-up, so jobs that fell due while the bot was down run."""

TICK_JOB_OPTIONS: dict[str, Any] = {
    "id": TICK_JOB_ID,
    "replace_existing": True,
    # A slow tick never overlaps itself: APScheduler skips (and logs) a run while
    # the previous one is still going, ...
    "max_instances": 1,
    # ... runs missed while the event loop was busy become one run, not a burst, ...
    "coalesce": True,
    # ... and a late run still happens, however late (the default drops runs more
    # than one second late, which a busy event loop easily is).
    "misfire_grace_time": None,
}


async def tick_now(
    ticker: Ticker,
    now: Callable[[], datetime],
    before: Callable[[], Awaitable[None]] | None = None,
    after: Callable[[TickReport], None] | None = None,
) -> TickReport | None:
    """One tick: ``before`` (refresh the clock), the ticker, ``after`` (wake the sender).

    Failures are logged: a failed tick (the database unreachable, say) leaves
    every job pending, and the next tick tries again.
    """
    try:
        if before is not None:
            await before()
        report = await ticker.tick(now())
        if after is not None:
            after(report)
    except Exception:
        log.exception("the scheduler tick failed; due jobs stay pending for the next tick")
        return None
    return report


def start_ticking(
    job_queue: JobQueue[Any],
    ticker: Ticker,
    *,
    every_seconds: float,
    now: Callable[[], datetime],
    before: Callable[[], Awaitable[None]] | None = None,
    after: Callable[[TickReport], None] | None = None,
    first_after_seconds: float = FIRST_TICK_AFTER_SECONDS,
) -> Job[Any]:
    """Run :func:`tick_now` every ``every_seconds`` on ``job_queue``, the first one soon."""

    async def tick(_context: CallbackContext[Any, Any, Any, Any]) -> None:
        await tick_now(ticker, now, before, after)

    return job_queue.run_repeating(
        tick,
        interval=every_seconds,
        first=first_after_seconds,
        name=TICK_JOB_ID,
        job_kwargs=TICK_JOB_OPTIONS,
    )
