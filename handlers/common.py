"""What every capability shares: the answer to an unknown command, and to a failure.

``/help`` is in :mod:`handlers.residents`, since what it lists depends on who asks.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext
from storage.inbox import InboxStatus

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """A handler raised: log it, keep it on the update's inbox row, tell the person.

    The log names the update and the error, never the message's text (personal
    data). The inbox row becomes ``failed`` with the error, so an operator sees
    which updates went wrong; the processing layer's later "done" does not
    overwrite it. Whatever the person entered stays in their draft (flows are
    committed before each reply), so "try again" loses nothing.
    """
    error = context.error
    if not isinstance(update, Update):
        log.error("error outside any update: %r", error, exc_info=error)
        return
    log.error("update %d failed: %r", update.update_id, error, exc_info=error)
    detail = f"{type(error).__name__}: {error}"[:2000]
    with contextlib.suppress(Exception):  # the database may be what failed
        async with context.services.database.uow() as uow:
            now = context.services.clock.now()
            await uow.inbox.mark(update.update_id, InboxStatus.FAILED, now, detail)
            await uow.commit()
    user = update.effective_user
    hint = context.services.profiles.get(user.id) if user is not None else None
    if hint is not None:  # PTB gives error handlers a fresh context: reapply /lang
        context.prefer_language(hint.language)
    chat = update.effective_chat
    if chat is not None and chat.type == chat.PRIVATE:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat.id, context.t("common.error.try_again"))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not know, pointing at /help."""
    message = update.effective_message
    if message is not None and message.text:
        command = message.text.split(maxsplit=1)[0][:64]
        await message.reply_text(context.t("common.unknown_command", command=command))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """The error handler; commands every user has live with their capability."""
    application.add_error_handler(on_error)


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """The unknown-command answer, registered after every capability's commands.

    It shares group 0 with them, where only the first matching handler runs, so a
    known command is never also answered as unknown.
    """
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
