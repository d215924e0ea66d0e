"""Webhook mode: Telegram POSTs each update here; it is committed to the inbox before the 200.

python-telegram-bot's ``run_webhook`` answers 200 once an update is in an
in-memory queue, so a crash loses what was queued (spec 01, Storage). This
receiver answers 200 only after :func:`bot.intake.store_updates` committed the
update; anything not answered 2xx is retried by Telegram, and a retried update
is stored once by its ``update_id``. Requests without the secret header that
``setWebhook`` registered are refused (spec 01, Run modes), and ``GET /healthz``
serves :func:`bot.health.collect_health` for load balancers and monitors.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.config import Settings
from bot.health import collect_health
from bot.intake import STATUS_EVERY_SECONDS, Clock, store_updates, utc_now
from bot.ratelimit import retry_after_seconds
from storage.database import Database
from storage.runtime_status import LAST_WEBHOOK_UPDATE

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY_BYTES = 1024 * 1024
"""One update is a few kilobytes (a message of 4096 characters with its entities and
the message it replies to); anything near a megabyte is not from Telegram."""
SHUTDOWN_SECONDS = 5.0
"""At SIGTERM, requests already being stored get this long to finish; the rest are
not answered, so Telegram retries them after the restart."""
HEALTH_PATH = "/healthz"


def webhook_path(url: str) -> str:
    """The path the receiver serves: the path of ``XIESHANG_WEBHOOK_URL``."""
    return urlsplit(url).path or "/"


class WebhookReceiver:
    """The aiohttp application: the webhook path (POST) and ``/healthz`` (GET)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        path: str,
        secret: str,
        on_stored: Callable[[Sequence[int]], None],
        clock: Clock = utc_now,
    ) -> None:
        self._database = database
        self._settings = settings
        self._path = path
        self._secret = secret.encode()
        self._on_stored = on_stored
        self._clock = clock
        self._published_at: datetime | None = None
        self.refused = 0

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self._path, self.receive)
        app.router.add_get(HEALTH_PATH, self.healthz)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        """Check the secret, commit the update, then answer 200 (and only then)."""
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), self._secret
        ):
            self.refused += 1
            log.warning(
                "refused a webhook request from %s: %s secret token header",
                request.remote,
                "no" if given is None else "a wrong",
            )
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413)
        body = await request.read()  # aiohttp answers 413 itself beyond client_max_size
        update = parse_update(body)
        if update is None:
            log.warning("refused a webhook request from %s: not a JSON update", request.remote)
            return web.Response(status=400)
        now = self._clock()
        publish = (
            self._published_at is None
            or (now - self._published_at).total_seconds() >= STATUS_EVERY_SECONDS
        )
        try:
            await store_updates(
                self._database, [update], now, status=LAST_WEBHOOK_UPDATE if publish else None
            )
        except Exception:
            # Not stored, so not confirmed: Telegram delivers it again.
            log.exception("could not store update %d; Telegram will retry", update.update_id)
            return web.Response(status=503)
        if publish:
            self._published_at = now
        self._on_stored([update.update_id])
        return web.Response(status=200)

    async def healthz(self, request: web.Request) -> web.Response:
        report = await collect_health(self._database, self._settings, self._clock())
        return web.json_response(report.to_json(), status=200 if report.healthy else 503)


def parse_update(body: bytes) -> Update | None:
    """The update in a request body, or ``None`` when it is not one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, None)
    except Exception:  # any shape PTB cannot read is a bad request, not our failure
        return None


class WebhookIntake:
    """Webhook mode's :class:`~bot.intake.Intake`: listen, register the webhook, then wait.

    The receiver listens before ``setWebhook`` is called, so Telegram never
    posts to a closed port because of us. The webhook stays registered at
    shutdown: while the bot is down Telegram keeps the updates and retries.
    """

    def __init__(
        self,
        bot: Bot,
        receiver: WebhookReceiver,
        *,
        url: str,
        secret: str,
        listen: str,
        port: int,
        max_connections: int,
    ) -> None:
        self._bot = bot
        self._receiver = receiver
        self._url = url
        self._secret = secret
        self._listen = listen
        self._port = port
        self._max_connections = max_connections
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        self._runner = web.AppRunner(
            self._receiver.application(), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()
        log.info("webhook receiver listening on %s:%d", self._listen, self._port)
        await self._register()
        await self._stopping.wait()

    async def _register(self) -> None:
        """``setWebhook``, retried while the network or Telegram's flood limit is in the way."""
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                await self._bot.set_webhook(
                    self._url,
                    secret_token=self._secret,
                    allowed_updates=Update.ALL_TYPES,
                    max_connections=self._max_connections,
                )
            except RetryAfter as error:
                await self._pause(retry_after_seconds(error))
            except BadRequest as error:  # a NetworkError in PTB, but retrying cannot help
                log.critical("Telegram refused setWebhook: %s", error.message)
                raise
            except NetworkError as error:
                log.warning("setWebhook failed (%s); retrying in %.0f s", error, backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, 30.0)
            except TelegramError as error:
                log.critical("Telegram refused setWebhook: %s", error.message)
                raise
            else:
                log.info("webhook registered with max_connections=%d", self._max_connections)
                return

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def stop(self) -> None:
        """Stop listening and let requests being stored finish; unanswered ones are retried."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def webhook_intake(
    settings: Settings, database: Database, bot: Bot, on_stored: Callable[[Sequence[int]], None]
) -> WebhookIntake:
    """The webhook intake the settings describe (webhook mode only)."""
    if settings.webhook_url is None or settings.secrets.webhook_secret is None:
        raise ValueError("webhook mode needs XIESHANG_WEBHOOK_URL and XIESHANG_WEBHOOK_SECRET")
    secret = settings.secrets.webhook_secret.get_secret_value()
    telegram = settings.config.telegram
    receiver = WebhookReceiver(
        database,
        settings,
        path=webhook_path(settings.webhook_url),
        secret=secret,
        on_stored=on_stored,
    )
    return WebhookIntake(
        bot,
        receiver,
        url=settings.webhook_url,
        secret=secret,
        listen=telegram.webhook_listen,
        port=telegram.webhook_port,
        max_connections=telegram.webhook_max_connections,
    )
