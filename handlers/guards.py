"""Checks every update passes before any capability sees it (spec 01, Update processing).

* **Flood control**: a user who sends more than ``[flood] messages`` in
  ``per_seconds`` is told once to slow down; further updates in that window are
  not handled and are kept in the inbox as ``refused`` (quality bar S5). Other
  users are not affected: the check is per user and costs no I/O when allowed.
  Messages handled long after they were sent (a backlog after downtime) are not
  counted: the user did not flood, the bot was away.
* **Buttons**: callback data is verified with the signing key
  (:class:`bot.callbacks.CallbackCodec`). Forged data and buttons of a retired
  format get a message and nothing else; verified data is left on the context
  (``context.button``) for the capability's handler. A verified button that no
  handler takes any more (its flow is over) gets the "out of date" message from
  :func:`register_fallbacks`.

Each guard stops further handling with ``ApplicationHandlerStop``.
"""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    TypeHandler,
)

from bot.callbacks import Decoded, Rejected, RejectReason
from bot.context import BotContext
from civic.flood import FloodOutcome
from handlers.buttons import acknowledge
from storage.inbox import InboxStatus

log = logging.getLogger(__name__)

FLOOD_GROUP = -20
BUTTON_GROUP = -10

REPLAY_AGE_SECONDS = 60.0
"""Messages older than this when handled were queued during downtime and are not counted."""

REJECTION_TEXT = {
    RejectReason.STALE: "common.button.stale",
    RejectReason.FORGED: "common.button.invalid",
}


async def flood_guard(update: Update, context: BotContext) -> None:
    """Refuse an update from a user over the flood limit; warn them once per window."""
    user = update.effective_user
    if user is None or update.my_chat_member is not None or update.chat_member is not None:
        return  # membership changes are Telegram's, not the user's typing
    # Only a new message's date says when the user sent it (a pressed button's
    # message is the bot's, an edit keeps the original date).
    message = update.message
    if message is not None and message.date is not None:
        age = (context.services.clock.now() - message.date).total_seconds()
        if age > REPLAY_AGE_SECONDS:
            return  # stored while the bot was down: a backlog, not a flood
    decision = context.services.flood.check(user.id, time.monotonic())
    if decision.allowed:
        return
    if decision.outcome is FloodOutcome.WARN:
        text = context.t("common.flood.slow_down", seconds=decision.wait_seconds())
        if update.callback_query is not None:
            await acknowledge(update.callback_query, text, alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    async with context.services.database.uow() as uow:
        now = context.services.clock.now()
        await uow.inbox.mark(update.update_id, InboxStatus.REFUSED, now, "flood control")
        await uow.commit()
    log.info("update %d refused by flood control", update.update_id)
    raise ApplicationHandlerStop


async def button_guard(update: Update, context: BotContext) -> None:
    """Verify a button's callback data; refuse forged or retired ones with a message."""
    query = update.callback_query
    if query is None:
        return
    outcome = context.services.buttons.decode(query.data or "")
    if isinstance(outcome, Decoded):
        context.button = outcome
        return
    await refuse_button(update, context, outcome)
    raise ApplicationHandlerStop


async def refuse_button(update: Update, context: BotContext, rejected: Rejected) -> None:
    """Answer a refused button press, so the user's spinner stops and they know why."""
    query = update.callback_query
    if query is not None:
        await acknowledge(query, context.t(REJECTION_TEXT[rejected.reason]), alert=True)


async def stale_button(update: Update, context: BotContext) -> None:
    """A valid button that no handler takes: its message belongs to a finished flow."""
    await refuse_button(update, context, Rejected(RejectReason.STALE))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """The guards run first, each in its own group, before every capability."""
    application.add_handler(TypeHandler(Update, flood_guard), group=FLOOD_GROUP)
    application.add_handler(CallbackQueryHandler(button_guard), group=BUTTON_GROUP)


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """After every capability's handlers in group 0: presses that nothing took."""
    application.add_handler(CallbackQueryHandler(stale_button))
