"""Owner claims in chat: ``/claim`` (residents), ``/claims [COMMUNITY]`` and review buttons (staff).

Each handler parses the update, calls a use case of :mod:`civic.register_claims`
(which commits before anything is sent) and shows the outcome through
:mod:`handlers.register_claims_views`. The claim flow advances by editing its
message; typed text and photos move it to a new message below them.

Every review button is checked again here, against the presser's live roles:
the signature proves the bot made the button, not that the presser may use it
(a forwarded message, a former staff member's old list).
"""

from __future__ import annotations

from typing import Final

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, filters

from bot.context import BotContext
from bot.html import escape
from bot.i18n import N_
from civic.flows import Flow, active_flow, cancel_flow
from civic.register_claims import (
    CLAIM,
    MAX_REASON_CHARS,
    REJECT,
    TEXT_STEPS,
    Answer,
    ChooseBuilding,
    ClaimAnswerResult,
    ClaimOutcome,
    ConfirmClaim,
    DeedKind,
    EditStep,
    EnterArea,
    EnterName,
    EnterUnit,
    GivePhoto,
    GoBack,
    KeepUnit,
    RejectReason,
    ReviewAccess,
    ReviewOutcome,
    ReviewResult,
    SkipPhoto,
    StartClaim,
    Step,
    WithdrawOutcome,
    answer_claim,
    approve_claim,
    current,
    deed_document_accepted,
    pending_claims,
    reject_claim,
    rejection_claim_id,
    review_claim,
    review_community,
    start_claim,
    start_rejection,
    withdraw_claim,
)
from civic.roles import Actor, Decision
from handlers import flows
from handlers.buttons import acknowledge, on_button, pressed
from handlers.flows import edit, edit_flow, send
from handlers.permissions import REFUSAL_TEXT, actor_of, admin_ids, refusal, reply
from handlers.register_claims_views import (
    APPROVE,
    ASK_REASON,
    BACK,
    CANCEL,
    CARD,
    CONFIRM,
    EDIT,
    KEEP_UNIT,
    PHOTO,
    PICK_BUILDING,
    REASON,
    REVIEW,
    SKIP_PHOTO,
    STEP_ACTIONS,
    WITHDRAW,
    OutboxNotices,
    already_text,
    card_screen,
    claim_unit,
    community_name,
    decided_screen,
    list_header,
    pending_note,
    reason_screen,
    refusal_notice,
    step_screen,
    submitted_screen,
)
from handlers.residents import painter_of
from handlers.residents_views import Painter, Screen

CLAIM_RESUME: Final = N_("register.claim.resume")
REJECT_RESUME: Final = N_("register.review.reason_resume")

ACCESS_TEXT: Final = {
    ReviewAccess.NAME_COMMUNITY: N_("register.review.name_community"),
    ReviewAccess.UNKNOWN_COMMUNITY: N_("register.review.unknown_community"),
}


def notices_of(context: BotContext) -> OutboxNotices:
    services = context.services
    return OutboxNotices(services.catalogs, services.buttons, services.places)


async def flow_screen(context: BotContext, flow: Flow, *, notice: str | None = None) -> Screen:
    step, draft = current(flow, context.services.places)
    if step is Step.DONE:
        return Screen(context.t("register.claim.closed"))
    return step_screen(painter_of(context), step, draft, notice=notice)


# -- /claim -------------------------------------------------------------------------------------


async def claim(update: Update, context: BotContext) -> None:
    """Begin a claim for a unit of one's compound, or resume the draft."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    result = await start_claim(
        services.database.uow(), user.id, services.places, services.clock.now(), update.update_id
    )
    if result.outcome is StartClaim.NOT_REGISTERED or result.flow is None:
        await message.reply_text(context.t("register.claim.not_registered"))
        return
    notice = pending_note(painter_of(context), result.pending)
    if result.outcome is StartClaim.RESUMED:
        resumed = context.t("register.claim.resumed")
        notice = f"{notice}\n{resumed}" if notice else resumed
    screen = await flow_screen(context, result.flow, notice=notice)
    await flows.show_started(
        context, message.chat_id, result.flow, screen, result.previous_message_id
    )


def answer_of(action: str, args: tuple[str, ...]) -> Answer:
    """The step answer a verified button carries (its data was built by our views)."""
    arg = args[0] if args else ""
    if action == PICK_BUILDING:
        return ChooseBuilding(arg)
    if action == KEEP_UNIT:
        return KeepUnit()
    if action == SKIP_PHOTO:
        return SkipPhoto()
    if action == CONFIRM:
        return ConfirmClaim()
    if action == BACK:
        return GoBack(Step(arg))
    if action == EDIT:
        return EditStep(Step(arg))
    raise ValueError(f"not a claim step action: {action!r}")


async def apply(
    update: Update, context: BotContext, user_id: int, answer: Answer, message_id: int | None
) -> ClaimAnswerResult:
    services = context.services
    return await answer_claim(
        services.database.uow(),
        user_id,
        answer,
        services.places,
        services.clock.now(),
        update.update_id,
        message_id,
        notices_of(context),
        admin_ids(context.services),
    )


async def result_screen(
    context: BotContext, result: ClaimAnswerResult, *, notice: str | None = None
) -> Screen:
    """What the flow's message shows after an answer."""
    painter = painter_of(context)
    if result.claim is not None and result.outcome in (
        ClaimOutcome.SUBMITTED,
        ClaimOutcome.ALREADY_PENDING,
        ClaimOutcome.REPLAYED,
    ):
        return submitted_screen(
            painter, result.claim, already=result.outcome is ClaimOutcome.ALREADY_PENDING
        )
    if result.outcome is ClaimOutcome.NOT_REGISTERED:
        return Screen(context.t("register.claim.not_registered"))
    if result.flow is None or result.flow.finished:
        return Screen(context.t("register.claim.closed"))
    return await flow_screen(context, result.flow, notice=notice)


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
    if await flows.acknowledge_step(
        query, context, result.outcome.value, closed=N_("register.claim.closed")
    ):
        return
    if result.outcome is ClaimOutcome.SUBMITTED:
        context.services.sender.wake()
    await edit_flow(context, result.flow, chat_id, message_id, await result_screen(context, result))


async def moved_below(
    update: Update, context: BotContext, flow: Flow, result: ClaimAnswerResult, notice: str | None
) -> None:
    """Typed text or a photo: the flow goes on in a new message under it; the old one retires."""
    message = update.effective_message
    if message is None:
        return
    moved = result.flow or flow
    shown = ClaimAnswerResult(result.outcome, moved, result.claim)
    screen = await result_screen(context, shown, notice=notice)
    await flows.show_below(context, message.chat_id, flow, moved, screen)


async def claim_text(update: Update, context: BotContext, flow: Flow) -> None:
    """Text in the claim flow: the unit, area or name; elsewhere a reminder of what to do."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    step, _ = current(flow, context.services.places)
    notice: str | None = None
    text = message.text
    if step in TEXT_STEPS:
        answers: dict[Step, Answer] = {
            Step.UNIT: EnterUnit(text),
            Step.AREA: EnterArea(text),
            Step.NAME: EnterName(text),
        }
        result = await apply(update, context, flow.user_id, answers[step], None)
        if result.outcome.refused_input:
            notice = refusal_notice(context.t, result.outcome, text)
        elif result.outcome is ClaimOutcome.SUBMITTED:  # pragma: no cover - text never confirms
            context.services.sender.wake()
    else:
        result = ClaimAnswerResult(ClaimOutcome.WRONG_STEP, flow)
        key = "register.claim.send_photo" if step is Step.PHOTO else "residents.flow.use_buttons"
        notice = context.t(key)
    await moved_below(update, context, flow, result, notice)


async def claim_photo(update: Update, context: BotContext, flow: Flow) -> None:
    """A photo in the claim flow: the deed, at the photo step (the largest size is kept)."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    step, _ = current(flow, context.services.places)
    notice: str | None = None
    if step is Step.PHOTO:
        largest = max(
            message.photo, key=lambda size: (size.width * size.height, size.file_size or 0)
        )
        result = await apply(update, context, flow.user_id, GivePhoto(largest.file_id), None)
    else:
        result = ClaimAnswerResult(ClaimOutcome.WRONG_STEP, flow)
        notice = context.t("register.claim.photo_not_now")
    await moved_below(update, context, flow, result, notice)


async def claim_document(update: Update, context: BotContext, flow: Flow) -> None:
    """A file in the claim flow: at the photo step an image or PDF is the deed; else refused.

    People send the deed "as a file" to keep it sharp, or as the PDF a scanner
    made; staff get it back the same way (``sendDocument``).
    """
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    step, _ = current(flow, context.services.places)
    notice: str | None = None
    if step is not Step.PHOTO:
        result = ClaimAnswerResult(ClaimOutcome.WRONG_STEP, flow)
        notice = context.t("register.claim.file_not_now")
    elif not deed_document_accepted(document.mime_type, document.file_name):
        result = ClaimAnswerResult(ClaimOutcome.WRONG_STEP, flow)
        notice = context.t("register.claim.document_refused")
    else:
        answer = GivePhoto(document.file_id, DeedKind.DOCUMENT)
        result = await apply(update, context, flow.user_id, answer, None)
    await moved_below(update, context, flow, result, notice)


async def withdraw(update: Update, context: BotContext) -> None:
    """The claimant takes back a claim still waiting for staff."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    claim_id = pressed(context).int_arg(0)
    outcome, withdrawn = await withdraw_claim(
        services.database.uow(), user.id, claim_id, services.clock.now()
    )
    chat_id, message_id = query.message.chat.id, query.message.message_id
    if outcome is WithdrawOutcome.NOT_FOUND or withdrawn is None:
        await acknowledge(query, context.t("register.claim.not_found"), alert=True)
        await flows.retire_keyboard(context, chat_id, message_id)
        return
    if outcome is WithdrawOutcome.ALREADY_DECIDED:
        await acknowledge(query, context.t("register.claim.withdraw_too_late"), alert=True)
        await flows.retire_keyboard(context, chat_id, message_id)
        return
    await acknowledge(query)
    unit = claim_unit(painter_of(context), withdrawn)
    await edit(
        context, chat_id, message_id, Screen(context.t("register.claim.withdrawn", unit=unit))
    )


# -- staff: /claims and the review buttons ---------------------------------------------


DECISIONS: Final = {
    ReviewAccess.NOT_STAFF: Decision.NOT_STAFF,
    ReviewAccess.OTHER_COMMUNITY: Decision.OTHER_COMMUNITY,
    ReviewAccess.POSITION: Decision.POSITION,
}


def access_text(
    context: BotContext, actor: Actor, access: ReviewAccess, community: str | None, named: str
) -> str:
    if access in DECISIONS:
        return refusal(context, actor, DECISIONS[access], community)
    painter = painter_of(context)
    return context.t(
        ACCESS_TEXT[access],
        community=community_name(painter, community) if community else escape(named),
        code=escape(named),
    )


async def claims_command(update: Update, context: BotContext) -> None:
    """``/claims [COMMUNITY]``: the community's pending claims, one message each with buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    named = context.args[0][:24] if context.args else None
    actor = await actor_of(context, user.id)
    access, community = review_community(actor, named, services.places)
    if access is not ReviewAccess.ALLOWED or community is None:
        await reply(message, access_text(context, actor, access, community, named or ""))
        return
    pending = await pending_claims(services.database.uow(read_only=True), community, user.id)
    painter = painter_of(context)
    await message.reply_text(
        list_header(painter, community, len(pending.claims), pending.total, pending.own),
        parse_mode=ParseMode.HTML,
    )
    for claim in pending.claims:
        await send(context, message.chat_id, card_screen(painter, claim))


async def leave_rejection(context: BotContext, user_id: int) -> None:
    """End the reviewer's reason flow, if that is where they are."""
    services = context.services
    flow = await active_flow(services.database.uow(read_only=True), user_id)
    if flow is not None and flow.name == REJECT:
        await cancel_flow(services.database.uow(), user_id, services.clock.now())


REFUSALS: Final = frozenset(
    {ReviewOutcome.NOT_FOUND, ReviewOutcome.REFUSED, ReviewOutcome.OWN_CLAIM}
)
"""Review outcomes that show nothing of the claim, only why not."""


def refused_text(context: BotContext, result: ReviewResult) -> str:
    if result.outcome is ReviewOutcome.NOT_FOUND:
        return context.t("register.claim.not_found")
    if result.outcome is ReviewOutcome.OWN_CLAIM:
        return context.t("register.review.own_claim")
    if result.access is ReviewAccess.OTHER_COMMUNITY:
        return context.t("register.review.refused_button_other")
    # Neither of the two left has placeholders (not staff; not this position).
    return context.t(REFUSAL_TEXT[DECISIONS.get(result.access, Decision.NOT_STAFF)])


async def show_result(
    update: Update, context: BotContext, result: ReviewResult, painter: Painter
) -> bool:
    """Answer a review press that did not come to a decision; ``True`` if it did not."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return True
    chat_id, message_id = query.message.chat.id, query.message.message_id
    if result.outcome in REFUSALS:
        await acknowledge(query, refused_text(context, result), alert=True)
        if result.outcome is not ReviewOutcome.REFUSED:  # gone, or theirs: no buttons to press
            await flows.retire_keyboard(context, chat_id, message_id)
        return True
    if result.outcome is ReviewOutcome.ALREADY_DECIDED and result.claim is not None:
        await acknowledge(query, already_text(context.t, result.claim, user.id), alert=True)
        screen = decided_screen(painter, result.claim, by_me=False, viewer=user.id)
        await edit(context, chat_id, message_id, screen)
        return True
    return False


async def review(update: Update, context: BotContext) -> None:
    """ "Review" under a notification, or Back from the reasons: the claim with its buttons."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    claim_id = button.int_arg(0)
    if button.action == CARD:  # back from the reasons: typed text is no reason any more
        await leave_rejection(context, user.id)
    actor = await actor_of(context, user.id)
    result = await review_claim(
        services.database.uow(read_only=True), actor, claim_id, services.places
    )
    painter = painter_of(context)
    if await show_result(update, context, result, painter) or result.claim is None:
        return
    await acknowledge(query)
    await edit(
        context, query.message.chat.id, query.message.message_id, card_screen(painter, result.claim)
    )


async def approve(update: Update, context: BotContext) -> None:
    """Approve: the claimant becomes owner of the unit; they are told."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    claim_id = pressed(context).int_arg(0)
    actor = await actor_of(context, user.id)
    result = await approve_claim(
        services.database.uow(),
        actor,
        claim_id,
        services.places,
        services.clock.now(),
        update.update_id,
        notices_of(context),
    )
    await decided(update, context, result)


async def decided(update: Update, context: BotContext, result: ReviewResult) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    painter = painter_of(context)
    if await show_result(update, context, result, painter) or result.claim is None:
        return
    await acknowledge(query)
    context.services.sender.wake()
    screen = decided_screen(painter, result.claim, by_me=True)
    await edit(context, query.message.chat.id, query.message.message_id, screen)


async def reject(update: Update, context: BotContext) -> None:
    """Reject: ask why (common reasons as buttons, or a typed one)."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    claim_id = pressed(context).int_arg(0)
    actor = await actor_of(context, user.id)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    result = await start_rejection(
        services.database.uow(),
        actor,
        claim_id,
        services.places,
        services.clock.now(),
        update.update_id,
        message_id,
    )
    painter = painter_of(context)
    if await show_result(update, context, result, painter) or result.claim is None:
        return
    await acknowledge(query)
    await edit(context, chat_id, message_id, reason_screen(painter, result.claim))


async def reject_with_reason(update: Update, context: BotContext) -> None:
    """A common reason pressed: reject the claim with it."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    button = pressed(context)
    actor = await actor_of(context, user.id)
    result = await reject_claim(
        services.database.uow(),
        actor,
        button.int_arg(0),
        services.places,
        services.clock.now(),
        update.update_id,
        notices_of(context),
        reason_code=RejectReason(button.args[1]),
    )
    await decided(update, context, result)


async def reason_text(update: Update, context: BotContext, flow: Flow) -> None:
    """A typed rejection reason (the reviewer's ``register.reject`` flow)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    services = context.services
    claim_id = rejection_claim_id(flow)
    if claim_id is None:
        await message.reply_text(context.t("register.claim.not_found"))
        return
    actor = await actor_of(context, flow.user_id)
    result = await reject_claim(
        services.database.uow(),
        actor,
        claim_id,
        services.places,
        services.clock.now(),
        update.update_id,
        notices_of(context),
        reason_text=message.text,
    )
    painter = painter_of(context)
    if result.outcome is ReviewOutcome.REASON_EMPTY:
        await message.reply_text(context.t("register.review.reason_empty", max=MAX_REASON_CHARS))
        return
    if result.outcome is ReviewOutcome.REASON_TOO_LONG:
        length = len(" ".join(message.text.split()))
        await message.reply_text(
            context.t("register.review.reason_too_long", max=MAX_REASON_CHARS, length=length)
        )
        return
    if result.outcome is not ReviewOutcome.DECIDED:
        await leave_rejection(context, flow.user_id)
    if result.outcome in REFUSALS:
        await message.reply_text(refused_text(context, result))
        return
    if result.claim is None:  # pragma: no cover - every other outcome carries the claim
        return
    by_me = result.outcome is ReviewOutcome.DECIDED
    if by_me:
        services.sender.wake()
    screen = decided_screen(painter, result.claim, by_me=by_me, viewer=flow.user_id)
    await send(context, message.chat_id, screen)
    if flow.message_id is not None:
        await flows.retire_keyboard(context, message.chat_id, flow.message_id)


async def show_photo(update: Update, context: BotContext) -> None:
    """Send the deed photo to the staff member who pressed, if they may see it (spec 01)."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    result = await review_claim(
        services.database.uow(read_only=True), actor, pressed(context).int_arg(0), services.places
    )
    claim = result.claim
    if result.outcome in REFUSALS or claim is None:
        await acknowledge(query, refused_text(context, result), alert=True)
        return
    if not claim.deed_file_id:
        await acknowledge(query, context.t("register.review.no_photo"), alert=True)
        return
    await acknowledge(query)
    caption = context.t(
        "register.review.file_caption"
        if claim.deed_is_document
        else "register.review.photo_caption",
        id=claim.id or 0,
        unit=claim_unit(painter_of(context), claim),
    )
    reply_to = query.message.message_id if query.message.chat.id == user.id else None
    if claim.deed_is_document:
        await context.bot.send_document(
            user.id,
            claim.deed_file_id,
            caption=caption,
            parse_mode=ParseMode.HTML,
            reply_to_message_id=reply_to,
        )
        return
    await context.bot.send_photo(
        user.id,
        claim.deed_file_id,
        caption=caption,
        parse_mode=ParseMode.HTML,
        reply_to_message_id=reply_to,
    )


async def reason_photo(update: Update, context: BotContext, flow: Flow) -> None:
    """Photos and files in the reason flow are not reasons."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(context.t("register.review.reason_prompt", max=MAX_REASON_CHARS))


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("claim", claim, private))
    application.add_handler(CommandHandler("claims", claims_command, private))
    application.add_handler(on_button(answer_button, *STEP_ACTIONS))
    application.add_handler(on_button(flows.cancel_button, CANCEL))
    application.add_handler(on_button(withdraw, WITHDRAW))
    application.add_handler(on_button(review, REVIEW, CARD))
    application.add_handler(on_button(approve, APPROVE))
    application.add_handler(on_button(reject, ASK_REASON))
    application.add_handler(on_button(reject_with_reason, REASON))
    application.add_handler(on_button(show_photo, PHOTO))
    flows.register_flow(
        CLAIM,
        on_text=claim_text,
        resume_hint=CLAIM_RESUME,
        on_photo=claim_photo,
        on_document=claim_document,
    )
    flows.register_flow(
        REJECT,
        on_text=reason_text,
        resume_hint=REJECT_RESUME,
        on_photo=reason_photo,
        on_document=reason_photo,
    )
