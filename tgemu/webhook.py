"""Webhook delivery: POST each update to the bot's URL, in order, retrying failures.

One sender task per bot with a webhook.  It takes the oldest unconfirmed update,
POSTs it as JSON with ``X-Telegram-Bot-Api-Secret-Token`` (when a secret is set)
and confirms it on a 2xx answer.  A non-2xx answer, a timeout or a connection
error is recorded in ``getWebhookInfo`` (``last_error_date``/``last_error_message``)
and the *same* update is retried after a backoff that starts at
``initial_backoff`` and doubles up to ``max_backoff``; later updates wait, so the
order is kept (the emulator uses one connection whatever ``max_connections`` says).
Telegram gives up after some hours; the emulator retries until the webhook is
deleted or replaced.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from tgemu.clock import Clock
from tgemu.state import BotAccount, WebhookConfig
from tgemu.stats import Stats
from tgemu.updates import UpdateRecord

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookManager:
    """Starts and stops the per-bot sender tasks."""

    def __init__(
        self,
        clock: Clock,
        stats: Stats,
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 2.0,
        timeout: float = 10.0,
    ) -> None:
        self.clock = clock
        self.stats = stats
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def enable(self, bot: BotAccount, config: WebhookConfig) -> None:
        """Switch ``bot`` to webhook mode with ``config`` (replacing any previous one)."""
        await self.disable(bot)
        bot.webhook = config
        bot.queue.notify()  # long polls still waiting must now fail with 409
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._tasks[bot.id] = asyncio.create_task(
            self._run(bot, config), name=f"tgemu-webhook-{bot.id}"
        )

    async def disable(self, bot: BotAccount) -> None:
        """Back to getUpdates mode; an in-flight POST is abandoned (stays unconfirmed)."""
        bot.webhook = None
        task = self._tasks.pop(bot.id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self, bot: BotAccount, config: WebhookConfig) -> None:
        backoff = self.initial_backoff
        while bot.webhook is config:
            changed = bot.queue.changed()
            record = bot.queue.peek()
            if record is None:
                await changed.wait()
                continue
            error = await self._post(config, record)
            if error is None:
                bot.queue.acknowledge(record)
                self.stats.webhook_deliveries += 1
                backoff = self.initial_backoff
                continue
            self.stats.webhook_failures += 1
            config.last_error_date = self.clock.now_int()
            config.last_error_message = error
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _post(self, config: WebhookConfig, record: UpdateRecord) -> str | None:
        """POST one update; None on 2xx, else the error text getWebhookInfo shows."""
        assert self._session is not None
        headers = {SECRET_HEADER: config.secret_token} if config.secret_token else {}
        record.deliveries += 1
        try:
            async with self._session.post(
                config.url, json=record.payload, headers=headers
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError as exc:
            return f"Connection failed: {exc}"
