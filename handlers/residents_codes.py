"""Verification in chat: household codes (``/code``, ``/codes``, ``hc_`` links), building-code
rotation (``/rotate``) and verification by hand (``/verify``).

Thin: the rules and use cases are :mod:`civic.household_codes`; this module
parses the command, loads who is asking, calls the use case and renders each
outcome through the catalogs. The sheet of printed codes is built in memory and
sent as a document: the codes exist nowhere else, not even in the database.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from telegram import InputFile, Message, Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import BotContext
from bot.html import escape
from bot.i18n import N_, Translator, format_date, format_time, resolve_locale
from bot.qr import qr_png_bytes
from civic.flows import DONE_STEP, Flow, record_flow_message
from civic.household_codes import (
    MAX_CODES,
    CodePlace,
    HouseholdStart,
    IssuedCode,
    IssueOutcome,
    RedeemOutcome,
    RedeemResult,
    RotateOutcome,
    VerifyOutcome,
    codes_wanted,
    format_code,
    household_payload,
    is_household_payload,
    issue_household_codes,
    parse_count,
    redeem_household_code,
    rotate_building_code,
    start_with_household_code,
    verify_resident,
)
from civic.places import Places
from civic.residents import deep_link, location_code, place_names
from civic.roles_admin import parse_user_id
from handlers import flows
from handlers.permissions import actor_of, refusal, reply
from handlers.residents import (
    flow_screen,
    joined,
    painter_of,
    remember,
    send,
)
from handlers.residents_views import profile_screen

CODE_FLOW: Final = "residents.code"
"""``/code`` without a code: the next text is the code (``/cancel`` leaves)."""

REDEEM_TEXT: Final[Mapping[RedeemOutcome, str]] = {
    RedeemOutcome.VERIFIED: N_("residents.code.verified"),
    RedeemOutcome.REPEATED: N_("residents.code.repeated"),
    RedeemOutcome.MALFORMED: N_("residents.code.malformed"),
    RedeemOutcome.UNKNOWN: N_("residents.code.unknown"),
    RedeemOutcome.USED: N_("residents.code.used"),
    RedeemOutcome.EXPIRED: N_("residents.code.expired"),
    RedeemOutcome.OTHER_COMPOUND: N_("residents.code.other_compound"),
    RedeemOutcome.NOT_REGISTERED: N_("residents.code.not_registered"),
    RedeemOutcome.TOO_MANY_ATTEMPTS: N_("residents.code.too_many"),
    RedeemOutcome.COUNTY_BUSY: N_("residents.code.county_busy"),
}
RETRYABLE: Final = frozenset(
    {
        RedeemOutcome.MALFORMED,
        RedeemOutcome.UNKNOWN,
        RedeemOutcome.USED,
        RedeemOutcome.EXPIRED,
    }
)
"""After these the ``/code`` flow stays open: the person may type the code again."""


class _HouseholdStart(filters.MessageFilter):
    """``/start hc_...``: taken here, before the residents' own ``/start``."""

    def filter(self, message: Message) -> bool:
        words = (message.text or "").split(maxsplit=2)
        return len(words) > 1 and is_household_payload(words[1])


HOUSEHOLD_START: Final = _HouseholdStart(name="household_start")


# -- helpers ---------------------------------------------------------------------------------


def place_text(context: BotContext, places: Places, place: CodePlace) -> str:
    """ "Hedong Community, Hedong Garden, Building 1", in the reader's language."""
    painter = painter_of(context)
    names = place_names(places, place.community_code, place.compound_code, place.building_code)
    parts = [painter.place(names.community), painter.place(names.compound)]
    if names.building is not None:
        parts.append(painter.building(names.building))
    return ", ".join(parts)


def bot_username(context: BotContext) -> str:
    return context.bot.username or context.services.settings.config.telegram.bot_username or ""


def redeem_text(context: BotContext, result: RedeemResult) -> str:
    retry = ""
    if result.retry_at is not None and result.resident is not None:
        zone = context.services.places.timezone_of(result.resident.community_code)
        retry = _time(context, result.retry_at, zone)
    return context.t(REDEEM_TEXT[result.outcome], retry=retry)


def _time(context: BotContext, moment: datetime, zone: str) -> str:
    return format_time(moment, context.locale, zone)


async def show_redeemed(
    message: Message, context: BotContext, result: RedeemResult, *, again: bool = False
) -> None:
    """Verified: the profile with the news on top; otherwise the reason and what to do
    (``again``: in ``/code``'s flow, where a wrong code may be typed again)."""
    text = redeem_text(context, result)
    if again and result.outcome in RETRYABLE:
        text = joined(text, context.t("residents.code.again")) or text
    if result.outcome is RedeemOutcome.VERIFIED and result.resident is not None:
        screen = profile_screen(painter_of(context), result.resident, notice=text)
        await send(context, message.chat_id, screen)
        return
    await reply(message, text)


# -- /code -----------------------------------------------------------------------------------


async def code(update: Update, context: BotContext) -> None:
    """Redeem the code given, or ask for it (the next text is taken as the code)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    text = " ".join(context.args or ())
    if text:
        result = await redeem_household_code(
            services.database.uow(), user.id, text, services.clock.now(), county_cap(context)
        )
        await show_redeemed(message, context, result)
        return
    started = await start_code_entry(context, user.id, update.update_id)
    if not started:
        await reply(message, context.t("residents.code.not_registered"))
        return
    await reply(message, context.t("residents.code.ask"))


async def start_code_entry(context: BotContext, user_id: int, update_id: int) -> bool:
    """Make ``/code``'s flow the active one; ``False`` if the person is not registered."""
    services = context.services
    now = services.clock.now()
    async with services.database.uow() as uow:
        if await uow.residents.get(user_id) is None:
            return False
        await uow.flows.deactivate_all(user_id, now)
        await uow.flows.save(
            Flow(
                user_id=user_id,
                name=CODE_FLOW,
                step="code",
                draft={},
                active=True,
                message_id=None,
                last_update_id=update_id,
                updated_at=now,
            )
        )
        await uow.commit()
    return True


async def code_text(update: Update, context: BotContext, flow: Flow) -> None:
    """The text after ``/code``: the code. A wrong one may be typed again."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    services = context.services
    now = services.clock.now()
    result = await redeem_household_code(
        services.database.uow(), flow.user_id, message.text, now, county_cap(context)
    )
    if result.outcome not in RETRYABLE:
        async with services.database.uow() as uow:
            done = flow.moved(
                step=DONE_STEP, draft={}, update_id=update.update_id, now=now, active=False
            )
            await uow.flows.save(done)
            await uow.commit()
    await show_redeemed(message, context, result, again=True)


# -- /start hc_... -----------------------------------------------------------------------------


HOUSEHOLD_NOTICE: Final[Mapping[RedeemOutcome, str]] = {
    RedeemOutcome.MALFORMED: N_("residents.code.link_malformed"),
    RedeemOutcome.UNKNOWN: N_("residents.code.link_unknown"),
    RedeemOutcome.USED: N_("residents.code.link_used"),
    RedeemOutcome.EXPIRED: N_("residents.code.link_expired"),
    RedeemOutcome.TOO_MANY_ATTEMPTS: N_("residents.code.link_too_many"),
    RedeemOutcome.COUNTY_BUSY: N_("residents.code.link_county_busy"),
}


async def start_with_code(update: Update, context: BotContext) -> None:
    """A slip's link: a resident is verified; a newcomer joins at the code's place."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    payload = " ".join(context.args or ())
    result = await start_with_household_code(
        services.database.uow(),
        user.id,
        payload,
        services.places,
        services.clock.now(),
        update.update_id,
        county_cap(context),
    )
    if result.kind is HouseholdStart.REDEEMED and result.redeemed is not None:
        await show_redeemed(message, context, result.redeemed)
        return
    started = result.start
    if started is None or started.flow is None:  # pragma: no cover - newcomers get a flow
        raise RuntimeError("onboarding without a flow")
    flow = started.flow
    if result.code_outcome is None:
        notice = context.t("residents.code.link_preset")
    else:
        notice = context.t(HOUSEHOLD_NOTICE[result.code_outcome], retry="")
    screen = await flow_screen(context, flow, notice=notice)
    sent = await send(context, message.chat_id, screen)
    await record_flow_message(
        services.database.uow(), user.id, flow.name, sent.message_id, services.clock.now()
    )
    if started.previous_message_id is not None:
        await flows.retire_keyboard(context, message.chat_id, started.previous_message_id)
    language = (flow.draft or {}).get("language")
    if isinstance(language, str):
        remember(context, user.id, language, registered=False)


# -- /codes --------------------------------------------------------------------------------------


ISSUE_TEXT: Final[Mapping[IssueOutcome, str]] = {
    IssueOutcome.UNKNOWN_PLACE: N_("residents.codes.unknown_place"),
    IssueOutcome.BAD_COUNT: N_("residents.codes.bad_count"),
    IssueOutcome.BAD_UNIT: N_("residents.codes.bad_unit"),
}


async def codes(update: Update, context: BotContext) -> None:
    """Print one-time household codes for a compound or building, as a document to print."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    if not actor.is_staff_or_admin:
        await reply(message, context.t("common.refused.not_staff"))
        return
    args = list(context.args or ())
    if len(args) < 2:
        await reply(message, context.t("residents.codes.usage", max=MAX_CODES))
        return
    place_code, count_text, units = args[0], args[1], args[2:]
    count = parse_count(count_text) or 0  # 0 is refused as a count, with the limits
    now = services.clock.now()
    result = await issue_household_codes(
        services.database.uow(),
        actor,
        place_code,
        count,
        units,
        services.places,
        now,
        services.settings.config.residents.household_code_days,
        update.update_id,
    )
    if result.outcome is IssueOutcome.REFUSED:
        community = result.place.community_code if result.place is not None else None
        await reply(message, refusal(context, actor, result.decision, community))
        return
    if result.outcome is IssueOutcome.ALREADY_ISSUED and result.place is not None:
        where = place_text(context, services.places, result.place)
        await reply(
            message, context.t("residents.codes.already", count=result.already, place=where)
        )
        return
    if result.outcome is not IssueOutcome.ISSUED or result.place is None:
        await reply(
            message,
            context.t(
                ISSUE_TEXT[result.outcome],
                code=escape(place_code),
                count=escape(count_text),
                max=MAX_CODES,
                wanted=codes_wanted(max(count, 1), units),
                unit=escape(result.bad_unit or ""),
            ),
        )
        return
    zone = services.places.timezone_of(result.place.community_code)
    expires = format_date(result.last_day or now, context.locale, zone)
    where = place_text(context, services.places, result.place)
    sheet = codes_sheet(context.t, result.codes, where, expires, bot_username(context))
    filename = f"household-codes-{result.place.building_code or result.place.compound_code}.html"
    await message.reply_document(
        InputFile(io.BytesIO(sheet.encode("utf-8")), filename=filename),
        caption=context.t(
            "residents.codes.caption", count=len(result.codes), place=where, expires=expires
        ),
    )


def codes_sheet(
    t: Translator, issued: tuple[IssuedCode, ...], where: str, expires: str, username: str
) -> str:
    """A printable HTML page: one slip per code, cut along the dashed lines."""
    slips = []
    for item in issued:
        shown = format_code(item.code)
        unit = item.record.unit_label
        place = f"{where}, {unit}" if unit else where
        link = deep_link(username, household_payload(item.code)) if username else ""
        slips.append(
            SLIP.format(
                title=escape(t("residents.codes.sheet.slip_title")),
                place=escape(place),
                code=escape(shown),
                expires=escape(t("residents.codes.sheet.expires", date=expires)),
                how=escape(t("residents.codes.sheet.how", code=shown, bot=f"@{username}")),
                link=escape(link),
                once=escape(t("residents.codes.sheet.once")),
            )
        )
    return PAGE.format(
        title=escape(t("residents.codes.sheet.title", place=where)),
        slips="\n".join(slips),
    )


PAGE: Final = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1cm; }}
.slip {{ border: 1px dashed #555; padding: 0.5cm; margin: 0 0 0.4cm; page-break-inside: avoid; }}
.code {{ font-family: monospace; font-size: 28pt; letter-spacing: 0.15em; margin: 0.2cm 0; }}
.small {{ font-size: 9pt; color: #333; word-break: break-all; }}
</style></head>
<body>
<h1>{title}</h1>
{slips}
</body></html>
"""

SLIP: Final = """<div class="slip">
<div><strong>{title}</strong></div>
<div>{place}</div>
<div class="code">{code}</div>
<div>{how}</div>
<div class="small">{link}</div>
<div class="small">{expires} {once}</div>
</div>"""


# -- /rotate -------------------------------------------------------------------------------------


async def rotate(update: Update, context: BotContext) -> None:
    """Replace a building's printed QR code; send the new one to print."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    if not actor.is_staff_or_admin:
        await reply(message, context.t("common.refused.not_staff"))
        return
    args = list(context.args or ())
    if len(args) != 1:
        await reply(message, context.t("residents.rotate.usage"))
        return
    result = await rotate_building_code(
        services.database.uow(),
        actor,
        args[0],
        services.places,
        services.clock.now(),
        update.update_id,
    )
    if result.outcome is RotateOutcome.UNKNOWN_BUILDING or result.building_code is None:
        await reply(message, context.t("residents.rotate.unknown", code=escape(args[0])))
        return
    if result.outcome is RotateOutcome.REFUSED:
        await reply(message, refusal(context, actor, result.decision, result.community_code))
        return
    key = services.location_key
    if key is None:  # pragma: no cover - the composition root always derives one
        raise RuntimeError("no location key to sign the building's code with")
    payload = location_code(result.building_code, key, result.version)
    link = deep_link(bot_username(context), payload)
    names = place_names(services.places, None, None, result.building_code)
    building = names.building
    compound = (
        next((c for c in services.places.compounds if c.code == building.compound_code), None)
        if building is not None
        else None
    )
    painter = painter_of(context)
    where = f"{painter.place(compound)} {painter.building(building)}"
    await message.reply_document(
        InputFile(io.BytesIO(qr_png_bytes(link)), filename=f"qr-{result.building_code}.png"),
        caption=context.t("residents.rotate.done", place=where, version=result.version, link=link),
    )


# -- /verify ---------------------------------------------------------------------------------------


async def verify(update: Update, context: BotContext) -> None:
    """Mark a resident *verified* by hand; they are told in their language."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    if not actor.is_staff_or_admin:
        await reply(message, context.t("common.refused.not_staff"))
        return
    args = list(context.args or ())
    target = parse_user_id(args[0]) if len(args) == 1 else None
    if not isinstance(target, int):
        await reply(message, context.t("residents.verify.usage"))
        return
    catalogs = services.catalogs

    def compose(language: str) -> Mapping[str, Any]:
        return {
            "text": catalogs.for_locale(resolve_locale(language, None))("residents.verify.notice")
        }

    result = await verify_resident(
        services.database.uow(),
        actor,
        target,
        services.places,
        services.clock.now(),
        compose,
        update.update_id,
    )
    if result.outcome is VerifyOutcome.REFUSED:
        await reply(message, refusal(context, actor, result.decision, None))
        return
    if result.outcome is VerifyOutcome.NOT_A_RESIDENT:  # unknown, or another community's
        await reply(message, context.t("residents.verify.not_yours", user=target))
        return
    if result.outcome is VerifyOutcome.ALREADY:
        await reply(message, context.t("residents.verify.already", user=target))
        return
    services.sender.wake()
    await reply(message, context.t("residents.verify.done", user=target))


def county_cap(context: BotContext) -> int:
    """``[residents] household_code_wrong_per_hour``: the county's wrong codes an hour."""
    return context.services.settings.config.residents.household_code_wrong_per_hour


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Before :func:`handlers.residents.register`: ``/start hc_...`` is taken here first."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", start_with_code, private & HOUSEHOLD_START))
    application.add_handler(CommandHandler("code", code, private))
    application.add_handler(CommandHandler("codes", codes, private))
    application.add_handler(CommandHandler("rotate", rotate, private))
    application.add_handler(CommandHandler("verify", verify, private))
    flows.register_flow(CODE_FLOW, on_text=code_text, resume_hint=N_("residents.code.resume"))
