"""setMyCommands per scope and language, read back through the control API."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from tgemu.client import EmulatorClient


async def test_commands_are_kept_per_scope_and_language(bot: Bot, client: EmulatorClient):
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands(
        [BotCommand("start", "开始"), BotCommand("me", "我的资料")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="zh",
    )
    await bot.set_my_commands([BotCommand("admin", "管理")], scope=BotCommandScopeChat(42))

    stored = await client.commands()
    by_key = {(c["scope"]["type"], c["language_code"]): c for c in stored}
    assert set(by_key) == {("default", ""), ("all_private_chats", "zh"), ("chat", "")}
    assert by_key[("all_private_chats", "zh")]["commands"] == [
        {"command": "start", "description": "开始"},
        {"command": "me", "description": "我的资料"},
    ]
    assert by_key[("chat", "")]["scope"] == {"type": "chat", "chat_id": 42}
    assert [c["scope"]["type"] for c in await client.commands(language_code="zh")] == [
        "all_private_chats"
    ]

    zh = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert [c.command for c in zh] == ["start", "me"]
    assert await bot.get_my_commands(language_code="en") == ()

    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert len(await client.commands()) == 2
