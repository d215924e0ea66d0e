"""Routing button presses to capabilities by the action in their signed callback data.

Every button is built with ``context.services.buttons.encode(action, *args)``
(:mod:`bot.callbacks`); :mod:`handlers.guards` verifies a press before any
capability sees it and leaves the decoded data on ``context.button``. A
capability takes the presses of its actions with :func:`on_button`; a verified
press no capability takes is answered "out of date" by the guards' fallback.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.callbacks import ARG_SEPARATOR, SIGNATURE_SEPARATOR, Decoded
from bot.context import BotContext

ButtonCallback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def action_pattern(*actions: str) -> re.Pattern[str]:
    """Match callback data whose action is one of ``actions`` (any version character)."""
    if not actions:
        raise ValueError("name at least one action")
    names = "|".join(re.escape(action) for action in actions)
    ends = re.escape(ARG_SEPARATOR + SIGNATURE_SEPARATOR)
    return re.compile(rf"^[0-9A-Za-z](?:{names})[{ends}]")


def on_button(callback: ButtonCallback, *actions: str) -> CallbackQueryHandler[Any, Any]:
    """A handler for presses of ``actions``; the press is verified before it runs."""
    return CallbackQueryHandler(callback, pattern=action_pattern(*actions))


def pressed(context: BotContext) -> Decoded:
    """The verified button of this update (set by the guard before any capability runs)."""
    if context.button is None:
        raise RuntimeError("a button handler ran without the button guard")
    return context.button


ANSWER_TEXT_LIMIT = 200
"""``answerCallbackQuery`` takes 0-200 characters of text (Bot API)."""


async def acknowledge(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a press (stops the client's spinner), with an optional toast or alert.

    Best effort: a press handled again after a crash, or later than Telegram
    waits for (about 15 s), can no longer be answered ("query is too old"), and
    that must not stop the handler from showing where the flow is. A text over
    Telegram's 200 characters would be refused (and the alert lost): it is cut.
    """
    if text is not None and len(text) > ANSWER_TEXT_LIMIT:  # plain text, not HTML
        text = text[: ANSWER_TEXT_LIMIT - 1] + "…"
    with contextlib.suppress(BadRequest):
        await query.answer(text, show_alert=alert)
