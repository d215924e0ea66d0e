"""Telegram adapters, one module per capability: parse the update, call a service, render.

Capabilities (the same words in every layer): residents, reports, topics,
sessions, followups, ratings, register, ballots, committees, broadcasts, outbox.
Handlers hold no SQL, no rules and no literal text: texts come from the catalogs
(``bot/locales``), rules from ``civic``, data through a unit of work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import Application

from handlers import (
    common,
    flows,
    guards,
    outbox,
    register_claims,
    reports,
    reports_feedback,
    reports_monthly,
    reports_queue,
    reports_reminders,
    reports_stats,
    residents,
    residents_codes,
    residents_data,
    roles,
)

if TYPE_CHECKING:
    from bot.context import Services
    from scheduler.registry import JobRegistry


def register_all(application: Application) -> None:  # type: ignore[type-arg]
    """Wire every capability's handlers, in one place."""
    guards.register(application)
    outbox.register(application)
    residents_codes.register(application)  # before residents: it takes /start hc_...
    residents.register(application)
    residents_data.register(application)
    roles.register(application)
    register_claims.register(application)
    reports_stats.register(application)
    reports.register(application)
    reports_queue.register(application)
    reports_feedback.register(application)
    common.register(application)
    # Catch-alls last: in a group only the first matching handler runs.
    flows.register(application)  # /cancel and free text, for whichever flow a person is in
    common.register_fallbacks(application)
    guards.register_fallbacks(application)


def register_jobs(jobs: JobRegistry, services: Services) -> None:
    """Register every capability's scheduled job kinds, in one place (:mod:`scheduler`).

    A capability's ``register_jobs(jobs, services)`` sits in its handlers module:
    its jobs render messages with the same catalogs and buttons as its handlers.
    """
    reports_feedback.register_jobs(jobs, services)
    reports_reminders.register_jobs(jobs, services)
    reports_monthly.register_jobs(jobs, services)


def start_up(application: Application) -> None:  # type: ignore[type-arg]
    """Once the application runs: the residents' languages, the command menus, and the
    jobs of the monthly report to the townships (the month being reported and the next).

    In the background, so that receiving updates does not wait for them (P5).
    """
    application.create_task(residents.load_profiles(application), name="load-profiles")
    application.create_task(roles.set_command_menus(application), name="command-menus")
    application.create_task(reports_monthly.ensure_job(application), name="monthly-report")
