"""What the intake records of an update's chat."""

from __future__ import annotations

from telegram import Update

from bot.intake import seen_chat
from tests.telegram_updates import update_json


def test_a_language_code_longer_than_the_column_is_cut_not_refused() -> None:
    payload = update_json(7)
    payload["message"]["from"]["language_code"] = "zh-hans-cn-x-private-use-long"

    chat = seen_chat(Update.de_json(payload, None))

    assert chat is not None
    assert chat.language_code == "zh-hans-cn-x-pri"
    assert (chat.chat_id, chat.type) == (10_000_001, "private")
