"""The answer to a command the bot does not know (``/help`` is in :mod:`handlers.residents`,
since what it lists depends on who is asking)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not know, pointing at /help."""
    message = update.effective_message
    if message is not None and message.text:
        command = message.text.split(maxsplit=1)[0][:64]
        await message.reply_text(context.t("common.unknown_command", command=command))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Nothing before the fallbacks yet: commands every user has live with their capability."""


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """The unknown-command answer, registered after every capability's commands.

    It shares group 0 with them, where only the first matching handler runs, so a
    known command is never also answered as unknown.
    """
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
