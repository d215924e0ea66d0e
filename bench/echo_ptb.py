"""A bare python-telegram-bot 22 echo bot: the baseline of P1 and P5 (spec 06).

It is PTB's own echobot example and nothing more: default builder, one
``MessageHandler`` replying to every text with the same text, ``run_polling``.
Run against the emulator (or any Bot API server)::

    TELEGRAM_BOT_TOKEN=123:abc TELEGRAM_API_URL=http://127.0.0.1:8081 \\
        .venv/bin/python bench/echo_ptb.py [--concurrent K]

Without ``--concurrent`` updates are processed one at a time (PTB's default);
with it, ``concurrent_updates(K)``: up to K at once, in no particular order.
"""

from __future__ import annotations

import argparse
import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the text that came in."""
    message = update.message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--concurrent", type=int, metavar="K", help="concurrent_updates(K)")
    args = parser.parse_args()
    url = os.environ["TELEGRAM_API_URL"].rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
    )
    if args.concurrent:
        builder = builder.concurrent_updates(args.concurrent)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
