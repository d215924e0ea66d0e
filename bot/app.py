"""The composition root: the one place that builds the Application, services and storage."""

from __future__ import annotations

import os

from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.config import Settings
from bot.context import SERVICES_KEY, BotContext, Services
from bot.i18n import Catalogs
from bot.intake import utc_now
from bot.processing import PerUserOrderedProcessor
from bot.ratelimit import PriorityRateLimiter
from bot.sender import OutboxSender
from handlers import register_all
from storage.database import Database


def build_application(
    settings: Settings,
    database: Database,
    *,
    token: str,
    api_url: str,
    catalogs: Catalogs | None = None,
) -> Application:  # type: ignore[type-arg]
    """An Application wired with our processor, context type, services and handlers.

    There is no PTB ``Updater``: our poller (or webhook) writes updates to the
    inbox first (:mod:`bot.intake`).
    """
    # python-telegram-bot 22 warns on every RetryAfter unless it may use timedelta;
    # bot.ratelimit reads both forms, so opt in and keep 429s quiet (telegram-facts.md).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    sending = settings.config.sending
    limiter = PriorityRateLimiter.from_config(
        global_per_second=sending.global_per_second,
        per_chat_per_second=sending.per_chat_per_second,
        per_chat_burst=sending.per_chat_burst,
        per_group_per_minute=sending.per_group_per_minute,
    )
    processor = PerUserOrderedProcessor(settings.config.telegram.updates_in_flight)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .updater(None)
        .concurrent_updates(processor)
        .rate_limiter(limiter)
        .context_types(ContextTypes(context=BotContext))
        .connection_pool_size(settings.config.telegram.updates_in_flight + 8)
        .build()
    )
    sender = OutboxSender(application.bot, database, clock=utc_now)
    application.bot_data[SERVICES_KEY] = Services(
        settings, database, catalogs or Catalogs.load(), sender
    )
    register_all(application)
    return application
