"""Filing reports in chat: ``/report`` (its steps, buttons, photos, voice notes, pins) and
``/myreports``.

Each handler parses the update, calls a use case of :mod:`civic.reports_filing`
(which commits before anything is sent) and shows the outcome through
:mod:`handlers.reports_views`. The flow advances by editing its message; typed
text, photos, voice notes and pins move it to a new message below them
(:func:`handlers.flows.show_below`). Only the person filing is answered here;
everyone else hears of a report through :mod:`civic.reports_notices`.
"""

from __future__ import annotations

from typing import Final

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, filters

from bot.config.reports import (
    deadline_policy_from_config,
    routing_rules_from_config,
    working_calendar_from_config,
)
from bot.context import BotContext, Services
from bot.i18n import N_
from civic.flows import Flow, active_flow
from civic.reports_filing import (
    FILE,
    TEXT_STEPS,
    Answer,
    CaptionedPhoto,
    ChooseAnonymous,
    ChooseCategory,
    ChooseCompound,
    ChooseWho,
    ClearPhotos,
    EditStep,
    EnterDescription,
    EnterName,
    EnterPhone,
    FileAnyway,
    FileOutcome,
    FileResult,
    FilingPolicy,
    GiveLocation,
    GivePhoto,
    GiveVoice,
    GoBack,
    PhotosDone,
    StartOutcome,
    Step,
    SubmitReport,
    SupportReport,
    UseHomePlace,
    answer_report,
    current,
    my_reports,
    offered_reports,
    start_report,
)
from handlers import flows
from handlers.buttons import acknowledge, on_button, pressed
from handlers.flows import edit_flow
from handlers.permissions import actor_of
from handlers.reports_feedback_views import ask_keyboard
from handlers.reports_names import largest_photo
from handlers.reports_reminders import desk_notices_of
from handlers.reports_views import (
    ANONYMOUS,
    ANYWAY,
    BACK,
    CANCEL,
    EDIT,
    HOME,
    PAGE,
    PHOTOS_CLEAR,
    PHOTOS_DONE,
    PICK_CATEGORY,
    PICK_COMPOUND,
    STEP_ACTIONS,
    SUBMIT,
    SUPPORT,
    WHO,
    my_reports_text,
    refusal_notice,
    step_screen,
    submitted_screen,
    supported_screen,
)
from handlers.residents import painter_of
from handlers.residents_views import Screen

RESUME: Final = N_("reports.file.resume")
CLOSED: Final = N_("reports.file.closed")

NOT_AT_STEP: Final = {
    Step.PHOTOS: N_("reports.file.send_photo"),
    Step.LOCATION: N_("reports.file.send_location"),
}
"""What text at a step that wants something else is told (elsewhere: use the buttons)."""


def filing_policy(services: Services) -> FilingPolicy:
    """The configuration's filing rules (the working calendar is built once, shared with
    handling: :func:`bot.config.reports.working_calendar_from_config`)."""
    config = services.settings.config
    return FilingPolicy(
        rules=routing_rules_from_config(config),
        deadlines=deadline_policy_from_config(config),
        calendar=working_calendar_from_config(config),
        description_max_chars=config.reports.description_max_chars,
        max_photos=config.reports.max_photos,
        duplicate_window_days=config.reports.duplicate_window_days,
    )


async def flow_screen(
    context: BotContext, flow: Flow, *, notice: str | None = None, page: int | None = None
) -> Screen:
    services = context.services
    policy = filing_policy(services)
    step, draft = current(flow, services.places, policy)
    if step is Step.DONE:
        return Screen(context.t(CLOSED))
    offered = []
    if step is Step.DUPLICATE:
        async with services.database.uow(read_only=True) as uow:
            offered = await offered_reports(uow, draft)
    return step_screen(
        painter_of(context), policy, step, draft, offered=offered, notice=notice, page=page
    )


# -- /report ----------------------------------------------------------------------------


async def report(update: Update, context: BotContext) -> None:
    """Begin a report, or resume the draft left with /cancel or by a crash."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    result = await start_report(
        services.database.uow(),
        actor,
        services.places,
        filing_policy(services),
        services.clock.now(),
        update.update_id,
    )
    if result.outcome is StartOutcome.NOT_REGISTERED or result.flow is None:
        await message.reply_text(context.t("reports.file.not_registered"))
        return
    notice = context.t("reports.file.resumed") if result.outcome is StartOutcome.RESUMED else None
    screen = await flow_screen(context, result.flow, notice=notice)
    await flows.show_started(
        context, message.chat_id, result.flow, screen, result.previous_message_id
    )


def answer_of(action: str, args: tuple[str, ...]) -> Answer:
    """The step answer a verified button carries (its data was built by our views)."""
    arg = args[0] if args else ""
    answers: dict[str, Answer] = {
        ANYWAY: FileAnyway(),
        PHOTOS_DONE: PhotosDone(),
        PHOTOS_CLEAR: ClearPhotos(),
        HOME: UseHomePlace(),
        SUBMIT: SubmitReport(),
    }
    if action in answers:
        return answers[action]
    if action == WHO:
        return ChooseWho(arg == "1")
    if action == PICK_COMPOUND:
        return ChooseCompound(arg)
    if action == PICK_CATEGORY:
        return ChooseCategory(arg)
    if action == SUPPORT:
        return SupportReport(int(arg))
    if action == ANONYMOUS:
        return ChooseAnonymous(arg == "1")
    if action == BACK:
        return GoBack(Step(arg))
    if action == EDIT:
        return EditStep(Step(arg))
    raise ValueError(f"not a report step action: {action!r}")


async def apply(
    update: Update, context: BotContext, user_id: int, answer: Answer, message_id: int | None
) -> FileResult:
    services = context.services
    return await answer_report(
        services.database.uow(),
        await actor_of(context, user_id),
        answer,
        services.places,
        filing_policy(services),
        services.clock.now(),
        update.update_id,
        message_id,
        desk_notices=desk_notices_of(services),
    )


PRESS_NOTICES: Final = {
    FileOutcome.UNKNOWN_CATEGORY: N_("reports.file.unknown_category"),
    FileOutcome.ALREADY_SUPPORTED: N_("reports.file.already_supported"),
    FileOutcome.DUPLICATE_GONE: N_("reports.file.duplicate_gone"),
    FileOutcome.NOT_ALLOWED: N_("reports.file.not_allowed"),
}
"""Press outcomes told as an alert over the message (which stays where it was)."""


async def result_screen(
    context: BotContext, result: FileResult, *, notice: str | None = None
) -> Screen:
    """What the flow's message shows after an answer."""
    painter = painter_of(context)
    report = result.report
    if report is not None and result.outcome in (FileOutcome.SUBMITTED, FileOutcome.REPLAYED):
        if result.draft.supported_id == report.id:
            return supported_screen(painter, report)
        return submitted_screen(painter, report)
    if report is not None and result.outcome is FileOutcome.SUPPORTED:
        return supported_screen(painter, report)
    if result.outcome is FileOutcome.NOT_REGISTERED:
        return Screen(context.t("reports.file.not_registered"))
    if result.flow is None or result.flow.finished:
        return Screen(context.t(CLOSED))
    if result.outcome in PRESS_NOTICES and notice is None:
        notice = _notice(context, result)
    return await flow_screen(context, result.flow, notice=notice)


def _notice(context: BotContext, result: FileResult) -> str:
    number = str(result.report.number) if result.report is not None else ""
    return context.t(PRESS_NOTICES[result.outcome], number=number)


async def answer_button(update: Update, context: BotContext) -> None:
    """A step answered with a button: move the flow and show where it is now."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    button = pressed(context)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    result = await apply(
        update, context, user.id, answer_of(button.action, button.args), message_id
    )
    if result.outcome in PRESS_NOTICES:
        await acknowledge(query, _notice(context, result), alert=True)
    elif await flows.acknowledge_step(query, context, result.outcome.value, closed=CLOSED):
        return
    await edit_flow(context, result.flow, chat_id, message_id, await result_screen(context, result))


async def turn_page(update: Update, context: BotContext) -> None:
    """‹ › under the categories or compounds: the same step, another page."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    button = pressed(context)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    flow = await active_flow(context.services.database.uow(read_only=True), user.id)
    if flow is None or flow.name != FILE or not flow.accepts_press_on(message_id):
        await acknowledge(query, context.t("common.button.stale"), alert=True)
        await flows.retire_keyboard(context, chat_id, message_id)
        return
    step, _ = current(flow, context.services.places, filing_policy(context.services))
    if step.value != button.args[0]:
        await acknowledge(query, context.t("residents.flow.moved_on"))
        return
    await acknowledge(query)
    screen = await flow_screen(context, flow, page=button.int_arg(1))
    await edit_flow(context, flow, chat_id, message_id, screen)


async def moved_below(
    update: Update, context: BotContext, flow: Flow, result: FileResult, notice: str | None
) -> None:
    """Text, a photo, a voice note or a pin: the flow goes on in a new message under it."""
    message = update.effective_message
    if message is None:
        return
    moved = result.flow or flow
    shown = FileResult(result.outcome, moved, result.report, result.routed)
    screen = await result_screen(context, shown, notice=notice)
    await flows.show_below(context, message.chat_id, flow, moved, screen)


def step_now(context: BotContext, flow: Flow) -> Step:
    return current(flow, context.services.places, filing_policy(context.services))[0]


async def report_text(update: Update, context: BotContext, flow: Flow) -> None:
    """Text in the flow: a name, a phone or the description; elsewhere what to do instead."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    step = step_now(context, flow)
    notice: str | None = None
    text = message.text
    if step in TEXT_STEPS:
        answers: dict[Step, Answer] = {
            Step.NAME: EnterName(text),
            Step.PHONE: EnterPhone(text),
            Step.DESCRIPTION: EnterDescription(text),
        }
        result = await apply(update, context, flow.user_id, answers[step], None)
        if result.outcome.refused_input:
            notice = refusal_notice(
                context.t, filing_policy(context.services), result.outcome, text
            )
    else:
        result = FileResult(FileOutcome.WRONG_STEP, flow)
        notice = context.t(NOT_AT_STEP.get(step, N_("residents.flow.use_buttons")))
    await moved_below(update, context, flow, result, notice)


async def report_photo(update: Update, context: BotContext, flow: Flow) -> None:
    """A photo at the photos step (the largest size is kept, a caption joins the
    description); a captioned photo at the description step gives both; elsewhere said
    when photos come."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    notice: str | None = None
    policy = filing_policy(context.services)
    step = step_now(context, flow)
    file_id = largest_photo(message.photo).file_id
    caption = message.caption if message.caption and message.caption.strip() else None
    answer: Answer | None = None
    if step is Step.PHOTOS:
        answer = GivePhoto(file_id, caption)
    elif step is Step.DESCRIPTION and caption is not None:
        answer = CaptionedPhoto(file_id, caption)
    if answer is not None:
        result = await apply(update, context, flow.user_id, answer, None)
        if result.outcome.refused_input:
            notice = refusal_notice(context.t, policy, result.outcome, caption or "")
        elif result.outcome in CAPTION_NOTICES:
            notice = context.t(CAPTION_NOTICES[result.outcome], max=policy.description_max_chars)
    else:
        result = FileResult(FileOutcome.WRONG_STEP, flow)
        notice = context.t("reports.file.photo_not_now")
    await moved_below(update, context, flow, result, notice)


CAPTION_NOTICES: Final = {
    FileOutcome.CAPTION_ADDED: N_("reports.file.caption_added"),
    FileOutcome.CAPTION_UNUSED: N_("reports.file.caption_unused"),
    FileOutcome.CAPTION_DESCRIBES: N_("reports.file.caption_describes"),
}
"""What a photo's caption came to, said above the next step so nothing is dropped silently."""


async def report_voice(update: Update, context: BotContext, flow: Flow) -> None:
    """A voice note at the description step stands for the description (kept as a file)."""
    message = update.effective_message
    if message is None or message.voice is None:
        return
    notice: str | None = None
    if step_now(context, flow) is Step.DESCRIPTION:
        answer = GiveVoice(message.voice.file_id, message.caption)
        result = await apply(update, context, flow.user_id, answer, None)
        if result.outcome.refused_input:
            notice = refusal_notice(
                context.t, filing_policy(context.services), result.outcome, message.caption or ""
            )
    else:
        result = FileResult(FileOutcome.WRONG_STEP, flow)
        notice = context.t("reports.file.voice_not_now")
    await moved_below(update, context, flow, result, notice)


async def report_location(update: Update, context: BotContext, flow: Flow) -> None:
    """A location pin at the location step says where the problem is."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    notice: str | None = None
    if step_now(context, flow) is Step.LOCATION:
        pin = GiveLocation(message.location.latitude, message.location.longitude)
        result = await apply(update, context, flow.user_id, pin, None)
        if result.outcome.refused_input:
            notice = refusal_notice(context.t, filing_policy(context.services), result.outcome, "")
    else:
        result = FileResult(FileOutcome.WRONG_STEP, flow)
        notice = context.t("reports.file.location_not_now")
    await moved_below(update, context, flow, result, notice)


async def report_document(update: Update, context: BotContext, flow: Flow) -> None:
    """Files are not taken: a picture is sent as a photo (staff see it in the chat)."""
    result = FileResult(FileOutcome.WRONG_STEP, flow)
    await moved_below(update, context, flow, result, context.t("reports.file.document_refused"))


# -- /myreports -------------------------------------------------------------------------


async def myreports(update: Update, context: BotContext) -> None:
    """The person's reports, newest first: number, category, state, last update."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    mine = await my_reports(context.services.database.uow(read_only=True), user.id)
    if not mine.reports:
        hint = context.services.profiles.get(user.id)
        if hint is None or not hint.registered:
            await message.reply_text(context.t("reports.file.not_registered"))
            return
    painter = painter_of(context)
    text = my_reports_text(painter, mine.reports, mine.more)
    await message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=ask_keyboard(painter, mine.reports)
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("report", report, private))
    application.add_handler(CommandHandler("myreports", myreports, private))
    application.add_handler(on_button(answer_button, *STEP_ACTIONS))
    application.add_handler(on_button(turn_page, PAGE))
    application.add_handler(on_button(flows.cancel_button, CANCEL))
    flows.register_flow(
        FILE,
        on_text=report_text,
        resume_hint=RESUME,
        on_photo=report_photo,
        on_document=report_document,
        on_voice=report_voice,
        on_location=report_location,
    )
