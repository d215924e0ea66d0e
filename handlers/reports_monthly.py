"""The monthly XLSX report townships receive by themselves: the job and its documents.

Spec 02, Views: "a monthly XLSX report per community for the township". The
rules (when, for whom, exactly once) are :mod:`civic.reports_monthly`'s; this
module renders each community's month as the ``/stats`` XLSX button does (the
same workbook and file name, :class:`handlers.reports_stats_views.StatsPainter`)
with a summary caption in the recipient's language, runs the job
``reports.monthly`` and, at start-up, makes sure the month's job exists.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from telegram.ext import Application

from bot.config.reports import working_calendar_from_config
from bot.context import Services, services_of
from bot.i18n import Catalogs, resolve_locale
from bot.reports_stats_files import xlsx_bytes
from civic.jobs import DueJob
from civic.places import Community, Places
from civic.reports_monthly import (
    MONTHLY_KIND,
    MonthlyDocument,
    ensure_monthly_job,
    send_monthly_reports,
)
from civic.reports_stats import MonthFigures
from handlers.reports_stats_views import StatsPainter, percent, rating

if TYPE_CHECKING:
    from scheduler.registry import JobRegistry
    from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


class MonthlyDocuments:
    """:class:`civic.reports_monthly.MonthlyFiles` with the catalogs and the places."""

    def __init__(self, catalogs: Catalogs, places: Places) -> None:
        self.catalogs = catalogs
        self.places = places

    async def document(
        self, figures: MonthFigures, community: Community, language: str | None
    ) -> MonthlyDocument:
        """The ``/stats`` workbook of the month, drawn in a worker thread, and its caption."""
        t = self.catalogs.for_locale(resolve_locale(language, None))
        view = StatsPainter(t, self.places)
        stats = figures.stats
        sheets = view.workbook(stats, figures.rows, community.timezone)
        data = await asyncio.to_thread(xlsx_bytes, sheets)
        no_data = t("reports.stats.no_data")
        caption = t(
            "reports.monthly.summary",
            community=view.community(community.code),
            month=stats.period.label,
            total=stats.total,
            resolved=stats.resolved_count,
            on_time=no_data if stats.on_time_rate is None else percent(stats.on_time_rate),
            rating=no_data if stats.average_rating is None else rating(stats.average_rating),
        )
        filename = f"reports-{community.code}-{stats.period.label}.xlsx"
        too_large = t(
            "reports.monthly.too_large",
            caption=caption,
            code=community.code,
            month=stats.period.label,
        )
        return MonthlyDocument(data, filename, caption, too_large)


def register_jobs(jobs: JobRegistry, services: Services) -> None:
    """The ``reports.monthly`` job: each due month's reports, to each township."""
    documents = MonthlyDocuments(services.catalogs, services.places)
    timezone = services.settings.config.county.timezone
    calendar = working_calendar_from_config(services.settings.config)

    async def send_monthly(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        """Queue the month's documents; the ticker commits them with the job's "done"."""
        outcome = await send_monthly_reports(
            uow,
            job.key,
            now,
            job_due_at=job.due_at,
            timezone=timezone,
            calendar=calendar,
            places=services.places,
            files=documents,
        )
        log.info(
            "monthly reports %s: %d documents queued; next jobs from %s",
            ", ".join(m.label for m in outcome.months) or "none due",
            outcome.queued,
            outcome.next_month.label,
        )
        if outcome.too_late:
            log.warning(
                "monthly reports of %s not sent: too late (read them with /stats)",
                ", ".join(m.label for m in outcome.too_late),
            )
        if outcome.failed:
            log.error(
                "monthly reports not made (read them with /stats): %s",
                ", ".join(f"{code} {month.label}" for month, code in outcome.failed),
            )
        if outcome.too_large:
            log.warning(
                "monthly workbooks too large to send, the caption went alone: %s",
                ", ".join(f"{code} {month.label}" for month, code in outcome.too_large),
            )
        if outcome.unreceived:
            log.warning(
                "monthly reports of %s: no township or county admin to receive them",
                ", ".join(outcome.unreceived),
            )

    jobs.add(MONTHLY_KIND, send_monthly)


async def ensure_job(application: Application) -> None:  # type: ignore[type-arg]
    """At start-up: the month being reported and the next have their jobs (the first
    run, a chain broken by two months failing in a row)."""
    services = services_of(application)
    config = services.settings.config
    try:
        async with services.database.uow() as uow:
            month = await ensure_monthly_job(
                uow,
                services.clock.now(),
                config.county.timezone,
                working_calendar_from_config(config),
            )
            await uow.commit()
    except Exception:  # the next start-up tries again; the chain itself goes on meanwhile
        log.exception("scheduling this month's report failed")
        return
    log.info("the monthly report of %s is scheduled", month.label)
