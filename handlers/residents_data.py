"""``/mydata`` (export one's own data as a file) and ``/deleteme`` (erase it, after a confirm).

Thin: the use cases are :mod:`civic.personal_data`; this module parses the
command or the press, calls them, and renders the answer.
"""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import BotContext
from civic.personal_data import erase_own_data, export_own_data
from handlers.buttons import acknowledge, on_button
from handlers.residents import edit, painter_of, send
from handlers.residents_views import ERASE_DATA, KEEP_DATA, Screen, erase_question_screen
from handlers.roles import set_chat_menu


async def mydata(update: Update, context: BotContext) -> None:
    """Send the person everything stored about them, as a JSON file."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    document = await export_own_data(
        services.database.uow(read_only=True), user.id, services.clock.now()
    )
    await message.reply_document(
        InputFile(document, filename=f"xieshang-mydata-{user.id}.json"),
        caption=context.t("residents.mydata.caption"),
    )


async def deleteme(update: Update, context: BotContext) -> None:
    """Ask before erasing: the answer cannot be undone."""
    message = update.effective_message
    if message is None:
        return
    await send(context, message.chat_id, erase_question_screen(painter_of(context)))


async def erase_pressed(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    if query is None or query.message is None or user is None:
        return
    services = context.services
    await acknowledge(query)
    done = Screen(context.t("residents.deleteme.done"))  # in their language, before erasing
    ended = await erase_own_data(services.database.uow(), user.id, services.clock.now())
    services.profiles.forget(user.id)
    if ended:  # they left office: the secretary may have work
        services.sender.wake()
    # Always, not only when offices ended now: after a crash between the erasure's commit
    # and this line, the redelivered press finds no office left, yet the menu remains.
    await set_chat_menu(context.application, user.id)
    await edit(context, query.message.chat.id, query.message.message_id, done)


async def keep_pressed(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    await acknowledge(query)
    kept = Screen(context.t("residents.deleteme.kept"))
    await edit(context, query.message.chat.id, query.message.message_id, kept)


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("mydata", mydata, private))
    application.add_handler(CommandHandler("deleteme", deleteme, private))
    application.add_handler(on_button(erase_pressed, ERASE_DATA))
    application.add_handler(on_button(keep_pressed, KEEP_DATA))
