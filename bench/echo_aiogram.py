"""A bare aiogram 3 echo bot, reported beside the python-telegram-bot baselines (P1, P5).

aiogram pins a pydantic older than the project's, so this runs from its own
virtual environment, ``bench/.venv-aiogram`` (the benchmarks create it with pip
on first use), and imports nothing of the project::

    TELEGRAM_BOT_TOKEN=123:abc TELEGRAM_API_URL=http://127.0.0.1:8081 \\
        bench/.venv-aiogram/bin/python bench/echo_aiogram.py

One handler without filters replies to every text with the same text; aiogram's
polling runs each update as its own task (``handle_as_tasks``, its default).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from aiogram import Bot, Dispatcher  # type: ignore[import-not-found,unused-ignore]
from aiogram.client.session.aiohttp import (  # type: ignore[import-not-found,unused-ignore]
    AiohttpSession,
)
from aiogram.client.telegram import TelegramAPIServer  # type: ignore[import-not-found,unused-ignore]


async def echo(message: Any) -> None:
    """Reply with the text that came in."""
    if message.text is not None:
        await message.answer(message.text)


async def main() -> None:
    server = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])
    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"], session=AiohttpSession(api=server))
    dispatcher = Dispatcher()
    dispatcher.message.register(echo)
    await dispatcher.start_polling(bot)


if __name__ == "__main__":
    asyncio.run(main())
