"""Run modes: polling, and local mode on the built-in emulator (spec 01, Run modes).

Precedence is webhook > polling > local, decided by :func:`bot.config.load_settings`.
SIGTERM and SIGINT stop gracefully: the poller stops fetching, handed-over
updates finish (or stay pending in the inbox), then the application shuts down.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from pathlib import Path

from bot.app import build_application
from bot.config import RunMode, Settings
from bot.i18n import Translator
from bot.intake import InboxFeeder, Poller
from bot.logs import REDACTION
from bot.processing import PerUserOrderedProcessor
from bot.startup import prepare_database
from storage.database import Database

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
LOCAL_BOT_USERNAME = "xieshang_local_bot"


class WebhookModeNotBuilt(Exception):
    """Webhook mode needs the runtime's webhook receiver, not built yet."""


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
    settings: Settings, database: Database, *, token: str, api_url: str, stop: asyncio.Event
) -> None:
    """Receive and process updates until ``stop`` is set."""
    application = build_application(settings, database, token=token, api_url=api_url)
    feeder = InboxFeeder(application, database)
    processor = application.update_processor
    if not isinstance(processor, PerUserOrderedProcessor):
        raise TypeError("the composition root must install PerUserOrderedProcessor")
    processor.on_done = feeder.on_done  # finished updates are recorded in the inbox
    poller = Poller(application.bot, database, feeder.wake)
    async with application:
        await application.start()
        tasks: list[asyncio.Task[object]] = [
            asyncio.create_task(poller.run(), name="poller"),
            asyncio.create_task(feeder.run(), name="feeder"),
        ]
        log.info("receiving updates as @%s", application.bot.username)
        stopped: asyncio.Task[object] = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
        poller.stop()
        feeder.stop()
        if not await feeder.drain(DRAIN_SECONDS):
            log.warning(
                "%d updates were still running at shutdown; they stay pending", feeder.outstanding
            )
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
        if settings.mode is RunMode.WEBHOOK:
            raise WebhookModeNotBuilt
        if settings.mode is RunMode.POLLING:
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


async def run_local(
    settings: Settings, database: Database, t: Translator, stop: asyncio.Event
) -> None:
    """The bot and the emulator together on 127.0.0.1: every flow, no token, no internet."""
    from tgemu.server import Emulator  # only local mode needs the emulator

    bot_id = 7_000_000_000 + secrets.randbelow(1_000_000)
    token = local_secret(
        settings.data_dir, "local-bot-token", f"{bot_id}:{secrets.token_urlsafe(30)}"
    )
    port = settings.config.telegram.local_emulator_port
    REDACTION.add_secret(token)
    async with Emulator(host="127.0.0.1", port=port) as emulator:
        emulator.add_bot(token, first_name="协商 xieshang", username=LOCAL_BOT_USERNAME)
        print(t("cli.local.ready", bot=LOCAL_BOT_USERNAME, emulator=emulator.url), flush=True)
        await serve(settings, database, token=token, api_url=emulator.url, stop=stop)
