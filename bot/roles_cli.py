"""The operator's ``xieshang grant``, ``xieshang revoke`` and ``xieshang audit``.

The same use cases as ``/grant``, ``/revoke`` and ``/audit`` (:mod:`civic.roles_admin`)
with ``actor=None``: the operator at the command line, who needs no grant (so a
county can appoint its first admins before anyone has one) and is recorded in
the audit log as "operator". The person is told through the outbox, which the
running bot sends; their command menu follows at the bot's next start (or their
next grant, revoke or language change in chat).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, Final

from bot.config import Settings, places_from_config
from bot.i18n import Catalogs, Translator
from civic.roles_admin import (
    AUDIT_PAGE,
    Problem,
    RoleOutcome,
    grant_role,
    parse_community,
    parse_role_request,
    read_audit,
    revoke_role,
)
from handlers.roles_views import RolesPainter, compose_notice, plain
from storage.database import Database

COMMANDS: Final = frozenset({"grant", "revoke", "audit"})
EXIT_FAILED: Final = 1


def add_commands(commands: Any) -> None:
    """Add the three subcommands to ``xieshang``'s parser."""
    grant = commands.add_parser(
        "grant", help="grant a role: USER_ID ROLE SCOPE [POSITION], e.g. 123 staff HD secretary"
    )
    revoke = commands.add_parser("revoke", help="revoke a role: USER_ID ROLE SCOPE")
    for parser in (grant, revoke):
        parser.add_argument("user_id", help="the person's Telegram user id")
        parser.add_argument("role", help="staff, grid_worker, liaison, admin (or 书记, 网格员 ...)")
        parser.add_argument(
            "scope", help="a community, grid, department or township code, or county"
        )
    grant.add_argument(
        "position", nargs="?", help="staff only: secretary, director, clerk, social_worker"
    )
    audit = commands.add_parser("audit", help="print the newest audit log entries")
    audit.add_argument("--community", help="only this community's entries (default: all)")
    audit.add_argument("--limit", type=int, default=AUDIT_PAGE, help="how many (default: 20)")


async def run(command: str, args: argparse.Namespace, settings: Settings, t: Translator) -> int:
    database = Database(settings.database_url)
    try:
        if command == "audit":
            return await _audit(database, args, settings, t)
        return await _change(database, command, args, settings, t)
    finally:
        await database.dispose()


async def _change(
    database: Database, command: str, args: argparse.Namespace, settings: Settings, t: Translator
) -> int:
    places = places_from_config(settings.config)
    painter = RolesPainter(t, places, escape_text=plain)
    words = [args.user_id, args.role, args.scope]
    if command == "grant" and args.position:
        words.append(args.position)
    request = parse_role_request(words, places)
    if isinstance(request, Problem):
        print(painter.problem(request, user=args.user_id, scope=args.scope), file=sys.stderr)
        return EXIT_FAILED
    use_case = revoke_role if command == "revoke" else grant_role
    result = await use_case(
        database.uow(),
        None,
        request,
        places,
        datetime.now(UTC),
        compose_notice(Catalogs.load(), places),
    )
    if result.grant is None:
        print(
            painter.problem(Problem(result.outcome), user=args.user_id, scope=args.scope),
            file=sys.stderr,
        )
        return EXIT_FAILED
    if command == "revoke" and result.outcome is RoleOutcome.DONE:
        print(
            painter.revoked_answer(
                result.grant, result.community_code, result.secretary, result.handed_over
            )
        )
    else:
        print(painter.grant_answer(result.outcome, result.grant))
    return 0 if result.outcome in (RoleOutcome.DONE, RoleOutcome.ALREADY) else EXIT_FAILED


async def _audit(
    database: Database, args: argparse.Namespace, settings: Settings, t: Translator
) -> int:
    places = places_from_config(settings.config)
    painter = RolesPainter(t, places, escape_text=plain)
    community: str | None = None
    if args.community:
        parsed = parse_community(args.community, places)
        if isinstance(parsed, Problem):
            print(painter.problem(parsed), file=sys.stderr)
            return EXIT_FAILED
        community = parsed
    limit = max(1, min(args.limit, 1000))
    page = await read_audit(database.uow(read_only=True), None, community, places, limit)
    print(t("roles.audit.title", where=painter.where(page.communities)))
    for entry in page.entries:
        print(painter.audit_line(entry))
    print(t("cli.audit.count", count=len(page.entries)))
    return 0
