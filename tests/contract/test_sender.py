"""The outbox sender against the in-process emulator, on both databases (spec 01, Sending).

A real python-telegram-bot ``ExtBot`` with our :class:`PriorityRateLimiter` sends
to the emulator; outcomes are read back from the database and from what each
emulated user received.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.ratelimit import PriorityRateLimiter
from bot.sender import OutboxSender, record_reachable
from civic.outbox import OutgoingMessage, Priority
from storage.chats import SeenChat
from storage.database import Database
from tgemu import Emulator
from tgemu.client import EmulatorClient, EmulatorUser

TOKEN = "123456789:AAH-sender-test-token"


def utc_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the composition root does: PTB 22 warns on every 429 without it."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0, tokens=[TOKEN], limits=False) as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url) as c:
        yield c


@asynccontextmanager
async def running_sender(
    emulator: Emulator, database: Database, *, global_per_second: float = 1000, **kwargs: Any
) -> AsyncIterator[OutboxSender]:
    limiter = PriorityRateLimiter.from_config(
        global_per_second=global_per_second,
        per_chat_per_second=30,
        per_chat_burst=30,
        per_group_per_minute=600,
    )
    bot: ExtBot[Any] = ExtBot(
        TOKEN,
        base_url=f"{emulator.url}/bot",
        base_file_url=f"{emulator.url}/file/bot",
        rate_limiter=limiter,
    )
    async with bot:
        sender = OutboxSender(bot, database, clock=utc_now, poll_seconds=0.05, **kwargs)
        task = asyncio.create_task(sender.run())
        try:
            yield sender
        finally:
            sender.stop()
            await sender.drain(5)
            await task


async def users_who_wrote(
    client: EmulatorClient, database: Database, count: int
) -> list[EmulatorUser]:
    """Users who have talked to the bot (before that, Telegram refuses to send to them)."""
    users = await client.create_users(count, language_code="en")
    await asyncio.gather(*(u.send_text("hello") for u in users))
    async with database.uow() as uow:
        await uow.chats.seen([SeenChat(u.id, "private", "en") for u in users], utc_now())
        await uow.commit()
    return users


async def enqueue(database: Database, messages: list[OutgoingMessage]) -> None:
    async with database.uow() as uow:
        await uow.outbox.enqueue(messages, utc_now())
        await uow.commit()


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the outbox did not reach the expected state")
        await asyncio.sleep(0.05)


def counts_are(database: Database, expected: dict[str, int]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async with database.uow(read_only=True) as uow:
            return await uow.outbox.counts() == expected

    return check


async def texts(user: EmulatorUser) -> list[str | None]:
    return [m.text for m in await user.messages()]


async def test_each_chat_gets_its_messages_once_and_in_order(
    emulator: Emulator, client: EmulatorClient, database: Database
) -> None:
    users = await users_who_wrote(client, database, 3)
    await enqueue(
        database,
        [OutgoingMessage(u.id, {"text": f"{u.id}:{n}"}) for n in range(5) for u in users],
    )

    async with running_sender(emulator, database):
        await until(counts_are(database, {"sent": 15}))

    for user in users:
        assert await texts(user) == [f"{user.id}:{n}" for n in range(5)]


async def test_server_errors_are_retried_until_delivered(
    emulator: Emulator, client: EmulatorClient, database: Database
) -> None:
    users = await users_who_wrote(client, database, 20)
    await client.set_faults(error_rate=0.5, methods=["sendMessage"], seed=7)
    await enqueue(database, [OutgoingMessage(u.id, {"text": "notice"}) for u in users])

    async with running_sender(emulator, database, backoff=lambda attempts: 0.01):
        await until(counts_are(database, {"sent": 20}))

    stats = await client.stats()
    assert stats["injected_errors"] > 0
    for user in users:
        assert await texts(user) == ["notice"]


async def test_a_blocked_chat_is_closed_and_reopened_when_unblocked(
    emulator: Emulator, client: EmulatorClient, database: Database
) -> None:
    blocked, other = await users_who_wrote(client, database, 2)
    await blocked.block()
    await enqueue(
        database,
        [
            OutgoingMessage(blocked.id, {"text": "first"}),
            OutgoingMessage(blocked.id, {"text": "second"}),
            OutgoingMessage(other.id, {"text": "for other"}),
        ],
    )

    async with running_sender(emulator, database):
        await until(counts_are(database, {"unreachable": 2, "sent": 1}))
        await enqueue(database, [OutgoingMessage(blocked.id, {"text": "while blocked"})])
        await until(counts_are(database, {"unreachable": 3, "sent": 1}))
        refused = (await client.stats())["errors_by_status"].get("403", 0)

        await blocked.unblock()
        await record_reachable(database, blocked.id)
        await enqueue(database, [OutgoingMessage(blocked.id, {"text": "welcome back"})])
        await until(counts_are(database, {"unreachable": 3, "sent": 2}))

    assert refused == 1, "after the first 403 the chat is not tried again"
    assert await texts(blocked) == ["welcome back"]
    assert await texts(other) == ["for other"]


async def test_a_refused_message_keeps_telegrams_reason_and_is_not_retried(
    emulator: Emulator, client: EmulatorClient, database: Database
) -> None:
    (user,) = await users_who_wrote(client, database, 1)
    await enqueue(
        database,
        [
            OutgoingMessage(user.id, {"text": "x" * 5000}),
            OutgoingMessage(user.id, {"text": "<b>unclosed", "parse_mode": "HTML"}),
            OutgoingMessage(user.id, {"text": "fine"}),
        ],
    )

    async with running_sender(emulator, database):
        await until(counts_are(database, {"failed": 2, "sent": 1}))

    async with database.uow(read_only=True) as uow:
        result = await uow.connection.exec_driver_sql(
            "SELECT error, attempts FROM outbox WHERE status = 'failed' ORDER BY id"
        )
        failures = result.all()
    assert [(("too long" in e.lower() or "entities" in e.lower()), a) for e, a in failures] == [
        (True, 1),
        (True, 1),
    ]
    assert await texts(user) == ["fine"]


async def test_flood_limits_are_waited_out_without_losing_or_repeating_a_message(
    emulator: Emulator, client: EmulatorClient, database: Database
) -> None:
    users = await users_who_wrote(client, database, 60)
    # The emulator allows 30/s while the bot believes it may send 300/s: 429s follow.
    await client.set_limits(enabled=True, scale=1)
    await enqueue(
        database,
        [OutgoingMessage(u.id, {"text": "notice"}, priority=Priority.BROADCAST) for u in users],
    )

    async with running_sender(emulator, database, global_per_second=300):
        await until(counts_are(database, {"sent": 60}), seconds=30)

    assert (await client.stats())["too_many_requests"] > 0
    for user in users:
        assert await texts(user) == ["notice"]
    async with database.uow(read_only=True) as uow:
        attempts = (
            await uow.connection.exec_driver_sql("SELECT max(attempts) FROM outbox")
        ).scalar_one()
    assert attempts == 1, "a 429 does not count as a failed attempt"
