"""Messages, keyboards, files and formatting, exercised by python-telegram-bot 22."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from tgemu import Emulator
from tgemu.client import EmulatorClient, EmulatorError

from .conftest import BOT_ID, make_app, png, polling

Ctx = ContextTypes.DEFAULT_TYPE


async def test_a_text_is_echoed_by_a_polling_bot(emulator: Emulator, client: EmulatorClient):
    app = make_app(emulator.url)

    async def echo(update: Update, context: Ctx) -> None:
        assert update.message is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with polling(app):
        user = await client.create_user(first_name="王芳", language_code="zh-hans")
        await user.send_text("你好")
        msg = await user.next_message(timeout=5)
    assert msg.text == "echo: 你好"
    assert msg.deleted is False


async def test_get_me_returns_a_complete_bot_user(bot: Bot):
    me = await bot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot is True
    assert me.username
    assert me.first_name
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is True
    assert me.supports_inline_queries is False


async def test_a_command_with_a_deep_link_payload_reaches_the_bot_as_a_command(
    emulator: Emulator, client: EmulatorClient
):
    app = make_app(emulator.url)
    seen: asyncio.Queue[tuple[str, list[str]]] = asyncio.Queue()

    async def start(update: Update, context: Ctx) -> None:
        assert update.message is not None
        assert update.message.text is not None
        await seen.put((update.message.text, list(context.args or [])))

    from telegram.ext import CommandHandler

    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        user = await client.create_user()
        sent = await user.send_text("/start HD-01")
        text, args = await asyncio.wait_for(seen.get(), 5)
    assert sent.message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert text == "/start HD-01"
    assert args == ["HD-01"]


async def test_an_inline_button_press_is_answered_and_the_edit_removes_the_keyboard(
    emulator: Emulator, client: EmulatorClient
):
    app = make_app(emulator.url)
    seen_data: list[str] = []

    async def ask(update: Update, context: Ctx) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("是", callback_data="yes")],
                [InlineKeyboardButton("否", callback_data="no")],
            ]
        )
        await update.message.reply_text("同意吗？", reply_markup=keyboard)

    async def pressed(update: Update, context: Ctx) -> None:
        query = update.callback_query
        assert query is not None
        assert query.message is not None
        assert query.chat_instance
        seen_data.append(str(query.data))
        await query.answer("已记录", show_alert=True)
        await query.edit_message_text(f"你选了 {query.data}")

    app.add_handler(MessageHandler(filters.TEXT, ask))
    app.add_handler(CallbackQueryHandler(pressed))
    async with polling(app):
        user = await client.create_user()
        await user.send_text("hi")
        msg = await user.next_message()
        assert msg.button_texts == ["是", "否"]
        with pytest.raises(EmulatorError) as refused:
            await user.press(msg, callback_data="maybe")
        assert refused.value.status == 400
        with pytest.raises(EmulatorError) as too_long:
            await user.press(msg, callback_data="x" * 65, forge=True)
        assert too_long.value.status == 400
        press = await user.press(msg, text="是")
        answer = await press.answer(timeout=5)
        edited = await user.wait_for_edit(msg, timeout=5)
        # The keyboard is gone, yet a modified client can still send data.
        forged = await user.press(msg, callback_data="maybe", forge=True)
        await forged.answer(timeout=5)
    assert seen_data == ["yes", "maybe"]
    assert answer.text == "已记录"
    assert answer.show_alert is True
    assert edited.text == "你选了 yes"
    assert edited.edited is True
    assert edited.reply_markup is None
    assert edited.raw["edit_date"] >= msg.date


async def test_editing_with_the_same_content_is_refused_as_not_modified(
    bot: Bot, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("hi")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    sent = await bot.send_message(user.id, "same", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "same", chat_id=user.id, message_id=sent.message_id, reply_markup=markup
        )
    edited = await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)
    assert isinstance(edited, object)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=9999)


async def test_deleting_a_message_flags_it_for_the_user(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await user.send_text("hi")
    sent = await bot.send_message(user.id, "bye soon")
    assert await bot.delete_message(user.id, sent.message_id) is True
    deleted = await user.wait_for(lambda m: m.event == "deleted")
    assert deleted.message_id == sent.message_id
    assert deleted.deleted is True
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)


async def test_a_photo_sent_by_a_user_is_downloaded_by_the_bot(
    emulator: Emulator, client: EmulatorClient
):
    app = make_app(emulator.url)
    received: asyncio.Future[tuple[bytes, int, int]] = asyncio.get_running_loop().create_future()

    async def photo(update: Update, context: Ctx) -> None:
        assert update.message is not None
        size = update.message.photo[-1]
        file = await size.get_file()
        data = await file.download_as_bytearray()
        received.set_result((bytes(data), size.width, size.height))

    app.add_handler(MessageHandler(filters.PHOTO, photo))
    image = png(640, 480)
    async with polling(app):
        user = await client.create_user()
        await user.send_photo(image, caption="楼道灯坏了")
        data, width, height = await asyncio.wait_for(received, 5)
    assert data == image
    assert (width, height) == (640, 480)


async def test_a_document_sent_by_the_bot_is_read_back_through_the_control_api(
    bot: Bot, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("export please")
    content = "编号,状态\nHD-01-0001,已办结\n".encode()
    sent = await bot.send_document(user.id, document=content, filename="report.csv", caption="导出")
    assert sent.document is not None
    msg = await user.next_message()
    assert msg.document is not None
    assert msg.document["file_name"] == "report.csv"
    assert msg.caption == "导出"
    assert await client.download(msg.document["file_id"]) == content
    # the bot's own file URL serves the same bytes
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    # and the file_id can be sent again without uploading
    again = await bot.send_document(user.id, document=sent.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id


async def test_a_location_and_a_photo_by_file_id_are_sent_by_the_bot(
    bot: Bot, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("where?")
    loc = await bot.send_location(user.id, latitude=31.23, longitude=121.47)
    assert loc.location is not None
    assert loc.location.latitude == pytest.approx(31.23)
    uploaded = await bot.send_photo(user.id, photo=png(10, 20))
    assert uploaded.photo[-1].width == 10
    assert uploaded.photo[-1].height == 20
    again = await bot.send_photo(user.id, photo=uploaded.photo[-1].file_id)
    assert again.photo[-1].file_id == uploaded.photo[-1].file_id
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(user.id, photo="no-such-file-id")


async def test_html_entities_are_parsed_into_utf16_offsets(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await user.send_text("hi")
    html = '😀<b>粗 <i>斜</i></b> &lt;tag&gt; <a href="https://example.org/?a=1&amp;b=2">link</a>'
    sent = await bot.send_message(user.id, html, parse_mode="HTML")
    assert sent.text == "😀粗 斜 <tag> link"
    entities = [(e.type, e.offset, e.length) for e in sent.entities]
    assert entities == [("bold", 2, 3), ("italic", 4, 1), ("text_link", 12, 4)]
    assert sent.entities[2].url == "https://example.org/?a=1&b=2"
    msg = await user.next_message()
    assert msg.html == html


@pytest.mark.parametrize(
    "bad",
    ["<foo>x</foo>", "<b>unclosed", "a < b", "<b>x</i>", "<span>x</span>"],
)
async def test_invalid_html_is_refused_with_cant_parse_entities(
    bot: Bot, client: EmulatorClient, bad: str
):
    user = await client.create_user()
    await user.send_text("hi")
    with pytest.raises(BadRequest, match=r"(?i)Can't parse entities"):
        await bot.send_message(user.id, bad, parse_mode="HTML")


async def test_a_text_over_4096_characters_is_refused_and_4096_after_parsing_is_accepted(
    bot: Bot, client: EmulatorClient
):
    user = await client.create_user()
    await user.send_text("hi")
    await bot.send_message(user.id, "字" * 4096)
    await bot.send_message(user.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Message is too long"):
        await bot.send_message(user.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)Message text is empty"):
        await bot.send_message(user.id, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(user.id, photo=png(1, 1), caption="x" * 1025)


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    await user.send_text("hi")
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="中" * 21 + "a")]])
    await bot.send_message(user.id, "64 bytes", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
        await bot.send_message(user.id, "65 bytes", reply_markup=too_long)


async def test_a_bot_cannot_write_first_or_to_an_unknown_chat(bot: Bot, client: EmulatorClient):
    user = await client.create_user()
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation"):
        await bot.send_message(user.id, "hello?")
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(987654321, "hello?")


async def test_a_reply_keyboard_button_sends_its_text_or_the_location(
    bot: Bot, client: EmulatorClient
):
    from telegram import KeyboardButton, ReplyKeyboardMarkup

    user = await client.create_user()
    await user.send_text("hi")
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("报事"), KeyboardButton("发送位置", request_location=True)]],
        one_time_keyboard=False,
    )
    await bot.send_message(user.id, "choose", reply_markup=keyboard)
    msg = await user.next_message()
    assert msg.keyboard == [["报事", "发送位置"]]
    text = await user.press_reply("报事")
    loc = await user.press_reply("发送位置", latitude=30.5, longitude=114.3)
    with pytest.raises(EmulatorError):
        await user.press_reply("not a button")
    updates = await bot.get_updates(timeout=0)
    by_id = {u.update_id: u for u in updates}
    assert by_id[text.update_id].message.text == "报事"  # type: ignore[index,union-attr]
    location = by_id[loc.update_id].message.location  # type: ignore[index,union-attr]
    assert location is not None
    assert location.latitude == 30.5
