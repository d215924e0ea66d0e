"""Control-API behaviour the test authors rely on, beyond what PTB can observe."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from telegram import Bot

from tgemu import Emulator
from tgemu.client import EmulatorClient, EmulatorError

from .conftest import png


async def test_a_user_can_send_a_photo_as_a_multipart_upload(
    emulator: Emulator, client: EmulatorClient, bot: Bot
):
    user = await client.create_user()
    form = aiohttp.FormData()
    form.add_field("caption", "墙皮脱落")
    form.add_field("photo", png(8, 6), filename="wall.png", content_type="image/png")
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emulator.url}/control/users/{user.id}/send", data=form) as r,
    ):
        body = await r.json()
    assert body["ok"] is True
    photo = body["result"]["message"]["photo"][-1]
    assert (photo["width"], photo["height"]) == (8, 6)
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None
    assert update.message.caption == "墙皮脱落"
    assert update.message.photo[-1].file_id == photo["file_id"]


async def test_next_message_times_out_with_a_readable_error(client: EmulatorClient):
    user = await client.create_user()
    with pytest.raises(TimeoutError, match="no new message from the bot"):
        await user.next_message(timeout=0.2)


async def test_a_reader_long_poll_is_woken_by_the_bot_sending(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await user.send_text("hi")
    waiting = asyncio.create_task(user.next_message(timeout=5))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await bot.send_message(user.id, "there you are")
    assert (await asyncio.wait_for(waiting, 2)).text == "there you are"


async def test_wait_for_reads_on_from_the_cursor(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await user.send_text("hi")
    for text in ("one", "two", "three"):
        await bot.send_message(user.id, text)
    assert (await user.wait_for(lambda m: m.text == "two")).text == "two"
    assert (await user.next_message()).text == "three"
    assert [m.text for m in await user.messages()] == ["one", "two", "three"]


async def test_allowed_updates_filter_updates_created_afterwards(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    sent = await user.send_text("not wanted")
    assert sent.update_id is None
    assert await bot.get_updates(timeout=0) == ()
    await bot.get_updates(timeout=0, allowed_updates=[])
    assert (await user.send_text("wanted")).update_id is not None


async def test_control_errors_name_the_problem(client: EmulatorClient):
    alice, bob = await client.create_users(2)
    group = await client.create_group("一号楼", [alice])
    with pytest.raises(EmulatorError, match="not a member") as exc:
        await bob.send_text("hi", chat_id=group.id)
    assert exc.value.status == 403
    with pytest.raises(EmulatorError, match="already exists"):
        await client.create_user(id=alice.id)
    with pytest.raises(EmulatorError, match="no update 1 in the history"):
        await client.redeliver(1)
    with pytest.raises(EmulatorError, match="error_rate"):
        await client.set_faults(error_rate=2)
    await alice.block()
    with pytest.raises(EmulatorError, match="unblock first"):
        await alice.send_text("hello?")
