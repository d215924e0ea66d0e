"""Operator notices: one message to every reachable private chat, through the outbox.

The operator's way to say "the bot will be down for maintenance tonight"
(``xieshang notice TEXT``). Staff announcements with audiences are the
broadcasts capability (spec 05); this is the operator's plain channel and the
runtime's test of the outbox at volume. Each chat gets the text framed in its
own language, at broadcast priority, so replies to residents still go first.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.html import escape
from bot.i18n import Catalogs, resolve_locale
from civic.outbox import OutgoingMessage, Priority
from storage.database import Database

MAX_NOTICE_CHARACTERS = 3500
"""Leaves room for the frame within Telegram's 4096 characters."""


class NoticeTooLong(ValueError):
    """The notice text does not fit in one Telegram message with its frame."""


def notice_key(text: str, chat_id: int, now: datetime) -> str:
    """The same notice is queued once per chat and day, however often the command runs.

    Running it twice by mistake (or a retry after a timeout) sends nothing twice;
    the same text on another day (next month's water cut) is a new notice.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
    return f"notice:{now.date().isoformat()}:{digest}:{chat_id}"


async def queue_notice(database: Database, catalogs: Catalogs, text: str, now: datetime) -> int:
    """Queue ``text`` for every reachable private chat; return how many chats it is for."""
    text = text.strip()
    if not text or len(text) > MAX_NOTICE_CHARACTERS:
        raise NoticeTooLong(text)
    async with database.uow() as uow:
        chats = await uow.chats.reachable_private()
        messages = [
            OutgoingMessage(
                chat.chat_id,
                {
                    "text": catalogs.for_locale(resolve_locale(None, chat.language_code))(
                        "outbox.notice.text", text=escape(text)
                    ),
                    "parse_mode": "HTML",
                },
                priority=Priority.BROADCAST,
                dedupe_key=notice_key(text, chat.chat_id, now),
            )
            for chat in chats
        ]
        await uow.outbox.enqueue(messages, now)
        await uow.commit()
    return len(messages)
