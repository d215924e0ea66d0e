"""The composition root: the one place that builds the Application, services and storage."""

from __future__ import annotations

import os

from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.callbacks import LOCATION_PURPOSE, CallbackCodec, derived_key
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import SERVICES_KEY, BotContext, Services, services_of
from bot.http import AiohttpRequest
from bot.i18n import Catalogs
from bot.processing import PerUserOrderedProcessor
from bot.ratelimit import PriorityRateLimiter
from bot.sender import OutboxSender
from civic.flood import FloodControl
from handlers import register_all, register_jobs
from scheduler import JobRegistry
from scheduler.ticker import RetryPolicy, Ticker
from storage.database import Database


def build_application(
    settings: Settings,
    database: Database,
    *,
    token: str,
    api_url: str,
    signing_key: str | None = None,
    catalogs: Catalogs | None = None,
    clock: Clock | None = None,
) -> Application:  # type: ignore[type-arg]
    """An Application wired with our processor, context type, services and handlers.

    ``signing_key`` overrides ``XIESHANG_SIGNING_KEY`` (local mode generates one).
    ``clock`` (default: the system's) is the one every service and the sender read.

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
        # aiohttp, not httpx: httpcore's pool costs a fifth of the CPU under load (bot.http).
        .request(AiohttpRequest(settings.config.telegram.updates_in_flight + 8))
        .get_updates_request(AiohttpRequest(1))
        .build()
    )
    clock = clock or SystemClock()
    # The sender compares rows' not_before with the same clock that wrote them.
    sender = OutboxSender(application.bot, database, clock=clock.now)
    key = signing_key or (
        settings.secrets.signing_key.get_secret_value() if settings.secrets.signing_key else None
    )
    if key is None:
        raise ValueError("no signing key: load_settings requires one unless in local mode")
    flood = settings.config.flood
    application.bot_data[SERVICES_KEY] = Services(
        settings,
        database,
        catalogs or Catalogs.load(),
        sender,
        CallbackCodec(key.encode()),
        FloodControl(flood.messages, flood.per_seconds),
        clock,
        location_key=derived_key(key, LOCATION_PURPOSE),
    )
    register_all(application)
    return application


def build_ticker(application: Application) -> Ticker:  # type: ignore[type-arg]
    """The scheduler's tick, knowing every capability's job kinds (``[scheduler]``).

    Job handlers render messages with the application's services (catalogs, buttons).
    """
    services = services_of(application)
    database = services.database
    jobs = JobRegistry()
    register_jobs(jobs, services)
    config = services.settings.config.scheduler
    return Ticker(
        database,
        jobs,
        batch_size=config.batch_size,
        retry=RetryPolicy(max_attempts=config.max_attempts),
    )
