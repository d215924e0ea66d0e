"""Is the bot well? One report for the ``health`` command and the webhook's ``/healthz``.

``health`` runs as its own process beside the bot (spec 01, Run modes), so it
can only know what the database knows: the inbox and outbox backlogs, and what
the running bot publishes in :mod:`storage.runtime_status` (its run mode, its
last successful ``getUpdates``, its last webhook update). The verdict is
unhealthy when the database cannot be read, when the outbox's oldest pending
message waited longer than ``[sending] stuck_after_seconds``, or when a polling
bot has not completed a ``getUpdates`` for twice the long-poll timeout (it is
down, or Telegram refuses it, e.g. 409 because another process polls).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.config import RunMode, Settings
from bot.i18n import N_, Translator, format_datetime
from bot.intake import LONG_POLL_SECONDS
from storage.database import Database
from storage.runtime_status import LAST_GET_UPDATES, LAST_WEBHOOK_UPDATE, RUN_MODE

log = logging.getLogger(__name__)

POLL_SILENCE_SECONDS = 2 * LONG_POLL_SECONDS
"""A poller completes a ``getUpdates`` at least once per long poll; twice that is trouble."""


class HealthProblem(StrEnum):
    """Why a report is unhealthy; the values appear in ``/healthz`` JSON."""

    DATABASE_UNREACHABLE = "database_unreachable"
    OUTBOX_STUCK = "outbox_stuck"
    NOT_POLLING = "not_polling"


@dataclass(frozen=True)
class HealthReport:
    """What ``health`` prints and ``/healthz`` answers; ``problems`` empty means healthy."""

    checked_at: datetime
    mode: RunMode
    database_reachable: bool
    inbox_pending: int | None
    outbox_pending: int | None
    outbox_oldest_pending_at: datetime | None
    last_get_updates: datetime | None
    last_webhook_update: datetime | None
    stuck_after_seconds: int
    problems: tuple[HealthProblem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def outbox_oldest_age_seconds(self) -> float | None:
        return _age(self.outbox_oldest_pending_at, self.checked_at)

    def to_json(self) -> dict[str, Any]:
        """The report as ``/healthz`` serves it: counts and times only, nothing personal."""
        return {
            "healthy": self.healthy,
            "problems": [p.value for p in self.problems],
            "checked_at": self.checked_at.isoformat(),
            "mode": self.mode.value,
            "database": {"reachable": self.database_reachable},
            "inbox": {"pending": self.inbox_pending},
            "outbox": {
                "pending": self.outbox_pending,
                "oldest_pending_age_seconds": _rounded(self.outbox_oldest_age_seconds),
                "stuck_after_seconds": self.stuck_after_seconds,
            },
            "intake": {
                "last_get_updates": _iso(self.last_get_updates),
                "last_get_updates_age_seconds": _rounded(
                    _age(self.last_get_updates, self.checked_at)
                ),
                "last_webhook_update": _iso(self.last_webhook_update),
            },
        }


async def collect_health(database: Database, settings: Settings, now: datetime) -> HealthReport:
    """Read the database once and judge; never raises for a database that is down."""
    stuck_after = settings.config.sending.stuck_after_seconds
    unreachable = HealthReport(
        checked_at=now,
        mode=settings.mode,
        database_reachable=False,
        inbox_pending=None,
        outbox_pending=None,
        outbox_oldest_pending_at=None,
        last_get_updates=None,
        last_webhook_update=None,
        stuck_after_seconds=stuck_after,
        problems=(HealthProblem.DATABASE_UNREACHABLE,),
    )
    if _sqlite_file_missing(database) or not await database.ping():
        return unreachable
    try:
        async with database.uow(read_only=True) as uow:
            inbox_pending = await uow.inbox.backlog()
            outbox = await uow.outbox.backlog()
            polled = await uow.runtime_status.get(LAST_GET_UPDATES)
            hooked = await uow.runtime_status.get(LAST_WEBHOOK_UPDATE)
            recorded_mode = await uow.runtime_status.get(RUN_MODE)
    except Exception as error:  # e.g. a database never migrated: no tables
        log.warning("health: the database answers but cannot be read (%s)", type(error).__name__)
        return unreachable
    mode = _mode(recorded_mode.value if recorded_mode else None, settings.mode)
    last_get_updates = polled.updated_at if polled else None
    problems: list[HealthProblem] = []
    oldest_age = _age(outbox.oldest_created_at, now)
    if oldest_age is not None and oldest_age > stuck_after:
        problems.append(HealthProblem.OUTBOX_STUCK)
    if mode is not RunMode.WEBHOOK:
        silence = _age(last_get_updates, now)
        if silence is None or silence > POLL_SILENCE_SECONDS:
            problems.append(HealthProblem.NOT_POLLING)
    return HealthReport(
        checked_at=now,
        mode=mode,
        database_reachable=True,
        inbox_pending=inbox_pending,
        outbox_pending=outbox.pending,
        outbox_oldest_pending_at=outbox.oldest_created_at,
        last_get_updates=last_get_updates,
        last_webhook_update=hooked.updated_at if hooked else None,
        stuck_after_seconds=stuck_after,
        problems=tuple(problems),
    )


MODE_NAMES = {
    RunMode.WEBHOOK: N_("cli.health.mode.webhook"),
    RunMode.POLLING: N_("cli.health.mode.polling"),
    RunMode.LOCAL: N_("cli.health.mode.local"),
}
PROBLEM_TEXTS = {
    HealthProblem.DATABASE_UNREACHABLE: N_("cli.health.problem.database_unreachable"),
    HealthProblem.OUTBOX_STUCK: N_("cli.health.problem.outbox_stuck"),
    HealthProblem.NOT_POLLING: N_("cli.health.problem.not_polling"),
}


def render_health(report: HealthReport, t: Translator, timezone: str, database: str) -> list[str]:
    """The report as lines for the operator, in their language and the county's time zone."""

    def moment(value: datetime) -> str:
        return format_datetime(value, t.locale, timezone)

    def age(value: datetime) -> int:
        return round((report.checked_at - value).total_seconds())

    lines = [
        t("cli.health.healthy") if report.healthy else t("cli.health.unhealthy"),
        t("cli.health.mode", mode=t(MODE_NAMES[report.mode])),
        t("cli.health.database.ok", database=database)
        if report.database_reachable
        else t("cli.health.database.unreachable", database=database),
    ]
    if report.inbox_pending is not None:
        lines.append(t("cli.health.inbox", count=report.inbox_pending))
    if report.outbox_pending is not None:
        oldest = report.outbox_oldest_pending_at
        lines.append(
            t("cli.health.outbox.empty")
            if oldest is None
            else t(
                "cli.health.outbox.pending",
                count=report.outbox_pending,
                oldest=moment(oldest),
                seconds=age(oldest),
            )
        )
    if report.database_reachable:
        polled, hooked = report.last_get_updates, report.last_webhook_update
        lines.append(
            t("cli.health.get_updates.never")
            if polled is None
            else t("cli.health.get_updates.last", when=moment(polled), seconds=age(polled))
        )
        if hooked is not None or report.mode is RunMode.WEBHOOK:
            lines.append(
                t("cli.health.webhook.never")
                if hooked is None
                else t("cli.health.webhook.last", when=moment(hooked), seconds=age(hooked))
            )
    for problem in report.problems:
        lines.append(
            t(
                PROBLEM_TEXTS[problem],
                stuck_after=report.stuck_after_seconds,
                silence=POLL_SILENCE_SECONDS,
            )
        )
    return lines


async def print_health(settings: Settings, t: Translator) -> int:
    """``xieshang health``: print the report; exit 0 when healthy, 1 when not."""
    database = Database(settings.database_url)
    try:
        report = await collect_health(database, settings, datetime.now(UTC))
    finally:
        await database.dispose()
    for line in render_health(report, t, settings.config.county.timezone, database.describe()):
        print(line)
    return 0 if report.healthy else 1


def _mode(recorded: str | None, configured: RunMode) -> RunMode:
    """The mode the running bot recorded at start; the configured one if it recorded none.

    ``health`` may run in a shell whose environment differs from the service's
    (no token: local mode); the bot's own record is what its intake does.
    """
    try:
        return RunMode(recorded) if recorded else configured
    except ValueError:
        return configured


def _sqlite_file_missing(database: Database) -> bool:
    """SQLite would create an empty file where none is: report it unreachable instead."""
    url = database.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    return not Path(url.database).exists()


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else (now - moment).total_seconds()


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
