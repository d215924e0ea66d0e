"""Roles in chat: ``/grant``, ``/revoke``, ``/tag``, ``/untag``, ``/staff``, ``/audit``; menus.

Syntax (private chats; codes as in ``config.toml``)::

    /grant USER_ID ROLE SCOPE [POSITION]   /grant 123 staff HD secretary
                                           /grant 123 grid_worker HD-G1
                                           /grant 123 liaison HOUSING
                                           /grant 123 admin YK     (township)
                                           /grant 123 admin county
    /revoke USER_ID ROLE SCOPE             /revoke 123 staff HD
    /tag USER_ID TAG [COMMUNITY]           /tag 123 expert        (the actor's community)
    /untag USER_ID TAG [COMMUNITY]
    /staff [COMMUNITY]
    /audit [COMMUNITY] [ENTRY_ID]          /audit HD 1234         (entries older than 1234)

Chinese role, position and tag names work too (the words ``civic.roles_admin`` parses).
Each handler parses, calls a use case of :mod:`civic.roles_admin`, and renders
the outcome through :mod:`handlers.roles_views`; every refusal says why
(:class:`civic.roles.Decision`).

Command menus (spec 01, "per language and scope"): everyone sees the default
menu (a resident's commands) in Chinese or English; each staff member, grid
worker, liaison and admin gets a menu of their own chat
(``BotCommandScopeChat``) in their language, set at start-up, on grant and
revoke, and when they change language. A failure to set a menu is logged, never
raised: the menu is a convenience, the handlers check permissions anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from telegram import BotCommand, BotCommandScopeChat, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot.context import BotContext, Services, services_of
from bot.i18n import Locale, resolve_locale
from civic.roles import (
    Action,
    Actor,
    home_community,
    load_actor,
    may_take_somewhere,
    with_config_admins,
)
from civic.roles_admin import (
    AuditPage,
    Problem,
    RoleOutcome,
    RoleResult,
    grant_role,
    list_staff,
    menu_holders,
    parse_audit_args,
    parse_community,
    parse_role_request,
    parse_tag,
    parse_user_id,
    read_audit,
    revoke_role,
    tag_resident,
    untag_resident,
)
from handlers.buttons import on_button
from handlers.menus import Audience, commands_for
from handlers.permissions import actor_of, admin_ids, refusal, reply
from handlers.residents_views import SET_LANGUAGE
from handlers.roles_views import USAGE, RolesPainter, compose_notice

log = logging.getLogger(__name__)

MENU_LANGUAGES: Final[tuple[tuple[str | None, Locale], ...]] = ((None, "zh_CN"), ("en", "en"))
"""Telegram's ``language_code`` of each default menu and the catalog it is written from;
the menu without a language code (Chinese) is what every other language sees."""


# -- who is asking --------------------------------------------------------------------------


def audiences(actor: Actor, *, registered: bool) -> frozenset[Audience]:
    """Whose commands a person sees: a resident's, and staff's and admins' by their grants."""
    found = {Audience.EVERYONE}
    if registered:
        found.add(Audience.RESIDENT)
    if actor.is_staff_or_admin:
        found.update({Audience.RESIDENT, Audience.STAFF})
    if actor.is_admin:
        found.add(Audience.ADMIN)
    return frozenset(found)


def actions(actor: Actor) -> frozenset[Action]:
    """The staff and admin actions some community would allow this person (their menu)."""
    return frozenset(a for a in Action if may_take_somewhere(actor, a))


async def audiences_of(
    context: BotContext, user_id: int, *, registered: bool
) -> tuple[frozenset[Audience], frozenset[Action]]:
    """For ``/help``: a read of the person's grants, if they may hold any (``RoleHolders``)."""
    services = context.services
    if services.role_holders.surely_none(user_id):
        actor = with_config_admins(Actor(user_id), admin_ids(services))
    else:
        actor = await actor_of(context, user_id)
    return audiences(actor, registered=registered), actions(actor)


def painter(context: BotContext) -> RolesPainter:
    return RolesPainter(context.t, context.services.places)


def usage(context: BotContext, command: str) -> str:
    return context.t(USAGE[command])


async def staff_only(message: Message, context: BotContext, actor: Actor) -> bool:
    """Refuse residents before reading their arguments: the command is not for them."""
    if actor.is_staff_or_admin:
        return False
    await reply(message, context.t("common.refused.not_staff"))
    return True


# -- /grant and /revoke ------------------------------------------------------------------


async def grant(update: Update, context: BotContext) -> None:
    """Grant a role over a scope (admins, within their scope)."""
    await change_role(update, context, revoke=False)


async def revoke(update: Update, context: BotContext) -> None:
    """Revoke a role; the person's open work goes to the community's secretary."""
    await change_role(update, context, revoke=True)


async def change_role(update: Update, context: BotContext, *, revoke: bool) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    command = "revoke" if revoke else "grant"
    services = context.services
    actor = await actor_of(context, user.id)
    if await staff_only(message, context, actor):
        return
    args: Sequence[str] = context.args or ()
    if not 3 <= len(args) <= 4:
        await reply(message, usage(context, command))
        return
    paint = painter(context)
    request = parse_role_request(args, services.places)
    if isinstance(request, Problem):
        await reply(message, paint.problem(request, user=args[0], scope=args[2]))
        return
    use_case = revoke_role if revoke else grant_role
    result: RoleResult = await use_case(
        services.database.uow(),
        actor,
        request,
        services.places,
        services.clock.now(),
        compose_notice(services.catalogs, services.places),
        update_id=update.update_id,
    )
    if result.outcome is RoleOutcome.REFUSED:
        await reply(message, refusal(context, actor, result.decision, result.community_code))
        return
    if result.grant is None:  # an input problem the parser let through
        problem = Problem(result.outcome, args[3] if len(args) > 3 else "")
        await reply(message, paint.problem(problem, user=request.user_id, scope=args[2]))
        return
    if result.changed:
        services.sender.wake()
        await set_chat_menu(context.application, request.user_id)
    if revoke and result.changed:
        text = paint.revoked_answer(
            result.grant, result.community_code, result.secretary, result.handed_over
        )
    else:
        text = paint.grant_answer(result.outcome, result.grant)
    await reply(message, text)


# -- /tag and /untag -------------------------------------------------------------------------


async def tag(update: Update, context: BotContext) -> None:
    """Give a resident a tag in a community (its secretary or director, or an admin)."""
    await change_tag(update, context, adding=True)


async def untag(update: Update, context: BotContext) -> None:
    """Take a resident's tag away."""
    await change_tag(update, context, adding=False)


async def change_tag(update: Update, context: BotContext, *, adding: bool) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    if await staff_only(message, context, actor):
        return
    args: Sequence[str] = context.args or ()
    if not 2 <= len(args) <= 3:
        await reply(message, usage(context, "tag" if adding else "untag"))
        return
    paint = painter(context)
    user_id = parse_user_id(args[0])
    chosen = parse_tag(args[1])
    community = (
        parse_community(args[2], services.places) if len(args) > 2 else home_community(actor)
    )
    if (
        isinstance(user_id, Problem)
        or isinstance(chosen, Problem)
        or isinstance(community, Problem)
    ):
        problem = next(p for p in (user_id, chosen, community) if isinstance(p, Problem))
        await reply(message, paint.problem(problem))
        return
    if community is None:
        await reply(message, context.t("roles.error.no_community"))
        return
    use_case = tag_resident if adding else untag_resident
    result = await use_case(
        services.database.uow(),
        actor,
        user_id,
        chosen,
        community,
        services.places,
        services.clock.now(),
        compose_notice(services.catalogs, services.places),
        update_id=update.update_id,
    )
    if result.outcome is RoleOutcome.REFUSED:
        await reply(message, refusal(context, actor, result.decision, community))
        return
    if result.changed:
        services.sender.wake()
    await reply(
        message, paint.tag_answer(result.outcome, user_id, chosen, community, adding=adding)
    )


# -- /staff and /audit ----------------------------------------------------------------------


async def staff(update: Update, context: BotContext) -> None:
    """Who holds which role and tag in a community (the actor's own by default)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    if await staff_only(message, context, actor):
        return
    community = await community_argument(message, context)
    if isinstance(community, Problem):
        await reply(message, painter(context).problem(community))
        return
    listing = await list_staff(
        services.database.uow(read_only=True), actor, community, services.places
    )
    if listing.outcome is RoleOutcome.REFUSED:
        await reply(message, refusal(context, actor, listing.decision, listing.community_code))
    elif listing.outcome is not RoleOutcome.DONE:
        await reply(message, painter(context).problem(Problem(listing.outcome)))
    else:
        await reply(message, painter(context).staff_list(listing))


async def audit(update: Update, context: BotContext) -> None:
    """The newest audit entries that fit in a message: secretaries their community's,
    admins their scope's; an entry id pages back to older ones."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    if await staff_only(message, context, actor):
        return
    parsed = parse_audit_args(context.args or (), services.places)
    if parsed is None:
        await reply(message, context.t("roles.audit.usage"))
        return
    if isinstance(parsed, Problem):
        await reply(message, painter(context).problem(parsed))
        return
    community, before_id = parsed
    page: AuditPage = await read_audit(
        services.database.uow(read_only=True),
        actor,
        community,
        services.places,
        before_id=before_id,
    )
    if page.outcome is RoleOutcome.REFUSED:
        asked = community or (next(iter(page.communities)) if page.communities else None)
        await reply(message, refusal(context, actor, page.decision, asked))
    elif page.outcome is not RoleOutcome.DONE:
        await reply(message, painter(context).problem(Problem(page.outcome)))
    else:
        await reply(message, painter(context).audit_page(page, community))


async def community_argument(message: Message, context: BotContext) -> str | Problem | None:
    args = context.args or ()
    if not args:
        return None
    return parse_community(args[0], context.services.places)


# -- command menus ----------------------------------------------------------------------------


def menu(
    services: Services,
    locale: Locale,
    audience: frozenset[Audience],
    allowed: frozenset[Action] = frozenset(),
) -> list[BotCommand]:
    t = services.catalogs.for_locale(locale)
    return [BotCommand(c.name, t(c.description)) for c in commands_for(audience, allowed)]


async def set_chat_menu(application: Application, user_id: int) -> None:  # type: ignore[type-arg]
    """The person's own menu: staff and admin commands in their language, or none (a resident's).

    Logged, not raised: the bot works without a menu.
    """
    services = services_of(application)
    try:
        actor = await load_actor(
            services.database.uow(read_only=True), user_id, admin_ids(services)
        )
        services.role_holders.set(user_id, holds=bool(actions(actor)))
        async with services.database.uow(read_only=True) as uow:
            language = await uow.residents.language_of(user_id)
        await apply_chat_menu(application, actor, language)
    except Exception:  # a menu must never fail a command
        log.warning("could not set the command menu of one chat", exc_info=True)


async def apply_chat_menu(application: Application, actor: Actor, language: str | None) -> None:  # type: ignore[type-arg]
    services = services_of(application)
    scope = BotCommandScopeChat(actor.user_id)
    allowed = actions(actor)
    if not allowed:  # a resident, an owner, a liaison (no staff command yet): the default
        await application.bot.delete_my_commands(scope=scope)
        return
    locale = resolve_locale(language, None)
    commands = menu(services, locale, audiences(actor, registered=True), allowed)
    await application.bot.set_my_commands(commands, scope=scope)


async def set_command_menus(application: Application) -> None:  # type: ignore[type-arg]
    """At start-up: the default menus per language, then each role holder's own menu.

    Runs in the background (receiving updates does not wait, P5); every failure
    is logged, not raised, and the next start tries again.
    """
    services = services_of(application)
    resident = frozenset({Audience.EVERYONE, Audience.RESIDENT})
    try:
        for language_code, locale in MENU_LANGUAGES:
            await application.bot.set_my_commands(
                menu(services, locale, resident), language_code=language_code
            )
    except TelegramError as error:
        log.warning("could not set the command menus: %s", error)
    try:
        holders = await menu_holders(services.database.uow(read_only=True), admin_ids(services))
        async with services.database.uow(read_only=True) as uow:
            languages = dict(await uow.residents.languages())
    except Exception:  # the bot works without the staff menus
        log.warning("could not read who needs a staff menu", exc_info=True)
        return
    services.role_holders.load(a.user_id for a in holders if actions(a))
    failed = 0
    for actor in holders:
        try:
            await apply_chat_menu(application, actor, languages.get(actor.user_id))
        except TelegramError:
            failed += 1
    if failed:
        log.warning("could not set the staff menu of %d of %d chats", failed, len(holders))


async def language_changed(update: Update, context: BotContext) -> None:
    """After ``/lang`` stored a new language (group 0): a role holder's menu follows it."""
    user = update.effective_user
    if user is None:
        return
    actor = await actor_of(context, user.id)
    if actor.is_staff_or_admin:
        await set_chat_menu(context.application, user.id)


LANGUAGE_GROUP: Final = 5
"""After the residents' handler of the language button (group 0) has committed."""


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("grant", grant, private))
    application.add_handler(CommandHandler("revoke", revoke, private))
    application.add_handler(CommandHandler("tag", tag, private))
    application.add_handler(CommandHandler("untag", untag, private))
    application.add_handler(CommandHandler("staff", staff, private))
    application.add_handler(CommandHandler("audit", audit, private))
    application.add_handler(on_button(language_changed, SET_LANGUAGE), group=LANGUAGE_GROUP)
