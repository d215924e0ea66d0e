"""One person's data across tables: exported for ``/mydata``, erased for ``/deleteme``.

Spec 01 (Identity): residents can export their own data and erase it, keeping
only what a published ballot or report must keep, anonymised. Nothing is
published yet, so erasure removes the person's rows and scrubs what other
tables hold about them: the updates they sent (kept in the inbox only as an
``update_id``, so a redelivery is still recognised) and the messages queued or
sent to them. Reports stay for the community's record, anonymised
(:func:`storage.reports.erase_reports` says what goes and why); when ballots
arrive, their anonymisation joins here.

Owner claims are deleted whatever their status, the deed photo's file id with
them: a claim is the person's own statement and evidence, and nothing published
depends on it. What the community must keep of an approved one is kept
elsewhere without the person: the audit log's ``register.claim_approved`` entry
(claim id, unit and area; who decided) and, until the register of spec 04
replaces it, the unit's owner grant, which the roles' erasure handles. The
reviewers' notes about the claims (owner's name, unit, area) go too: unsent
ones are deleted, the bot's copies of sent ones scrubbed.

Wrong household codes typed (``household_code_attempts``) are exported but not
erased: each row holds only a user id and a time, and is deleted within the
hour it counts for (:mod:`civic.household_codes`). Erasing them would let anyone
reset the limit on guessing codes with ``/deleteme`` and guess again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from civic.outbox import BadInlineFile, read_inline_file
from civic.register_claims import CLAIM, ClaimDraft, review_notices_prefix
from civic.reports_filing import FILE, ReportDraft
from storage.outbox import SqlOutboxRepository
from storage.reports import erase_reports, export_reports
from storage.roles import erase_roles, export_roles
from storage.tables import (
    chats,
    flows,
    household_code_attempts,
    household_codes,
    inbox,
    outbox,
    owner_claims,
    residents,
)

EXPORT_LIMIT = 1000
"""Most recent updates and messages exported: a data export, not an archive dump."""

ERASED_PAYLOAD = json.dumps({"erased": True})


FILE_ID_KEYS = frozenset({"photo", "photos", "document", "documents", "voice"})
"""Draft keys that hold Telegram file ids (besides any ``*file_id``/``*file_ids``)."""


def without_file_ids(draft: dict[str, Any]) -> dict[str, Any]:
    """Any other flow's draft (a staff note, a reporter's answer) as ``/mydata`` shows it.

    A file id is a key to a file on Telegram's servers, not data about the person
    (see :meth:`_flows`): each such key becomes ``<key>_given``, how many files were
    given. Generic on purpose, so a flow that starts keeping photos leaks no keys.
    """
    shown: dict[str, Any] = {}
    for key, value in draft.items():
        if key in FILE_ID_KEYS or key.endswith(("file_id", "file_ids")):
            given = len(value) if isinstance(value, list) else int(bool(value))
            shown[f"{key}_given"] = given
        else:
            shown[key] = value
    return shown


@dataclass(frozen=True)
class Erasure:
    """What erasing one person removed or scrubbed, by table."""

    counts: dict[str, int]


class SqlPersonalDataRepository:
    """Never commits: the unit of work does."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about ``user_id``, as JSON-ready values."""
        return {
            "resident": await self._rows(residents, residents.c.user_id == user_id, one=True),
            "flows": await self._flows(user_id),
            "chat": await self._rows(chats, chats.c.chat_id == user_id, one=True),
            **await export_roles(self._conn, user_id),  # grants, tags, audit entries
            **await export_reports(self._conn, user_id),  # reports, events, supports, feedback
            "owner_claims": await self._owner_claims(user_id),
            "household_codes_used": await self._household_codes_used(user_id),
            "household_code_wrong_attempts": [
                row["at"]
                for row in await self._rows(
                    household_code_attempts,
                    household_code_attempts.c.user_id == user_id,
                    order=household_code_attempts.c.at,
                )
            ],
            "updates_sent": [
                {**row, "payload": json.loads(row["payload"])}
                for row in await self._rows(
                    inbox, inbox.c.sender_key == user_id, order=inbox.c.update_id
                )
            ],
            "messages_to_you": [
                {**row, "payload": without_inline_files(json.loads(row["payload"]))}
                for row in await self._rows(outbox, outbox.c.chat_id == user_id, order=outbox.c.id)
            ],
        }

    async def erase(self, user_id: int) -> Erasure:
        """Remove ``user_id``'s rows; keep inbox rows only as bare ``update_id``s."""
        counts = {
            "residents": await self._delete(residents, residents.c.user_id == user_id),
            "flows": await self._delete(flows, flows.c.user_id == user_id),
            "chats": await self._delete(chats, chats.c.chat_id == user_id),
            "outbox": await self._delete(outbox, outbox.c.chat_id == user_id),
            "owner_claims_notices": await self._take_back_claim_notices(user_id),
            "owner_claims": await self._delete(owner_claims, owner_claims.c.user_id == user_id),
        }
        # A used code stays used (``used_at`` kept, so it cannot verify anyone
        # else); only who used it is forgotten.
        unlinked = await self._conn.execute(
            update(household_codes).where(household_codes.c.used_by == user_id).values(used_by=None)
        )
        counts["household_codes"] = unlinked.rowcount or 0
        scrubbed = await self._conn.execute(
            update(inbox)
            .where(inbox.c.sender_key == user_id)
            .values(payload=ERASED_PAYLOAD, sender_key=None, error=None)
        )
        counts["inbox"] = scrubbed.rowcount or 0
        # Tags and owner grants go; offices held stay as revoked rows; the log forgets them.
        counts.update(await erase_roles(self._conn, user_id))
        # Reports stay for the community's record, without the person.
        counts.update(await erase_reports(self._conn, user_id))
        return Erasure(counts)

    async def _flows(self, user_id: int) -> list[dict[str, Any]]:
        """The person's flows, drafts as JSON; claim and report drafts without file ids."""
        rows = await self._rows(flows, flows.c.user_id == user_id)
        for row in rows:
            draft = json.loads(row["draft"]) if row["draft"] else {}
            if row["name"] == CLAIM and isinstance(draft, dict):
                draft = ClaimDraft.exported(draft)
            if row["name"] == FILE and isinstance(draft, dict):
                draft = ReportDraft.exported(draft)
            elif isinstance(draft, dict):
                draft = without_file_ids(draft)
            row["draft"] = draft
        return list(rows)

    async def _take_back_claim_notices(self, user_id: int) -> int:
        """Reviewers' notes about the person's claims: unsent ones deleted, sent ones scrubbed.

        They name the owner, the unit and the area; the claims they point to are
        being deleted, so staff are not to be asked about them any more.
        """
        claim_ids = (
            await self._conn.execute(
                select(owner_claims.c.id).where(owner_claims.c.user_id == user_id)
            )
        ).scalars()
        outboxes = SqlOutboxRepository(self._conn)
        count = 0
        for claim_id in claim_ids.all():
            prefix = review_notices_prefix(claim_id)
            count += await outboxes.discard_pending(prefix)
            scrubbed = await self._conn.execute(
                update(outbox)
                .where(outbox.c.dedupe_key.startswith(prefix, autoescape=True))
                .values(payload=ERASED_PAYLOAD)
            )
            count += scrubbed.rowcount or 0
        return count

    async def _owner_claims(self, user_id: int) -> list[dict[str, Any]]:
        """The person's owner claims; of the deed photo only whether one was given.

        The file id is a key to the photo on Telegram's servers, not data about
        the person: the export says a photo was given and leaves the key out.
        """
        rows = await self._rows(
            owner_claims, owner_claims.c.user_id == user_id, order=owner_claims.c.id
        )
        return [
            {k: v for k, v in row.items() if k != "deed_file_id"}
            | {"deed_photo_given": row["deed_file_id"] is not None}
            for row in rows
        ]

    async def _household_codes_used(self, user_id: int) -> list[dict[str, Any]]:
        """The household codes the person used: the place and when, never the code's hash."""
        statement = (
            select(
                household_codes.c.community_code,
                household_codes.c.compound_code,
                household_codes.c.building_code,
                household_codes.c.unit_label,
                household_codes.c.used_at,
            )
            .where(household_codes.c.used_by == user_id)
            .order_by(household_codes.c.used_at)
        )
        return [
            {key: _plain(value) for key, value in row._mapping.items()}
            for row in await self._conn.execute(statement)
        ]

    async def _delete(self, table: Table, condition: Any) -> int:
        return (await self._conn.execute(delete(table).where(condition))).rowcount or 0

    async def _rows(
        self, table: Table, condition: Any, *, one: bool = False, order: Any = None
    ) -> Any:
        statement = select(table).where(condition)
        if order is not None:
            statement = statement.order_by(order.desc()).limit(EXPORT_LIMIT)
        rows = [
            {key: _plain(value) for key, value in row._mapping.items()}
            for row in await self._conn.execute(statement)
        ]
        if order is not None:
            rows.reverse()  # oldest first, of the most recent
        if one:
            return rows[0] if rows else None
        return rows


def without_inline_files(payload: dict[str, Any]) -> dict[str, Any]:
    """A queued message as ``/mydata`` shows it: a file the bot made itself (the monthly
    workbook an admin receives, :func:`civic.outbox.inline_file`) becomes its name and
    size; the file is the community's figures, not data about the person, and a year
    of them in base64 would bury the export. A sent one (:func:`civic.outbox.sent_file`)
    loses its Telegram file id, a key to a file rather than data (:func:`without_file_ids`)."""
    inline = payload.get("document")
    if isinstance(inline, dict) and "file_id" in inline:  # sent: Telegram's key, not data
        return {**payload, "document": {k: v for k, v in inline.items() if k != "file_id"}}
    if not (isinstance(inline, dict) and "base64" in inline):
        return payload
    try:
        read = read_inline_file(inline)
    except BadInlineFile:
        read = None
    shown = {"filename": inline.get("filename"), "bytes": None if read is None else len(read[0])}
    return {**payload, "document": shown}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
