"""Webhook mode: updates POSTed with the secret header, retried on non-2xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aiohttp import web
from telegram import Bot, Update
from telegram.ext import ContextTypes, MessageHandler, filters

from tgemu import Emulator
from tgemu.client import EmulatorClient

from .conftest import free_port, make_app

Ctx = ContextTypes.DEFAULT_TYPE
SECRET = "s3cret-Token_1"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@asynccontextmanager
async def receiver(
    statuses: list[int],
) -> AsyncIterator[tuple[str, asyncio.Queue[tuple[int, str | None]]]]:
    """A tiny webhook receiver answering ``statuses`` in turn (then 200)."""
    received: asyncio.Queue[tuple[int, str | None]] = asyncio.Queue()
    answers = iter(statuses)

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        await received.put((body["update_id"], request.headers.get(HEADER)))
        return web.Response(status=next(answers, 200))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/hook", received
    finally:
        await runner.cleanup()


async def test_a_ptb_webhook_bot_receives_updates_with_the_secret_header(
    emulator: Emulator, client: EmulatorClient
):
    app = make_app(emulator.url)
    texts: asyncio.Queue[str] = asyncio.Queue()

    async def record(update: Update, context: Ctx) -> None:
        assert update.message is not None
        await texts.put(str(update.message.text))
        await update.message.reply_text("收到")

    app.add_handler(MessageHandler(filters.TEXT, record))
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="tg-hook", webhook_url=url, secret_token=SECRET
    )
    try:
        info = await app.bot.get_webhook_info()
        assert info.url == url
        user = await client.create_user()
        await user.send_text("via webhook")
        assert await asyncio.wait_for(texts.get(), 5) == "via webhook"
        assert (await user.next_message()).text == "收到"
        # PTB refuses a POST without the right secret: the emulator sent the right one
        async with httpx.AsyncClient() as http:
            forged = await http.post(url, json={"update_id": 1}, headers={HEADER: "wrong-secret"})
        assert forged.status_code == 403
        assert texts.empty()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_a_non_2xx_answer_is_retried_with_the_same_update(bot: Bot, client: EmulatorClient):
    async with receiver([500, 503]) as (url, received):
        assert await bot.set_webhook(url, secret_token=SECRET)
        user = await client.create_user()
        sent = await user.send_text("retry me")
        got = [await asyncio.wait_for(received.get(), 5) for _ in range(3)]
        assert got == [(sent.update_id, SECRET)] * 3
        info = await bot.get_webhook_info()
        assert info.last_error_message is not None
        assert "500" in info.last_error_message or "503" in info.last_error_message
        assert info.last_error_date is not None
        await asyncio.sleep(0.1)
        assert (await bot.get_webhook_info()).pending_update_count == 0
        second = await user.send_text("in order")
        assert await asyncio.wait_for(received.get(), 5) == (second.update_id, SECRET)
        assert received.empty()


async def test_delete_webhook_returns_to_get_updates_mode(bot: Bot, client: EmulatorClient):
    async with receiver([500] * 100) as (url, received):
        assert await bot.set_webhook(url)
        user = await client.create_user()
        await user.send_text("stuck")
        update_id, secret = await asyncio.wait_for(received.get(), 5)
        assert secret is None
        assert await bot.delete_webhook()
        (update,) = await bot.get_updates(timeout=0)
        assert update.update_id == update_id
        assert (await bot.get_webhook_info()).url == ""
