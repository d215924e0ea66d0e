"""The error handler: a failed update is kept as failed and the person is told to retry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import Update

from bot.i18n import Catalogs, resolve_locale
from bot.profiles import ProfileHints
from civic.residents import ProfileHint
from handlers.common import on_error
from storage.database import Database
from storage.inbox import InboxItem, InboxStatus
from tests.telegram_updates import update_json

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class FakeServices:
    database: Database
    clock: FakeClock = field(default_factory=FakeClock)
    profiles: ProfileHints = field(default_factory=ProfileHints)


@dataclass
class FakeBot:
    sent: list[tuple[int, str]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str) -> None:
        self.sent.append((chat_id, text))


@dataclass
class FakeContext:
    """What ``on_error`` reads of python-telegram-bot's context."""

    services: FakeServices
    error: Exception
    bot: FakeBot = field(default_factory=FakeBot)
    language: str = "en"

    def prefer_language(self, language: str | None) -> None:
        self.language = language or self.language

    def t(self, message_id: str, **params: Any) -> str:
        locale = resolve_locale(self.language, None)
        return Catalogs.load(strict=True).for_locale(locale)(message_id, **params)


async def test_a_failed_update_is_recorded_and_the_person_told(database: Database) -> None:
    payload = update_json(41, text="/me")
    async with database.uow() as uow:
        await uow.inbox.add([InboxItem(41, 10_000_001, json.dumps(payload))], NOW)
        await uow.commit()
    services = FakeServices(database)
    services.profiles.put(10_000_001, ProfileHint("zh_CN", registered=True))  # chose 中文
    context = FakeContext(services, RuntimeError("boom"))

    await on_error(Update.de_json(payload, None), context)  # type: ignore[arg-type]
    async with database.uow() as uow:  # the processing layer's "done" comes after
        await uow.inbox.mark(41, InboxStatus.DONE, NOW)
        await uow.commit()

    async with database.uow(read_only=True) as uow:
        assert await uow.inbox.counts() == {"failed": 1}
    zh = Catalogs.load(strict=True).for_locale(resolve_locale("zh_CN", None))
    assert context.bot.sent == [(10_000_001, zh("common.error.try_again"))]
