"""After resolution: the reporter's "Is it fixed?", rating and comment, and the expiry job.

Each handler parses the press or text, calls a use case of
:mod:`civic.reports_feedback` (which commits before anything is sent) and shows
the outcome through :mod:`handlers.reports_feedback_views`. The Yes/No message
(the resolution notice, or an on-behalf report's card) is edited in place: to
the rating after "Yes", to "what is still wrong?" after "No".
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

from telegram import Message, Update
from telegram.ext import Application

from bot.context import BotContext, Services
from bot.i18n import N_
from civic.flows import Flow, record_flow_message
from civic.jobs import DueJob
from civic.reports_expiry import EXPIRE_JOB
from civic.reports_feedback import (
    FEEDBACK_FLOW,
    CommentKind,
    FeedbackDraft,
    FeedbackOutcome,
    FeedbackResult,
    answer_fixed,
    comment_resolution,
    expire_resolution,
    rate_resolution,
    skip_comment,
    standing_question,
)
from civic.reports_handling import MAX_NOTE_CHARS
from civic.roles import Actor
from handlers import flows
from handlers.buttons import acknowledge, on_button, pressed
from handlers.flows import edit_flow, send
from handlers.permissions import actor_of
from handlers.reports_feedback_views import (
    ASK,
    COMMENT_KEPT,
    RATE,
    SKIP,
    FeedbackNotices,
    comment_prompt,
    fixed_answer,
    question,
    rating_prompt,
    thanks,
)
from handlers.reports_queue import cards_of, deadline_rules, notices_of
from handlers.reports_queue_views import FIXED, OutboxNotices
from handlers.reports_reminders import desk_notices_of
from handlers.residents_views import Screen

if TYPE_CHECKING:
    from scheduler.registry import JobRegistry
    from storage.uow import SqlUnitOfWork


COMMENT_RESUME: Final = N_("reports.feedback.comment_resume")


def feedback_notices(context: BotContext) -> FeedbackNotices:
    return FeedbackNotices(notices_of(context))


async def show(
    update: Update, context: BotContext, screen: Screen, flow: Flow | None = None
) -> None:
    """Show ``screen`` on the pressed message; a photo notice (a resolution with its
    photo) has a caption, not a text: it keeps its photo, loses its buttons, and the
    screen comes below it (the flow, if any, goes on there, as when the edit had to
    send a new message)."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    chat_id, message_id = query.message.chat.id, query.message.message_id
    if isinstance(query.message, Message) and query.message.text is not None:
        await edit_flow(context, flow, chat_id, message_id, screen)
        return
    await flows.retire_keyboard(context, chat_id, message_id)
    sent = await send(context, chat_id, screen)
    if flow is not None:
        services = context.services
        await record_flow_message(
            services.database.uow(), flow.user_id, flow.name, sent.message_id, services.clock.now()
        )


REFUSAL_ALERTS: Final = {
    FeedbackOutcome.NOT_FOUND: (N_("reports.card.not_found"), True),
    FeedbackOutcome.REFUSED: (N_("reports.card.not_yours"), False),
    FeedbackOutcome.STALE: (N_("reports.feedback.stale"), True),
    FeedbackOutcome.ALREADY: (N_("reports.feedback.already_rated"), False),
}
"""A press that came to nothing: its alert, and whether the message's buttons go."""


async def refused(
    update: Update, context: BotContext, result: FeedbackResult, *, keep_buttons: bool = False
) -> bool:
    """Answer a press that came to nothing; ``True`` if so (the caller shows nothing more).

    ``keep_buttons``: the message holds other buttons that still work (``/myreports``).
    """
    query = update.callback_query
    if query is None or query.message is None:
        return True
    alert = REFUSAL_ALERTS.get(result.outcome)
    if alert is None:
        return False
    text, retire = alert
    await acknowledge(query, context.t(text), alert=True)
    if retire and not keep_buttons:
        await flows.retire_keyboard(context, query.message.chat.id, query.message.message_id)
    return True


async def fixed(update: Update, context: BotContext) -> None:
    """ "Yes, it is fixed" (closed; then the rating) or "No" (reopened; then what is wrong)."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    report_id, resolve_event_id = button.int_arg(0), button.int_arg(1)
    yes = fixed_answer(button.args)
    if yes is None:
        await acknowledge(query, context.t("reports.feedback.stale"), alert=True)
        return
    actor = await actor_of(context, user.id)
    message_id = query.message.message_id
    result = await answer_fixed(
        services.database.uow(),
        actor,
        report_id,
        resolve_event_id,
        yes,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        notices=feedback_notices(context),
        deadlines=deadline_rules(services),
        message_id=message_id,
        desk_notices=desk_notices_of(services),
    )
    if await refused(update, context, result) or result.report is None:
        return
    await acknowledge(query)
    services.sender.wake()
    cards = cards_of(context)
    if result.fixed:
        screen = rating_prompt(cards, result.report, resolve_event_id)
    else:
        screen = comment_prompt(cards, result.report, resolve_event_id, CommentKind.WRONG)
    await show(update, context, screen, result.flow)


async def rate(update: Update, context: BotContext) -> None:
    """A rating 1-5: kept with the "Yes"; then an optional comment."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    rating = button.int_arg(2)
    if not 1 <= rating <= 5:
        await acknowledge(query, context.t("reports.feedback.stale"), alert=True)
        return
    actor = await actor_of(context, user.id)
    message_id = query.message.message_id
    result = await rate_resolution(
        services.database.uow(),
        actor,
        button.int_arg(0),
        button.int_arg(1),
        rating,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        message_id=message_id,
    )
    if await refused(update, context, result) or result.report is None:
        return
    await acknowledge(query)
    cards = cards_of(context)
    screen = comment_prompt(cards, result.report, button.int_arg(1), CommentKind.FIXED, rating)
    await show(update, context, screen, result.flow)


async def skip(update: Update, context: BotContext) -> None:
    """ "Skip": no comment on the resolution the button names; a second tap shows the
    thanks again."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    if len(button.args) != 2:  # a Skip from before it named its resolution
        await acknowledge(query, context.t("common.button.stale"), alert=True)
        await flows.retire_keyboard(context, chat_id, message_id)
        return
    outcome = await skip_comment(
        services.database.uow(),
        user.id,
        button.int_arg(0),
        button.int_arg(1),
        services.clock.now(),
    )
    if outcome is FeedbackOutcome.STALE:
        await acknowledge(query, context.t("common.button.stale"), alert=True)
        await flows.retire_keyboard(context, chat_id, message_id)
        return
    await acknowledge(query)
    await show(update, context, thanks(cards_of(context)))


async def comment_text(update: Update, context: BotContext, flow: Flow) -> None:
    """The typed comment: kept with the answer (and, when still wrong, passed on)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    services = context.services
    actor: Actor = await actor_of(context, flow.user_id)
    result = await comment_resolution(
        services.database.uow(),
        actor,
        flow,
        message.text,
        places=services.places,
        now=services.clock.now(),
        update_id=update.update_id,
        notices=feedback_notices(context),
    )
    if result.outcome is FeedbackOutcome.COMMENT_EMPTY:
        await message.reply_text(context.t("reports.feedback.comment_empty", max=MAX_NOTE_CHARS))
        return
    if result.outcome is FeedbackOutcome.COMMENT_TOO_LONG:
        await message.reply_text(context.t("reports.feedback.comment_too_long", max=MAX_NOTE_CHARS))
        return
    if result.outcome is FeedbackOutcome.REFUSED:
        await message.reply_text(context.t("reports.card.not_yours"))
        return
    if result.outcome is FeedbackOutcome.NOT_FOUND:
        await message.reply_text(context.t("reports.card.not_found"))
        return
    services.sender.wake()
    draft = FeedbackDraft.of(flow)
    kind = draft.kind if draft is not None else CommentKind.FIXED
    passed_on = result.event is not None or result.outcome is FeedbackOutcome.REPLAYED
    if kind is CommentKind.WRONG and not passed_on:
        # Closed meanwhile: the comment is kept with the answer, but there is no thread.
        await message.reply_text(context.t("reports.feedback.thanks"))
    else:
        await message.reply_text(context.t(COMMENT_KEPT[kind]))
    if flow.message_id is not None:
        await flows.retire_keyboard(context, message.chat_id, flow.message_id)


async def ask(update: Update, context: BotContext) -> None:
    """ "Is it fixed?" asked again from ``/myreports`` (the resolution's notice may never
    have arrived): a new message with Yes/No about the standing resolution."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    result = await standing_question(
        services.database.uow(read_only=True),
        actor,
        pressed(context).int_arg(0),
        places=services.places,
    )
    # An alert only: the /myreports message holds the other reports' buttons too.
    if (
        await refused(update, context, result, keep_buttons=True)
        or result.report is None
        or result.event is None
    ):
        return
    await acknowledge(query)
    assert result.event.id is not None
    await send(
        context, query.message.chat.id, question(cards_of(context), result.report, result.event.id)
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(on_button(fixed, FIXED))
    application.add_handler(on_button(ask, ASK))
    application.add_handler(on_button(rate, RATE))
    application.add_handler(on_button(skip, SKIP))
    flows.register_flow(
        FEEDBACK_FLOW,
        on_text=comment_text,
        resume_hint=COMMENT_RESUME,
        takes_replays=True,
    )


def register_jobs(jobs: JobRegistry, services: Services) -> None:
    """``reports.expire``: close a resolution nobody answered, and tell the reporter."""
    notices = FeedbackNotices(OutboxNotices(services.catalogs, services.buttons, services.places))

    async def expire(uow: SqlUnitOfWork, job: DueJob, now: datetime) -> None:
        await expire_resolution(
            uow,
            int(job.payload["report_id"]),
            int(job.payload["resolve_event_id"]),
            now,
            notices,
        )

    jobs.add(EXPIRE_JOB, expire)
