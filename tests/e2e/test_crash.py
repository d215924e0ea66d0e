"""No update is lost to a crash, and none is handled twice (quality bars R1, R5)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.e2e.conftest import BotProcess
from tests.e2e.replies import command_named_in
from tgemu.client import EmulatorClient, EmulatorUser

pytestmark = pytest.mark.e2e

IN_FLIGHT = 32  # config.toml [telegram] updates_in_flight


async def _replies(user: EmulatorUser, seconds: float) -> list[str]:
    """Every reply the user gets until none arrives for ``seconds``."""
    texts = []
    while True:
        try:
            texts.append((await user.next_message(timeout=seconds)).text)
        except TimeoutError:
            return texts


async def test_updates_queued_across_a_sigkill_are_each_answered(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    users = [await emulator.create_user(first_name=f"K{i}", language_code="en") for i in range(10)]
    sends = [user.send_text(f"/c{i}x{n}") for n in range(20) for i, user in enumerate(users)]

    first_half = sends[:100]
    await asyncio.gather(*first_half)
    bot.kill()
    await asyncio.gather(*sends[100:])  # 100 more arrive while the bot is down
    bot.start()

    answered: Counter[str] = Counter()
    for texts in await asyncio.gather(*(_replies(user, 5.0) for user in users)):
        answered.update(command_named_in(text) for text in texts)
    expected = {f"/c{i}x{n}" for i in range(10) for n in range(20)}

    assert set(answered) == expected, f"missing: {sorted(expected - set(answered))[:10]}"
    duplicates = sum(count - 1 for count in answered.values())
    assert duplicates <= IN_FLIGHT


async def test_an_update_delivered_twice_is_handled_once(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    user = await emulator.create_user(first_name="Twice", language_code="en")
    sent = await user.send_text("/once")
    first = await user.next_message(timeout=10)
    assert sent.update_id is not None

    await emulator.redeliver(sent.update_id)
    await user.send_text("/after")

    second = await user.next_message(timeout=10)
    assert command_named_in(first.text) == "/once"
    assert command_named_in(second.text) == "/after"
