"""Reachability from Telegram's side: a user blocks or unblocks the bot.

Telegram sends a ``my_chat_member`` update in the private chat when a user blocks
the bot (status ``kicked``) or allows it again (``member``). Blocking closes the
chat's queued messages; unblocking lets the outbox send to it again (spec 01,
Sending). The update is also what a 403 would have taught us, only earlier.
"""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import Application, ChatMemberHandler

from bot.context import BotContext
from bot.sender import record_reachable, record_unreachable


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    database = context.services.database
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        now = context.services.clock.now()
        await record_unreachable(database, change.chat.id, now, "blocked the bot")
    elif status == ChatMember.MEMBER:
        await record_reachable(database, change.chat.id)
        context.services.sender.wake()


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
