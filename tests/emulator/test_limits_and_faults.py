"""Flood limits (429 + retry_after) and injected faults (5xx, delays)."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot, Message
from telegram.error import NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from tgemu import Emulator
from tgemu.client import EmulatorClient

from .conftest import TOKEN


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 deprecates int retry_after; opting in to timedelta avoids the warning
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


async def test_over_the_private_chat_limit_the_bot_gets_429_with_retry_after(
    bot: Bot, client: EmulatorClient
):
    await client.set_limits(enabled=True)
    user = await client.create_user()
    await user.send_text("hi")
    for i in range(3):  # the burst
        await bot.send_message(user.id, f"burst {i}")
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(user.id, "one too many")
    retry_after = exc.value.retry_after
    assert not isinstance(retry_after, int)
    assert retry_after.total_seconds() >= 1
    stats = await client.stats()
    assert stats["too_many_requests"] == 1
    assert stats["sends_per_chat"][str(user.id)] == 3
    assert len(await user.messages()) == 3  # the refused send was not performed


async def test_the_global_limit_spans_chats_and_scaling_raises_it(
    emulator: Emulator, client: EmulatorClient
):
    await client.set_limits(enabled=True)
    users = await client.create_users(45)
    for user in users:
        await user.send_text("hi")
    request = HTTPXRequest(connection_pool_size=64)
    async with Bot(TOKEN, base_url=f"{emulator.url}/bot", request=request) as fast_bot:
        results = await asyncio.gather(
            *(fast_bot.send_message(u.id, "broadcast") for u in users), return_exceptions=True
        )
        limited = [r for r in results if isinstance(r, RetryAfter)]
        delivered = [r for r in results if isinstance(r, Message)]
        assert len(limited) + len(delivered) == len(users)
        assert 30 <= len(delivered) <= 36  # burst 30, plus what refills meanwhile
        limits = await client.set_limits(scale=10)
        assert limits["global_per_second"] == 300
        results = await asyncio.gather(
            *(fast_bot.send_message(u.id, "fast") for u in users), return_exceptions=True
        )
        assert all(isinstance(r, Message) for r in results)


async def test_a_group_allows_20_messages_per_minute(bot: Bot, client: EmulatorClient):
    await client.set_limits(enabled=True, scale=1)
    alice, bob = await client.create_users(2)
    group = await client.create_group("楼栋群", [alice, bob])
    await alice.send_text("大家好", chat_id=group.id)
    for i in range(20):
        await bot.send_message(group.id, f"通知 {i}")
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(group.id, "21st")
    assert exc.value.retry_after.total_seconds() >= 1  # type: ignore[union-attr]
    assert len(await group.messages()) == 20


async def test_limits_switched_off_let_everything_through(bot: Bot, client: EmulatorClient):
    await client.set_limits(enabled=False)
    user = await client.create_user()
    await user.send_text("hi")
    for i in range(40):
        await bot.send_message(user.id, str(i))
    assert (await client.stats())["too_many_requests"] == 0


async def test_injected_5xx_errors_arrive_at_the_set_rate(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await user.send_text("hi")
    await client.set_faults(error_rate=0.3, methods=["sendMessage"], seed=20240601)
    failures = 0
    attempts = 300
    for i in range(attempts):
        try:
            await bot.send_message(user.id, str(i))
        except NetworkError:
            failures += 1
    # binomial(300, 0.3): mean 90, sd ~7.9; +-4 sd
    assert 58 <= failures <= 122
    stats = await client.stats()
    assert stats["injected_errors"] == failures
    assert len(await user.messages()) == attempts - failures  # failed calls did nothing
    assert set(stats["errors_by_status"]) <= {"500", "502"}
    await bot.get_me()  # methods outside the list are untouched


async def test_the_added_fixed_delay_is_observed(bot: Bot, client: EmulatorClient):
    await client.set_delay(50)
    started = time.monotonic()
    for _ in range(5):
        await bot.get_me()
    assert time.monotonic() - started >= 5 * 0.05
    await client.clear_faults()
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started < 0.05


async def test_random_delays_are_injected_at_the_set_rate(bot: Bot, client: EmulatorClient):
    await client.set_faults(delay_rate=1.0, delay_max_ms=20, seed=1)
    for _ in range(10):
        await bot.get_me()
    assert (await client.stats())["injected_delays"] == 10
