"""Who is acting, and why they may not: the one permission check of every staff command.

Staff commands and review buttons all do the same three things: load the
person's live grants (with the county admins ``[admins]`` lists), ask
:func:`civic.roles.decide`, and explain a refusal in words that say what to do
instead. Doing it here keeps the refusals identical across capabilities (quality
bar S1 tests them as one matrix) and the rules in :mod:`civic.roles`.
"""

from __future__ import annotations

from typing import Final

from telegram import Message
from telegram.constants import ParseMode

from bot.context import BotContext, Services
from bot.i18n import N_
from civic.roles import Actor, Decision, communities_served, load_actor
from handlers.roles_views import RolesPainter

REFUSAL_TEXT: Final = {
    Decision.NOT_STAFF: N_("common.refused.not_staff"),
    Decision.OTHER_COMMUNITY: N_("common.refused.other_community"),
    Decision.POSITION: N_("common.refused.position"),
}


def admin_ids(services: Services) -> frozenset[int]:
    """The county admins ``config.toml`` names (``[admins] telegram_ids``)."""
    return frozenset(services.settings.config.admins.telegram_ids)


async def actor_of(context: BotContext, user_id: int) -> Actor:
    """The person's live grants, read now: a revoked role stops working at once."""
    services = context.services
    return await load_actor(services.database.uow(read_only=True), user_id, admin_ids(services))


def community_name(context: BotContext, code: str | None) -> str:
    """A community's name in the reader's language, escaped for HTML; "—" if none."""
    return "—" if code is None else RolesPainter(context.t, context.services.places).community(code)


def refusal(context: BotContext, actor: Actor, decision: Decision, community: str | None) -> str:
    """Why not, in words: staff only; another community's matter (naming the person's
    own, so they know whom to ask); not this position."""
    yours = communities_served(actor, context.services.places)
    painter = RolesPainter(context.t, context.services.places)
    return context.t(
        REFUSAL_TEXT[decision],
        yours=painter.where(yours) if yours else "—",
        community=community_name(context, community),
    )


async def reply(message: Message, text: str) -> None:
    """Answer a command in HTML (texts escape what people typed)."""
    await message.reply_text(text, parse_mode=ParseMode.HTML)
