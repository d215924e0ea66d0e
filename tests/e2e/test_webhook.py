"""Webhook mode end to end: the bot process receives from the emulator process by HTTP POST.

The webhook bot is a second bot of the session's emulator (its own token), so
it runs beside the polling bot of ``conftest.py``; it is started once for this
module, on SQLite (the receiver's storage is covered on both databases by
``tests/contract/test_webhook.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from tests.e2e.configs import config_with
from tests.e2e.conftest import BotProcess, free_port, wait_for_port
from tests.e2e.replies import command_named_in
from tests.telegram_updates import update_json
from tgemu.client import EmulatorClient, EmulatorUser

pytestmark = pytest.mark.e2e

WEBHOOK_TOKEN = f"{6_100_000_000 + secrets.randbelow(1_000_000)}:{secrets.token_urlsafe(30)}"
WEBHOOK_SECRET = secrets.token_urlsafe(32)
SIGNING_KEY = secrets.token_urlsafe(32)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class WebhookBot:
    process: BotProcess
    port: int
    bot_id: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook_url(self) -> str:
        return f"{self.base_url}/telegram"

    def start(self) -> None:
        self.process.start()
        assert self.process.process is not None
        wait_for_port(self.port, self.process.process)


def register_bot(emulator_url: str, token: str) -> int:
    """Add a second bot to the shared emulator (``POST /control/bots``)."""
    request = urllib.request.Request(
        f"{emulator_url}/control/bots",
        data=json.dumps({"token": token, "username": "xieshang_webhook_bot"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.load(response)["result"]["id"])


@pytest.fixture(scope="module")
def webhook_bot(
    emulator_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebhookBot]:
    """``python -m bot run`` in webhook mode, listening on a free port."""
    bot_id = register_bot(emulator_url, WEBHOOK_TOKEN)
    port = free_port()
    data = tmp_path_factory.mktemp("bot-webhook")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "PTB_TIMEDELTA": "true",
        "TELEGRAM_BOT_TOKEN": WEBHOOK_TOKEN,
        "TELEGRAM_API_URL": emulator_url,
        "XIESHANG_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "XIESHANG_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "XIESHANG_SIGNING_KEY": SIGNING_KEY,
        "XIESHANG_CONFIG": str(config_with(data, webhook_port=port)),
        "XIESHANG_DATA_DIR": str(data),
        "XIESHANG_DATABASE_URL": f"sqlite+aiosqlite:///{data / 'xieshang.sqlite3'}",
    }
    bot = WebhookBot(BotProcess(env, data / "bot.log"), port, bot_id)
    bot.start()
    try:
        yield bot
    finally:
        bot.process.kill()


@pytest.fixture
async def emulator(emulator_url: str, webhook_bot: WebhookBot) -> AsyncIterator[EmulatorClient]:
    """The control API acting for the webhook bot, which has answered once already."""
    async with EmulatorClient(emulator_url, bot_id=webhook_bot.bot_id) as client:
        probe = await client.create_user(first_name="Probe", language_code="en")
        await probe.send_text("/help")
        await probe.next_message(timeout=60)
        yield client


async def post_raw(url: str, body: dict[str, object], headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        return response.status


async def test_help_is_answered_through_the_webhook(emulator: EmulatorClient) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")

    await ann.send_text("/help")

    assert "xieshang" in (await ann.next_message(timeout=10)).text
    (hook,) = [b for b in await emulator.bots() if b["id"] == emulator.bot_id]
    assert hook["webhook_url"].endswith("/telegram")


async def test_posts_without_the_right_secret_are_refused_and_never_answered(
    emulator: EmulatorClient, webhook_bot: WebhookBot
) -> None:
    mallory = await emulator.create_user(first_name="Mallory", language_code="en")
    await mallory.send_text("/hello")  # opens the chat, so a forged reply could reach it
    await mallory.next_message(timeout=10)
    forged = update_json(2_000_000_000, user_id=mallory.id, text="/forged")

    no_header = await post_raw(webhook_bot.hook_url, forged, {})
    wrong = await post_raw(webhook_bot.hook_url, forged, {SECRET_HEADER: "not-the-secret"})
    await mallory.send_text("/after")  # a real update, ordered after the forged ones

    assert (no_header, wrong) == (403, 403)
    assert command_named_in((await mallory.next_message(timeout=10)).text) == "/after"
    texts = [m.text or "" for m in await mallory.messages()]
    assert not any("/forged" in text for text in texts)
    log = webhook_bot.process.log()
    assert "refused a webhook request" in log
    assert "not-the-secret" not in log
    assert WEBHOOK_SECRET not in log


async def test_healthz_answers_the_health_report(
    emulator: EmulatorClient, webhook_bot: WebhookBot
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{webhook_bot.base_url}/healthz") as response,
    ):
        status = response.status
        body = await response.json()

    assert status == 200
    assert body["healthy"] is True
    assert body["mode"] == "webhook"
    assert body["database"] == {"reachable": True}
    assert body["intake"]["last_webhook_update"] is not None
    assert body["outbox"]["stuck_after_seconds"] == 600


async def _replies(user: EmulatorUser, seconds: float) -> list[str]:
    texts = []
    while True:
        try:
            texts.append((await user.next_message(timeout=seconds)).text or "")
        except TimeoutError:
            return texts


async def test_updates_sent_across_a_sigterm_are_each_answered_once(
    emulator: EmulatorClient, webhook_bot: WebhookBot
) -> None:
    users = [await emulator.create_user(first_name=f"T{i}", language_code="en") for i in range(5)]
    sends = [(i, n) for n in range(12) for i in range(5)]

    for i, n in sends[:30]:
        await users[i].send_text(f"/c{i}x{n}")
    assert webhook_bot.process.terminate() == 0  # graceful: exit code 0
    for i, n in sends[30:]:  # Telegram keeps these and retries while the bot is down
        await users[i].send_text(f"/c{i}x{n}")
    webhook_bot.start()

    answered: Counter[str] = Counter()
    for texts in await asyncio.gather(*(_replies(user, 5.0) for user in users)):
        answered.update(command_named_in(text) for text in texts)
    assert set(answered) == {f"/c{i}x{n}" for i, n in sends}
    assert max(answered.values()) == 1
    assert "Traceback" not in webhook_bot.process.log()
