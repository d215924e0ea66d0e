"""``/cancel`` and free text, for whichever flow a person is in (:mod:`civic.flows`).

A person is in at most one flow at a time. Their typed text goes to the
capability that owns that flow (a unit label in onboarding, a description when
filing a report); ``/cancel`` leaves it, keeping the draft. Capabilities declare
their flows with :func:`register_flow`; this module routes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from civic.flows import Flow, active_flow, cancel_flow

TextStep = Callable[[Update, BotContext, Flow], Awaitable[None]]
"""Takes a person's text for their active flow."""
PhotoStep = TextStep
"""Takes a person's photo for their active flow (a deed, a report's picture)."""
DocumentStep = TextStep
"""Takes a file (a Telegram document) for their active flow (a deed sent as a PDF)."""


@dataclass(frozen=True)
class FlowRoute:
    on_text: TextStep
    resume_hint: str
    """Catalog id saying how to go on after ``/cancel`` (e.g. "send /start")."""
    on_photo: PhotoStep | None = None
    on_document: DocumentStep | None = None


_ROUTES: dict[str, FlowRoute] = {}


def register_flow(
    name: str,
    *,
    on_text: TextStep,
    resume_hint: str,
    on_photo: PhotoStep | None = None,
    on_document: DocumentStep | None = None,
) -> None:
    """Declare a flow: where its text (photos, files) go, and how to resume it after ``/cancel``."""
    _ROUTES[name] = FlowRoute(on_text, resume_hint, on_photo, on_document)


async def on_text(update: Update, context: BotContext) -> None:
    """Hand typed text to the person's active flow, or say what they can do instead."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    flow = await active_flow(context.services.database.uow(read_only=True), user.id)
    route = _ROUTES.get(flow.name) if flow is not None else None
    if flow is not None and route is not None:
        await route.on_text(update, context, flow)
        return
    hint = context.services.profiles.get(user.id)
    registered = hint is not None and hint.registered
    await message.reply_text(
        context.t("common.text.no_flow") if registered else context.t("common.text.not_registered")
    )


async def on_photo(update: Update, context: BotContext) -> None:
    """Hand a photo to the person's active flow if it takes photos; else say it was not used."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    flow = await active_flow(context.services.database.uow(read_only=True), user.id)
    route = _ROUTES.get(flow.name) if flow is not None else None
    if flow is not None and route is not None and route.on_photo is not None:
        await route.on_photo(update, context, flow)
        return
    await message.reply_text(context.t("common.photo.not_expected"))


async def on_document(update: Update, context: BotContext) -> None:
    """Hand a file to the person's active flow if it takes files; else say it was not used.

    Without this a file got no answer at all (quality bar: bad input always
    gets a clear message).
    """
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    flow = await active_flow(context.services.database.uow(read_only=True), user.id)
    route = _ROUTES.get(flow.name) if flow is not None else None
    if flow is not None and route is not None and route.on_document is not None:
        await route.on_document(update, context, flow)
        return
    await message.reply_text(context.t("common.document.not_expected"))


async def cancel(update: Update, context: BotContext) -> None:
    """Leave the active flow; what was entered stays for next time."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    flow = await cancel_flow(services.database.uow(), user.id, services.clock.now())
    if flow is None:
        await message.reply_text(context.t("common.nothing_to_cancel"))
        return
    route = _ROUTES.get(flow.name)
    text = context.t("common.cancelled")
    if route is not None:
        text += "\n" + context.t(route.resume_hint)
    await message.reply_text(text)
    if flow.message_id is not None:
        await retire_keyboard(context, message.chat_id, flow.message_id)


async def retire_keyboard(context: BotContext, chat_id: int, message_id: int) -> None:
    """Take the buttons off a message a flow has left (best effort: it may be gone)."""
    # Deleted, too old, or without buttons already: then there is nothing to retire.
    with contextlib.suppress(TelegramError):
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """``/cancel`` and the text of private chats; after every capability's own text handlers."""
    application.add_handler(CommandHandler("cancel", cancel))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text)
    )
    application.add_handler(MessageHandler(filters.PHOTO & filters.ChatType.PRIVATE, on_photo))
    application.add_handler(
        MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, on_document)
    )
