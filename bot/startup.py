"""Start-up steps shared by every run mode and the CLI: database ready, places synced."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import Settings, places_from_config
from civic.places import SyncResult, sync_places
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    database: Database
    revision: str
    places: SyncResult


async def prepare_database(settings: Settings) -> Prepared:
    """Upgrade the schema to head and upsert the places of ``config.toml``."""
    database = Database(settings.database_url)
    try:
        revision = await database.migrate()
        synced = await sync_places(
            database.uow(), places_from_config(settings.config), datetime.now(UTC)
        )
    except BaseException:
        await database.dispose()
        raise
    log.info("database %s at revision %s; places %s", database.describe(), revision, synced.written)
    return Prepared(database, revision, synced)
