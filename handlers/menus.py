"""Every command the bot offers, who it is for, and its line in the menu and in /help.

One table, so that the command menu Telegram shows (``setMyCommands``, per
language and per chat scope) and the list ``/help`` prints cannot disagree
(spec 01: "``/help`` lists what this person's roles can do"; "the bot registers
its command menu per language and scope"). A capability that adds a command adds
its line here; the handler itself still refuses people without the right role,
because a menu is a convenience, not a permission.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.i18n import N_
from civic.roles import Action


class Audience(StrEnum):
    """Who sees a command in their menu; a person may belong to several."""

    EVERYONE = "everyone"
    """Anyone who opens the chat, registered or not."""
    RESIDENT = "resident"
    """Registered residents (owners are residents too)."""
    STAFF = "staff"
    """Staff commands: shown to whoever may take the command's action somewhere."""
    ADMIN = "admin"
    """Admin commands: shown to whoever may take the command's action somewhere."""


@dataclass(frozen=True)
class MenuCommand:
    name: str
    """Without the slash: 1-32 characters of ``a-z0-9_`` (Bot API, BotCommand)."""
    description: str
    """The catalog id of its menu line (at most 256 characters in every language)."""
    audience: Audience
    action: Action | None = None
    """For staff and admin commands: the :class:`civic.roles.Action` it takes. The
    command is in a person's menu when :func:`civic.roles.may_take_somewhere` allows
    it, so a grid worker is not offered ``/staff`` only to be refused."""


COMMANDS: Final[tuple[MenuCommand, ...]] = (
    MenuCommand("start", N_("residents.menu.start"), Audience.EVERYONE),
    MenuCommand("me", N_("residents.menu.me"), Audience.RESIDENT),
    MenuCommand("claim", N_("register.menu.claim"), Audience.RESIDENT),
    MenuCommand("report", N_("reports.menu.report"), Audience.RESIDENT),
    MenuCommand("myreports", N_("reports.menu.myreports"), Audience.RESIDENT),
    MenuCommand("code", N_("residents.menu.code"), Audience.RESIDENT),
    MenuCommand("mydata", N_("residents.menu.mydata"), Audience.RESIDENT),
    MenuCommand("deleteme", N_("residents.menu.deleteme"), Audience.RESIDENT),
    MenuCommand("lang", N_("residents.menu.lang"), Audience.EVERYONE),
    MenuCommand("cancel", N_("residents.menu.cancel"), Audience.EVERYONE),
    MenuCommand("help", N_("residents.menu.help"), Audience.EVERYONE),
    MenuCommand("claims", N_("register.menu.claims"), Audience.STAFF, Action.REVIEW_CLAIMS),
    MenuCommand("verify", N_("residents.menu.verify"), Audience.STAFF, Action.VERIFY_RESIDENTS),
    MenuCommand("codes", N_("residents.menu.codes"), Audience.STAFF, Action.ISSUE_HOUSEHOLD_CODES),
    MenuCommand(
        "rotate", N_("residents.menu.rotate"), Audience.STAFF, Action.ROTATE_BUILDING_CODES
    ),
    MenuCommand("queue", N_("reports.menu.queue"), Audience.STAFF, Action.HANDLE_REPORTS),
    MenuCommand("staff", N_("roles.menu.staff"), Audience.STAFF, Action.LIST_STAFF),
    MenuCommand("tag", N_("roles.menu.tag"), Audience.STAFF, Action.TAG_RESIDENTS),
    MenuCommand("untag", N_("roles.menu.untag"), Audience.STAFF, Action.TAG_RESIDENTS),
    MenuCommand("audit", N_("roles.menu.audit"), Audience.STAFF, Action.READ_AUDIT),
    MenuCommand("stats", N_("reports.stats.menu"), Audience.STAFF, Action.READ_STATS),
    MenuCommand("grant", N_("roles.menu.grant"), Audience.ADMIN, Action.GRANT_ROLES),
    MenuCommand("revoke", N_("roles.menu.revoke"), Audience.ADMIN, Action.GRANT_ROLES),
)
"""In menu order: a resident's everyday commands first, then staff's, then admins'."""


def commands_for(
    audiences: Collection[Audience], actions: Collection[Action] = ()
) -> tuple[MenuCommand, ...]:
    """The commands of a person who belongs to ``audiences`` (``EVERYONE`` always) and
    may take ``actions`` somewhere (see :func:`civic.roles.may_take_somewhere`).

    A command with an action is shown by the action alone; the others by audience.
    """
    return tuple(
        c
        for c in COMMANDS
        if (
            c.action in actions
            if c.action is not None
            else c.audience is Audience.EVERYONE or c.audience in audiences
        )
    )
