"""Residents in chat: ``/start`` (onboarding, deep links), ``/me``, ``/lang``, ``/help``.

Each handler parses the update, calls a use case of :mod:`civic.residents`
(which commits the flow row before anything is sent) and shows the outcome
through :mod:`handlers.residents_views`. A flow advances by editing the message
it is on; typed text (the unit label) moves it to a new message below the
person's text, and the old message loses its buttons.
"""

from __future__ import annotations

import logging
from typing import Final

from telegram import Update
from telegram.ext import Application, CommandHandler, TypeHandler, filters

from bot.callbacks import Decoded
from bot.context import BotContext, services_of
from bot.html import escape
from bot.i18n import N_
from civic.flows import Flow, active_flow
from civic.register_claims import owner_standing
from civic.residents import (
    MAX_UNIT_CHARS,
    ONBOARD,
    RELOCATE,
    Answer,
    AnswerOutcome,
    AnswerResult,
    ChooseBuilding,
    ChooseCommunity,
    ChooseCompound,
    ChooseLanguage,
    CodeMiss,
    ConfirmProfile,
    DeepLink,
    EnterUnit,
    GiveConsent,
    GoBack,
    KeepUnit,
    LanguageSaved,
    LinkKind,
    ProfileHint,
    RelocationStart,
    SkipUnit,
    StartOutcome,
    Step,
    all_profile_hints,
    answer_flow,
    check_unit,
    current,
    get_resident,
    place_names,
    profile_hint,
    set_language,
    start_onboarding,
    start_relocation,
)
from civic.roles import Action
from handlers import flows, roles
from handlers.buttons import acknowledge, on_button, pressed
from handlers.flows import edit as edit
from handlers.flows import edit_flow as edit_flow
from handlers.flows import send as send
from handlers.register_claims_views import owner_lines
from handlers.residents_views import (
    CHANGE_ADDRESS,
    CHANGE_LANGUAGE,
    CONFIRM_PROFILE,
    FLOW_BACK,
    FLOW_CANCEL,
    FLOW_PAGE,
    GIVE_CONSENT,
    KEEP_UNIT,
    PICK_BUILDING,
    PICK_COMMUNITY,
    PICK_COMPOUND,
    PICK_LANGUAGE,
    SET_LANGUAGE,
    SKIP_BUILDING,
    SKIP_UNIT,
    STEP_ACTIONS,
    Painter,
    Screen,
    help_text,
    language_screen,
    profile_screen,
    registered_screen,
    relocated_screen,
    step_screen,
)

log = logging.getLogger(__name__)

PROFILE_GROUP: Final = -15
"""After flood control (-20), before the button guard (-10): its refusals are in the
reader's language too."""

RESUME_HINTS: Final = {
    ONBOARD: N_("residents.flow.resume_onboard"),
    RELOCATE: N_("residents.flow.resume_relocate"),
}

UNIT_NOTICES: Final = {
    AnswerOutcome.UNIT_EMPTY: N_("residents.onboard.unit_empty"),
    AnswerOutcome.UNIT_TOO_LONG: N_("residents.onboard.unit_too_long"),
    AnswerOutcome.UNIT_INVALID: N_("residents.onboard.unit_invalid"),
}

CODE_MISS_NOTICES: Final = {
    CodeMiss.USED: N_("residents.code.miss_used"),
    CodeMiss.EXPIRED: N_("residents.code.miss_expired"),
    CodeMiss.OTHER_COMPOUND: N_("residents.code.miss_other_compound"),
}
"""Registered through a household code's link, but the code did not verify them: why,
and what to do (spec: bad input gets a clear message)."""


# -- every update: who is this? -------------------------------------------------------------


async def load_profile(update: Update, context: BotContext) -> None:
    """Use the sender's stored language for this update (``/lang``, onboarding)."""
    user = update.effective_user
    if user is None or update.my_chat_member is not None or update.chat_member is not None:
        return
    services = context.services
    hint = services.profiles.get(user.id)
    if hint is None:
        hint = await profile_hint(services.database.uow(read_only=True), user.id)
        services.profiles.put(user.id, hint)
    context.prefer_language(hint.language)


async def load_profiles(application: Application) -> None:  # type: ignore[type-arg]
    """Read every stored hint once, so that updates need no read for it (:mod:`bot.profiles`)."""
    services = services_of(application)
    try:
        hints = await all_profile_hints(services.database.uow(read_only=True))
    except Exception:  # the bot works without: each update then reads what it needs
        log.exception("could not load the residents' languages; reading them per update")
        return
    services.profiles.load(hints)
    log.info("loaded the languages of %d people", len(hints))


def remember(context: BotContext, user_id: int, language: str, *, registered: bool) -> None:
    """After committing a new language or a registration: use it from now on."""
    context.services.profiles.put(user_id, ProfileHint(language, registered))
    context.prefer_language(language)


# -- showing screens -----------------------------------------------------------------------------


def painter_of(context: BotContext) -> Painter:
    services = context.services
    return Painter(context.t, services.buttons, services.places)


def link_notice(context: BotContext, link: DeepLink) -> str | None:
    """What to say about a deep link that named no place we know."""
    if link.kind in (LinkKind.UNKNOWN, LinkKind.MALFORMED):
        return context.t("residents.start.unknown_code", code=escape(link.payload))
    if link.replaced:
        return context.t("residents.start.code_replaced")
    return None


def joined(*notices: str | None) -> str | None:
    parts = [n for n in notices if n]
    return "\n".join(parts) if parts else None


async def flow_screen(
    context: BotContext, flow: Flow, *, notice: str | None = None, page: int | None = None
) -> Screen:
    """The screen of a residents flow as it stands (a relocation's summary shows the level
    the new address keeps, so it needs the resident as they are)."""
    services = context.services
    step, draft = current(flow, services.places)
    previous = None
    if flow.name == RELOCATE and step is Step.CONFIRM:
        previous = await get_resident(services.database.uow(read_only=True), flow.user_id)
    return step_screen(
        painter_of(context),
        services.catalogs,
        flow.name,
        step,
        draft,
        notice=notice,
        page=page,
        previous=previous,
    )


# -- /start -------------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """Begin or resume onboarding (a deep link pre-selects a place), or greet a resident."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    payload = " ".join(context.args or ()) or None
    result = await start_onboarding(
        services.database.uow(),
        user.id,
        payload,
        services.places,
        services.clock.now(),
        update.update_id,
        services.location_key,
    )
    notice = link_notice(context, result.link)
    if result.resident is not None:
        remember(context, user.id, result.resident.language, registered=True)
        painter = painter_of(context)
        if result.outcome is StartOutcome.LOCATED:
            notice = joined(notice, context.t("residents.start.located"))
        elif result.outcome is StartOutcome.ELSEWHERE:
            notice = joined(notice, elsewhere_notice(context, result.link))
        else:
            notice = joined(notice, context.t("residents.start.registered"))
        await send(
            context, message.chat_id, profile_screen(painter, result.resident, notice=notice)
        )
        return
    flow = result.flow
    if flow is None:  # pragma: no cover - start_onboarding returns a flow for newcomers
        raise RuntimeError("onboarding without a flow")
    if result.outcome is StartOutcome.RESUMED:
        notice = joined(notice, context.t("residents.start.resumed"))
    elif result.link.understood:
        notice = joined(notice, linked_notice(context, result.link))
    screen = await flow_screen(context, flow, notice=notice)
    await flows.show_started(context, message.chat_id, flow, screen, result.previous_message_id)


def link_place(context: BotContext, link: DeepLink) -> str:
    """The place a deep link names, for a sentence: "Hedong Garden Building 1"."""
    painter = painter_of(context)
    names = place_names(
        context.services.places, link.community_code, link.compound_code, link.building_code
    )
    place = painter.place(names.compound or names.community)
    if names.building is not None:
        place = f"{place} {painter.building(names.building)}"
    return escape(place)


def linked_notice(context: BotContext, link: DeepLink) -> str:
    return context.t("residents.start.linked", place=link_place(context, link))


def elsewhere_notice(context: BotContext, link: DeepLink) -> str:
    return context.t("residents.start.elsewhere", place=link_place(context, link))


# -- steps by button -------------------------------------------------------------------------------


def answer_of(button: Decoded) -> Answer:
    """The step answer a verified button carries (its data was built by our views)."""
    arg = button.args[0] if button.args else ""
    answers: dict[str, Answer] = {
        PICK_LANGUAGE: ChooseLanguage(arg),
        PICK_COMMUNITY: ChooseCommunity(arg),
        PICK_COMPOUND: ChooseCompound(arg),
        PICK_BUILDING: ChooseBuilding(arg),
        SKIP_BUILDING: ChooseBuilding(None),
        SKIP_UNIT: SkipUnit(),
        KEEP_UNIT: KeepUnit(),
        GIVE_CONSENT: GiveConsent(),
        CONFIRM_PROFILE: ConfirmProfile(),
    }
    if button.action == FLOW_BACK:
        return GoBack(Step(arg))
    return answers[button.action]


async def answer_button(update: Update, context: BotContext) -> None:
    """A step answered with a button: move the flow and show where it is now."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    answer = answer_of(pressed(context))
    result = await answer_flow(
        services.database.uow(),
        user.id,
        answer,
        services.places,
        services.clock.now(),
        update.update_id,
        query.message.message_id,
    )
    if isinstance(answer, ChooseLanguage) and result.outcome is AnswerOutcome.MOVED:
        remember(context, user.id, answer.language, registered=False)
    if await flows.acknowledge_step(
        query, context, result.outcome.value, closed=N_("residents.flow.closed")
    ):
        return
    screen = await outcome_screen(context, result)
    await edit_flow(context, result.flow, query.message.chat.id, query.message.message_id, screen)


async def outcome_screen(
    context: BotContext, result: AnswerResult, *, notice: str | None = None
) -> Screen:
    """What the flow's message shows after an answer."""
    flow = result.flow
    if flow is None:
        raise ValueError(f"no screen for {result.outcome} without a flow")
    resident = result.resident
    if flow.finished and resident is not None:
        remember(context, flow.user_id, resident.language, registered=True)
        painter = painter_of(context)
        if result.outcome is AnswerOutcome.ALREADY_REGISTERED:
            return profile_screen(painter, resident, notice=context.t("residents.start.registered"))
        if flow.name == RELOCATE:
            return relocated_screen(painter, result.previous, resident)
        screen = registered_screen(painter, resident)
        if result.code_miss is not None:
            why = context.t(CODE_MISS_NOTICES[result.code_miss])
            return Screen(f"{why}\n\n{screen.text}", screen.keyboard)
        return screen
    if flow.finished:
        return Screen(context.t("residents.flow.closed"))
    if result.outcome is AnswerOutcome.UNKNOWN_PLACE:
        notice = joined(notice, context.t("residents.flow.unknown_place"))
    return await flow_screen(context, flow, notice=notice)


async def turn_page(update: Update, context: BotContext) -> None:
    """‹ › under a long list of places: show another page of the same step."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    button = pressed(context)
    flow = await active_flow(context.services.database.uow(read_only=True), user.id)
    if flow is None or flow.name not in (ONBOARD, RELOCATE):
        await acknowledge(query, context.t("residents.flow.closed"), alert=True)
        return
    if not flow.accepts_press_on(query.message.message_id):
        await acknowledge(query, context.t("common.button.stale"), alert=True)
        return
    step, _ = current(flow, context.services.places)
    page = button.int_arg(1) if step.value == button.args[0] else None
    await acknowledge(query)
    screen = await flow_screen(context, flow, page=page)
    await edit_flow(context, flow, query.message.chat.id, query.message.message_id, screen)


# -- steps by text ---------------------------------------------------------------------


async def flow_text(update: Update, context: BotContext, flow: Flow) -> None:
    """Text in onboarding or relocating: the unit label, or a reminder to use the buttons.

    The flow moves to a new message under the person's text (they would not see
    an edit above it); the old message loses its buttons.
    """
    message = update.effective_message
    if message is None or message.text is None:
        return
    services = context.services
    step, _ = current(flow, services.places)
    notice: str | None = None
    if step is Step.UNIT:
        result = await answer_flow(
            services.database.uow(),
            flow.user_id,
            EnterUnit(message.text),
            services.places,
            services.clock.now(),
            update.update_id,
            None,
        )
        if result.outcome in UNIT_NOTICES:
            _, cleaned = check_unit(message.text)
            notice = context.t(
                UNIT_NOTICES[result.outcome], max=MAX_UNIT_CHARS, length=len(cleaned)
            )
    else:
        result = AnswerResult(AnswerOutcome.WRONG_STEP, flow)
        notice = context.t("residents.flow.use_buttons")
    moved = result.flow or flow
    screen = await outcome_screen(context, AnswerResult(result.outcome, moved), notice=notice)
    await flows.show_below(context, message.chat_id, flow, moved, screen)


# -- /me, /lang, /help ------------------------------------------------------------------


async def me(update: Update, context: BotContext) -> None:
    """Show the profile and its verification level, with buttons to change it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    resident = await get_resident(context.services.database.uow(read_only=True), user.id)
    if resident is None:
        await message.reply_text(context.t("residents.me.not_registered"))
        return
    painter = painter_of(context)
    screen = profile_screen(painter, resident)
    grants, waiting = await owner_standing(context.services.database.uow(read_only=True), user.id)
    owned = owner_lines(painter, grants, waiting)
    if owned:
        screen = Screen(f"{screen.text}\n{owned}", screen.keyboard)
    await send(context, message.chat_id, screen)


async def change_address(update: Update, context: BotContext) -> None:
    """/me → change address: a relocation flow on the same message."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    outcome, flow = await start_relocation(
        services.database.uow(),
        user.id,
        services.places,
        services.clock.now(),
        update.update_id,
        query.message.message_id,
    )
    if outcome is RelocationStart.NOT_REGISTERED or flow is None:
        await acknowledge(query, context.t("residents.me.not_registered"), alert=True)
        return
    await acknowledge(query)
    screen = await flow_screen(context, flow)
    await edit_flow(context, flow, query.message.chat.id, query.message.message_id, screen)


async def change_language(update: Update, context: BotContext) -> None:
    """/me → change language: the language question on the same message."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    await acknowledge(query)
    screen = language_screen(painter_of(context), context.services.catalogs, "me")
    await edit(context, query.message.chat.id, query.message.message_id, screen)


async def lang(update: Update, context: BotContext) -> None:
    """Ask which language to use from now on."""
    message = update.effective_message
    if message is None:
        return
    screen = language_screen(painter_of(context), context.services.catalogs, "lang")
    await send(context, message.chat_id, screen)


async def choose_language(update: Update, context: BotContext) -> None:
    """Store the language chosen after /lang or /me; answer in it."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    language, origin = button.args[0], button.args[1]
    saved = await set_language(
        services.database.uow(), user.id, language, services.places, services.clock.now()
    )
    remember(context, user.id, language, registered=saved is LanguageSaved.RESIDENT)
    await acknowledge(query)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    resident = None
    if origin == "me":
        resident = await get_resident(services.database.uow(read_only=True), user.id)
    if resident is not None:
        screen = profile_screen(
            painter_of(context), resident, notice=context.t("residents.lang.done")
        )
    else:
        screen = Screen(context.t("residents.lang.done"))
    await edit(context, chat_id, message_id, screen)


async def help_command(update: Update, context: BotContext) -> None:
    """Say what the bot does and what this person can do with it."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    hint = context.services.profiles.get(user.id) if user is not None else None
    registered = hint is not None and hint.registered
    audiences, actions = None, frozenset[Action]()
    if user is not None:
        audiences, actions = await roles.audiences_of(context, user.id, registered=registered)
    text = help_text(context.t, registered=registered, audiences=audiences, actions=actions)
    await message.reply_text(text)


async def private_only(update: Update, context: BotContext) -> None:
    """Personal commands in a group: point to the private chat."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(context.t("residents.private_only"))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, load_profile), group=PROFILE_GROUP)
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", start, private))
    application.add_handler(CommandHandler("me", me, private))
    application.add_handler(CommandHandler("lang", lang, private))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler(["start", "me", "lang"], private_only, ~private))
    application.add_handler(on_button(answer_button, *STEP_ACTIONS))
    application.add_handler(on_button(turn_page, FLOW_PAGE))
    application.add_handler(on_button(flows.cancel_button, FLOW_CANCEL))
    application.add_handler(on_button(choose_language, SET_LANGUAGE))
    application.add_handler(on_button(change_language, CHANGE_LANGUAGE))
    application.add_handler(on_button(change_address, CHANGE_ADDRESS))
    for name, hint in RESUME_HINTS.items():
        flows.register_flow(name, on_text=flow_text, resume_hint=hint)
