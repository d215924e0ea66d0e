"""Answering button presses: Telegram's limits on the answer's text."""

from __future__ import annotations

from typing import Any, cast

from telegram import CallbackQuery

from handlers.buttons import ANSWER_TEXT_LIMIT, acknowledge


class RecordingQuery:
    """Stands in for a CallbackQuery: keeps what ``answer`` was given."""

    def __init__(self) -> None:
        self.answers: list[tuple[str | None, bool]] = []

    async def answer(self, text: str | None = None, show_alert: bool = False) -> bool:
        self.answers.append((text, show_alert))
        return True


async def test_an_alert_over_telegrams_limit_is_cut_not_lost() -> None:
    query = RecordingQuery()
    long = "Nobody at " + "Comprehensive Administrative Law Enforcement Bureau " * 5
    await acknowledge(cast(CallbackQuery, cast(Any, query)), long, alert=True)
    ((text, alert),) = query.answers
    assert text == long[: ANSWER_TEXT_LIMIT - 1] + "…"
    assert alert


async def test_a_short_answer_is_sent_as_it_is() -> None:
    query = RecordingQuery()
    await acknowledge(cast(CallbackQuery, cast(Any, query)), "已受理")
    await acknowledge(cast(CallbackQuery, cast(Any, query)))
    assert query.answers == [("已受理", False), (None, False)]
