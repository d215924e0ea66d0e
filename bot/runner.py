"""Run modes: webhook, polling, and local mode on the built-in emulator (spec 01, Run modes).

Precedence is webhook > polling > local, decided by :func:`bot.config.load_settings`.
Every mode is :func:`serve` with another :class:`~bot.intake.Intake`: the poller,
or the webhook receiver (:mod:`bot.webhook`). SIGTERM and SIGINT stop gracefully:
the intake stops receiving (the webhook stops listening; what it did not answer
200, Telegram retries), handed-over updates finish (or stay pending in the
inbox), then the application shuts down.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from telegram.ext import Application

from bot.app import build_application, build_ticker
from bot.clock import Clock, EmulatorClock, build_clock
from bot.config import RunMode, Settings
from bot.context import services_of
from bot.i18n import Translator
from bot.intake import InboxFeeder, Intake, Poller, PollingIntake
from bot.logs import REDACTION
from bot.processing import PerUserOrderedProcessor
from bot.startup import prepare_database
from bot.webhook import webhook_intake
from handlers import start_up
from scheduler.jobqueue import start_ticking
from scheduler.ticker import Outcome, TickReport
from storage.database import Database
from storage.runtime_status import RUN_MODE

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
LOCAL_BOT_USERNAME = "xieshang_local_bot"
LOCAL_SIGNING_KEY_FILE = "local-signing-key"
"""Local mode's generated signing key, in the data folder (``qr`` reads it too)."""


MakeIntake = Callable[[Application, InboxFeeder], Intake]  # type: ignore[type-arg]
"""Builds a run mode's intake for the application it feeds."""


def polling(database: Database) -> MakeIntake:
    """Polling and local mode: ``getUpdates`` in a loop."""
    return lambda application, feeder: PollingIntake(
        application.bot, Poller(application.bot, database, feeder.wake)
    )


def local_secret(data_dir: Path, name: str, make: str) -> str:
    """A secret generated once and kept in the data folder, so it survives restarts."""
    path = data_dir / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(make + "\n", encoding="utf-8")
    path.chmod(0o600)
    return make


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)


async def serve(
    settings: Settings,
    database: Database,
    *,
    token: str,
    api_url: str,
    stop: asyncio.Event,
    intake: MakeIntake | None = None,
    signing_key: str | None = None,
) -> None:
    """Receive (by polling unless told otherwise) and process updates until ``stop`` is set.

    The scheduler ticks on the application's JobQueue meanwhile; in local and
    test mode its clock follows the emulator at ``api_url`` (:mod:`bot.clock`).
    """
    clock = build_clock(settings.clock, api_url)
    try:
        await _serve(settings, database, token, api_url, stop, intake, signing_key, clock)
    finally:
        await clock.aclose()


async def _serve(
    settings: Settings,
    database: Database,
    token: str,
    api_url: str,
    stop: asyncio.Event,
    intake: MakeIntake | None,
    signing_key: str | None,
    clock: Clock,
) -> None:
    application = build_application(
        settings, database, token=token, api_url=api_url, signing_key=signing_key, clock=clock
    )
    ticker = build_ticker(application)
    feeder = InboxFeeder(application, database)
    processor = application.update_processor
    if not isinstance(processor, PerUserOrderedProcessor):
        raise TypeError("the composition root must install PerUserOrderedProcessor")
    processor.on_done = feeder.on_done  # finished updates are recorded in the inbox
    receiver = (intake or polling(database))(application, feeder)
    sender = services_of(application).sender

    def wake_sender(report: TickReport) -> None:
        if report.count(Outcome.DONE):
            sender.wake()  # jobs may have queued messages

    await clock.refresh()
    async with application:
        await application.start()
        start_up(application)  # the command menus, in the background
        assert application.job_queue is not None  # the job-queue extra is a dependency
        start_ticking(
            application.job_queue,
            ticker,
            every_seconds=settings.config.scheduler.tick_seconds,
            now=clock.now,
            before=clock.refresh,
            after=wake_sender,
        )
        tasks: list[asyncio.Task[object]] = [
            asyncio.create_task(receiver.run(), name="intake"),
            asyncio.create_task(feeder.run(), name="feeder"),
            asyncio.create_task(sender.run(), name="outbox-sender"),
        ]
        if isinstance(clock, EmulatorClock):
            tasks.append(asyncio.create_task(clock.run(), name="emulator-clock"))
        log.info("receiving updates as @%s", application.bot.username)
        stopped: asyncio.Task[object] = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
        await receiver.stop()
        ticker.stop()  # the tick in hand finishes: application.stop() waits for it
        feeder.stop()
        sender.stop()
        if not await feeder.drain(DRAIN_SECONDS):
            log.warning(
                "%d updates were still running at shutdown; they stay pending", feeder.outstanding
            )
        if not await sender.drain(DRAIN_SECONDS):
            log.warning("outbox messages still waiting at shutdown stay pending for the next start")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stopped.cancel()
        await application.stop()
        for task in done:
            failure = None if task is stopped else task.exception()
            if failure is not None:
                raise failure


async def run(settings: Settings, t: Translator) -> int:
    """Run the bot in the mode the settings chose; return the exit code."""
    stop = asyncio.Event()
    install_stop_signals(stop)
    prepared = await prepare_database(settings)
    try:
        await record_run_mode(prepared.database, settings.mode)
        if settings.mode is RunMode.WEBHOOK:
            await serve_webhook(settings, prepared.database, stop)
        elif settings.mode is RunMode.POLLING:
            assert settings.secrets.bot_token is not None
            await serve(
                settings,
                prepared.database,
                token=settings.secrets.bot_token.get_secret_value(),
                api_url=settings.api_url,
                stop=stop,
            )
        else:
            await run_local(settings, prepared.database, t, stop)
    finally:
        await prepared.database.dispose()
    return 0


async def record_run_mode(database: Database, mode: RunMode) -> None:
    """Tell ``health``, another process, which intake this bot runs."""
    now = datetime.now(UTC)
    async with database.uow() as uow:
        await uow.runtime_status.put(RUN_MODE, mode.value, now)
        await uow.commit()


async def serve_webhook(settings: Settings, database: Database, stop: asyncio.Event) -> None:
    """Webhook mode: Telegram posts to our receiver, which commits before answering."""
    assert settings.secrets.bot_token is not None
    await serve(
        settings,
        database,
        token=settings.secrets.bot_token.get_secret_value(),
        api_url=settings.api_url,
        stop=stop,
        intake=lambda application, feeder: webhook_intake(
            settings, database, application.bot, feeder.wake
        ),
    )


async def run_local(
    settings: Settings, database: Database, t: Translator, stop: asyncio.Event
) -> None:
    """The bot and the emulator together on 127.0.0.1: every flow, no token, no internet."""
    from tgemu.server import Emulator  # only local mode needs the emulator

    bot_id = 7_000_000_000 + secrets.randbelow(1_000_000)
    token = local_secret(
        settings.data_dir, "local-bot-token", f"{bot_id}:{secrets.token_urlsafe(30)}"
    )
    # Generated once and kept, so buttons sent before a restart still work (spec 01).
    signing_key = (
        settings.secrets.signing_key.get_secret_value()
        if settings.secrets.signing_key
        else local_secret(settings.data_dir, LOCAL_SIGNING_KEY_FILE, secrets.token_urlsafe(32))
    )
    port = settings.config.telegram.local_emulator_port
    REDACTION.add_secret(token)
    REDACTION.add_secret(signing_key)
    async with Emulator(host="127.0.0.1", port=port) as emulator:
        account = emulator.add_bot(token, first_name="协商 xieshang", username=LOCAL_BOT_USERNAME)
        async with database.uow(read_only=True) as uow:
            # A fresh emulator numbers updates from scratch; the inbox remembers the old ids.
            account.queue.continue_after(await uow.inbox.last_update_id())
        print(t("cli.local.ready", bot=LOCAL_BOT_USERNAME, emulator=emulator.url), flush=True)
        await serve(
            settings,
            database,
            token=token,
            api_url=emulator.url,
            stop=stop,
            signing_key=signing_key,
        )
