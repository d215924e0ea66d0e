"""``/queue`` and the report cards: grid workers, staff and liaisons work reports in chat.

Each handler parses the update, calls a use case of :mod:`civic.reports_handling`
(which commits before anything is sent) and shows the outcome through
:mod:`handlers.reports_queue_views`. A card is edited in place as the report
advances; a typed note (progress, resolution, question, rejection note) moves
to a new card under the person's message, and the old card loses its buttons.

Every press is checked again against the presser's live roles: the signature
proves the bot made the button, not that the presser may use it (a forwarded
card, a former grid worker's old list).
"""

from __future__ import annotations

import html
import re
from typing import Final

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot.config.reports import deadline_policy_from_config, working_calendar_from_config
from bot.context import BotContext, Services
from bot.i18n import N_
from civic.flows import Flow, active_flow, cancel_flow
from civic.reports import ActorRole, RejectReason, Report, ReportAction, ReportState
from civic.reports_handling import (
    ALBUM_STEP,
    ANSWER_FLOW,
    MAX_NOTE_PHOTOS,
    NOTE_FLOW,
    DeadlineRules,
    HandleOutcome,
    HandleResult,
    KeptPhoto,
    NoteDraft,
    Refusal,
    add_album_photo,
    answer_report,
    answer_report_id,
    card_details,
    check_action,
    end_album,
    handle_report,
    keep_note_photo,
    may_queue,
    queue_of,
    roles_on_report,
    start_answer,
    start_note,
)
from civic.reports_routing import Assignee
from civic.roles import Actor, Decision
from handlers import flows
from handlers.buttons import acknowledge, on_button, pressed
from handlers.flows import edit, send
from handlers.permissions import actor_of, refusal, reply
from handlers.reports_names import largest_photo
from handlers.reports_queue_views import (
    ACT,
    ANSWER,
    CANCEL,
    CARD,
    CODE_ACTION,
    CODE_KIND,
    CODE_STATE,
    DONE,
    MORE,
    REASON,
    REJECT_NOW,
    TARGET,
    CardPainter,
    OutboxNotices,
)
from handlers.reports_reminders import desk_notices_of
from handlers.residents import painter_of
from handlers.residents_views import Screen

NOTE_RESUME: Final = N_("reports.card.note_resume")
ANSWER_RESUME: Final = N_("reports.thread.answer_resume")


def deadline_rules(services: Services) -> DeadlineRules:
    """The deadline periods of ``config.toml`` and the working calendar filing shares
    (:func:`bot.config.reports.working_calendar_from_config`, built once)."""
    config = services.settings.config
    return DeadlineRules(
        deadline_policy_from_config(config),
        working_calendar_from_config(config),
        config.reports.confirm_fixed_days,
    )


def notices_of(context: BotContext) -> OutboxNotices:
    services = context.services
    return OutboxNotices(services.catalogs, services.buttons, services.places)


def cards_of(context: BotContext) -> CardPainter:
    return CardPainter(painter_of(context))


async def card_screen(
    context: BotContext,
    report: Report,
    roles: frozenset[ActorRole],
    notice: str | None = None,
) -> Screen:
    assert report.id is not None
    details = await card_details(context.services.database.uow(read_only=True), [report.id])
    return cards_of(context).card(
        report,
        roles,
        photos=details.photos_of(report.id),
        notice=notice,
        events=details.events_of(report.id),
    )


# -- /queue ------------------------------------------------------------------------------------


async def queue(update: Update, context: BotContext) -> None:
    """``/queue``: the open reports one may act on, oldest first, five at a time."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    actor = await actor_of(context, user.id)
    if not may_queue(actor, context.services.places):
        await reply(message, refusal(context, actor, Decision.NOT_STAFF, None))
        return
    await show_page(context, message.chat_id, actor, 0)


async def show_page(context: BotContext, chat_id: int, actor: Actor, offset: int) -> None:
    services = context.services
    page = await queue_of(
        services.database.uow(read_only=True), actor, services.places, offset=offset
    )
    cards = cards_of(context)
    if not page.reports:
        key = "reports.queue.empty" if offset == 0 else "reports.queue.no_more"
        await send(context, chat_id, Screen(context.t(key)))
        return
    if offset == 0:
        await send(context, chat_id, Screen(context.t("reports.queue.header")))
    details = await card_details(
        services.database.uow(read_only=True), [r.id for r in page.reports if r.id is not None]
    )
    for report in page.reports:
        roles = roles_on_report(actor, report, services.places)
        screen = cards.card(
            report,
            roles,
            photos=details.photos_of(report.id),
            events=details.events_of(report.id),
        )
        await send(context, chat_id, screen)
    if page.more:
        await send(context, chat_id, cards.more(offset + len(page.reports)))


async def more(update: Update, context: BotContext) -> None:
    """ "More": the next page; the button goes, so it is pressed once."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    offset = pressed(context).int_arg(0)
    await acknowledge(query)
    await flows.retire_keyboard(context, query.message.chat.id, query.message.message_id)
    actor = await actor_of(context, user.id)
    await show_page(context, query.message.chat.id, actor, offset)


# -- answering a press ----------------------------------------------------------------------------


def refused_text(context: BotContext, actor: Actor, result: HandleResult) -> str:
    if result.refusal is Refusal.OTHER_COMMUNITY and result.report is not None:
        return refusal(context, actor, Decision.OTHER_COMMUNITY, result.report.community_code)
    if result.refusal is Refusal.OTHER_DESK:
        return context.t("reports.card.other_desk")
    return context.t("reports.card.not_yours")


def stale_text(
    context: BotContext, actor: Actor, action: ReportAction | None, report: Report | None
) -> str:
    return cards_of(context).too_late(actor.user_id, action, report)


async def answer_refusal(
    update: Update,
    context: BotContext,
    actor: Actor,
    result: HandleResult,
    action: ReportAction | None,
) -> bool:
    """Answer a press that came to nothing; ``True`` if so (the caller shows nothing more)."""
    query = update.callback_query
    if query is None or query.message is None:
        return True
    chat_id, message_id = query.message.chat.id, query.message.message_id
    if result.outcome is HandleOutcome.NOT_FOUND:
        await acknowledge(query, context.t("reports.card.not_found"), alert=True)
        await flows.retire_keyboard(context, chat_id, message_id)
        return True
    if result.outcome is HandleOutcome.REFUSED:
        text = refused_text(context, actor, result)
        await acknowledge(query, strip_tags(text), alert=True)
        return True
    if result.outcome in (HandleOutcome.STALE, HandleOutcome.BAD_TARGET):
        await acknowledge(query, stale_text(context, actor, action, result.report), alert=True)
        if result.report is not None:
            await edit(
                context,
                chat_id,
                message_id,
                await card_screen(context, result.report, result.roles),
            )
        return True
    return False


def strip_tags(text: str) -> str:
    """An alert shows plain text: the refusal's HTML links and entities, unwrapped."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def done(
    update: Update,
    context: BotContext,
    result: HandleResult,
    notice_key: str | None = None,
    *,
    alert: str | None = None,
) -> None:
    """The action was taken (or had been, for a redelivered update): the card shows it.
    ``alert``: something the person must read (not a passing toast)."""
    query = update.callback_query
    if query is None or query.message is None or result.report is None:
        return
    if alert is not None:
        await acknowledge(query, alert, alert=True)
    else:
        await acknowledge(query, context.t(notice_key) if notice_key else None)
    context.services.sender.wake()
    screen = await card_screen(context, result.report, result.roles or frozenset())
    await edit(context, query.message.chat.id, query.message.message_id, screen)


async def act(update: Update, context: BotContext) -> None:
    """A card's button: accept at once; reject and reassign offer choices; progress,
    resolve and ask wait for the typed note."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    report_id = button.int_arg(0)
    action = CODE_ACTION.get(button.args[1]) if len(button.args) > 1 else None
    seen = CODE_STATE.get(button.args[2]) if len(button.args) > 2 else None
    if action is None or seen is None:
        await acknowledge(query, context.t("reports.card.stale"), alert=True)
        return
    actor = await actor_of(context, user.id)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    cards = cards_of(context)
    if action is ReportAction.ACCEPT:
        result = await handle(update, context, actor, report_id, action, seen)
        if not await answer_refusal(update, context, actor, result, action):
            await done(update, context, result)
        return
    if action in (ReportAction.REJECT, ReportAction.REASSIGN):
        checked = await check_action(
            services.database.uow(read_only=True), actor, report_id, action, seen, services.places
        )
        if await answer_refusal(update, context, actor, checked, action) or checked.report is None:
            return
        await acknowledge(query)
        screen = (
            cards.reasons(checked.report)
            if action is ReportAction.REJECT
            else cards.targets(checked.report)
        )
        await edit(context, chat_id, message_id, screen)
        return
    started = await start_note(
        services.database.uow(),
        actor,
        report_id,
        action,
        seen_state=seen,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        message_id=message_id,
    )
    if await answer_refusal(update, context, actor, started, action) or started.report is None:
        return
    await acknowledge(query)
    await edit(context, chat_id, message_id, cards.note_prompt(started.report, action))


async def handle(
    update: Update,
    context: BotContext,
    actor: Actor,
    report_id: int,
    action: ReportAction,
    seen: ReportState | None,
    **kwargs: object,
) -> HandleResult:
    services = context.services
    return await handle_report(
        services.database.uow(),
        actor,
        report_id,
        action,
        seen_state=seen,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        notices=notices_of(context),
        deadlines=deadline_rules(services),
        desk_notices=desk_notices_of(services),
        **kwargs,  # type: ignore[arg-type]
    )


async def reason(update: Update, context: BotContext) -> None:
    """A rejection reason chosen: a note may follow (typed), or "Reject now"."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    report_id, seen, why = (
        button.int_arg(0),
        CODE_STATE.get(button.args[1]),
        RejectReason(button.args[2]),
    )
    if seen is None:
        await acknowledge(query, context.t("reports.card.stale"), alert=True)
        return
    actor = await actor_of(context, user.id)
    started = await start_note(
        services.database.uow(),
        actor,
        report_id,
        ReportAction.REJECT,
        seen_state=seen,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        message_id=query.message.message_id,
        reason=why,
    )
    if await answer_refusal(update, context, actor, started, ReportAction.REJECT):
        return
    assert started.report is not None
    await acknowledge(query)
    screen = cards_of(context).note_prompt(started.report, ReportAction.REJECT, why)
    await edit(context, query.message.chat.id, query.message.message_id, screen)


async def reject_now(update: Update, context: BotContext) -> None:
    """ "Reject now": rejected with the chosen reason and no note."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    button = pressed(context)
    seen = CODE_STATE.get(button.args[1])
    actor = await actor_of(context, user.id)
    result = await handle(
        update,
        context,
        actor,
        button.int_arg(0),
        ReportAction.REJECT,
        seen,
        reason=RejectReason(button.args[2]),
    )
    if not await answer_refusal(update, context, actor, result, ReportAction.REJECT):
        await done(update, context, result)


async def target(update: Update, context: BotContext) -> None:
    """A reassign target chosen: the report goes to that desk, waiting to be accepted."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    button = pressed(context)
    seen = CODE_STATE.get(button.args[1])
    kind = CODE_KIND.get(button.args[2])
    actor = await actor_of(context, user.id)
    if kind is None:
        await acknowledge(query, context.t("reports.card.stale"), alert=True)
        return
    result = await handle(
        update,
        context,
        actor,
        button.int_arg(0),
        ReportAction.REASSIGN,
        seen,
        target=Assignee(kind, button.args[3]),
    )
    if not await answer_refusal(update, context, actor, result, ReportAction.REASSIGN):
        await done(update, context, result, alert=unheld_desk(context, result))


def unheld_desk(context: BotContext, result: HandleResult) -> str | None:
    """When the chosen desk has nobody in the bot, say so: nobody would see the report
    there until its deadline's escalation."""
    if result.desk != () or result.report is None:
        return None
    desk = cards_of(context).desk_label(result.report.assignee)
    return context.t("reports.card.desk_unheld", desk=desk)


async def card(update: Update, context: BotContext) -> None:
    """Back to the card (from reasons, targets or a note), or the card from a notice."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    flow = await active_flow(services.database.uow(read_only=True), user.id)
    if (
        flow is not None
        and flow.name == NOTE_FLOW
        and flow.accepts_press_on(query.message.message_id)
    ):
        await cancel_flow(services.database.uow(), user.id, services.clock.now())
    actor = await actor_of(context, user.id)
    checked = await check_action(
        services.database.uow(read_only=True),
        actor,
        pressed(context).int_arg(0),
        None,
        None,
        services.places,
    )
    if await answer_refusal(update, context, actor, checked, None) or checked.report is None:
        return
    await acknowledge(query)
    screen = await card_screen(context, checked.report, checked.roles)
    await edit(context, query.message.chat.id, query.message.message_id, screen)


# -- the worker's typed note -------------------------------------------------------------


NOTE_PROBLEM: Final = {
    HandleOutcome.NOTE_EMPTY: N_("reports.card.note_empty"),
    HandleOutcome.NOTE_TOO_LONG: N_("reports.card.note_too_long"),
}


async def note_done(
    update: Update,
    context: BotContext,
    actor: Actor,
    flow: Flow,
    result: HandleResult,
    action: ReportAction,
) -> None:
    """A typed note came to an outcome: the new card below, or what to do instead."""
    message = update.effective_message
    if message is None:
        return
    if result.outcome in NOTE_PROBLEM:
        await message.reply_text(context.t(NOTE_PROBLEM[result.outcome], max=1000))
        return
    if result.outcome in (HandleOutcome.DONE, HandleOutcome.REPLAYED) and result.report is not None:
        context.services.sender.wake()
        screen = await card_screen(context, result.report, result.roles or frozenset())
        await send(context, message.chat_id, screen)
    elif result.outcome is HandleOutcome.REFUSED:
        await reply(message, refused_text(context, actor, result))
        await cancel_flow(
            context.services.database.uow(), actor.user_id, context.services.clock.now()
        )
    else:
        await message.reply_text(stale_text(context, actor, action, result.report))
        await cancel_flow(
            context.services.database.uow(), actor.user_id, context.services.clock.now()
        )
        if result.report is not None:
            await send(
                context, message.chat_id, await card_screen(context, result.report, result.roles)
            )
    if flow.message_id is not None:
        await flows.retire_keyboard(context, message.chat_id, flow.message_id)


async def note_text(update: Update, context: BotContext, flow: Flow) -> None:
    """The typed note of the worker's note flow: the action is taken with it."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    draft = NoteDraft.of(flow)
    if draft is None:
        await message.reply_text(context.t("reports.card.not_found"))
        return
    if flow.step == ALBUM_STEP and flow.last_update_id != update.update_id:
        # The album's wait is over: this text is not a note (the action was taken).
        services = context.services
        await end_album(services.database.uow(), flow.user_id, services.clock.now())
        await message.reply_text(context.t("common.text.no_flow"))
        return
    actor = await actor_of(context, flow.user_id)
    result = await handle(
        update,
        context,
        actor,
        draft.report_id,
        draft.action,
        draft.seen_state,
        note=message.text,
        photos=draft.photos
        if draft.action in (ReportAction.PROGRESS, ReportAction.RESOLVE)
        else (),
        reason=draft.reason,
    )
    await note_done(update, context, actor, flow, result, draft.action)


async def note_photo(update: Update, context: BotContext, flow: Flow) -> None:
    """A photo in the note flow. Without a caption it is kept (up to ten, an album's
    each) until the note is typed; with one, the caption is the note and every kept
    photo goes with it; the album's later photos join that same action. Only
    progress and resolution take photos."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    draft = NoteDraft.of(flow)
    if draft is None or draft.action not in (ReportAction.PROGRESS, ReportAction.RESOLVE):
        await message.reply_text(context.t("reports.card.photo_not_here"))
        return
    photo = largest_photo(message.photo).file_id
    services = context.services
    now = services.clock.now()
    if flow.step == ALBUM_STEP and flow.last_update_id != update.update_id:
        added = await add_album_photo(
            services.database.uow(),
            flow.user_id,
            message.media_group_id,
            photo,
            now,
            update.update_id,
        )
        if added is KeptPhoto.KEPT:
            await message.reply_text(context.t("reports.card.album_photo_added"))
        elif added is KeptPhoto.FULL:
            await message.reply_text(context.t("reports.card.photos_full", max=MAX_NOTE_PHOTOS))
        else:
            await message.reply_text(context.t("common.photo.not_expected"))
        return
    if message.caption:
        actor = await actor_of(context, flow.user_id)
        result = await handle(
            update,
            context,
            actor,
            draft.report_id,
            draft.action,
            draft.seen_state,
            note=message.caption,
            photos=[*draft.photos, photo][-MAX_NOTE_PHOTOS:],
            album=message.media_group_id,
        )
        await note_done(update, context, actor, flow, result, draft.action)
        return
    kept = await keep_note_photo(
        services.database.uow(), flow.user_id, photo, now, update.update_id
    )
    if kept is KeptPhoto.FULL:
        await message.reply_text(context.t("reports.card.photos_full", max=MAX_NOTE_PHOTOS))
    elif kept is KeptPhoto.KEPT:
        await message.reply_text(context.t("reports.card.photo_kept"))
    else:
        await message.reply_text(context.t("common.photo.not_expected"))


async def note_document(update: Update, context: BotContext, flow: Flow) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(context.t("reports.card.photo_not_here"))


# -- the reporter's answer ---------------------------------------------------------------


async def answer(update: Update, context: BotContext) -> None:
    """ "Answer" under a question: the reporter's next text or photos go to the report."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    started = await start_answer(
        services.database.uow(),
        actor,
        pressed(context).int_arg(0),
        services.places,
        services.clock.now(),
        update.update_id,
        None,
    )
    if started.outcome is HandleOutcome.NOT_FOUND or started.report is None:
        await acknowledge(query, context.t("reports.card.not_found"), alert=True)
        return
    if started.outcome is HandleOutcome.REFUSED:
        await acknowledge(query, context.t("reports.card.not_yours"), alert=True)
        return
    if started.outcome is HandleOutcome.STALE:
        await acknowledge(query, context.t("reports.thread.closed"), alert=True)
        await flows.retire_keyboard(context, query.message.chat.id, query.message.message_id)
        return
    await acknowledge(query)
    assert started.flow is not None
    prompt = answer_prompt(context, started.report)
    await flows.show_started(context, query.message.chat.id, started.flow, prompt)


def answer_prompt(context: BotContext, report: Report, notice: str | None = None) -> Screen:
    painter = painter_of(context)
    text = context.t("reports.thread.prompt", number=str(report.number))
    if notice:
        text = f"{notice}\n{text}"
    keyboard = InlineKeyboardMarkup([[painter.button(context.t("reports.thread.done"), DONE)]])
    return Screen(text, keyboard)


async def answered(update: Update, context: BotContext, flow: Flow, result: HandleResult) -> None:
    message = update.effective_message
    if message is None:
        return
    if result.outcome in NOTE_PROBLEM:
        await message.reply_text(context.t(NOTE_PROBLEM[result.outcome], max=1000))
        return
    if result.outcome in (HandleOutcome.DONE, HandleOutcome.REPLAYED) and result.report is not None:
        context.services.sender.wake()
        screen = answer_prompt(context, result.report, context.t("reports.thread.added"))
        await flows.show_below(context, message.chat_id, flow, flow, screen)
        return
    services = context.services
    await cancel_flow(services.database.uow(), flow.user_id, services.clock.now())
    key = (
        "reports.card.not_yours"
        if result.outcome is HandleOutcome.REFUSED
        else "reports.thread.closed"
    )
    await message.reply_text(context.t(key))


async def answer_text(update: Update, context: BotContext, flow: Flow) -> None:
    """The reporter's typed answer."""
    message = update.effective_message
    report_id = answer_report_id(flow)
    if message is None or message.text is None or report_id is None:
        return
    services = context.services
    actor = await actor_of(context, flow.user_id)
    result = await answer_report(
        services.database.uow(),
        actor,
        report_id,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        notices=notices_of(context),
        text=message.text,
    )
    await answered(update, context, flow, result)


async def answer_photo(update: Update, context: BotContext, flow: Flow) -> None:
    """A photo answering the question (its caption, if any, goes with it)."""
    message = update.effective_message
    report_id = answer_report_id(flow)
    if message is None or not message.photo or report_id is None:
        return
    largest = largest_photo(message.photo)
    services = context.services
    actor = await actor_of(context, flow.user_id)
    result = await answer_report(
        services.database.uow(),
        actor,
        report_id,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        notices=notices_of(context),
        text=message.caption,
        photos=[largest.file_id],
    )
    await answered(update, context, flow, result)


async def answer_document(update: Update, context: BotContext, flow: Flow) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(context.t("reports.thread.photo_or_text"))


async def answer_done(update: Update, context: BotContext) -> None:
    """ "Done": the answer is complete; the flow ends."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    flow = await active_flow(services.database.uow(read_only=True), user.id)
    if flow is None or flow.name != ANSWER_FLOW:
        await acknowledge(query, context.t("common.button.stale"), alert=True)
        await flows.retire_keyboard(context, query.message.chat.id, query.message.message_id)
        return
    await cancel_flow(services.database.uow(), user.id, services.clock.now())
    await acknowledge(query)
    await edit(
        context,
        query.message.chat.id,
        query.message.message_id,
        Screen(context.t("reports.thread.thanks")),
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("queue", queue, private))
    application.add_handler(on_button(act, ACT))
    application.add_handler(on_button(reason, REASON))
    application.add_handler(on_button(reject_now, REJECT_NOW))
    application.add_handler(on_button(target, TARGET))
    application.add_handler(on_button(card, CARD))
    application.add_handler(on_button(more, MORE))
    application.add_handler(on_button(flows.cancel_button, CANCEL))
    application.add_handler(on_button(answer, ANSWER))
    application.add_handler(on_button(answer_done, DONE))
    flows.register_flow(
        NOTE_FLOW,
        on_text=note_text,
        resume_hint=NOTE_RESUME,
        on_photo=note_photo,
        on_document=note_document,
        takes_replays=True,
    )
    flows.register_flow(
        ANSWER_FLOW,
        on_text=answer_text,
        resume_hint=ANSWER_RESUME,
        on_photo=answer_photo,
        on_document=answer_document,
    )
