"""The composition root: the one place that builds the Application, services and storage."""

from __future__ import annotations

from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.config import Settings
from bot.context import SERVICES_KEY, BotContext, Services
from bot.i18n import Catalogs
from bot.processing import PerUserOrderedProcessor
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
    processor = PerUserOrderedProcessor(settings.config.telegram.updates_in_flight)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .updater(None)
        .concurrent_updates(processor)
        .context_types(ContextTypes(context=BotContext))
        .connection_pool_size(settings.config.telegram.updates_in_flight + 8)
        .build()
    )
    application.bot_data[SERVICES_KEY] = Services(settings, database, catalogs or Catalogs.load())
    register_all(application)
    return application
