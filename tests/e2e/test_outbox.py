"""The outbox end to end: notices queued by the operator reach every chat, within limits.

The operator queues a notice with ``xieshang notice TEXT`` (the documented CLI, run
as a separate process against the bot's database); the running bot's sender
delivers it. Tests observe only what the emulator saw: each user's messages and
its counters (sends per chat, 429s).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable

import pytest

from tests.e2e.conftest import LIMIT_SCALE, BotProcess, scaled_config
from tests.helpers import ROOT
from tgemu.client import EmulatorClient, EmulatorUser

pytestmark = pytest.mark.e2e

SENDER_WINDOW = 64  # bot.sender.OutboxSender.window: rows in flight at once


def queue_notice(bot: BotProcess, text: str) -> int:
    """Run ``xieshang notice TEXT`` as the operator would; return how many chats it is for."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "notice", text],
        cwd=ROOT,
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(re.findall(r"\d+", done.stdout)[0])


async def total_sends(emulator: EmulatorClient) -> int:
    return sum((await emulator.stats())["sends_per_chat"].values())


async def residents(emulator: EmulatorClient, count: int) -> list[EmulatorUser]:
    """Users who have written to the bot once, so it may write to them."""
    users = await emulator.create_users(count, language_code="en")
    for batch in range(0, count, 100):
        await asyncio.gather(*(u.send_text("hello") for u in users[batch : batch + 100]))
    for batch in range(0, count, 100):  # the bot answers "hello" (how to join) before any notice
        await asyncio.gather(*(u.next_message(timeout=60) for u in users[batch : batch + 100]))
    return users


async def notices_received(
    emulator: EmulatorClient, users: Iterable[EmulatorUser], before: dict[str, int]
) -> dict[int, int]:
    """Messages each user received since ``before`` (the emulator's sends per chat)."""
    now = (await emulator.stats())["sends_per_chat"]
    return {u.id: now.get(str(u.id), 0) - before.get(str(u.id), 0) for u in users}


async def wait_until(check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("not reached in time")
        await asyncio.sleep(0.1)


async def test_500_notices_survive_a_sigkill_within_the_limits(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    users = await residents(emulator, 500)
    await asyncio.sleep(1)  # the bot has recorded every chat
    await emulator.set_limits(enabled=True, scale=LIMIT_SCALE)
    try:
        before = (await emulator.stats())["sends_per_chat"]
        limited_before = (await emulator.stats())["too_many_requests"]
        queue_notice(bot, "Water will be off on Friday from 9:00 to 12:00.")

        async def some_delivered() -> bool:
            got = await notices_received(emulator, users, before)
            return sum(1 for n in got.values() if n) >= 150

        await wait_until(some_delivered, 30)
        bot.kill()
        bot.start()

        async def all_delivered() -> bool:
            got = await notices_received(emulator, users, before)
            return all(got.values())

        await wait_until(all_delivered, 60)
        got = await notices_received(emulator, users, before)
        limited = (await emulator.stats())["too_many_requests"] - limited_before
    finally:
        await emulator.set_limits(enabled=False)

    duplicates = sum(n - 1 for n in got.values())
    assert duplicates <= SENDER_WINDOW
    assert limited == 0, "the bot never sent faster than the limits"
    sample = await users[0].messages()
    assert "Water will be off on Friday" in (sample[-1].text or "")


async def test_429s_are_waited_out_and_every_notice_still_arrives_once(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    users = await residents(emulator, 200)
    await asyncio.sleep(1)
    # The emulator allows a fifth of what the bot was told it may send: 429s follow,
    # even when a loaded machine slows the bot down.
    await emulator.set_limits(enabled=True, scale=LIMIT_SCALE / 5)
    try:
        stats = await emulator.stats()
        before, limited_before = stats["sends_per_chat"], stats["too_many_requests"]
        queue_notice(bot, "Consultation meeting on Saturday.")

        async def all_delivered() -> bool:
            return all((await notices_received(emulator, users, before)).values())

        await wait_until(all_delivered, 60)
        got = await notices_received(emulator, users, before)
        limited = (await emulator.stats())["too_many_requests"] - limited_before
    finally:
        await emulator.set_limits(enabled=False)

    assert limited > 0, "the emulator's tighter limits were hit"
    assert set(got.values()) == {1}, "each notice arrived exactly once"


async def test_a_reply_overtakes_a_draining_broadcast(
    emulator: EmulatorClient, bot: BotProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With Telegram's real limits (30/s) a notice to 300 chats takes ten seconds."""
    await residents(emulator, 300)
    calm = await emulator.create_user(first_name="Calm", language_code="en")
    await asyncio.sleep(1)
    fast_config = bot.env["XIESHANG_CONFIG"]
    bot.env["XIESHANG_CONFIG"] = str(scaled_config(tmp_path_factory.mktemp("real-limits"), 1))
    bot.terminate()
    bot.start()
    await emulator.set_limits(enabled=True, scale=1)
    try:
        before = await total_sends(emulator)
        queued = queue_notice(bot, "The community office closes early today.")

        async def draining() -> bool:
            return await total_sends(emulator) - before >= 30

        await wait_until(draining, 30)
        started = time.monotonic()
        await calm.send_text("/help")
        reply = await calm.next_message(timeout=10)
        latency = time.monotonic() - started
        delivered = await total_sends(emulator) - before - 1
    finally:
        await emulator.set_limits(enabled=False)
        bot.env["XIESHANG_CONFIG"] = fast_config
        bot.terminate()
        bot.start()

    assert "xieshang" in (reply.text or "")
    assert latency < 1.5, f"the reply waited {latency:.1f} s behind the broadcast"
    assert delivered < queued, "the broadcast was still draining when the reply went out"


async def test_a_blocked_user_is_skipped_until_they_unblock(
    emulator: EmulatorClient, bot: BotProcess
) -> None:
    blocked, other = await residents(emulator, 2)
    await blocked.block()
    await asyncio.sleep(1)  # the bot has seen the my_chat_member update
    stats = await emulator.stats()
    before, refused_before = stats["sends_per_chat"], stats["errors_by_status"].get("403", 0)

    async def other_has(count: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return (await notices_received(emulator, [other], before))[other.id] >= count

        return check

    queue_notice(bot, "Notice A: lift maintenance on Monday.")
    await wait_until(await other_has(1), 60)
    queue_notice(bot, "Notice B: lift maintenance finished.")
    await wait_until(await other_has(2), 60)
    refused = (await emulator.stats())["errors_by_status"].get("403", 0) - refused_before

    await blocked.unblock()
    await asyncio.sleep(1)
    queue_notice(bot, "Notice C: welcome back.")
    message = await blocked.next_message(timeout=60)

    assert refused == 0, "a chat known to be blocked is not even tried"
    assert "Notice C" in (message.text or "")
    assert (await notices_received(emulator, [blocked], before))[blocked.id] == 1
