"""The runtime end to end: commands answered, per-user order, concurrency, logs."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.conftest import BOT_TOKEN, SIGNING_KEY, BotProcess
from tests.e2e.replies import command_named_in
from tgemu.client import EmulatorClient

pytestmark = pytest.mark.e2e


async def test_help_is_answered_in_the_users_language(emulator: EmulatorClient) -> None:
    wang = await emulator.create_user(first_name="王芳", language_code="zh-hans")
    ann = await emulator.create_user(first_name="Ann", language_code="en")

    await wang.send_text("/help")
    await ann.send_text("/help")

    assert "协商" in (await wang.next_message(timeout=10)).text
    assert "xieshang" in (await ann.next_message(timeout=10)).text
    with pytest.raises(TimeoutError):  # a known command is not also answered as unknown
        await ann.next_message(timeout=1)


async def test_an_unknown_command_names_the_command_and_points_at_help(
    emulator: EmulatorClient,
) -> None:
    ann = await emulator.create_user(first_name="Ann", language_code="en")

    await ann.send_text("/frobnicate now")

    reply = (await ann.next_message(timeout=10)).text
    assert "/frobnicate" in reply
    assert "/help" in reply


async def test_fifty_users_are_answered_concurrently_each_in_order(
    emulator: EmulatorClient,
) -> None:
    users = [await emulator.create_user(first_name=f"U{i}", language_code="en") for i in range(50)]

    async def chat(user_index: int) -> list[str]:
        user = users[user_index]
        for n in range(20):
            await user.send_text(f"/c{user_index}x{n}")
        return [(await user.next_message(timeout=60)).text for _ in range(20)]

    started = time.monotonic()
    replies = await asyncio.gather(*(chat(i) for i in range(50)))
    elapsed = time.monotonic() - started

    for index, texts in enumerate(replies):
        commands = [command_named_in(text) for text in texts]
        assert commands == [f"/c{index}x{n}" for n in range(20)], f"user {index} out of order"
    assert elapsed < 60


async def test_the_logs_never_contain_the_token_or_the_signing_key(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    user = await emulator.create_user(first_name="Log", language_code="en")
    await user.send_text("/help")
    await user.next_message(timeout=10)

    log = bot.log()
    assert "receiving updates" in log
    assert BOT_TOKEN not in log
    assert BOT_TOKEN.split(":")[1] not in log
    assert SIGNING_KEY not in log
