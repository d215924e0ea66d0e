"""The command line: ``python -m bot`` (also installed as ``xieshang``).

Operators' commands print through the catalogs in the language of ``LANG``
(Simplified Chinese unless it says English); configuration problems are named by
key so they can be fixed without reading code.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot import roles_cli, runner
from bot.callbacks import LOCATION_PURPOSE, derived_key
from bot.config import ConfigError, Settings, load_settings, places_from_config
from bot.config.models import BOT_USERNAME_PATTERN
from bot.health import print_health
from bot.i18n import Catalogs, Translator, resolve_locale
from bot.logs import REDACTION, configure_logging
from bot.notices import MAX_NOTICE_CHARACTERS, NoticeTooLong, queue_notice
from bot.qr import write_qr_png
from bot.startup import prepare_database
from civic.residents import deep_link, location_code, parse_start_payload
from storage.backup import BackupError, RestoreRefused, backup, restore
from storage.database import Database

log = logging.getLogger(__name__)

EXIT_CONFIG = 2
EXIT_FAILED = 1


def operator_translator() -> Translator:
    """Messages for the person at the terminal, in the language of their ``LANG``."""
    language = os.environ.get("LANG", "").split(".", 1)[0]
    return Catalogs.load().for_locale(resolve_locale(None, language or None))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xieshang", description="协商 — community consultation bot"
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="configuration file (default: $XIESHANG_CONFIG or ./config.toml)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("check-config", help="check config.toml and the environment, then exit")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    commands.add_parser(
        "health", help="report the database, backlogs and intake; exit 0 healthy, 1 unhealthy"
    )
    backup_parser = commands.add_parser("backup", help="write a consistent copy of the database")
    backup_parser.add_argument("path", type=Path)
    restore_parser = commands.add_parser("restore", help="put a backup back into the database")
    restore_parser.add_argument("path", type=Path)
    restore_parser.add_argument(
        "--force", action="store_true", help="replace the contents of a database that is not empty"
    )
    notice_parser = commands.add_parser(
        "notice", help="send a notice to every chat that can be reached (through the outbox)"
    )
    notice_parser.add_argument(
        "text", help="the notice; sent once per chat and day, however often the command runs"
    )
    qr_parser = commands.add_parser(
        "qr", help="write the QR code (PNG) of a deep link to a community, compound or building"
    )
    qr_parser.add_argument("code", help="a place code of config.toml, e.g. HD, HD-01 or HD-01-3")
    qr_parser.add_argument("--out", type=Path, help="the PNG to write (default: qr-CODE.png)")
    qr_parser.add_argument(
        "--bot", help="the bot's username (default: [telegram] bot_username of config.toml)"
    )
    roles_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    args = build_parser().parse_args(argv)
    configure_logging()
    t = operator_translator()
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print_config_error(error, t)
        return EXIT_CONFIG
    for secret in (
        settings.secrets.bot_token,
        settings.secrets.webhook_secret,
        settings.secrets.signing_key,
    ):
        if secret is not None:
            REDACTION.add_secret(secret.get_secret_value())
    command = args.command or "run"
    if command == "qr":
        return write_qr(args, settings, t)
    if command == "check-config":
        counts = places_from_config(settings.config).counts()
        print(
            t(
                "cli.check_config.ok",
                communities=counts["communities"],
                compounds=counts["compounds"],
                buildings=counts["buildings"],
            )
        )
        return 0
    try:
        return asyncio.run(_run_async(command, args, settings, t))
    except RestoreRefused:
        print(t("cli.restore.refused_not_empty"), file=sys.stderr)
        return EXIT_FAILED
    except BackupError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED


async def _run_async(
    command: str, args: argparse.Namespace, settings: Settings, t: Translator
) -> int:
    if command == "run":
        return await runner.run(settings, t)
    if command == "health":
        return await print_health(settings, t)
    if command == "migrate":
        prepared = await prepare_database(settings)
        await prepared.database.dispose()
        print(t("cli.db.ready", revision=prepared.revision))
        return 0
    if command in roles_cli.COMMANDS:
        return await roles_cli.run(command, args, settings, t)
    database = Database(settings.database_url)
    try:
        if command == "notice":
            return await _queue_notice(database, args.text, t)
        if command == "backup":
            summary = await backup(database, args.path)
            print(t("cli.backup.done", path=summary.path, rows=summary.rows))
        else:
            summary = await restore(database, args.path, force=args.force)
            print(t("cli.restore.done", path=summary.path, rows=summary.rows))
    finally:
        await database.dispose()
    return 0


async def _queue_notice(database: Database, text: str, t: Translator) -> int:
    try:
        count = await queue_notice(database, Catalogs.load(), text, datetime.now(UTC))
    except NoticeTooLong:
        print(t("cli.notice.bad_length", limit=MAX_NOTICE_CHARACTERS), file=sys.stderr)
        return EXIT_FAILED
    print(t("cli.notice.queued", count=count) if count else t("cli.notice.nobody"))
    return 0


def write_qr(args: argparse.Namespace, settings: Settings, t: Translator) -> int:
    """``qr CODE``: the PNG of ``t.me/<bot>?start=CODE``, for a place config.toml lists."""
    username = (args.bot or settings.config.telegram.bot_username or "").removeprefix("@")
    if not BOT_USERNAME_PATTERN.fullmatch(username):
        print(t("cli.qr.no_username", username=username), file=sys.stderr)
        return EXIT_CONFIG
    link = parse_start_payload(args.code, places_from_config(settings.config))
    code = link.building_code or link.compound_code or link.community_code
    if code is None:
        print(t("cli.qr.unknown_code", code=args.code), file=sys.stderr)
        return EXIT_FAILED
    if link.building_code is not None:  # posted inside the building: proves presence
        signing_key = _signing_key(settings)
        if signing_key is None:
            print(t("cli.qr.no_signing_key"), file=sys.stderr)
            return EXIT_CONFIG
        version = asyncio.run(_building_version(settings, link.building_code))
        if version is None:
            print(t("cli.qr.no_database"), file=sys.stderr)
            return EXIT_FAILED
        key = derived_key(signing_key, LOCATION_PURPOSE)
        code = location_code(link.building_code, key, version)
    url = deep_link(username, code)
    path = write_qr_png(url, args.out or Path(f"qr-{code}.png"))
    print(t("cli.qr.written", path=path, link=url))
    return 0


async def _building_version(settings: Settings, building_code: str) -> int | None:
    """The version of the building's printed code (``/rotate`` raises it), from the database.

    ``None`` if the database cannot be read (not migrated yet): printing the
    version-0 code then could post a code staff already replaced.
    """
    database = Database(settings.database_url)
    try:
        async with database.uow(read_only=True) as uow:
            return await uow.building_links.version(building_code)
    except SQLAlchemyError as error:
        log.warning("cannot read the building's code version: %s", error)
        return None
    finally:
        await database.dispose()


def _signing_key(settings: Settings) -> str | None:
    """``XIESHANG_SIGNING_KEY``, or the key local mode generated into the data folder."""
    if settings.secrets.signing_key is not None:
        return settings.secrets.signing_key.get_secret_value()
    local = settings.data_dir / runner.LOCAL_SIGNING_KEY_FILE
    return local.read_text(encoding="utf-8").strip() if local.exists() else None


def print_config_error(error: ConfigError, t: Translator) -> None:
    """Every problem with the key it is about and its fix, then how to go on."""
    print(t("config.error.header", path=error.source, count=len(error.problems)), file=sys.stderr)
    for problem in error.problems:
        print(t("config.error.item", key=problem.key, problem=problem.problem), file=sys.stderr)
        print(t("config.error.fix", fix=problem.fix), file=sys.stderr)
    print(t("config.error.fix_hint"), file=sys.stderr)
