"""``/stats``: a community's report figures for a month, as text, a chart, a CSV and an XLSX.

Syntax (private chats)::

    /stats                   the staff member's community, this month
    /stats HD                a community (admins covering it, or its staff)
    /stats HD 2026-10        another month (either order)

Spec 02, Views: "``/stats`` for their community: counts by category, state,
median time to resolve, on-time rate, satisfaction, as text and as a chart
image; CSV export; a monthly XLSX report per community for the township". Staff
of the community in every position and admins covering it may read them
(:data:`civic.roles.Action.READ_STATS`); grid workers see their own queue, not
the community's figures. The figures are defined in :mod:`civic.reports_stats`.

The answer is the summary with two buttons, *CSV* and *XLSX*, then the chart.
A button carries the community and the month (signed); pressing it checks the
permission again, reads the figures as they are then, and sends the file: a
revoked clerk's old buttons stop working. The chart is drawn in a worker thread
so the bot keeps answering others meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import BotContext
from bot.i18n import N_
from bot.reports_stats_files import chart_png, cjk_font, csv_bytes, xlsx_bytes
from civic.reports_stats import (
    MonthFigures,
    Period,
    StatsProblem,
    StatsRefusal,
    current_month,
    month_period,
    parse_month,
    parse_stats_args,
    read_month_figures,
)
from civic.roles import Action, Actor, Decision, decide, home_community
from handlers.buttons import acknowledge, on_button, pressed
from handlers.permissions import actor_of, refusal, reply
from handlers.reports_stats_views import StatsPainter

CSV: Final = "st_csv"
XLSX: Final = "st_xlsx"

PROBLEM_TEXT: Final = {
    StatsProblem.USAGE: N_("reports.stats.usage"),
    StatsProblem.BAD_MONTH: N_("reports.stats.bad_month"),
    StatsProblem.UNKNOWN_COMMUNITY: N_("reports.stats.unknown_community"),
}


def painter(context: BotContext) -> StatsPainter:
    return StatsPainter(context.t, context.services.places)


async def stats(update: Update, context: BotContext) -> None:
    """Answer with the month's summary, the CSV and XLSX buttons, and the chart."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    actor = await actor_of(context, user.id)
    if not actor.is_staff_or_admin:
        await reply(message, context.t("common.refused.not_staff"))
        return
    places = services.places
    parsed = parse_stats_args(context.args or (), (c.code for c in places.communities))
    if isinstance(parsed, StatsRefusal):
        await reply(message, context.t(PROBLEM_TEXT[parsed.problem], word=parsed.word))
        return
    community = parsed.community_code or home_community(actor)
    if community is None:
        await reply(message, context.t("reports.stats.which_community"))
        return
    if not await allowed(message, context, actor, community):
        return
    timezone = places.timezone_of(community)
    now = services.clock.now()
    period = (
        current_month(now, timezone)
        if parsed.month is None
        else month_period(*parsed.month, timezone)
    )
    figures = await read(context, community, period)
    view = painter(context)
    await message.reply_html(
        view.summary(figures.stats), reply_markup=keyboard(context, period, community)
    )
    if figures.stats.total:
        await send_chart(message, context, figures)


async def allowed(message: Message, context: BotContext, actor: Actor, community: str) -> bool:
    """Whether ``actor`` may read the community's figures; if not, say why."""
    decision = decide(actor, Action.READ_STATS, community, context.services.places)
    if decision is Decision.ALLOWED:
        return True
    await reply(message, refusal(context, actor, decision, community))
    return False


async def read(context: BotContext, community: str, period: Period) -> MonthFigures:
    services = context.services
    async with services.database.uow(read_only=True) as uow:
        return await read_month_figures(uow.reports, community, period, services.clock.now())


def keyboard(context: BotContext, period: Period, community: str) -> InlineKeyboardMarkup:
    buttons = context.services.buttons
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.t("reports.stats.button.csv"),
                    callback_data=buttons.encode(CSV, community, period.label),
                ),
                InlineKeyboardButton(
                    context.t("reports.stats.button.xlsx"),
                    callback_data=buttons.encode(XLSX, community, period.label),
                ),
            ]
        ]
    )


async def send_chart(message: Message, context: BotContext, figures: MonthFigures) -> None:
    """The counts as a bar chart; with English labels when no CJK font is installed."""
    font = await asyncio.to_thread(cjk_font)
    view = painter(context)
    if font is None and context.locale != "en":
        view = StatsPainter(context.services.catalogs.for_locale("en"), context.services.places)
    chart = view.chart(figures.stats, font)
    image = await asyncio.to_thread(chart_png, chart)
    await message.reply_photo(image, caption=painter(context).chart(figures.stats, font).title)


async def export(update: Update, context: BotContext) -> None:
    """Send the month's CSV or XLSX, after checking the presser may still read it."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or not isinstance(query.message, Message):
        return
    button = pressed(context)
    community, label = button.args
    month = parse_month(label)
    places = context.services.places
    if month is None or all(c.code != community for c in places.communities):
        await acknowledge(query, context.t("common.button.stale"), alert=True)
        return
    actor = await actor_of(context, user.id)
    decision = decide(actor, Action.READ_STATS, community, places)
    await acknowledge(query)
    if decision is not Decision.ALLOWED:
        await reply(query.message, refusal(context, actor, decision, community))
        return
    timezone = places.timezone_of(community)
    period = month_period(*month, timezone)
    figures = await read(context, community, period)
    view = painter(context)
    name = view.community(community)
    if button.action == CSV:
        data = csv_bytes(view.headers(), view.rows(figures.rows, timezone))
        filename = f"reports-{community}-{period.label}.csv"
        caption = context.t("reports.stats.file.csv", community=name, month=period.label)
    else:
        sheets = view.workbook(figures.stats, figures.rows, timezone)
        data = await asyncio.to_thread(xlsx_bytes, sheets)
        filename = f"reports-{community}-{period.label}.xlsx"
        caption = context.t("reports.stats.file.xlsx", community=name, month=period.label)
    await query.message.reply_document(data, filename=filename, caption=caption)


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("stats", stats, private))
    application.add_handler(on_button(export, CSV, XLSX))
