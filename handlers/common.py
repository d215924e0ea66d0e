"""Commands every user has: ``/help``, and the answer to a command the bot does not know."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.context import BotContext


async def help_command(update: Update, context: BotContext) -> None:
    """Say what the bot does and which commands there are."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(context.t("common.help"))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not know, pointing at /help."""
    message = update.effective_message
    if message is not None and message.text:
        command = message.text.split(maxsplit=1)[0][:64]
        await message.reply_text(context.t("common.unknown_command", command=command))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("help", help_command))


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """The unknown-command answer, registered after every capability's commands.

    It shares group 0 with them, where only the first matching handler runs, so a
    known command is never also answered as unknown.
    """
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
