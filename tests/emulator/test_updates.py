"""getUpdates semantics, redelivery, blocking and the clock, as a PTB bot sees them."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot, ChatMember, Update
from telegram.error import Conflict, Forbidden
from telegram.ext import ChatMemberHandler, ContextTypes, MessageHandler, filters

from tgemu import Emulator
from tgemu.client import EmulatorClient

from .conftest import make_app, make_bot, polling

Ctx = ContextTypes.DEFAULT_TYPE


async def test_an_unconfirmed_update_is_delivered_again(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await user.send_text("one")
    first = await bot.get_updates(timeout=0)
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == [u.update_id for u in again]
    assert len(first) == 1


async def test_an_offset_confirms_earlier_updates_and_limit_caps_the_batch(
    bot: Bot, client: EmulatorClient
):
    user = await client.create_user()
    for i in range(5):
        await user.send_text(f"m{i}")
    batch = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in batch] == ["m0", "m1"]  # type: ignore[union-attr]
    rest = await bot.get_updates(offset=batch[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest] == ["m2", "m3", "m4"]  # type: ignore[union-attr]
    assert rest[0].update_id == batch[-1].update_id + 1
    done = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)
    assert done == ()


async def test_a_long_poll_returns_empty_after_its_timeout(bot: Bot):
    started = time.monotonic()
    updates = await bot.get_updates(timeout=1)
    elapsed = time.monotonic() - started
    assert updates == ()
    assert 0.9 <= elapsed < 3.0


async def test_a_long_poll_returns_as_soon_as_an_update_arrives(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    await user.send_text("now")
    updates = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 2.0
    assert [u.message.text for u in updates] == ["now"]  # type: ignore[union-attr]


async def test_two_overlapping_long_polls_terminate_the_older_with_409(emulator: Emulator):
    async with make_bot(emulator.url) as first, make_bot(emulator.url) as second:
        older = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.3)
        newer = await second.get_updates(timeout=0)
        assert newer == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(older, 5)


async def test_get_updates_is_refused_with_409_while_a_webhook_is_set(bot: Bot):
    assert await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match=r"(?i)can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_a_confirmed_update_redelivered_arrives_again_with_the_same_id(
    bot: Bot, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("pay 100")
    (update,) = await bot.get_updates(timeout=0)
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    await client.redeliver(update.update_id)
    # an offset that was already past it does not confirm the redelivered update
    (again,) = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert again.update_id == update.update_id
    assert again.message.text == "pay 100"  # type: ignore[union-attr]
    # confirmed once delivered again
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    history = await client.updates()
    assert history[-1]["deliveries"] == 2
    assert history[-1]["confirmed"] is True


async def test_a_polling_bot_sees_a_redelivered_update_twice(
    emulator: Emulator, client: EmulatorClient
):
    app = make_app(emulator.url)
    seen: asyncio.Queue[int] = asyncio.Queue()

    async def record(update: Update, context: Ctx) -> None:
        await seen.put(update.update_id)

    app.add_handler(MessageHandler(filters.TEXT, record))
    async with polling(app):
        user = await client.create_user()
        sent = await user.send_text("once")
        first = await asyncio.wait_for(seen.get(), 5)
        # wait until PTB's next getUpdates has confirmed it
        for _ in range(50):
            if (await client.updates())[-1]["confirmed"]:
                break
            await asyncio.sleep(0.05)
        await client.redeliver(first)
        second = await asyncio.wait_for(seen.get(), 5)
    assert first == second == sent.update_id


async def test_a_blocked_user_answers_403_and_the_bot_gets_my_chat_member(
    emulator: Emulator, client: EmulatorClient
):
    app = make_app(emulator.url)
    changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def member(update: Update, context: Ctx) -> None:
        change = update.my_chat_member
        assert change is not None
        assert change.new_chat_member.user.id == context.bot.id
        await changes.put((change.old_chat_member.status, change.new_chat_member.status))

    app.add_handler(ChatMemberHandler(member, ChatMemberHandler.MY_CHAT_MEMBER))
    async with polling(app):
        user = await client.create_user()
        await user.send_text("hi")
        await app.bot.send_message(user.id, "welcome")
        await user.block()
        assert await asyncio.wait_for(changes.get(), 5) == (ChatMember.MEMBER, ChatMember.BANNED)
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await app.bot.send_message(user.id, "still there?")
        await user.unblock()
        assert await asyncio.wait_for(changes.get(), 5) == (ChatMember.BANNED, ChatMember.MEMBER)
        await app.bot.send_message(user.id, "welcome back")


async def test_the_clock_offset_moves_message_dates(bot: Bot, client: EmulatorClient):
    three_days = 3 * 86400
    clock = await client.set_clock(offset_seconds=three_days)
    assert clock["offset_seconds"] == three_days
    assert abs(clock["now"] - (time.time() + three_days)) < 2
    user = await client.create_user()
    await user.send_text("later")
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert abs(update.message.date.timestamp() - (time.time() + three_days)) < 3
    sent = await bot.send_message(user.id, "reminder")
    assert abs(sent.date.timestamp() - (time.time() + three_days)) < 3
    advanced = await client.set_clock(advance_seconds=60)
    assert advanced["offset_seconds"] == three_days + 60


async def test_reset_clears_users_but_a_polling_bot_keeps_working(
    emulator: Emulator, client: EmulatorClient
):
    app = make_app(emulator.url)

    async def echo(update: Update, context: Ctx) -> None:
        assert update.message is not None
        await update.message.reply_text(str(update.message.text))

    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with polling(app):
        before = await client.create_user()
        await before.send_text("a")
        await before.next_message()
        await client.reset()
        assert await client.stats() != {}
        after = await client.create_user()
        await after.send_text("b")
        assert (await after.next_message()).text == "b"
        with pytest.raises(Exception, match="no user"):
            await before.send_text("gone")
