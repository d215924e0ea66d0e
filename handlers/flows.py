"""Flows in chat (:mod:`civic.flows`): routing, ``/cancel``, and showing a flow's message.

A person is in at most one flow at a time. Their typed text goes to the
capability that owns that flow (a unit label in onboarding, a description when
filing a report); ``/cancel`` leaves it, keeping the draft. Capabilities declare
their flows with :func:`register_flow`; this module routes.

A flow lives on one bot message whose buttons act (:meth:`civic.flows.Flow.accepts_press_on`).
What every flow does with that message is here, so that each capability's
handlers only parse, call their use case and choose the screen: a press edits
the message (:func:`edit_flow`); typed text or a photo moves the flow to a new
message below it, since an edit above would go unseen (:func:`show_below`);
starting shows a new message and retires the old one's buttons
(:func:`show_started`); :func:`acknowledge_step` answers a press by what it came
to; the Cancel button is :func:`cancel_button`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.i18n import N_
from civic.flows import Flow, Gate, active_flow, cancel_flow, record_flow_message
from handlers.buttons import acknowledge
from handlers.residents_views import Screen, cancelled_screen

TextStep = Callable[[Update, BotContext, Flow], Awaitable[None]]
"""Takes a person's text for their active flow."""
PhotoStep = TextStep
"""Takes a person's photo for their active flow (a deed, a report's picture)."""
DocumentStep = TextStep
"""Takes a file (a Telegram document) for their active flow (a deed sent as a PDF)."""
VoiceStep = TextStep
"""Takes a voice note for their active flow (a report's description, spoken)."""
LocationStep = TextStep
"""Takes a location pin for their active flow (where a reported problem is)."""


@dataclass(frozen=True)
class FlowRoute:
    on_text: TextStep
    resume_hint: str
    """Catalog id saying how to go on after ``/cancel`` (e.g. "send /start")."""
    on_photo: PhotoStep | None = None
    on_document: DocumentStep | None = None
    on_voice: VoiceStep | None = None
    on_location: LocationStep | None = None
    takes_replays: bool = False
    """A redelivered update that ended this flow goes to it again (its use case knows
    the update was applied and answers as before) rather than meeting "no flow"."""


_ROUTES: dict[str, FlowRoute] = {}


def register_flow(
    name: str,
    *,
    on_text: TextStep,
    resume_hint: str,
    on_photo: PhotoStep | None = None,
    on_document: DocumentStep | None = None,
    on_voice: VoiceStep | None = None,
    on_location: LocationStep | None = None,
    takes_replays: bool = False,
) -> None:
    """Declare a flow: where its text (photos, files, voice notes, pins) go, and how to
    resume it after ``/cancel``."""
    _ROUTES[name] = FlowRoute(
        on_text, resume_hint, on_photo, on_document, on_voice, on_location, takes_replays
    )


async def _flow_for(context: BotContext, user_id: int, update_id: int) -> Flow | None:
    """The person's active flow; with none, the flow this very update ended, when its
    route takes replays (a redelivery after the step committed, before it answered)."""
    async with context.services.database.uow(read_only=True) as uow:
        active = await uow.flows.active(user_id)
        if active is not None:
            return active
        ended = [f for f in await uow.flows.of_user(user_id) if f.last_update_id == update_id]
    return next(
        (f for f in ended if (route := _ROUTES.get(f.name)) is not None and route.takes_replays),
        None,
    )


async def on_text(update: Update, context: BotContext) -> None:
    """Hand typed text to the person's active flow, or say what they can do instead."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    flow = await _flow_for(context, user.id, update.update_id)
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
    await _hand_over(update, context, lambda route: route.on_photo, N_("common.photo.not_expected"))


async def on_document(update: Update, context: BotContext) -> None:
    """Hand a file to the person's active flow if it takes files; else say it was not used.

    Without this a file got no answer at all (quality bar: bad input always
    gets a clear message).
    """
    await _hand_over(
        update, context, lambda route: route.on_document, N_("common.document.not_expected")
    )


async def on_voice(update: Update, context: BotContext) -> None:
    """Hand a voice note to the person's active flow if it takes them; else say it was not used."""
    await _hand_over(update, context, lambda route: route.on_voice, N_("common.voice.not_expected"))


async def on_location(update: Update, context: BotContext) -> None:
    """Hand a location pin to the person's active flow if it takes one; else say it was not used."""
    await _hand_over(
        update, context, lambda route: route.on_location, N_("common.location.not_expected")
    )


async def _hand_over(
    update: Update,
    context: BotContext,
    step_of: Callable[[FlowRoute], TextStep | None],
    not_expected: str,
) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    flow = await _flow_for(context, user.id, update.update_id)
    route = _ROUTES.get(flow.name) if flow is not None else None
    step = step_of(route) if route is not None else None
    if flow is not None and step is not None:
        await step(update, context, flow)
        return
    await message.reply_text(context.t(not_expected))


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


# -- a flow's message ---------------------------------------------------------------------


async def send(context: BotContext, chat_id: int, screen: Screen) -> Message:
    return await context.bot.send_message(
        chat_id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
    )


async def edit(context: BotContext, chat_id: int, message_id: int, screen: Screen) -> int:
    """Show ``screen`` on the flow's message; send a new one if it cannot be edited.

    Returns the id of the message now showing it. Editing with the same content
    (a redelivered update) is not an error here.
    """
    try:
        await context.bot.edit_message_text(
            screen.text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=screen.keyboard,  # none: Telegram removes the old buttons
        )
    except BadRequest as error:
        reason = str(error).lower()
        if "not modified" in reason:
            return message_id
        if "not found" not in reason and "can't be edited" not in reason:
            raise
        return (await send(context, chat_id, screen)).message_id
    return message_id


async def edit_flow(
    context: BotContext, flow: Flow | None, chat_id: int, message_id: int, screen: Screen
) -> None:
    """:func:`edit` the flow's message; if a new one had to be sent, the flow moves to it.

    Otherwise the flow would still point at the old message, and every press on
    the new one would be refused as out of date.
    """
    shown = await edit(context, chat_id, message_id, screen)
    if shown != message_id and flow is not None and flow.active:
        services = context.services
        await record_flow_message(
            services.database.uow(), flow.user_id, flow.name, shown, services.clock.now()
        )


async def show_started(
    context: BotContext,
    chat_id: int,
    flow: Flow,
    screen: Screen,
    previous_message_id: int | None = None,
) -> None:
    """A flow started or resumed by a command: a new message, recorded as the flow's;
    the message a resumed flow was on loses its buttons (they no longer act)."""
    sent = await send(context, chat_id, screen)
    services = context.services
    await record_flow_message(
        services.database.uow(), flow.user_id, flow.name, sent.message_id, services.clock.now()
    )
    if previous_message_id is not None and previous_message_id != sent.message_id:
        await retire_keyboard(context, chat_id, previous_message_id)


async def show_below(
    context: BotContext, chat_id: int, before: Flow, after: Flow, screen: Screen
) -> None:
    """Typed text or a photo moved the flow ``before`` (now ``after``): show it in a new
    message under the person's, which the flow goes on in; the old message loses its
    buttons. A finished flow has no message to go on in."""
    sent = await send(context, chat_id, screen)
    if not after.finished:
        services = context.services
        await record_flow_message(
            services.database.uow(),
            before.user_id,
            before.name,
            sent.message_id,
            services.clock.now(),
        )
    if before.message_id is not None and before.message_id != sent.message_id:
        await retire_keyboard(context, chat_id, before.message_id)


PRESS_NOTICES: Final = {
    "wrong_step": (N_("residents.flow.moved_on"), False),
    "unknown_place": (N_("residents.flow.unknown_place"), True),
}
"""Step outcomes every flow shares that a press is told of (catalog id, as an alert)."""


async def acknowledge_step(
    query: CallbackQuery, context: BotContext, outcome: str, *, closed: str
) -> bool:
    """Answer a step button by what its answer came to (``outcome``, a use case's value).

    ``True`` when the press no longer acts: a message the flow has left, or no
    flow (``closed``: the catalog id saying so); its buttons are taken off and
    the caller shows nothing more.
    """
    if outcome in (Gate.OTHER_MESSAGE.value, Gate.NO_FLOW.value):
        stale = outcome == Gate.OTHER_MESSAGE.value
        await acknowledge(query, context.t("common.button.stale" if stale else closed), alert=True)
        message = query.message
        if message is not None:
            await retire_keyboard(context, message.chat.id, message.message_id)
        return True
    notice = PRESS_NOTICES.get(outcome)
    if notice is None:
        await acknowledge(query)
    else:
        await acknowledge(query, context.t(notice[0]), alert=notice[1])
    return False


async def cancel_button(update: Update, context: BotContext) -> None:
    """The Cancel button of any flow: as ``/cancel``, on the flow's own message.

    Only the active flow's current message cancels; a Cancel left on an older
    message (or another flow's) is out of date and cancels nothing.
    """
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    chat_id, message_id = query.message.chat.id, query.message.message_id
    flow = await active_flow(services.database.uow(read_only=True), user.id)
    route = _ROUTES.get(flow.name) if flow is not None else None
    if flow is None or route is None or not flow.accepts_press_on(message_id):
        await acknowledge(query, context.t("common.button.stale"), alert=True)
        await retire_keyboard(context, chat_id, message_id)
        return
    await cancel_flow(services.database.uow(), user.id, services.clock.now())
    await acknowledge(query)
    await edit(context, chat_id, message_id, cancelled_screen(context.t, route.resume_hint))


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
    application.add_handler(MessageHandler(filters.VOICE & filters.ChatType.PRIVATE, on_voice))
    application.add_handler(
        MessageHandler(filters.LOCATION & filters.ChatType.PRIVATE, on_location)
    )
