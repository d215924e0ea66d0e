"""``backup PATH`` and ``restore PATH``: a consistent, portable copy of the database.

The copy is logical (gzip-compressed JSON lines: a header with the schema
revision, then one line per row, table by table in foreign-key order), so the
same commands serve SQLite and PostgreSQL, and a SQLite copy can be restored
into PostgreSQL when a county outgrows the embedded database. It is read in
one transaction (a snapshot: ``BEGIN`` on SQLite in WAL mode, ``REPEATABLE
READ`` on PostgreSQL), so the bot can keep running while it is taken.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, DateTime, MetaData, Numeric, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import migrate
from storage.database import Database

FORMAT = "xieshang-backup"
FORMAT_VERSION = 1
VERSION_TABLE = "alembic_version"


class BackupError(Exception):
    """The backup cannot be read or restored; the message says why and what to do."""


class RestoreRefused(BackupError):
    """The target database holds data and ``force`` was not given."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    rows: int
    tables: int


async def backup(db: Database, path: Path) -> BackupSummary:
    """Write a consistent copy of the whole database to ``path``."""
    revision = await migrate.current_revision(db.engine)
    if revision is None:
        raise BackupError("the database is empty: there is nothing to back up")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            conn = await conn.execution_options(read_only=True)
        async with conn.begin():
            with gzip.open(partial, "wt", encoding="utf-8") as out:
                rows, count = await conn.run_sync(_dump, out, revision)
    partial.replace(path)  # a crash never leaves a half-written file under the real name
    return BackupSummary(path, revision, rows, count)


def _dump(conn: Connection, out: IO[str], revision: str) -> tuple[int, int]:
    metadata = _reflect(conn)
    tables = [t for t in metadata.sorted_tables if t.name != VERSION_TABLE]
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "revision": revision,
        "dialect": conn.dialect.name,
        "created_at": datetime.now(UTC).isoformat(),
        "tables": [t.name for t in tables],
    }
    out.write(json.dumps(header, ensure_ascii=False) + "\n")
    rows = 0
    for table in tables:
        order = list(table.primary_key.columns) or list(table.columns)
        for row in conn.execute(select(table).order_by(*order)).mappings():
            record = {"t": table.name, "r": {k: _encode(v) for k, v in row.items()}}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            rows += 1
    return rows, len(tables)


async def restore(db: Database, path: Path, *, force: bool = False) -> BackupSummary:
    """Put a backup back, then upgrade it to the newest schema.

    Refuses a database that holds rows unless ``force``: restoring replaces
    everything, and an operator should not lose data by a slip of the path.
    """
    header = _read_header(path)
    revision = header["revision"]
    if revision not in migrate.revisions():
        raise BackupError(
            f"the backup is at schema revision {revision}, which this version does not know: "
            "restore it with the version of xieshang that wrote it, or a newer one"
        )
    if await migrate.current_revision(db.engine) is not None:
        if await _has_rows(db) and not force:
            raise RestoreRefused(
                "the database already holds data; restore into an empty database, "
                "or pass --force to replace everything in it"
            )
        await migrate.downgrade(db.engine, "base")
    await migrate.upgrade(db.engine, revision)
    async with db.engine.begin() as conn:
        rows = await conn.run_sync(_load, path)
        if db.dialect == "postgresql":
            await _reset_sequences(conn)
    await migrate.upgrade(db.engine)
    return BackupSummary(path, revision, rows, len(header["tables"]))


def _read_header(path: Path) -> dict[str, Any]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            header = json.loads(source.readline())
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        raise BackupError(f"{path} is not a xieshang backup (written by `backup PATH`)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not a xieshang backup (written by `backup PATH`)")
    if header.get("version") != FORMAT_VERSION:
        raise BackupError(f"{path} has backup format {header.get('version')}; this reads 1")
    return header


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as source:
        source.readline()
        for line in source:
            yield json.loads(line)


def _load(conn: Connection, path: Path) -> int:
    metadata = _reflect(conn)
    batch: list[dict[str, Any]] = []
    current: Table | None = None
    rows = 0
    for record in _records(path):
        table = metadata.tables.get(record["t"])
        if table is None:
            raise BackupError(f"the backup has rows of an unknown table {record['t']!r}")
        if current is not None and table is not current:
            conn.execute(current.insert(), batch)
            batch = []
        current = table
        batch.append({k: _decode(table, k, v) for k, v in record["r"].items()})
        rows += 1
        if len(batch) >= 1000:
            conn.execute(table.insert(), batch)
            batch = []
    if current is not None and batch:
        conn.execute(current.insert(), batch)
    return rows


async def _has_rows(db: Database) -> bool:
    async with db.engine.connect() as conn:
        metadata = await conn.run_sync(_reflect)
        for table in metadata.sorted_tables:
            if table.name == VERSION_TABLE:
                continue
            count = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            if count:
                return True
    return False


async def _reset_sequences(conn: AsyncConnection) -> None:
    """After inserting explicit ids, move each serial sequence past the largest id."""
    metadata = await conn.run_sync(_reflect)
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = (
                await conn.execute(
                    text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": table.name, "column": column.name},
                )
            ).scalar_one()
            if sequence:
                await conn.execute(
                    text(
                        f'SELECT setval(:sequence, COALESCE((SELECT MAX("{column.name}") '  # noqa: S608 — names come from reflection
                        f'FROM "{table.name}"), 0) + 1, false)'
                    ),
                    {"sequence": sequence},
                )


def _reflect(conn: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(conn)
    return metadata


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite hands back the stored UTC time without a zone
            value = value.replace(tzinfo=UTC)
        return {"$dt": value.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(table: Table, name: str, value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((tag, payload),) = value.items()
    if tag == "$dt":
        moment = datetime.fromisoformat(payload)
        column_type = table.c[name].type
        aware = isinstance(column_type, DateTime) and column_type.timezone
        return moment if aware else moment.astimezone(UTC).replace(tzinfo=None)
    if tag == "$d":
        return date.fromisoformat(payload)
    if tag == "$dec":
        return Decimal(payload) if isinstance(table.c[name].type, Numeric) else payload
    if tag == "$b64":
        return base64.b64decode(payload)
    return value
